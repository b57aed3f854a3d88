"""Table-driven rules of the upload state machine: no HTTP, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core import errors
from app.core.ids import IdGenerator
from app.uploads import protocol
from app.uploads.protocol import ByteLimits, MediaCategory, MediaKind, UploadSnapshot, UploadState

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LIMITS = ByteLimits()


def snap(state: UploadState = UploadState.UPLOADING, **segments: int) -> UploadSnapshot:
    return UploadSnapshot(
        media_id=1,
        state=state,
        total_bytes=100,
        segments={int(k[1:]): v for k, v in segments.items()},
        expires_at=NOW + timedelta(hours=1),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("tweet_video", MediaCategory.TWEET_VIDEO),
        ("TweetVideo", MediaCategory.TWEET_VIDEO),
        ("TWEET_VIDEO", MediaCategory.TWEET_VIDEO),
        ("DmGif", MediaCategory.DM_GIF),
        ("AMPLIFY_VIDEO", MediaCategory.AMPLIFY_VIDEO),
        ("Subtitles", MediaCategory.SUBTITLES),
    ],
)
def test_parse_category_accepts_every_spelling(raw: str | None, expected: object) -> None:
    assert protocol.parse_category(raw) == expected


def test_parse_category_refuses_unknown() -> None:
    with pytest.raises(errors.BadParameter):
        protocol.parse_category("tweet_audio")


@pytest.mark.parametrize(
    ("media_type", "category", "kind", "is_async"),
    [
        ("image/png", None, MediaKind.IMAGE, False),
        ("image/gif", None, MediaKind.GIF, False),
        ("image/gif", MediaCategory.TWEET_GIF, MediaKind.GIF, True),
        ("image/gif", MediaCategory.TWEET_IMAGE, MediaKind.IMAGE, False),
        ("video/mp4", None, MediaKind.VIDEO, False),
        ("video/quicktime", MediaCategory.TWEET_VIDEO, MediaKind.VIDEO, True),
        ("text/vtt", MediaCategory.SUBTITLES, MediaKind.SUBTITLES, False),
    ],
)
def test_plan_init(
    media_type: str, category: MediaCategory | None, kind: MediaKind, is_async: bool
) -> None:
    plan = protocol.plan_init(
        total_bytes=10, media_type=media_type, category=category, limits=LIMITS
    )

    assert (plan.kind, plan.is_async) == (kind, is_async)


@pytest.mark.parametrize(
    ("snapshot", "index", "error"),
    [
        (snap(), 0, None),
        (snap(), 999, None),
        (snap(), 1000, errors.SegmentIndexOutOfRange),
        (snap(), -1, errors.SegmentIndexOutOfRange),
        (snap(UploadState.PENDING), 0, errors.UploadNotOpen),
        (snap(UploadState.SUCCEEDED), 0, errors.UploadNotOpen),
    ],
)
def test_check_append(snapshot: UploadSnapshot, index: int, error: type[Exception] | None) -> None:
    if error is None:
        protocol.check_append(snapshot, index=index, now=NOW)
    else:
        with pytest.raises(error):
            protocol.check_append(snapshot, index=index, now=NOW)


def test_check_append_after_expiry() -> None:
    with pytest.raises(errors.UploadExpired):
        protocol.check_append(snap(), index=0, now=NOW + timedelta(hours=2))


def test_segment_room_ignores_the_index_being_replaced() -> None:
    assert protocol.segment_room(snap(s0=40, s1=30), index=1) == 60
    with pytest.raises(errors.TotalBytesExceeded):
        protocol.check_segment_fits(snap(s0=40, s1=30), index=2, size=31)


@pytest.mark.parametrize(
    ("snapshot", "missing"),
    [(snap(s0=50, s2=50), [1]), (snap(s0=50), []), (snap(), [])],
)
def test_plan_finalize_reports_gaps_and_sums(snapshot: UploadSnapshot, missing: list[int]) -> None:
    with pytest.raises(errors.SegmentsIncomplete) as caught:
        protocol.plan_finalize(snapshot)

    assert caught.value.extra["missing_segments"] == missing


def test_plan_finalize_orders_segments() -> None:
    assert protocol.plan_finalize(snap(s1=50, s0=50)) == [0, 1]


def test_ids_are_increasing_and_carry_the_node() -> None:
    generator = IdGenerator(node_id=513)

    ids = [generator.next_id() for _ in range(10_000)]

    assert ids == sorted(set(ids))
    assert all((i >> 12) & 0x3FF == 513 for i in ids)
