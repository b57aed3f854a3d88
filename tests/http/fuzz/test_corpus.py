"""The committed corpus (tests/fixtures/parser-corpus/index.json): every body that broke
a parser, replayed whole and in its recorded pieces against the references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.storage.keys import media as storage_key
from tests.conftest import Env, User
from tests.fixtures.fuzzing import run
from tests.fixtures.protocol import URL, init
from tests.http.fuzz.drivers import (
    b64_stream,
    form_of,
    multipart_parts,
    request_of,
    urlencoded_pairs,
)
from tests.http.fuzz.expect import expected_form, expected_pairs, matches
from tests.http.fuzz.strategies import b64_reference, cut, feed, multipart_reference

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "parser-corpus"
ENTRIES: list[dict[str, Any]] = json.loads((CORPUS / "index.json").read_text())["entries"]


def _entries(*kinds: str) -> list[Any]:
    return [pytest.param(e, id=e["file"]) for e in ENTRIES if e["kind"] in kinds]


def test_every_file_is_indexed_and_every_entry_has_its_file() -> None:
    files = {path.name for path in CORPUS.glob("*.bin")}

    assert files == {entry["file"] for entry in ENTRIES}
    assert all(entry["outcome"] in ("accepted", "refused") for entry in ENTRIES)


def _replay(entry: dict[str, Any], data: bytes, pieces: list[bytes]) -> bool:
    """Checks one entry against its reference; True when the parser refused it."""
    kind = entry["kind"]
    if kind == "base64":
        assert b64_stream(pieces) == b64_reference(data)
        return b64_reference(data) is None
    if kind == "multipart":
        boundary = entry["boundary"].encode()
        got = multipart_parts(pieces, boundary)
        if isinstance(got, str):
            return True
        assert got == multipart_reference(data, boundary)
        return False
    if kind == "urlencoded":
        assert urlencoded_pairs(pieces) == expected_pairs(data)
        return False
    assert kind == "urlencoded-form", kind
    form = run(form_of(request_of(pieces, "application/x-www-form-urlencoded")))
    assert matches(form, expected_form(data))
    return form.error is not None


@pytest.mark.parametrize("entry", _entries("base64", "multipart", "urlencoded", "urlencoded-form"))
@pytest.mark.parametrize("whole", [True, False], ids=["whole", "in-pieces"])
def test_a_corpus_body_parses_as_its_reference(entry: dict[str, Any], whole: bool) -> None:
    data = (CORPUS / entry["file"]).read_bytes()
    pieces = [data] if whole else cut(data, entry["cuts"])

    assert _replay(entry, data, pieces) == (entry["outcome"] == "refused")


@pytest.mark.parametrize("entry", _entries("append"))
async def test_a_corpus_append_through_http(env: Env, alice: User, entry: dict[str, Any]) -> None:
    opened = await init(env.client, alice.headers, total_bytes=1 << 20, media_type="video/mp4")
    media_id = opened.json()["media_id_string"]
    data = (CORPUS / entry["file"]).read_bytes().replace(b"@MEDIA_ID@", media_id.encode())
    content_type = f"multipart/form-data; boundary={entry['boundary']}"

    response = await env.client.post(
        URL,
        content=feed(cut(data, entry["cuts"])),
        headers={**alice.headers, "Content-Type": content_type},
    )

    stored = await env.state.store.segment_sha256(storage_key(int(media_id)), 1)
    if entry["outcome"] == "refused":
        assert response.status_code == 400, response.text
        assert response.json()["error"]  # the upload host's error body
        assert stored is None
    else:
        assert response.status_code == 204, response.text
        assert stored is not None
