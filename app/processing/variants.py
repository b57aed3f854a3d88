"""Output variants declared as data: photo sizes (spec §8.1) and the video bitrate
ladder (spec §4.5), plus the pure geometry that maps a source onto them.

The pipelines in ``images`` and ``video`` iterate over these tuples; pass a different
tuple or ladder to change what gets produced.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

__all__ = [
    "PHOTO_SIZES",
    "VIDEO_LADDER",
    "Orientation",
    "PhotoSize",
    "RenditionPlan",
    "ResizeMode",
    "VideoRung",
    "fit_within",
    "orientation",
    "plan_renditions",
]

ResizeMode = Literal["fit", "crop"]
Orientation = Literal["landscape", "portrait", "square"]


@dataclass(frozen=True, slots=True)
class PhotoSize:
    """One photo output. ``fit`` scales down (never up) to fit in ``width`` x ``height``;
    ``crop`` fills the box exactly and crops the overflow, centred. ``width=None`` keeps
    the original size (re-encoded, so metadata is stripped)."""

    name: str
    width: int | None
    height: int | None
    resize: ResizeMode
    quality: int = 85


PHOTO_SIZES: tuple[PhotoSize, ...] = (
    PhotoSize("thumb", 150, 150, "crop"),
    PhotoSize("small", 680, 680, "fit"),
    PhotoSize("medium", 1200, 1200, "fit"),
    PhotoSize("large", 2048, 2048, "fit"),
    PhotoSize("orig", None, None, "fit", quality=92),
)


@dataclass(frozen=True, slots=True)
class VideoRung:
    """A bounding box and its target bitrates, in bits per second."""

    width: int
    height: int
    video_bitrate: int
    audio_bitrate: int


# Spec §4.5's advisory ladder. Portrait mirrors landscape; the spec gives only the square
# 240x240 rung's 32k audio, so the other square bitrates are ours, scaled by pixel count.
VIDEO_LADDER: Mapping[Orientation, tuple[VideoRung, ...]] = {
    "landscape": (
        VideoRung(320, 180, 256_000, 64_000),
        VideoRung(640, 360, 768_000, 64_000),
        VideoRung(1280, 720, 2_048_000, 128_000),
    ),
    "portrait": (
        VideoRung(180, 320, 256_000, 64_000),
        VideoRung(360, 640, 768_000, 64_000),
        VideoRung(720, 1280, 2_048_000, 128_000),
    ),
    "square": (
        VideoRung(240, 240, 192_000, 32_000),
        VideoRung(480, 480, 768_000, 64_000),
        VideoRung(720, 720, 1_536_000, 128_000),
    ),
}

_SQUARE_TOLERANCE = 1.2  # within 6:5 either way counts as square


@dataclass(frozen=True, slots=True)
class RenditionPlan:
    """The exact output size chosen for one rung: even, aspect-preserving, no upscale."""

    width: int
    height: int
    video_bitrate: int
    audio_bitrate: int

    @property
    def name(self) -> str:
        return f"{self.width}x{self.height}"


def orientation(width: int, height: int) -> Orientation:
    if width > height * _SQUARE_TOLERANCE:
        return "landscape"
    if height > width * _SQUARE_TOLERANCE:
        return "portrait"
    return "square"


def fit_within(
    width: int, height: int, box_width: int, box_height: int, *, even: bool = False
) -> tuple[int, int]:
    """Scale ``width`` x ``height`` down (never up) to fit the box, keeping the aspect
    ratio; with ``even``, round both sides down to even numbers (what yuv420p needs)."""
    scale = min(Fraction(box_width, width), Fraction(box_height, height), Fraction(1))
    if even:
        return max(2, math.floor(width * scale / 2) * 2), max(2, math.floor(height * scale / 2) * 2)
    return max(1, round(width * scale)), max(1, round(height * scale))


def plan_renditions(
    width: int, height: int, ladder: Mapping[Orientation, tuple[VideoRung, ...]] = VIDEO_LADDER
) -> list[RenditionPlan]:
    """Pick the rungs of the source's orientation that the source fills in at least one
    direction (so no rung is an upscale), smallest first. A source smaller than every
    rung gets the smallest rung's bitrates at its own (even) size."""
    rungs = sorted(ladder[orientation(width, height)], key=lambda r: r.width * r.height)
    chosen = [r for r in rungs if min(r.width / width, r.height / height) <= 1.0] or rungs[:1]
    plans: dict[tuple[int, int], RenditionPlan] = {}
    for rung in chosen:
        w, h = fit_within(width, height, rung.width, rung.height, even=True)
        plans[w, h] = RenditionPlan(w, h, rung.video_bitrate, rung.audio_bitrate)
    return list(plans.values())
