"""v2 APPEND without ``segment_index``: the index is assigned under the upload's lock, so
index-less APPENDs in flight together get distinct consecutive indexes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from app.storage import StagedSegment
from app.storage.filesystem import FilesystemStore
from tests.conftest import Env, User

UPLOAD = "/2/media/upload"


class GatheringStore(FilesystemStore):
    """The real filesystem store; ``stage_segment`` lets no segment stream until
    ``expected`` of them are in flight, and notes which bytes went to which index."""

    def __init__(self, root: Path, expected: int) -> None:
        super().__init__(root)
        self.expected, self.arrived = expected, 0
        self.all_in = asyncio.Event()
        self.received: dict[int, bytes] = {}

    async def stage_segment(
        self, key: str, index: int, chunks: AsyncIterable[bytes], *, checksum: bool = True
    ) -> StagedSegment:
        self.arrived += 1
        if self.arrived >= self.expected:
            self.all_in.set()
        await self.all_in.wait()
        self.received[index] = b""

        async def noted() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                self.received[index] += chunk
                yield chunk

        return await super().stage_segment(key, index, noted(), checksum=checksum)


async def test_three_index_less_appends_in_flight_get_distinct_indexes(
    env: Env, alice: User, mp4_file: Path
) -> None:
    head = mp4_file.read_bytes()[:64]  # each part could be segment 0 of an mp4
    parts = [head + bytes([n]) * 1000 for n in range(3)]
    total = sum(len(p) for p in parts)
    opened = await env.client.post(
        f"{UPLOAD}/initialize",
        json={"media_type": "video/mp4", "total_bytes": total, "media_category": "tweet_video"},
        headers=alice.headers,
    )
    media_id = opened.json()["data"]["id"]
    store = env.state.store
    assert isinstance(store, FilesystemStore)
    gathering = GatheringStore(store.root, expected=3)
    env.state.store = gathering

    appended = await asyncio.wait_for(
        asyncio.gather(
            *(
                env.client.post(
                    f"{UPLOAD}/{media_id}/append",
                    files={"media": ("blob", part, "application/octet-stream")},
                    headers=alice.headers,
                )
                for part in parts
            )
        ),
        60,  # a guard against hanging (they would if streams were serialised), not a timing
    )
    finalized = await env.client.post(f"{UPLOAD}/{media_id}/finalize", headers=alice.headers)

    assert [a.status_code for a in appended] == [200, 200, 200], [a.text for a in appended]
    assert sorted(gathering.received) == [0, 1, 2]
    assert sorted(gathering.received.values()) == sorted(parts)
    assert finalized.status_code == 200, finalized.text
    expected = b"".join(gathering.received[i] for i in range(3))
    assert gathering.blob_path(media_id).read_bytes() == expected


async def test_a_failed_index_less_append_leaves_its_index_to_the_retry(
    env: Env, alice: User, png_file: Path
) -> None:
    data = png_file.read_bytes()
    opened = await env.client.post(
        f"{UPLOAD}/initialize",
        json={"media_type": "image/png", "total_bytes": len(data)},
        headers=alice.headers,
    )
    media_id = opened.json()["data"]["id"]
    half = len(data) // 2

    first = await env.client.post(
        f"{UPLOAD}/{media_id}/append",
        files={"media": ("blob", data[:half], "application/octet-stream")},
        headers=alice.headers,
    )
    too_big = await env.client.post(
        f"{UPLOAD}/{media_id}/append",
        files={"media": ("blob", data, "application/octet-stream")},
        headers=alice.headers,
    )
    retry = await env.client.post(
        f"{UPLOAD}/{media_id}/append",
        files={"media": ("blob", data[half:], "application/octet-stream")},
        headers=alice.headers,
    )
    finalized = await env.client.post(f"{UPLOAD}/{media_id}/finalize", headers=alice.headers)

    assert first.status_code == 200
    assert too_big.status_code == 400  # more than total_bytes: refused, index released
    assert retry.status_code == 200, retry.text
    assert finalized.status_code == 200, finalized.text
    assert finalized.json()["data"]["size"] == len(data)
    store = env.state.store
    assert isinstance(store, FilesystemStore)
    assert store.blob_path(media_id).read_bytes() == data


async def test_an_index_less_append_after_finalize_is_refused(
    env: Env, alice: User, png_file: Path
) -> None:
    data = png_file.read_bytes()
    opened = await env.client.post(
        f"{UPLOAD}/initialize",
        json={"media_type": "image/png", "total_bytes": len(data)},
        headers=alice.headers,
    )
    media_id = opened.json()["data"]["id"]
    await env.client.post(
        f"{UPLOAD}/{media_id}/append",
        files={"media": ("blob", data, "application/octet-stream")},
        headers=alice.headers,
    )
    await env.client.post(f"{UPLOAD}/{media_id}/finalize", headers=alice.headers)

    late = await env.client.post(
        f"{UPLOAD}/{media_id}/append",
        files={"media": ("blob", data, "application/octet-stream")},
        headers=alice.headers,
    )

    assert late.status_code == 400
