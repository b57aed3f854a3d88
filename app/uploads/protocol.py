"""The upload state machine and its rules, free of HTTP and of the database.

States: ``uploading`` (INIT done, APPEND accepted) -> FINALIZE -> ``succeeded`` for media
that needs no processing, else ``pending`` -> ``in_progress`` -> ``succeeded`` | ``failed``.

FINALIZE runs in three steps so that no transaction is open while bytes move: a short
locked step marks the upload *finalizing* (still ``uploading`` to readers, closed to
APPEND; ``finalizing_until`` is the lease of the FINALIZE that marked it), the assembly
with no lock, and a short locked step that records the result if the lease is still its
own. A FINALIZE that finds a live lease waits for it; a lapsed one (its process died) is
taken over, so a crash never wedges an upload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.core import errors
from app.uploads import limits

__all__ = [
    "ByteLimits",
    "FinalizeAction",
    "InitPlan",
    "MediaCategory",
    "MediaKind",
    "UploadSnapshot",
    "UploadState",
    "check_append",
    "check_fits",
    "check_open",
    "check_segment_fits",
    "finalize_action",
    "media_key",
    "next_free_index",
    "parse_category",
    "plan_finalize",
    "plan_init",
]


class UploadState(StrEnum):
    UPLOADING = "uploading"
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class MediaCategory(StrEnum):
    TWEET_IMAGE = "tweet_image"
    TWEET_GIF = "tweet_gif"
    TWEET_VIDEO = "tweet_video"
    DM_IMAGE = "dm_image"
    DM_GIF = "dm_gif"
    DM_VIDEO = "dm_video"
    AMPLIFY_VIDEO = "amplify_video"
    SUBTITLES = "subtitles"
    # A broadcast's recording (app/live/recording.py): internal, never a client's choice.
    LIVE_VIDEO = "live_video"


class MediaKind(StrEnum):
    IMAGE = "image"
    GIF = "gif"
    VIDEO = "video"
    SUBTITLES = "subtitles"


IMAGE_TYPES = frozenset({"image/jpeg", "image/pjpeg", "image/png", "image/webp", "image/gif"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
SUBTITLE_TYPES = frozenset({"text/srt", "text/vtt", "application/x-subrip"})

_CATEGORY_KIND = {
    MediaCategory.TWEET_IMAGE: MediaKind.IMAGE,
    MediaCategory.DM_IMAGE: MediaKind.IMAGE,
    MediaCategory.TWEET_GIF: MediaKind.GIF,
    MediaCategory.DM_GIF: MediaKind.GIF,
    MediaCategory.TWEET_VIDEO: MediaKind.VIDEO,
    MediaCategory.DM_VIDEO: MediaKind.VIDEO,
    MediaCategory.AMPLIFY_VIDEO: MediaKind.VIDEO,
    MediaCategory.SUBTITLES: MediaKind.SUBTITLES,
    MediaCategory.LIVE_VIDEO: MediaKind.VIDEO,
}
# Media-key prefixes observed on Twitter (spec §8.3); 22 for subtitles is our choice.
_KEY_PREFIX = {MediaKind.IMAGE: 3, MediaKind.GIF: 16, MediaKind.VIDEO: 7, MediaKind.SUBTITLES: 22}
_AMPLIFY_PREFIX = 13
# "TweetVideo", "TWEET_VIDEO", "tweet_video" and "tweet-video" all fold to "tweetvideo".
# What clients may send (and the wire enums list): every category but the internal one.
CLIENT_CATEGORIES = tuple(c for c in MediaCategory if c is not MediaCategory.LIVE_VIDEO)
_SPELLINGS = {c.value.replace("_", ""): c for c in CLIENT_CATEGORIES}


@dataclass(frozen=True, slots=True)
class ByteLimits:
    image: int = limits.IMAGE_BYTES
    gif: int = limits.GIF_BYTES
    video: int = limits.VIDEO_BYTES
    amplify_video: int = limits.AMPLIFY_VIDEO_BYTES
    live_video: int = limits.LIVE_VIDEO_BYTES
    subtitles: int = limits.SUBTITLES_BYTES
    segment: int = limits.SEGMENT_BYTES

    def for_media(self, kind: MediaKind, category: MediaCategory | None) -> int:
        if category is MediaCategory.AMPLIFY_VIDEO:
            return self.amplify_video
        if category is MediaCategory.LIVE_VIDEO:
            return self.live_video
        return {
            MediaKind.IMAGE: self.image,
            MediaKind.GIF: self.gif,
            MediaKind.VIDEO: self.video,
            MediaKind.SUBTITLES: self.subtitles,
        }[kind]


@dataclass(frozen=True, slots=True)
class InitPlan:
    kind: MediaKind
    category: MediaCategory | None
    is_async: bool
    max_bytes: int


@dataclass(frozen=True, slots=True)
class UploadSnapshot:
    media_id: int
    state: UploadState
    total_bytes: int
    segments: Mapping[int, int]  # segment index -> stored size
    expires_at: datetime
    finalizing_until: datetime | None = None  # set: a FINALIZE has begun

    @property
    def is_finalizing(self) -> bool:
        return self.finalizing_until is not None


def parse_category(raw: str | None) -> MediaCategory | None:
    if raw is None or raw == "":
        return None
    category = _SPELLINGS.get(raw.strip().lower().replace("_", "").replace("-", ""))
    if category is None:
        raise errors.BadParameter(f"Invalid media_category: {raw}.")
    return category


def kind_of_type(media_type: str) -> MediaKind:
    media_type = media_type.split(";")[0].strip().lower()
    if media_type == "image/gif":
        return MediaKind.GIF
    if media_type in IMAGE_TYPES:
        return MediaKind.IMAGE
    if media_type in VIDEO_TYPES:
        return MediaKind.VIDEO
    if media_type in SUBTITLE_TYPES:
        return MediaKind.SUBTITLES
    raise errors.MediaTypeUnrecognized()


def plan_init(
    *, total_bytes: int, media_type: str, category: MediaCategory | None, limits: ByteLimits
) -> InitPlan:
    """Decide the media kind, sync or async processing and the byte cap, or refuse."""
    type_kind = kind_of_type(media_type)
    kind = type_kind
    if category is not None:
        kind = _CATEGORY_KIND[category]
        # A still GIF is a fine tweet_image; anything else must match its category.
        if not (type_kind is kind or (kind is MediaKind.IMAGE and type_kind is MediaKind.GIF)):
            raise errors.MediaTypeUnrecognized()
    max_bytes = limits.for_media(kind, category)
    if total_bytes < 1:
        raise errors.BadParameter("total_bytes must be a positive integer.")
    if total_bytes > max_bytes:
        raise errors.FileTooLarge(_KIND_WORD[kind], max_bytes)
    is_async = category is not None and kind in (MediaKind.GIF, MediaKind.VIDEO)
    return InitPlan(kind=kind, category=category, is_async=is_async, max_bytes=max_bytes)


_KIND_WORD = {
    MediaKind.IMAGE: "Image",
    MediaKind.GIF: "GIF",
    MediaKind.VIDEO: "Video",
    MediaKind.SUBTITLES: "Subtitles",
}


def media_key(media_id: int, kind: MediaKind, category: MediaCategory | None) -> str:
    amplified = category in (MediaCategory.AMPLIFY_VIDEO, MediaCategory.LIVE_VIDEO)
    prefix = _AMPLIFY_PREFIX if amplified else _KEY_PREFIX[kind]
    return f"{prefix}_{media_id}"


def check_open(upload: UploadSnapshot, *, now: datetime) -> None:
    if now >= upload.expires_at:
        raise errors.UploadExpired(upload.media_id)
    if upload.state is not UploadState.UPLOADING or upload.is_finalizing:
        raise errors.UploadNotOpen()


class FinalizeAction(StrEnum):
    ANSWER = "answer"  # finalized already: answer the current state
    WAIT = "wait"  # another FINALIZE holds a live lease
    ASSEMBLE = "assemble"  # take the lease (first, or over a lapsed one) and assemble


def finalize_action(upload: UploadSnapshot, *, now: datetime) -> FinalizeAction:
    """What a FINALIZE does, seen under the upload's lock. Raises ``UploadExpired`` for an
    open upload past its expiry, and ``SegmentsIncomplete`` when it cannot assemble."""
    if upload.state is not UploadState.UPLOADING:
        return FinalizeAction.ANSWER
    if upload.finalizing_until is not None and now < upload.finalizing_until:
        return FinalizeAction.WAIT
    if now >= upload.expires_at:
        raise errors.UploadExpired(upload.media_id)
    plan_finalize(upload)
    return FinalizeAction.ASSEMBLE


def next_free_index(taken: Iterable[int]) -> int:
    """The index an index-less APPEND gets: the lowest one neither stored nor reserved,
    so a failed APPEND's index goes to its retry; raises past the last index."""
    used = set(taken)
    index = next(i for i in range(len(used) + 1) if i not in used)
    if index > limits.MAX_SEGMENT_INDEX:
        raise errors.SegmentIndexOutOfRange()
    return index


