"""What one playback event adds to the counters, given what its session did before.

Pure: no database, no HTTP. This is README "Analytics" -> "What is counted" as code; the
rollup (app/analytics/rollup.py) feeds it events in the order it stored them and keeps
each session's ``SessionState`` between batches (``playback_sessions``).

- A session counts one start, at its first playing event (start, progress, quartile, end).
- ``views_q``: once per session when it first reports a quartile >= q (75 counts 25 and 50
  too); quartiles out of order count once each.
- Watch time: an event with a higher ``seq`` than any seen credits the playhead's advance
  since the previous highest event, at most the wall time between them, when that event
  was a playing one (seeking back credits nothing; players send a ``progress`` event right
  after a seek and on resume). Lower-``seq`` (late, out-of-order) events credit no watch
  time. The session's total never exceeds the wall time its events span.
- ``total_views`` at 2 s of watch time, ``views_3s`` at 3 s, ``views_6s`` at 6 s,
  ``views_15s`` at 15 s or 95 % of the media's duration, whichever is shorter: once each.
- CTA clicks: once per session per kind (``url``, ``watch``). Impressions: each counts.

Every increment lands in the UTC hour of the ``ts`` of the event that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.analytics.buckets import hour_of_ms
from app.analytics.metrics import QUARTILES

__all__ = [
    "CTA_KINDS",
    "EVENT_TYPES",
    "IMPRESSION",
    "Event",
    "Increment",
    "SessionState",
    "apply",
    "fifteen_second_mark",
    "new_session",
]

EVENT_TYPES = ("start", "progress", "quartile", "pause", "end", "cta_click")
IMPRESSION = "impression"  # written by public delivery, not by players
CTA_KINDS = ("url", "watch")

_PLAYING = frozenset({"start", "progress", "quartile"})
_STARTS = frozenset({"start", "progress", "quartile", "end"})
_STOPS = frozenset({"pause", "end"})

STARTED = 1
_QUARTILE_FLAG = {25: 2, 50: 4, 75: 8, 100: 16}
_VIEW_FLAGS = (("total_views", 32), ("views_3s", 64), ("views_6s", 128), ("views_15s", 256))
_CTA_FLAG = {"url": 512, "watch": 1024}
_VIEW_MS = {"total_views": 2_000, "views_3s": 3_000, "views_6s": 6_000}


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    type: str
    ts_ms: int
    position_ms: int | None = None
    quartile: int | None = None
    cta: str | None = None


@dataclass(slots=True)
class SessionState:
    """One session's history as far as the counters need it."""

    media_id: int
    first_ms: int
    last_ms: int
    top_seq: int = -1  # the highest seq applied to the playhead
    top_type: str = ""
    top_ts_ms: int = 0
    top_position_ms: int | None = None
    watch_ms: int = 0
    flags: int = 0


@dataclass(frozen=True, slots=True)
class Increment:
    hour: int  # epoch seconds of the UTC hour
    counter: str
    amount: int = 1


def new_session(media_id: int, event: Event) -> SessionState:
    return SessionState(media_id=media_id, first_ms=event.ts_ms, last_ms=event.ts_ms)


def fifteen_second_mark(duration_ms: int | None) -> int:
    """Watch time that makes a 15 s view: 15 s, or 95 % of a shorter media."""
    if duration_ms is None or duration_ms <= 0:
        return 15_000
    return min(15_000, duration_ms * 95 // 100)


def apply(state: SessionState, event: Event, duration_ms: int | None) -> list[Increment]:
    """Applies ``event`` to ``state`` (in place); the counter increments it causes."""
    hour = hour_of_ms(event.ts_ms)
    out: list[Increment] = []
    state.first_ms = min(state.first_ms, event.ts_ms)
    state.last_ms = max(state.last_ms, event.ts_ms)

    if event.type in _STARTS and not state.flags & STARTED:
        state.flags |= STARTED
        out.append(Increment(hour, "starts"))
    if event.type == "quartile" and event.quartile is not None:
        for q in QUARTILES:
            if q <= event.quartile and not state.flags & _QUARTILE_FLAG[q]:
                state.flags |= _QUARTILE_FLAG[q]
                out.append(Increment(hour, f"views_{q}"))
    if event.type == "cta_click" and event.cta in _CTA_FLAG:
        flag = _CTA_FLAG[event.cta]
        if not state.flags & flag:
            state.flags |= flag
            out.append(Increment(hour, f"cta_{event.cta}_clicks"))

    credit = _advance(state, event)
    credit = min(credit, max(0, state.last_ms - state.first_ms - state.watch_ms))
    if credit > 0:
        state.watch_ms += credit
        out.append(Increment(hour, "watch_ms", credit))
    for name, flag in _VIEW_FLAGS:
        mark = _VIEW_MS.get(name) or fifteen_second_mark(duration_ms)
        if state.watch_ms >= mark and not state.flags & flag:
            state.flags |= flag
            out.append(Increment(hour, name))
    return out


def _advance(state: SessionState, event: Event) -> int:
    """Moves the session's playhead to ``event`` if it is the newest; the watch time the
    move credits (before the wall-time cap)."""
    if event.seq <= state.top_seq or event.type == "cta_click":
        return 0
    position = event.position_ms
    if position is None and event.type == "start":
        position = 0
    if position is None and event.type not in _STOPS:
        return 0  # a quartile without a position: counted above, the playhead stays
    credit = 0
    if state.top_type in _PLAYING and position is not None and state.top_position_ms is not None:
        credit = min(
            max(0, position - state.top_position_ms), max(0, event.ts_ms - state.top_ts_ms)
        )
    state.top_seq = event.seq
    state.top_type = event.type
    state.top_ts_ms = event.ts_ms
    if position is not None:
        state.top_position_ms = position
    return credit
