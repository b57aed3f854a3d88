from __future__ import annotations

import base64
import os
from urllib.parse import quote

import pytest

from app.core import errors
from app.uploads.streams import Base64Decoder, PercentDecoder


@pytest.mark.parametrize("piece", [1, 3, 4, 7, 1000])
def test_base64_decoder_handles_any_split(piece: int) -> None:
    data = os.urandom(5000)
    encoded = base64.encodebytes(data)  # with newlines every 76 characters
    decoder = Base64Decoder()

    out = b"".join(decoder.feed(encoded[i : i + piece]) for i in range(0, len(encoded), piece))

    assert out + decoder.finish() == data


def test_base64_decoder_accepts_unpadded_and_urlsafe() -> None:
    data = os.urandom(1001)
    decoder = Base64Decoder()

    out = decoder.feed(base64.urlsafe_b64encode(data).rstrip(b"="))

    assert out + decoder.finish() == data


def test_base64_decoder_refuses_garbage() -> None:
    with pytest.raises(errors.BadParameter):
        Base64Decoder().feed(b"####")


@pytest.mark.parametrize("piece", [1, 2, 5, 64])
def test_percent_decoder_handles_escapes_split_across_pieces(piece: int) -> None:
    raw = base64.b64encode(os.urandom(3000)) + "é %41".encode()
    escaped = quote(raw, safe="").encode()
    decoder = PercentDecoder()

    out = b"".join(decoder.feed(escaped[i : i + piece]) for i in range(0, len(escaped), piece))

    assert out + decoder.finish() == raw
