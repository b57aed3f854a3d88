from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path

from sqlalchemy import select

from app.models import MediaSegment
from tests.conftest import Env, User
from tests.fixtures.disk import disk
from tests.fixtures.protocol import MIB, URL, append, finalize, init, segments, status


async def _open(env: Env, user: User, data: bytes, media_type: str = "video/mp4") -> str:
    response = await init(env.client, user.headers, total_bytes=len(data), media_type=media_type)
    assert response.status_code == 202, response.text
    return str(response.json()["media_id_string"])


def _raw_multipart(boundary: str, parts: list[tuple[str, str, bytes]], *, tail: bytes) -> bytes:
    """Build a body by hand: (header lines, name, payload) per part."""
    out = b""
    for headers, _name, payload in parts:
        out += f"--{boundary}\r\n{headers}\r\n\r\n".encode() + payload + b"\r\n"
    return out + f"--{boundary}--".encode() + tail


class TestAppend:
    async def test_append_answers_204_with_an_empty_body(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)

        response = await append(env.client, alice.headers, media_id, 0, data)

        assert response.status_code == 204
        assert response.content == b""

    async def test_out_of_order_segments_assemble_by_index(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)
        parts = segments(data, 20_000)

        for index in reversed(range(len(parts))):
            assert (
                await append(env.client, alice.headers, media_id, index, parts[index])
            ).status_code == 204
        done = await finalize(env.client, alice.headers, media_id)

        assert done.status_code == 201
        assert done.json()["size"] == len(data)
        blob = disk(env).blob_path(media_id).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == hashlib.sha256(data).hexdigest()

    async def test_concurrent_appends_of_one_upload_all_land(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)
        parts = segments(data, 10_000)

        results = await asyncio.gather(
            *(append(env.client, alice.headers, media_id, i, p) for i, p in enumerate(parts))
        )
        done = await finalize(env.client, alice.headers, media_id)

        assert [r.status_code for r in results] == [204] * len(parts)
        assert done.status_code == 201
        assert disk(env).blob_path(media_id).read_bytes() == data

    async def test_resending_an_index_replaces_it(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)
        half = len(data) // 2

        await append(env.client, alice.headers, media_id, 0, data[:half])
        await append(env.client, alice.headers, media_id, 1, data[:100])  # a wrong first try
        retry = await append(env.client, alice.headers, media_id, 1, data[half:])
        info = (await status(env.client, alice.headers, media_id)).json()["upload_info"]

        assert retry.status_code == 204
        assert info["received_bytes"] == len(data)
        assert [s["segment_index"] for s in info["segments"]] == [0, 1]
        assert (await finalize(env.client, alice.headers, media_id)).status_code == 201

    async def test_segment_over_5_mib_is_rejected_and_not_kept(self, env: Env, alice: User) -> None:
        data = b"\x00\x00\x00\x18ftypmp42" + bytes(5 * MIB + 1 - 12)
        response = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="video/mp4",
            category="amplify_video",
        )  # fmt: skip
        media_id = response.json()["media_id_string"]

        rejected = await append(env.client, alice.headers, media_id, 0, data)
        info = (await status(env.client, alice.headers, media_id)).json()["upload_info"]

        assert rejected.status_code == 400
        assert rejected.json()["error"] == f"Segment size must be <= {5 * MIB} bytes."
        assert info["segments"] == []

    async def test_append_that_would_cross_total_bytes_is_refused(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data[:1000])

        response = await append(env.client, alice.headers, media_id, 0, data[:1001])

        assert response.status_code == 400
        assert response.json()["error"] == "Segments exceed provided total file size."

    async def test_segment_index_outside_0_to_999_is_refused(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)

        response = await append(env.client, alice.headers, media_id, 1000, data[:10])

        assert response.status_code == 400
        assert "0 and 999" in response.json()["error"]

    async def test_status_reports_checksums_whether_or_not_append_computed_them(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)
        half = len(data) // 2
        first, second = data[:half], data[half:]

        await append(env.client, alice.headers, media_id, 0, first)  # no X-Segment-SHA256
        await append(
            env.client, alice.headers, media_id, 1, second,
            sha256=hashlib.sha256(second).hexdigest(),
        )  # fmt: skip
        async with env.state.sessions() as session:
            stored = dict(
                (await session.execute(
                    select(MediaSegment.segment_index, MediaSegment.sha256)
                    .where(MediaSegment.media_id == int(media_id))
                )).all()
            )  # fmt: skip
        info = (await status(env.client, alice.headers, media_id)).json()["upload_info"]

        # APPEND hashed only the segment whose client asked for a check ...
        assert stored == {0: None, 1: hashlib.sha256(second).hexdigest()}
        # ... and STATUS lists both checksums, the first computed from the stored bytes.
        assert [s["sha256"] for s in info["segments"]] == [
            hashlib.sha256(first).hexdigest(),
            hashlib.sha256(second).hexdigest(),
        ]

    async def test_checksum_mismatch_is_refused_and_segment_not_kept(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)

        bad = await append(env.client, alice.headers, media_id, 0, data, sha256="0" * 64)
        tail = data[-10:]
        good = await append(
            env.client, alice.headers, media_id, 1, tail, sha256=hashlib.sha256(tail).hexdigest()
        )
        info = (await status(env.client, alice.headers, media_id)).json()["upload_info"]

        assert bad.status_code == 400
        assert bad.json()["actual_sha256"] == hashlib.sha256(data).hexdigest()
        assert good.status_code == 204
        assert [s["segment_index"] for s in info["segments"]] == [1]

    async def test_segment_zero_that_is_not_the_declared_type_is_stopped_early(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        data = png_file.read_bytes()
        media_id = await _open(env, alice, data, media_type="video/mp4")

        response = await append(env.client, alice.headers, media_id, 0, data)

        assert response.status_code == 400
        assert response.json()["detected_type"] == "image/png"
        assert "image/png" in response.json()["error"]

    async def test_append_after_finalize_is_refused(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)
        await append(env.client, alice.headers, media_id, 0, data)
        await finalize(env.client, alice.headers, media_id)

        response = await append(env.client, alice.headers, media_id, 1, b"more")

        assert response.status_code == 400

    async def test_media_missing_is_code_38(self, env: Env, alice: User, mp4_file: Path) -> None:
        media_id = await _open(env, alice, mp4_file.read_bytes())

        response = await env.client.post(
            URL,
            data={"command": "APPEND", "media_id": media_id, "segment_index": "0"},
            headers=alice.headers,
        )

        assert response.json()["errors"][0] == {
            "code": 38,
            "message": "media parameter is missing.",
        }


class TestAppendEncodings:
    async def test_base64_media_data_in_multipart(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)

        response = await env.client.post(
            URL,
            files={
                "command": (None, "APPEND"),
                "media_id": (None, media_id),
                "segment_index": (None, "0"),
                "media_data": (None, base64.b64encode(data).decode()),
            },
            headers=alice.headers,
        )

        assert response.status_code == 204
        assert (await finalize(env.client, alice.headers, media_id)).json()["size"] == len(data)

    async def test_base64_media_data_in_a_urlencoded_body(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)

        response = await env.client.post(
            URL,
            data={
                "command": "APPEND",
                "media_id": media_id,
                "segment_index": "0",
                "media_data": base64.b64encode(data).decode(),  # '+', '/', '=' get %-escaped
            },
            headers=alice.headers,
        )
        done = await finalize(env.client, alice.headers, media_id)

        assert response.status_code == 204
        assert done.status_code == 201
        assert disk(env).blob_path(media_id).read_bytes() == data

    async def test_invalid_base64_is_a_400(self, env: Env, alice: User, mp4_file: Path) -> None:
        media_id = await _open(env, alice, mp4_file.read_bytes())

        response = await env.client.post(
            URL,
            data={"command": "APPEND", "media_id": media_id, "segment_index": "0",
                  "media_data": "!!!not base64 at all!!!"},
            headers=alice.headers,
        )  # fmt: skip

        assert response.status_code == 400


class TestMultipartQuirks:
    """What python-twitter, twitter-api-v2 and others really send (spec/real-clients.md)."""

    async def _post_raw(self, env: Env, user: User, body: bytes, boundary: str) -> int:
        response = await env.client.post(
            URL,
            content=body,
            headers={**user.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        return response.status_code

    def _fields(self, media_id: str) -> list[tuple[str, str, bytes]]:
        return [
            ('Content-Disposition: form-data; name="command"', "command", b"APPEND"),
            ('Content-Disposition: form-data; name="media_id"', "media_id", media_id.encode()),
            ('Content-Disposition: form-data; name="segment_index"', "segment_index", b"0"),
        ]

    async def test_media_part_without_filename_is_read_as_bytes(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)
        media = ('Content-Disposition: form-data; name="media"\r\n'
                 "Content-Type: application/octet-stream", "media", data)  # fmt: skip
        body = _raw_multipart("----twitterapiv2", [*self._fields(media_id), media], tail=b"\r\n")

        assert await self._post_raw(env, alice, body, "----twitterapiv2") == 204
        assert (await finalize(env.client, alice.headers, media_id)).status_code == 201
        assert disk(env).blob_path(media_id).read_bytes() == data

    async def test_quoted_filename_and_no_crlf_after_closing_boundary(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)
        media = ("Content-Disposition: form-data; name=\"media\"; filename=\"'video.mp4'\"\r\n"
                 "Content-Type: application/octet-stream", "media", data)  # fmt: skip
        body = _raw_multipart("pytwitterboundary", [*self._fields(media_id), media], tail=b"")

        assert await self._post_raw(env, alice, body, "pytwitterboundary") == 204
        assert (await finalize(env.client, alice.headers, media_id)).status_code == 201

    async def test_part_without_content_type_and_fields_after_media(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)
        command, *ids = self._fields(media_id)
        media = ('Content-Disposition: form-data; name="media"; filename="blob"', "media", data)
        body = _raw_multipart("b0undary", [command, media, *ids], tail=b"\r\n")

        assert await self._post_raw(env, alice, body, "b0undary") == 204
        assert (await finalize(env.client, alice.headers, media_id)).status_code == 201

    async def test_malformed_multipart_is_a_400(self, env: Env, alice: User) -> None:
        body = b"--xx\r\nno headers end here"

        assert await self._post_raw(env, alice, body, "yy") == 400


class TestOwnership:
    async def test_another_user_cannot_append_finalize_or_see_status(
        self, env: Env, alice: User, bob: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _open(env, alice, data)

        appended = await append(env.client, bob.headers, media_id, 0, data)
        finalized = await finalize(env.client, bob.headers, media_id)
        seen = await status(env.client, bob.headers, media_id)
        unknown = await status(env.client, bob.headers, "12345")

        assert appended.status_code == 400
        assert appended.json()["error"] == f"Invalid media_id: Some({media_id})."
        assert finalized.status_code == 400
        assert seen.status_code == 404
        assert seen.json() == unknown.json()
        assert (await status(env.client, alice.headers, media_id)).status_code == 200
