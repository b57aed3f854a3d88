"""The incoming stream against the seed's live specs: pure rules.

Recommended: H.264, 9 Mbps, 1280x720, 30 fps, a keyframe every 3 s, AAC-LC at 128 kbps.
Maximum: 12 Mbps, 1920x1080, 60 fps, audio 128 kbps. ``check`` answers the
``compatibility_info`` of producer-api.md §3.5: errors are hard violations (the stream may
not play), warnings quality suggestions, each ``{param_name, violation}``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["RECOMMENDED", "CompatibilityInfo", "StreamAttributes", "check"]

VIDEO_CODEC = "H.264/AVC"
AUDIO_CODEC = "AAC"
RECOMMENDED_VIDEO_BITRATE = 9_000_000
MAX_VIDEO_BITRATE = 12_000_000
MAX_AUDIO_BITRATE = 128_000
RECOMMENDED_SIZE = (1280, 720)
MAX_SIZE = (1920, 1080)
RECOMMENDED_FPS = 30.0
MAX_FPS = 60.0
KEYFRAME_SECS = 3.0
KEYFRAME_TOLERANCE = 0.25  # measured intervals are rounded to frames
# Measured over a few segments' AAC frames, 128 kbps reads as 128-131 kbps.
AUDIO_OVERHEAD = 1.1

# Gen B key names (§8.1); sampling rate and channels copied from X's example.
RECOMMENDED: dict[str, Any] = {
    "video_codec": VIDEO_CODEC,
    "video_bitrate": RECOMMENDED_VIDEO_BITRATE,
    "video_framerate": RECOMMENDED_FPS,
    "video_keyframe_interval_in_seconds": KEYFRAME_SECS,
    "video_width": RECOMMENDED_SIZE[0],
    "video_height": RECOMMENDED_SIZE[1],
    "audio_codec": AUDIO_CODEC,
    "audio_bitrate": MAX_AUDIO_BITRATE,
    "audio_sampling_rate": 44100,
    "audio_num_channels": 2,
}


@dataclass(frozen=True, slots=True)
class StreamAttributes:
    """What was measured on the live stream; None: not known (yet)."""

    video_codec: str | None = None
    video_bitrate: int | None = None
    video_framerate: float | None = None
    video_keyframe_interval_in_seconds: float | None = None
    video_width: int | None = None
    video_height: int | None = None
    audio_codec: str | None = None
    audio_profile: str | None = None  # LC, HE, ...: checked, not on the wire
    audio_bitrate: int | None = None
    audio_sampling_rate: int | None = None
    audio_num_channels: int | None = None

    def to_wire(self) -> dict[str, Any]:
        wire = {k: v for k, v in asdict(self).items() if v is not None}
        wire.pop("audio_profile", None)
        return wire

    @classmethod
    def from_wire(cls, data: dict[str, Any], audio_profile: str | None = None) -> StreamAttributes:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if audio_profile is not None:
            known["audio_profile"] = audio_profile
        return cls(**known)


@dataclass(slots=True)
class CompatibilityInfo:
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def error(self, param: str, violation: str) -> None:
        self.errors.append({"param_name": param, "violation": violation})

    def warning(self, param: str, violation: str) -> None:
        self.warnings.append({"param_name": param, "violation": violation})

    def to_wire(self) -> dict[str, list[dict[str, str]]]:
        return {"errors": list(self.errors), "warnings": list(self.warnings)}


def _mbps(bps: int) -> str:
    return f"{bps / 1_000_000:g} Mbps"


def _video(attrs: StreamAttributes, info: CompatibilityInfo) -> None:
    if attrs.video_codec is None:
        info.error("video_codec", f"No video track: {VIDEO_CODEC} is required.")
        return
    if attrs.video_codec != VIDEO_CODEC:
        info.error("video_codec", f"Required codec: {VIDEO_CODEC}, got {attrs.video_codec}.")
    if attrs.video_bitrate is not None:
        if attrs.video_bitrate > MAX_VIDEO_BITRATE:
            info.error("video_bitrate", f"Max allowed bitrate: {_mbps(MAX_VIDEO_BITRATE)}.")
        elif attrs.video_bitrate > RECOMMENDED_VIDEO_BITRATE:
            info.warning(
                "video_bitrate", f"Max suggested bitrate: {_mbps(RECOMMENDED_VIDEO_BITRATE)}."
            )
    if attrs.video_width is not None and attrs.video_height is not None:
        size = (attrs.video_width, attrs.video_height)
        long_side, short_side = max(size), min(size)
        if long_side > MAX_SIZE[0] or short_side > MAX_SIZE[1]:
            landscape = attrs.video_width >= attrs.video_height
            wide = (attrs.video_width > MAX_SIZE[0]) if landscape else (short_side > MAX_SIZE[1])
            param = "video_width" if wide else "video_height"
            info.error(param, f"Max allowed resolution: {MAX_SIZE[0]}x{MAX_SIZE[1]}.")
        elif long_side > RECOMMENDED_SIZE[0] or short_side > RECOMMENDED_SIZE[1]:
            info.warning(
                "video_width",
                f"Suggested resolution: {RECOMMENDED_SIZE[0]}x{RECOMMENDED_SIZE[1]}.",
            )
    if attrs.video_framerate is not None:
        if attrs.video_framerate > MAX_FPS + 0.01:
            info.error("video_framerate", f"Max allowed frame rate: {MAX_FPS:g} fps.")
        elif attrs.video_framerate > RECOMMENDED_FPS + 0.01:
            info.warning("video_framerate", f"Suggested frame rate: {RECOMMENDED_FPS:g} fps.")
    interval = attrs.video_keyframe_interval_in_seconds
    if interval is not None and abs(interval - KEYFRAME_SECS) > KEYFRAME_TOLERANCE:
        info.warning(
            "video_keyframe_interval_in_seconds",
            f"Suggested keyframe interval: {KEYFRAME_SECS:g} s.",
        )


def _audio(attrs: StreamAttributes, info: CompatibilityInfo) -> None:
    if attrs.audio_codec is None:
        info.warning("audio_codec", "No audio track: AAC-LC is recommended.")
        return
    if attrs.audio_codec != AUDIO_CODEC:
        info.error("audio_codec", f"Required codec: AAC-LC, got {attrs.audio_codec}.")
    elif attrs.audio_profile is not None and attrs.audio_profile.upper() != "LC":
        info.error("audio_codec", f"Required codec: AAC-LC, got AAC {attrs.audio_profile}.")
    if attrs.audio_bitrate is not None and attrs.audio_bitrate > MAX_AUDIO_BITRATE * AUDIO_OVERHEAD:
        info.error("audio_bitrate", f"Max allowed bitrate: {MAX_AUDIO_BITRATE // 1000} kbps.")


def check(attrs: StreamAttributes) -> CompatibilityInfo:
    info = CompatibilityInfo()
    _video(attrs, info)
    _audio(attrs, info)
    return info
