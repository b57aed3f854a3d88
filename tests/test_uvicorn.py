"""Over a real socket: a real uvicorn server (two worker processes) on each database.

ASGITransport buffers whole bodies, so only a real server can show that an upload
streams: the server's memory must not grow with the file.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import _truncate
from tests.fixtures import media
from tests.fixtures.protocol import MIB, URL, segments
from tests.fixtures.served import Served

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


class Server(Served):
    """``mediastudio serve`` with two worker processes (and no job worker)."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        super().__init__(
            data_dir, database_url, data_dir.parent / "server.log", worker__in_process="false"
        )

    def command(self) -> list[str]:
        return [str(BIN / "mediastudio"), "serve", "--port", str(self.port), "--workers", "2"]

    def rss(self) -> int:
        assert self.process is not None
        parent = psutil.Process(self.process.pid)
        return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])


@pytest.fixture
async def server(database_url: str, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Server]:
    served = Server(tmp_path / "data", database_url)
    served.start()
    yield served
    served.stop()
    await _truncate(engine)


@pytest.fixture(scope="session")
def video_50mib(media_dir: Path) -> Path:
    path = media.make_noise_mp4(media_dir / "noise50.mp4", seconds=5)
    assert path.stat().st_size > 50 * MIB
    return path


def _upload(
    server: Server, headers: dict[str, str], data: bytes, *, parallel: int
) -> dict[str, Any]:
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
        fields = {"command": "INIT", "total_bytes": str(len(data)), "media_type": "video/mp4"}
        init = client.post(URL, data={**fields, "media_category": "amplify_video"})
        assert init.status_code == 202, init.text
        media_id = init.json()["media_id_string"]

        def put(item: tuple[int, bytes]) -> int:
            index, chunk = item
            return client.post(
                URL,
                data={"command": "APPEND", "media_id": media_id, "segment_index": str(index)},
                files={"media": ("blob", chunk, "application/octet-stream")},
            ).status_code

        with ThreadPoolExecutor(parallel) as pool:
            codes = list(pool.map(put, enumerate(segments(data, 5 * MIB))))
        assert codes == [204] * len(codes)
        done = client.post(URL, data={"command": "FINALIZE", "media_id": media_id})
        assert done.status_code == 200, done.text
        result: dict[str, Any] = done.json()
        return result


def _sample_peak(server: Server, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], server.rss())
        time.sleep(0.01)


def test_50_mib_upload_streams_without_server_memory_growing_with_the_file(
    server: Server, video_50mib: Path, mp4_file: Path
) -> None:
    headers = server.user("streamer")
    small = mp4_file.read_bytes()
    _upload(server, headers, small, parallel=1)  # warm both workers' code paths
    _upload(server, headers, small, parallel=2)
    baseline = server.rss()
    data = video_50mib.read_bytes()
    stop, peak = threading.Event(), [baseline]
    sampler = threading.Thread(target=_sample_peak, args=(server, stop, peak))
    sampler.start()

    try:
        body = _upload(server, headers, data, parallel=3)
    finally:
        stop.set()
        sampler.join()

    assert body["size"] == len(data)
    # Three 5 MiB segments in flight may be buffered by the transport; the file may not.
    assert peak[0] - baseline < 30 * MIB, (baseline, peak[0])
    blob = server.env["MEDIASTUDIO_DATA_DIR"]
    found = [p for p in Path(blob).rglob("blob") if p.stat().st_size == len(data)]
    assert len(found) == 1
    assert hashlib.sha256(found[0].read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
