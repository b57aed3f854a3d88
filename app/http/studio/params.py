"""The studio's parameters: read once from the query string and the body, parsed by
one function per field type, failing with the Ads API's codes (§2.3).

The ``twitter-ads`` SDK sends every parameter in the query string, for POST and PUT too,
with an empty body (§13.1); other clients send a form or a JSON body. All three are
merged: the body's values after the query's. Lists come either as repeated keys
(``media_keys=3_1&media_keys=3_2``, the SDK's ``to_params``) or comma-joined (its
``FlattenParams`` helpers): ``many`` accepts both. Unknown parameters are ignored, as the
SDK echoes read-only fields on writes (§13.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from app.http.forms import is_json
from app.http.json_body import json_object, read_body
from app.studio import errors

__all__ = [
    "BODY_CAP",
    "AdsParams",
    "count",
    "flag",
    "one_of",
    "read_params",
    "text",
    "timestamp",
]

BODY_CAP = 64 * 1024
_TRUE, _FALSE = frozenset({"true", "t", "1"}), frozenset({"false", "f", "0"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# ISO 8601 as §1 lists it: a date alone, or a time with Z, +HH, +HHMM or +HH:MM.
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?"
)


@dataclass(slots=True)
class AdsParams:
    pairs: list[tuple[str, str]] = field(default_factory=list)
    # Names a JSON body gave as an array: a list parameter (``many``), never a single one.
    arrays: set[str] = field(default_factory=set)
    # Names a JSON body gave as a number or boolean: never free text (``text``).
    nonstrings: set[str] = field(default_factory=set)

    def present(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)

    def one(self, name: str) -> str | None:
        """The last value sent, or None when absent (a JSON array is 400 here)."""
        if name in self.arrays:
            raise errors.InvalidParameter(name, f"Expected a single value for {name}")
        found = None
        for key, value in self.pairs:
            if key == name:
                found = value
        return found

    def many(self, name: str) -> list[str]:
        """Every value, repeated keys and comma lists alike, empty items dropped."""
        return [
            item.strip()
            for key, value in self.pairs
            if key == name
            for item in value.split(",")
            if item.strip()
        ]

    def required(self, name: str) -> str:
        value = self.one(name)
        if value is None or value == "":
            raise errors.MissingParameter(name)
        return value


def _scalar(name: str, value: Any) -> str:
    """A JSON value of a parameter as the query string would carry it; ``null`` is the
    empty value (unset on PUT), objects and nested arrays are 400."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float | str):
        return str(value)
    raise errors.InvalidParameter(name, f"Expected a string, number or boolean for {name}")


def _json_pairs(raw: bytes, params: AdsParams) -> None:
    for key, value in json_object(raw).items():
        if isinstance(value, bool | int | float):
            params.nonstrings.add(key)
        if isinstance(value, list):
            params.arrays.add(key)
            for item in value:
                if item is None:
                    raise errors.InvalidParameter(key, f"Expected no null item in {key}")
                params.pairs.append((key, _scalar(key, item)))
        else:
            params.pairs.append((key, _scalar(key, value)))


def _utf8(latin1: str) -> str:
    return latin1.encode("latin-1").decode("utf-8", "replace")


async def read_params(request: Request) -> AdsParams:
    """Query string, then the body (form or JSON object, at most ``BODY_CAP`` bytes)."""
    query = request.scope["query_string"].decode("latin-1")
    decoded = parse_qsl(query, keep_blank_values=True, encoding="latin-1")
    pairs = [(_utf8(k), _utf8(v)) for k, v in decoded]
    params = AdsParams(pairs)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        raw = await read_body(request, BODY_CAP)
        if raw.strip():
            if is_json(request):
                _json_pairs(raw, params)
            else:
                pairs.extend(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def count(params: AdsParams, *, default: int, low: int = 1, high: int) -> int:
    """``count`` in ``low..high``; outside it is 400 INVALID_PARAMETER (our choice where
    §3 leaves clamp-or-refuse open)."""
    raw = params.one("count")
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise errors.InvalidParameter(
            "count", f"Expected an integer between {low} and {high} for count, got {raw!r}"
        )
    return int(raw)


def flag(params: AdsParams, name: str, *, default: bool) -> bool:
    raw = params.one(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise errors.InvalidParameter(name, f"Expected a boolean for {name}, got {raw!r}")


def text(params: AdsParams, name: str, *, max_length: int | None = None) -> str | None:
    """Free text: None when absent, no control characters but tab and newlines."""
    raw = params.one(name)
    if raw is None:
        return None
    if name in params.nonstrings:
        raise errors.InvalidParameter(name, f"Expected a string for {name}")
    if _CONTROL.search(raw):
        raise errors.InvalidParameter(name, f"{name} contains control characters")
    if max_length is not None and len(raw) > max_length:
        raise errors.InvalidParameter(
            name, f"{name} must be at most {max_length} characters, got {len(raw)}"
        )
    return raw


def one_of(params: AdsParams, name: str, choices: tuple[str, ...]) -> str | None:
    raw = params.one(name)
    if raw is None or raw == "":
        return None
    if raw.upper() not in choices:
        raise errors.InvalidParameter(
            name, f"Expected one of {', '.join(choices)} for {name}, got {raw!r}"
        )
    return raw.upper()


def timestamp(raw: str, name: str) -> datetime:
    """An ISO 8601 time (§1 "Times"): any offset, or a date alone (midnight UTC); the
    answer is aware UTC."""
    match = _TIME.fullmatch(raw.strip())
    if match is None:
        raise errors.InvalidParameter(name, f'Expected time, got "{raw}" for {name}')
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
        if offset is None or offset == "Z":
            return value.replace(tzinfo=UTC)
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
        return value.replace(tzinfo=timezone(sign * timedelta(minutes=minutes))).astimezone(UTC)
    except ValueError:
        raise errors.InvalidParameter(name, f'Expected time, got "{raw}" for {name}') from None
