"""The local backend's full-disk and leftover handling.

``storage_full``/``storage_full_sync`` turn ``ENOSPC``/``EDQUOT`` from a writing call into
``StorageFull`` (each writing call already removes what it was writing when it raises).
``sweep`` removes the temporary files of ``app/storage/filesystem.py`` that a killed
process left behind: ``.stage-``, ``.prev-``, ``.next-``, ``.blob-``, ``.put-`` and
``.health-`` files and ``.old-`` folders. ``.scratch`` folders have their own sweep
(their owner holds a lock on them).

A file is old when its inode change time (``st_ctime``) is: writing, renaming or linking
it renews that time, so a ``.prev-`` link made a second ago to a segment written last
week is young. Each group folder is swept under the same ``flock`` a segment commit and
its undo hold, so a sweep never runs between another process's commit and its undo.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import os
import shutil
import time
from collections.abc import Callable, Collection, Coroutine, Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from app.storage.base import StorageFull, TempSweep

__all__ = ["NO_SPACE", "is_out_of_space", "storage_full", "storage_full_sync", "sweep"]

NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
# How tools (ffmpeg) word ENOSPC/EDQUOT in their own messages.
_NO_SPACE_WORDS = tuple(os.strerror(code) for code in sorted(NO_SPACE))
TEMP_FILE_PREFIXES = (".stage-", ".prev-", ".next-", ".blob-", ".put-", ".health-")
TEMP_DIR_PREFIX = ".old-"
_SCRATCH = ".scratch"

_P = ParamSpec("_P")
_T = TypeVar("_T")


def is_out_of_space(exc: BaseException | None) -> bool:
    """True when ``exc``, or an exception it was raised from, is a full disk or quota:
    ``StorageFull``, an ``OSError`` with ``ENOSPC``/``EDQUOT``, or a tool's error whose
    message says so (ffmpeg reports its write errors in words)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, StorageFull):
            return True
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:
            return True
        if any(words in str(exc) for words in _NO_SPACE_WORDS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _full(exc: OSError) -> StorageFull:
    return StorageFull(f"storage is full: {exc.strerror or exc}")


def storage_full(
    function: Callable[_P, Coroutine[Any, Any, _T]],
) -> Callable[_P, Coroutine[Any, Any, _T]]:
    """Decorate a writing coroutine: ``ENOSPC``/``EDQUOT`` become ``StorageFull``."""

    @functools.wraps(function)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return await function(*args, **kwargs)
        except OSError as exc:
            if exc.errno in NO_SPACE:
                raise _full(exc) from exc
            raise

    return wrapper


def storage_full_sync(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """``storage_full`` for a function run in a worker thread."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return function(*args, **kwargs)
        except OSError as exc:
            if exc.errno in NO_SPACE:
                raise _full(exc) from exc
            raise

    return wrapper


def _is_temp(name: str) -> bool:
    return name.startswith(TEMP_FILE_PREFIXES)


@contextlib.contextmanager
def _group_locked(directory: Path) -> Iterator[None]:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _sweep_tree(top: Path, cutoff: float, found: list[int]) -> None:
    """Remove old temporary entries anywhere below ``top`` (a group folder)."""
    for directory, subdirs, names in os.walk(top):
        base = Path(directory)
        for name in [d for d in subdirs if d.startswith(TEMP_DIR_PREFIX)]:
            subdirs.remove(name)
            path = base / name
            with contextlib.suppress(FileNotFoundError):
                if path.lstat().st_ctime < cutoff:
                    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
                    shutil.rmtree(path, ignore_errors=True)
                    found[0], found[1] = found[0] + 1, found[1] + size
        for name in filter(_is_temp, names):
            _sweep_file(base / name, cutoff, found)


def sweep(root: Path, *, older_than_secs: float, busy: Collection[str]) -> TempSweep:
    """Walk ``root/<aa>/<bb>/<group>/`` and remove old temporary files (see the module
    docstring), skipping the groups named in ``busy``. Blocking: run it in a thread."""
    cutoff = time.time() - older_than_secs
    found = [0, 0]
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for name in filter(_is_temp, os.listdir(root)):  # .health- probes
            _sweep_file(root / name, cutoff, found)
    for first in _subdirs(root):
        if first.name == _SCRATCH:
            continue
        for second in _subdirs(first):
            for group in _subdirs(second):
                if group.name in busy:
                    continue
                with contextlib.suppress(FileNotFoundError), _group_locked(group):
                    _sweep_tree(group, cutoff, found)
    return TempSweep(files=found[0], bytes=found[1])


def _sweep_file(path: Path, cutoff: float, found: list[int]) -> None:
    with contextlib.suppress(FileNotFoundError):
        stat = path.lstat()
        if stat.st_ctime < cutoff:
            path.unlink()
            found[0], found[1] = found[0] + 1, found[1] + stat.st_size


def _subdirs(path: Path) -> list[Path]:
    try:
        with os.scandir(path) as entries:
            return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []
