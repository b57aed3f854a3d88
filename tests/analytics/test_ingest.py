"""POST /studio/v1/playback/events: what is stored, what is refused and why."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.analytics.ingest import PlaybackIngest
from app.infra.db import make_sessionmaker
from app.models import Media
from app.models.analytics import PlaybackEvent
from tests.analytics.conftest import EVENTS_URL, Analytics
from tests.fixtures.served import Served
from tests.studio.conftest import ads_error


def now_ms() -> int:
    return int(time.time() * 1000)


async def stored(engine: AsyncEngine) -> list[tuple[str, int, str, int | None]]:
    async with make_sessionmaker(engine)() as session:
        rows = await session.execute(
            select(
                PlaybackEvent.session_id,
                PlaybackEvent.seq,
                PlaybackEvent.type,
                PlaybackEvent.position_ms,
            ).order_by(PlaybackEvent.session_id, PlaybackEvent.seq)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_events_are_stored_once_per_session_and_seq(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    t = now_ms()
    first = await analytics.send(
        [
            analytics.event(0, "start", ts_ms=t, position_ms=0),
            analytics.event(1, "progress", ts_ms=t + 1000, position_ms=1000),
            analytics.event(1, "progress", ts_ms=t + 9000, position_ms=9000),  # duplicate
        ]
    )
    assert first.status_code == 202, first.text
    assert first.json()["data"] == {"accepted": 3, "rejected": []}
    assert first.headers["access-control-allow-origin"] == "*"
    again = await analytics.send([analytics.event(0, "start", ts_ms=t, position_ms=0)])
    assert again.status_code == 202
    assert await stored(engine) == [
        ("session-1", 0, "start", 0),
        ("session-1", 1, "progress", 1000),
    ]


async def test_text_plain_is_read_as_json_as_sendbeacon_sends_it(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    body = json.dumps({"events": [analytics.event(0, "start", ts_ms=now_ms())]})
    response = await analytics.env.client.post(
        EVENTS_URL, content=body, headers={"content-type": "text/plain;charset=UTF-8"}
    )
    assert response.status_code == 202, response.text
    assert len(await stored(engine)) == 1


async def test_media_that_is_not_publicly_delivered_takes_no_events(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    t = now_ms()
    photo_key = analytics.studio.media_key  # in the library, never posted
    response = await analytics.send(
        [
            analytics.event(0, "start", ts_ms=t, media_key=photo_key),
            analytics.event(1, "start", ts_ms=t, media_key="7_999999"),
            analytics.event(2, "start", ts_ms=t),
        ]
    )
    assert response.json()["data"] == {
        "accepted": 1,
        "rejected": [
            {"index": 0, "reason": "media_not_available"},
            {"index": 1, "reason": "media_not_available"},
        ],
    }
    assert [row[1] for row in await stored(engine)] == [2]
    # Removed from the library (after the cache's few seconds): refused too.
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(
            update(Media).where(Media.id == analytics.video_id).values(removed_at=Media.created_at)
        )
    ingest = analytics.env.state.playback
    assert isinstance(ingest, PlaybackIngest)
    ingest.availability._known.clear()  # the cache's time-to-live passing
    response = await analytics.send([analytics.event(3, "start", ts_ms=t)])
    assert response.json()["data"]["rejected"] == [{"index": 0, "reason": "media_not_available"}]


async def test_late_and_future_events(analytics: Analytics, engine: AsyncEngine) -> None:
    t = now_ms()
    day = 24 * 3_600_000
    response = await analytics.send(
        [
            analytics.event(0, "start", ts_ms=t - day + 60_000),  # 23 h 59 min late: counted
            analytics.event(1, "progress", ts_ms=t - day - 60_000, position_ms=1),
            analytics.event(2, "progress", ts_ms=t + 3_600_000, position_ms=2),
        ]
    )
    assert response.json()["data"] == {
        "accepted": 1,
        "rejected": [{"index": 1, "reason": "too_late"}, {"index": 2, "reason": "in_the_future"}],
    }


BAD_BATCHES = [
    ({}, "MISSING_PARAMETER", "events"),
    ({"events": []}, "INVALID_PARAMETER", "events"),
    ({"events": "x"}, "INVALID_PARAMETER", "events"),
    ({"events": [1]}, "INVALID_PARAMETER", "events[0]"),
    ({"events": [{"session_id": "session-1", "seq": 0, "type": "start", "ts": 1}]},
     "MISSING_PARAMETER", "events[0].media_key"),
    ({"events": [{"media_key": "7_1", "session_id": "short", "seq": 0, "type": "start", "ts": 1}]},
     "INVALID_PARAMETER", "events[0].session_id"),
    ({"events": [{"media_key": "7_1", "session_id": "session-1", "seq": -1, "type": "start",
                  "ts": 1}]}, "INVALID_PARAMETER", "events[0].seq"),
    ({"events": [{"media_key": "7_1", "session_id": "session-1", "seq": 1.5, "type": "start",
                  "ts": 1}]}, "INVALID_PARAMETER", "events[0].seq"),
    ({"events": [{"media_key": "7_1", "session_id": "session-1", "seq": 0, "type": "seek",
                  "ts": 1}]}, "INVALID_PARAMETER", "events[0].type"),
    ({"events": [{"media_key": "7_1", "session_id": "session-1", "seq": 0, "type": "progress",
                  "ts": 1}]}, "MISSING_PARAMETER", "events[0].position_ms"),
    ({"events": [{"media_key": "7_1", "session_id": "session-1", "seq": 0, "type": "quartile",
                  "ts": 1, "quartile": 30}]}, "INVALID_PARAMETER", "events[0].quartile"),
    ({"events": [{"media_key": "7_1", "session_id": "session-1", "seq": 0, "type": "cta_click",
                  "ts": 1}]}, "MISSING_PARAMETER", "events[0].cta"),
    ({"events": [{"media_key": "7_1", "session_id": "session-1", "seq": 0, "type": "cta_click",
                  "ts": 1, "cta": "buy"}]}, "INVALID_PARAMETER", "events[0].cta"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "code", "parameter"), BAD_BATCHES)
async def test_a_malformed_batch_is_refused_whole(
    analytics: Analytics, engine: AsyncEngine, body: dict[str, object], code: str, parameter: str
) -> None:
    response = await analytics.env.client.post(EVENTS_URL, json=body)
    status, got, _ = ads_error(response)
    assert (status, got) == (400, code), response.text
    assert response.json()["errors"][0]["parameter"] == parameter
    assert await stored(engine) == []


async def test_more_than_100_events_and_bodies_that_are_not_json(analytics: Analytics) -> None:
    events = [analytics.event(i, "progress", ts_ms=now_ms(), position_ms=i) for i in range(101)]
    status, code, _ = ads_error(await analytics.send(events))
    assert (status, code) == (400, "INVALID_PARAMETER")
    response = await analytics.env.client.post(EVENTS_URL, content=b"{not json")
    assert response.status_code == 400
    response = await analytics.env.client.post(EVENTS_URL, content=b"x" * (65 * 1024))
    assert response.status_code == 413


async def test_rate_limits_per_session_and_per_address(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    state = analytics.env.state
    limited = state.settings.analytics.model_copy(
        update={"session_events_per_minute": 3, "address_events_per_minute": 5}
    )
    state.playback = PlaybackIngest(state.sessions, state.read_sessions, limited)
    t = now_ms()
    response = await analytics.send(
        [analytics.event(i, "progress", ts_ms=t, position_ms=i) for i in range(4)]
    )
    assert response.json()["data"] == {
        "accepted": 3,
        "rejected": [{"index": 3, "reason": "session_rate_limited"}],
    }
    response = await analytics.send(
        [analytics.event(i, "start", ts_ms=t, session_id="session-2") for i in range(2)]
    )
    status, code, _ = ads_error(response)
    assert (status, code) == (429, "TOO_MANY_REQUESTS")
    assert int(response.headers["retry-after"]) >= 1
    assert len(await stored(engine)) == 3


async def test_concurrent_requests_share_writes(analytics: Analytics, engine: AsyncEngine) -> None:
    t = now_ms()
    batches = [
        [analytics.event(i, "progress", ts_ms=t, position_ms=i, session_id=f"session-c{n:02}")
         for i in range(10)]
        for n in range(40)
    ]  # fmt: skip
    ingest = analytics.env.state.playback
    before = ingest.writer.writes if ingest is not None else 0
    answers = await asyncio.gather(*(analytics.send(batch) for batch in batches))
    assert {a.status_code for a in answers} == {202}
    assert len(await stored(engine)) == 400
    ingest = analytics.env.state.playback
    assert ingest is not None
    assert ingest.writer.writes - before < 40


async def test_cors_preflight(analytics: Analytics) -> None:
    response = await analytics.env.client.options(
        EVENTS_URL,
        headers={"origin": "https://player.example", "access-control-request-method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "content-type" in response.headers["access-control-allow-headers"]


def test_over_a_socket_with_uvicorn(
    analytics: Analytics, engine: AsyncEngine, tmp_path: Path
) -> None:
    """A real server in its own process, the body as text/plain (sendBeacon)."""
    served = Served(tmp_path / "served", analytics.env.database_url, tmp_path / "served.log")
    served.start()
    try:
        body = json.dumps({"events": [analytics.event(0, "start", ts_ms=now_ms())]})
        response = httpx.post(
            served.base + EVENTS_URL, content=body, headers={"content-type": "text/plain"}
        )
        assert response.status_code == 202, response.text
        assert response.json()["data"]["accepted"] == 1
    finally:
        served.stop()
    assert len(asyncio.run(stored(engine))) == 1
