"""The served OpenAPI document (``/openapi.json``, exported to openapi/openapi.json).

FastAPI declares a 422 with its ``HTTPValidationError`` body on every operation that
takes parameters. This service never answers 422 for input: ``app.http.errors`` renders
validation failures as the surface's 400. So those 422s are taken out (a route that
really answers 422, such as update_profile_banner's crop outside the image, declares its
own, with another body) and their schemas with them.

A parameter typed ``str | None`` is declared ``anyOf: [string, null]``; a query or path
parameter cannot be null (absent is the ``None``), and a client following the spec would
send the text ``null``. So parameters lose the null branch. And error bodies are JSON
even where the route's success is HTML or a file. Security schemes and each
operation's ``security`` come from the routes' dependencies (app/http/security.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.http.security import document_security

__all__ = ["install_openapi"]

_FASTAPI_422 = "#/components/schemas/HTTPValidationError"
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")
_ERROR_REFS = {
    f"#/components/schemas/{name}" for name in ("BadRequestBody", "ErrorsBody", "Problem")
}


def _is_fastapi_422(response: dict[str, Any]) -> bool:
    content = response.get("content", {}).get("application/json", {})
    return bool(content.get("schema", {}).get("$ref") == _FASTAPI_422)


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
    if "anyOf" not in schema or len(branches) == len(schema["anyOf"]):
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**branches[0], **rest} if len(branches) == 1 else {**rest, "anyOf": branches}


def _errors_as_json(responses: dict[str, Any]) -> None:
    """A route serving HTML or files still answers its errors in JSON; FastAPI files a
    declared error body under the route's own media type."""
    for status, response in responses.items():
        content = response.get("content", {})
        if not status.startswith(("4", "5")) or len(content) != 1:
            continue
        ((media_type, body),) = content.items()
        if "json" not in media_type and body.get("schema", {}).get("$ref") in _ERROR_REFS:
            response["content"] = {"application/json": body}


def _truthful(spec: dict[str, Any]) -> dict[str, Any]:
    for methods in spec.get("paths", {}).values():
        for operation in methods.values():
            _errors_as_json(operation.get("responses", {}))
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _not_null(parameter.get("schema", {}))
            responses = operation.get("responses", {})
            if "422" in responses and _is_fastapi_422(responses["422"]):
                del responses["422"]
    schemas = spec.get("components", {}).get("schemas", {})
    for name in _FASTAPI_SCHEMAS:
        schemas.pop(name, None)
    return spec


def install_openapi(app: FastAPI) -> None:
    """Serve the document above from ``app.openapi()`` (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = document_security(app, _truthful(spec))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
