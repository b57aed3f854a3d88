"""X API v2 media upload (spec §7.6), on the same upload services as v1.1.

Generation B: ``POST /2/media/upload/initialize`` (JSON), ``POST /2/media/upload/{id}/append``
(multipart ``segment_index`` + ``media``, or JSON with base64 ``media``),
``POST /2/media/upload/{id}/finalize`` (JSON ``{}`` or no body), ``GET /2/media/upload``
(STATUS; ``command`` optional) and the one-shot ``POST /2/media/upload`` (multipart or
JSON). Generation A: ``POST /2/media/upload`` with ``command`` = INIT | APPEND | FINALIZE.

A missing ``segment_index`` on APPEND (pytwitter never sends one) means "the next
segment": the lowest index not stored yet, assigned under the upload's lock, so several
in flight get distinct indexes in the order they arrived.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from starlette.responses import Response

from app.context import AppContext
from app.http import params
from app.http import upload_commands as commands
from app.http.deps import ClockDep, ContextDep, CurrentUser
from app.http.errors import v2_error_responses
from app.http.forms import JSON_OVERHEAD, is_json, open_form
from app.http.json_body import INIT_BODY, json_request_body, read_json
from app.http.ratelimit import rate_limited
from app.http.responses import TwitterJSONResponse
from app.http.upload_json import media_response
from app.http.v2 import params as v2p
from app.media.views import MediaView
from app.schemas import openapi as oa
from app.schemas.v2 import (
    V2AppendData,
    V2AppendJSON,
    V2AppendResponse,
    V2InitData,
    V2InitRequest,
    V2InitResponse,
    V2MediaData,
    V2MediaUploadResponse,
    V2OneShotJSON,
)
from app.uploads.commands import Append, Finalize, Init, SimpleUpload

router = APIRouter(prefix="/2/media", tags=["media-v2"])

# X API v2 rate limits (spec §9): per user per 15 minutes, per app per 24 hours.
_DAY = 86_400
_INIT_LIMIT = rate_limited("media:initialize", per_user=(1875, 900), per_app=(180_000, _DAY))
_APPEND_LIMIT = rate_limited("media:append", per_user=(1875, 900), per_app=(180_000, _DAY))
_FINALIZE_LIMIT = rate_limited("media:finalize", per_user=(1875, 900), per_app=(180_000, _DAY))
_STATUS_LIMIT = rate_limited("media:status", per_user=(1000, 900), per_app=(100_000, _DAY))
_UPLOAD_LIMIT = rate_limited("media:upload", per_user=(500, 900), per_app=(50_000, _DAY))

# A string, parsed by params.snowflake: out-of-range ids get the upload form's 400.
MediaIdPath = Annotated[str, Path(description="id from initialize", json_schema_extra=oa.SNOWFLAKE)]
_STATUS_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "media_id",
        "in": "query",
        "required": True,
        "description": "id from initialize",
        "schema": oa.SNOWFLAKE,
    },
    {
        "name": "command",
        "in": "query",
        "required": False,
        "description": "STATUS (optional)",
        "schema": {"type": "string", "pattern": "^STATUS$"},
    },
]


def _json(model: BaseModel, status: int = 200) -> Response:
    body = model.model_dump(mode="json", exclude_none=True)
    return TwitterJSONResponse(body, status_code=status)


def _media(view: MediaView) -> Response:
    return _json(V2MediaUploadResponse(data=V2MediaData.from_v11(media_response(view))))


def _init(view: MediaView, status: int = 200) -> Response:
    data = V2InitData(
        id=str(view.media_id),
        media_key=view.media_key,
        expires_after_secs=view.expires_after_secs,
    )
    return _json(V2InitResponse(data=data), status)


@router.post(
    "/upload/initialize",
    operation_id="media-v2-initialize",
    dependencies=[_INIT_LIMIT],
    response_model=V2InitResponse,
    response_model_exclude_none=True,
    responses=v2_error_responses(400, 401, 429),
    openapi_extra=json_request_body(V2InitRequest),
)
async def initialize(
    request: Request, user: CurrentUser, context: ContextDep, clock: ClockDep
) -> Response:
    """Open a chunked upload (v1.1 INIT); `data.id` is the media id for the next calls."""
    command = commands.from_v2_init(await read_json(request, V2InitRequest, INIT_BODY))
    return _init(await commands.run(command, context, owner_id=user, now=clock()))


async def _append(command: Append, *, user: int, context: AppContext, clock: ClockDep) -> datetime:
    """Shared by both generations, once the body is a command; a missing index is
    assigned under the upload's lock (the segment after the highest one stored)."""
    return await commands.run(command, context, owner_id=user, now=clock())


