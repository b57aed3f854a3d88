"""Slow clients against a real ``mediastudio serve`` (one process) over sockets.

Clients trickling a byte a second, in their headers or their bodies, are answered 408
and closed once the (short, test-set) timeouts pass, while ordinary INIT/STATUS requests
go on; a user's uploads in flight are capped (429 code 88) and so are a process's upload
bytes in flight (503 code 130, Retry-After). Nothing here asserts a wall-clock time:
latencies are compared with each other or counted against the timeout.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import User, _truncate, create_user
from tests.fixtures.live import PortTaken, free_port, wait_until_serving
from tests.fixtures.protocol import URL, init, status
from tests.metrics.samples import parse

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
TIMEOUT = 1.5  # the header timeout and the body idle timeout of the server under test
GIVE_UP = 10 * TIMEOUT  # a slow client not cut off by then: the timeouts do not work
PER_USER = 3
IN_FLIGHT = 1024 * 1024
SETTINGS = {
    "MEDIASTUDIO_HTTP__HEADER_TIMEOUT_SECS": str(TIMEOUT),
    "MEDIASTUDIO_HTTP__BODY_IDLE_TIMEOUT_SECS": str(TIMEOUT),
    "MEDIASTUDIO_HTTP__BODY_MIN_RATE": "100",
    "MEDIASTUDIO_HTTP__UPLOADS_PER_USER": str(PER_USER),
    "MEDIASTUDIO_HTTP__UPLOAD_BYTES_IN_FLIGHT": str(IN_FLIGHT),
    "MEDIASTUDIO_HTTP__UPLOAD_WAIT_SECS": "0.2",
}


@dataclass
class Served:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://{HOST}:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _start(data_dir: Path, database_url: str) -> Iterator[Served]:
    env = {
        **os.environ,
        **SETTINGS,
        "MEDIASTUDIO_DATA_DIR": str(data_dir),
        "MEDIASTUDIO_DATABASE_URL": database_url,
        "MEDIASTUDIO_WORKER__IN_PROCESS": "false",
    }
    log = data_dir.parent / "server.log"
    for _ in range(5):  # another run on this machine may take the port first
        port = free_port()
        with log.open("wb") as out:
            command = [str(BIN / "mediastudio"), "serve", "--port", str(port)]
            process = subprocess.Popen(command, env=env, stdout=out, stderr=out)

        try:
            wait_until_serving(process, log, functools.partial(_healthy, port))
        except PortTaken:
            continue
        try:
            yield Served(port, process)
        finally:
            process.terminate()
            process.wait(15)
        return
    raise RuntimeError("no free port after 5 tries")


@pytest.fixture(scope="module")
async def served(
    database_url: str, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Served]:
    for server in _start(tmp_path_factory.mktemp("slow") / "data", database_url):
        yield server
    await _truncate(engine)


@dataclass
class Outcome:
    status: int | None  # None: closed without an answer
    body: bytes
    closed: bool  # the server closed the connection (EOF) before GIVE_UP


async def _raw(port: int, head: bytes, rest: bytes = b"", every: float = 1.0) -> Outcome:
    """Send ``head`` at once, then ``rest`` a byte every ``every`` seconds, and read
    whatever comes back until the server closes (or GIVE_UP)."""
    reader, writer = await asyncio.open_connection(HOST, port)

    async def trickle() -> None:
        for byte in rest:
            await asyncio.sleep(every)
            writer.write(bytes([byte]))
            await writer.drain()

    writer.write(head)
    feeder = asyncio.create_task(trickle())
    closed, data = True, b""
    try:
        async with asyncio.timeout(GIVE_UP):
            while chunk := await reader.read(65536):  # to EOF
                feeder.cancel()  # answered: send no more (as clients do)
                data += chunk
    except TimeoutError:
        closed = False
    except ConnectionResetError:
        pass  # closed; a byte sent as the server closed may cost the answer (status None)
    finally:
        feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)
        writer.close()
    head_part, _, body = data.partition(b"\r\n\r\n")
    code = int(head_part.split(b" ")[1]) if head_part.startswith(b"HTTP/1.1 ") else None
    return Outcome(code, body, closed)


def _post_head(path: str, user: User, length: int, content_type: str) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {HOST}",
        f"Authorization: {user.headers['Authorization']}",
        f"Content-Type: {content_type}",
        f"Content-Length: {length}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _appending(user: User, media_id: str, index: int, declared: int) -> bytes:
    """An APPEND's head and the start of its multipart body, up to some media bytes; the
    rest (to ``declared`` bytes) never comes."""
    start = (
        f'--B\r\nContent-Disposition: form-data; name="command"\r\n\r\nAPPEND\r\n'
        f'--B\r\nContent-Disposition: form-data; name="media_id"\r\n\r\n{media_id}\r\n'
        f'--B\r\nContent-Disposition: form-data; name="segment_index"\r\n\r\n{index}\r\n'
        f'--B\r\nContent-Disposition: form-data; name="media"; filename="m"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + b"x" * 1024
    return _post_head(URL, user, declared, "multipart/form-data; boundary=B") + start


async def _ordinary(base: str, user: User, rounds: int, clients: int) -> list[tuple[int, float]]:
    """``clients`` loops of INIT then STATUS; (status, seconds) of every request."""
    loop = asyncio.get_running_loop()
    results: list[tuple[int, float]] = []
    async with httpx.AsyncClient(base_url=base, timeout=GIVE_UP) as client:

        async def one_client() -> None:
            for _ in range(rounds):
                began = loop.time()
                made = await init(client, user.headers, total_bytes=1000, media_type="image/png")
                results.append((made.status_code, loop.time() - began))
                if made.status_code != 202:
                    continue
                began = loop.time()
                polled = await status(client, user.headers, made.json()["media_id_string"])
                results.append((polled.status_code, loop.time() - began))

        await asyncio.gather(*(one_client() for _ in range(clients)))
    return results


def _error_code(outcome: Outcome) -> int:
    return int(json.loads(outcome.body)["errors"][0]["code"])


async def test_slow_clients_are_cut_off_and_ordinary_requests_keep_their_latency(
    served: Served, engine: AsyncEngine
) -> None:
    alice = await create_user(engine, "alice_slow")
    mallory = await create_user(engine, "mallory_slow")
    await _ordinary(served.base, alice, rounds=3, clients=4)  # warm-up
    alone = await _ordinary(served.base, alice, rounds=15, clients=4)

    header_head = f"GET {URL}?command=STATUS&media_id=1 HTTP/1.1\r\nHost: {HOST}\r\n".encode()
    body = b"command=INIT&total_bytes=1000&media_type=image/png&"
    body_head = _post_head(URL, mallory, len(body) + 40, "application/x-www-form-urlencoded")
    slow = [_raw(served.port, header_head, b"X-Slow: " + b"a" * 60) for _ in range(40)]
    slow += [_raw(served.port, body_head + body[:8], body[8:]) for _ in range(40)]
    slow_done = asyncio.gather(*slow)
    beside = await _ordinary(served.base, alice, rounds=15, clients=4)
    outcomes = await slow_done

    headers_cut, bodies_cut = outcomes[:40], outcomes[40:]
    assert [(o.status, o.closed) for o in headers_cut] == [(408, True)] * 40
    assert {_error_code(o) for o in headers_cut} == {408}
    assert [(o.status, o.closed) for o in bodies_cut] == [(408, True)] * 40
    assert {_error_code(o) for o in bodies_cut} == {408}  # v1.1's errors JSON
    # Every ordinary request answered, none held as long as a slow client's timeout,
    # their median latency about what it was without the slow clients.
    assert {code for code, _ in alone + beside} == {200, 202}
    assert len(beside) == len(alone) == 120
    assert [seconds for _, seconds in beside if seconds >= TIMEOUT] == []
    median_alone = statistics.median(seconds for _, seconds in alone)
    median_beside = statistics.median(seconds for _, seconds in beside)
    assert median_beside < 3 * median_alone, (median_alone, median_beside)


async def test_an_idle_connection_without_a_request_is_closed_quietly(served: Served) -> None:
    outcome = await _raw(served.port, b"")

    assert (outcome.status, outcome.body, outcome.closed) == (None, b"", True)


async def test_headers_over_the_cap_are_refused(served: Served) -> None:
    head = f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\nX-Big: ".encode() + b"a" * 70_000

    outcome = await _raw(served.port, head)

    assert (outcome.status, outcome.closed, _error_code(outcome)) == (431, True, 431)


async def _media_id(base: str, user: User) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        made = await init(client, user.headers, total_bytes=10_000_000, media_type="video/mp4")
    assert made.status_code == 202, made.text
    return str(made.json()["media_id_string"])


async def _append_now(base: str, user: User, media_id: str, index: int) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base) as client:
        return await client.post(
            URL,
            headers=user.headers,
            data={"command": "APPEND", "media_id": media_id, "segment_index": str(index)},
            files={"media": ("m", b"y" * 1000, "application/octet-stream")},
        )


async def _refused(base: str, user: User, media_id: str, status_code: int) -> httpx.Response:
    """APPENDs until one is refused with ``status_code``: the stalled ones are counted
    once the server has read their fields, which this side cannot see."""
    for index in range(50, 80):
        answer = await _append_now(base, user, media_id, index)
        if answer.status_code == status_code:
            return answer
        assert answer.status_code == 204, answer.text
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {status_code} while the uploads were held")


def _gate_refusals(base: str, reason: str) -> float:
    """``mediastudio_upload_gate_refusals_total{reason}`` as the server's /metrics says."""
    scraped = parse(httpx.get(base + "/metrics", timeout=10).text)
    return scraped.value("mediastudio_upload_gate_refusals_total", reason=reason)


