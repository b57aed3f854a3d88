"""One parser per field type, for every body, query and path parameter of every route.

Each parser takes the raw value (``None`` when the parameter is absent) and either
returns the parsed value or raises an ``ApiError``, which the error handler renders in
the surface's JSON (v1.1 ``{"errors":[...]}``, the upload host's ``{"request","error"}``
form, v2 problems). What a malformed value raises is the caller's choice through
``invalid``: the upload host passes ``upload_invalid`` (its legacy form); other routes
keep the default, ``InvalidParameter`` (code 44).

- ids are snowflakes: ASCII digits, 1..2^63-1 (a signed 64-bit column); anything else
  (empty, 0, a sign, non-ASCII digits, 20 digits, >= 2^63) is the surface's 400, never
  an ``OverflowError`` from the database driver. JSON numbers are taken as well.
- integers are ASCII digits only: ``str.isdigit`` and ``int`` accept ``١`` (Arabic-Indic).
- free text (status, DM, alt text, subtitle names): a string without C0 control
  characters other than tab, LF and CR.
- flags: ``true``, ``t``, ``1``, ``yes`` in any case are true; anything else, or
  absence, is false. Twitter documents ``true``/``t``/``1`` for v1.1 booleans; the real
  clients send ``true`` (twitter-api-v2) or ``True`` (tweepy, requests); ``yes`` was
  accepted by v1.1 media before the parsers were merged and stays accepted.
- ``total_bytes``: absent or empty is "missing" (code 38), present but not a
  non-negative integer is "invalid", on both surfaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from app.core import errors
from app.uploads import limits, protocol

__all__ = [
    "MAX_ID",
    "Invalid",
    "category",
    "flag",
    "id_list",
    "media_type",
    "optional_snowflake",
    "pixels",
    "segment_index",
    "snowflake",
    "text",
    "total_bytes",
    "upload_invalid",
]

MAX_ID = 2**63 - 1
_MAX_ID_DIGITS = len(str(MAX_ID))
_TRUE = frozenset({"true", "t", "1", "yes"})
# total_bytes: v2 documents 0..2^34; larger INITs fail the category limit anyway.
_MAX_TOTAL_DIGITS = 18
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Invalid = Callable[[str, object], errors.ApiError]
"""What a malformed value raises: ``(parameter name, raw value) -> error``."""


def _api_invalid(name: str, raw: object) -> errors.ApiError:
    return errors.InvalidParameter(name)


def upload_invalid(name: str, raw: object) -> errors.ApiError:
    """The upload host's form; a ``media_id`` says ``Invalid media_id: Some(...)``."""
    if name == "media_id":
        return errors.InvalidMediaId(raw)
    return errors.BadParameter(f"{name} parameter is invalid.")


def _text(raw: object) -> str | None:
    if raw is None:
        return None
    return (raw if isinstance(raw, str) else str(raw)).strip()


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def snowflake(raw: object, name: str, *, invalid: Invalid = _api_invalid) -> int:
    """A required id (int or ASCII digit string) in 1..2^63-1."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        if raw is None:
            raise errors.ParameterMissing(name)
        raise invalid(name, raw)
    digits = _text(raw)
    if not digits:
        raise errors.ParameterMissing(name)
    if not _is_digits(digits) or len(digits) > _MAX_ID_DIGITS:
        raise invalid(name, raw)
    value = int(digits)
    if not 0 < value <= MAX_ID:
        raise invalid(name, raw)
    return value


def optional_snowflake(raw: object, name: str, *, invalid: Invalid = _api_invalid) -> int | None:
    """An id that may be left out (absent or empty is None)."""
    if raw is None or _text(raw) == "":
        return None
    return snowflake(raw, name, invalid=invalid)


def id_list(
    raw: str | Iterable[object] | None,
    name: str,
    *,
    max_count: int,
    invalid: Invalid = _api_invalid,
) -> list[int]:
    """Comma-separated ids (empty items are skipped) or a JSON list of them (every item
    must be an id); more than ``max_count`` is invalid. Absent is the empty list."""
    if raw is None:
        return []
    if isinstance(raw, str):
        items: list[object] = [part for part in raw.split(",") if _text(part)]
    else:
        items = list(raw)
    if len(items) > max_count:
        raise invalid(name, raw)
    ids = []
    for item in items:
        try:
            ids.append(snowflake(item, name, invalid=invalid))
        except errors.ParameterMissing:  # an empty item of a JSON list
            raise invalid(name, raw) from None
    return ids


def text(raw: object, name: str, *, invalid: Invalid = _api_invalid) -> str:
    """A free-text field; absent is empty. Not a string, or a C0 control character other
    than tab, LF and CR (a NUL would be stored and served back), is invalid."""
    if raw is None:
        return ""
    if not isinstance(raw, str) or _CONTROL.search(raw):
        raise invalid(name, raw)
    return raw


def segment_index(raw: object, *, invalid: Invalid = upload_invalid) -> int:
    """APPEND's ``segment_index``: 0..999; a number outside is SegmentIndexOutOfRange."""
    text = _text(raw)
    if not text:
        raise errors.ParameterMissing("segment_index")
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if isinstance(raw, bool) or not _is_digits(digits):
        raise invalid("segment_index", raw)
    if negative or len(digits) > 4 or int(digits) > limits.MAX_SEGMENT_INDEX:
        raise errors.SegmentIndexOutOfRange()
    return int(digits)


def pixels(raw: object, name: str, *, invalid: Invalid = upload_invalid) -> int | None:
    """A size or offset in pixels (banner crop); absent or empty is None."""
    value = _text(raw)
    if not value:
        return None
    if isinstance(raw, bool) or not _is_digits(value) or len(value) > 6:
        raise invalid(name, raw)
    return int(value)


def flag(raw: object) -> bool:
    """A boolean parameter: ``true``/``t``/``1``/``yes`` (any case); else false."""
    if isinstance(raw, bool):
        return raw
    text = _text(raw)
    return text is not None and text.lower() in _TRUE


def total_bytes(raw: object, *, invalid: Invalid = upload_invalid) -> int:
    """INIT's size: a non-negative integer; absent or empty is missing."""
    text = _text(raw)
    if not text:
        raise errors.ParameterMissing("total_bytes")
    if isinstance(raw, bool) or not _is_digits(text) or len(text) > _MAX_TOTAL_DIGITS:
        raise invalid("total_bytes", raw)
    return int(text)


def media_type(raw: object) -> str:
    """INIT's MIME type, required; whether it is known is the protocol's rule."""
    text = _text(raw)
    if not text:
        raise errors.ParameterMissing("media_type")
    return text


def category(raw: object) -> protocol.MediaCategory | None:
    """``media_category`` in any of Twitter's spellings (``protocol.parse_category``)."""
    text = _text(raw)
    return protocol.parse_category(text or None)
