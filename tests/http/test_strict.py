"""Strict parsing: ASCII digits only, a multipart body must end with its closing boundary
(else nothing is stored), RFC 2046 boundaries, no empty segments, no control characters
in text."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Env, User
from tests.fixtures.bodies import assert_v2_problem, assert_v11_error
from tests.fixtures.protocol import URL, init, status

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\0" * 56


async def _open(env: Env, user: User, size: int = 1000) -> str:
    started = await init(env.client, user.headers, total_bytes=size, media_type="image/png")
    assert started.status_code == 202, started.text
    return str(started.json()["media_id_string"])


async def _stored(env: Env, user: User, media_id: str) -> list[int]:
    body = (await status(env.client, user.headers, media_id)).json()
    return [s["segment_index"] for s in body["upload_info"]["segments"]]


def _part(boundary: bytes, name: str, value: bytes) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'.encode()
    if name == "media":
        disposition += b'; filename="blob"\r\nContent-Type: application/octet-stream'
    return b"--" + boundary + b"\r\n" + disposition + b"\r\n\r\n" + value + b"\r\n"


def _append_body(boundary: bytes, media_id: str, media: bytes = PNG_HEAD) -> bytes:
    return (
        _part(boundary, "command", b"APPEND")
        + _part(boundary, "media_id", media_id.encode())
        + _part(boundary, "segment_index", b"0")
        + _part(boundary, "media", media)
        + b"--"
        + boundary
        + b"--\r\n"
    )


async def _post_multipart(env: Env, user: User, boundary: bytes, body: bytes) -> Any:
    content_type = b"multipart/form-data; boundary=" + boundary
    headers = {**user.headers, "Content-Type": content_type.decode()}
    return await env.client.post(URL, content=body, headers=headers)


async def _append_form(
    env: Env, user: User, media_id: str, index: str, *, media: bytes | None = None, **data: str
) -> Any:
    fields = {"command": "APPEND", "media_id": media_id, "segment_index": index, **data}
    files = {"media": media} if media is not None else None
    return await env.client.post(URL, data=fields, files=files, headers=user.headers)


class TestAsciiDigits:
    async def test_arabic_indic_segment_index_is_400_and_stores_nothing(
        self, env: Env, alice: User
    ) -> None:
        media_id = await _open(env, alice)

        response = await _append_form(env, alice, media_id, "١", media=PNG_HEAD)

        assert response.status_code == 400
        assert_v11_error(response.json())
        assert await _stored(env, alice, media_id) == []

    async def test_arabic_indic_segment_index_is_400_on_v2(self, env: Env, alice: User) -> None:
        media_id = await _open(env, alice)

        response = await env.client.post(
            f"/2/media/upload/{media_id}/append",
            data={"segment_index": "٠"},
            files={"media": PNG_HEAD},
            headers=alice.headers,
        )

        assert response.status_code == 400
        assert_v2_problem(response.json(), status=400)

    @pytest.mark.parametrize("total", ["١٠", "1٠", "１０"])
    async def test_non_ascii_total_bytes_is_400_on_both_surfaces(
        self, env: Env, alice: User, total: str
    ) -> None:
        v11 = await env.client.post(
            URL,
            data={"command": "INIT", "total_bytes": total, "media_type": "image/png"},
            headers=alice.headers,
        )
        v2 = await env.client.post(
            "/2/media/upload/initialize",
            json={"total_bytes": total, "media_type": "image/png"},
            headers=alice.headers,
        )

        assert v11.status_code == 400
        assert_v11_error(v11.json())
        assert v2.status_code == 400
        assert_v2_problem(v2.json(), status=400)

    async def test_superscript_digits_in_the_oauth_timestamp_are_401(self, env: Env) -> None:
        # Headers are latin-1: "¹²³" pass str.isdigit() but not int().
        header = (
            'OAuth oauth_consumer_key="k", oauth_token="t", oauth_signature_method="HMAC-SHA1", '
            'oauth_signature="s", oauth_timestamp="¹²³", oauth_nonce="n"'
        ).encode("latin-1")

        response = await env.client.get("/2/tweets?ids=1", headers=[(b"Authorization", header)])

        assert response.status_code == 401


class TestMultipartEnds:
    async def test_a_body_with_its_closing_boundary_is_stored(self, env: Env, alice: User) -> None:
        media_id = await _open(env, alice)

        response = await _post_multipart(env, alice, b"b0und", _append_body(b"b0und", media_id))

        assert response.status_code == 204, response.text
        assert await _stored(env, alice, media_id) == [0]

    @pytest.mark.parametrize(
        "cut",
        [
            pytest.param(len(b"\r\n--b0und--\r\n"), id="cut-right-after-the-media-bytes"),
            pytest.param(len(b"--\r\n"), id="delimiter-without-its-closing-dashes"),
            pytest.param(len(b"\r\n--b0und--\r\n") + 10, id="cut-inside-the-media-bytes"),
        ],
    )
    async def test_a_body_cut_short_is_400_and_stores_nothing(
        self, env: Env, alice: User, cut: int
    ) -> None:
        media_id = await _open(env, alice)
        body = _append_body(b"b0und", media_id)[:-cut]

        response = await _post_multipart(env, alice, b"b0und", body)

        assert response.status_code == 400
        assert "no closing boundary" in response.json()["error"]
        assert await _stored(env, alice, media_id) == []

    async def test_fields_after_the_media_then_no_closing_boundary_store_nothing(
        self, env: Env, alice: User
    ) -> None:
        media_id = await _open(env, alice)
        body = (
            _part(b"b0und", "command", b"APPEND")
            + _part(b"b0und", "media", PNG_HEAD)
            + _part(b"b0und", "media_id", media_id.encode())
            + _part(b"b0und", "segment_index", b"0")
        )

        response = await _post_multipart(env, alice, b"b0und", body)

        assert response.status_code == 400
        assert await _stored(env, alice, media_id) == []

    async def test_a_simple_upload_cut_short_creates_no_media(self, env: Env, alice: User) -> None:
        body = _part(b"b0und", "media", PNG_HEAD)

        response = await _post_multipart(env, alice, b"b0und", body)

        assert response.status_code == 400
        assert "no closing boundary" in response.json()["error"]


class TestBoundaries:
    @pytest.mark.parametrize(
        "boundary",
        [b"a" * 70, b"'()+_,-./:=?" + b"Z9", b"with space inside"],
    )
    async def test_rfc_2046_boundaries_are_accepted(
        self, env: Env, alice: User, boundary: bytes
    ) -> None:
        media_id = await _open(env, alice)

        response = await _post_multipart(
            env, alice, b'"' + boundary + b'"', _append_body(boundary, media_id)
        )

        assert response.status_code == 204, response.text

    @pytest.mark.parametrize(
        "boundary",
        [b"a" * 71, b"a" * 200, b"at@sign", b"ends with space "],
    )
    async def test_other_boundaries_are_400(self, env: Env, alice: User, boundary: bytes) -> None:
        media_id = await _open(env, alice)

        response = await _post_multipart(
            env, alice, b'"' + boundary + b'"', _append_body(boundary, media_id)
        )

        assert response.status_code == 400
        assert "RFC 2046" in response.json()["error"]
        assert await _stored(env, alice, media_id) == []


class TestEmptySegments:
    async def test_an_empty_media_part_is_400(self, env: Env, alice: User) -> None:
        media_id = await _open(env, alice)

        response = await _post_multipart(
            env, alice, b"b0und", _append_body(b"b0und", media_id, media=b"")
        )

        assert response.status_code == 400
        assert response.json()["error"] == "The media segment is empty."
        assert await _stored(env, alice, media_id) == []

    async def test_an_empty_segment_after_the_first_is_400(self, env: Env, alice: User) -> None:
        media_id = await _open(env, alice)

        response = await _append_form(env, alice, media_id, "1", media=b"")

        assert response.status_code == 400
        assert await _stored(env, alice, media_id) == []

    async def test_empty_media_data_and_empty_v2_json_media_are_400(
        self, env: Env, alice: User
    ) -> None:
        media_id = await _open(env, alice)

        urlencoded = await _append_form(env, alice, media_id, "1", media_data="")
        v2 = await env.client.post(
            f"/2/media/upload/{media_id}/append",
            json={"segment_index": 2, "media": ""},
            headers=alice.headers,
        )

        assert urlencoded.status_code == 400
        assert v2.status_code == 400
        assert_v2_problem(v2.json(), status=400)
        assert await _stored(env, alice, media_id) == []


def _text_routes(bob: User) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, kind, body with ``{}`` where the text goes)."""
    dm = {"event": {"type": "message_create", "message_create": {
        "target": {"recipient_id": str(bob.id)}, "message_data": {"text": "{}"}}}}  # fmt: skip
    return [
        ("/1.1/statuses/update.json", "form", {"status": "{}"}),
        ("/2/tweets", "json", {"text": "{}"}),
        ("/1.1/direct_messages/events/new.json", "json", dm),
        (f"/2/dm_conversations/with/{bob.id}/messages", "json", {"text": "{}"}),
        ("/1.1/media/metadata/create.json", "json", {"media_id": "1", "alt_text": {"text": "{}"}}),
        ("/2/media/metadata", "json", {"id": "1", "metadata": {"alt_text": {"text": "{}"}}}),
        (
            "/2/media/subtitles",
            "json",
            {"id": "1", "subtitles": {"id": "2", "language_code": "en", "display_name": "{}"}},
        ),
    ]


