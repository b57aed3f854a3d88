"""X API v2 media upload (spec §7.6), on the same upload services as v1.1.

Generation B: ``POST /2/media/upload/initialize`` (JSON), ``POST /2/media/upload/{id}/append``
(multipart ``segment_index`` + ``media``, or JSON with base64 ``media``),
``POST /2/media/upload/{id}/finalize`` (JSON ``{}`` or no body), ``GET /2/media/upload``
(STATUS; ``command`` optional) and the one-shot ``POST /2/media/upload`` (multipart or
JSON). Generation A: ``POST /2/media/upload`` with ``command`` = INIT | APPEND | FINALIZE.

A missing ``segment_index`` on APPEND (pytwitter never sends one) means "the segment
after the highest one stored": right for clients that append one segment at a time.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ValidationError
from python_multipart.multipart import parse_options_header
from starlette.responses import Response

from app import errors
from app.deps import ClockDep, CurrentUser, IdsDep, PolicyDep, SessionDep, SessionsDep, StoreDep
from app.routers.errors import v2_error_responses
from app.routers.streaming import RequestForm, open_form
from app.routers.v11_media import media_response
from app.schemas.common import TwitterJSONResponse
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
from app.services import uploads
from app.services.views import MediaView
from app.upload import limits, protocol
from app.upload.protocol import UploadState

router = APIRouter(prefix="/2/media", tags=["media-v2"])

MediaIdPath = Annotated[str, Path(pattern=r"^[0-9]{1,19}$", description="id from initialize")]
_JSON_OVERHEAD = 64 * 1024
_Body = TypeVar("_Body", V2AppendJSON, V2OneShotJSON)

_SEGMENT_FIELDS: dict[str, Any] = {
    "segment_index": {"type": "integer", "minimum": 0, "maximum": 999},
    "media": {"type": "string", "format": "binary", "description": "raw bytes (<= 5 MiB)"},
}
_SHA_HEADER = {
    "name": "X-Segment-SHA256",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
    "description": "hex SHA-256 of the decoded segment; a mismatch is a 400",
}
_APPEND_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": _SEGMENT_FIELDS}},
            "application/json": {"schema": V2AppendJSON.model_json_schema()},
        },
    },
    "parameters": [_SHA_HEADER],
}
_UPLOAD_FIELDS: dict[str, Any] = {
    "media": {"type": "string", "format": "binary"},
    "media_category": {"type": "string", "enum": [c.value for c in protocol.MediaCategory]},
    "additional_owners": {"type": "string", "description": "comma-separated user ids"},
    "shared": {"type": "boolean"},
    "command": {
        "type": "string",
        "enum": ["INIT", "APPEND", "FINALIZE"],
        "description": "deprecated generation-A form; use the dedicated endpoints",
    },
    "total_bytes": {"type": "integer"},
    "media_type": {"type": "string"},
    "media_id": {"type": "string"},
    "segment_index": {"type": "integer", "minimum": 0, "maximum": 999},
}
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": _UPLOAD_FIELDS}},
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": _UPLOAD_FIELDS}
            },
            "application/json": {"schema": V2OneShotJSON.model_json_schema()},
        },
    }
}


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


def _media_id(raw: str | None) -> int:
    if not raw:
        raise errors.ParameterMissing("media_id")
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= 2**63:
        raise errors.InvalidMediaId(raw)
    return int(raw)


def _segment_index(raw: object) -> int:
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 3:
        raise errors.BadParameter("segment_index parameter is invalid.")
    index = int(text)
    if not 0 <= index <= limits.MAX_SEGMENT_INDEX:
        raise errors.SegmentIndexOutOfRange()
    return index


def _owner_ids(raw: list[str] | str) -> list[int]:
    parts = raw.split(",") if isinstance(raw, str) else raw
    try:
        return [int(part) for part in parts if part.strip()]
    except ValueError:
        raise errors.BadParameter("additional_owners must be user ids.") from None


def _is_json(request: Request) -> bool:
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    return content_type == b"application/json"


async def _read_json(request: Request, model: type[_Body], cap: int) -> _Body:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise errors.SegmentTooLarge(cap)
        chunks.append(chunk)
    try:
        return model.model_validate(json.loads(b"".join(chunks)))
    except (ValueError, ValidationError):
        raise errors.BadParameter("Request body is not valid JSON with a media field.") from None


def _b64(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise errors.BadParameter("media is not valid base64.") from None


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _held(form: RequestForm, cap: int) -> AsyncIterator[bytes]:
    """Hold one segment (bounded by the segment cap) until the fields after it arrive."""
    assert form.media is not None
    held: list[bytes] = []
    size = 0
    async for chunk in form.media.chunks():
        size += len(chunk)
        if size > cap:
            raise errors.SegmentTooLarge(cap)
        held.append(chunk)
    await form.read_rest()
    return _once(b"".join(held))


def _sha256_header(request: Request) -> str | None:
    value = request.headers.get("x-segment-sha256")
    if value is None:
        return None
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise errors.BadParameter("X-Segment-SHA256 must be 64 hex digits.")
    return value


@router.post(
    "/upload/initialize",
    operation_id="media-v2-initialize",
    response_model=V2InitResponse,
    response_model_exclude_none=True,
    responses=v2_error_responses(400, 401),
)
async def initialize(
    body: V2InitRequest,
    user: CurrentUser,
    session: SessionDep,
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
        session,
        ids,
        policy,
        owner_id=user,
        total_bytes=body.total_bytes,
        media_type=body.media_type,
        category=protocol.parse_category(body.media_category),
        additional_owners=_owner_ids(body.additional_owners),
        shared=body.shared,
        now=clock(),
    )
    return _init(view)


async def _append(
    request: Request,
    *,
    user: int,
    media_id: int,
    sessions: SessionsDep,
    store: StoreDep,
    policy: PolicyDep,
    clock: ClockDep,
    form: RequestForm | None = None,
) -> None:
    """Shared by both generations: JSON (base64) or a form with a streamed media part."""
    cap = policy.limits.segment
    raw_index: object = None
    if form is None and _is_json(request):
        body = await _read_json(request, V2AppendJSON, cap * 4 // 3 + _JSON_OVERHEAD)
        chunks = _once(_b64(body.media))
        raw_index = body.segment_index
    else:
        form = form or await open_form(request)
        if form.media is None:
            await form.read_rest()
            raise errors.ParameterMissing("media")
        chunks = form.media.chunks() if "segment_index" in form.params else await _held(form, cap)
        raw_index = form.params.get("segment_index")
    if raw_index is None or raw_index == "":
        index = await _next_index(sessions, user=user, media_id=media_id, clock=clock)
    else:
        index = _segment_index(raw_index)
    await uploads.append_segment(
        sessions,
        store,
        policy,
        owner_id=user,
        media_id=media_id,
        index=index,
        chunks=chunks,
        expected_sha256=_sha256_header(request),
        now=clock(),
    )
    if form is not None:
        await form.read_rest()


async def _next_index(sessions: SessionsDep, *, user: int, media_id: int, clock: ClockDep) -> int:
    async with sessions() as session:
        try:
            view = await uploads.get_status(session, owner_id=user, media_id=media_id, now=clock())
        except errors.MediaNotFound:
            raise errors.InvalidMediaId(media_id) from None
    if view.state is not UploadState.UPLOADING:
        return 0  # APPEND after FINALIZE: append_segment refuses it
    return max((s.index for s in view.segments), default=-1) + 1


@router.post(
    "/upload/{id}/append",
    operation_id="media-v2-append",
    openapi_extra=_APPEND_BODY,
    response_model=V2AppendResponse,
    responses=v2_error_responses(400, 401),
)
async def append(
    id: MediaIdPath,
    request: Request,
    user: CurrentUser,
    sessions: SessionsDep,
    store: StoreDep,
    policy: PolicyDep,
    clock: ClockDep,
) -> Response:
    """Store one segment (`segment_index` 0..999, at most 5 MiB). Up to 3 may be in flight;
    they are assembled by index. Re-sending an index replaces it."""
    media_id = _media_id(id)
    await _append(
        request,
        user=user,
        media_id=media_id,
        sessions=sessions,
        store=store,
        policy=policy,
        clock=clock,
    )
    now = clock()
    async with sessions() as session:
        view = await uploads.get_status(session, owner_id=user, media_id=media_id, now=now)
    expires_at = int(now.timestamp()) + view.expires_after_secs
    return _json(V2AppendResponse(data=V2AppendData(expires_at=expires_at)))


@router.post(
    "/upload/{id}/finalize",
    operation_id="media-v2-finalize",
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
        sessions, store, policy, owner_id=user, media_id=_media_id(id), now=clock()
    )
    return _media(view)


@router.get(
    "/upload",
    operation_id="media-v2-status",
    response_model=V2MediaUploadResponse,
    response_model_exclude_none=True,
    responses=v2_error_responses(400, 401, 404),
)
async def status(
    user: CurrentUser,
    session: SessionDep,
    clock: ClockDep,
    media_id: Annotated[str, Query(pattern=r"^[0-9]{1,19}$", description="id from initialize")],
    command: Annotated[str | None, Query(description="STATUS (optional)")] = None,
) -> Response:
    """Processing state; while uploading, `upload_info` lists the stored segments."""
    if command not in (None, "STATUS"):
        raise errors.BadParameter(f"Invalid command: {command}. Use STATUS with GET.")
    view = await uploads.get_status(
        session, owner_id=user, media_id=_media_id(media_id), now=clock()
    )
    return _media(view)


@router.post(
    "/upload",
    operation_id="media-v2-upload",
    openapi_extra=_UPLOAD_BODY,
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
    store: StoreDep,
    policy: PolicyDep,
    ids: IdsDep,
    clock: ClockDep,
) -> Response:
    """One-shot image upload (multipart `media`, or JSON with base64 `media`), or the
    deprecated `command` form (INIT / APPEND / FINALIZE)."""
    if _is_json(request):
        body = await _read_json(
            request, V2OneShotJSON, policy.limits.image * 4 // 3 + _JSON_OVERHEAD
        )
        data = _b64(body.media)
        view = await uploads.simple_upload(
            sessions,
            store,
            ids,
            policy,
            owner_id=user,
            chunks=_once(data),
            category=protocol.parse_category(body.media_category),
            additional_owners=_owner_ids(body.additional_owners),
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
            additional_owners=_owner_ids(form.params.get("additional_owners", "")),
            shared=form.params.get("shared", "").lower() in ("true", "1"),
            now=clock(),
        )
        await form.read_rest()
        return _media(view)
    if command == "APPEND":
        media_id = _media_id(form.params.get("media_id"))
        await _append(
            request,
            user=user,
            media_id=media_id,
            sessions=sessions,
            store=store,
            policy=policy,
            clock=clock,
            form=form,
        )
        return Response(status_code=204)
    await form.read_rest()
    if form.media is not None:
        raise errors.BadParameter(f"media is only accepted with APPEND, not {command}.")
    return await _command(form.params, command, user, sessions, store, policy, ids, clock)


async def _command(
    params: dict[str, str],
    command: str | None,
    user: int,
    sessions: SessionsDep,
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
        async with sessions() as session:
            view = await uploads.init_upload(
                session,
                ids,
                policy,
                owner_id=user,
                total_bytes=int(total),
                media_type=params["media_type"],
                category=protocol.parse_category(params.get("media_category")),
                additional_owners=_owner_ids(params.get("additional_owners", "")),
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
            media_id=_media_id(params.get("media_id")),
            now=clock(),
        )
        return _media(view)
    if command is None:
        raise errors.ParameterMissing("media")
    raise errors.BadParameter(f"Invalid command: {command}.")
