from __future__ import annotations

from pathlib import Path

import pytest

from app.storage import keys
from tests.conftest import Env, User
from tests.fixtures.entities import post_status, processed
from tests.fixtures.protocol import upload_file

SRT = "1\n00:00:00,000 --> 00:00:01,500\nHello\n\n2\n00:00:01,500 --> 00:00:02,000\nWorld\n"


@pytest.fixture
async def video(env: Env, alice: User, mp4_file: Path) -> dict[str, str]:
    body = await processed(
        env, alice.headers, mp4_file, media_type="video/mp4", category="tweet_video"
    )
    return {"id": body["media_id_string"], "key": body["media_key"]}


async def _subtitle(env: Env, user: User, tmp_path: Path, text: str = SRT) -> str:
    path = tmp_path / "track.srt"
    path.write_text(text)
    body = await upload_file(
        env.client, user.headers, path, media_type="text/srt", category="subtitles"
    )
    return str(body["media_id_string"])


async def _master_url(env: Env, user: User, video_id: str) -> str:
    posted = await post_status(env.client, user.headers, "with subtitles", [video_id])
    variants = posted.json()["extended_entities"]["media"][0]["video_info"]["variants"]
    url: str = next(v["url"] for v in variants if v["content_type"] == "application/x-mpegURL")
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


class TestSubtitles:
    async def test_v11_track_appears_in_the_hls_master_and_is_fetchable(
        self, env: Env, alice: User, video: dict[str, str], tmp_path: Path
    ) -> None:
        subtitle_id = await _subtitle(env, alice, tmp_path)
        master = await _master_url(env, alice, video["id"])
        before = (await env.client.get(master)).text

        created = await env.client.post(
            "/1.1/media/subtitles/create.json",
            json={"media_id": video["id"], "media_category": "TweetVideo",
                  "subtitle_info": {"subtitles": [{"media_id": subtitle_id,
                                    "language_code": "EN", "display_name": "English"}]}},
            headers=alice.headers,
        )  # fmt: skip
        after = (await env.client.get(master)).text
        track = master.rsplit("/", 1)[0] + "/subs/en.m3u8"
        playlist = await env.client.get(track)
        vtt = await env.client.get(track.replace(".m3u8", ".vtt"))

        assert created.status_code == 204
        assert "TYPE=SUBTITLES" not in before
        assert 'TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en"' in after
        assert 'SUBTITLES="subs"' in after
        assert playlist.status_code == 200
        assert "en.vtt" in playlist.text
        assert vtt.headers["content-type"].startswith("text/vtt")
        assert vtt.text.startswith("WEBVTT")
        assert "00:00:01.500 --> 00:00:02.000\nWorld" in vtt.text

    async def test_v2_create_then_delete_restores_the_master(
        self, env: Env, alice: User, video: dict[str, str], tmp_path: Path
    ) -> None:
        subtitle_id = await _subtitle(env, alice, tmp_path)
        master = await _master_url(env, alice, video["id"])
        before = (await env.client.get(master)).text

        created = await env.client.post(
            "/2/media/subtitles",
            json={
                "id": video["id"],
                "media_category": "TweetVideo",
                "subtitles": {"id": subtitle_id, "language_code": "FR", "display_name": "Français"},
            },
            headers=alice.headers,
        )  # fmt: skip
        deleted = await env.client.request(
            "DELETE", "/2/media/subtitles",
            json={"id": video["id"], "language_code": "FR", "media_category": "TweetVideo"},
            headers=alice.headers,
        )  # fmt: skip

        assert created.json()["data"]["associated_subtitles"] == [
            {"id": subtitle_id, "language_code": "FR", "display_name": "Français"}
        ]
        assert deleted.json() == {"data": {"deleted": True}}
        assert (await env.client.get(master)).text == before

    async def test_tracks_are_objects_among_the_video_variants(
        self, env: Env, alice: User, video: dict[str, str], tmp_path: Path
    ) -> None:
        subtitle_id = await _subtitle(env, alice, tmp_path)
        prefix = keys.variant(int(video["id"]), "pl/subs/")

        await env.client.post(
            "/2/media/subtitles",
            json={"id": video["id"], "subtitles": {"id": subtitle_id, "language_code": "de"}},
            headers=alice.headers,
        )
        attached = [info.key for info in await env.state.store.list(prefix)]
        await env.client.request(
            "DELETE", "/2/media/subtitles",
            json={"id": video["id"], "language_code": "de"}, headers=alice.headers,
        )  # fmt: skip

        assert attached == [prefix + "de.m3u8", prefix + "de.vtt"]
        assert await env.state.store.list(prefix) == []

    async def test_a_subtitle_whose_bytes_are_gone_is_not_found(
        self, env: Env, alice: User, video: dict[str, str], tmp_path: Path
    ) -> None:
        subtitle_id = await _subtitle(env, alice, tmp_path)
        await env.state.store.discard(keys.media(int(subtitle_id)))

        response = await env.client.post(
            "/2/media/subtitles",
            json={"id": video["id"], "subtitles": {"id": subtitle_id, "language_code": "en"}},
            headers=alice.headers,
        )

        assert response.status_code == 404

    async def test_someone_elses_video_is_not_found(
        self, env: Env, alice: User, bob: User, video: dict[str, str], tmp_path: Path
    ) -> None:
        subtitle_id = await _subtitle(env, bob, tmp_path)

        response = await env.client.post(
            "/2/media/subtitles",
            json={"id": video["id"], "subtitles": {"id": subtitle_id, "language_code": "EN"}},
            headers=bob.headers,
        )

        assert response.status_code == 404

    async def test_invalid_subtitle_file_is_refused_at_upload(
        self, env: Env, alice: User, tmp_path: Path
    ) -> None:
        path = tmp_path / "bad.srt"
        path.write_text("1\nthis is not a timing line\nHello\n")

        from tests.fixtures.protocol import append, finalize, init

        data = path.read_bytes()
        started = await init(env.client, alice.headers, total_bytes=len(data),
                             media_type="text/srt", category="subtitles")  # fmt: skip
        media_id = started.json()["media_id_string"]
        await append(env.client, alice.headers, media_id, 0, data)
        response = await finalize(env.client, alice.headers, media_id)

        assert response.status_code == 400
