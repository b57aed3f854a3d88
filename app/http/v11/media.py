"""``/1.1/media/upload.json``: INIT, APPEND, FINALIZE (POST), STATUS (GET), simple upload.

Parameters merge the query string and the body (urlencoded or multipart, for every
command), as the real clients send them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.http import ratelimit
from app.http import upload_commands as commands
from app.http.deps import solve_by_hand
from app.http.errors import v11_error_responses
from app.http.forms import open_form
from app.http.ratelimit import UPLOAD_V11, Limit
from app.http.responses import TwitterJSONResponse
from app.http.security import authenticates_by_hand
from app.http.upload_json import media_response
from app.schemas import openapi as oa
from app.schemas.v11 import InitResponseV11, MediaResponseV11
from app.uploads import protocol
from app.uploads.commands import Append, Command, Finalize, Init, SimpleUpload

# Installed straight into the app's route table (app.main), so its own defaults apply.
router = APIRouter(
    prefix="/1.1/media", tags=["media-v1.1"], default_response_class=TwitterJSONResponse
)

_FORM_FIELDS: dict[str, Any] = {
    "command": {"type": "string", "enum": ["INIT", "APPEND", "FINALIZE"]},
    "total_bytes": {"type": "integer", "minimum": 0, "description": "INIT: size of the file"},
    "media_type": {**oa.MEDIA_TYPE, "description": "INIT: MIME type, e.g. video/mp4"},
    "media_category": {
        "type": "string",
        "enum": [c.value for c in protocol.CLIENT_CATEGORIES],
        "description": "INIT/simple: use case; other spellings (TweetVideo, TWEET_VIDEO) work",
    },
    "additional_owners": {"type": "string", "description": "comma-separated user ids (<=100)"},
    "shared": {"type": "boolean"},
    "media_id": {**oa.SNOWFLAKE, "description": "APPEND/FINALIZE: id from INIT"},
    "segment_index": {"type": "integer", "minimum": 0, "maximum": 999},
    "media": {"type": "string", "format": "binary", "description": "raw bytes (<= 5 MiB)"},
    "media_data": {"type": "string", "description": "base64 bytes (<= 5 MiB decoded)"},
}
_UPLOAD_FORM = oa.upload_form(_FORM_FIELDS)
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": _UPLOAD_FORM},
            "application/x-www-form-urlencoded": {"schema": _UPLOAD_FORM},
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
    oa.query("media_id", oa.SNOWFLAKE, required=True),
    oa.query("command", {"type": "string", "pattern": "^STATUS$"}, required=True),
]


def _json(model: MediaResponseV11 | InitResponseV11, status: int) -> Response:
    # Serialized by pydantic straight to bytes (no dict, no json.dumps): a hot path.
    body = model.model_dump_json(exclude_none=True)
    return Response(body, status_code=status, media_type=TwitterJSONResponse.media_type)


def _limit(command: Command) -> Limit:
    if isinstance(command, Init):
        return UPLOAD_V11["INIT"]
    if isinstance(command, Append):
        return UPLOAD_V11["APPEND"]
    if isinstance(command, Finalize):
        return UPLOAD_V11["FINALIZE"]
    return UPLOAD_V11["upload"]


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
        **v11_error_responses(400, 401, 429, 503),
    },
)
@authenticates_by_hand
async def upload(request: Request) -> Response:
    """Chunked upload commands (`command` = INIT, APPEND, FINALIZE), or, without a
    command and with a `media`/`media_data` part, the one-shot image upload. Each command
    is rate-limited in its own window (`x-rate-limit-*` headers)."""
    user, context, clock = await solve_by_hand(request)  # see solve_by_hand: hot route
    form = await open_form(request)
    command = await commands.from_form(
        form,
        segment_cap=context.policy.limits.segment,
        index_optional=False,
        sha256_header=request.headers.get("x-segment-sha256"),
    )
    now = clock()
    await ratelimit.count(request, user=user, limit=_limit(command), now=now)
    if isinstance(command, Append):
        await commands.run(command, context, owner_id=user, now=now)
        await form.read_rest()
        return Response(status_code=204)
    if isinstance(command, SimpleUpload):
        view = await commands.run(command, context, owner_id=user, now=now)
        await form.read_rest()
        with_key = bool(form.params.get("media_category"))  # may follow the media part
        return _json(media_response(view, with_key=with_key), 200)
    view = await commands.run(command, context, owner_id=user, now=now)
    if isinstance(command, Init):
        body = InitResponseV11(
            media_id=view.media_id,
            media_id_string=str(view.media_id),
            expires_after_secs=view.expires_after_secs,
            media_key=view.media_key if view.category else None,
        )
        return _json(body, 202)
    status = 200 if view.is_async else 201
    return _json(media_response(view, with_key=view.category is not None), status)


@router.get(
    "/upload.json",
    operation_id="media-v1.1-status",
    response_model=MediaResponseV11,
    response_model_exclude_none=True,
    responses=v11_error_responses(400, 401, 404, 429),
    openapi_extra={"parameters": _STATUS_PARAMETERS},
)
@authenticates_by_hand
async def status(request: Request) -> Response:
    """Processing state of an upload; poll again after `check_after_secs`. While the
    upload is open, `upload_info` lists the stored segments (for resuming)."""
    user, context, clock = await solve_by_hand(request)  # see solve_by_hand: hot route
    command = commands.status_from_params(request.query_params, command_required=True)
    now = clock()
    await ratelimit.count(request, user=user, limit=UPLOAD_V11["STATUS"], now=now)
    view = await commands.run(command, context, owner_id=user, now=now)
    return _json(media_response(view, with_key=view.category is not None), 200)