def _fill(node: Any, text: str) -> Any:
    if isinstance(node, dict):
        return {key: _fill(value, text) for key, value in node.items()}
    return text if node == "{}" else node


class TestControlCharacters:
    @pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x1f", "\x0b"])
    async def test_control_characters_in_text_are_the_surfaces_400(
        self, env: Env, alice: User, bob: User, char: str
    ) -> None:
        for path, kind, template in _text_routes(bob):
            body = _fill(template, f"before{char}after")

            if kind == "form":
                response = await env.client.post(path, data=body, headers=alice.headers)
            else:
                response = await env.client.post(path, json=body, headers=alice.headers)

            assert response.status_code == 400, (path, response.text)
            if path.startswith("/2/"):
                assert_v2_problem(response.json(), status=400)
            else:
                assert_v11_error(response.json(), code=44)

    async def test_tab_and_line_breaks_are_kept(self, env: Env, alice: User) -> None:
        text = "line one\r\nline\ttwo\n"

        v11 = await env.client.post(
            "/1.1/statuses/update.json", data={"status": text}, headers=alice.headers
        )
        v2 = await env.client.post("/2/tweets", json={"text": text + "."}, headers=alice.headers)

        assert v11.status_code == 200, v11.text
        assert v11.json()["text"] == text
        assert v2.status_code == 201, v2.text
