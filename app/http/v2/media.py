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
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from app.core import errors
from app.http.deps import (
    ClockDep,
    CurrentUser,
    IdsDep,
    PolicyDep,
    SessionsDep,
    StatementsDep,
    StoreDep,
)
from app.http.errors import v2_error_responses
from app.http.forms import RequestForm, open_form, segment_sha256_header
from app.http.ratelimit import rate_limited
from app.http.responses import TwitterJSONResponse
from app.http.upload_json import media_response
from app.http.v2 import params as v2p
from app.media.views import MediaView
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
from app.uploads import append as appends
from app.uploads import protocol
from app.uploads import service as uploads

router = APIRouter(prefix="/2/media", tags=["media-v2"])

# X API v2 rate limits (spec §9): per user per 15 minutes, per app per 24 hours.
_DAY = 86_400
_INIT_LIMIT = rate_limited("media:initialize", per_user=(1875, 900), per_app=(180_000, _DAY))
_APPEND_LIMIT = rate_limited("media:append", per_user=(1875, 900), per_app=(180_000, _DAY))
_FINALIZE_LIMIT = rate_limited("media:finalize", per_user=(1875, 900), per_app=(180_000, _DAY))
_STATUS_LIMIT = rate_limited("media:status", per_user=(1000, 900), per_app=(100_000, _DAY))
_UPLOAD_LIMIT = rate_limited("media:upload", per_user=(500, 900), per_app=(50_000, _DAY))

MediaIdPath = Annotated[str, Path(pattern=r"^[0-9]{1,19}$", description="id from initialize")]


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
    responses=v2_error_responses(400, 401),
)
async def initialize(
    body: V2InitRequest,
    user: CurrentUser,
    statements: StatementsDep,
    ids: IdsDep,
    policy: PolicyDep,
    clock: ClockDep,
) -> Response:
    """Open a chunked upload (v1.1 INIT); `data.id` is the media id for the next calls."""
    if not body.media_type:
        raise errors.ParameterMissing("media_type")
    if body.total_bytes is None:
        raise errors.ParameterMissing("total_bytes")
    view = await uploads.init_upload(
        statements,
        ids,
        policy,
        owner_id=user,
        total_bytes=body.total_bytes,
        media_type=body.media_type,
        category=protocol.parse_category(body.media_category),
        additional_owners=v2p.parse_owner_ids(body.additional_owners),
        shared=body.shared,
        now=clock(),
    )
    return _init(view)


