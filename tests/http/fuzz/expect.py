"""What the service should make of a body: the reference parses turned into the form
``open_form`` builds (first value of each field, the one media part decoded, the 400s)."""

from __future__ import annotations

from app.http.forms import MEDIA_FIELDS
from tests.http.fuzz.drivers import Form
from tests.http.fuzz.strategies import Part, b64_reference, qsl_reference

__all__ = ["expected_form", "expected_multipart", "expected_pairs", "matches"]

TWO_MEDIA = "Send exactly one of media or media_data."


def _bad_base64(name: str, later_media: bool) -> Form:
    """Bad base64 in the media value, and maybe a second media field after it: a bad
    character is refused as the decoder meets it, a bad final quad only at the value's
    end, which for the streamed media part comes after the rest of the body was parsed
    (and its second media field seen). Either answer is the same 400."""
    message = f"{name} is not valid base64."
    return Form(error=f"{message}|{TWO_MEDIA}" if later_media else message)


def matches(actual: Form, expected: Form) -> bool:
    """``actual`` is ``expected``; an expected error may name alternatives (``a|b``)."""
    if expected.error and actual.error and "|" in expected.error:
        return actual.error in expected.error.split("|") and actual.params == expected.params
    return actual == expected


def expected_multipart(body_parts: list[Part]) -> Form:
    """The form the service should build: first value of each field, the one media
    part decoded, a 400 for a second media part or bad base64."""
    form = Form()
    for index, part in enumerate(body_parts):
        if part.name not in MEDIA_FIELDS:
            form.params.setdefault(part.name, part.data.decode("utf-8", "replace"))
            continue
        if form.media is not None:
            return Form(error=TWO_MEDIA)
        is_b64 = part.name == "media_data" or part.transfer_encoding in ("base64", "BASE64")
        media = b64_reference(part.data) if is_b64 else part.data
        if media is None:
            later = any(p.name in MEDIA_FIELDS for p in body_parts[index + 1 :])
            return _bad_base64(part.name, later)
        form.media = media
    return form


def expected_pairs(body: bytes) -> list[tuple[str, bytes]]:
    """parse_qsl's pairs; ``media``/``media_data`` values keep '+' (base64's, never an
    encoded space): the same parse with '+' escaped, same pairs in the same order."""
    plus = qsl_reference(body)
    literal = qsl_reference(body.replace(b"+", b"%2B"))
    assert len(plus) == len(literal)
    return [
        (name, lit if name in MEDIA_FIELDS else value)
        for (name, value), (_, lit) in zip(plus, literal, strict=True)
    ]


def expected_form(body: bytes) -> Form:
    form = Form()
    pairs = expected_pairs(body)
    for index, (name, value) in enumerate(pairs):
        if name not in MEDIA_FIELDS:
            form.params.setdefault(name, value.decode("utf-8", "replace"))
        elif form.media is not None:
            return Form(error=TWO_MEDIA)
        else:
            media = b64_reference(value) if name == "media_data" else value
            if media is None:
                later = any(other in MEDIA_FIELDS for other, _ in pairs[index + 1 :])
                return _bad_base64("media_data", later)
            form.media = media
    return form
