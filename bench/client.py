"""A minimal HTTP/1.1 upload client: blocking sockets, bodies sent with ``sendfile``.

The request line, headers and multipart envelope are a few hundred bytes built per
request; the media bytes go from the page cache to the socket with ``sendfile`` and
never pass through Python, so the client costs far less CPU than the server. Threads give
concurrency (``sendfile`` and ``recv`` release the GIL). Only 127.0.0.1 is ever targeted.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import urlencode

from bench.payload import Encoded

HOST = "127.0.0.1"
PATH = "/1.1/media/upload.json"
BOUNDARY = "----mediastudio-bench-7MA4YWxkTrZu0gW"


class HTTPError(Exception):
    pass


@dataclass
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FileSpan:
    file: BinaryIO
    offset: int
    count: int


Part = bytes | FileSpan


class Connection:
    """One keep-alive connection to ``127.0.0.1:port``."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.token = token
        self._sock: socket.socket | None = None
        self._buf = b""

    def _socket(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.create_connection((HOST, self.port), timeout=120)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._buf = b""
        return self._sock

    def close(self) -> None:
        """Close; also wakes a thread blocked on this connection (``shutdown``)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def request(
        self, method: str, target: str, parts: Sequence[Part] = (), content_type: str = ""
    ) -> Response:
        length = sum(p.count if isinstance(p, FileSpan) else len(p) for p in parts)
        head = [f"{method} {target} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        if self.token:
            head.append(f"Authorization: Bearer {self.token}")
        if method == "POST":
            head += [f"Content-Type: {content_type}", f"Content-Length: {length}"]
        sock = self._socket()
        pending = ("\r\n".join(head) + "\r\n\r\n").encode()
        try:
            for part in parts:
                if isinstance(part, FileSpan):
                    if pending:
                        sock.sendall(pending)
                        pending = b""
                    _sendfile(sock, part)
                else:
                    pending += part
            if pending:
                sock.sendall(pending)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (and close) before reading the whole body
        try:
            return self._read_response()
        except (OSError, HTTPError) as exc:
            self.close()
            raise HTTPError(f"{method} {target}: {exc!r}") from exc

    def _recv(self) -> bytes:
        assert self._sock is not None
        data = self._sock.recv(65536)
        if not data:
            raise HTTPError("connection closed")
        return data

    def _read_response(self) -> Response:
        while (end := self._buf.find(b"\r\n\r\n")) == -1:
            self._buf += self._recv()
        head, self._buf = self._buf[:end].decode("latin-1"), self._buf[end + 4 :]
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status in (204, 304):
            body = b""
        elif "content-length" in headers:
            length = int(headers["content-length"])
            while len(self._buf) < length:
                self._buf += self._recv()
            body, self._buf = self._buf[:length], self._buf[length:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while (end := self._buf.find(b"0\r\n\r\n")) == -1:
                self._buf += self._recv()
            body, self._buf = self._buf[:end], self._buf[end + 5 :]
        else:
            raise HTTPError(f"unframed response ({status})")
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, body)

    def form(self, params: dict[str, str]) -> Response:
        body = urlencode(params).encode()
        return self.request("POST", PATH, [body], "application/x-www-form-urlencoded")


def _sendfile(sock: socket.socket, span: FileSpan) -> None:
    """``os.sendfile`` in a loop (``socket.sendfile`` copes with the socket's timeout)."""
    if sock.sendfile(span.file, span.offset, span.count) != span.count:
        raise BrokenPipeError("short sendfile")


def append_parts(
    encoded: Encoded, file: BinaryIO, media_id: str, index: int
) -> tuple[list[Part], str]:
    """The APPEND body for segment ``index`` as tweepy lays it out (fields, then media)."""
    offset, count = encoded.spans[index]
    span = FileSpan(file, offset, count)
    fields = {"command": "APPEND", "media_id": media_id, "segment_index": str(index)}
    if encoded.kind == "base64-percent":
        prefix = (urlencode(fields) + "&media_data=").encode()
        return [prefix, span], "application/x-www-form-urlencoded"
    head = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    )
    if encoded.kind == "raw":
        head += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="media"; filename="blob"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
    else:
        head += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="media_data"\r\n\r\n'
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return [head.encode(), span, tail], f"multipart/form-data; boundary={BOUNDARY}"


@dataclass
class Run:
    """What one client (or a set of clients) did: per-request latencies and errors."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    finalize: list[float] = field(default_factory=list)
    wall: float = 0.0
    media_ids: list[str] = field(default_factory=list)

    def merge(self, other: Run) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.finalize += other.finalize
        self.media_ids += other.media_ids


def init(conn: Connection, total_bytes: int) -> str:
    response = conn.form(
        {
            "command": "INIT",
            "total_bytes": str(total_bytes),
            "media_type": "video/mp4",
            "media_category": "amplify_video",
        }
    )
    if response.status != 202:
        raise HTTPError(f"INIT answered {response.status}: {response.body[:300]!r}")
    return str(response.json()["media_id_string"])


def append_all(conn: Connection, encoded: Encoded, media_id: str, run: Run) -> None:
    with open(encoded.path, "rb") as file:
        for index in range(len(encoded.spans)):
            parts, content_type = append_parts(encoded, file, media_id, index)
            started = time.perf_counter()
            try:
                response = conn.request("POST", PATH, parts, content_type)
            except HTTPError as exc:
                run.errors.append(str(exc))
                continue
            run.latencies.append(time.perf_counter() - started)
            if response.status not in (200, 204):
                run.errors.append(f"APPEND {index}: {response.status} {response.body[:200]!r}")


def finalize(conn: Connection, media_id: str, run: Run) -> None:
    started = time.perf_counter()
    try:
        response = conn.form({"command": "FINALIZE", "media_id": media_id})
    except HTTPError as exc:
        run.errors.append(str(exc))
        return
    run.finalize.append(time.perf_counter() - started)
    if response.status not in (200, 201):
        run.errors.append(f"FINALIZE: {response.status} {response.body[:200]!r}")


def upload(
    port: int, token: str | None, encoded: Encoded, *, total_bytes: int, clients: int = 1
) -> Run:
    """``clients`` concurrent uploads of ``encoded``: INIT (untimed), the APPENDs
    (timed together: ``wall``), then FINALIZE (timed per upload). With ``token=None`` the
    APPEND bodies go to the ceiling sink instead, with no INIT or FINALIZE."""
    conns = [Connection(port, token) for _ in range(clients)]
    ids = [init(c, total_bytes) if token else "0" for c in conns]
    runs = [Run(media_ids=[i]) for i in ids]
    gate = threading.Barrier(clients + 1)

    def appends(k: int) -> None:
        gate.wait()
        append_all(conns[k], encoded, ids[k], runs[k])

    pool = ThreadPoolExecutor(clients)
    try:
        futures = [pool.submit(appends, k) for k in range(clients)]
        gate.wait(timeout=60)
        started = time.perf_counter()
        for future in futures:
            future.result()
        wall = time.perf_counter() - started
        if token:
            done = [pool.submit(finalize, conns[k], ids[k], runs[k]) for k in range(clients)]
            for future in done:
                future.result()
    finally:
        for conn in conns:  # unblocks the threads if we got here by an exception
            conn.close()
        pool.shutdown(wait=True, cancel_futures=True)
    total = Run(wall=wall)
    for run in runs:
        total.merge(run)
    return total
