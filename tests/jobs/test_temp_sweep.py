"""A real SIGKILL of a real uvicorn mid-APPEND and mid-FINALIZE, then a restart: the
temporary files the kill left are swept at start-up, the committed segments are intact
and the upload completes.

The service runs with a short temp-file threshold and FINALIZE lease; its job worker
polls once at start-up and then never again, so no processing competes for the cores.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.filesystem import FilesystemStore
from tests.conftest import _truncate
from tests.fixtures.protocol import MIB, URL, segments
from tests.fixtures.served import Served, init_video, padded_video

pytestmark = pytest.mark.slow
SEGMENT = 5 * MIB
TEMP = (".stage-", ".prev-", ".next-", ".blob-", ".put-")


@pytest.fixture
async def server(database_url: str, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Served]:
    served = Served(
        tmp_path / "data", database_url, tmp_path / "server.log",
        worker__poll_interval_secs="100000", worker__lease_secs="2",
        worker__sweep_interval_secs="0.2", storage__temp_max_age_secs="1",
        storage__temp_sweep_interval_secs="0.5",
    )  # fmt: skip
    served.start()
    yield served
    served.stop()
    await _truncate(engine)


def _wait(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll a condition another process makes true (no event to await across it)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def _names(store: FilesystemStore, media_id: str) -> list[str]:
    folder = store.blob_path(media_id).parent
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _temp(store: FilesystemStore, media_id: str) -> list[str]:
    return [n for n in _names(store, media_id) if n.startswith(TEMP)]


def _append(client: httpx.Client, media_id: str, index: int, chunk: bytes) -> None:
    fields = {"command": "APPEND", "media_id": media_id, "segment_index": str(index)}
    answer = client.post(URL, data=fields, files={"media": ("blob", chunk, "video/mp4")})
    assert answer.status_code == 204, answer.text


def _finalize(client: httpx.Client, media_id: str) -> httpx.Response:
    return client.post(URL, data={"command": "FINALIZE", "media_id": media_id})


def _restart_and_sweep(server: Served, store: FilesystemStore, media_id: str) -> None:
    server.start()
    _wait(lambda: not _temp(store, media_id), "the start-up sweep")


def test_a_kill_mid_append_leaves_a_staged_file_that_the_restart_sweeps(
    server: Served, mp4_file: Path
) -> None:
    headers = server.user("killed-append")
    store = FilesystemStore(server.data_dir / "media")
    data = padded_video(mp4_file, 3 * SEGMENT)
    parts = segments(data, SEGMENT)
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
        media_id = init_video(client, len(data))
        _append(client, media_id, 0, parts[0])
        _append(client, media_id, 1, parts[1])
    # Segment 2 by hand: two thirds of its body, then the server dies.
    request = httpx.Request(
        "POST", server.base + URL, headers=headers,
        data={"command": "APPEND", "media_id": media_id, "segment_index": "2"},
        files={"media": ("blob", parts[2], "video/mp4")},
    )  # fmt: skip
    body = request.read()
    head = f"POST {URL} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "host"
    )
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head.encode() + b"\r\n" + body[: len(body) * 2 // 3])
        _wait(
            lambda: any(
                (store.blob_path(media_id).parent / n).stat().st_size >= 2 * MIB
                for n in _temp(store, media_id)
            ),
            "the staged segment",
        )
        server.kill()
    assert [n for n in _temp(store, media_id) if n.startswith(".stage-002-")]

    _restart_and_sweep(server, store, media_id)

    assert _names(store, media_id) == ["seg-000", "seg-001"]  # committed: untouched
    _complete(server, headers, store, media_id, data, resend={2: parts[2]})


def _complete(
    server: Served,
    headers: dict[str, str],
    store: FilesystemStore,
    media_id: str,
    data: bytes,
    resend: dict[int, bytes] | None = None,
) -> None:
    """The client goes on after the restart: the segments it lost, FINALIZE, the blob."""
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
        for index, part in (resend or {}).items():
            _append(client, media_id, index, part)
        done = _finalize(client, media_id)
        assert done.status_code == 200, done.text
    assert _names(store, media_id) == ["blob"]
    assert store.blob_path(media_id).read_bytes() == data


def _kill_mid_finalize(
    server: Served, client: httpx.Client, store: FilesystemStore, data: bytes
) -> str | None:
    """Upload ``data``, FINALIZE it and SIGKILL the server once the half blob shows;
    None when FINALIZE answered first."""
    media_id = init_video(client, len(data))
    for index, part in enumerate(segments(data, SEGMENT)):
        _append(client, media_id, index, part)
    answered = threading.Event()

    def finalize() -> None:
        try:
            _finalize(client, media_id)
        except httpx.HTTPError:
            pass  # the server died under it
        finally:
            answered.set()

    thread = threading.Thread(target=finalize)
    thread.start()
    _wait(lambda: answered.is_set() or bool(_temp(store, media_id)), "the assembly")
    killed = not answered.is_set()
    if killed:
        server.kill()
    thread.join()
    return media_id if killed else None


def test_a_kill_mid_finalize_leaves_a_half_blob_that_the_restart_sweeps(
    server: Served, mp4_file: Path
) -> None:
    store = FilesystemStore(server.data_dir / "media")
    data = padded_video(mp4_file, 16 * SEGMENT)
    headers = server.user("killed-finalize")
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
        # The assembly may end before the kill catches it: then try again.
        caught = next(filter(None, (_kill_mid_finalize(server, client, store, data)
                                    for _ in range(3))), None)  # fmt: skip
    assert caught is not None, "FINALIZE always finished before the kill"
    left = _temp(store, caught)
    assert left
    assert all(n.startswith(".blob-") for n in left)

    # The FINALIZE lease (2 s here) keeps the sweep away until it lapses.
    _restart_and_sweep(server, store, caught)

    assert _names(store, caught) == [f"seg-{i:03d}" for i in range(16)]
    _complete(server, headers, store, caught, data)
