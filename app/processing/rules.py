"""Per-category acceptance rules, as data, and the ``check_*`` functions that apply them.

Rules are frozen dataclasses; pass a different instance to change a limit. Every
``check_*`` raises ``UnsupportedMedia`` with a message naming the rule and both values,
in Twitter's style ("Duration too long, maximum:140000, actual:150000"), and returns
``None`` when the media passes. Checks run on probes (headers), before any decoding, so
absurd inputs are refused before heavy work. Sources: spec §4.4 (GIF), §4.5 (video),
§4.7 (images).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction

from app.processing.errors import UnsupportedMedia
from app.processing.probe import ImageProbe, MediaProbe

__all__ = [
    "AMPLIFY_VIDEO",
    "GIF_RULES",
    "IMAGE_RULES",
    "LIVE_VIDEO",
    "TWEET_VIDEO",
    "VIDEO_RULES",
    "GifRules",
    "ImageRules",
    "VideoRules",
    "check_gif",
    "check_image",
    "check_video",
]


@dataclass(frozen=True, slots=True)
class VideoRules:
    """Spec §4.5 "hard requirements". Size limits apply to the long and the short side,
    so 720x1280 (portrait, a recommended size) passes the 1280x1024 bound like 1280x720.
    ``None`` disables the pixel-aspect and chroma checks."""

    containers: frozenset[str] = frozenset({"mp4", "mov"})
    min_duration_ms: int = 500
    max_duration_ms: int = 140_000
    min_side: int = 32
    max_long_side: int = 1280
    max_short_side: int = 1024
    min_aspect_ratio: Fraction = Fraction(1, 3)
    max_aspect_ratio: Fraction = Fraction(3, 1)
    max_frame_rate: float = 60.0
    progressive_only: bool = True
    pixel_aspect_ratio: float | None = 1.0
    chroma_subsampling: str | None = "4:2:0"
    audio_codec: str = "AAC"
    audio_profiles: frozenset[str] = field(default=frozenset({"LC"}))
    max_audio_channels: int = 2


TWEET_VIDEO = VideoRules()
AMPLIFY_VIDEO = replace(
    TWEET_VIDEO, max_duration_ms=600_000, max_long_side=1920, max_short_side=1200
)
# A broadcast's recording (the Producer): amplify_video's shape, up to 4 hours.
LIVE_VIDEO = replace(AMPLIFY_VIDEO, max_duration_ms=4 * 3600 * 1000)
VIDEO_RULES: Mapping[str, VideoRules] = {
    "tweet_video": TWEET_VIDEO,
    "dm_video": TWEET_VIDEO,
    "amplify_video": AMPLIFY_VIDEO,
    "live_video": LIVE_VIDEO,
}


@dataclass(frozen=True, slots=True)
class GifRules:
    """Spec §4.4: at most 1280x1080, 350 frames and 300 million pixels over all frames."""

    max_width: int = 1280
    max_height: int = 1080
    max_frames: int = 350
    max_total_pixels: int = 300_000_000


GIF_RULES = GifRules()


@dataclass(frozen=True, slots=True)
class ImageRules:
    """The decompression-bomb guard for stills. The spec leaves pixel limits
    UNCONFIRMED (§4.7); 8192x8192 is the commonly quoted bound."""

    max_width: int = 8192
    max_height: int = 8192
    max_pixels: int = 8192 * 8192


IMAGE_RULES = ImageRules()

_ABS_TOLERANCE = 0.01  # MediaInfo rounds: 60 fps may read 60.001, a 1:1 PAR 1.000


def check_video(probe: MediaProbe, rules: VideoRules = TWEET_VIDEO) -> None:
    """Raise ``UnsupportedMedia`` for the first rule ``probe`` breaks."""
    _check_container(probe, rules)
    _check_duration(probe, rules)
    _check_geometry(probe, rules)
    _check_picture(probe, rules)
    if probe.has_audio:
        _check_audio(probe, rules)


def check_gif(image: ImageProbe, rules: GifRules = GIF_RULES) -> None:
    """Raise ``UnsupportedMedia`` when an animated GIF is too large or too long."""
    w, h, frames = image.width, image.height, image.frame_count
    if w > rules.max_width or h > rules.max_height:
        raise UnsupportedMedia(
            f"GIF dimensions too large, maximum:{rules.max_width}x{rules.max_height}, "
            f"actual:{w}x{h}"
        )
    if frames > rules.max_frames:
        raise UnsupportedMedia(
            f"GIF has too many frames, maximum:{rules.max_frames}, actual:{frames}"
        )
    if w * h * frames > rules.max_total_pixels:
        raise UnsupportedMedia(
            f"GIF too large, maximum pixels over all frames:{rules.max_total_pixels}, "
            f"actual:{w * h * frames}"
        )


def check_image(image: ImageProbe, rules: ImageRules = IMAGE_RULES) -> None:
    """Raise ``UnsupportedMedia`` when a still's header claims too many pixels."""
    w, h = image.width, image.height
    if w > rules.max_width or h > rules.max_height:
        raise UnsupportedMedia(
            f"Image dimensions too large, maximum:{rules.max_width}x{rules.max_height}, "
            f"actual:{w}x{h}"
        )
    if w * h > rules.max_pixels:
        raise UnsupportedMedia(
            f"Image too large, maximum pixels:{rules.max_pixels}, actual:{w * h}"
        )


