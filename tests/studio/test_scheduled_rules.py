"""The pure rules of scheduled posts (app/studio/rules.py), table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.studio import errors, rules

T = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
W = timedelta(minutes=15)


def minutes(*values: float) -> list[datetime]:
    return [T + timedelta(minutes=v) for v in values]


@pytest.mark.parametrize(
    ("others", "peak"),
    [
        ([], 0),
        (minutes(0, 0, 0), 3),
        (minutes(-15, 15), 0),  # each is exactly one window length away: no shared window
        (minutes(-14.9, 14.9), 1),  # no window of 15 minutes holds both and T
        (minutes(-10, -5, 4, 14), 3),  # [T-10, T+5) holds -10, -5, 4
        (minutes(-1, 1, 2, 3, 14), 4),  # -1 and 14 never share a window
    ],
)
def test_window_peak_is_the_fullest_window_containing_the_time(
    others: list[datetime], peak: int
) -> None:
    assert rules.window_peak(others, T, W) == peak


def test_check_window_refuses_the_post_past_the_limit() -> None:
    rules.check_window(minutes(*[0] * 29), T, limit=30, window=W)

    with pytest.raises(rules.ScheduledTweetLimitExceeded):
        rules.check_window(minutes(*[0] * 30), T, limit=30, window=W)


@pytest.mark.parametrize(
    ("value", "planned"),
    [
        (T + timedelta(seconds=59), T),
        (
            T + timedelta(days=365) - timedelta(hours=1),
            T + timedelta(days=365) - timedelta(hours=1),
        ),
    ],
)
def test_scheduled_at_drops_its_seconds(value: datetime, planned: datetime) -> None:
    assert rules.plan_scheduled_at(value, now=T - timedelta(minutes=1)) == planned


@pytest.mark.parametrize(
    "value", [T - timedelta(minutes=1), T + timedelta(seconds=30), T + timedelta(days=366)]
)
def test_scheduled_at_in_the_past_now_or_over_a_year_ahead_is_invalid(value: datetime) -> None:
    with pytest.raises(errors.InvalidParameter):
        rules.plan_scheduled_at(value, now=T)


@pytest.mark.parametrize(
    ("types", "ok"),
    [
        (["IMAGE"] * 4, True),
        (["IMAGE"] * 5, False),
        (["GIF"], True),
        (["VIDEO"], True),
        (["GIF", "IMAGE"], False),
        (["VIDEO", "VIDEO"], False),
    ],
)
def test_media_mix(types: list[str], ok: bool) -> None:
    if ok:
        rules.check_media_mix(types)
    else:
        with pytest.raises(errors.InvalidMedia):
            rules.check_media_mix(types)
