"""Properties of the base64 and percent decoders (app/uploads/streams.py, forms.b64):
the same answer as the standard library's whole-value decoders, for any split."""

from __future__ import annotations

import base64
from urllib.parse import quote, unquote_to_bytes

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.core import errors
from app.http.forms import b64
from app.uploads.streams import PercentDecoder, b64decode_all
from tests.http.fuzz.drivers import b64_stream, percent_stream
from tests.http.fuzz.strategies import b64_reference, cut, cuts


def _wrapped(text: bytes, width: int, newline: bytes) -> bytes:
    return newline.join(text[i : i + width] for i in range(0, len(text), width))


@st.composite
def encodings(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """(data, its base64 as some client writes it): standard or URL-safe alphabet,
    padded or not, wrapped in lines of any width with LF or CRLF, spaces around."""
    data = draw(st.binary(max_size=300))
    text = draw(st.sampled_from([base64.b64encode, base64.urlsafe_b64encode]))(data)
    if draw(st.booleans()):
        text = text.rstrip(b"=")
    if draw(st.booleans()):
        text = _wrapped(text, draw(st.integers(1, 80)), draw(st.sampled_from([b"\n", b"\r\n"])))
    return data, draw(st.sampled_from([b"", b" ", b"\t", b"\r\n"])) + text + draw(
        st.sampled_from([b"", b"\n", b"\r\n", b"  "])
    )


_B64ISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                b"QQ",
                b"QUFB",
                b"QQ==",
                b"QUE=",
                b"=",
                b"==",
                b"-",
                b"_",
                b"+",
                b"/",
                b" ",
                b"\t",
                b"\r\n",
                b"\n",
                b"\x0b",
                b"\x0c",
                b"*",
                b"\x00",
                b"%3D",
            ]
        ),
        st.text("ABCabc019+/=", max_size=6).map(str.encode),
        st.binary(max_size=3),
    ),
    max_size=12,
).map(b"".join)


class TestBase64:
    @given(encodings(), cuts)
    def test_any_client_encoding_decodes_to_the_bytes(
        self, encoded: tuple[bytes, bytes], at: list[int]
    ) -> None:
        raw, text = encoded

        assert b64_reference(text) == raw
        assert b64_stream(cut(text, at)) == raw
        assert b64decode_all(text, "media") == raw

    @given(_B64ISH, cuts)
    @example(b"QQ==QUFB", [2])  # padding then data, cut inside the padding: was taken
    @example(b"QQ==Q", [4])
    @example(b"QUFB=", [])  # padding that no quad needs
    @example(b"QQ==", [3, 3])
    @example(b"Q\x0bQ==", [])  # a vertical tab is not whitespace here
    def test_any_text_is_decoded_as_the_reference_or_refused(
        self, text: bytes, at: list[int]
    ) -> None:
        expected = b64_reference(text)

        assert b64_stream(cut(text, at)) == expected
        assert b64_stream([text]) == expected
        if expected is None:
            with pytest.raises(errors.BadParameter, match="media is not valid base64"):
                b64decode_all(text, "media")
        else:
            assert b64decode_all(text, "media") == expected

    @given(_B64ISH)
    def test_json_media_follows_the_same_rule(self, text: bytes) -> None:
        expected = b64_reference(text)
        value = text.decode("latin-1")

        if expected is None or not value.isascii():
            with pytest.raises(errors.BadParameter):
                b64(value)
        else:
            assert b64(value) == expected

    def test_the_strict_reference_agrees_where_there_is_nothing_to_normalise(self) -> None:
        for text in (b"", b"QQ==", b"QUFB", b"QUE=", b"AAEC/+8="):
            assert b64_reference(text) == base64.b64decode(text, validate=True)


_ESCAPED = st.lists(
    st.one_of(
        st.binary(max_size=6),
        st.sampled_from(
            [
                b"%",
                b"%2",
                b"%2B",
                b"%2b",
                b"%2F",
                b"%3D",
                b"%3d",
                b"%25",
                b"%%",
                b"%zz",
                b"%4",
                b"%41",
                b"%e9",
                b"%C3%A9",
                b"+",
                b"%0A",
            ]
        ),
    ),
    max_size=16,
).map(b"".join)


class TestPercent:
    @given(_ESCAPED, cuts)
    @example(b"%2B", [1, 2])
    @example(b"%%41", [3])
    @example(b"%2%2B", [3])
    def test_any_split_decodes_as_unquote_to_bytes(self, text: bytes, at: list[int]) -> None:
        # '+' stays '+': in media_data it is base64's, never an encoded space.
        assert percent_stream(cut(text, at)) == unquote_to_bytes(text)

    @given(st.binary(max_size=400), st.sampled_from(["", "/+=", "/"]), cuts)
    def test_what_quote_escapes_comes_back(self, raw: bytes, safe: str, at: list[int]) -> None:
        escaped = quote(raw, safe=safe).encode()

        assert percent_stream(cut(escaped, at)) == raw

    @given(st.binary(max_size=300), st.booleans(), cuts)
    def test_media_data_urlencoded_then_base64(self, raw: bytes, wrap: bool, at: list[int]) -> None:
        text = base64.encodebytes(raw) if wrap else base64.b64encode(raw)
        escaped = quote(text, safe="").encode()
        decoder = PercentDecoder()
        percent_decoded = [decoder.feed(piece) for piece in cut(escaped, at)]

        assert b64_stream([*percent_decoded, decoder.finish()]) == raw
