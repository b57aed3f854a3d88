"""Local-disk backend.

Layout under ``root``::

    <aa>/<bb>/<group>/seg-007              committed segment 7 of an upload
    <aa>/<bb>/<group>/.stage-007-<token>   a segment being received, and after its commit
                                           a second name of it until ``finalize_commit``
    <aa>/<bb>/<group>/.prev-007-<token>    the segment that commit replaced, kept until
                                           ``finalize_commit`` (or put back by an abort)
    <aa>/<bb>/<group>/.blob-<hex>          a blob being assembled
    <aa>/<bb>/<group>/blob                 the object ``<group>``: the assembled media file
    <aa>/<bb>/<group>/<a>/<b>/...          the object ``<group>/<a>/<b>/...`` (variants/,
                                           images/, banners/ ...)
    .scratch/<hex>/in/  .scratch/<hex>/out/  a ``Scratch`` (local copies, tool outputs)

``aa/bb`` are the first hex digits of sha1(group), so no directory grows unbounded.
Names starting with ``.`` are never objects. Segments, blobs and objects appear by
``rename``, which is atomic on POSIX: a reader sees a whole file or none. Writes are
batched (>= 1 MiB) and done in a worker thread with ``os.writev`` (hashing in another),
so the event loop never waits for data to reach the disk and no byte is copied twice;
only metadata calls (mkdir, open, link, rename) run in place.

A segment commit and its undo run under an ``flock`` of the upload's directory, so an
abort that puts the previous segment back never overwrites a newer commit made by
another process meanwhile.

Durability. Objects (``put``, ``put_file``, ``Scratch.publish``) and assembled blobs
are fsynced, file and directory, before the call returns: the database records them
right after. APPEND segments are *not* fsynced before the 204. Measured with
``bench/fsync_segments.py`` (5 MiB segments through this store, stage + commit +
finalize, the two modes interleaved; docs/perf/fsync-segments.md): without fsync a
segment takes 4-9 ms (580-1,190 MiB/s), with fsync of the file and the directory 8-13 ms
(380-630 MiB/s), about twice as long, on the path every upload byte takes, and the
directory fsync would run while the record step holds the upload's lock. A segment lost
in a crash is recoverable by the protocol: FINALIZE compares the sizes storage reports
with the database and answers which segments are missing, and the client sends them
again; the blob that FINALIZE acknowledges is fsynced.
``FilesystemStore(root, fsync_segments=True)`` turns the fsync on.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from stat import S_ISREG
from typing import Any, TypeVar

import aiofiles

from app.storage import tempfiles
from app.storage.base import (
    BlobRef,
    ObjectInfo,
    Space,
    StagedSegment,
    StorageKeyInvalid,
    StorageNotFound,
    StoredSegment,
    TempSweep,
)
from app.storage.tempfiles import storage_full, storage_full_sync

__all__ = ["FilesystemStore"]

_BATCH = 1024 * 1024
_READ_BLOCK = 256 * 1024
_COPY_BLOCK = 4 * 1024 * 1024
_HASH_BLOCK = 1024 * 1024
_SEGMENT_PREFIX = "seg-"
_BLOB = "blob"
_SCRATCH = ".scratch"
_SCRATCH_GRACE_SECS = 60  # a scratch folder this young may not be locked by its owner yet
_COMPONENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_T = TypeVar("_T")


def _writev_all(fd: int, buffers: list[bytes]) -> None:
    views = [memoryview(b) for b in buffers]
    while views:
        written = os.writev(fd, views[:1024])
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if written:
            views[0] = views[0][written:]


def _hash_batch(digest: Any, buffers: list[bytes]) -> None:
    for buffer in buffers:
        digest.update(buffer)  # hashlib releases the GIL for large buffers


def _start_batch(
    loop: asyncio.AbstractEventLoop, fd: int, buffers: list[bytes], digest: Any | None
) -> list[asyncio.Future[None]]:
    """Write ``buffers`` in one worker thread while another hashes them."""
    started = [loop.run_in_executor(None, _writev_all, fd, buffers)]
    if digest is not None:
        started.append(loop.run_in_executor(None, _hash_batch, digest, buffers))
    return started


async def _write_stream(fd: int, chunks: AsyncIterable[bytes], digest: Any | None) -> int:
    """Write ``chunks`` to ``fd`` in batches; returns the byte count. When it raises, no
    worker thread uses ``fd`` any more."""
    loop = asyncio.get_running_loop()
    size = 0
    # Each batch is hashed in one worker thread and written in another while the event
    # loop parses the next batch: hashlib and writev both release the GIL, so the three
    # overlap. A batch waits for the previous one's hash and write (order).
    inflight: list[asyncio.Future[None]] = []
    try:
        pending: list[bytes] = []
        pending_bytes = 0
        async for chunk in chunks:
            size += len(chunk)
            pending.append(chunk)
            pending_bytes += len(chunk)
            if pending_bytes >= _BATCH:
                for future in inflight:
                    await asyncio.shield(future)
                inflight = _start_batch(loop, fd, pending, digest)
                pending, pending_bytes = [], 0
        for future in inflight:
            await asyncio.shield(future)
        inflight = []
        if pending:
            inflight = _start_batch(loop, fd, pending, digest)
            for future in inflight:
                await asyncio.shield(future)
    except BaseException:
        if inflight:  # never let the caller close a descriptor a thread still writes to
            await asyncio.wait(inflight)
        raise
    return size


async def _to_the_end(function: Callable[..., _T], *args: Any) -> _T:
    """Run ``function`` in a worker thread; if the caller is cancelled meanwhile, wait
    for the thread to finish before the cancellation goes on (a thread cannot be
    stopped, and the caller's cleanup must not race it)."""
    future = asyncio.get_running_loop().run_in_executor(None, function, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ensure_dir(path: Path) -> None:
    """``mkdir -p`` whose new directory entries are durable."""
    missing: list[Path] = []
    probe = path
    while not probe.is_dir():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        _fsync_dir(directory.parent)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive ``flock`` of ``directory``, for a few metadata calls only."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except FileNotFoundError:
        return False


def _info(key: str, stat: os.stat_result) -> ObjectInfo:
    return ObjectInfo(
        key=key,
        size=stat.st_size,
        modified=datetime.fromtimestamp(int(stat.st_mtime), UTC),
        etag=f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"',
        content_type=None,
    )


def _components(key: str) -> list[str]:
    parts = key.split("/")
    if not all(_COMPONENT.match(part) for part in parts):
        raise StorageKeyInvalid(key)
    if len(parts) > 1 and (parts[1] == _BLOB or parts[1].startswith(_SEGMENT_PREFIX)):
        raise StorageKeyInvalid(f"{key}: reserved name {parts[1]!r}")
    return parts


class FilesystemStore:
    def __init__(self, root: Path, *, fsync_segments: bool = False) -> None:
        self.root = Path(root)
        self.fsync_segments = fsync_segments

    def _dir(self, key: str) -> Path:
        digest = hashlib.sha1(key.encode()).hexdigest()
        return self.root / digest[:2] / digest[2:4] / key

    # Where things are on disk: for this backend and for tests that look at the layout.

    def blob_path(self, key: str) -> Path:
        return self._dir(key) / _BLOB

    def variants_dir(self, key: str) -> Path:
        return self._dir(key) / "variants"

    def path_of(self, key: str) -> Path:
        """The file of object ``key``, or the folder of a prefix (``"a/b/"``)."""
        return self._prefix_path(key) if key.endswith("/") else self._object_path(key)

    def _object_path(self, key: str) -> Path:
        head, *rest = _components(key)
        return self._dir(head).joinpath(*rest) if rest else self._dir(head) / _BLOB

    def _prefix_path(self, prefix: str) -> Path:
        if not prefix.endswith("/") or prefix.count("/") < 2:
            raise StorageKeyInvalid(f"{prefix}: a prefix is a folder below a group, 'a/b/'")
        head, *rest = _components(prefix[:-1])
        return self._dir(head).joinpath(*rest)

    # Segments.

    def _staged_path(self, staged: StagedSegment) -> Path:
        return self._dir(staged.key) / f".stage-{staged.index:03d}-{staged.token}"

    def _previous_path(self, staged: StagedSegment) -> Path:
        return self._dir(staged.key) / f".prev-{staged.index:03d}-{staged.token}"

    def _segment_path(self, key: str, index: int) -> Path:
        return self._dir(key) / f"{_SEGMENT_PREFIX}{index:03d}"

    @storage_full
    async def stage_segment(
        self, key: str, index: int, chunks: AsyncIterable[bytes], *, checksum: bool = True
    ) -> StagedSegment:
        directory = self._dir(key)
        # Directory and rename calls are metadata operations of microseconds: done in
        # place, not queued for a worker thread behind other uploads' 1 MiB writes (the
        # record step holds the database write lock across commit_segment).
        os.makedirs(directory, exist_ok=True)
        token = secrets.token_hex(8)
        path = directory / f".stage-{index:03d}-{token}"
        digest = hashlib.sha256() if checksum else None
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            size = await _write_stream(fd, chunks, digest)
            if self.fsync_segments:
                await _to_the_end(os.fsync, fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            raise
        os.close(fd)
        sha256 = digest.hexdigest() if digest is not None else None
        return StagedSegment(key=key, index=index, size=size, sha256=sha256, token=token)

    async def segment_sha256(self, key: str, index: int) -> str | None:
        try:
            path = self._segment_path(key, index)
            return (await asyncio.to_thread(_hash_file, path, fsync=False))[1]
        except FileNotFoundError:
            return None

    @storage_full
    async def commit_segment(self, staged: StagedSegment) -> StoredSegment:
        directory = self._dir(staged.key)
        target = self._segment_path(staged.key, staged.index)
        incoming = directory / f".next-{staged.index:03d}-{staged.token}"
        try:
            with _locked(directory):
                # The previous segment stays reachable under a second name, and the new
                # one keeps its staging name: abort_segment can tell whether the index
                # still holds these bytes and put the previous ones back.
                with contextlib.suppress(FileNotFoundError, FileExistsError):
                    os.link(target, self._previous_path(staged))
                os.link(self._staged_path(staged), incoming)
                os.replace(incoming, target)
        except FileNotFoundError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._previous_path(staged))
            raise StorageNotFound(staged.key) from exc
        if self.fsync_segments:
            await _to_the_end(_fsync_dir, directory)
        return StoredSegment(index=staged.index, size=staged.size, sha256=staged.sha256)

    async def finalize_commit(self, staged: StagedSegment) -> None:
        # The staging name first: once it is gone, no abort can undo this commit.
        for path in (self._staged_path(staged), self._previous_path(staged)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    async def abort_segment(self, staged: StagedSegment) -> None:
        directory = self._dir(staged.key)
        stage, previous = self._staged_path(staged), self._previous_path(staged)
        target = self._segment_path(staged.key, staged.index)
        try:
            with _locked(directory):
                if _same_file(stage, target):  # committed, and no later commit since
                    try:
                        os.replace(previous, target)
                    except FileNotFoundError:
                        os.unlink(target)  # there was no previous segment
                for path in (stage, previous):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
        except FileNotFoundError:
            return  # discarded meanwhile: nothing left to forget

    async def segment_sizes(self, key: str) -> dict[int, int]:
        return await asyncio.to_thread(self._segment_sizes, key)

    def _segment_sizes(self, key: str) -> dict[int, int]:
        sizes: dict[int, int] = {}
        with contextlib.suppress(FileNotFoundError), os.scandir(self._dir(key)) as entries:
            for entry in entries:
                if entry.name.startswith(_SEGMENT_PREFIX):
                    sizes[int(entry.name[len(_SEGMENT_PREFIX) :])] = entry.stat().st_size
        return sizes

    @storage_full
    async def assemble(self, key: str, order: Sequence[int]) -> BlobRef:
        return await asyncio.to_thread(self._assemble, key, list(order))

    def _assemble(self, key: str, order: list[int]) -> BlobRef:
        directory = self._dir(key)
        segments = [self._segment_path(key, i) for i in order]
        missing = [p.name for p in segments if not p.exists()]
        blob = directory / _BLOB
        if len(missing) == len(segments) and blob.exists():
            # Assembled before, but the caller's transaction did not commit: reuse it.
            size, sha256 = _hash_file(blob, fsync=True)
            return BlobRef(key=key, size=size, sha256=sha256)
        if missing:
            raise StorageNotFound(f"{key}: {', '.join(missing)}")
        if len(segments) == 1:
            os.replace(segments[0], blob)  # one segment: no copy at all
            size, sha256 = _hash_file(blob, fsync=True)
        else:
            tmp = directory / f".blob-{secrets.token_hex(8)}"
            try:
                # The kernel copies while another thread hashes the same (cached) bytes:
                # both release the GIL, so the two passes run side by side on two cores.
                with ThreadPoolExecutor(1) as pool, open(tmp, "wb", buffering=0) as out:
                    hashing = pool.submit(_hash_files, segments)
                    for segment in segments:
                        _copy_kernel(segment, out.fileno())
                    os.fsync(out.fileno())
                    size, sha256 = hashing.result()
                os.replace(tmp, blob)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            for segment in segments:
                segment.unlink()
        _fsync_dir(directory)
        return BlobRef(key=key, size=size, sha256=sha256)

    async def blob_size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(os.stat, self.blob_path(key))).st_size
        except FileNotFoundError:
            return None

    async def discard(self, key: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self._dir(key), True)

    # Objects.

    @storage_full
    async def put(
        self,
        key: str,
        data: bytes | AsyncIterable[bytes],
        *,
        content_type: str | None = None,
    ) -> ObjectInfo:
        path = self._object_path(key)
        await asyncio.to_thread(_ensure_dir, path.parent)
        temp = path.parent / f".put-{secrets.token_hex(8)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            await _write_stream(fd, _chunks(data), None)
        except BaseException:
            os.close(fd)
            os.unlink(temp)
            raise
        try:
            stat = await _to_the_end(_seal, fd, temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        return _info(key, stat)

    @storage_full
    async def put_file(
        self, key: str, path: Path, *, content_type: str | None = None
    ) -> ObjectInfo:
        target = self._object_path(key)
        stat = await _to_the_end(self._put_file, target, Path(path))
        return _info(key, stat)

    def _put_file(self, target: Path, source: Path) -> os.stat_result:
        _ensure_dir(target.parent)
        temp = target.parent / f".put-{secrets.token_hex(8)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            try:
                _copy_kernel(source, fd)
            except BaseException:
                os.close(fd)
                raise
            return _seal(fd, temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    async def read(
        self, key: str, *, start: int = 0, stop: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self._object_path(key)
        try:
            handle = await aiofiles.open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise StorageNotFound(key) from None
        try:
            await handle.seek(start)
            remaining = None if stop is None else stop - start
            while remaining is None or remaining > 0:
                block = _READ_BLOCK if remaining is None else min(_READ_BLOCK, remaining)
                data = await handle.read(block)
                if not data:
                    break
                if remaining is not None:
                    remaining -= len(data)
                yield data
        finally:
            await handle.close()

    async def stat(self, key: str) -> ObjectInfo:
        path = self._object_path(key)
        try:
            stat = await asyncio.to_thread(os.stat, path)
        except (FileNotFoundError, NotADirectoryError):
            raise StorageNotFound(key) from None
        if not S_ISREG(stat.st_mode):
            raise StorageNotFound(key)
        return _info(key, stat)

    async def delete(self, key: str) -> None:
        path = self._object_path(key)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
            await asyncio.to_thread(os.unlink, path)

    async def delete_prefix(self, prefix: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self._prefix_path(prefix), True)

    async def list(self, prefix: str) -> list[ObjectInfo]:
        folder = self._prefix_path(prefix)
        return await asyncio.to_thread(_list, folder, prefix)

    @contextlib.asynccontextmanager
    async def scratch(self) -> AsyncIterator[_Scratch]:
        work = await _to_the_end(self._open_scratch)
        try:
            yield work
        finally:
            await _to_the_end(work.close)

    @storage_full_sync
    def _open_scratch(self) -> _Scratch:
        parent = self.root / _SCRATCH
        parent.mkdir(parents=True, exist_ok=True)
        _sweep_abandoned(parent)
        folder = parent / secrets.token_hex(8)
        folder.mkdir()
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held while the scratch lives: _sweep_abandoned
            (folder / "in").mkdir()
            (folder / "out").mkdir()
        except BaseException:  # pragma: no cover - a full or read-only disk
            os.close(fd)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return _Scratch(self, folder, fd)

    def _publish(self, out: Path, prefix: str) -> builtins.list[ObjectInfo]:
        target = self._prefix_path(prefix)
        files: list[tuple[Path, str]] = []
        folders = [out]
        for path in sorted(out.rglob("*")):
            relative = path.relative_to(out).as_posix()
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                raise StorageKeyInvalid(f"{prefix}{relative}: not a regular file")
            self._object_path(prefix + relative)  # validates the key
            if path.is_dir():
                folders.append(path)
            else:
                files.append((path, prefix + relative))
        infos = []
        for path, key in files:
            _fsync_file(path)
            infos.append(_info(key, path.stat()))
        for folder in folders:
            _fsync_dir(folder)
        _ensure_dir(target.parent)
        old = None
        if target.exists() or target.is_symlink():
            if target.is_symlink() or not target.is_dir():  # never ours: a broken layout
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(target))
            old = target.parent / f".old-{target.name}-{secrets.token_hex(4)}"
            os.rename(target, old)
        try:
            os.rename(out, target)
        except BaseException:
            if old is not None:
                os.rename(old, target)
            raise
        _fsync_dir(target.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return infos

    async def space(self) -> Space:
        def probe() -> Space:
            usage = os.statvfs(self._existing_root())
            return Space(
                total=usage.f_blocks * usage.f_frsize, free=usage.f_bavail * usage.f_frsize
            )

        return await asyncio.to_thread(probe)

    def _existing_root(self) -> Path:
        """The root, or its nearest existing parent (the same volume, until made)."""
        path = self.root
        while not path.exists() and path != path.parent:
            path = path.parent
        return path

    async def sweep_temp(self, *, older_than: timedelta, busy: Collection[str]) -> TempSweep:
        return await asyncio.to_thread(
            tempfiles.sweep, self.root, older_than_secs=older_than.total_seconds(), busy=busy
        )

    async def healthy(self) -> bool:
        def probe() -> bool:
            self.root.mkdir(parents=True, exist_ok=True)
            marker = self.root / f".health-{secrets.token_hex(4)}"
            marker.write_bytes(b"ok")
            marker.unlink()
            return True

        try:
            return await asyncio.to_thread(probe)
        except OSError:
            return False


class _Scratch:
    """A folder below ``<root>/.scratch``: ``in/`` holds local copies, ``out/`` the
    outputs. Its directory is ``flock``-ed while it lives."""

    def __init__(self, store: FilesystemStore, folder: Path, fd: int) -> None:
        self._store, self._folder, self._fd = store, folder, fd
        self._copies = 0
        self._published = False

    @property
    def dir(self) -> Path:
        return self._folder / "out"

    @storage_full
    async def local_copy(self, key: str) -> Path:
        source = self._store._object_path(key)
        self._copies += 1
        copy = self._folder / "in" / f"{self._copies}-{source.name}"
        await asyncio.to_thread(_link_or_copy, source, copy, key)
        return copy

    def subdir(self, relative: str) -> Path:
        _components(relative)  # no "..", no absolute path, no hidden names
        path = self.dir / relative
        path.mkdir(parents=True, exist_ok=True)
        return path

    @storage_full
    async def publish(self, prefix: str) -> list[ObjectInfo]:
        if self._published:
            raise RuntimeError("a scratch folder is published once")
        infos = await _to_the_end(self._store._publish, self.dir, prefix)
        self._published = True
        return infos

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)
        os.close(self._fd)


def _link_or_copy(source: Path, copy: Path, key: str) -> None:
    if not source.is_file():
        raise StorageNotFound(key)
    try:
        os.link(source, copy)  # same filesystem: instant, and survives a discard
    except FileNotFoundError:
        raise StorageNotFound(key) from None
    except OSError as exc:  # pragma: no cover - filesystems without hard links
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(source, copy)


def _sweep_abandoned(parent: Path) -> None:
    """Remove scratch folders whose process died: nobody holds their lock."""
    cutoff = time.time() - _SCRATCH_GRACE_SECS
    for entry in parent.iterdir():
        try:
            if entry.stat().st_mtime > cutoff:
                continue
            fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            continue  # removed by another sweep meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # alive
        else:
            shutil.rmtree(entry, ignore_errors=True)
        finally:
            os.close(fd)


async def _chunks(data: bytes | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        yield bytes(data)
        return
    async for chunk in data:
        yield chunk


def _seal(fd: int, temp: Path, path: Path) -> os.stat_result:
    """Make the written ``temp`` durable, close ``fd`` and rename ``temp`` over ``path``."""
    try:
        os.fsync(fd)
        stat = os.fstat(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    _fsync_dir(path.parent)
    return stat


def _list(folder: Path, prefix: str) -> list[ObjectInfo]:
    found: list[ObjectInfo] = []
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        base = Path(directory)
        for name in names:
            if name.startswith("."):
                continue
            path = base / name
            with contextlib.suppress(FileNotFoundError):
                found.append(_info(prefix + path.relative_to(folder).as_posix(), path.stat()))
    return sorted(found, key=lambda info: info.key)


def _copy_kernel(source: Path, out_fd: int) -> None:
    with open(source, "rb", buffering=0) as src:
        remaining = os.fstat(src.fileno()).st_size
        while remaining > 0:
            copied = os.copy_file_range(src.fileno(), out_fd, remaining)
            if copied == 0:
                raise OSError(f"{source} shrank while it was copied")
            remaining -= copied


def _hash_files(sources: list[Path]) -> tuple[int, str]:
    digest = hashlib.sha256()
    buffer = bytearray(_COPY_BLOCK)
    view = memoryview(buffer)
    size = 0
    for source in sources:
        with open(source, "rb", buffering=0) as src:
            while count := src.readinto(buffer):
                digest.update(view[:count])
                size += count
    return size, digest.hexdigest()


def _hash_file(path: Path, *, fsync: bool) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
            size += len(block)
        if fsync:
            os.fsync(handle.fileno())
    return size, digest.hexdigest()
