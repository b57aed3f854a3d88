"""Shared analytics fixtures (in-process ``env``, both databases).

``analytics``: the studio of tests/studio/conftest.py (alice admin/owner, a full, a
limited member, an outsider) plus one real 20-second video that alice uploaded, posted
(so it is publicly delivered) and added to the account's library::

    async def test_x(analytics: Analytics) -> None:
        sent = await analytics.send([analytics.event(0, "start", ts_ms=...)])
        assert sent.status_code == 202
        await analytics.roll_up()

``analytics.send(events)`` posts ``{"events": [...]}`` to ``/studio/v1/playback/events``
with no credentials, as a player does; ``analytics.roll_up()`` runs the rollup until no
event is pending (what a worker does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.analytics.rollup import roll_up_once
from tests.conftest import Env
from tests.fixtures import media
from tests.fixtures.entities import post_status, processed
from tests.studio.conftest import Studio, make_studio, studio_photo

__fixtures__ = (studio_photo,)  # the photo fixture, shared with tests/studio

__all__ = ["EVENTS_URL", "Analytics", "make_analytics"]

EVENTS_URL = "/studio/v1/playback/events"
VIDEO_SECONDS = 20


@dataclass
class Analytics:
    studio: Studio
    video_key: str  # 7_<id>: posted by alice, in the library
    video_id: int
    post_id: str
    duration_ms: int

    @property
    def env(self) -> Env:
        return self.studio.env

    def event(
        self,
        seq: int,
        type: str,
        *,
        ts_ms: int,
        session_id: str = "session-1",
        media_key: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            "media_key": media_key or self.video_key,
            "session_id": session_id,
            "seq": seq,
            "type": type,
            "ts": ts_ms,
            **extra,
        }

    async def send(self, events: list[dict[str, Any]], **headers: str) -> Response:
        return await self.env.client.post(EVENTS_URL, json={"events": events}, headers=headers)

    async def roll_up(self, *, now_ms: int | None = None) -> int:
        """Runs the rollup until nothing is pending; the events counted."""
        total = 0
        while counted := await roll_up_once(
            self.env.state.sessions, self.env.state.settings.analytics, now_ms=now_ms
        ):
            total += counted
        return total


async def make_analytics(env: Env, engine: AsyncEngine, photo: Path, video: Path) -> Analytics:
    studio = await make_studio(env, engine, photo)
    body = await processed(
        env, studio.admin.headers, video, media_type="video/mp4", category="tweet_video"
    )
    media_id = str(body["media_id_string"])
    posted = await post_status(env.client, studio.admin.headers, "watch this", [media_id])
    assert posted.status_code == 200, posted.text
    key = f"7_{media_id}"
    added = await studio.call("POST", "media_library", studio.admin, media_key=key)
    assert added.status_code in (200, 201), added.text
    return Analytics(studio, key, int(media_id), str(posted.json()["id_str"]), VIDEO_SECONDS * 1000)


@pytest.fixture(scope="session")
def analytics_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return media.make_clip(
        tmp_path_factory.mktemp("analytics") / "talk.mp4",
        size="160x120",
        rate=10,
        seconds=VIDEO_SECONDS,
    )


@pytest.fixture
async def analytics(
    env: Env, engine: AsyncEngine, studio_photo: Path, analytics_video: Path
) -> Analytics:
    return await make_analytics(env, engine, studio_photo, analytics_video)
