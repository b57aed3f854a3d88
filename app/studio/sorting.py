"""``sort_by`` and the opaque keyset cursor of the account-level lists (Ads API §3):
accounts and promotable users. Pure: no database, no HTTP.

``sort_by`` is ``<attribute>-asc`` or ``<attribute>-desc`` (several keys, in order, are
allowed); the list is then ordered by those keys and finally by the item's id, so the
order is total and a cursor (the last item's keys, ``c-`` + base64url JSON) resumes
exactly after it: an item is never skipped or repeated while others are added.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.studio import errors

__all__ = ["Keyset", "SortKey", "decode_cursor", "encode_cursor", "parse_sort"]

Kind = Literal["time", "bool", "text"]
_PREFIX = "c-"


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool

    @property
    def wire(self) -> str:
        return f"{self.field}-{'desc' if self.descending else 'asc'}"


@dataclass(frozen=True, slots=True)
class Keyset:
    """Where a page resumes: the last item's sort values (in ``sort`` order) and id."""

    values: tuple[Any, ...]
    last_id: str


def parse_sort(values: Iterable[str], fields: dict[str, Kind]) -> tuple[SortKey, ...]:
    """``sort_by`` values (``name-asc``); a field twice, an unknown field or a direction
    other than asc/desc is 400 INVALID_PARAMETER."""
    keys: list[SortKey] = []
    for value in values:
        field, _, direction = value.strip().rpartition("-")
        if field not in fields or direction not in ("asc", "desc"):
            raise errors.InvalidParameter(
                "sort_by",
                f"Expected <attribute>-asc or <attribute>-desc with attribute one of "
                f"{', '.join(fields)} for sort_by, got {value!r}",
            )
        if any(key.field == field for key in keys):
            raise errors.InvalidParameter("sort_by", f"sort_by names {field} twice")
        keys.append(SortKey(field, direction == "desc"))
    return tuple(keys)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def encode_cursor(sort: Sequence[SortKey], values: Sequence[Any], last_id: str) -> str:
    body = [[key.wire for key in sort], [_plain(v) for v in values], last_id]
    raw = json.dumps(body, separators=(",", ":")).encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor(raw: str) -> errors.InvalidParameter:
    return errors.InvalidParameter("cursor", f"Invalid cursor {raw!r}")


def _typed(value: Any, kind: Kind) -> Any:
    if kind == "time" and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "text" and isinstance(value, str):
        return value
    raise ValueError(f"not a {kind}")


def decode_cursor(raw: str, sort: Sequence[SortKey], fields: dict[str, Kind]) -> Keyset:
    """The keyset of a cursor this module made for the same ``sort_by``; anything else
    (another order, a forged or truncated cursor) is 400 INVALID_PARAMETER."""
    if not raw.startswith(_PREFIX):
        raise _bad_cursor(raw)
    payload = raw[len(_PREFIX) :]
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        wire, values, last_id = body
        if wire != [key.wire for key in sort]:
            raise errors.InvalidParameter(
                "cursor", "The cursor was made for another sort_by; keep the same parameters"
            )
        if not isinstance(last_id, str) or not isinstance(values, list):
            raise ValueError("bad shape")
        if len(values) != len(sort):
            raise ValueError("bad length")
        typed = tuple(_typed(v, fields[k.field]) for v, k in zip(values, sort, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _bad_cursor(raw) from None
    return Keyset(typed, last_id)
