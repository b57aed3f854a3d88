"""The counters the rollup keeps per media and hour, and the rates derived from them.

Pure: no database, no HTTP. README "Analytics" defines each counter in terms of playback
events; ``app/analytics/rules.py`` is that definition as code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["COUNTERS", "QUARTILES", "Counters", "rate"]

QUARTILES = (25, 50, 75, 100)


@dataclass(slots=True)
class Counters:
    """One bucket's counters (an hour of the rollup, or any sum of hours)."""

    impressions: int = 0
    starts: int = 0
    views_25: int = 0
    views_50: int = 0
    views_75: int = 0
    views_100: int = 0
    total_views: int = 0
    views_3s: int = 0
    views_6s: int = 0
    views_15s: int = 0
    watch_ms: int = 0
    cta_url_clicks: int = 0
    cta_watch_clicks: int = 0

    def add(self, other: Counters) -> None:
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def is_zero(self) -> bool:
        return not any(getattr(self, name) for name in COUNTERS)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Counters:
        return cls(**{name: int(row[name] or 0) for name in COUNTERS})

    @classmethod
    def total(cls, items: Iterable[Counters]) -> Counters:
        out = cls()
        for item in items:
            out.add(item)
        return out


# Field order = app.models.analytics.COUNTER_COLUMNS (tests/analytics checks they agree).
COUNTERS: tuple[str, ...] = tuple(f.name for f in fields(Counters))


def rate(numerator: int, denominator: int) -> float | None:
    """A share rounded to 4 places; None when nothing was counted below it."""
    return round(numerator / denominator, 4) if denominator else None