def _check_container(probe: MediaProbe, rules: VideoRules) -> None:
    if probe.container not in rules.containers:
        allowed = ",".join(sorted(rules.containers))
        raise UnsupportedMedia(
            f"Container not supported, allowed:{allowed}, actual:{probe.container}"
        )


def _check_duration(probe: MediaProbe, rules: VideoRules) -> None:
    if probe.duration_ms > rules.max_duration_ms:
        raise UnsupportedMedia(
            f"Duration too long, maximum:{rules.max_duration_ms}, actual:{probe.duration_ms}"
        )
    if probe.duration_ms < rules.min_duration_ms:
        raise UnsupportedMedia(
            f"Duration too short, minimum:{rules.min_duration_ms}, actual:{probe.duration_ms}"
        )


def _check_geometry(probe: MediaProbe, rules: VideoRules) -> None:
    w, h = probe.width, probe.height
    aspect = Fraction(w, h) * Fraction(probe.pixel_aspect_ratio).limit_denominator(1000)
    if not rules.min_aspect_ratio <= aspect <= rules.max_aspect_ratio:
        raise UnsupportedMedia(
            f"Aspect ratio out of range, minimum:{_ratio(rules.min_aspect_ratio)}, "
            f"maximum:{_ratio(rules.max_aspect_ratio)}, actual:{_ratio(aspect)}"
        )
    if max(w, h) > rules.max_long_side or min(w, h) > rules.max_short_side:
        raise UnsupportedMedia(
            f"Dimensions too large, maximum:{rules.max_long_side}x{rules.max_short_side}, "
            f"actual:{w}x{h}"
        )
    if min(w, h) < rules.min_side:
        raise UnsupportedMedia(
            f"Dimensions too small, minimum:{rules.min_side}x{rules.min_side}, actual:{w}x{h}"
        )


def _check_picture(probe: MediaProbe, rules: VideoRules) -> None:
    if probe.frame_rate > rules.max_frame_rate + _ABS_TOLERANCE:
        raise UnsupportedMedia(
            f"Frame rate too high, maximum:{rules.max_frame_rate:g}, actual:{probe.frame_rate:g}"
        )
    if rules.progressive_only and probe.scan_type != "progressive":
        raise UnsupportedMedia(
            f"Scan type not supported, required:progressive, actual:{probe.scan_type}"
        )
    par = rules.pixel_aspect_ratio
    if par is not None and abs(probe.pixel_aspect_ratio - par) > _ABS_TOLERANCE:
        raise UnsupportedMedia(
            f"Pixel aspect ratio not supported, required:{par:g}, "
            f"actual:{probe.pixel_aspect_ratio:g}"
        )
    chroma = rules.chroma_subsampling
    if chroma is not None and probe.chroma_subsampling not in (None, chroma):
        raise UnsupportedMedia(
            f"Pixel format not supported, required:{chroma}, actual:{probe.chroma_subsampling}"
        )


def _check_audio(probe: MediaProbe, rules: VideoRules) -> None:
    profile = probe.audio_profile or ""
    # An AAC stream whose profile MediaInfo cannot name is given the benefit of the doubt.
    bad_profile = bool(profile) and profile not in rules.audio_profiles
    if probe.audio_codec != rules.audio_codec or bad_profile:
        required = "/".join(f"{rules.audio_codec} {p}" for p in sorted(rules.audio_profiles))
        actual = f"{probe.audio_codec} {profile}".strip()
        raise UnsupportedMedia(f"Audio codec not supported, required:{required}, actual:{actual}")
    channels = probe.audio_channels or 0
    if channels > rules.max_audio_channels:
        raise UnsupportedMedia(
            f"Too many audio channels, maximum:{rules.max_audio_channels}, actual:{channels}"
        )


def _ratio(value: Fraction) -> str:
    return f"{value.numerator}:{value.denominator}"
