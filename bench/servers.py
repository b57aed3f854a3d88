"""Start uvicorn processes on free loopback ports, watch their RSS and CPU, stop them."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
UVICORN_FLAGS = ["--loop", "uvloop", "--log-level", "warning"]
UVICORN_FLAGS += ["--timeout-graceful-shutdown", "5"]
MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def processes(self) -> list[psutil.Process]:
        try:
            parent = psutil.Process(self.proc.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        procs = self.processes()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for child in procs[1:]:  # workers a killed parent left behind, by pid
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def start(
    name: str,
    target: str,
    *,
    env: dict[str, str],
    workers: int,
    log_dir: Path,
    factory: bool = False,
    ready_path: str = "/",
    http: str = "httptools",
) -> Server:
    """``uvicorn target`` (httptools, or the protocol class ``http`` names, + uvloop, no
    access log) on a free loopback port."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", target, "--host", HOST, "--port", str(port)]
    command += [*UVICORN_FLAGS, "--http", http, "--no-access-log", "--workers", str(workers)]
    if factory:
        command.append("--factory")
    log = log_dir / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches the bench, which stops it
        )
    server = Server(name, port, proc, log)
    try:
        _wait_ready(server, ready_path, workers)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: Server, path: str, workers: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, server.port), 1) as s:
            s.sendall(request)
            answered = s.recv(64).startswith(b"HTTP/1.1 ")
            if answered and (workers == 1 or len(server.processes()) > workers):
                return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready after {timeout}s:\n{server.log.read_text()}")


@dataclass
class Usage:
    """One measured phase: wall time, CPU seconds of server and client, RSS."""

    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    rss_start: int = 0
    rss_peak: int = 0  # the largest single server process
    rss_peak_total: int = 0  # all server processes together
    samples: int = 0

    def as_dict(self) -> dict[str, float]:
        return {
            "wall_s": round(self.wall, 4),
            "server_cpu_s": round(self.server_cpu, 3),
            "server_cpu_pct": round(100 * self.server_cpu / self.wall, 1) if self.wall else 0,
            "client_cpu_s": round(self.client_cpu, 3),
            "client_cpu_pct": round(100 * self.client_cpu / self.wall, 1) if self.wall else 0,
            "rss_start_mib": round(self.rss_start / MiB, 1),
            "peak_rss_mib": round(self.rss_peak / MiB, 1),
            "peak_rss_total_mib": round(self.rss_peak_total / MiB, 1),
            "rss_samples": self.samples,
        }


def cpu_seconds(server: Server) -> float:
    """User + system CPU seconds the server's processes have used so far."""
    return _cpu(server.processes())


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Monitor:
    """Samples a server's RSS every ``interval`` seconds in a thread."""

    server: Server
    interval: float = 0.01
    _usage: Usage | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _procs: list[psutil.Process] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._procs = self.server.processes()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _sample(self, usage: Usage) -> None:
        sizes = []
        for proc in self._procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                sizes.append(proc.memory_info().rss)
        if sizes:
            usage.rss_peak = max(usage.rss_peak, *sizes)
            usage.rss_peak_total = max(usage.rss_peak_total, sum(sizes))
            usage.samples += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            usage = self._usage
            if usage is not None:
                self._sample(usage)

    def rss(self) -> int:
        usage = Usage()
        self._sample(usage)
        return usage.rss_peak

    @contextlib.contextmanager
    def measure(self) -> Iterator[Usage]:
        usage = Usage()
        self._sample(usage)
        usage.rss_start = usage.rss_peak
        cpu0, client0, t0 = _cpu(self._procs), _client_cpu(), time.perf_counter()
        self._usage = usage
        try:
            yield usage
        finally:
            self._usage = None
            self._sample(usage)
            usage.wall = time.perf_counter() - t0
            usage.server_cpu = _cpu(self._procs) - cpu0
            usage.client_cpu = _client_cpu() - client0

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
