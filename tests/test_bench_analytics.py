"""The analytics benchmark runs end to end on tiny numbers and writes complete JSON.

Only the shape and the no-loss check are asserted: timings depend on the machine and are
never asserted.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_SERVER_URL, _postgres_reachable

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_the_analytics_bench_runs_and_loses_no_event(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bench.run", "analytics", "--quick", "--seconds", "1",
               "--pg-server-url", PG_SERVER_URL, "--output", str(tmp_path),
               "--db", "sqlite"]  # fmt: skip
    if asyncio.run(_postgres_reachable(PG_SERVER_URL)):
        command += ["--db", "postgresql"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    [path] = list(tmp_path.glob("analytics-quick-*.json"))
    result = json.loads(path.read_text())
    assert result["runs"]
    for run in result["runs"]:
        ingest = run["ingest"]
        assert ingest["events_sent"] > 0
        assert ingest["errors"] == 0
        assert ingest["no_event_lost"] is True
        assert set(run["queries"]) == {
            "v2_media_analytics_90d_daily", "v2_media_analytics_90d_total",
            "studio_report_90d_day", "ads_stats_7d_hour", "ads_stats_7d_day",
        }  # fmt: skip
        assert all(row["errors"] == 0 for row in run["queries"].values())
