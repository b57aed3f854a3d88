"""The filesystem store on a full tmpfs: every writing call raises ``StorageFull`` and
leaves nothing of what it was writing; ``space`` sees the volume; ``is_out_of_space``
recognises a full disk however it was reported."""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.processing.errors import InvalidMedia
from app.storage import StorageFull, keys
from app.storage.filesystem import FilesystemStore
from app.storage.tempfiles import is_out_of_space
from tests.fixtures.protocol import MIB
from tests.fixtures.served import fill, free_space, small_filesystem


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FilesystemStore]:
    with small_filesystem(tmp_path / "disk", size_mib=8) as folder:
        yield FilesystemStore(folder / "media")


async def _stream(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // MIB):
        yield b"x" * MIB


def _files(store: FilesystemStore) -> list[str]:
    return sorted(p.name for p in store.root.rglob("*") if p.is_file())


async def test_every_write_on_a_full_disk_raises_storage_full_and_leaves_nothing(
    store: FilesystemStore,
) -> None:
    staged = await store.stage_segment("1", 0, _stream(MIB))
    await store.commit_segment(staged)
    await store.finalize_commit(staged)
    staged = await store.stage_segment("1", 1, _stream(MIB))
    await store.commit_segment(staged)
    await store.finalize_commit(staged)
    source = store.root.parent / "source"
    source.write_bytes(b"z" * MIB)
    before = _files(store)
    fill(store.root.parent, leave=0)

    with pytest.raises(StorageFull):
        await store.stage_segment("1", 2, _stream(2 * MIB))
    with pytest.raises(StorageFull):
        await store.assemble("1", [0, 1])
    with pytest.raises(StorageFull):
        await store.put(keys.variant(1, "a.jpg"), b"y" * MIB)
    with pytest.raises(StorageFull):
        await store.put_file(keys.variant(1, "b.jpg"), source)

    assert _files(store) == before  # the two committed segments, nothing else
    free_space(store.root.parent)
    assert (await store.assemble("1", [0, 1])).size == 2 * MIB


async def test_space_sees_the_volume(store: FilesystemStore) -> None:
    empty = await store.space()  # the root does not exist yet: its volume's
    assert 7 * MIB < empty.total <= 8 * MIB
    fill(store.root.parent, leave=MIB)

    space = await store.space()

    assert space.free <= MIB
    assert space.free_percent <= 12.5


def test_a_full_disk_is_recognised_however_it_was_reported() -> None:
    full = OSError(errno.ENOSPC, "No space left on device")
    quota = OSError(errno.EDQUOT, "Disk quota exceeded")
    try:
        try:
            raise full
        except OSError as exc:
            raise InvalidMedia("file is invalid") from exc
    except InvalidMedia as wrapped:
        decoding = wrapped
    tool = RuntimeError(
        "ffmpeg exited with 1: av_interleaved_write_frame(): No space left on device"
    )

    assert all(map(is_out_of_space, [full, quota, decoding, tool, StorageFull("full")]))
    assert not is_out_of_space(InvalidMedia("file is invalid"))
    assert not is_out_of_space(OSError(errno.EIO, "Input/output error"))
    assert not is_out_of_space(None)
