"""The request bodies of the v2 media endpoints as documented in OpenAPI (the parsing
itself is ``app.http.params`` and ``app.http.upload_commands``)."""

from __future__ import annotations

from typing import Any

from app.schemas import openapi as oa
from app.schemas.v2 import V2AppendJSON, V2OneShotJSON
from app.uploads import protocol

__all__ = ["APPEND_BODY", "UPLOAD_BODY"]

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
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["media"],
                    "properties": _SEGMENT_FIELDS,
                }
            },
            "application/json": {"schema": V2AppendJSON.model_json_schema()},
        },
    },
    "parameters": [_SHA_HEADER],
}
_UPLOAD_FIELDS: dict[str, Any] = {
    "media": {"type": "string", "format": "binary"},
    "media_category": {"type": "string", "enum": [c.value for c in protocol.CLIENT_CATEGORIES]},
    "additional_owners": {"type": "string", "description": "comma-separated user ids"},
    "shared": {"type": "boolean"},
    "command": {
        "type": "string",
        "enum": ["INIT", "APPEND", "FINALIZE"],
        "description": "deprecated generation-A form; use the dedicated endpoints",
    },
    "total_bytes": {"type": "integer", "minimum": 0},
    "media_type": oa.MEDIA_TYPE,
    "media_id": oa.SNOWFLAKE,
    "segment_index": {"type": "integer", "minimum": 0, "maximum": 999},
}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": oa.upload_form(_UPLOAD_FIELDS)},
            "application/x-www-form-urlencoded": {"schema": oa.upload_form(_UPLOAD_FIELDS)},
            "application/json": {"schema": V2OneShotJSON.model_json_schema()},
        },
    }
}
