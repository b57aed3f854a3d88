"""What the ingest measures and how fast it shows it, with real encoders: a stream over
the seed's maxima gets the documented ``compatibility_info`` errors; an ``hls`` source is
pulled into the same path; the glass-to-playlist latency of both latency modes is
measured and reported (README "Live ingest latency" quotes a run)."""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.infra.db import make_sessionmaker
from app.models import LiveIngest
from tests.fixtures.live import free_port
from tests.live.stack import FFMPEG, Account, Encoder, LiveStack, wait_for

pytestmark = pytest.mark.slow


def _source(stack: LiveStack, who: Account, name: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "region": "eu-central-1", **extra}
    return stack.ok("POST", "/2/sources", who, json=body)["data"]  # type: ignore[no-any-return]


def _attributes(stack: LiveStack, who: Account, source_id: str, ready: str) -> dict[str, Any]:
    def measured() -> dict[str, Any] | None:
        data = stack.ok("GET", f"/2/sources/{source_id}", who)["data"]
        attributes = data.get("stream_attributes") or {}
        return data if attributes.get(ready) else None

    return wait_for(measured, f"{ready} of source {source_id}", timeout=45)  # type: ignore[no-any-return]


def _params(info: dict[str, Any], kind: str) -> set[str]:
    return {item["param_name"] for item in info[kind]}


async def test_a_stream_over_the_maxima_gets_the_documented_errors(live_stack: LiveStack) -> None:
    await asyncio.to_thread(_over_the_maxima, live_stack)


def _over_the_maxima(stack: LiveStack) -> None:
    carol = stack.user("carol")
    big = _source(stack, carol, "Too big")
    fast = _source(stack, carol, "Too fast")
    big_key = stack.ok("GET", f"/2/sources/{big['id']}/stream_key", carol)["data"]["stream_key"]
    fast_key = stack.ok("GET", f"/2/sources/{fast['id']}/stream_key", carol)["data"]["stream_key"]
    # 2048x1152 (over 1920x1080), 14 Mbps CBR (over 12), AAC at 192 kbps (over 128),
    # a keyframe every second (3 s suggested).
    cbr = [
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-b:v", "14M", "-minrate", "14M",
        "-maxrate", "14M", "-bufsize", "2M", "-x264-params", "nal-hrd=cbr", "-pix_fmt", "yuv420p",
    ]  # fmt: skip
    Encoder(stack.ingest_url(big_key), seconds=40, size="2048x1152", rate=10, video=cbr,
            audio_bitrate="192k")  # fmt: skip
    # 120 fps (over 60).
    Encoder(stack.ingest_url(fast_key), seconds=40, size="320x180", rate=120, keyframe_secs=3)
    measured = _attributes(stack, carol, big["id"], "audio_bitrate")
    measured = _attributes(stack, carol, big["id"], "video_keyframe_interval_in_seconds")
    attributes, info = measured["stream_attributes"], measured["compatibility_info"]
    assert (attributes["video_width"], attributes["video_height"]) == (2048, 1152)
    assert attributes["video_bitrate"] > 12_000_000, attributes
    assert attributes["audio_bitrate"] > 140_000, attributes
    assert _params(info, "errors") == {"video_width", "video_bitrate", "audio_bitrate"}, info
    assert "video_keyframe_interval_in_seconds" in _params(info, "warnings"), info
    for item in info["errors"]:
        assert set(item) == {"param_name", "violation"}
        assert item["violation"].startswith("Max allowed")
    quick = _attributes(stack, carol, fast["id"], "video_framerate")
    assert quick["stream_attributes"]["video_framerate"] == 120.0
    assert _params(quick["compatibility_info"], "errors") == {"video_framerate"}


@contextmanager
def _static_server(folder: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_an_hls_source_is_pulled_into_the_preview(
    live_stack: LiveStack, tmp_path: Path
) -> None:
    await asyncio.to_thread(_hls_pull, live_stack, tmp_path)


def _hls_pull(stack: LiveStack, tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine", "-t", "30",
         "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-c:a", "aac",
         "-f", "hls", "-hls_time", "2", "-hls_list_size", "0", str(origin / "stream.m3u8")],
        check=True, timeout=120,
    )  # fmt: skip
    dave = stack.user("dave")
    with _static_server(origin) as base:
        source = _source(
            stack, dave, "Pulled feed", type="hls", external_hls_url=f"{base}/stream.m3u8"
        )
        assert source["type"] == "hls"
        assert source["rtmp_url"] is None
        assert "stream_key" not in source
        created = stack.ok(
            "POST", f"/2/users/{dave.user_id}/broadcasts", dave, json={"source_id": source["id"]}
        )
        wait_for(
            lambda: stack.ok("GET", f"/2/sources/{source['id']}", dave)["data"]["is_stream_active"],
            "the HLS pull to arrive", timeout=40,
        )  # fmt: skip
        preview = created["video_access"]["hls_url"]
        wait_for(lambda: "#EXTINF" in httpx.get(preview, timeout=5).text, "the preview playlist")
        path = f"/2/users/{dave.user_id}/broadcasts/{created['broadcast']['id']}/state"
        assert (
            stack.ok("PUT", path, dave, json={"state": "PUBLISH"})["broadcast"]["state"]
            == "RUNNING"
        )
        assert stack.ok("PUT", path, dave, json={"state": "END"}) == {"success": True}

        # The pull stops with the broadcast.
        def stopped() -> bool:
            data = stack.ok("GET", f"/2/sources/{source['id']}", dave)["data"]
            return not data["is_stream_active"]

        wait_for(stopped, "the pull to stop", timeout=30)


