"""``FilesystemStore.sweep_temp``: what it removes, what it never touches, and the
sweeper's use of it (the media in use skipped, the totals counted)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from app.core.clock import utcnow
from app.jobs import sweeper
from app.models import Media
from app.storage import keys
from app.storage.filesystem import FilesystemStore
from tests.conftest import Env, User
from tests.fixtures.disk import disk
from tests.fixtures.protocol import init

NOW = timedelta(0)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _leftovers(store: FilesystemStore, key: str) -> list[Path]:
    """What a killed process leaves: a staged segment, a half blob, a half object and a
    replaced folder; beside a committed segment and an object that must stay."""
    committed = await store.stage_segment(key, 0, _once(b"kept"))
    await store.commit_segment(committed)
    await store.finalize_commit(committed)
    await store.put(keys.variant(int(key), "photo/small.jpg"), b"object")
    await store.stage_segment(key, 1, _once(b"orphan"))  # never committed
    folder = store.blob_path(key).parent
    (folder / ".blob-0123456789abcdef").write_bytes(b"half blob")
    (store.variants_dir(key) / "photo" / ".put-0123456789abcdef").write_bytes(b"half")
    old = store.variants_dir(key) / ".old-photo-abcd"
    old.mkdir()
    (old / "small.jpg").write_bytes(b"replaced")
    return sorted(p for p in folder.rglob(".*"))


def _kept(store: FilesystemStore, key: str) -> list[str]:
    folder = store.blob_path(key).parent
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


async def test_old_temporary_files_go_and_segments_and_objects_stay(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "media")
    temp = await _leftovers(store, "1234")
    assert len(temp) == 4
    (store.root / ".health-abcd").write_bytes(b"ok")  # a probe the kill interrupted
    async with store.scratch() as scratch:  # alive: the scratch sweep's, not this one's
        (scratch.dir / ".blob-in-a-tool-output").write_bytes(b"tool")

        found = await store.sweep_temp(older_than=NOW, busy=set())

        assert (scratch.dir / ".blob-in-a-tool-output").exists()
    assert found.files == 5
    assert found.bytes == sum(map(len, [b"orphan", b"half blob", b"half", b"replaced", b"ok"]))
    assert _kept(store, "1234") == [
        "seg-000", "variants", "variants/photo", "variants/photo/small.jpg",
    ]  # fmt: skip
    assert not any(p.exists() for p in temp)


async def test_young_files_and_busy_media_are_left_alone(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "media")
    temp = await _leftovers(store, "1234")

    assert (await store.sweep_temp(older_than=timedelta(hours=1), busy=set())).files == 0
    assert (await store.sweep_temp(older_than=NOW, busy={"1234"})).files == 0
    assert all(p.exists() for p in temp)


async def test_a_new_link_to_an_old_file_makes_it_young(tmp_path: Path) -> None:
    """``.prev-`` is a second name of a segment written long ago: its age is the link's."""
    store = FilesystemStore(tmp_path / "media")
    staged = await store.stage_segment("77", 0, _once(b"old bytes"))
    await store.commit_segment(staged)
    await store.finalize_commit(staged)
    segment = store.blob_path("77").parent / "seg-000"
    long_ago = segment.stat().st_mtime - 86_400
    os.utime(segment, (long_ago, long_ago))
    os.link(segment, segment.parent / ".prev-000-0123456789abcdef")

    assert (await store.sweep_temp(older_than=timedelta(hours=1), busy=set())).files == 0


async def test_the_sweeper_skips_media_under_a_finalize_lease_and_counts(
    env: Env, alice: User
) -> None:
    store = disk(env)
    started = await init(env.client, alice.headers, total_bytes=10, media_type="video/mp4")
    media_id = started.json()["media_id_string"]
    key = keys.media(int(media_id))
    await store.stage_segment(key, 3, _once(b"leftover"))
    async with env.state.sessions() as session:
        media = await session.get(Media, int(media_id))
        assert media is not None
        media.finalizing_until = utcnow() + timedelta(minutes=1)
        await session.commit()
    before = sweeper.STATS.temp_files_removed

    held = await sweeper.sweep_temp_files(env.state.sessions, store, now=utcnow(), older_than=NOW)
    later = await sweeper.sweep_temp_files(
        env.state.sessions, store, now=utcnow() + timedelta(minutes=2), older_than=NOW
    )

    assert held.files == 0
    assert later.files == 1
    assert sweeper.STATS.temp_files_removed == before + 1
    assert sweeper.STATS.temp_bytes_removed >= len(b"leftover")
