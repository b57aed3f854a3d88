"""Local-disk backend.

Layout under ``root``::

    <aa>/<bb>/<key>/seg-007            committed segment 7 of an upload
    <aa>/<bb>/<key>/.stage-007-<hex>   a segment being received (never read by others)
    <aa>/<bb>/<key>/.blob-<hex>        a blob being assembled
    <aa>/<bb>/<key>/blob               the assembled media file
    <aa>/<bb>/<key>/variants/          processed outputs (photo sizes, renditions, HLS)

``aa/bb`` are the first hex digits of sha1(key), so no directory grows unbounded.
Segments and blobs appear by ``rename``, which is atomic on POSIX: a reader sees a whole
file or none. Writes are batched (>= 1 MiB) and done in a worker thread with
``os.writev`` (hashing in another), so the event loop never waits for data to reach the
disk and no byte is copied twice; only metadata calls (mkdir, open, rename) run in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiofiles
import aiofiles.os

from app.storage.base import BlobRef, StagedSegment, StorageNotFound, StoredSegment

__all__ = ["FilesystemStore"]

_BATCH = 1024 * 1024
_READ_BLOCK = 1024 * 1024
_COPY_BLOCK = 4 * 1024 * 1024
_SEGMENT_PREFIX = "seg-"


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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _dir(self, key: str) -> Path:
        digest = hashlib.sha1(key.encode()).hexdigest()
        return self.root / digest[:2] / digest[2:4] / key

    def blob_path(self, key: str) -> Path:
        return self._dir(key) / "blob"

    def variants_dir(self, key: str) -> Path:
        return self._dir(key) / "variants"

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
        size = 0
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        loop = asyncio.get_running_loop()
        # Each batch is hashed in one worker thread and written in another while the
        # event loop parses the next batch: hashlib and writev both release the GIL, so
        # the three overlap. A batch waits for the previous one's hash and write (order).
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
                        await future
                    inflight = _start_batch(loop, fd, pending, digest)
                    pending, pending_bytes = [], 0
            for future in inflight:
                await future
            inflight = []
            if pending:
                inflight = _start_batch(loop, fd, pending, digest)
                for future in inflight:
                    await future
        except BaseException:
            if inflight:  # never close a descriptor a thread still writes to
                await asyncio.wait(inflight)
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            raise
        os.close(fd)
        sha256 = digest.hexdigest() if digest is not None else None
        return StagedSegment(key=key, index=index, size=size, sha256=sha256, token=token)

    def _staged_path(self, staged: StagedSegment) -> Path:
        return self._dir(staged.key) / f".stage-{staged.index:03d}-{staged.token}"

    async def segment_sha256(self, key: str, index: int) -> str | None:
        path = self._dir(key) / f"{_SEGMENT_PREFIX}{index:03d}"
        try:
            return (await asyncio.to_thread(_hash_file, path, fsync=False))[1]
        except FileNotFoundError:
            return None

    async def commit_segment(self, staged: StagedSegment) -> StoredSegment:
        target = self._dir(staged.key) / f"{_SEGMENT_PREFIX}{staged.index:03d}"
        try:
            os.replace(self._staged_path(staged), target)
        except FileNotFoundError as exc:
            raise StorageNotFound(staged.key) from exc
        return StoredSegment(index=staged.index, size=staged.size, sha256=staged.sha256)

    async def abort_segment(self, staged: StagedSegment) -> None:
        with contextlib.suppress(FileNotFoundError):
            await aiofiles.os.remove(self._staged_path(staged))

    async def segment_sizes(self, key: str) -> dict[int, int]:
        return await asyncio.to_thread(self._segment_sizes, key)

    def _segment_sizes(self, key: str) -> dict[int, int]:
        sizes: dict[int, int] = {}
        with contextlib.suppress(FileNotFoundError), os.scandir(self._dir(key)) as entries:
            for entry in entries:
                if entry.name.startswith(_SEGMENT_PREFIX):
                    sizes[int(entry.name[len(_SEGMENT_PREFIX) :])] = entry.stat().st_size
        return sizes

    async def assemble(self, key: str, order: Sequence[int]) -> BlobRef:
        return await asyncio.to_thread(self._assemble, key, list(order))

    def _assemble(self, key: str, order: list[int]) -> BlobRef:
        directory = self._dir(key)
        segments = [directory / f"{_SEGMENT_PREFIX}{i:03d}" for i in order]
        missing = [p.name for p in segments if not p.exists()]
        blob = directory / "blob"
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
            return (await aiofiles.os.stat(self.blob_path(key))).st_size
        except FileNotFoundError:
            return None

    async def read(
        self, key: str, *, start: int = 0, stop: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self.blob_path(key)
        if not await aiofiles.os.path.exists(path):
            raise StorageNotFound(key)
        async with aiofiles.open(path, "rb") as handle:
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

    async def discard(self, key: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self._dir(key), True)

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
        while block := handle.read(_READ_BLOCK):
            digest.update(block)
            size += len(block)
        if fsync:
            os.fsync(handle.fileno())
    return size, digest.hexdigest()
