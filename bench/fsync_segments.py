"""What an fsync per APPEND segment would cost: stage + commit + finalize of 5 MiB
segments through the real ``FilesystemStore``, with ``fsync_segments`` off and on,
interleaved so both see the same disk weather. Prints the median per segment.

    .venv/bin/python -m bench.fsync_segments [--segments 40] [--dir var/bench-fsync]

The folder (default under ``var/``, the service's data directory, so the same disk as
real uploads; not /tmp, which may be a tmpfs) is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

from app.storage.filesystem import FilesystemStore

SEGMENT = 5 * 1024 * 1024
CHUNK = 64 * 1024  # what the multipart reader hands over


async def _chunks(payload: bytes) -> AsyncIterator[bytes]:
    view = memoryview(payload)
    for offset in range(0, len(view), CHUNK):
        yield bytes(view[offset : offset + CHUNK])


async def _one(store: FilesystemStore, key: str, index: int, payload: bytes) -> float:
    started = time.perf_counter()
    staged = await store.stage_segment(key, index, _chunks(payload), checksum=False)
    await store.commit_segment(staged)
    await store.finalize_commit(staged)
    return time.perf_counter() - started


async def main(segments: int, folder: Path) -> None:
    payload = os.urandom(SEGMENT)
    stores = {
        "no fsync": FilesystemStore(folder / "plain"),
        "fsync": FilesystemStore(folder / "fsync", fsync_segments=True),
    }
    timings: dict[str, list[float]] = {name: [] for name in stores}
    try:
        for index in range(segments):
            for name, store in stores.items():
                timings[name].append(await _one(store, f"u{index // 100}", index % 100, payload))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for name, values in timings.items():
        median = statistics.median(values)
        print(
            f"{name:>9}: {median * 1000:6.1f} ms per 5 MiB segment (median of {segments}),"
            f" {SEGMENT / median / 2**20:6.0f} MiB/s"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=40)
    parser.add_argument("--dir", type=Path, default=Path("var/bench-fsync"))
    arguments = parser.parse_args()
    asyncio.run(main(arguments.segments, arguments.dir))
