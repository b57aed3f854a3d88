"""The shape of a playback event as players send it: checked here, before anything is
stored. Pure: no database, no HTTP.

``{"media_key": "7_123", "session_id": "...", "seq": 0, "type": "start", "ts": <epoch
ms>, "position_ms"?: int, "quartile"?: 25|50|75|100, "cta"?: "url"|"watch"}``
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.analytics.rules import CTA_KINDS, EVENT_TYPES

__all__ = ["MAX_EVENTS", "EventError", "PlayerEvent", "parse_batch"]

MAX_EVENTS = 100
_MEDIA_KEY = re.compile(r"^[0-9]{1,4}_[0-9]{1,19}$")
_SESSION = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_MAX_INT = 2**53 - 1
_QUARTILES = (25, 50, 75, 100)


class EventError(ValueError):
    """A malformed batch; ``parameter`` names the offending field (``events[3].seq``)."""

    def __init__(self, message: str, parameter: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.missing = missing


@dataclass(frozen=True, slots=True)
class PlayerEvent:
    media_key: str
    session_id: str
    seq: int
    type: str
    ts_ms: int
    position_ms: int | None
    quartile: int | None
    cta: str | None


def _int(item: dict[str, Any], name: str, where: str, *, required: bool) -> int | None:
    value = item.get(name)
    if value is None:
        if required:
            raise EventError(
                f'"{where}.{name}" is a required parameter', f"{where}.{name}", missing=True
            )
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_INT:
        raise EventError(
            f"{where}.{name} must be an integer from 0 to {_MAX_INT}", f"{where}.{name}"
        )
    return value


def _text(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if value is None:
        raise EventError(
            f'"{where}.{name}" is a required parameter', f"{where}.{name}", missing=True
        )
    if not isinstance(value, str):
        raise EventError(f"{where}.{name} must be a string", f"{where}.{name}")
    return value


def _event(item: Any, index: int) -> PlayerEvent:
    where = f"events[{index}]"
    if not isinstance(item, dict):
        raise EventError(f"{where} must be an object", where)
    media_key = _text(item, "media_key", where)
    if not _MEDIA_KEY.match(media_key):
        raise EventError(f"{where}.media_key is not a media key", f"{where}.media_key")
    session_id = _text(item, "session_id", where)
    if not _SESSION.match(session_id):
        raise EventError(
            f"{where}.session_id must be 8 to 64 characters of A-Z a-z 0-9 _ . : -",
            f"{where}.session_id",
        )
    kind = _text(item, "type", where)
    if kind not in EVENT_TYPES:
        raise EventError(f"{where}.type must be one of {', '.join(EVENT_TYPES)}", f"{where}.type")
    seq = _int(item, "seq", where, required=True)
    ts = _int(item, "ts", where, required=True)
    position = _int(item, "position_ms", where, required=kind == "progress")
    quartile = _int(item, "quartile", where, required=kind == "quartile")
    if quartile is not None and quartile not in _QUARTILES:
        raise EventError(f"{where}.quartile must be 25, 50, 75 or 100", f"{where}.quartile")
    cta = item.get("cta")
    if kind == "cta_click" or cta is not None:
        cta = _text(item, "cta", where)
        if cta not in CTA_KINDS:
            raise EventError(f"{where}.cta must be url or watch", f"{where}.cta")
    assert seq is not None
    assert ts is not None
    return PlayerEvent(media_key, session_id, seq, kind, ts, position, quartile, cta)


def parse_batch(document: Any) -> list[PlayerEvent]:
    """The events of a decoded JSON body ``{"events": [...]}`` (1 to 100)."""
    if not isinstance(document, dict) or "events" not in document:
        raise EventError('"events" is a required parameter', "events", missing=True)
    items = document["events"]
    if not isinstance(items, list) or not items:
        raise EventError("events must be a non-empty array", "events")
    if len(items) > MAX_EVENTS:
        raise EventError(f"events holds at most {MAX_EVENTS} events", "events")
    return [_event(item, index) for index, item in enumerate(items)]
