"""``/1.1/media/upload.json``: INIT, APPEND, FINALIZE (POST), STATUS (GET), simple upload.

Parameters merge the query string and the body (urlencoded or multipart, for every
command), as the real clients send them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.core import errors
from app.http.deps import (
    ClockDep,
    IdsDep,
    PolicyDep,
    SessionsDep,
    StatementsDep,
    StoreDep,
    solve_by_hand,
)
from app.http.errors import v11_error_responses
from app.http.forms import RequestForm, open_form, segment_sha256_header
from app.http.responses import TwitterJSONResponse
from app.http.upload_json import media_response
from app.schemas.v11 import (
    InitResponseV11,
    MediaResponseV11,
)
from app.uploads import append as appends
from app.uploads import limits, protocol
from app.uploads import service as uploads

# Installed straight into the app's route table (app.main), so its own defaults apply.
router = APIRouter(
    prefix="/1.1/media", tags=["media-v1.1"], default_response_class=TwitterJSONResponse
)

_FORM_FIELDS: dict[str, Any] = {
    "command": {"type": "string", "enum": ["INIT", "APPEND", "FINALIZE"]},
    "total_bytes": {"type": "integer", "description": "INIT: size of the whole file"},
    "media_type": {"type": "string", "description": "INIT: MIME type, e.g. video/mp4"},
    "media_category": {
        "type": "string",
        "enum": [c.value for c in protocol.MediaCategory],
        "description": "INIT/simple: use case; other spellings (TweetVideo, TWEET_VIDEO) work",
    },
    "additional_owners": {"type": "string", "description": "comma-separated user ids (<=100)"},
    "shared": {"type": "boolean"},
    "media_id": {"type": "string", "description": "APPEND/FINALIZE: id from INIT"},
    "segment_index": {"type": "integer", "minimum": 0, "maximum": 999},
    "media": {"type": "string", "format": "binary", "description": "raw bytes (<= 5 MiB)"},
    "media_data": {"type": "string", "description": "base64 bytes (<= 5 MiB decoded)"},
}
_UPLOAD_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": _FORM_FIELDS}},
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": _FORM_FIELDS}
            },
        },
    },
    "parameters": [
        {
            "name": "X-Segment-SHA256",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
            "description": "APPEND: hex SHA-256 of the decoded segment; a mismatch is a 400",
        }
    ],
}


_STATUS_PARAMETERS = [
    {
        "name": name,
        "in": "query",
        "required": True,
        "description": description,
        "schema": {"type": kind, "title": title, "description": description},
    }
    for name, kind, title, description in (
        ("media_id", "integer", "Media Id", "id from INIT"),
        ("command", "string", "Command", "STATUS"),
    )
]


def _json(model: MediaResponseV11 | InitResponseV11, status: int) -> Response:
    # Serialized by pydantic straight to bytes (no dict, no json.dumps): a hot path.
    body = model.model_dump_json(exclude_none=True)
    return Response(body, status_code=status, media_type=TwitterJSONResponse.media_type)


def _int_param(params: Mapping[str, str], name: str, *, required: bool = True) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise errors.ParameterMissing(name)
        return None
    try:
        return int(raw)
    except ValueError:
        raise errors.BadParameter(f"{name} parameter is invalid.") from None


def _owners(params: dict[str, str]) -> list[int]:
    raw = params.get("additional_owners", "")
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise errors.BadParameter("additional_owners must be comma-separated user ids.") from None


def _flag(params: dict[str, str], name: str) -> bool:
    return params.get(name, "").lower() in ("true", "1", "t", "yes")


@router.post(
    "/upload.json",
    operation_id="media-v1.1-upload",
    openapi_extra=_UPLOAD_BODY,
    status_code=200,
    responses={
        200: {"model": MediaResponseV11, "description": "simple upload, or async FINALIZE"},
        201: {"model": MediaResponseV11, "description": "FINALIZE, media ready to use"},
        202: {"model": InitResponseV11, "description": "INIT"},
        204: {"description": "APPEND stored the segment (empty body)"},
        **v11_error_responses(400, 401),
    },
)
async def upload(request: Request) -> Response:
    """Chunked upload commands (`command` = INIT, APPEND, FINALIZE), or, without a
    command and with a `media`/`media_data` part, the one-shot image upload."""
    user, context, clock = await solve_by_hand(request)  # see solve_by_hand: hot route
    sessions, statements, store = context.sessions, context.statements, context.store
    policy, ids = context.policy, context.ids
    form = await open_form(request)
    command = form.params.get("command")
    if command is None and form.media is not None:
        return await _simple(form, user, sessions, store, policy, ids, clock)
    if command == "APPEND":
        await _append(form, request, user, statements, store, policy, clock)
        return Response(status_code=204)
    if form.media is not None:
        raise errors.BadParameter(f"media is only accepted with APPEND, not {command}.")
    await form.read_rest()
    if command == "INIT":
        view = await uploads.init_upload(
            statements,
            ids,
            policy,
            owner_id=user,
            total_bytes=_int_param(form.params, "total_bytes") or 0,
            media_type=_required(form.params, "media_type"),
            category=protocol.parse_category(form.params.get("media_category")),
            additional_owners=_owners(form.params),
            shared=_flag(form.params, "shared"),
            now=clock(),
        )
        body = InitResponseV11(
            media_id=view.media_id,
            media_id_string=str(view.media_id),
            expires_after_secs=view.expires_after_secs,
            media_key=view.media_key if view.category else None,
        )
        return _json(body, 202)
    if command == "FINALIZE":
        view = await uploads.finalize_upload(
            sessions,
            store,
            policy,
            owner_id=user,
            media_id=_media_id(form.params),
            now=clock(),
        )
        status = 200 if view.is_async else 201
        return _json(media_response(view, with_key=view.category is not None), status)
    if command is None:
        raise errors.ParameterMissing("media")
    raise errors.BadParameter(f"Invalid command: {command}.")


def _required(params: Mapping[str, str], name: str) -> str:
    value: str | None = params.get(name)
    if not value:
        raise errors.ParameterMissing(name)
    return value


def _media_id(params: dict[str, str]) -> int:
    raw = _required(params, "media_id")
    if not raw.isdigit() or len(raw) > 19:
        raise errors.InvalidMediaId(raw)
    return int(raw)


async def _append(
    form: RequestForm,
    request: Request,
    user: int,
    statements: StatementsDep,
    store: StoreDep,
    policy: PolicyDep,
    clock: ClockDep,
) -> None:
    if form.media is None:
        await form.read_rest()
        raise errors.ParameterMissing("media")
    if "media_id" in form.params and "segment_index" in form.params:
        chunks = form.media.chunks()
    else:
        chunks = await form.hold_media(policy.limits.segment)
    index = _int_param(form.params, "segment_index")
    assert index is not None
    if not 0 <= index <= limits.MAX_SEGMENT_INDEX:
        raise errors.SegmentIndexOutOfRange()
    await appends.append_segment(
        statements,
        store,
        policy,
        owner_id=user,
        media_id=_media_id(form.params),
        index=index,
        chunks=chunks,
        expected_sha256=segment_sha256_header(request),
        now=clock(),
    )
    await form.read_rest()


async def _simple(
    form: RequestForm,
    user: int,
    sessions: SessionsDep,
    store: StoreDep,
    policy: PolicyDep,
    ids: IdsDep,
    clock: ClockDep,
) -> Response:
    assert form.media is not None
    category = protocol.parse_category(form.params.get("media_category"))
    view = await uploads.simple_upload(
        sessions,
        store,
        ids,
        policy,
        owner_id=user,
        chunks=form.media.chunks(),
        category=category,
        additional_owners=_owners(form.params),
        shared=_flag(form.params, "shared"),
        now=clock(),
    )
    await form.read_rest()
    with_key = bool(form.params.get("media_category"))  # may follow the media part
    return _json(media_response(view, with_key=with_key), 200)


@router.get(
    "/upload.json",
    operation_id="media-v1.1-status",
    response_model=MediaResponseV11,
    response_model_exclude_none=True,
    responses=v11_error_responses(400, 401, 404),
    openapi_extra={"parameters": _STATUS_PARAMETERS},
)
async def status(request: Request) -> Response:
    """Processing state of an upload; poll again after `check_after_secs`. While the
    upload is open, `upload_info` lists the stored segments (for resuming)."""
    user, context, clock = await solve_by_hand(request)  # see solve_by_hand: hot route
    params = request.query_params
    media_id = _int_param(params, "media_id")
    assert media_id is not None
    command = _required(params, "command")
    if command != "STATUS":
        raise errors.BadParameter(f"Invalid command: {command}. Use STATUS with GET.")
    view = await uploads.get_status(
        context.statements, owner_id=user, media_id=media_id, now=clock(), checksums=context.store
    )
    return _json(media_response(view, with_key=view.category is not None), 200)
