"""The one reader of JSON request bodies: capped while it streams, depth-limited, then
parsed. Every JSON route calls it from the route function, after ``CurrentUser``: a body
is never read before the credentials in the headers were checked (FastAPI reads a body
declared as a pydantic parameter before it solves any dependency, so no route declares
one).

- A ``Content-Length`` over the route's cap is refused before any byte is read; a
  chunked body is counted as it arrives and refused at the first chunk past the cap
  (``BodyTooLarge``, 413). Caps are per route (``caps``).
- Nesting deeper than ``MAX_DEPTH`` is a 400, found by a scan of the bytes (brackets
  outside strings), before ``json.loads`` could recurse.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from app.core import errors

__all__ = [
    "DM_BODY",
    "INIT_BODY",
    "MAX_DEPTH",
    "METADATA_BODY",
    "POST_BODY",
    "SUBTITLES_BODY",
    "UPDATE_BODY",
    "body_chunks",
    "check_depth",
    "declared_length",
    "document_json_bodies",
    "json_object",
    "json_request_body",
    "parse_json",
    "read_body",
    "read_json",
    "read_json_object",
]

MAX_DEPTH = 32
# Per-route caps: the most a valid body can need, with room. A character may take 12
# bytes as JSON (a surrogate pair escaped as two \uXXXX) or percent-encoded (4 x %XX).
POST_BODY = 16 * 1024  # text (280) + media ids + reply, quote and poll fields
DM_BODY = 160 * 1024  # text (10,000) + the event envelope and one attachment
METADATA_BODY = 32 * 1024  # alt text (1,000) + media id
SUBTITLES_BODY = 64 * 1024  # a video id and its tracks (id, language, display name)
INIT_BODY = 16 * 1024  # v2 initialize: type, size, category, 100 additional owners
# statuses/update (a form, no media part): status, ids; multipart part headers fit too.
UPDATE_BODY = 16 * 1024
_Model = TypeVar("_Model", bound=BaseModel)
# What can change the nesting depth or end a string: quotes, backslashes, brackets.
_SPECIAL = re.compile(rb'["\\\[\]{}]')
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")


def declared_length(request: Request) -> int | None:
    """``Content-Length`` when it is ASCII digits; None when absent (chunked) or not."""
    value = request.headers.get("content-length", "").strip()
    return int(value) if value and value.isascii() and value.isdigit() else None


async def body_chunks(request: Request, cap: int | None = None) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; past ``cap`` bytes (declared or counted) it is
    ``BodyTooLarge``. A client gone mid-body is a 400."""
    if cap is not None:
        declared = declared_length(request)
        if declared is not None and declared > cap:
            raise errors.BodyTooLarge(cap)
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if cap is not None and size > cap:
                raise errors.BodyTooLarge(cap)
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise errors.BadParameter("The client closed the connection mid-body.") from None


async def read_body(request: Request, cap: int) -> bytes:
    """The whole body, at most ``cap`` bytes."""
    return b"".join([chunk async for chunk in body_chunks(request, cap)])


def check_depth(raw: bytes, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit``, without recursion: brackets are counted
    outside strings (a backslash in a string escapes the byte after it)."""
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _SPECIAL.finditer(raw):
        at = match.start()
        byte = raw[at]
        if in_string:
            if at == escaped_at:
                continue
            if byte == 0x5C:  # backslash
                escaped_at = at + 1
            elif byte == 0x22:
                in_string = False
            continue
        if byte == 0x22:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > limit:
                raise errors.MalformedBody(f"The JSON body is nested deeper than {limit} levels.")
        elif byte in _CLOSE:
            depth -= 1


def parse_json(raw: bytes, *, empty: Any = None) -> Any:
    """``raw`` as JSON (``empty`` for an empty body); not JSON is a 400."""
    if not raw.strip():
        return empty
    check_depth(raw)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise errors.MalformedBody("The body is not valid JSON.") from None


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object body, whatever the Content-Type said (real clients vary); an empty
    body is ``{}``."""
    body = parse_json(raw, empty={})
    if not isinstance(body, dict):
        raise errors.MalformedBody("The body must be a JSON object.")
    return body


async def read_json_object(request: Request, cap: int) -> dict[str, Any]:
    """The body as a JSON object, at most ``cap`` bytes."""
    return json_object(await read_body(request, cap))


async def read_json(request: Request, model: type[_Model], cap: int) -> _Model:
    """A JSON object body of at most ``cap`` bytes, validated by ``model``; a body that
    does not fit the model is a 400 naming the first field at fault."""
    body = await read_json_object(request, cap)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "body"
        if first["type"] == "missing":
            raise errors.ParameterMissing(name) from None
        raise errors.InvalidParameter(name) from None


_DOCUMENTED: dict[str, type[BaseModel]] = {}


def json_request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` declaring ``model`` as the JSON body of a route that reads it
    itself (through ``read_json``); ``document_json_bodies`` puts its schema in the
    document's components, where FastAPI would have put it."""
    _DOCUMENTED[model.__name__] = model
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def document_json_bodies(app: FastAPI) -> None:
    """Add the schemas of the bodies declared by ``json_request_body`` to ``app.openapi()``."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        spec = build()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for name, model in sorted(_DOCUMENTED.items()):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for nested, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(nested, definition)
            schemas.setdefault(name, schema)
        spec["components"]["schemas"] = dict(sorted(schemas.items()))
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
