"""How a background loop (job runner, sweeper) lives through repeated errors.

The rule (``delay``): after the n-th failure in a row the loop waits ``base * 2**(n-1)``
seconds, at most ``cap`` (60 s by default), and never less than ``base``. A success
resets it.

The log (``LoopHealth``): the first failure is logged once with its traceback; each
later one as one line with the time the loop has been failing, the count and the
error ("job runner failing for 12 s (5 errors): OperationalError: no such table:
jobs; next try in 8 s"), but only while the delay still grows, then at most one line
every ``quiet`` seconds (10 min) at the cap. The first success after failures logs
one recovery line. So a loop whose database lacks its tables writes a handful of
lines, not a traceback a second. Clock and sleep are the caller's, so tests drive it
without sleeping.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["LoopHealth", "delay"]

MIN_DELAY = 0.1


def delay(failures: int, *, base: float, cap: float = 60.0) -> float:
    """Seconds to wait after ``failures`` failures in a row (0: the normal ``base``)."""
    base = max(base, MIN_DELAY)
    if failures <= 0:
        return base
    return max(base, min(cap, base * 2.0 ** min(failures - 1, 64)))


def _summary(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    # SQLAlchemy's first line reads "(sqlite3.OperationalError) no such table: jobs".
    if first.startswith("(") and ") " in first:
        first = first.split(") ", 1)[1]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


@dataclass
class LoopHealth:
    """Failure count and log lines of one loop named ``name`` ("job runner")."""

    name: str
    base: float
    logger: logging.Logger
    cap: float = 60.0
    quiet: float = 600.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    _since: float = 0.0
    _last_line: float = 0.0
    _last_delay: float = field(default=0.0)

    def failed(self, exc: BaseException) -> float:
        """Count a failure, log it if it is due, and return how long to wait."""
        now = self.clock()
        self.failures += 1
        wait = delay(self.failures, base=self.base, cap=self.cap)
        if self.failures == 1:
            self._since = now
            self.logger.error(
                "%s failing: %s; next try in %s",
                self.name, _summary(exc), _secs(wait), exc_info=exc,
                extra={"loop": self.name, "errors": 1},
            )  # fmt: skip
            self._last_line = now
        elif wait > self._last_delay or now - self._last_line >= self.quiet:
            self.logger.warning(
                "%s failing for %s (%d errors): %s; next try in %s",
                self.name, _secs(now - self._since), self.failures, _summary(exc), _secs(wait),
                extra={"loop": self.name, "errors": self.failures},
            )  # fmt: skip
            self._last_line = now
        self._last_delay = wait
        return wait

    def succeeded(self) -> None:
        """Reset after a success; logs the recovery if the loop was failing."""
        if self.failures:
            self.logger.warning(
                "%s recovered after %s (%d errors)",
                self.name, _secs(self.clock() - self._since), self.failures,
                extra={"loop": self.name, "errors": self.failures},
            )  # fmt: skip
        self.failures = 0
        self._last_delay = 0.0


def _secs(value: float) -> str:
    if value < 10:
        return f"{value:.1f} s"
    if value < 600:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"
