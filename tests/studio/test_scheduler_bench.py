"""``bench/scheduler.py`` runs end to end with a tiny N and writes complete JSON (the
figures themselves depend on the machine and are never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.slow

KEYS = {
    "database", "posts", "workers", "published", "statuses", "lag_p50_s", "lag_p99_s",
    "lag_max_s", "all_within_60s", "wall_s", "first_publish_s", "publish_span_s",
    "publish_rate_per_s",
}  # fmt: skip


def test_the_scheduler_bench_publishes_every_post_and_reports_the_lag(tmp_path: Path) -> None:
    output = tmp_path / "scheduler.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.scheduler", "--posts", "40", "--seconds", "1",
         "--lead", "2", "--database", "sqlite", "--output", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "[PASS]" in done.stdout or "[MISS]" in done.stdout
    result = json.loads(output.read_text())
    (run,) = result["runs"]
    assert set(run) >= KEYS
    assert run["published"] == 40
    assert run["statuses"] == {"SUCCESS": 40}
    assert 0 <= run["lag_p50_s"] <= run["lag_p99_s"] <= run["lag_max_s"]
    assert isinstance(run["all_within_60s"], bool)
    assert result["machine"]["cpus"] > 0
