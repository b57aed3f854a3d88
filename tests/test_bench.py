"""The benchmark harness runs end to end (``--quick``) and writes complete JSON.

Only the shape and non-zero measurements are checked: timings and ratios depend on the
machine and are never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

UPLOAD_KEYS = {"mib_s", "p50_ms", "p99_ms", "peak_rss_mib", "requests", "errors", "wall_s"}
RPS_KEYS = {"rps", "p50_ms", "p99_ms", "requests", "errors", "client"}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--keep-caches", "--output", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    files = list(out.glob("bench-quick-*.json"))
    assert len(files) == 1, done.stdout
    assert "[PASS]" in done.stdout or "[MISS]" in done.stdout  # the table was printed
    data: dict[str, Any] = json.loads(files[0].read_text())
    return data


def test_top_level_sections(result: dict[str, Any]) -> None:
    assert {"timestamp", "machine", "settings", "ceiling", "uploads", "rps", "targets"} <= set(
        result
    )
    assert result["settings"]["quick"] is True
    assert result["machine"]["cpus"] > 0


@pytest.mark.parametrize("name", ["single", "concurrent"])
def test_ceiling_measured(result: dict[str, Any], name: str) -> None:
    row = result["ceiling"][name]
    assert set(row) >= UPLOAD_KEYS
    assert row["runs_mib_s"] == [row["mib_s"]]  # --quick: one interleaved repeat
    assert row["mib_s"] > 0
    assert row["requests"] > 0
    assert row["errors"] == 0


@pytest.mark.parametrize(
    "name",
    ["multipart", "multipart_small", "base64_multipart", "base64_urlencoded", "concurrent"],
)
def test_uploads_measured(result: dict[str, Any], name: str) -> None:
    row = result["uploads"][name]
    assert set(row) >= UPLOAD_KEYS
    assert row["errors"] == 0, row["error_samples"]
    assert row["mib_s"] > 0
    assert row["p50_ms"] > 0
    assert row["p99_ms"] > 0
    assert row["peak_rss_mib"] > 0
    assert row["finalize_s"]  # every upload was finalized
    assert all(t > 0 for t in row["finalize_s"])


@pytest.mark.parametrize("name", ["raw_ping", "bare_get", "bare_post", "init", "status"])
def test_small_requests_measured(result: dict[str, Any], name: str) -> None:
    row = result["rps"][name]
    assert set(row) >= RPS_KEYS
    assert row["rps"] > 0
    assert row["requests"] > 0
    assert row["errors"] == 0
    assert row["runs_rps"] == [row["rps"]]  # --quick: one round; the median is that round


def test_every_target_reported(result: dict[str, Any]) -> None:
    targets = result["targets"]
    assert len(targets) >= 9
    for target in targets:
        assert {"target", "value", "op", "threshold", "met"} <= set(target)
        assert isinstance(target["met"], bool)
