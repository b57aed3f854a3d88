"""Parameters and bodies of the v2 media endpoints: ids, segment indexes, base64 JSON,
a held media part, and the request bodies documented in OpenAPI."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from fastapi import Request
from pydantic import ValidationError
from python_multipart.multipart import parse_options_header

from app.core import errors
from app.schemas.v2 import V2AppendJSON, V2OneShotJSON
from app.uploads import limits, protocol

JSON_OVERHEAD = 64 * 1024
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
APPEND_BODY = {
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
UPLOAD_BODY = {
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


def parse_media_id(raw: str | None) -> int:
    if not raw:
        raise errors.ParameterMissing("media_id")
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= 2**63:
        raise errors.InvalidMediaId(raw)
    return int(raw)


def parse_segment_index(raw: object) -> int:
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 3:
        raise errors.BadParameter("segment_index parameter is invalid.")
    index = int(text)
    if not 0 <= index <= limits.MAX_SEGMENT_INDEX:
        raise errors.SegmentIndexOutOfRange()
    return index


def parse_owner_ids(raw: list[str] | str) -> list[int]:
    parts = raw.split(",") if isinstance(raw, str) else raw
    try:
        return [int(part) for part in parts if part.strip()]
    except ValueError:
        raise errors.BadParameter("additional_owners must be user ids.") from None


def is_json(request: Request) -> bool:
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    return content_type == b"application/json"


async def read_json(request: Request, model: type[_Body], cap: int) -> _Body:
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


def b64(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise errors.BadParameter("media is not valid base64.") from None


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data
