"""Properties of the streaming multipart reader (app/http/forms.py ``_multipart_events``
and the form ``open_form`` builds from it): the parts python-multipart's whole-body parse
finds, for any body and any split of it; an unterminated body is a 400."""

from __future__ import annotations

import base64

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from tests.fixtures.fuzzing import bodies_settings, run
from tests.http.fuzz.drivers import form_of, multipart_parts, request_of
from tests.http.fuzz.expect import expected_multipart, matches
from tests.http.fuzz.strategies import (
    Part,
    boundaries,
    cut,
    cuts,
    fits,
    multipart_body,
    multipart_reference,
    nasty_bytes,
    parts,
)

_FIELD_NAMES = st.sampled_from(["command", "media_id", "segment_index", "status", ""])


@st.composite
def bodies(
    draw: st.DrawFn, names: st.SearchStrategy[str] | None = None
) -> tuple[bytes, bytes, list[Part]]:
    """(boundary, body, its parts): random parts, random header case, random epilogue."""
    boundary = draw(boundaries).encode()
    strategy = parts(boundary) if names is None else parts(boundary, names)
    body_parts = draw(st.lists(strategy.filter(lambda p: fits(p, boundary)), max_size=4))
    epilogue = draw(st.sampled_from([b"", b"\r\n"]) | nasty_bytes(boundary, max_atoms=3))
    return (
        boundary,
        multipart_body(boundary, body_parts, epilogue=epilogue, case=draw(st.integers(0, 2))),
        body_parts,
    )


def _media_part(boundary: bytes) -> st.SearchStrategy[Part]:
    """A media part as clients send it: raw ``media``, ``media`` with
    Content-Transfer-Encoding: base64, or ``media_data`` (base64, maybe wrapped)."""
    raw = nasty_bytes(boundary)
    return st.one_of(
        st.builds(Part, name=st.just("media"), data=raw, filename=st.just("blob"),
                  content_type=st.just("application/octet-stream")),
        st.builds(Part, name=st.just("media"), data=raw.map(base64.encodebytes),
                  transfer_encoding=st.sampled_from(["base64", "BASE64"])),
        st.builds(Part, name=st.just("media_data"),
                  data=raw.map(base64.b64encode) | raw.map(base64.encodebytes)),
    )  # fmt: skip


@st.composite
def upload_bodies(draw: st.DrawFn) -> tuple[bytes, bytes, list[Part]]:
    """An APPEND-like body: fields, one or two media parts, fields after them."""
    boundary = draw(boundaries).encode()
    fields = st.lists(parts(boundary, _FIELD_NAMES).filter(lambda p: fits(p, boundary)), max_size=3)
    media = st.lists(
        _media_part(boundary).filter(lambda p: fits(p, boundary)), min_size=1, max_size=2
    )
    body_parts = draw(fields) + draw(media) + draw(fields)
    return boundary, multipart_body(boundary, body_parts), body_parts


class TestEvents:
    @bodies_settings()
    @given(bodies(), cuts)
    @example((b"b", b"--b--", []), [])  # no parts at all
    @example((b"b", b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n--b--', []), [1])
    @example(
        (b"--", b'----\r\ncontent-disposition: form-data; name="x"\r\n\r\n--\r\n------', []),
        [9, 40],
    )
    def test_parts_are_the_full_parse_for_any_split(
        self, body: tuple[bytes, bytes, list[Part]], at: list[int]
    ) -> None:
        boundary, raw, body_parts = body
        reference = multipart_reference(raw, boundary)
        assume(body_parts or reference)  # the hand-written examples carry no Part list
        if body_parts:
            assert reference == [(p.name, p.data) for p in body_parts]

        assert multipart_parts(cut(raw, at), boundary) == reference
        assert multipart_parts([raw], boundary) == reference

    @bodies_settings()
    @given(bodies(), st.integers(0, 1 << 16), cuts)
    @example((b"b", b"--b--\r\n", []), 4, [])  # '--b-': the closing '--' cut in two
    @example((b"b", b"--b--", []), 0, [])  # an empty body
    def test_an_unterminated_body_is_a_400(
        self, body: tuple[bytes, bytes, list[Part]], length: int, at: list[int]
    ) -> None:
        boundary, raw, body_parts = body
        end = len(multipart_body(boundary, body_parts, epilogue=b""))
        truncated = raw[: length % end]  # anything short of the closing delimiter

        result = multipart_parts(cut(truncated, at), boundary)

        assert isinstance(result, str)
        assert "multipart" in result

    def test_the_closing_boundary_without_crlf_is_complete(self) -> None:
        # python-twitter's hand-built body: no CRLF after the closing boundary.
        raw = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--'

        assert multipart_parts([raw], b"b") == [("a", b"1")]


class TestOpenForm:
    @bodies_settings()
    @given(upload_bodies(), cuts, st.booleans())
    def test_fields_and_media_are_the_full_parse_for_any_split(
        self, body: tuple[bytes, bytes, list[Part]], at: list[int], content_length: bool
    ) -> None:
        boundary, raw, body_parts = body
        request = request_of(
            cut(raw, at),
            f"multipart/form-data; boundary={boundary.decode()}",
            content_length=content_length,
        )

        assert matches(run(form_of(request)), expected_multipart(body_parts))

    @pytest.mark.parametrize(
        "content_type", ["multipart/form-data", "multipart/form-data; boundary="]
    )
    def test_no_boundary_is_a_400(self, content_type: str) -> None:
        result = run(form_of(request_of([b"--b--"], content_type)))

        assert result.error == "multipart body without a boundary."
