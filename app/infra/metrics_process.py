"""prometheus_client's multiprocess mode for the CLI's processes.

``mediastudio serve`` and ``mediastudio worker`` call ``use_multiprocess_dir`` before
anything imports prometheus_client. It sets ``PROMETHEUS_MULTIPROC_DIR`` (the
environment's value if set, else ``DATA_DIR/metrics``), which every process they start
inherits (uvicorn's ``--workers``, ``worker --processes``), so ``/metrics`` sums the
samples of all of them, whichever process answers. ``serve`` first removes the files of
processes that no longer run: their counters restart from zero (Prometheus reads a
reset); the files of running ``worker`` processes on the host stay. This module imports
prometheus_client only in ``mark_dead``: importing it earlier would fix the mode.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path

__all__ = ["ENV", "mark_dead", "use_multiprocess_dir"]

ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus_client's files: counter_1234.db, histogram_1234.db, gauge_livesum_1234.db.
_PID = re.compile(r"_(\d+)\.db$")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def use_multiprocess_dir(data_dir: Path, *, clean: bool) -> Path | None:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` for this process and its children; with
    ``clean``, remove the files of processes that are gone. Returns the folder, or None
    when this process imported prometheus_client already in single-process mode, or
    when the folder cannot be made (each process then reports its own metrics)."""
    if ENV not in os.environ and "prometheus_client" in sys.modules:
        return None
    folder = Path(os.environ.get(ENV) or data_dir / "metrics")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # unwritable: each process its own metrics; start-up says why elsewhere
    os.environ[ENV] = str(folder)
    if clean:
        for path in folder.glob("*.db"):
            found = _PID.search(path.name)
            if found is None or not _running(int(found.group(1))):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
    return folder


def mark_dead(pid: int | None = None) -> None:
    """At a process's exit, in multiprocess mode: its live gauges leave ``/metrics``."""
    if not os.environ.get(ENV):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]
