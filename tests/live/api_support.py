"""Helpers of the Producer's HTTP tests (tests/live/test_api.py): the in-process ``env``
client against the v2 live routes and the nginx hook route, as nginx would call it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from httpx import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.http.deps import get_clock
from app.live.monitor import LiveMonitor
from app.models import Job, LiveBroadcast, LiveSource
from app.storage.live import LiveFiles
from tests.conftest import Env, User, create_user
from tests.fixtures.studio import create_studio_account, grant

__all__ = ["Live", "Members", "make_members", "problem"]

INVALID = "https://api.twitter.com/2/problems/invalid-request"
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
CONFLICT = "https://api.twitter.com/2/problems/conflict"
FORBIDDEN = "https://api.twitter.com/2/problems/client-forbidden"
_TYPES = {400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


def problem(
    response: Response, status: int, parameter: str | None = None, *, coded: bool = True
) -> dict[str, Any]:
    """Check the v2 problem form of a refusal; its ``errors[0]``. ``coded=False``: a
    query the framework refused before the route (app/http/errors.py gives no code)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "title", "detail", "status", "errors"}, body
    assert body["type"] == _TYPES[status], body
    assert body["status"] == status
    assert isinstance(body["detail"], str), body
    assert body["detail"], body
    [error] = body["errors"]
    assert error["message"] == body["detail"], body
    assert isinstance(error.get("code"), int) is coded, body
    if parameter is None:
        assert "parameters" not in error, body
    else:
        assert error["parameters"] == {parameter: [body["detail"]]}, body
    return dict(error)


@dataclass
class Live:
    """One test's client of the Producer routes."""

    env: Env
    engine: AsyncEngine

    @property
    def files(self) -> LiveFiles:
        return LiveFiles(self.env.state.settings.data_dir / "live")

    async def call(
        self, method: str, path: str, user: User, json: Any = None, **params: Any
    ) -> Response:
        return await self.env.client.request(
            method, path, headers=user.headers, json=json, params=params or None
        )

    async def ok(
        self, method: str, path: str, user: User, json: Any = None, status: int = 200,
        **params: Any,
    ) -> Any:  # fmt: skip
        """The JSON body of a call that must answer ``status``."""
        response = await self.call(method, path, user, json, **params)
        assert response.status_code == status, response.text
        return response.json()

    async def refused(
        self, method: str, path: str, user: User, status: int, parameter: str | None = None,
        json: Any = None, **params: Any,
    ) -> dict[str, Any]:  # fmt: skip
        """``errors[0]`` of a call refused in the problem form (see ``problem``)."""
        return problem(await self.call(method, path, user, json, **params), status, parameter)

    async def source(self, user: User, owner: User | None = None, **body: Any) -> dict[str, Any]:
        """A new rtmp source of ``owner`` (the user) made by ``user`` (gen B)."""
        body = {"name": "Studio A encoder", "region": "eu-central-1", **body}
        response = await self.call(
            "POST", f"/2/users/{(owner or user).id}/sources", user, json=body
        )
        assert response.status_code == 200, response.text
        source: dict[str, Any] = response.json()["source"]
        return source

    async def broadcast(
        self, user: User, source_id: str, owner: User | None = None, **body: Any
    ) -> dict[str, Any]:
        """A new NOT_STARTED broadcast (gen B create); the whole response body."""
        response = await self.call(
            "POST", f"/2/users/{(owner or user).id}/broadcasts", user,
            json={"source_id": source_id, **body},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created

    async def on_air(self, user: User, **body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new source with an encoder connected (clientid 7) and its broadcast RUNNING."""
        source = await self.source(user)
        broadcast = (await self.broadcast(user, source["id"], **body))["broadcast"]
        assert (await self.connect(source["stream_key"])).status_code == 302
        published = await self.state(user, broadcast["id"], state="PUBLISH")
        assert published.status_code == 200, published.text
        return source, published.json()["broadcast"]

    async def state(
        self, user: User, broadcast_id: str, owner: User | None = None, **body: Any
    ) -> Response:
        return await self.call(
            "PUT", f"/2/users/{(owner or user).id}/broadcasts/{broadcast_id}/state", user,
            json=body,
        )  # fmt: skip

    async def hook(self, event: str, secret: str | None = None, **form: str) -> Response:
        """What nginx sends: a form body, the secret in the query string."""
        fields = {"app": "x", "addr": "127.0.0.1", "clientid": "7", "call": event, **form}
        return await self.env.client.post(
            f"/internal/live/{event}",
            params={"secret": self.files.hook_secret() if secret is None else secret},
            data=fields,
        )

    async def connect(self, key: str, client_id: str = "7") -> Response:
        return await self.hook("publish", name=key, clientid=client_id, type="live")

    async def disconnect(self, key: str, client_id: str = "7") -> Response:
        return await self.hook("publish_done", name=key, clientid=client_id)

    def recording(self, name: str) -> Path:
        """A real file where nginx leaves its recordings."""
        self.files.prepare()
        path = self.files.recordings / name
        path.write_bytes(b"FLV\x01\x05" + b"\x00" * 64)
        return path

    async def jobs(self) -> list[Job]:
        async with self.env.state.sessions() as session:
            query = select(Job).where(Job.kind == "live_recording").order_by(Job.id)
            return list(await session.scalars(query))

    def monitor(self) -> LiveMonitor:
        """The live monitor's timers, without nginx."""
        return LiveMonitor(self.env.state.sessions, self.env.state.settings.live, self.files)

    def clock(self, times: list[datetime]) -> None:
        """Each request reading the clock gets the next of ``times`` (the last one stays)."""

        async def clock() -> Callable[[], datetime]:
            at = times.pop(0) if len(times) > 1 else times[0]
            return lambda: at

        self.env.app.dependency_overrides[get_clock] = clock

    async def source_row(self, source_id: str) -> LiveSource:
        async with self.env.state.sessions() as session:
            row = await session.get(LiveSource, source_id)
            assert row is not None
            return row

    async def broadcast_row(self, broadcast_id: str) -> LiveBroadcast:
        async with self.env.state.sessions() as session:
            row = await session.scalar(
                select(LiveBroadcast).where(LiveBroadcast.id == broadcast_id)
            )
            assert row is not None
            return row


@dataclass
class Members:
    """A studio account owned by alice with a full and a limited member, and a user who
    is no member."""

    account_id: str
    owner: User
    full: User
    limited: User
    outsider: User


async def make_members(engine: AsyncEngine, owner: User) -> Members:
    full = await create_user(engine, "fuller")
    limited = await create_user(engine, "limiter")
    outsider = await create_user(engine, "outsider")
    account_id = await create_studio_account(engine, owner.id, name="Studio A")
    await grant(engine, account_id, full.id, role="full")
    await grant(engine, account_id, limited.id, role="limited")
    return Members(account_id, owner, full, limited, outsider)
