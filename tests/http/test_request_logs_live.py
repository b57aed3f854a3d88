"""The log lines of real servers and workers (subprocesses, output captured), on each
database: JSON lines with the request id, refusals with their reasons, the text format,
the level, both worker processes of ``serve --workers 2``, and ``mediastudio worker``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.accounts.service import IssuedCredentials
from app.core.clock import utcnow
from app.infra.db import make_sessionmaker
from app.infra.logcontext import RequestInfo, current_request
from app.jobs import queue as jobs
from tests.conftest import _truncate
from tests.fixtures.oauth import URLENCODED, oauth_header
from tests.fixtures.protocol import URL
from tests.fixtures.served import Served

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
MADE_ID = re.compile(r"[0-9a-f]{32}")
INIT = {"command": "INIT", "total_bytes": "1000", "media_type": "image/png"}


class Cli(Served):
    """``mediastudio serve`` with options, instead of uvicorn."""

    def __init__(self, data_dir: Path, database_url: str, *options: str) -> None:
        super().__init__(
            data_dir, database_url, data_dir.parent / "server.log", worker__in_process="false"
        )
        self.options = options

    def command(self) -> list[str]:
        return [str(BIN / "mediastudio"), "serve", "--port", str(self.port), *self.options]


class Quiet(Cli):
    """At ``--log-level warning`` uvicorn's "running on" line is not logged: started is
    when the health check answers with a request id (another server on the port would
    not be this service)."""

    def _start_once(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command(), env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # another process: poll it
            assert self.process.poll() is None, self.log.read_text()
            try:
                answer = httpx.get(self.base + "/healthz", timeout=1)
                if answer.status_code == 200 and "x-request-id" in answer.headers:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")


def _credentials(served: Served, name: str) -> IssuedCredentials:
    out = subprocess.run(
        [str(BIN / "mediastudio"), "users", "create", name, "--json"],
        env=served.env, check=True, capture_output=True,
    )  # fmt: skip
    return IssuedCredentials(**json.loads(out.stdout))


def _json_lines(log: Path) -> list[dict[str, Any]]:
    """Every line from the first JSON one on (import-time warnings may precede it)."""
    text = log.read_text().splitlines()
    first = next(i for i, line in enumerate(text) if line.startswith("{"))
    return [json.loads(line) for line in text[first:]]  # each must parse


def _of(lines: list[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("request_id") == request_id]


@pytest.fixture
async def clean(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    await _truncate(engine)


@pytest.fixture
async def served(database_url: str, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Served]:
    server = Served(
        tmp_path / "data", database_url, tmp_path / "server.log",
        worker__in_process="false", rate_limits='{"media/upload:STATUS": {"user": [1, 900]}}',
    )  # fmt: skip
    server.start()
    yield server
    server.stop()
    await _truncate(engine)


def test_every_line_of_a_request_is_json_with_its_request_id(served: Served) -> None:
    alice = _credentials(served, "alice")
    bearer = {"Authorization": f"Bearer {alice.bearer_token}"}
    with httpx.Client(base_url=served.base, timeout=30) as client:
        kept = client.post(URL, data=INIT, headers={**bearer, "X-Request-ID": "abc-123"})
        made = client.get("/healthz")
        replaced = client.get("/healthz", headers={"X-Request-ID": "no spaces; please"})
        client.get("/healthz", params={"secret": "q-s3cret"}, headers={"X-Request-ID": "query"})
    served.stop()
    lines = _json_lines(served.log)

    assert (kept.status_code, kept.headers["x-request-id"]) == (202, "abc-123")
    request_lines = _of(lines, "abc-123")
    assert request_lines
    for line in request_lines:
        assert TIMESTAMP.fullmatch(line["timestamp"])
        assert line["level"] in ("debug", "info", "warning", "error")
        assert line["logger"].startswith("app.")
    (access,) = [line for line in request_lines if line["logger"] == "app.http.access"]
    assert access["route"] == "/1.1/media/upload.json"
    assert (access["method"], access["status"], access["user_id"]) == ("POST", 202, alice.user_id)
    assert access["duration_ms"] >= 0
    assert access["client"] == "127.0.0.1"
    for answer in (made, replaced):
        request_id = answer.headers["x-request-id"]
        assert MADE_ID.fullmatch(request_id)
        assert [line["route"] for line in _of(lines, request_id)] == ["/healthz"]
    (query,) = _of(lines, "query")
    assert query["path"] == "/healthz"
    text = served.log.read_text()
    assert "uvicorn.access" not in text  # uvicorn's own access lines are off
    for secret in (alice.bearer_token, "q-s3cret", "secret="):
        assert secret not in text


def test_refusals_log_their_reason_with_the_request_id(served: Served) -> None:
    alice = _credentials(served, "alice")
    bearer = {"Authorization": f"Bearer {alice.bearer_token}"}
    form = "command=INIT&total_bytes=1000&media_type=image%2Fpng"
    forged = oauth_header(
        replace(alice, consumer_secret="not-the-secret"), "POST", served.base + URL, form=form
    )
    status = {"command": "STATUS", "media_id": "1"}
    with httpx.Client(base_url=served.base, timeout=30) as client:
        bad_signature = client.post(
            URL, content=form, headers={**URLENCODED, **forged, "X-Request-ID": "bad-sig"}
        )
        client.get(URL, params=status, headers={**bearer, "X-Request-ID": "limit-1"})
        limited = client.get(URL, params=status, headers={**bearer, "X-Request-ID": "limit-2"})
        bad_type = {**INIT, "media_type": "text/plain"}
        broken = client.post(URL, data=bad_type, headers={**bearer, "X-Request-ID": "rule"})
    served.stop()
    lines = _json_lines(served.log)

    assert (bad_signature.status_code, limited.status_code, broken.status_code) == (401, 429, 400)
    assert {
        "message": "oauth refused",
        "reason": "signature mismatch",
        "level": "warning",
    }.items() <= next(
        line for line in _of(lines, "bad-sig") if line["message"] == "oauth refused"
    ).items()
    (rate,) = [line for line in _of(lines, "limit-2") if line["message"] == "rate limited"]
    assert (rate["endpoint"], rate["subject"], rate["limit"]) == ("media/upload:STATUS", "user", 1)
    assert rate["window_secs"] == 900
    (rule,) = [line for line in _of(lines, "rule") if line["logger"] == "app.http.errors"]
    assert (rule["status"], rule["error_code"], rule["error_type"]) == (
        400, None, "MediaTypeUnrecognized"
    )  # fmt: skip
    assert rule["error"] == broken.json()["error"]
    assert forged["Authorization"] not in served.log.read_text()


def test_text_lines_from_both_processes_of_serve_workers_2(
    database_url: str, clean: None, tmp_path: Path
) -> None:
    server = Cli(tmp_path / "data", database_url, "--workers", "2", "--log-format", "text")
    server.start()
    try:
        answer = httpx.get(server.base + "/healthz", headers={"X-Request-ID": "text-1"}, timeout=30)
    finally:
        server.stop()
    text = server.log.read_text().splitlines()
    logged = [line for line in text if TIMESTAMP.match(line)]

    assert answer.headers["x-request-id"] == "text-1"
    assert logged
    assert not [line for line in logged if line.startswith("{")]
    started = {
        m[1] for line in logged if (m := re.search(r"Started server process \[(\d+)\]", line))
    }
    assert len(started) == 2  # each worker process logs through the same configuration
    (access,) = [line for line in logged if "request_id=text-1" in line]
    assert " app.http.access GET /healthz 200 " in access
    assert "route=/healthz" in access
    assert "status=200" in access


def test_log_level_warning_drops_the_access_lines(
    database_url: str, clean: None, tmp_path: Path
) -> None:
    server = Quiet(tmp_path / "data", database_url, "--log-level", "WARNING")
    server.start()
    try:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            ok = client.get("/healthz", headers={"X-Request-ID": "quiet"})
            refused = client.get(
                URL, params={"command": "STATUS", "media_id": "1"},
                headers={"Authorization": "Bearer nope", "X-Request-ID": "loud"},
            )  # fmt: skip
    finally:
        server.stop()
    lines = _json_lines(server.log)

    assert (ok.status_code, refused.status_code) == (200, 401)
    assert not _of(lines, "quiet")
    assert {line["level"] for line in lines} <= {"warning", "error", "critical"}
    assert [line["message"] for line in _of(lines, "loud")] == ["bearer refused"]


@pytest.fixture
async def unknown_job(engine: AsyncEngine) -> AsyncIterator[None]:
    """A queued job of a kind no handler knows (the runner logs it and fails it), queued
    as a request would: in its log context."""
    token = current_request.set(RequestInfo("queued-by-1"))
    try:
        async with make_sessionmaker(engine)() as session:
            jobs.enqueue(session, kind="no-such-kind", media_id=None, max_attempts=1, now=utcnow())
            await session.commit()
    finally:
        current_request.reset(token)
    yield
    await _truncate(engine)


def test_worker_lines_have_timestamps(database_url: str, unknown_job: None, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    env = {
        **Served(tmp_path / "data", database_url, log).env,
        "MEDIASTUDIO_WORKER__POLL_INTERVAL_SECS": "0.2",
    }
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [str(BIN / "mediastudio"), "worker"], env=env, stderr=out, stdout=out
        )
    try:
        deadline = time.monotonic() + 60
        while b"job kind unknown" not in log.read_bytes():  # another process: poll its output
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(15)
    lines = _json_lines(log)

    (unknown,) = [line for line in lines if line["message"] == "job kind unknown"]
    assert TIMESTAMP.fullmatch(unknown["timestamp"])
    assert (unknown["level"], unknown["logger"], unknown["kind"]) == (
        "error",
        "app.jobs.runner",
        "no-such-kind",
    )
    assert unknown["request_id"] == "queued-by-1"  # the request that queued the job
    assert all(TIMESTAMP.fullmatch(line["timestamp"]) for line in lines)
