"""What only the filesystem backend promises: its layout, the fsync option, scratch
folders of crashed processes, and the refusals that protect the layout."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.storage import StorageKeyInvalid, build_store, keys
from app.storage.filesystem import FilesystemStore, _to_the_end


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "store")


def test_build_store_makes_the_filesystem_backend(tmp_path: Path) -> None:
    store = build_store(tmp_path / "media")

    assert isinstance(store, FilesystemStore)
    assert store.root == tmp_path / "media"


def test_keys_name_everything_below_its_group() -> None:
    assert keys.media(42) == "42"
    assert keys.variant(42, "vid/640x360.mp4") == "42/variants/vid/640x360.mp4"
    assert keys.variants_prefix(42) == "42/variants/"
    assert keys.profile_prefix(7, "images") == "profile-7/variants/images/"
    assert keys.profile_prefix(7, "banners", "ab12") == "profile-7/variants/banners/ab12/"
    assert keys.profile(7, "images", "ab12", "png") == "profile-7/variants/images/ab12/png"


class TestLayout:
    async def test_profile_files_stay_where_earlier_versions_wrote_them(
        self, store: FilesystemStore
    ) -> None:
        await store.put(keys.profile(7, "images", "ab12", "avatar.png"), b"png")

        written = store.variants_dir("profile-7") / "images" / "ab12" / "avatar.png"
        assert written.read_bytes() == b"png"

    async def test_objects_live_in_their_group_directory(self, store: FilesystemStore) -> None:
        await store.put(keys.variant(42, "vid/a.mp4"), b"mp4")

        assert store.variants_dir("42") == store.blob_path("42").parent / "variants"
        assert (store.variants_dir("42") / "vid" / "a.mp4").read_bytes() == b"mp4"
        assert store.path_of(keys.variants_prefix(42)) == store.variants_dir("42")
        assert store.path_of(keys.media(42)) == store.blob_path("42")

    async def test_a_file_in_the_way_of_a_prefix_is_never_replaced(
        self, store: FilesystemStore
    ) -> None:
        blocker = store.variants_dir("42")
        blocker.parent.mkdir(parents=True)
        blocker.write_bytes(b"")

        async with store.scratch() as work:
            (work.dir / "a").write_bytes(b"a")
            with pytest.raises(NotADirectoryError):
                await work.publish(keys.variants_prefix(42))

        assert blocker.is_file()

    async def test_a_symlink_among_the_outputs_is_refused(
        self, store: FilesystemStore, tmp_path: Path
    ) -> None:
        (tmp_path / "secret").write_bytes(b"secret")

        async with store.scratch() as work:
            (work.dir / "link").symlink_to(tmp_path / "secret")
            with pytest.raises(StorageKeyInvalid):
                await work.publish(keys.variants_prefix(42))

        assert await store.list(keys.variants_prefix(42)) == []


class TestFsyncOption:
    async def test_segments_are_fsynced_when_asked(self, tmp_path: Path) -> None:
        store = FilesystemStore(tmp_path / "store", fsync_segments=True)

        staged = await store.stage_segment("k", 0, _chunks(b"durable"))
        await store.commit_segment(staged)
        await store.finalize_commit(staged)

        assert await store.segment_sizes("k") == {0: 7}


class TestScratchFolders:
    async def test_folders_of_a_dead_process_are_swept(self, store: FilesystemStore) -> None:
        async with store.scratch():
            pass
        crashed = store.root / ".scratch" / "deadbeef"
        (crashed / "out").mkdir(parents=True)
        (crashed / "out" / "half.mp4").write_bytes(b"partial")
        os.utime(crashed, (0, 0))  # old, and nobody holds its lock

        async with store.scratch() as work:
            live = work.dir.parent

        assert not crashed.exists()
        assert not live.exists()

    async def test_a_live_folder_is_not_swept_however_old(self, store: FilesystemStore) -> None:
        async with store.scratch() as old:
            os.utime(old.dir.parent, (0, 0))

            async with store.scratch():
                survived = old.dir.is_dir()

        assert survived

    async def test_a_young_folder_is_left_to_its_owner(self, store: FilesystemStore) -> None:
        async with store.scratch():
            pass
        starting = store.root / ".scratch" / "cafebabe"
        starting.mkdir()  # just made by another process, not locked yet

        async with store.scratch():
            pass

        assert starting.is_dir()


class TestHealth:
    async def test_a_root_that_cannot_be_written_is_unhealthy(self, tmp_path: Path) -> None:
        (tmp_path / "file").write_bytes(b"")

        assert not await FilesystemStore(tmp_path / "file" / "media").healthy()


class TestWorkerThreads:
    async def test_cancelling_waits_for_the_thread_to_finish(self) -> None:
        started, release, finished = threading.Event(), threading.Event(), threading.Event()

        def work() -> None:
            started.set()
            release.wait()
            finished.set()

        task = asyncio.create_task(_to_the_end(work))
        await asyncio.to_thread(started.wait)
        task.cancel()
        for _ in range(10):
            await asyncio.sleep(0)
        still_waiting = not task.done()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task

        assert still_waiting
        assert finished.is_set()
