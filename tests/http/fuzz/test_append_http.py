"""Random multipart APPENDs through real HTTP (httpx's ASGI transport sends each piece
as its own ASGI message): the stored segment holds exactly the bytes sent, for any split
of the body; a body cut short of its closing boundary stores nothing. And urlencoded
``media_data`` APPENDs streamed in random pieces (no Content-Length)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote

from hypothesis import example, given
from hypothesis import strategies as st

from app.storage.keys import media as storage_key
from tests.conftest import Env, User
from tests.fixtures.fuzzing import http_settings
from tests.fixtures.protocol import init
from tests.http.fuzz.strategies import (
    Part,
    boundaries,
    cut,
    cuts,
    feed,
    fits,
    multipart_body,
    nasty_bytes,
)

URL = "/1.1/media/upload.json"
_HTTP = http_settings()
_IDS = [Part("media_id", b""), Part("segment_index", b"")]  # filled in by _body


@st.composite
def appends(draw: st.DrawFn) -> tuple[bytes, list[Part], bytes]:
    """(boundary, parts after ``command``, segment bytes): the media part raw or base64,
    anywhere among media_id, segment_index and unknown fields (the ones after it are
    held for: forms.RequestForm.hold_media). Empty boundary: no such body can be sent
    (the media part holds its own delimiter)."""
    boundary = draw(boundaries).encode()
    segment = draw(st.binary(min_size=1, max_size=4096) | nasty_bytes(boundary, 16).filter(bool))
    style = draw(st.sampled_from(["raw", "media_data", "base64 part"]))
    if style == "raw":
        media = Part("media", segment, filename="blob", content_type="application/octet-stream")
    elif style == "media_data":
        media = Part("media_data", base64.encodebytes(segment))
    else:
        media = Part("media", base64.b64encode(segment), transfer_encoding="base64")
    extra = st.builds(Part, name=st.sampled_from(["x", "note", ""]), data=nasty_bytes(boundary, 4))
    fields = draw(st.lists(extra.filter(lambda p: fits(p, boundary)), max_size=2))
    fields = [Part("media_id", b""), Part("segment_index", b""), *fields]
    fields = draw(st.permutations(fields))
    at = draw(st.integers(0, len(fields)))
    if not fits(media, boundary):
        boundary = b""
    return boundary, [*fields[:at], media, *fields[at:]], segment


def _body(boundary: bytes, parts: list[Part], media_id: str, index: int, epilogue: bytes) -> bytes:
    values = {"media_id": media_id.encode(), "segment_index": str(index).encode()}
    filled = [Part(p.name, values[p.name]) if p.name in values else p for p in parts]
    return multipart_body(boundary, [Part("command", b"APPEND"), *filled], epilogue=epilogue)


async def _open(env: Env, user: User) -> str:
    response = await init(env.client, user.headers, total_bytes=1 << 20, media_type="video/mp4")
    assert response.status_code == 202, response.text
    return str(response.json()["media_id_string"])


async def _post(env: Env, user: User, boundary: bytes, pieces: list[bytes]) -> int:
    content_type = f"multipart/form-data; boundary={boundary.decode()}"
    return await _send(env, user, content_type, pieces)


async def _send(env: Env, user: User, content_type: str, pieces: list[bytes]) -> int:
    response = await env.client.post(
        URL, content=feed(pieces), headers={**user.headers, "Content-Type": content_type}
    )
    return response.status_code


@_HTTP
@given(append=appends(), at=cuts, index=st.integers(1, 5))
async def test_the_stored_segment_is_the_bytes_sent(
    env: Env, alice: User, append: tuple[bytes, list[Part], bytes], at: list[int], index: int
) -> None:
    boundary, parts, segment = append
    if not boundary:
        return
    media_id = await _open(env, alice)
    body = _body(boundary, parts, media_id, index, b"\r\n")

    assert await _post(env, alice, boundary, cut(body, at)) == 204
    stored = await env.state.store.segment_sha256(storage_key(int(media_id)), index)
    assert stored == hashlib.sha256(segment).hexdigest()


@_HTTP
@given(append=appends(), short=st.integers(0, 1 << 16), at=cuts)
@example(  # cut after the media part: was a 400 that kept the segment
    append=(
        b"b",
        [*_IDS, Part("media", b"\x00\xff", filename="blob"), Part("x", b"")],
        b"\x00\xff",
    ),
    short=len(b"\r\n--b--") - 1,
    at=[],
)
async def test_a_body_cut_short_stores_nothing(
    env: Env, alice: User, append: tuple[bytes, list[Part], bytes], short: int, at: list[int]
) -> None:
    boundary, parts, _ = append
    if not boundary:
        return
    media_id = await _open(env, alice)
    body = _body(boundary, parts, media_id, 1, b"")

    keep = len(body) - 1 - short % len(body)  # 1 to all bytes short of the end
    status = await _post(env, alice, boundary, cut(body[:keep], at))

    assert status == 400
    assert await env.state.store.segment_sha256(storage_key(int(media_id)), 1) is None


@_HTTP
@given(segment=st.binary(min_size=1, max_size=4096), wrap=st.booleans(), at=cuts)
async def test_urlencoded_media_data_in_pieces_is_stored_whole(
    env: Env, alice: User, segment: bytes, wrap: bool, at: list[int]
) -> None:
    media_id = await _open(env, alice)
    encoded = (base64.encodebytes if wrap else base64.b64encode)(segment)
    body = f"command=APPEND&media_id={media_id}&segment_index=2&media_data=".encode()
    body += quote(encoded, safe="").encode() + b"&note=a+b"

    urlencoded = "application/x-www-form-urlencoded"
    assert await _send(env, alice, urlencoded, cut(body, at)) == 204
    stored = await env.state.store.segment_sha256(storage_key(int(media_id)), 2)
    assert stored == hashlib.sha256(segment).hexdigest()
