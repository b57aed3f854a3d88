"""Process tuning (app/infra/tuning.py) belongs to the served process, not to create_app.

Each case runs in a fresh interpreter: ``gc.freeze`` and ``mallopt`` change the whole
process, and this one's GC must stay as pytest left it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.migrate import upgrade_to_head

_PROBE = """
import asyncio, gc, json, sys
from app.config import get_settings
from app.main import create_app
from app.serve import create_served_app

async def main() -> None:
    factory = {"create_app": create_app, "create_served_app": create_served_app}[sys.argv[1]]
    app = factory(get_settings())
    before = gc.get_freeze_count()
    async with app.router.lifespan_context(app):
        during = gc.get_freeze_count()
    print(json.dumps({"before": before, "during": during}))

asyncio.run(main())
"""


def _frozen_counts(factory: str, data_dir: Path, **env: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, factory],
        env={
            **os.environ,
            "MEDIASTUDIO_DATA_DIR": str(data_dir),
            "MEDIASTUDIO_WORKER__IN_PROCESS": "false",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    counts: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return counts


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    upgrade_to_head(f"sqlite+aiosqlite:///{tmp_path / 'mediastudio.db'}")
    return tmp_path


def test_create_app_leaves_the_garbage_collector_alone(data_dir: Path) -> None:
    counts = _frozen_counts("create_app", data_dir)

    assert counts == {"before": 0, "during": 0}


def test_the_served_app_freezes_its_start_up_heap(data_dir: Path) -> None:
    counts = _frozen_counts("create_served_app", data_dir)

    assert counts["before"] == 0
    assert counts["during"] > 10_000  # the start-up heap: ~120,000 objects


def test_the_served_app_honours_tune_gc_off(data_dir: Path) -> None:
    counts = _frozen_counts("create_served_app", data_dir, MEDIASTUDIO_TUNE_GC="false")

    assert counts == {"before": 0, "during": 0}
