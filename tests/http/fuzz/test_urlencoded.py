"""Properties of the urlencoded readers (app/http/forms.py ``_urlencoded_events``, the
one-shot small-body path of ``open_form``): the pairs ``urllib.parse.parse_qsl`` finds
(keep_blank_values; empty pairs dropped as it drops them), for any body and any split."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import example, given
from hypothesis import strategies as st

from tests.fixtures.fuzzing import bodies_settings, run
from tests.http.fuzz.drivers import form_of, request_of, urlencoded_pairs
from tests.http.fuzz.expect import expected_form, expected_pairs, matches
from tests.http.fuzz.strategies import cut, cuts, nasty_bytes

_NAMES = st.sampled_from([b"media", b"media_data", b"command", b"status", b"", b"a+b", b"%6Dedia"])


@st.composite
def urlencoded(draw: st.DrawFn) -> bytes:
    """Pairs of random names and values, each raw, quoted or quote_plus'ed, glued with
    '&' (sometimes doubled), '=' sometimes missing or repeated."""
    pieces = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(_NAMES | nasty_bytes(max_atoms=3))
        value = draw(nasty_bytes(max_atoms=6))
        style = draw(st.sampled_from(["raw", "quote", "plus", "base64ish"]))
        if style == "quote":
            value = quote(value, safe="").encode()
        elif style == "plus":
            value = quote(value, safe=" ").replace(" ", "+").encode()
        elif style == "base64ish":
            value = draw(st.text("ABCQUFB+/=%2B3D", max_size=16)).encode()
        glue = draw(st.sampled_from([b"=", b"", b"==", b"=&"]))
        pieces.append(name + glue + value)
    return draw(st.sampled_from([b"&", b"&&"])).join(pieces) + draw(st.sampled_from([b"", b"&"]))


class TestEvents:
    @bodies_settings()
    @given(urlencoded(), cuts)
    @example(b"a=1&&b=2", [])  # an empty pair: parse_qsl drops it
    @example(b"&", [])
    @example(b"media_data=QQ%3", [14])  # an escape cut by the split
    @example(b"media=a+b%2B", [7])
    def test_pairs_are_parse_qsl_for_any_split(self, body: bytes, at: list[int]) -> None:
        expected = expected_pairs(body)

        assert urlencoded_pairs(cut(body, at)) == expected
        assert urlencoded_pairs([body]) == expected


class TestOpenForm:
    @bodies_settings()
    @given(urlencoded(), cuts, st.booleans())
    @example(b"status=\xc3%A9", [], True)  # raw UTF-8 lead byte, escaped continuation
    @example(b"status=%C3\xa9", [], True)
    @example(b"status=\xe9", [], False)
    @example(b"media_data==&media=", [], False)  # bad final quad, then a second media
    def test_fields_and_media_are_parse_qsl_for_any_split(
        self, body: bytes, at: list[int], content_length: bool
    ) -> None:
        # With a Content-Length <= 64 KiB the body is read whole and parsed in one go;
        # without one it streams: both must give parse_qsl's answer.
        request = request_of(
            cut(body, at), "application/x-www-form-urlencoded", content_length=content_length
        )

        assert matches(run(form_of(request)), expected_form(body))
