"""schemathesis over the served OpenAPI spec, against a live uvicorn over a real socket.

Every operation of ``/openapi.json`` is called with generated requests, authenticated as
a user this test creates (a bearer token: OAuth 1.0a is not needed to reach the routes).
The checks and the bounds (cases per operation, phases) are in ``schemathesis.toml`` at
the repository's root. On top of those, each operation's cases stop being sent after
``PER_OPERATION_SECONDS`` and the whole run after ``MAX_SECONDS`` (the coverage phase
alone makes ~500 cases for the upload form): about 1,200 requests over the 39
operations, ~2 minutes on a 2-core machine. SQLite only: this test is about the spec and
the HTTP layer, which do not depend on the database.

Zero server errors, zero responses outside their declared status, headers, content type
or schema, zero requests valid by the spec refused and zero invalid ones accepted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.fixtures.live import PortTaken, free_port, wait_until_serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MAX_SECONDS = 240.0
# Each operation's cases stop once they have run this long, so one slow route (images
# processed at the simple upload) cannot spend the others' share.
PER_OPERATION_SECONDS = 1.5
# Generated file parts stay small: the upload routes take up to 5 MiB a segment, the
# generator need not send that much to exercise them.
MAX_PART_BYTES = 64 * 1024
# Generated requests come fast: the run must meet the routes, not their rate limits.
_UNLIMITED = [1_000_000, 900]
RATE_LIMITS = {
    name: {"user": _UNLIMITED, "app": _UNLIMITED}
    for name in (
        "media/upload:INIT", "media/upload:APPEND", "media/upload:FINALIZE",
        "media/upload:STATUS", "media/upload", "media:initialize", "media:append",
        "media:finalize", "media:status", "media:upload", "media/metadata", "media/subtitles",
        "tweets:create", "tweets:delete", "statuses/update", "dm:create",
    )
}  # fmt: skip


@dataclass
class Live:
    base: str
    headers: dict[str, str]
    deadline: float
    started: dict[str, float] = field(default_factory=dict)


def _start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    for _ in range(5):  # another run on this machine may take the port first
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        args = [str(BIN / "uvicorn"), "app.main:create_app", "--factory", "--no-proxy-headers"]
        args += ["--host", "127.0.0.1", "--port", str(port), "--timeout-graceful-shutdown", "3"]
        with log.open("wb") as out:
            process = subprocess.Popen(args, env=env, stdout=out, stderr=out)

        def healthy(base: str = base) -> bool:
            try:
                return httpx.get(base + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_until_serving(process, log, healthy)
        except PortTaken:
            continue
        except RuntimeError:
            process.terminate()
            process.wait(15)
            raise
        return process, base
    raise RuntimeError("no free port after 5 tries")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("schemathesis")
    env = {
        **os.environ,
        "MEDIASTUDIO_DATA_DIR": str(data_dir / "data"),
        "MEDIASTUDIO_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'db.sqlite'}",
        "MEDIASTUDIO_WORKER__IN_PROCESS": "false",
        "MEDIASTUDIO_RATE_LIMITS": json.dumps(RATE_LIMITS),
    }
    subprocess.run([str(BIN / "mediastudio"), "migrate"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [str(BIN / "mediastudio"), "users", "create", "fuzzer", "--json"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    token = json.loads(created.stdout)["bearer_token"]
    process, base = _start(env, data_dir / "server.log")
    try:
        yield Live(
            base=base,
            headers={"Authorization": f"Bearer {token}"},
            deadline=time.monotonic() + MAX_SECONDS,
        )
    finally:
        process.terminate()
        process.wait(15)


def _small(value: Any) -> Any:
    if isinstance(value, bytes | str) and len(value) > MAX_PART_BYTES:
        return value[:MAX_PART_BYTES]
    return value


@pytest.fixture(scope="module")
def served_spec(live: Live) -> OpenApiSchema:
    config = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
    loaded = schemathesis.openapi.from_url(f"{live.base}/openapi.json", config=config)

    @loaded.hook
    def map_body(context: Any, body: Any) -> Any:
        if isinstance(body, dict):
            return {key: _small(value) for key, value in body.items()}
        return _small(body)

    return loaded


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32.5 reads and rewrites ``node._nodeid``, which pytest 9 renamed;
    without it the parametrized test fails before its first case."""
    request.node._nodeid = request.node.nodeid


spec = schemathesis.pytest.from_fixture("served_spec")


@spec.parametrize()
def test_served_spec_holds_for_generated_requests(case: Any, live: Live) -> None:
    now = time.monotonic()
    started = live.started.setdefault(case.operation.label, now)
    if now > live.deadline or now - started > PER_OPERATION_SECONDS:
        return  # the time budget is spent: the remaining cases are not sent
    case.call_and_validate(base_url=live.base, headers=live.headers)