async def test_a_users_uploads_in_flight_are_capped(served: Served, engine: AsyncEngine) -> None:
    alice = await create_user(engine, "alice_cap")
    bob = await create_user(engine, "bob_cap")
    media_id, bobs = await _media_id(served.base, alice), await _media_id(served.base, bob)
    counted = _gate_refusals(served.base, "per_user")
    declared = 50_000  # PER_USER of them fit in IN_FLIGHT
    held = [
        asyncio.create_task(_raw(served.port, _appending(alice, media_id, index, declared)))
        for index in range(1, PER_USER + 1)  # segment 0 must look like an mp4
    ]

    refused = await _refused(served.base, alice, media_id, 429)
    async with httpx.AsyncClient(base_url=served.base, headers=alice.headers) as client:
        refused_v2 = await client.post(
            f"/2/media/upload/{media_id}/append",
            data={"segment_index": "98"},
            files={"media": ("m", b"y" * 1000, "application/octet-stream")},
        )
    others = await _append_now(served.base, bob, bobs, 1)
    outcomes = await asyncio.gather(*held)
    after = await _append_now(served.base, alice, media_id, 99)

    assert refused.json()["errors"][0]["code"] == 88
    problem = refused_v2.json()  # v2's problem form, the same count
    assert (refused_v2.status_code, problem["status"], problem["errors"][0]["code"]) == (
        429,
        429,
        88,
    )
    assert others.status_code == 204  # another user is not held up by alice's uploads
    assert [(o.status, o.closed) for o in outcomes] == [(408, True)] * PER_USER
    assert after.status_code == 204  # their places were given back
    assert _gate_refusals(served.base, "per_user") - counted == 2  # v1.1's and v2's


async def test_the_upload_bytes_in_flight_are_bounded(served: Served, engine: AsyncEngine) -> None:
    carol = await create_user(engine, "carol_bytes")
    dave = await create_user(engine, "dave_bytes")
    carols, daves = await _media_id(served.base, carol), await _media_id(served.base, dave)
    counted = _gate_refusals(served.base, "bytes")
    held = asyncio.create_task(_raw(served.port, _appending(carol, carols, 1, IN_FLIGHT - 1000)))

    refused = await _refused(served.base, dave, daves, 503)
    outcome = await held
    after = await _append_now(served.base, dave, daves, 99)

    assert refused.json()["errors"][0]["code"] == 130
    assert refused.headers["retry-after"] == "1"
    assert (outcome.status, outcome.closed) == (408, True)
    assert after.status_code == 204
    assert _gate_refusals(served.base, "bytes") - counted == 1
