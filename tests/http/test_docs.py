"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from fastapi-offline's local files: the
pages name no outside host, every file they reference is served (cacheable, with an
ETag), and Authorize works as Swagger UI does it: the served spec has the schemes, the
page points at it with ``persistAuthorization``, and a try-it-out request with the
bearer token succeeds over a real socket."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from tests.conftest import Env, _truncate, make_settings
from tests.fixtures.served import Served

PAGES = ("/docs", "/redoc")
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class _References(HTMLParser):
    """Every URL a page loads: src/href attributes and ReDoc's spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href", "spec-url") and v]


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


def assert_offline(html: str) -> None:
    assert not re.search(r"(?i)\bhttps?://", html), "the page names an outside host"
    for url in references(html):
        parts = urlsplit(url)
        assert not parts.scheme, url
        assert not parts.netloc, url
        assert url.startswith("/"), url


class TestPages:
    @pytest.mark.parametrize("page", PAGES)
    async def test_page_names_no_outside_host(self, env: Env, page: str) -> None:
        response = await env.client.get(page)

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert_offline(response.text)
        assert len(references(response.text)) >= 2

    @pytest.mark.parametrize("page", PAGES)
    async def test_every_referenced_file_is_served_from_the_package(
        self, env: Env, page: str
    ) -> None:
        html = (await env.client.get(page)).text
        assets = [url for url in references(html) if url.startswith("/docs/static/")]

        assert assets
        for url in assets:
            response = await env.client.get(url)
            name = urlsplit(url).path.rsplit("/", 1)[1]
            shipped = resources.files("fastapi_offline").joinpath("static", name).read_bytes()
            assert response.status_code == 200, url
            assert response.content == shipped
            assert response.headers["content-type"].startswith(TYPES[Path(name).suffix])
            assert "immutable" in response.headers["cache-control"]
            again = await env.client.get(url, headers={"If-None-Match": response.headers["etag"]})
            assert again.status_code == 304
            assert again.content == b""

    async def test_swagger_ui_points_at_the_spec_and_keeps_authorization(self, env: Env) -> None:
        html = (await env.client.get("/docs")).text

        assert "url: '/openapi.json'" in html
        assert '"persistAuthorization": true' in html
        assert '"validatorUrl": null' in html  # no badge fetched from validator.swagger.io
        assert '<redoc spec-url="/openapi.json">' in (await env.client.get("/redoc")).text

    async def test_unknown_file_is_a_json_404(self, env: Env) -> None:
        response = await env.client.get("/docs/static/..%2Fcore.py")
        other = await env.client.get("/docs/static/nothing.js")

        assert response.status_code == other.status_code == 404
        assert other.headers["content-type"].startswith("application/json")
        assert other.json()["errors"]

    async def test_docs_are_not_in_the_spec(self, env: Env) -> None:
        paths = env.app.openapi()["paths"]

        assert not [path for path in paths if path.startswith(("/docs", "/redoc"))]


async def test_docs_can_be_turned_off(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    app = create_app(make_settings(database_url, tmp_path / "data", docs_enabled=False))
    transport = ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        answers = {
            url: (await client.get(url)).status_code
            for url in ("/docs", "/redoc", "/docs/static/swagger-ui.css", "/openapi.json")
        }
    await _truncate(engine)

    assert answers == {
        "/docs": 404, "/redoc": 404, "/docs/static/swagger-ui.css": 404, "/openapi.json": 200,
    }  # fmt: skip


@pytest.fixture
async def server(database_url: str, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Served]:
    served = Served(tmp_path / "data", database_url, tmp_path / "server.log")
    served.start()
    yield served
    served.stop()
    await _truncate(engine)


async def test_authorize_then_try_it_out_over_a_real_socket(server: Served) -> None:
    """What Swagger UI does after Authorize with the bearer token: read the spec the
    page names, take an operation that declares bearerAuth, send its request to the
    page's origin (the spec has no ``servers``) with ``Authorization: Bearer``."""
    headers = server.user("alice")
    async with AsyncClient(base_url=server.base, timeout=10) as browser:
        page = await browser.get("/docs")
        for url in references(page.text):
            assert (await browser.get(url)).status_code == 200, url
        spec_url = re.search(r"url: '([^']+)'", page.text)
        assert spec_url is not None
        spec = (await browser.get(spec_url.group(1))).json()
        operation = spec["paths"]["/1.1/account/verify_credentials.json"]["get"]
        origin = spec.get("servers", [{"url": ""}])[0]["url"]
        try_it = f"{origin}/1.1/account/verify_credentials.json"

        anonymous = await browser.get(try_it)
        authorized = await browser.get(try_it, headers=headers)

    assert_offline(page.text)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"bearerAuth": []} in operation["security"]
    assert anonymous.status_code == 401
    assert authorized.status_code == 200
    assert authorized.json()["screen_name"] == "alice"
