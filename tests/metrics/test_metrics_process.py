"""``use_multiprocess_dir``: the folder ``serve`` and ``worker`` hand their processes,
emptied by ``serve`` of the files of processes that are gone, never of running ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.infra.metrics_process import ENV, use_multiprocess_dir


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_serve_removes_the_files_of_gone_processes_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    monkeypatch.setenv(ENV, str(folder))
    running = [folder / f"counter_{os.getpid()}.db", folder / f"histogram_{os.getppid()}.db"]
    gone = [folder / f"counter_{_dead_pid()}.db", folder / "gauge_livesum_x.db"]
    for path in running + gone:
        path.write_bytes(b"")

    assert use_multiprocess_dir(tmp_path / "data", clean=False) == folder
    assert all(path.exists() for path in running + gone)  # worker: removes nothing
    assert use_multiprocess_dir(tmp_path / "data", clean=True) == folder

    assert sorted(folder.iterdir()) == sorted(running)


def test_without_the_environment_it_is_a_folder_of_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = (
        "import os, sys; from pathlib import Path;"
        "from app.infra.metrics_process import use_multiprocess_dir;"
        "print(use_multiprocess_dir(Path(sys.argv[1]), clean=True), os.environ['" + ENV + "'])"
    )
    monkeypatch.delenv(ENV, raising=False)
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "data")],
        check=True, capture_output=True, text=True,
    )  # fmt: skip

    folder = str(tmp_path / "data" / "metrics")
    assert out.stdout.split() == [folder, folder]
    assert Path(folder).is_dir()


def test_too_late_for_a_process_that_imported_prometheus_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prometheus_client  # noqa: F401  (this test process uses the default registry)

    monkeypatch.delenv(ENV, raising=False)

    assert use_multiprocess_dir(tmp_path / "data", clean=True) is None
    assert ENV not in os.environ
