"""The Producer end to end: ``mediastudio serve`` with its nginx ingest, real ffmpeg
encoders over RTMP and RTMPS, HTTP over sockets, both databases.

Create a source and a broadcast; a wrong key is refused at connect; the preview playlist
appears (with the preview token only) and its segments decode; a second publisher on the
key is refused and ends nothing; PUBLISH -> RUNNING; the stream's attributes are measured;
the encoder is killed and reconnects within the window (same broadcast); END -> ENDED; the
recording, joined across the reconnect, becomes a succeeded library video of the pushed
duration.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.live.stack import Encoder, LiveStack, decodes, duration_secs, wait_for

pytestmark = pytest.mark.slow


def _first_segment(playlist_url: str, text: str) -> str:
    names = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert names, text
    return urljoin(playlist_url, names[0])


def _playlist(url: str) -> str | None:
    answer = httpx.get(url, timeout=5)
    return answer.text if answer.status_code == 200 and "#EXTINF" in answer.text else None


async def test_a_broadcast_from_create_to_recording(live_stack: LiveStack) -> None:
    await asyncio.to_thread(_create_to_recording, live_stack)


def _create_to_recording(stack: LiveStack) -> None:
    alice = stack.user("alice")
    account = stack.cli("accounts", "create", "Alice Studio", "--owner", "alice")["id"]
    user = alice.user_id
    source = stack.ok(
        "POST",
        f"/2/users/{user}/sources",
        alice,
        json={"name": "Studio A", "region": "eu-central-1"},
    )["source"]
    key, source_id = source["stream_key"], source["id"]
    assert source["rtmp_url"] == f"rtmp://127.0.0.1:{stack.rtmp}/x"
    assert source["rtmps_url"] == f"rtmps://127.0.0.1:{stack.rtmps}/x"
    created = stack.ok(
        "POST", f"/2/users/{user}/broadcasts", alice,
        json={"source_id": source_id, "title": "Evening news", "tags": ["news", "politics"],
              "is_low_latency": True, "no_hearts": True, "chat_option": 1},
    )  # fmt: skip
    broadcast_id = created["broadcast"]["id"]
    assert created["broadcast"]["state"] == "NOT_STARTED"
    preview = created["video_access"]["hls_url"]
    public = f"{stack.base}/live/{broadcast_id}/index.m3u8"

    def get_source() -> dict[str, Any]:
        return stack.ok("GET", f"/2/sources/{source_id}", alice)["data"]  # type: ignore[no-any-return]

    def get_broadcast() -> dict[str, Any]:
        return stack.ok("GET", f"/2/broadcasts/{broadcast_id}", alice)["data"]  # type: ignore[no-any-return]

    # A wrong key is refused at connect: the encoder is disconnected at once.
    wrong = Encoder(stack.ingest_url("not-a-stream-key"), seconds=20)
    assert wrong.wait(15) != 0
    assert get_source()["is_stream_active"] is False

    first = Encoder(stack.ingest_url(key))
    wait_for(lambda: get_source()["is_stream_active"], "the source to receive video")
    text = wait_for(lambda: _playlist(preview), "the preview playlist", timeout=30)
    assert "?t=" in text  # the preview token is handed on to the segments
    assert decodes(_first_segment(preview, text))
    assert httpx.get(public, timeout=5).status_code == 404  # not public before Publish Now

    # A second publisher on a live key is refused and changes nothing.
    second = Encoder(stack.ingest_url(key), seconds=20)
    assert second.wait(15) != 0
    assert first.running()
    assert get_source()["is_stream_active"] is True
    assert get_broadcast()["state"] == "NOT_STARTED"

    published = stack.ok(
        "PUT", f"/2/users/{user}/broadcasts/{broadcast_id}/state", alice,
        json={"state": "PUBLISH", "title": "Evening news, live"},
    )["broadcast"]  # fmt: skip
    assert published["state"] == "RUNNING"
    assert published["start_ms"] is not None
    assert published["status"] == published["title"] == "Evening news, live"
    assert _playlist(public) is not None  # public now, and counted as a viewer
    watched = get_broadcast()
    assert watched["total_watched"] == "1"
    assert watched["total_watching"] == "1"

    measured = wait_for(
        lambda: (a := get_source().get("stream_attributes"))
        and a.get("video_keyframe_interval_in_seconds") and a.get("audio_bitrate") and a,
        "the stream's attributes", timeout=40,
    )  # fmt: skip
    assert measured["video_codec"] == "H.264/AVC"
    assert measured["audio_codec"] == "AAC"
    assert (measured["video_width"], measured["video_height"]) == (640, 360)
    assert measured["video_framerate"] == 30.0
    assert measured["video_keyframe_interval_in_seconds"] == pytest.approx(3.0, abs=0.1)
    assert measured["audio_num_channels"] == 2
    assert measured["audio_sampling_rate"] == 44100
    assert get_source()["compatibility_info"] == {"errors": [], "warnings": []}

    # The encoder crashes and reconnects within the window: the same broadcast goes on.
    ran = first.kill()
    wait_for(lambda: not get_source()["is_stream_active"], "the ingest to be lost")
    assert get_broadcast()["state"] == "RUNNING"
    again = Encoder(stack.ingest_url(key), seconds=8)
    wait_for(lambda: get_source()["is_stream_active"], "the reconnect")
    assert get_broadcast()["state"] == "RUNNING"
    again.wait(30)

    ended = stack.ok(
        "PUT", f"/2/users/{user}/broadcasts/{broadcast_id}/state", alice, json={"state": "END"}
    )
    assert ended == {"success": True}
    after = get_broadcast()
    assert after["state"] == "ENDED"
    assert after["end_ms"] is not None

    # The recording, joined across the reconnect, becomes a processed library video.
    def recorded() -> dict[str, Any] | None:
        current = get_broadcast()
        assert current["recording"]["state"] != "failed", current["recording"]
        return current if current["recording"]["processing_state"] == "succeeded" else None

    done = wait_for(
        recorded,
        "the recording to be processed", timeout=150, every=0.5,
    )  # fmt: skip
    assert done["available_for_replay"] is True
    access = done["video_access"]
    assert decodes(access["replay_url"])
    length = duration_secs(access["replay_download_url"])
    assert length == pytest.approx(ran + 8, abs=3.0)
    assert done["recording"]["duration_ms"] == pytest.approx(length * 1000, abs=1000)
    library = stack.ok("GET", f"/11/accounts/{account}/media_library", alice)["data"]
    entry = next(i for i in library if i["media_key"] == done["recording"]["media_key"])
    assert entry["media_category"] == "AMPLIFY_VIDEO"
    assert entry["title"] == "Evening news, live"

    # Deleting the broadcast keeps the library media.
    stack.ok("DELETE", f"/2/broadcasts/{broadcast_id}", alice)
    library = stack.ok("GET", f"/11/accounts/{account}/media_library", alice)["data"]
    assert any(i["media_key"] == done["recording"]["media_key"] for i in library)


async def test_rtmps_ingest(live_stack: LiveStack) -> None:
    await asyncio.to_thread(_rtmps, live_stack)


def _rtmps(stack: LiveStack) -> None:
    bob = stack.user("bob")
    source = stack.ok(
        "POST", "/2/sources", bob, json={"name": "Secure encoder", "region": "us-west-2"}
    )["data"]
    key = stack.ok("GET", f"/2/sources/{source['id']}/stream_key", bob)["data"]["stream_key"]
    tls = stack.tls_options()
    wrong = Encoder(stack.ingest_url("wrong-key", secure=True), seconds=20, output=tls)
    assert wrong.wait(15) != 0
    encoder = Encoder(stack.ingest_url(key, secure=True), seconds=30, output=tls)
    try:
        wait_for(
            lambda: stack.ok("GET", f"/2/sources/{source['id']}", bob)["data"]["is_stream_active"],
            "the RTMPS stream to arrive",
        )
    finally:
        encoder.kill()


async def test_srt_ingest(live_stack: LiveStack) -> None:
    await asyncio.to_thread(_srt, live_stack)


def _srt(stack: LiveStack) -> None:
    """An SRT caller reaches the source's listener (passphrase: the stream key) and its
    stream arrives like an RTMP one; a wrong passphrase is refused."""
    frank = stack.user("frank")
    source = stack.ok("POST", "/2/sources", frank, json={"name": "SRT", "region": "eu-west-1"})
    data = source["data"]
    url, key = data["srt_url"], data["stream_key"]
    low, high = stack.srt_ports
    assert url.startswith("srt://127.0.0.1:")
    assert low <= int(url.rsplit(":", 1)[1]) <= high

    def active() -> bool:
        return bool(stack.ok("GET", f"/2/sources/{data['id']}", frank)["data"]["is_stream_active"])

    wrong = Encoder(
        f"{url}?passphrase=not-the-stream-key&pbkeylen=16", seconds=10, container="mpegts"
    )
    assert wrong.wait(30) != 0
    assert not active()

    def connected() -> bool:  # the listener may be restarting after the refused caller
        encoder = Encoder(f"{url}?passphrase={key}&pbkeylen=16", seconds=30, container="mpegts")
        try:
            wait_for(active, "the SRT stream", timeout=8)
        except AssertionError:
            encoder.kill()
            return False
        return True

    wait_for(connected, "an SRT connection", timeout=45, every=1.0)


async def test_the_ingest_comes_back_when_nginx_dies(live_stack: LiveStack) -> None:
    await asyncio.to_thread(_nginx_dies, live_stack)


def _nginx_dies(stack: LiveStack) -> None:
    """nginx killed outright (master and workers' group): `mediastudio live` starts it
    again and encoders connect again."""
    import os
    import signal

    pid_file = stack.data_dir / "live" / "run" / "nginx.pid"
    first = int(pid_file.read_text())
    os.killpg(first, signal.SIGKILL)

    def restarted() -> bool:
        try:
            again = int(pid_file.read_text())
            stat = httpx.get(f"http://127.0.0.1:{stack.control}/stat", timeout=1)
        except (OSError, ValueError, httpx.HTTPError):
            return False
        return again != first and stat.status_code == 200

    wait_for(restarted, "nginx to be started again", timeout=30)
    grace = stack.user("grace")
    source = stack.ok("POST", "/2/sources", grace, json={"name": "After", "region": "us-east-1"})
    key = source["data"]["stream_key"]
    encoder = Encoder(stack.ingest_url(key), seconds=30)
    try:
        wait_for(
            lambda: stack.ok("GET", f"/2/sources/{source['data']['id']}", grace)["data"][
                "is_stream_active"
            ],
            "an encoder after the restart",
        )
    finally:
        encoder.kill()