async def _append(
    request: Request,
    *,
    user: int,
    media_id: int,
    statements: StatementsDep,
    store: StoreDep,
    policy: PolicyDep,
    clock: ClockDep,
    form: RequestForm | None = None,
) -> datetime:
    """Shared by both generations: JSON (base64) or a form with a streamed media part."""
    cap = policy.limits.segment
    raw_index: object = None
    if form is None and v2p.is_json(request):
        body = await v2p.read_json(request, V2AppendJSON, cap * 4 // 3 + v2p.JSON_OVERHEAD)
        chunks = v2p.once(v2p.b64(body.media))
        raw_index = body.segment_index
    else:
        form = form or await open_form(request)
        if form.media is None:
            await form.read_rest()
            raise errors.ParameterMissing("media")
        chunks = (
            form.media.chunks() if "segment_index" in form.params else await form.hold_media(cap)
        )
        raw_index = form.params.get("segment_index")
    index = None if raw_index is None or raw_index == "" else v2p.parse_segment_index(raw_index)
    expires = await appends.append_segment(
        statements,
        store,
        policy,
        owner_id=user,
        media_id=media_id,
        index=index,
        chunks=chunks,
        expected_sha256=segment_sha256_header(request),
        now=clock(),
    )
    if form is not None:
        await form.read_rest()
    return expires


@router.post(
    "/upload/{id}/append",
    operation_id="media-v2-append",
    dependencies=[_APPEND_LIMIT],
    openapi_extra=v2p.APPEND_BODY,
    response_model=V2AppendResponse,
    responses=v2_error_responses(400, 401),
)
async def append(
    id: MediaIdPath,
    request: Request,
    user: CurrentUser,
    statements: StatementsDep,
    store: StoreDep,
    policy: PolicyDep,
    clock: ClockDep,
) -> Response:
    """Store one segment (`segment_index` 0..999, at most 5 MiB). Up to 3 may be in flight;
    they are assembled by index. Re-sending an index replaces it."""
    expires = await _append(
        request,
        user=user,
        media_id=v2p.parse_media_id(id),
        statements=statements,
        store=store,
        policy=policy,
        clock=clock,
    )
    return _json(V2AppendResponse(data=V2AppendData(expires_at=int(expires.timestamp()))))


@router.post(
    "/upload/{id}/finalize",
    operation_id="media-v2-finalize",
    dependencies=[_FINALIZE_LIMIT],
    response_model=V2MediaUploadResponse,
    response_model_exclude_none=True,
    responses=v2_error_responses(400, 401),
)
async def finalize(
    id: MediaIdPath,
    user: CurrentUser,
    sessions: SessionsDep,
    store: StoreDep,
    policy: PolicyDep,
    clock: ClockDep,
) -> Response:
    """Complete the upload. The body is ignored (`{}` or none). With `processing_info`,
    poll `GET /2/media/upload` after `check_after_secs`."""
    view = await uploads.finalize_upload(
        sessions, store, policy, owner_id=user, media_id=v2p.parse_media_id(id), now=clock()
    )
    return _media(view)


@router.get(
    "/upload",
    operation_id="media-v2-status",
    dependencies=[_STATUS_LIMIT],
    response_model=V2MediaUploadResponse,
    response_model_exclude_none=True,
    responses=v2_error_responses(400, 401, 404),
)
async def status(
    user: CurrentUser,
    statements: StatementsDep,
    store: StoreDep,
    clock: ClockDep,
    media_id: Annotated[str, Query(pattern=r"^[0-9]{1,19}$", description="id from initialize")],
    command: Annotated[str | None, Query(description="STATUS (optional)")] = None,
) -> Response:
    """Processing state; while uploading, `upload_info` lists the stored segments."""
    if command not in (None, "STATUS"):
        raise errors.BadParameter(f"Invalid command: {command}. Use STATUS with GET.")
    view = await uploads.get_status(
        statements,
        owner_id=user,
        media_id=v2p.parse_media_id(media_id),
        now=clock(),
        checksums=store,
    )
    return _media(view)


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
        **v2_error_responses(400, 401),
    },
)
async def upload(
    request: Request,
    user: CurrentUser,
    sessions: SessionsDep,
    statements: StatementsDep,
    store: StoreDep,
    policy: PolicyDep,
    ids: IdsDep,
    clock: ClockDep,
) -> Response:
    """One-shot image upload (multipart `media`, or JSON with base64 `media`), or the
    deprecated `command` form (INIT / APPEND / FINALIZE)."""
    if v2p.is_json(request):
        body = await v2p.read_json(
            request, V2OneShotJSON, policy.limits.image * 4 // 3 + v2p.JSON_OVERHEAD
        )
        data = v2p.b64(body.media)
        view = await uploads.simple_upload(
            sessions,
            store,
            ids,
            policy,
            owner_id=user,
            chunks=v2p.once(data),
            category=protocol.parse_category(body.media_category),
            additional_owners=v2p.parse_owner_ids(body.additional_owners),
            shared=body.shared,
            now=clock(),
        )
        return _media(view)
    form = await open_form(request)
    command = form.params.get("command")
    if command is None and form.media is not None:
        view = await uploads.simple_upload(
            sessions,
            store,
            ids,
            policy,
            owner_id=user,
            chunks=form.media.chunks(),
            category=protocol.parse_category(form.params.get("media_category")),
            additional_owners=v2p.parse_owner_ids(form.params.get("additional_owners", "")),
            shared=form.params.get("shared", "").lower() in ("true", "1"),
            now=clock(),
        )
        await form.read_rest()
        return _media(view)
    if command == "APPEND":
        media_id = v2p.parse_media_id(form.params.get("media_id"))
        await _append(
            request,
            user=user,
            media_id=media_id,
            statements=statements,
            store=store,
            policy=policy,
            clock=clock,
            form=form,
        )
        return Response(status_code=204)
    await form.read_rest()
    if form.media is not None:
        raise errors.BadParameter(f"media is only accepted with APPEND, not {command}.")
    return await _command(
        form.params, command, user, sessions, statements, store, policy, ids, clock
    )


async def _command(
    params: dict[str, str],
    command: str | None,
    user: int,
    sessions: SessionsDep,
    statements: StatementsDep,
    store: StoreDep,
    policy: PolicyDep,
    ids: IdsDep,
    clock: ClockDep,
) -> Response:
    if command == "INIT":
        total = params.get("total_bytes", "")
        if not total.isdigit():
            raise errors.ParameterMissing("total_bytes")
        if not params.get("media_type"):
            raise errors.ParameterMissing("media_type")
        view = await uploads.init_upload(
            statements,
            ids,
            policy,
            owner_id=user,
            total_bytes=int(total),
            media_type=params["media_type"],
            category=protocol.parse_category(params.get("media_category")),
            additional_owners=v2p.parse_owner_ids(params.get("additional_owners", "")),
            shared=params.get("shared", "").lower() in ("true", "1"),
            now=clock(),
        )
        return _init(view, 202)
    if command == "FINALIZE":
        view = await uploads.finalize_upload(
            sessions,
            store,
            policy,
            owner_id=user,
            media_id=v2p.parse_media_id(params.get("media_id")),
            now=clock(),
        )
        return _media(view)
    if command is None:
        raise errors.ParameterMissing("media")
    raise errors.BadParameter(f"Invalid command: {command}.")
