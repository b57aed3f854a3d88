"""The library list benchmark runs end to end on a tiny library and writes complete JSON.

Only the shape, the page sizes and the clean-up are checked: timings depend on the
machine and are never asserted.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bench.library import CASES, FLOORS
from tests.conftest import PG_SERVER_URL, _postgres_reachable

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

ITEMS = 300
REQUESTS = 4


@pytest.fixture(scope="module")
def databases() -> list[str]:
    names = ["sqlite"]
    if asyncio.run(_postgres_reachable(PG_SERVER_URL)):
        names.append("postgresql")
    return names


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory, databases: list[str]) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench-library")
    command = [sys.executable, "-m", "bench.run", "library", "--quick", "--items", str(ITEMS),
               "--requests", str(REQUESTS), "--warmup", "1", "--deep-page", "5",
               "--pg-server-url", PG_SERVER_URL, "--output", str(out)]  # fmt: skip
    for name in databases:
        command += ["--db", name]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    files = list(out.glob("library-quick-*.json"))
    assert len(files) == 1, done.stdout
    assert "[PASS]" in done.stdout or "[MISS]" in done.stdout  # the table was printed
    data: dict[str, Any] = json.loads(files[0].read_text())
    return data


def test_every_database_ran(result: dict[str, Any], databases: list[str]) -> None:
    assert list(result["databases"]) == databases
    for run in result["databases"].values():
        assert run["items"] == ITEMS
        assert sum(run["by_type"].values()) == ITEMS
        assert run["term_rows"] > ITEMS  # every item has words
        assert run["deep_page"] == 5


def test_every_case_measured(result: dict[str, Any]) -> None:
    for run in result["databases"].values():
        for name in (*CASES, *FLOORS):
            row = run["cases"][name]
            assert row["requests"] == REQUESTS, name
            assert row["errors"] == 0, name
            assert row["p50_ms"] > 0
            assert row["p99_ms"] >= row["p50_ms"]
            assert row["server_cpu_ms"] >= 0, name
        # The server's own processes were measured (each reading is in clock ticks, so a
        # single case of a few requests may read 0).
        assert sum(run["cases"][name]["server_cpu_ms"] for name in CASES) > 0
        assert run["cases"]["cursor_walk"]["requests"] == 4  # pages 1-4, then page 5 timed


def test_pages_hold_what_was_seeded(result: dict[str, Any]) -> None:
    """Each case's page has as many items as the seeded library holds for it."""
    for run in result["databases"].values():
        for name, expected in run["expected_items"].items():
            assert run["cases"][name]["items_per_page"] == expected, name
        common, rare = run["terms"]["common"], run["terms"]["rare"]
        assert common[1] > rare[1] > 0


def test_scratch_postgres_dropped(result: dict[str, Any]) -> None:
    run = result["databases"].get("postgresql")
    if run is None:
        pytest.skip("PostgreSQL not running")

    async def exists(name: str) -> bool:
        conn = await asyncpg.connect(PG_SERVER_URL.replace("+asyncpg", ""))
        try:
            return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
        finally:
            await conn.close()

    assert run["database_name"].startswith("mediastudio_bench_")
    assert not asyncio.run(exists(run["database_name"]))


def test_every_target_reported(result: dict[str, Any]) -> None:
    targets = result["targets"]
    assert len(targets) == len(CASES) * len(result["databases"])
    for target in targets:
        assert {"target", "value", "op", "threshold", "met"} <= set(target)
        assert isinstance(target["met"], bool)
