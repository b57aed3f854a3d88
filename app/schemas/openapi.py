"""Schema fragments for parameters that the routes parse by hand (``app.http.params``),
so the served spec says exactly what each parser takes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.uploads import protocol

__all__ = [
    "DM_EVENT_V11",
    "FLAG",
    "ID_LIST",
    "MEDIA_TYPE",
    "METADATA_CREATE_V11",
    "SNOWFLAKE",
    "SNOWFLAKE_PATTERN",
    "SUBTITLES_CREATE_V11",
    "SUBTITLES_DELETE_V11",
    "json_body",
    "query",
    "snowflake_range",
    "upload_form",
]


def snowflake_range(maximum: int) -> str:
    """A regex of the decimal numbers 1..``maximum`` written without leading zeros:
    ``params.snowflake``'s rule (ids start at 1), for ``maximum`` = 2^63-1."""
    digits = str(maximum)
    width = len(digits)
    shorter = f"[1-9][0-9]{{0,{width - 2}}}"
    same = []
    for i, digit in enumerate(digits):
        lowest = 1 if i == 0 else 0
        if int(digit) > lowest:
            rest = width - i - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            low = f"[{lowest}-{int(digit) - 1}]"
            same.append(f"{digits[:i]}{low}{tail}")
    same.append(digits)
    return "(?:" + "|".join([shorter, *same]) + ")"


SNOWFLAKE_PATTERN = f"^{snowflake_range(2**63 - 1)}$"
SNOWFLAKE: dict[str, Any] = {
    "type": "string",
    "pattern": SNOWFLAKE_PATTERN,
    "description": "a snowflake id: ASCII digits, 1..2^63-1",
}
ID_LIST: dict[str, Any] = {
    "type": "string",
    "pattern": f"^{snowflake_range(2**63 - 1)}(?:,{snowflake_range(2**63 - 1)}){{0,99}}$",
    "description": "comma-separated snowflake ids, up to 100",
}
# Not an enum: generated clients would make it one, and a client's `media_type="video/mp4"`
# would stop type-checking; which types are taken is the protocol's rule (a 400 otherwise).
MEDIA_TYPE: dict[str, Any] = {
    "type": "string",
    "description": "one of "
    + ", ".join(sorted(protocol.IMAGE_TYPES | protocol.VIDEO_TYPES | protocol.SUBTITLE_TYPES)),
}
FLAG: dict[str, Any] = {
    "type": "string",
    "description": "true, t, 1 or yes (any case) is true; anything else is false",
}


# The Ads API's booleans (the studio): true/false (t/f, 1/0) in any case, or empty for
# the default; anything else is 400 INVALID_PARAMETER.
ADS_FLAG: dict[str, Any] = {
    "type": "string",
    "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[TtFf01])?$",
    "description": "true or false (t/f, 1/0, any case); empty: the default",
}


def sort_by(fields: Iterable[str]) -> dict[str, Any]:
    """``sort_by``: ``<field>-asc`` or ``-desc``, comma-separated, each field once."""
    one = f"({'|'.join(fields)})-(asc|desc)"
    return {
        "type": "string",
        "pattern": f"^({one}(,{one})*)?$",
        "description": "<attribute>-asc or <attribute>-desc, comma-separated",
    }


def query(name: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    """A query parameter declared by hand (routes that merge query and body)."""
    return {"name": name, "in": "query", "required": required, "schema": schema}


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body by hand."""
    return {
        "requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}
    }


def _object(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


_ID_OR_NUMBER: dict[str, Any] = {
    "anyOf": [SNOWFLAKE, {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}]
}
DM_EVENT_V11 = _object(
    {
        "event": _object(
            {
                "type": {"type": "string", "enum": ["message_create"]},
                "message_create": _object(
                    {
                        "target": _object({"recipient_id": SNOWFLAKE}, "recipient_id"),
                        "message_data": _object(
                            {
                                "text": {"type": "string"},
                                "attachment": _object(
                                    {
                                        "type": {"type": "string", "enum": ["media"]},
                                        "media": _object({"id": SNOWFLAKE}, "id"),
                                    },
                                    "type",
                                    "media",
                                ),
                            }
                        ),
                    },
                    "target",
                ),
            },
            "message_create",
        )
    },
    "event",
)
_TRACK = {"type": "string", "minLength": 1}
SUBTITLES_CREATE_V11 = _object(
    {
        "media_id": _ID_OR_NUMBER,
        "media_category": {"type": "string"},
        "subtitle_info": _object(
            {
                "subtitles": {
                    "type": "array",
                    "minItems": 1,
                    "items": _object(
                        {
                            "media_id": _ID_OR_NUMBER,
                            "language_code": _TRACK,
                            "display_name": {"type": "string"},
                        },
                        "media_id",
                        "language_code",
                    ),
                }
            },
            "subtitles",
        ),
    },
    "media_id",
    "subtitle_info",
)
SUBTITLES_DELETE_V11 = _object(
    {
        "media_id": _ID_OR_NUMBER,
        "media_category": {"type": "string"},
        "subtitle_info": _object(
            {
                "subtitles": {
                    "type": "array",
                    "minItems": 1,
                    "items": _object({"language_code": _TRACK}, "language_code"),
                }
            },
            "subtitles",
        ),
    },
    "media_id",
    "subtitle_info",
)
METADATA_CREATE_V11 = _object(
    {
        "media_id": _ID_OR_NUMBER,
        "alt_text": _object({"text": {"type": "string", "maxLength": 1000}}, "text"),
    },
    "media_id",
    "alt_text",
)


def upload_form(fields: dict[str, Any]) -> dict[str, Any]:
    """The form of ``media/upload``: one object for every command and the simple upload.
    What each command requires (INIT: total_bytes, media_type; APPEND: media_id,
    segment_index, media; FINALIZE: media_id; no command: media) is said in the
    descriptions, not as an anyOf of one shape per command: generated clients
    (openapi-python-client) turn that into one anonymous type per shape."""
    return {"type": "object", "properties": fields}
