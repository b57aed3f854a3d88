"""Each operation's ``security`` in the served spec is what the route does: the
operations that declare the user schemes answer 401 without credentials, the others
(``security: []``) do not (app/http/security.py derives it from the dependencies)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request

from app.http.deps import CurrentUser
from app.http.openapi import install_openapi
from app.http.security import SCHEMES, USER_SECURITY, authenticates_by_hand
from tests.conftest import Env

# Operations that must stay public, whatever else changes.
PUBLIC = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/media/{filename}"),
    ("get", "/i/status/{post_id}"),
    ("get", "/{screen_name}/status/{post_id}"),
}


def _value(parameter: dict[str, Any]) -> str:
    """A value the parameter's schema accepts, so the request reaches the route."""
    schema = parameter.get("schema", {})
    if "enum" in schema:
        return str(schema["enum"][0])
    pattern = schema.get("pattern", "")
    return next(c for c in ("1", "3_1", "photo", "0.ts") if re.search(pattern, c))


def _url(path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", _value(parameter))
    return path


async def test_401_without_credentials_iff_the_operation_declares_security(env: Env) -> None:
    spec = (await env.client.get("/openapi.json")).json()
    operations = [
        (method, path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]

    seen: dict[tuple[str, str], int] = {}
    for method, path, operation in operations:
        response = await env.client.request(method.upper(), _url(path, operation))
        seen[(method, path)] = response.status_code
        declared = bool(operation["security"])
        assert (response.status_code == 401) == declared, (method, path, response.status_code)
        assert response.status_code < 500, (method, path, response.text)

    assert {key for key, status in seen.items() if status != 401} >= PUBLIC
    assert sum(status == 401 for status in seen.values()) > len(PUBLIC)


def test_schemes_and_alternatives_are_in_the_spec(env: Env) -> None:
    spec = env.app.openapi()

    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**SCHEMES["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["oauth1"]["type"] == "http"
    assert "HMAC-SHA1" in schemes["oauth1"]["description"]
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            assert operation["security"] in ([], USER_SECURITY), (method, path)
    upload = spec["paths"]["/1.1/media/upload.json"]
    assert upload["post"]["security"] == upload["get"]["security"] == USER_SECURITY


async def _limited(user: CurrentUser) -> None:
    """A dependency that takes the user, as the rate limits do."""


@pytest.mark.parametrize("prefix", ["", "/included"])
def test_a_new_route_is_documented_right_by_itself(prefix: str) -> None:
    router = APIRouter()

    @router.get("/direct")
    async def direct(user: CurrentUser) -> None: ...

    @router.get("/nested", dependencies=[Depends(_limited)])
    async def nested() -> None: ...

    @router.get("/annotated")
    async def annotated(_: Annotated[None, Depends(_limited)]) -> None: ...

    @router.get("/by-hand")
    @authenticates_by_hand
    async def by_hand(request: Request) -> None: ...

    @router.get("/open")
    async def open_() -> None: ...

    app = FastAPI()
    install_openapi(app)
    app.include_router(router, prefix=prefix)
    paths = app.openapi()["paths"]

    security = {path.removeprefix(prefix): ops["get"]["security"] for path, ops in paths.items()}
    assert security == {
        "/direct": USER_SECURITY,
        "/nested": USER_SECURITY,
        "/annotated": USER_SECURITY,
        "/by-hand": USER_SECURITY,
        "/open": [],
    }
