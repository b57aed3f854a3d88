"""Small-request throughput: ``wrk`` when it is on PATH, else a lean asyncio client.

The asyncio client keeps ``connections`` keep-alive connections busy, one request in
flight on each, with pre-built request bytes and only the framing parsed (uvloop
protocols, no streams). It runs in a separate process so that the bench's other threads
do not share its GIL, and reports its own CPU time so the reader can tell whether the
client or the server bound the number.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

HOST = "127.0.0.1"


@dataclass
class Target:
    method: str
    path: str
    token: str | None = None
    body: bytes = b""
    content_type: str = "application/x-www-form-urlencoded"
    expect: int = 200

    def raw(self, port: int) -> bytes:
        head = [f"{self.method} {self.path} HTTP/1.1", f"Host: {HOST}:{port}"]
        if self.token:
            head.append(f"Authorization: Bearer {self.token}")
        if self.method == "POST":
            head += [f"Content-Type: {self.content_type}", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + self.body


class _Conn(asyncio.Protocol):
    def __init__(self, request: bytes, expect: int, stats: dict[str, Any]) -> None:
        self.request, self.expect, self.stats = request, expect, stats
        self.buf = b""
        self.started = 0.0
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.started = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) != -1:
            head = self.buf[:end]
            match = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            length = int(match.group(1)) if match else 0
            if len(self.buf) < end + 4 + length:
                return
            self.buf = self.buf[end + 4 + length :]
            stats = self.stats
            if int(head[9:12]) == self.expect:
                stats["latencies"].append(time.perf_counter() - self.started)
            else:
                stats["errors"] += 1
            if stats["running"]:
                self._send()
            elif self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _drive(port: int, target: Target, connections: int, seconds: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stats: dict[str, Any] = {"latencies": [], "errors": 0, "running": True}
    request = target.raw(port)
    cpu0 = _cpu()
    started = time.perf_counter()
    conns = []
    for _ in range(connections):
        _, proto = await loop.create_connection(
            lambda: _Conn(request, target.expect, stats), HOST, port
        )
        conns.append(proto)
    await asyncio.sleep(seconds)
    stats["running"] = False
    wall = time.perf_counter() - started
    done = len(stats["latencies"])
    await asyncio.wait([c.closed for c in conns], timeout=5)
    return _summary("asyncio", done, stats["errors"], wall, stats["latencies"], _cpu() - cpu0)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _summary(
    client: str, done: int, errors: int, wall: float, latencies: list[float], cpu: float
) -> dict[str, Any]:
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    return {
        "client": client,
        "requests": done,
        "errors": errors,
        "wall_s": round(wall, 3),
        "rps": round(done / wall, 1) if wall else 0.0,
        "p50_ms": round(pct(0.5) * 1000, 2),
        "p99_ms": round(pct(0.99) * 1000, 2),
        "client_cpu_pct": round(100 * cpu / wall, 1) if wall else 0.0,
    }


_WRK_SCRIPT = """wrk.method = {method}
wrk.body = {body}
wrk.headers["Content-Type"] = {content_type}
{auth}
"""


def _wrk(port: int, target: Target, connections: int, seconds: float) -> dict[str, Any]:
    lua = _WRK_SCRIPT.format(
        method=json.dumps(target.method),
        body=json.dumps(target.body.decode()),
        content_type=json.dumps(target.content_type),
        auth=f'wrk.headers["Authorization"] = "Bearer {target.token}"' if target.token else "",
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    command += ["-s", script.name, f"http://{HOST}:{port}{target.path}"]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        Path(script.name).unlink()

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return 0.0
        return float(match.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)]

    requests = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*?(\d+).*?(\d+).*?(\d+).*?(\d+)", out)
    return {
        "client": "wrk",
        "requests": int(requests.group(1)) if requests else 0,
        "errors": (int(non2xx.group(1)) if non2xx else 0)
        + (sum(int(g) for g in errors.groups()) if errors else 0),
        "wall_s": seconds,
        "rps": float(rate.group(1)) if rate else 0.0,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "client_cpu_pct": None,
    }


def measure(port: int, target: Target, *, connections: int, seconds: float) -> dict[str, Any]:
    """Requests per second of ``target`` (wrk if installed, else the asyncio client)."""
    if shutil.which("wrk"):
        return _wrk(port, target, connections, seconds)
    spec = json.dumps(
        {"port": port, "connections": connections, "seconds": seconds, **_target_dict(target)}
    )
    done = subprocess.run(
        [sys.executable, "-m", "bench.rps"],
        input=spec,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _target_dict(target: Target) -> dict[str, Any]:
    return {
        "method": target.method,
        "path": target.path,
        "token": target.token,
        "body": target.body.decode(),
        "content_type": target.content_type,
        "expect": target.expect,
    }


def _main() -> None:
    spec = json.loads(sys.stdin.read())
    target = Target(
        spec["method"],
        spec["path"],
        spec["token"],
        spec["body"].encode(),
        spec["content_type"],
        spec["expect"],
    )
    import uvloop  # ships with uvicorn[standard], which the service depends on

    result = uvloop.run(_drive(spec["port"], target, spec["connections"], spec["seconds"]))
    print(json.dumps(result))


if __name__ == "__main__":
    _main()
