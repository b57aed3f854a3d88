"""``GET /metrics`` in process, on SQLite and PostgreSQL: parsed with prometheus-client's
parser, its counters and histograms move by what a real upload, a 429, a sweep and a
failed processing run did, and its database gauges are what the database holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from httpx import ASGITransport, AsyncClient
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from app.config import MetricsSettings
from app.core.clock import utcnow
from app.jobs import queue, sweeper
from app.main import create_app
from app.models import Media
from app.storage import keys
from app.storage.filesystem import FilesystemStore
from tests.conftest import Env, User, make_settings
from tests.fixtures.protocol import URL, append, finalize, init, segments
from tests.metrics.samples import Samples, parse

UPLOAD = "/1.1/media/upload.json"


async def _scrape(client: AsyncClient, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return parse(response.text)


def _moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


async def _chunked_upload(
    env: Env, user: User, data: bytes, size: int, finalized: int = 201
) -> int:
    """INIT, one APPEND per ``size`` bytes, FINALIZE; returns the APPEND count."""
    started = await init(env.client, user.headers, total_bytes=len(data), media_type="video/mp4")
    media_id = started.json()["media_id_string"]
    parts = segments(data, size)
    for index, part in enumerate(parts):
        assert (await append(env.client, user.headers, media_id, index, part)).status_code == 204
    done = await finalize(env.client, user.headers, media_id)
    assert done.status_code == finalized, done.text
    return len(parts)


async def test_a_chunked_upload_moves_requests_bytes_and_step_histograms(
    env: Env, alice: User, mp4_file: Path
) -> None:
    data = mp4_file.read_bytes()
    before = await _scrape(env.client)

    appends = await _chunked_upload(env, alice, data, 30_000)

    after = await _scrape(env.client)
    assert appends >= 2
    requests = "mediastudio_http_requests_total"
    assert _moved(before, after, requests, method="POST", route=UPLOAD) == appends + 2
    assert _moved(before, after, requests, route=UPLOAD, status="204") == appends
    assert (
        _moved(before, after, "mediastudio_http_request_duration_seconds_count", route=UPLOAD)
        == appends + 2
    )
    ingested = "mediastudio_upload_bytes_ingested_total"
    assert _moved(before, after, ingested, command="append") == len(data)
    assert _moved(before, after, "mediastudio_append_duration_seconds_count") == appends
    assert _moved(before, after, "mediastudio_finalize_duration_seconds_count") == 1
    # No media_category: FINALIZE processed the video itself.
    processed = "mediastudio_processing_duration_seconds_count"
    assert _moved(before, after, processed, kind="video", outcome="succeeded") == 1
    # The first scrape is counted once answered; the second is not counted by itself.
    assert _moved(before, after, requests, route="/metrics", status="200") == 1
    assert after.families["mediastudio_append_duration_seconds"].type == "histogram"


async def test_the_simple_upload_counts_its_bytes(env: Env, alice: User, png_file: Path) -> None:
    before = await _scrape(env.client)

    sent = await env.client.post(
        URL, files={"media": ("a.png", png_file.read_bytes(), "image/png")}, headers=alice.headers
    )

    assert sent.status_code == 200, sent.text
    after = await _scrape(env.client)
    ingested = "mediastudio_upload_bytes_ingested_total"
    assert _moved(before, after, ingested, command="simple") == png_file.stat().st_size


async def test_a_truncated_video_counts_a_processing_failure(
    env: Env, alice: User, mp4_file: Path
) -> None:
    data = mp4_file.read_bytes()
    broken = data[: len(data) // 2]
    before = await _scrape(env.client)

    await _chunked_upload(env, alice, broken, len(broken), finalized=400)  # InvalidMedia

    after = await _scrape(env.client)
    failures = "mediastudio_processing_failures_total"
    assert _moved(before, after, failures, category="InvalidMedia") == 1
    processed = "mediastudio_processing_duration_seconds_count"
    assert _moved(before, after, processed, kind="video", outcome="failed") == 1


async def test_route_labels_are_templates_and_unknown_paths_are_unmatched(env: Env) -> None:
    before = await _scrape(env.client)

    refused = await env.client.post("/2/media/upload/1234567890123/append")
    missing = await env.client.get("/no/such/page/9876543210")
    odd = await env.client.request("BREW", "/no/such/pot")

    assert refused.status_code == 401
    assert missing.status_code == 404
    assert 400 <= odd.status_code < 500
    after = await _scrape(env.client)
    requests = "mediastudio_http_requests_total"
    template = "/2/media/upload/{id}/append"
    assert _moved(before, after, requests, route=template, status="401") == 1
    assert _moved(before, after, requests, route="unmatched", method="GET", status="404") == 1
    assert _moved(before, after, requests, route="unmatched", method="other") == 1
    assert "BREW" not in after.labels(requests, "method")
    routes = after.labels(requests, "route")
    assert not [route for route in routes if "1234567890123" in route or "987654" in route]


async def test_a_429_moves_the_refusal_counter(env: Env, alice: User) -> None:
    env.state.settings.rate_limits["media/upload:INIT"] = {"user": (1, 900)}
    before = await _scrape(env.client)

    first = await init(env.client, alice.headers, total_bytes=10, media_type="image/png")
    second = await init(env.client, alice.headers, total_bytes=10, media_type="image/png")

    assert (first.status_code, second.status_code) == (202, 429)
    after = await _scrape(env.client)
    refusals = "mediastudio_rate_limit_refusals_total"
    assert _moved(before, after, refusals, endpoint="media/upload:INIT") == 1
    requests = "mediastudio_http_requests_total"
    assert _moved(before, after, requests, route=UPLOAD, status="429") == 1


async def _leftover(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_a_sweep_moves_the_reclaimed_counters(env: Env) -> None:
    store = env.state.store
    assert isinstance(store, FilesystemStore)
    await store.stage_segment(keys.media(4242), 0, _leftover(b"x" * 1000))  # never committed
    before = await _scrape(env.client)

    found = await sweeper.sweep_temp_files(
        env.state.sessions, store, now=utcnow(), older_than=timedelta(0)
    )

    after = await _scrape(env.client)
    assert found.files >= 1
    assert found.bytes >= 1000
    assert _moved(before, after, "mediastudio_sweeper_bytes_reclaimed_total") == found.bytes
    assert _moved(before, after, "mediastudio_sweeper_temp_files_removed_total") == found.files


async def test_the_gauges_are_what_the_database_holds(
    env: Env, alice: User, engine: AsyncEngine, png_file: Path
) -> None:
    await init(env.client, alice.headers, total_bytes=10, media_type="image/png")
    await init(env.client, alice.headers, total_bytes=20, media_type="image/png")
    await env.client.post(
        URL, files={"media": ("a.png", png_file.read_bytes(), "image/png")}, headers=alice.headers
    )
    now = utcnow()
    async with env.state.sessions() as session:
        queue.enqueue(
            session,
            kind="process_media",
            media_id=None,
            max_attempts=3,
            now=now - timedelta(seconds=600),
        )
        queue.enqueue(
            session,
            kind="process_media",
            media_id=None,
            max_attempts=3,
            now=now + timedelta(hours=1),
        )
        queue.enqueue(
            session,
            kind="deliver_post",
            media_id=None,
            max_attempts=3,
            now=now + timedelta(hours=1),
        )
        await session.commit()
        rows = await session.execute(select(Media.state, func.count()).group_by(Media.state))
        held = {str(state): count for state, count in rows.all()}

    after = await _scrape(env.client)

    assert held["uploading"] == 2
    for state in ("uploading", "pending", "in_progress", "succeeded", "failed"):
        assert after.value("mediastudio_uploads", state=state) == held.get(state, 0), state
    assert after.labels("mediastudio_uploads", "state") >= set(held)
    assert after.value("mediastudio_jobs_queued", kind="process_media") == 2
    assert after.value("mediastudio_jobs_queued", kind="deliver_post") == 1
    assert after.value("mediastudio_jobs_oldest_age_seconds", kind="process_media") >= 600
    assert after.value("mediastudio_jobs_oldest_age_seconds", kind="deliver_post") == 0
    assert after.families["mediastudio_uploads"].type == "gauge"


async def test_a_database_error_leaves_the_gauges_out_not_the_scrape(
    env: Env, tmp_path: Path
) -> None:
    before = await _scrape(env.client)
    broken = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/x.db")
    env.state.read_sessions = async_sessionmaker(broken)
    try:
        after = await _scrape(env.client)
    finally:
        await broken.dispose()

    assert _moved(before, after, "mediastudio_scrape_errors_total") == 1
    assert not after.has("mediastudio_uploads")
    assert not after.has("mediastudio_jobs_queued")
    assert after.has("mediastudio_http_requests_total")


@asynccontextmanager
async def _client(
    database_url: str, data_dir: Path, metrics: MetricsSettings
) -> AsyncIterator[AsyncClient]:
    app = create_app(make_settings(database_url, data_dir, metrics=metrics))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        yield client


async def test_with_a_token_only_its_bearer_gets_the_metrics(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with _client(database_url, tmp_path, MetricsSettings(token="s3cret")) as client:
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        scheme = await client.get("/metrics", headers={"Authorization": "Basic s3cret"})
        scraped = await _scrape(client, Authorization="Bearer s3cret")

    for refused in (anonymous, wrong, scheme):
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["code"] == 32
    assert scraped.has("mediastudio_uploads")


async def test_disabled_it_is_404_and_counts_nothing(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with _client(database_url, tmp_path / "on", MetricsSettings()) as client:
        before = await _scrape(client)
    async with _client(database_url, tmp_path / "off", MetricsSettings(enabled=False)) as client:
        response = await client.get("/metrics")
        await client.get("/healthz")
    async with _client(database_url, tmp_path / "on", MetricsSettings()) as client:
        after = await _scrape(client)

    assert response.status_code == 404
    assert _moved(before, after, "mediastudio_http_requests_total", route="/healthz") == 0


async def test_sweeping_expired_uploads_moves_the_media_removed_counter(
    env: Env, alice: User
) -> None:
    for size in (10, 20):
        await init(env.client, alice.headers, total_bytes=size, media_type="image/png")
    before = await _scrape(env.client)

    removed = await sweeper.sweep_once(
        env.state.sessions, env.state.store, now=utcnow() + timedelta(days=30)
    )

    after = await _scrape(env.client)
    assert removed == 2
    assert _moved(before, after, "mediastudio_sweeper_media_removed_total") == 2
    assert _moved(before, after, "mediastudio_uploads", state="uploading") == -2
