"""Playback event streams with their counters computed by hand from README "Analytics"
-> "What is counted" (never by running the code). Every surface's tests replay them.

Times are milliseconds after a scenario's ``base`` (a whole UTC hour a few hours ago);
each expected entry is the counters of one hour (``hour`` = hours after ``base``).
Sessions are distinct across scenarios, so any set of them may be replayed together and
the expected counters summed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from app.analytics.metrics import Counters

__all__ = ["DUPLICATES", "SCENARIOS", "Scenario", "events_of", "expected_hours", "expected_total"]

DUPLICATES = 2  # events of SCENARIOS sent twice ("duplicates": seq 1 and seq 2)
H = 3_600_000  # an hour in ms
M = 600_000  # ten minutes in ms: scenarios start at base + 10 min unless they say


@dataclass(frozen=True)
class Scenario:
    name: str
    # (session, seq, type, ms after base, extra fields)
    events: list[tuple[str, int, str, int, dict[str, Any]]]
    hours: dict[int, Counters] = field(default_factory=dict)


def _c(**counts: int) -> Counters:
    return Counters(**counts)


SCENARIOS: list[Scenario] = [
    # start, progress every 5 s, the four quartiles, end: 20 s of a 20 s video.
    # Watch: +5000 (seq1) +0 (seq2 same position) +5000 (seq3) +0 +5000 (seq5) +4000
    # (seq6) +1000 (seq7) +0 (seq8) = 20000; views at 2/3/6 s and 15 s (15 s < 95 % of 20 s).
    Scenario(
        "full view",
        [
            ("full", 0, "start", M, {"position_ms": 0}),
            ("full", 1, "progress", M + 5000, {"position_ms": 5000}),
            ("full", 2, "quartile", M + 5000, {"position_ms": 5000, "quartile": 25}),
            ("full", 3, "progress", M + 10000, {"position_ms": 10000}),
            ("full", 4, "quartile", M + 10000, {"position_ms": 10000, "quartile": 50}),
            ("full", 5, "quartile", M + 15000, {"position_ms": 15000, "quartile": 75}),
            ("full", 6, "progress", M + 19000, {"position_ms": 19000}),
            ("full", 7, "quartile", M + 20000, {"position_ms": 20000, "quartile": 100}),
            ("full", 8, "end", M + 20000, {"position_ms": 20000}),
        ],
        {
            0: _c(
                starts=1,
                views_25=1,
                views_50=1,
                views_75=1,
                views_100=1,
                total_views=1,
                views_3s=1,
                views_6s=1,
                views_15s=1,
                watch_ms=20000,
            )
        },
    ),
    # seq 1 and seq 2 are each sent twice (the second seq-1 copy claims 9 s): counted once.
    # Watch 4000 (seq1 only; seq2 has no position) -> 2 s and 3 s views, no 6 s.
    Scenario(
        "duplicates",
        [
            ("dups", 0, "start", M, {"position_ms": 0}),
            ("dups", 1, "progress", M + 4000, {"position_ms": 4000}),
            ("dups", 1, "progress", M + 9000, {"position_ms": 9000}),
            ("dups", 2, "quartile", M + 5000, {"quartile": 25}),
            ("dups", 2, "quartile", M + 5000, {"quartile": 25}),
        ],
        {0: _c(starts=1, views_25=1, total_views=1, views_3s=1, watch_ms=4000)},
    ),
    # Two hours before base (sent now, so several hours late): folded into hour -2.
    Scenario(
        "late",
        [
            ("late", 0, "start", -2 * H + M, {"position_ms": 0}),
            ("late", 1, "progress", -2 * H + M + 3000, {"position_ms": 3000}),
        ],
        {-2: _c(starts=1, total_views=1, views_3s=1, watch_ms=3000)},
    ),
    # +4000; a seek forward to 15 s in 1 s of wall time credits 1000 (5000); a seek back
    # credits 0; then +3000 (8000): 2/3/6 s views, no 15 s.
    Scenario(
        "seeking",
        [
            ("seek", 0, "start", M, {"position_ms": 0}),
            ("seek", 1, "progress", M + 4000, {"position_ms": 4000}),
            ("seek", 2, "progress", M + 5000, {"position_ms": 15000}),
            ("seek", 3, "progress", M + 6000, {"position_ms": 2000}),
            ("seek", 4, "progress", M + 9000, {"position_ms": 5000}),
        ],
        {0: _c(starts=1, total_views=1, views_3s=1, views_6s=1, watch_ms=8000)},
    ),
    # 50 first (counts 25 and 50), then 25 (nothing new), then 100 (75 and 100). No
    # quartile carries a position, so no watch time.
    Scenario(
        "quartiles out of order",
        [
            ("quart", 0, "start", M, {"position_ms": 0}),
            ("quart", 1, "quartile", M + 10000, {"quartile": 50}),
            ("quart", 2, "quartile", M + 5000, {"quartile": 25}),
            ("quart", 3, "quartile", M + 20000, {"quartile": 100}),
        ],
        {0: _c(starts=1, views_25=1, views_50=1, views_75=1, views_100=1)},
    ),
    # +3000 (seq1); seq2 goes back in time (credits 0); seq3 claims 3 more seconds, but the
    # session spans 3 s of wall time and already has 3 s: capped at 3000.
    Scenario(
        "more watch time than wall time",
        [
            ("greedy", 0, "start", M, {"position_ms": 0}),
            ("greedy", 1, "progress", M + 3000, {"position_ms": 3000}),
            ("greedy", 2, "progress", M, {"position_ms": 3000}),
            ("greedy", 3, "progress", M + 3000, {"position_ms": 6000}),
        ],
        {0: _c(starts=1, total_views=1, views_3s=1, watch_ms=3000)},
    ),
    # +3000, +1000 up to the pause; the first progress after it credits 0 (resume), the
    # next +3000: 7000.
    Scenario(
        "pause and resume",
        [
            ("pause", 0, "start", M, {"position_ms": 0}),
            ("pause", 1, "progress", M + 3000, {"position_ms": 3000}),
            ("pause", 2, "pause", M + 4000, {"position_ms": 4000}),
            ("pause", 3, "progress", M + 60000, {"position_ms": 4000}),
            ("pause", 4, "progress", M + 63000, {"position_ms": 7000}),
        ],
        {0: _c(starts=1, total_views=1, views_3s=1, views_6s=1, watch_ms=7000)},
    ),
    # Clicks count once per session and kind.
    Scenario(
        "cta clicks",
        [
            ("cta", 0, "start", M, {"position_ms": 0}),
            ("cta", 1, "cta_click", M + 1000, {"cta": "url"}),
            ("cta", 2, "cta_click", M + 2000, {"cta": "url"}),
            ("cta", 3, "cta_click", M + 3000, {"cta": "watch"}),
        ],
        {0: _c(starts=1, cta_url_clicks=1, cta_watch_clicks=1)},
    ),
    # Starts 2 s before the hour ends; the progress 2 s after it credits 4 s in hour 1,
    # where the views it completes are counted too.
    Scenario(
        "across two hours",
        [
            ("hours", 0, "start", H - 2000, {"position_ms": 0}),
            ("hours", 1, "progress", H + 2000, {"position_ms": 4000}),
        ],
        {0: _c(starts=1), 1: _c(total_views=1, views_3s=1, watch_ms=4000)},
    ),
]


def session_id(scenario_session: str) -> str:
    return f"scenario-{scenario_session}"


def events_of(scenarios: list[Scenario], *, media_key: str, base_ms: int) -> list[dict[str, Any]]:
    """The scenarios' events as a player sends them (wire dicts), in order."""
    return [
        {
            "media_key": media_key,
            "session_id": session_id(session),
            "seq": seq,
            "type": kind,
            "ts": base_ms + offset,
            **extra,
        }
        for scenario in scenarios
        for session, seq, kind, offset, extra in scenario.events
    ]


def expected_hours(scenarios: list[Scenario]) -> dict[int, Counters]:
    out: dict[int, Counters] = defaultdict(Counters)
    for scenario in scenarios:
        for hour, counters in scenario.hours.items():
            out[hour].add(counters)
    return dict(out)


def expected_total(scenarios: list[Scenario]) -> Counters:
    return Counters.total(expected_hours(scenarios).values())
