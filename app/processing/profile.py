"""Profile images (avatars) and banners with Pillow (spec §7.3), sizes declared as data.

Both pipelines take the decoded upload bytes, check the header before decoding pixels,
keep only the first frame (animated GIFs are flattened), re-encode every output from
pixels with no EXIF/XMP (only the ICC profile is kept) and write into ``out_dir``, an
empty scratch folder (``app.storage.Scratch``): its owner publishes it once the build
succeeded, or removes it with any partial output. Output layout::

    <out_dir>/avatar.<ext>  avatar_normal.<ext>  avatar_bigger.<ext>  avatar_mini.<ext>
    <out_dir>/1500x500.<ext>  600x200.<ext>  ...  web.<ext>  mobile_retina.<ext>

``<ext>`` is the source's format for avatars (jpg, png, gif) and jpg or png for banners
(GIF sources become png). Pillow work is CPU-bound: callers use the ``async`` wrappers,
which run it in a thread.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from app.processing.errors import InvalidMedia, UnsupportedMedia

__all__ = [
    "AVATAR_MAX_WIDTH",
    "AVATAR_NAME",
    "AVATAR_SIZES",
    "BANNER_SIZES",
    "MAX_SOURCE_PIXELS",
    "BannerSize",
    "CropBox",
    "build_avatar",
    "build_banner",
    "default_avatar_png",
]

AVATAR_NAME = "avatar"
AVATAR_MAX_WIDTH = 400
MAX_SOURCE_PIXELS = 40_000_000  # decompression-bomb guard, well below Pillow's own
_FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "GIF": "gif"}
_PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "gif": "GIF"}
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)
_RESAMPLE = Image.Resampling.LANCZOS


@dataclass(frozen=True, slots=True)
class BannerSize:
    name: str  # the URL's last segment: ``/profile_banners/<id>/<token>/<name>``
    width: int
    height: int


# Avatars by URL suffix (spec §7.3): square, centre-cropped. No suffix = the original.
AVATAR_SIZES: dict[str, int] = {"_normal": 48, "_bigger": 73, "_mini": 24}

BANNER_SIZES: tuple[BannerSize, ...] = (
    BannerSize("1500x500", 1500, 500),
    BannerSize("600x200", 600, 200),
    BannerSize("300x100", 300, 100),
    BannerSize("web", 520, 260),
    BannerSize("web_retina", 1040, 520),
    BannerSize("ipad", 626, 313),
    BannerSize("ipad_retina", 1252, 626),
    BannerSize("mobile", 320, 160),
    BannerSize("mobile_retina", 640, 320),
)


@dataclass(frozen=True, slots=True)
class CropBox:
    """The region of the source to use, in source pixels (``update_profile_banner``'s
    ``width``, ``height``, ``offset_left``, ``offset_top``). ``None`` = to the edge."""

    width: int | None = None
    height: int | None = None
    left: int = 0
    top: int = 0


async def build_avatar(data: bytes, out_dir: Path) -> str:
    """Write the avatar and its sizes into ``out_dir``; returns the extension used.

    Raises ``InvalidMedia`` when the bytes are not a readable GIF, JPEG or PNG and
    ``UnsupportedMedia`` when the image is too large in pixels.
    """
    return await asyncio.to_thread(_build_avatar, data, out_dir)


async def build_banner(data: bytes, out_dir: Path, crop: CropBox) -> str:
    """Write every banner size into ``out_dir``; returns the extension used.

    Raises ``InvalidMedia`` for unreadable bytes and ``UnsupportedMedia`` when the image
    is too large in pixels or the crop box does not lie within it.
    """
    return await asyncio.to_thread(_build_banner, data, out_dir, crop)


@cache
def default_avatar_png() -> bytes:
    """The 48 px avatar of users who never set one (tiny: made once, then cached)."""
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), (204, 214, 221)).save(buffer, "PNG")
    return buffer.getvalue()


def _open_first_frame(data: bytes) -> tuple[Image.Image, str]:
    """The first frame, decoded and upright, with the source's extension."""
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "GIF"]) as opened:
            ext = _FORMATS[opened.format or ""]
            pixels = opened.width * opened.height
            if pixels > MAX_SOURCE_PIXELS:
                raise UnsupportedMedia(
                    f"Image too large, maximum pixels:{MAX_SOURCE_PIXELS}, actual:{pixels}"
                )
            opened.seek(0)  # animated GIF: flatten to the first frame
            opened.load()
            image = ImageOps.exif_transpose(opened)
            image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnsupportedMedia("Image too large") from exc
    except _DECODE_ERRORS as exc:
        raise InvalidMedia("file is invalid") from exc
    image.info = {"icc_profile": icc} if (icc := opened.info.get("icc_profile")) else {}
    return image, ext


def _has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or "transparency" in image.info


def _build_avatar(data: bytes, out_dir: Path) -> str:
    image, ext = _open_first_frame(data)
    if image.width > AVATAR_MAX_WIDTH:
        height = max(1, round(image.height * AVATAR_MAX_WIDTH / image.width))
        image = image.resize((AVATAR_MAX_WIDTH, height), _RESAMPLE, reducing_gap=3.0)
    outputs = {"": image}
    for suffix, side in AVATAR_SIZES.items():
        outputs[suffix] = ImageOps.fit(image, (side, side), _RESAMPLE)
    for suffix, output in outputs.items():
        _save(output, out_dir / f"{AVATAR_NAME}{suffix}.{ext}", ext)
    return ext


def _build_banner(data: bytes, out_dir: Path, crop: CropBox) -> str:
    image, ext = _open_first_frame(data)
    image = image.crop(_crop_region(image.width, image.height, crop))
    ext = "jpg" if ext == "jpg" else "png"
    for size in BANNER_SIZES:
        output = ImageOps.fit(image, (size.width, size.height), _RESAMPLE)
        _save(output, out_dir / f"{size.name}.{ext}", ext)
    return ext


def _crop_region(width: int, height: int, crop: CropBox) -> tuple[int, int, int, int]:
    right = crop.left + (crop.width if crop.width is not None else width - crop.left)
    bottom = crop.top + (crop.height if crop.height is not None else height - crop.top)
    if not (0 <= crop.left < right <= width and 0 <= crop.top < bottom <= height):
        raise UnsupportedMedia(
            f"Crop region {crop.left},{crop.top},{right},{bottom} is outside the "
            f"{width}x{height} image"
        )
    return crop.left, crop.top, right, bottom


def _save(image: Image.Image, path: Path, ext: str) -> None:
    if ext == "jpg" and image.mode != "RGB":
        image = image.convert("RGB")
    options: dict[str, object] = {}
    if ext == "jpg":
        options = {"quality": 85, "optimize": True, "exif": b"", "xmp": b""}
    elif ext == "png":
        options = {"optimize": True}
    if icc := image.info.get("icc_profile"):
        options["icc_profile"] = icc
    image.save(path, format=_PIL_FORMATS[ext], **options)
