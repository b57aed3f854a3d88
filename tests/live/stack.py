"""The whole live stack for real: ``mediastudio serve`` in a subprocess (so the command
that users run starts nginx with the RTMP module as its child), real ffmpeg encoders over
RTMP and RTMPS, and HTTP over sockets.

Live ingest needs Debian's nginx, libnginx-mod-rtmp and libnginx-mod-stream (the
project's setup installs them when it may). Without them the tests skip, except under
CI=true, where they fail: live ingest is mandatory there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from imageio_ffmpeg import get_ffmpeg_exe

from app.config import LiveSettings
from app.live.nginx import missing
from tests.fixtures.live import PortTaken, free_port, wait_until_serving

__all__ = ["Encoder", "LiveStack", "require_live", "wait_for"]

BIN = Path(sys.executable).parent
FFMPEG = get_ffmpeg_exe()
_ENCODERS: list[Encoder] = []  # killed when the stack stops, whatever the test did


def require_live() -> None:
    reason = missing(LiveSettings())
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"live ingest is mandatory under CI=true: {reason}")
    pytest.skip(f"live ingest unavailable: {reason}")


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0, every: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy (another process's state is not
    an event this one can await); fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@dataclass
class Account:
    user_id: str
    bearer: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bearer}"}


@dataclass
class LiveStack:
    data_dir: Path
    database_url: str
    tls: tuple[Path, Path, Path] | None = None  # certificate, key, the CA that signed them
    settings: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.log = self.data_dir.parent / "serve.log"
        self._ports()

    def _ports(self) -> None:
        self.port, self.rtmp, self.rtmps, self.relay, self.control = (free_port() for _ in range(5))
        self.base = f"http://127.0.0.1:{self.port}"
        srt = free_port()
        self.srt_ports = (srt, srt + 19) if srt + 19 <= 65535 else (srt - 19, srt)

    @property
    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "MEDIASTUDIO_DATA_DIR": str(self.data_dir),
            "MEDIASTUDIO_DATABASE_URL": self.database_url,
            "MEDIASTUDIO_WORKER__IN_PROCESS": "true",
            "MEDIASTUDIO_WORKER__POLL_INTERVAL_SECS": "0.2",
            "MEDIASTUDIO_LOG_FORMAT": "text",
            "MEDIASTUDIO_LIVE__ENABLED": "true",
            "MEDIASTUDIO_LIVE__RTMP_PORT": str(self.rtmp),
            "MEDIASTUDIO_LIVE__RTMPS_PORT": str(self.rtmps),
            "MEDIASTUDIO_LIVE__RELAY_PORT": str(self.relay),
            "MEDIASTUDIO_LIVE__CONTROL_PORT": str(self.control),
            "MEDIASTUDIO_LIVE__RECONNECT_WINDOW_SECS": "15",
            "MEDIASTUDIO_LIVE__PROBE_INTERVAL_SECS": "2",
            "MEDIASTUDIO_LIVE__MONITOR_INTERVAL_SECS": "0.5",
            "MEDIASTUDIO_LIVE__SRT_PORTS": f"{self.srt_ports[0]}-{self.srt_ports[1]}",
            **self.settings,
        }
        env.pop("MEDIASTUDIO_LIVE__HOOK_URL", None)
        if self.tls is not None:
            env["MEDIASTUDIO_LIVE__TLS_CERTFILE"] = str(self.tls[0])
            env["MEDIASTUDIO_LIVE__TLS_KEYFILE"] = str(self.tls[1])
        return env

    def start(self) -> None:
        for _ in range(5):
            try:
                self._start_once()
                return
            except PortTaken:
                self._ports()
        raise RuntimeError("no free ports after 5 tries")

    def _start_once(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        args = [str(BIN / "mediastudio"), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(args, env=self.env, stdout=log, stderr=log)

        def healthy() -> bool:
            try:
                api = httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
                stat = httpx.get(f"http://127.0.0.1:{self.control}/stat", timeout=1)
                return api and stat.status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_until_serving(self.process, self.log, healthy)
        except RuntimeError:
            text = self.log.read_bytes().lower()
            self.stop()
            if b"address already in use" in text:
                raise PortTaken(text.decode(errors="replace")[-300:]) from None
            raise

    def stop(self) -> None:
        while _ENCODERS:
            encoder = _ENCODERS.pop()
            if encoder.running():
                encoder.kill()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def cli(self, *args: str) -> Any:
        out = subprocess.run(
            [str(BIN / "mediastudio"), *args, "--json"], env=self.env, check=True,
            capture_output=True,
        )  # fmt: skip
        return json.loads(out.stdout)

    def user(self, name: str) -> Account:
        raw = self.cli("users", "create", name)
        return Account(user_id=str(raw["user_id"]), bearer=raw["bearer_token"])

    def call(self, method: str, path: str, who: Account | None, **kwargs: Any) -> httpx.Response:
        headers = {} if who is None else who.headers
        return httpx.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, who: Account, **kwargs: Any) -> Any:
        answer = self.call(method, path, who, **kwargs)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def tls_options(self) -> list[str]:
        """ffmpeg's output options that verify RTMPS against the test CA."""
        assert self.tls is not None
        return ["-tls_verify", "1", "-ca_file", str(self.tls[2])]

    def ingest_url(self, key: str, *, secure: bool = False) -> str:
        if secure:
            return f"rtmps://127.0.0.1:{self.rtmps}/x/{key}"
        return f"rtmp://127.0.0.1:{self.rtmp}/x/{key}"


