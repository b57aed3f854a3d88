"""The storage contract (``app/storage/base.py``), run on every backend.

Each test asserts a sentence of a Protocol docstring. Adding a backend is one line in
``BACKENDS``: a factory from an empty folder to a store (an object-storage backend
would use the folder for its scratch copies only).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from app.storage import SegmentStore, StorageKeyInvalid, StorageNotFound, keys
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
    await store.finalize_commit(staged)


async def _read(store: SegmentStore, key: str, **kw: int) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, **kw)])


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


class _Gate:
    """A stream that sends ``first``, says so, and waits for ``release`` to finish."""

    def __init__(self, first: bytes, rest: bytes = b"", *, fail: bool = False) -> None:
        self.first, self.rest, self.fail = first, rest, fail
        self.sent, self.release = asyncio.Event(), asyncio.Event()

    async def __call__(self) -> AsyncIterator[bytes]:
        yield self.first
        self.sent.set()
        await self.release.wait()
        if self.fail:
            raise ConnectionError("client went away")
        yield self.rest


class TestSegmentStore:
    async def test_staged_segment_is_invisible_until_committed(self, store: SegmentStore) -> None:
        staged = await store.stage_segment("k", 0, _chunks(b"hello"))

        before = await store.segment_sizes("k")
        await store.commit_segment(staged)

        assert before == {}
        assert await store.segment_sizes("k") == {0: 5}
        assert staged.sha256 == hashlib.sha256(b"hello").hexdigest()

    async def test_without_checksum_the_hash_is_computed_on_demand(
        self, store: SegmentStore
    ) -> None:
        staged = await store.stage_segment("k", 3, _chunks(b"abc"), checksum=False)
        await store.commit_segment(staged)

        assert staged.sha256 is None
        assert await store.segment_sha256("k", 3) == hashlib.sha256(b"abc").hexdigest()
        assert await store.segment_sha256("k", 4) is None

    async def test_many_small_chunks_are_written_in_order(self, store: SegmentStore) -> None:
        parts = [bytes([i % 251]) * 512 for i in range(5000)]  # 2.4 MiB in 512 B chunks

        await _put(store, "k", 0, b"".join(parts))
        staged = await store.stage_segment("k", 1, _chunks(*parts))
        await store.commit_segment(staged)
        blob = await store.assemble("k", [0, 1])

        assert blob.size == 2 * 512 * 5000
        assert staged.sha256 == hashlib.sha256(b"".join(parts)).hexdigest()
        assert blob.sha256 == hashlib.sha256(b"".join(parts) * 2).hexdigest()

    async def test_commit_replaces_a_previous_segment(self, store: SegmentStore) -> None:
        await _put(store, "k", 0, b"first version")
        await _put(store, "k", 0, b"second")

        blob = await store.assemble("k", [0])

        assert await _read(store, "k") == b"second"
        assert blob.size == 6

    async def test_abort_after_commit_puts_the_previous_segment_back(
        self, store: SegmentStore
    ) -> None:
        await _put(store, "k", 0, b"recorded bytes")
        staged = await store.stage_segment("k", 0, _chunks(b"unrecorded"))
        await store.commit_segment(staged)
        replaced = await store.segment_sizes("k")

        await store.abort_segment(staged)  # the caller's transaction failed
        await store.abort_segment(staged)  # idempotent

        assert replaced == {0: len(b"unrecorded")}
        assert await store.segment_sizes("k") == {0: len(b"recorded bytes")}
        await store.assemble("k", [0])
        assert await _read(store, "k") == b"recorded bytes"

    async def test_abort_after_commit_with_no_previous_segment_removes_the_index(
        self, store: SegmentStore
    ) -> None:
        staged = await store.stage_segment("k", 2, _chunks(b"unrecorded"))
        await store.commit_segment(staged)

        await store.abort_segment(staged)

        assert await store.segment_sizes("k") == {}

    async def test_abort_never_undoes_a_later_commit(self, store: SegmentStore) -> None:
        await _put(store, "k", 0, b"A")
        failed = await store.stage_segment("k", 0, _chunks(b"BB"))
        await store.commit_segment(failed)
        later = await store.stage_segment("k", 0, _chunks(b"CCC"))
        await store.commit_segment(later)

        await store.abort_segment(failed)  # late: the later commit stays
        await store.finalize_commit(later)

        assert await store.segment_sizes("k") == {0: 3}
        assert await store.segment_sha256("k", 0) == hashlib.sha256(b"CCC").hexdigest()

    async def test_abort_after_finalize_changes_nothing(self, store: SegmentStore) -> None:
        await _put(store, "k", 0, b"old")
        staged = await store.stage_segment("k", 0, _chunks(b"recorded"))
        await store.commit_segment(staged)
        await store.finalize_commit(staged)
        await store.finalize_commit(staged)  # idempotent

        await store.abort_segment(staged)

        assert await store.segment_sizes("k") == {0: len(b"recorded")}

    async def test_commit_of_bytes_that_are_gone_raises(self, store: SegmentStore) -> None:
        await _put(store, "k", 0, b"kept")
        staged = await store.stage_segment("k", 0, _chunks(b"lost"))
        await store.abort_segment(staged)

        with pytest.raises(StorageNotFound):
            await store.commit_segment(staged)

        assert await store.segment_sha256("k", 0) == hashlib.sha256(b"kept").hexdigest()

    async def test_commit_after_discard_raises_and_abort_is_a_no_op(
        self, store: SegmentStore
    ) -> None:
        staged = await store.stage_segment("k", 0, _chunks(b"x"))
        await store.discard("k")

        with pytest.raises(StorageNotFound):
            await store.commit_segment(staged)
        await store.abort_segment(staged)

        assert await store.segment_sizes("k") == {}

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
        gate = _Gate(b"x" * 2_000_000, b"never")  # past one write batch: a thread writes

        task = asyncio.create_task(store.stage_segment("k", 0, gate()))
        await gate.sent.wait()
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

    async def test_no_blob_has_no_size(self, store: SegmentStore) -> None:
        await _put(store, "k", 0, b"abc")

        assert await store.blob_size("k") is None

    async def test_discard_removes_everything(self, store: SegmentStore, tmp_path: Path) -> None:
        await _put(store, "k", 0, b"abc")
        await store.stage_segment("k", 1, _chunks(b"staged"))
        await store.assemble("k", [0])
        await store.put("k/variants/small.jpg", b"variant")

        await store.discard("k")
        await store.discard("k")  # idempotent

        assert _files(tmp_path / "store") == []
        assert await store.blob_size("k") is None
        assert await store.list("k/variants/") == []

    async def test_healthy(self, store: SegmentStore) -> None:
        assert await store.healthy()


class TestObjects:
    async def test_put_then_read_and_stat(self, store: SegmentStore) -> None:
        info = await store.put("7/variants/a.txt", b"hello")

        found = await store.stat("7/variants/a.txt")

        assert await _read(store, "7/variants/a.txt") == b"hello"
        assert found == info
        assert (found.key, found.size) == ("7/variants/a.txt", 5)
        assert found.etag.startswith('"')
        assert found.etag.endswith('"')
        assert found.modified.utcoffset() is not None
        assert found.modified.microsecond == 0

    async def test_put_streams_and_replaces_with_a_new_validator(self, store: SegmentStore) -> None:
        first = await store.put("7/variants/a", _chunks(b"one"))

        second = await store.put("7/variants/a", _chunks(b"two", b" and", b" more" * 300_000))

        assert await _read(store, "7/variants/a", stop=8) == b"two and "
        assert second.size == 7 + 5 * 300_000
        assert second.etag != first.etag

    async def test_a_put_in_progress_is_invisible(self, store: SegmentStore) -> None:
        await store.put("7/variants/a", b"old bytes")
        gate = _Gate(b"new ", b"bytes")
        putting = asyncio.create_task(store.put("7/variants/a", gate()))
        await gate.sent.wait()

        during = await _read(store, "7/variants/a")
        listed = [info.key for info in await store.list("7/variants/")]
        gate.release.set()
        await putting

        assert during == b"old bytes"
        assert listed == ["7/variants/a"]
        assert await _read(store, "7/variants/a") == b"new bytes"

    async def test_a_failed_put_leaves_the_previous_object_and_nothing_else(
        self, store: SegmentStore, tmp_path: Path
    ) -> None:
        await store.put("7/variants/a", b"old bytes")
        before = _files(tmp_path / "store")
        gate = _Gate(b"new", fail=True)
        gate.release.set()

        with pytest.raises(ConnectionError):
            await store.put("7/variants/a", gate())

        assert await _read(store, "7/variants/a") == b"old bytes"
        assert _files(tmp_path / "store") == before

    async def test_a_cancelled_put_leaves_the_previous_object_and_nothing_else(
        self, store: SegmentStore, tmp_path: Path
    ) -> None:
        await store.put("7/variants/a", b"old bytes")
        before = _files(tmp_path / "store")
        gate = _Gate(b"n" * 3_000_000)
        putting = asyncio.create_task(store.put("7/variants/a", gate()))
        await gate.sent.wait()

        putting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await putting

        assert await _read(store, "7/variants/a") == b"old bytes"
        assert _files(tmp_path / "store") == before

    async def test_put_file_copies_a_local_file(self, store: SegmentStore, tmp_path: Path) -> None:
        source = tmp_path / "local.bin"
        source.write_bytes(b"local bytes" * 1000)

        info = await store.put_file("7/variants/copied.bin", source)

        assert info.size == 11_000
        assert await _read(store, "7/variants/copied.bin") == b"local bytes" * 1000
        assert source.read_bytes() == b"local bytes" * 1000

    async def test_put_file_of_a_missing_file_raises_and_leaves_nothing(
        self, store: SegmentStore, tmp_path: Path
    ) -> None:
        with pytest.raises(FileNotFoundError):
            await store.put_file("7/variants/x", tmp_path / "missing")

        assert await store.list("7/variants/") == []

    @pytest.mark.parametrize(
        ("start", "stop", "expected"),
        [
            (0, None, bytes(range(100))),
            (10, 20, bytes(range(10, 20))),
            (90, 1000, bytes(range(90, 100))),
            (100, None, b""),
            (150, 200, b""),
            (20, 20, b""),
        ],
    )
    async def test_read_byte_ranges(
        self, store: SegmentStore, start: int, stop: int | None, expected: bytes
    ) -> None:
        await store.put("7/variants/r", bytes(range(100)))

        if stop is None:
            assert await _read(store, "7/variants/r", start=start) == expected
        else:
            assert await _read(store, "7/variants/r", start=start, stop=stop) == expected

    async def test_a_large_object_streams_in_bounded_blocks(self, store: SegmentStore) -> None:
        await store.put("7/variants/big", b"z" * (3 * 1024 * 1024))

        blocks = [len(chunk) async for chunk in store.read("7/variants/big")]

        assert sum(blocks) == 3 * 1024 * 1024
        assert max(blocks) <= 1024 * 1024

    async def test_missing_objects_raise_not_found(self, store: SegmentStore) -> None:
        await store.put("7/variants/dir/file", b"x")

        for key in ("7/variants/none", "7/variants/dir", "8"):
            with pytest.raises(StorageNotFound):
                await store.stat(key)
            with pytest.raises(StorageNotFound):
                await _read(store, key)

    async def test_the_blob_is_an_object(self, store: SegmentStore) -> None:
        await _put(store, keys.media(9), 0, b"blob bytes")
        await store.assemble(keys.media(9), [0])

        found = await store.stat(keys.media(9))

        assert found.size == 10
        assert [info.key for info in await store.list(keys.variants_prefix(9))] == []

    async def test_delete(self, store: SegmentStore) -> None:
        await store.put("7/variants/a", b"x")
        await store.put("7/variants/b", b"y")

        await store.delete("7/variants/a")
        await store.delete("7/variants/a")  # a no-op when gone
        await store.delete("7/variants")  # a folder is no object

        assert [info.key for info in await store.list("7/variants/")] == ["7/variants/b"]

    async def test_delete_prefix_removes_only_what_it_names(self, store: SegmentStore) -> None:
        for key in ("7/variants/pl/a.ts", "7/variants/pl/sub/b.ts", "7/variants/p.jpg", "8/x/y"):
            await store.put(key, b"x")

        await store.delete_prefix("7/variants/pl/")
        await store.delete_prefix("7/variants/nothing/")  # a no-op when empty

        assert [info.key for info in await store.list("7/variants/")] == ["7/variants/p.jpg"]
        assert [info.key for info in await store.list("8/x/")] == ["8/x/y"]

    async def test_list_is_recursive_and_by_key(self, store: SegmentStore) -> None:
        for key in ("7/v/b", "7/v/a/z", "7/v/a/y", "7/w/c"):
            await store.put(key, key.encode())

        listed = await store.list("7/v/")

        assert [(info.key, info.size) for info in listed] == [
            ("7/v/a/y", 7),
            ("7/v/a/z", 7),
            ("7/v/b", 5),
        ]
        assert await store.list("7/none/") == []

    @pytest.mark.parametrize(
        "key",
        [
            "",
            "/7/a",
            "7//a",
            "7/../a",
            "..",
            "7/.hidden",
            ".7",
            "7/a b",
            "7/a/",
            "7/blob",
            "7/seg-001",
        ],
    )
    async def test_malformed_keys_are_refused(self, store: SegmentStore, key: str) -> None:
        with pytest.raises(StorageKeyInvalid):
            await store.put(key, b"x")
        with pytest.raises(StorageKeyInvalid):
            await store.stat(key)

    @pytest.mark.parametrize("prefix", ["7", "7/", "7/a", "../a/", "7/../"])
    async def test_malformed_prefixes_are_refused(self, store: SegmentStore, prefix: str) -> None:
        with pytest.raises(StorageKeyInvalid):
            await store.delete_prefix(prefix)
        with pytest.raises(StorageKeyInvalid):
            await store.list(prefix)


class TestScratch:
    async def test_local_copy_has_the_object_bytes_until_the_scratch_ends(
        self, store: SegmentStore
    ) -> None:
        await store.put("7/variants/src", b"source bytes")

        async with store.scratch() as work:
            copy = await work.local_copy("7/variants/src")
            await store.discard("7")  # the object goes; the copy stays readable
            during = copy.read_bytes()

        assert during == b"source bytes"
        assert not copy.exists()

    async def test_local_copy_of_a_missing_object_raises(self, store: SegmentStore) -> None:
        async with store.scratch() as work:
            with pytest.raises(StorageNotFound):
                await work.local_copy("7/variants/none")

    async def test_publish_replaces_the_prefix_with_the_folder(self, store: SegmentStore) -> None:
        await store.put("7/variants/stale.jpg", b"from an earlier run")
        await store.put("7/other/kept", b"not below the prefix")

        async with store.scratch() as work:
            assert list(work.dir.iterdir()) == []
            (work.dir / "small.jpg").write_bytes(b"small")
            (work.subdir("pl/720") / "index.m3u8").write_bytes(b"#EXTM3U")
            published = await work.publish("7/variants/")
            folder = work.dir

        listed = await store.list("7/variants/")
        assert [(i.key, i.size) for i in published] == [
            ("7/variants/pl/720/index.m3u8", 7),
            ("7/variants/small.jpg", 5),
        ]
        assert [i.key for i in listed] == [i.key for i in published]
        assert await _read(store, "7/variants/pl/720/index.m3u8") == b"#EXTM3U"
        assert await _read(store, "7/other/kept") == b"not below the prefix"
        assert not folder.exists()

    async def test_publish_once_only(self, store: SegmentStore) -> None:
        async with store.scratch() as work:
            (work.dir / "a").write_bytes(b"a")
            await work.publish("7/variants/")

            with pytest.raises(RuntimeError):
                await work.publish("7/variants/")

    async def test_an_invalid_output_name_publishes_nothing(self, store: SegmentStore) -> None:
        await store.put("7/variants/previous", b"kept")

        async with store.scratch() as work:
            (work.dir / "good.jpg").write_bytes(b"x")
            (work.dir / ".hidden").write_bytes(b"x")
            with pytest.raises(StorageKeyInvalid):
                await work.publish("7/variants/")

        assert [i.key for i in await store.list("7/variants/")] == ["7/variants/previous"]

    async def test_subdir_stays_inside_the_folder(self, store: SegmentStore) -> None:
        async with store.scratch() as work:
            for relative in ("../escape", "/abs", "a/../../b", ".hidden"):
                with pytest.raises(StorageKeyInvalid):
                    work.subdir(relative)

    async def test_a_failed_run_publishes_nothing_and_leaves_no_file(
        self, store: SegmentStore, tmp_path: Path
    ) -> None:
        await store.put("7/variants/previous", b"kept")
        before = _files(tmp_path / "store")

        async def failing_run() -> None:
            async with store.scratch() as work:
                await work.local_copy("7/variants/previous")
                (work.subdir("vid") / "half.mp4").write_bytes(b"partial output")
                raise ValueError("tool failed")

        with pytest.raises(ValueError, match="tool failed"):
            await failing_run()

        assert [i.key for i in await store.list("7/variants/")] == ["7/variants/previous"]
        assert _files(tmp_path / "store") == before

    async def test_scratch_folders_are_private(self, store: SegmentStore) -> None:
        async with store.scratch() as one, store.scratch() as two:
            (one.dir / "a").write_bytes(b"1")

            assert one.dir != two.dir
            assert list(two.dir.iterdir()) == []
