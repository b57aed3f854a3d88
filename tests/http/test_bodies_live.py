"""Over a real socket (uvicorn): a body refused before it is read is not read, not even
drained by the server: the client is stopped after what the sockets buffer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.http.json_body import POST_BODY
from tests.conftest import _truncate
from tests.fixtures.bodies import Counted
from tests.fixtures.protocol import MIB
from tests.test_uvicorn import Server

pytestmark = pytest.mark.slow
SIZE = 256 * MIB
# Loopback socket buffers hold a few MiB each way; a server that read or drained the
# body would pull all 256.
MOST_PULLED = 32 * MIB


@pytest.fixture(scope="module")
async def server(
    database_url: str, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    """One server for this module's tests (each starts its own connections)."""
    served = Server(tmp_path_factory.mktemp("bodies") / "data", database_url)
    served.start()
    yield served
    served.stop()
    await _truncate(engine)


def _post(server: Server, headers: dict[str, str], body: Counted) -> httpx.Response:
    with httpx.Client(base_url=server.base, timeout=60) as client:
        return client.post(
            "/2/tweets",
            content=body.sync(),
            headers={**headers, "Content-Type": "application/json"},
        )


class TestRefusedBodiesOverASocket:
    async def test_no_credentials_is_401_with_the_body_left_unread(self, server: Server) -> None:
        body = Counted(SIZE, chunk=MIB)

        response = await asyncio.to_thread(_post, server, {}, body)

        assert response.status_code == 401
        assert response.json()["status"] == 401
        assert body.pulled < MOST_PULLED

    async def test_authenticated_chunked_body_over_the_cap_is_413_and_not_drained(
        self, server: Server
    ) -> None:
        headers = server.user("alice")
        body = Counted(SIZE, chunk=MIB)

        response = await asyncio.to_thread(_post, server, headers, body)
        after = await asyncio.to_thread(_post, server, headers, _json(b'{"text": "still here"}'))

        assert response.status_code == 413
        assert response.json()["errors"][0]["max_body_bytes"] == POST_BODY
        assert body.pulled < MOST_PULLED
        assert after.status_code == 201, after.text


def _json(raw: bytes) -> Counted:
    return Counted(len(raw), head=raw)