def _segments(text: str) -> list[tuple[str, float]]:
    found, duration = [], None
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#") and duration is not None:
            found.append((line.split("?")[0], duration))
            duration = None
    return found


def _watch(url: str, seconds: float) -> dict[str, tuple[float, float]]:
    """Each segment's first sighting (wall clock) and duration, polling every 50 ms."""
    seen: dict[str, tuple[float, float]] = {}
    deadline = time.time() + seconds
    with httpx.Client(timeout=5) as client:
        while time.time() < deadline:
            answer = client.get(url)
            if answer.status_code == 200:
                now = time.time()
                for name, duration in _segments(answer.text):
                    seen.setdefault(name, (now, duration))
            time.sleep(0.05)
    return seen


async def test_glass_to_playlist_latency_of_both_modes(
    live_stack: LiveStack, engine: AsyncEngine, tmp_path: Path
) -> None:
    """Glass time of a frame = when nginx accepted the stream (the ingest's start, stored
    by ``on_publish``) plus the frame's timestamp: the encoder reads its input at real time
    from the moment its output is connected, with no initial burst (``-re
    -readrate_initial_burst 0``), so timestamp t leaves it at accepted + t. A
    segment's glass-to-playlist latency =
    when the playlist first lists it minus the glass time of its last frame (for its
    first frame, add its duration). Reported, not asserted: a test never asserts a
    wall-clock time."""
    stack = live_stack
    erin = stack.user("erin")
    modes: dict[str, dict[str, Any]] = {}
    for latency in ("low", "high"):
        source = _source(stack, erin, f"{latency} latency")
        body = {"source_id": source["id"], "latency_mode": latency}
        created = stack.ok("POST", f"/2/users/{erin.user_id}/broadcasts", erin, json=body)
        key = stack.ok("GET", f"/2/sources/{source['id']}/stream_key", erin)["data"]["stream_key"]
        modes[latency] = {
            "source": source["id"],
            "url": created["video_access"]["hls_url"],
            "key": key,
        }
    for mode in modes.values():  # a keyframe a second: the fragment is the mode's own
        encoder = Encoder(stack.ingest_url(mode["key"]), seconds=36, keyframe_secs=1.0)
        mode["spawned"] = encoder.started_wall
    watched = await asyncio.gather(
        *(asyncio.to_thread(_watch, mode["url"], 34) for mode in modes.values())
    )
    report: dict[str, Any] = {}
    for (name, mode), seen in zip(modes.items(), watched, strict=True):
        async with make_sessionmaker(engine)() as session:
            started = await session.scalar(
                select(LiveIngest.started_at).where(LiveIngest.source_id == mode["source"])
            )
        assert started is not None
        glass = (
            started.replace(tzinfo=UTC).timestamp()
            if started.tzinfo is None
            else started.timestamp()
        )
        ordered = sorted(seen.items(), key=lambda item: int(item[0].split(".")[0]))
        assert [int(n.split(".")[0]) for n, _ in ordered] == list(range(len(ordered))), ordered
        media_end, last_frame = 0.0, []
        for _, (first_seen, duration) in ordered:
            media_end += duration
            last_frame.append(first_seen - (glass + media_end))
        steady = last_frame[1:-1] or last_frame  # the first segment starts before the clock
        durations = [duration for _, (_, duration) in ordered]
        report[name] = {
            "segments": len(ordered),
            "fragment_secs": round(statistics.median(durations), 3),
            "last_frame_latency_secs": {
                "median": round(statistics.median(steady), 3),
                "max": round(max(steady), 3),
            },
            "first_frame_latency_secs": {
                "median": round(statistics.median(steady) + statistics.median(durations), 3)
            },
        }
        assert len(ordered) >= 3, report
    out = Path(os.environ.get("LIVE_LATENCY_REPORT", tmp_path / "live-latency.json"))
    out.write_text(json.dumps({"measured_at": datetime.now(UTC).isoformat(), **report}, indent=2))