class Encoder:
    """A real encoder: ffmpeg pushing H.264 + AAC test video at real time (``-re``).
    With audio: without an audio track nginx lists each segment a keyframe late."""

    def __init__(
        self,
        url: str,
        *,
        seconds: float | None = None,
        size: str = "640x360",
        rate: int = 30,
        keyframe_secs: float = 3.0,
        video: list[str] | None = None,
        audio_bitrate: str = "128k",
        source: str = "testsrc2",
        output: list[str] | None = None,
        container: str = "flv",
        log: Path | None = None,
    ) -> None:
        duration = [] if seconds is None else ["-t", str(seconds)]
        gop = str(max(1, round(rate * keyframe_secs)))
        codec = video or [
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", gop,
            "-keyint_min", gop, "-sc_threshold", "0", "-pix_fmt", "yuv420p",
        ]  # fmt: skip
        self.command = [
            FFMPEG, "-hide_banner", "-loglevel", "error", "-re", "-readrate_initial_burst", "0",
            "-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}",
            "-re", "-readrate_initial_burst", "0",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            *duration, "-map", "0:v", "-map", "1:a", *codec,
            "-c:a", "aac", "-b:a", audio_bitrate, "-ac", "2", *(output or []), "-f", container, url,
        ]  # fmt: skip
        self.started = time.monotonic()
        # With -re, frame t leaves the encoder at started_wall + t: the video's timestamps
        # are wall-clock times (the glass-to-playlist latency's reference).
        self.started_wall = time.time()
        out = subprocess.DEVNULL if log is None else log.open("ab")
        self.process = subprocess.Popen(self.command, stdout=out, stderr=out)
        _ENCODERS.append(self)

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> float:
        """SIGKILL, as a crashed encoder; returns how long it ran."""
        self.process.kill()
        self.process.wait(10)
        return time.monotonic() - self.started

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout)


def decodes(path_or_url: str) -> bool:
    """ffmpeg decodes every frame of it without an error."""
    done = subprocess.run(
        [FFMPEG, "-hide_banner", "-v", "error", "-i", path_or_url, "-f", "null", "-"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    return done.returncode == 0 and not done.stderr.strip()


def duration_secs(path_or_url: str) -> float:
    """The container's duration as ffmpeg reads it (``Duration: HH:MM:SS.ss``)."""
    done = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", path_or_url], capture_output=True, timeout=60
    )
    text = done.stderr.decode(errors="replace")
    marker = text.index("Duration: ") + len("Duration: ")
    hours, minutes, seconds = text[marker : marker + 11].split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
