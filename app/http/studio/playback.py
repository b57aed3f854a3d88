"""``POST /studio/v1/playback/events``: players report what viewers do.

Anonymous (credentials, if any, are ignored): any player on any page may report, so the
answer carries ``Access-Control-Allow-Origin: *`` and ``OPTIONS`` answers the preflight.
The body is JSON, sent as ``application/json`` or as ``text/plain`` (what
``navigator.sendBeacon`` sends with a string). Events of media that is not publicly
delivered, too late, in the future or past the session's rate are answered in
``rejected`` (the rest are stored); a malformed batch is a 400 for the whole request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.analytics import events as playback
from app.analytics.rules import EVENT_TYPES
from app.http.deps import ContextDep, playback_of
from app.http.json_body import parse_json, read_body
from app.http.studio.envelope import (
    AdsJSONResponse,
    ads_error_body,
    ads_error_responses,
    data_response,
)
from app.studio import errors

__all__ = ["router"]

router = APIRouter(prefix="/studio/v1", tags=["studio-analytics"])

BODY_CAP = 64 * 1024
_CORS = {"access-control-allow-origin": "*"}
_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["media_key", "session_id", "seq", "type", "ts"],
    "properties": {
        "media_key": {"type": "string", "pattern": "^[0-9]{1,4}_[0-9]{1,19}$"},
        "session_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,64}$"},
        "seq": {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
        "type": {"type": "string", "enum": list(EVENT_TYPES)},
        "ts": {
            "type": "integer",
            "minimum": 0,
            "maximum": 2**53 - 1,
            "description": "when it happened, epoch milliseconds",
        },
        "position_ms": {
            "type": ["integer", "null"],
            "minimum": 0,
            "maximum": 2**53 - 1,
            "description": "the playhead; required for progress",
        },
        "quartile": {
            "type": ["integer", "null"],
            "enum": [25, 50, 75, 100, None],
            "description": "required for quartile",
        },
        "cta": {
            "type": ["string", "null"],
            "enum": ["url", "watch", None],
            "description": "required for cta_click",
        },
    },
}
_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["events"],
    "properties": {
        "events": {"type": "array", "minItems": 1, "maxItems": playback.MAX_EVENTS, "items": _EVENT}
    },
}
_ANSWER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {
            "type": "object",
            "properties": {
                "accepted": {"type": "integer"},
                "rejected": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "index": {"type": "integer"},
                            "reason": {
                                "type": "string",
                                "enum": [
                                    "media_not_available",
                                    "too_late",
                                    "in_the_future",
                                    "session_rate_limited",
                                ],
                            },
                        },
                    },
                },
            },
        },
        "request": {"type": "object"},
    },
}


@router.post(
    "/playback/events",
    operation_id="studio-playback_events",
    status_code=202,
    responses={
        202: {
            "description": "stored, but for the events listed in `rejected`",
            "content": {"application/json": {"schema": _ANSWER}},
        },
        **ads_error_responses(400, 413, 429),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _BODY},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        "security": [],
    },
)
async def playback_events(request: Request, context: ContextDep) -> Response:
    """Playback events of publicly delivered media (no credentials needed). Up to 100
    events; duplicates (`session_id` + `seq` seen before) are stored once."""
    document = parse_json(await read_body(request, BODY_CAP))
    try:
        events = playback.parse_batch(document)
    except playback.EventError as error:
        if error.missing:
            raise errors.MissingParameter(error.parameter) from None
        raise errors.InvalidParameter(error.parameter, str(error)) from None
    ingest = playback_of(context)
    address = request.client.host if request.client else "unknown"
    if not ingest.address_allows(address, len(events)):
        body = ads_error_body("TOO_MANY_REQUESTS", "Too many playback events from this address")
        headers = {**_CORS, "retry-after": str(ingest.per_address.retry_after())}
        return AdsJSONResponse(body, status_code=429, headers=headers)
    outcome = await ingest.accept(events)
    rejected = [{"index": index, "reason": reason} for index, reason in outcome.rejected]
    response = data_response({"accepted": outcome.accepted, "rejected": rejected}, status_code=202)
    response.headers.update(_CORS)
    return response


@router.options("/playback/events", include_in_schema=False)
async def playback_preflight() -> Response:
    return Response(
        status_code=204,
        headers={
            **_CORS,
            "access-control-allow-methods": "POST, OPTIONS",
            "access-control-allow-headers": "content-type",
            "access-control-max-age": "86400",
        },
    )
