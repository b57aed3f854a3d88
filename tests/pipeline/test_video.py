from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

from app.processing.probe import probe
from tests.conftest import Env, User
from tests.fixtures.disk import disk
from tests.fixtures.protocol import status, upload_file
from tests.pipeline.conftest import decode_errors, media_object, runner


def playlist_entries(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


class TestVideoPipeline:
    async def test_720p_tweet_video_gets_decodable_renditions_and_fetchable_hls(
        self, env: Env, alice: User, clip_720p: Path, tmp_path: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, clip_720p, media_type="video/mp4", category="tweet_video"
        )
        assert body["processing_info"]["state"] == "pending"

        assert await runner(env).run_once()

        done = (await status(env.client, alice.headers, body["media_id_string"])).json()
        assert done["processing_info"] == {"state": "succeeded", "progress_percent": 100}
        entity = await media_object(env, body["media_id"])
        info = entity["video_info"]
        assert entity["type"] == "video"
        assert info["aspect_ratio"] == [16, 9]
        assert abs(info["duration_millis"] - 3000) < 100
        mp4s = [v for v in info["variants"] if v["content_type"] == "video/mp4"]
        assert [v["bitrate"] for v in mp4s] == [320_000, 832_000, 2_176_000]
        for variant, size in zip(mp4s, [(320, 180), (640, 360), (1280, 720)], strict=True):
            assert variant["url"].endswith(f"/{size[0]}x{size[1]}.mp4")
            fetched = await env.client.get(variant["url"])
            assert fetched.status_code == 200
            assert fetched.headers["content-type"] == "video/mp4"
            local = tmp_path / f"{size[0]}x{size[1]}.mp4"
            local.write_bytes(fetched.content)
            assert decode_errors(local) == ""
            facts = await probe(local)
            assert (facts.width, facts.height, facts.audio_codec) == (*size, "AAC")
        [hls] = [v for v in info["variants"] if v["content_type"] == "application/x-mpegURL"]
        assert "bitrate" not in hls
        master = await env.client.get(hls["url"])
        assert master.status_code == 200
        assert master.headers["content-type"] == "application/x-mpegURL"
        playlists = [urljoin(hls["url"], entry) for entry in playlist_entries(master.text)]
        assert len(playlists) == 3
        for playlist_url in playlists:
            playlist = await env.client.get(playlist_url)
            assert playlist.status_code == 200
            segments = [urljoin(playlist_url, e) for e in playlist_entries(playlist.text)]
            assert segments
            for segment_url in segments:
                segment = await env.client.get(segment_url)
                assert segment.status_code == 200
                assert segment.headers["content-type"] == "video/mp2t"
                assert segment.content[:1] == b"G"  # MPEG-TS sync byte
        preview = await env.client.get(entity["media_url_https"])
        assert preview.status_code == 200
        assert preview.content[:3] == b"\xff\xd8\xff"
        assert entity["sizes"]["thumb"] == {"w": 150, "h": 150, "resize": "crop"}

    async def test_150_s_clip_fails_with_the_duration_rule(
        self, env: Env, alice: User, clip_150s: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, clip_150s, media_type="video/mp4", category="tweet_video"
        )

        await runner(env).run_once()

        info = (await status(env.client, alice.headers, body["media_id_string"])).json()
        assert info["processing_info"]["state"] == "failed"
        assert info["processing_info"]["error"] == {
            "code": 3,
            "name": "UnsupportedMedia",
            "message": "Duration too long, maximum:140000, actual:150000",
        }

    async def test_truncated_mp4_fails_as_invalid_media(
        self, env: Env, alice: User, clip_truncated: Path
    ) -> None:
        body = await upload_file(
            env.client,
            alice.headers,
            clip_truncated,
            media_type="video/mp4",
            category="tweet_video",
        )

        await runner(env).run_once()

        info = (await status(env.client, alice.headers, body["media_id_string"])).json()
        assert info["processing_info"]["state"] == "failed"
        assert info["processing_info"]["error"]["code"] == 1
        assert info["processing_info"]["error"]["name"] == "InvalidMedia"

    async def test_a_failed_media_keeps_no_variants(
        self, env: Env, alice: User, clip_truncated: Path
    ) -> None:
        body = await upload_file(
            env.client,
            alice.headers,
            clip_truncated,
            media_type="video/mp4",
            category="tweet_video",
        )

        await runner(env).run_once()

        assert not disk(env).variants_dir(body["media_id_string"]).exists()