def _path_id(raw: str) -> int:
    return params.snowflake(raw, "media_id", invalid=params.upload_invalid)


@router.post(
    "/upload/{id}/append",
    operation_id="media-v2-append",
    dependencies=[_APPEND_LIMIT],
    openapi_extra=v2p.APPEND_BODY,
    response_model=V2AppendResponse,
    responses=v2_error_responses(400, 401, 429, 503),
)
async def append(
    id: MediaIdPath, request: Request, user: CurrentUser, context: ContextDep, clock: ClockDep
) -> Response:
    """Store one segment (`segment_index` 0..999, at most 5 MiB). Up to 3 may be in flight;
    they are assembled by index. Re-sending an index replaces it."""
    media_id = _path_id(id)
    cap = context.policy.limits.segment
    sha256 = request.headers.get("x-segment-sha256")
    form = None
    if is_json(request):
        body = await read_json(request, V2AppendJSON, cap * 4 // 3 + JSON_OVERHEAD)
        command = commands.from_v2_append_json(body, media_id=media_id, sha256_header=sha256)
    else:
        form = await open_form(request)
        command = await commands.append_from_form(
            form, segment_cap=cap, media_id=media_id, index_optional=True, sha256_header=sha256
        )
    expires = await _append(command, user=user, context=context, clock=clock)
    if form is not None:
        await form.read_rest()
    return _json(V2AppendResponse(data=V2AppendData(expires_at=int(expires.timestamp()))))


@router.post(
    "/upload/{id}/finalize",
    operation_id="media-v2-finalize",
    dependencies=[_FINALIZE_LIMIT],
    response_model=V2MediaUploadResponse,
    response_model_exclude_none=True,
    responses=v2_error_responses(400, 401, 429, 503),
)
async def finalize(
    id: MediaIdPath, user: CurrentUser, context: ContextDep, clock: ClockDep
) -> Response:
    """Complete the upload. The body is ignored (`{}` or none). With `processing_info`,
    poll `GET /2/media/upload` after `check_after_secs`."""
    command = Finalize(media_id=_path_id(id))
    return _media(await commands.run(command, context, owner_id=user, now=clock()))


@router.get(
    "/upload",
    operation_id="media-v2-status",
    dependencies=[_STATUS_LIMIT],
    response_model=V2MediaUploadResponse,
    response_model_exclude_none=True,
    responses=v2_error_responses(400, 401, 404, 429),
    openapi_extra={"parameters": _STATUS_PARAMETERS},
)
async def status(
    request: Request, user: CurrentUser, context: ContextDep, clock: ClockDep
) -> Response:
    """Processing state; while uploading, `upload_info` lists the stored segments."""
    command = commands.status_from_params(request.query_params, command_required=False)
    return _media(await commands.run(command, context, owner_id=user, now=clock()))


@router.post(
    "/upload",
    operation_id="media-v2-upload",
    dependencies=[_UPLOAD_LIMIT],
    openapi_extra=v2p.UPLOAD_BODY,
    response_model=V2MediaUploadResponse,
    response_model_exclude_none=True,
    responses={
        202: {"model": V2InitResponse, "description": "command=INIT (deprecated form)"},
        204: {"description": "command=APPEND (deprecated form)"},
        **v2_error_responses(400, 401, 429, 503),
    },
)
async def upload(
    request: Request, user: CurrentUser, context: ContextDep, clock: ClockDep
) -> Response:
    """One-shot image upload (multipart `media`, or JSON with base64 `media`), or the
    deprecated `command` form (INIT / APPEND / FINALIZE), read as v1.1 reads it."""
    if is_json(request):
        cap = context.policy.limits.image * 4 // 3 + JSON_OVERHEAD
        simple = commands.from_v2_simple_json(await read_json(request, V2OneShotJSON, cap))
        return _media(await commands.run(simple, context, owner_id=user, now=clock()))
    form = await open_form(request)
    command = await commands.from_form(
        form,
        segment_cap=context.policy.limits.segment,
        index_optional=True,
        sha256_header=request.headers.get("x-segment-sha256"),
    )
    if isinstance(command, Append):
        await _append(command, user=user, context=context, clock=clock)
        await form.read_rest()
        return Response(status_code=204)
    view = await commands.run(command, context, owner_id=user, now=clock())
    if isinstance(command, SimpleUpload):
        await form.read_rest()
    if isinstance(command, Init):
        return _init(view, 202)
    return _media(view)
