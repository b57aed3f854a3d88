"""A full disk, for real: the storage root on an 8 MiB tmpfs, the service a real uvicorn.

The database lives elsewhere (the run's own). The disk is filled by a file the test
writes beside the service's folder, so the test frees the space by deleting it.
"""

from __future__ import annotations

import http.client
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.filesystem import FilesystemStore
from tests.conftest import _truncate
from tests.fixtures.protocol import MIB, URL
from tests.fixtures.served import (
    Served,
    fill,
    free_space,
    init_video,
    padded_video,
    small_filesystem,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_filesystem(tmp_path / "disk", size_mib=8) as folder:
        yield folder


@pytest.fixture
async def server(
    request: pytest.FixtureRequest,
    disk: Path,
    database_url: str,
    engine: AsyncEngine,
    tmp_path: Path,
) -> AsyncIterator[Served]:
    http, drain_max = getattr(request, "param", ("httptools", 16 * MIB))
    served = Served(
        disk / "data", database_url, tmp_path / "server.log", http=http,
        worker__in_process="false", storage__min_free_bytes=str(2 * MIB),
        storage__min_free_percent="0", storage__drain_max_bytes=str(drain_max),
    )  # fmt: skip
    served.start()
    yield served
    served.stop()
    await _truncate(engine)


def temp_and_segments(store: FilesystemStore, media_id: str) -> list[str]:
    folder = store.blob_path(media_id).parent
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


class Connection:
    """One keep-alive connection (http.client): ``same_socket`` tells whether every
    request so far went over the first socket."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
        self.headers, self.sockets = headers, set[int]()

    def send(self, request: httpx.Request) -> tuple[int, dict[str, str], Any]:
        body = request.read()
        headers = {**dict(request.headers), **self.headers}
        path = request.url.raw_path.decode()
        self.conn.request(request.method, path, body=body, headers=headers)
        assert self.conn.sock is not None
        self.sockets.add(self.conn.sock.getsockname()[1])
        response = self.conn.getresponse()
        raw = response.read()
        answer = httpx.Response(response.status, content=raw)
        return (
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            (answer.json() if raw else None),
        )

    @property
    def same_socket(self) -> bool:
        return len(self.sockets) == 1

    def close(self) -> None:
        self.conn.close()


def _append(client: httpx.Client, media_id: str, index: int, data: bytes) -> httpx.Request:
    fields = {"command": "APPEND", "media_id": media_id, "segment_index": str(index)}
    return client.build_request(
        "POST", URL, data=fields, files={"media": ("blob", data, "video/mp4")}
    )


@pytest.mark.parametrize(
    "server", [("httptools", 16 * MIB), ("h11", 16 * MIB)], indirect=True, ids=["httptools", "h11"]
)
def test_append_on_a_full_disk_is_503_and_the_connection_stays_usable(
    server: Served, disk: Path, mp4_file: Path
) -> None:
    headers = server.user("filler")
    store = FilesystemStore(server.data_dir / "media")
    data = padded_video(mp4_file, 3 * MIB)
    with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
        assert client.get("/readyz").status_code == 200
        media_id = init_video(client, len(data))
        fill(disk, leave=MIB)
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["failing"] == ["storage_space"]
        assert ready.json()["storage_space"]["min_free_bytes"] == 2 * MIB

        connection = Connection(server.base, headers)
        try:
            status, answer_headers, body = connection.send(_append(client, media_id, 0, data))
            assert status == 503
            assert body == {"errors": [{"code": 130, "message": body["errors"][0]["message"]}]}
            assert "full" in body["errors"][0]["message"]
            assert answer_headers["retry-after"] == "60"
            assert answer_headers.get("connection") != "close"
            # The same connection carries the next request: no reset.
            params = f"?command=STATUS&media_id={media_id}"
            status_request = httpx.Request("GET", server.base + URL + params)
            status, _, body = connection.send(status_request)
            assert status == 200, body
            assert connection.same_socket
            assert body["upload_info"]["segments"] == []  # nothing recorded
            # v2, the same: problem JSON, 503, on the same connection again.
            v2 = httpx.Request(
                "POST", f"{server.base}/2/media/upload/{media_id}/append",
                data={"segment_index": "0"}, files={"media": ("blob", data, "video/mp4")},
            )  # fmt: skip
            status, answer_headers, body = connection.send(v2)
            assert status == 503
            assert body["status"] == 503
            assert body["errors"][0]["code"] == 130
            assert answer_headers["retry-after"] == "60"
            assert connection.same_socket
        finally:
            connection.close()
        # Nothing half-written: no staged bytes, no segment.
        assert temp_and_segments(store, media_id) == []

        # Clean recovery: space freed, the same APPEND and FINALIZE succeed.
        free_space(disk)
        assert client.get("/readyz").status_code == 200
        assert client.send(_append(client, media_id, 0, data)).status_code == 204
        done = client.post(URL, data={"command": "FINALIZE", "media_id": media_id})
        assert done.status_code == 200, done.text
        assert done.json()["size"] == len(data)
        assert temp_and_segments(store, media_id) == ["blob"]


def test_finalize_on_a_full_disk_is_503_and_keeps_the_segments(
    server: Served, disk: Path, mp4_file: Path
) -> None:
    headers = server.user("assembler")
    store = FilesystemStore(server.data_dir / "media")
    data = padded_video(mp4_file, 4 * MIB)
    with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
        media_id = init_video(client, len(data))
        for index in range(2):
            chunk = data[index * 2 * MIB : (index + 1) * 2 * MIB]
            assert client.send(_append(client, media_id, index, chunk)).status_code == 204
        fill(disk, leave=MIB)  # room for a quarter of the blob

        refused = client.post(URL, data={"command": "FINALIZE", "media_id": media_id})
        assert refused.status_code == 503, refused.text
        assert refused.json()["errors"][0]["code"] == 130
        assert refused.headers["retry-after"] == "60"
        # No half blob; the segments are intact and the upload open again.
        assert temp_and_segments(store, media_id) == ["seg-000", "seg-001"]
        status = client.get(URL, params={"command": "STATUS", "media_id": media_id})
        assert status.status_code == 200
        assert [s["size"] for s in status.json()["upload_info"]["segments"]] == [2 * MIB] * 2

        free_space(disk)
        done = client.post(URL, data={"command": "FINALIZE", "media_id": media_id})
        assert done.status_code == 200, done.text
        assert done.json()["processing_info"]["state"] == "pending"
        assert temp_and_segments(store, media_id) == ["blob"]


@pytest.mark.parametrize("server", [("h11", 256 * 1024)], indirect=True, ids=["h11"])
def test_a_refused_body_longer_than_the_drain_cap_closes_the_connection(
    server: Served, disk: Path, mp4_file: Path
) -> None:
    headers = server.user("flooder")
    data = padded_video(mp4_file, 4 * MIB)
    with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
        media_id = init_video(client, len(data))
        fill(disk, leave=MIB)
        connection = Connection(server.base, headers)
        try:
            status, answer_headers, _ = connection.send(_append(client, media_id, 0, data))
        finally:
            connection.close()
        # Not read past the cap: answered, and the connection closed (said so).
        assert status == 503
        assert answer_headers["connection"] == "close"