def check_append(upload: UploadSnapshot, *, index: int, now: datetime) -> None:
    check_open(upload, now=now)
    if not 0 <= index <= limits.MAX_SEGMENT_INDEX:
        raise errors.SegmentIndexOutOfRange()


def segment_room(upload: UploadSnapshot, *, index: int) -> int:
    """How many bytes segment ``index`` may hold without crossing total_bytes."""
    others = sum(size for i, size in upload.segments.items() if i != index)
    return upload.total_bytes - others


def check_fits(total_bytes: int, *, others: int, size: int) -> None:
    """A segment of ``size`` beside ``others`` bytes of other segments stays within
    total_bytes."""
    if others + size > total_bytes:
        raise errors.TotalBytesExceeded(total_bytes, others + size)


def check_segment_fits(upload: UploadSnapshot, *, index: int, size: int) -> None:
    room = segment_room(upload, index=index)
    if size > room:
        raise errors.TotalBytesExceeded(upload.total_bytes, upload.total_bytes - room + size)


def plan_finalize(upload: UploadSnapshot) -> list[int]:
    """The segment order to assemble, or SegmentsIncomplete saying what is wrong."""
    indexes = sorted(upload.segments)
    received = sum(upload.segments.values())
    expected = list(range(indexes[-1] + 1)) if indexes else []
    missing = sorted(set(expected) - set(indexes))
    if missing or received != upload.total_bytes or not indexes:
        raise errors.SegmentsIncomplete(
            total_bytes=upload.total_bytes,
            received_bytes=received,
            missing_segments=missing,
            received_segments=indexes,
        )
    return indexes
