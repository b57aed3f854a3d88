"""The SegmentStore contract, run on every backend (today: the filesystem)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from app.storage import SegmentStore
from app.storage.base import StorageNotFound
from app.storage.filesystem import FilesystemStore

BACKENDS: dict[str, Callable[[Path], SegmentStore]] = {"filesystem": FilesystemStore}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> SegmentStore:
    return BACKENDS[request.param](tmp_path / "store")


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _put(store: SegmentStore, key: str, index: int, data: bytes) -> None:
    staged = await store.stage_segment(key, index, _chunks(data[:7], data[7:]))
    await store.commit_segment(staged)


async def _read(store: SegmentStore, key: str, **kw: int) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, **kw)])


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


class TestSegmentStore:
    async def test_staged_segment_is_invisible_until_committed(self, store: SegmentStore) -> None:
        staged = await store.stage_segment("k", 0, _chunks(b"hello"))

        before = await store.segment_sizes("k")
        await store.commit_segment(staged)

        assert before == {}
        assert await store.segment_sizes("k") == {0: 5}
        assert staged.sha256 == hashlib.sha256(b"hello").hexdigest()

    async def test_commit_replaces_a_previous_segment(self, store: SegmentStore) -> None:
        await _put(store, "k", 0, b"first version")
        await _put(store, "k", 0, b"second")

        blob = await store.assemble("k", [0])

        assert await _read(store, "k") == b"second"
        assert blob.size == 6

    async def test_aborted_and_failed_stages_leave_nothing(
        self, store: SegmentStore, tmp_path: Path
    ) -> None:
        async def broken() -> AsyncIterator[bytes]:
            yield b"partial"
            raise ConnectionError("client went away")

        staged = await store.stage_segment("k", 1, _chunks(b"x"))
        await store.abort_segment(staged)
        with pytest.raises(ConnectionError):
            await store.stage_segment("k", 2, broken())

        assert await store.segment_sizes("k") == {}
        assert _files(tmp_path / "store") == []

    async def test_cancelled_stage_leaves_nothing(
        self, store: SegmentStore, tmp_path: Path
    ) -> None:
        gate = asyncio.Event()

        async def slow() -> AsyncIterator[bytes]:
            yield b"x" * 2_000_000
            await gate.wait()
            yield b"never"

        task = asyncio.create_task(store.stage_segment("k", 0, slow()))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

        assert _files(tmp_path / "store") == []

    async def test_assemble_joins_in_the_given_order_and_hashes(self, store: SegmentStore) -> None:
        await _put(store, "k", 1, b"world")
        await _put(store, "k", 0, b"hello ")

        blob = await store.assemble("k", [0, 1])

        assert await _read(store, "k") == b"hello world"
        assert blob.sha256 == hashlib.sha256(b"hello world").hexdigest()
        assert await store.segment_sizes("k") == {}
        assert await store.blob_size("k") == 11

    async def test_assemble_again_after_an_uncommitted_finalize_reuses_the_blob(
        self, store: SegmentStore
    ) -> None:
        await _put(store, "k", 0, b"abc")
        await _put(store, "k", 1, b"def")
        first = await store.assemble("k", [0, 1])

        second = await store.assemble("k", [0, 1])

        assert second == first

    async def test_assemble_with_a_missing_segment_raises(self, store: SegmentStore) -> None:
        await _put(store, "k", 0, b"abc")

        with pytest.raises(StorageNotFound):
            await store.assemble("k", [0, 1])

    async def test_read_a_byte_range(self, store: SegmentStore) -> None:
        await _put(store, "k", 0, bytes(range(256)) * 10)
        await store.assemble("k", [0])

        assert await _read(store, "k", start=10, stop=20) == bytes(range(10, 20))
        assert await _read(store, "k", start=2550) == bytes(range(246, 256))

    async def test_reading_an_unknown_key_raises(self, store: SegmentStore) -> None:
        with pytest.raises(StorageNotFound):
            await _read(store, "nope")

    async def test_discard_removes_everything(self, store: SegmentStore, tmp_path: Path) -> None:
        await _put(store, "k", 0, b"abc")
        await store.stage_segment("k", 1, _chunks(b"staged"))
        await store.assemble("k", [0])

        await store.discard("k")
        await store.discard("k")  # idempotent

        assert _files(tmp_path / "store") == []
        assert await store.blob_size("k") is None

    async def test_healthy(self, store: SegmentStore) -> None:
        assert await store.healthy()
