"""A real ``mediastudio serve --workers 2``: prometheus_client's multiprocess mode sums
both server processes, so ``/metrics`` reports every request sent, whichever process
answers the scrape. Requests go on new connections until both processes have answered
some (read from each process's own sample files)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import _truncate
from tests.fixtures.protocol import upload_file
from tests.fixtures.served import BIN, Served
from tests.metrics.samples import parse

UNMATCHED = "/no-such-page"  # route="unmatched": nothing else requests it


class ServedWorkers(Served):
    def command(self) -> list[str]:
        return [str(BIN / "mediastudio"), "serve", "--port", str(self.port), "--workers", "2"]


@pytest.fixture
async def served(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[ServedWorkers]:
    # No in-process job worker: a `mediastudio worker` process runs the jobs.
    server = ServedWorkers(
        tmp_path / "data", database_url, tmp_path / "serve.log", worker__in_process="false"
    )
    (tmp_path / "data" / "metrics").mkdir(parents=True)
    (tmp_path / "data" / "metrics" / "counter_999999999.db").write_bytes(b"stale")
    server.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        await _truncate(engine)  # the users it made: the session's database is shared


def _by_process(folder: Path, scratch: Path) -> dict[str, float]:
    """Each server process's count of unmatched requests, from its own counter file."""
    counts: dict[str, float] = {}
    for path in folder.glob("counter_*.db"):
        alone = scratch / path.stem
        alone.mkdir(parents=True)
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        text = generate_latest(registry).decode()
        counts[path.stem] = parse(text).value("mediastudio_http_requests_total", route="unmatched")
    return counts


def _settled(folder: Path, scratch: Path, sent: int) -> dict[str, float]:
    """The counts once every answered request is counted: a process counts a request
    just after its answer's last byte, which the client may have read already."""
    deadline = time.monotonic() + 10
    attempt = 0
    while True:
        attempt += 1
        counts = _by_process(folder, scratch / str(attempt))
        if sum(counts.values()) >= sent or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def _get(url: str) -> int:
    return httpx.get(url, timeout=10).status_code  # a new connection each time


def test_metrics_sum_both_server_processes(served: ServedWorkers, tmp_path: Path) -> None:
    folder = served.data_dir / "metrics"
    assert not (folder / "counter_999999999.db").exists()  # a dead process's file: gone
    sent = 0
    with ThreadPoolExecutor(8) as pool:
        for _ in range(20):
            statuses = list(pool.map(_get, [served.base + UNMATCHED] * 40))
            assert set(statuses) == {404}
            sent += len(statuses)
            counts = _settled(folder, tmp_path / f"scratch{sent}", sent)
            if sum(1 for count in counts.values() if count > 0) >= 2:
                break
    assert sum(1 for count in counts.values() if count > 0) == 2, counts
    assert sum(counts.values()) == sent  # no request counted twice, none lost

    for _ in range(10):  # each scrape on a new connection: either process may answer
        response = httpx.get(served.base + "/metrics", timeout=10)
        assert response.status_code == 200
        samples = parse(response.text)
        assert samples.value("mediastudio_http_requests_total", route="unmatched") == sent
        assert samples.has("mediastudio_uploads")


async def _upload_video(base: str, headers: dict[str, str], mp4: Path) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base) as client:
        return await upload_file(
            client, headers, mp4, media_type="video/mp4", category="amplify_video"
        )


def test_a_worker_process_on_the_host_is_counted_by_serve(
    served: ServedWorkers, tmp_path: Path, mp4_file: Path
) -> None:
    headers = served.user("alice")
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [str(BIN / "mediastudio"), "worker"], env=served.env, stdout=log, stderr=log
        )
    try:
        body = asyncio.run(_upload_video(served.base, headers, mp4_file))
        assert body["processing_info"]["state"] == "pending"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the worker's own pace
            samples = parse(httpx.get(served.base + "/metrics", timeout=10).text)
            if samples.value("mediastudio_uploads", state="succeeded") == 1:
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(15)

    assert samples.value("mediastudio_uploads", state="succeeded") == 1
    processed = "mediastudio_processing_duration_seconds_count"
    assert samples.value(processed, kind="video", outcome="succeeded") == 1  # the worker's
    assert samples.value("mediastudio_jobs_queued", kind="process_media") == 0
