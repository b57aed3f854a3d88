"""Still images and GIF headers with Pillow: the decompression-bomb guard and the photo
size variants of spec §8.1.

Every output, ``orig`` included, is re-encoded from pixels with an empty ``info``, so no
EXIF (GPS, camera serials), XMP or comments survive; only the ICC colour profile is kept.
EXIF orientation is applied to the pixels first. Output layout in ``out_dir`` (a scratch
folder: its owner publishes it, or removes it with any partial output)::

    thumb.<ext>  small.<ext>  medium.<ext>  large.<ext>  orig.<ext>

with ``<ext>`` the source's format (jpg, png, webp); other formats become png when they
have transparency, jpg otherwise. Pillow work is CPU-bound and runs in a thread.
"""

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from app.processing.errors import UnsupportedMedia
from app.processing.failures import decode_exception
from app.processing.probe import ImageProbe
from app.processing.rules import IMAGE_RULES, ImageRules, check_image
from app.processing.variants import PHOTO_SIZES, PhotoSize, ResizeMode, fit_within

__all__ = ["PhotoVariant", "build_photo_variants", "inspect_image"]

_EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}
_PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
_KEPT_MODES = {"jpg": ("RGB", "L"), "png": ("RGB", "RGBA", "L", "LA"), "webp": ("RGB", "RGBA")}
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)
_RESAMPLE = Image.Resampling.LANCZOS


@dataclass(frozen=True, slots=True)
class PhotoVariant:
    name: str  # "thumb", "small", "medium", "large", "orig"
    path: Path
    width: int
    height: int
    resize: ResizeMode
    format: str  # file extension: "jpg", "png", "webp"


async def inspect_image(path: Path) -> ImageProbe:
    """Read format, size and frame count from the header without decoding pixels.

    Raises ``InvalidMedia`` for undecodable files, ``InternalError`` when the file
    cannot be read (``failures.decode_exception``), and ``UnsupportedMedia`` for headers
    so large that Pillow itself refuses them as decompression bombs.
    """
    return await asyncio.to_thread(_inspect, path)


async def build_photo_variants(
    src: Path,
    out_dir: Path,
    *,
    sizes: tuple[PhotoSize, ...] = PHOTO_SIZES,
    rules: ImageRules = IMAGE_RULES,
) -> list[PhotoVariant]:
    """Write every size in ``sizes`` into the existing folder ``out_dir``, metadata
    stripped, replacing files of the same names.

    The header is checked against ``rules`` before any pixel is decoded, so a refused
    image writes nothing. Atomicity is the scratch folder's: a failure may leave some
    sizes in ``out_dir``, which is never published then.
    """
    return await asyncio.to_thread(_build, src, out_dir, sizes, rules)


def _inspect(path: Path) -> ImageProbe:
    try:
        with Image.open(path) as image:
            return ImageProbe(
                format=image.format or "unknown",
                width=image.width,
                height=image.height,
                frame_count=getattr(image, "n_frames", 1),
            )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses before we see the size; its message carries the pixel count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise UnsupportedMedia(
            f"Image too large, actual pixels:{found.group(1) if found else 'unknown'}"
        ) from exc
    except _DECODE_ERRORS as exc:
        raise decode_exception(exc) from exc


def _build(
    src: Path, out_dir: Path, sizes: tuple[PhotoSize, ...], rules: ImageRules
) -> list[PhotoVariant]:
    header = _inspect(src)
    check_image(header, rules)
    ext = _EXTENSIONS.get(header.format)
    with Image.open(src) as opened:
        base = _decode(opened)
    ext = ext or ("png" if _has_alpha(base) else "jpg")
    base = _clean(base, ext)
    made: list[PhotoVariant] = []
    for size in sizes:
        image = _render(base, size)
        path = out_dir / f"{size.name}.{ext}"
        image.save(path, format=_PIL_FORMATS[ext], **_save_options(ext, size))
        made.append(PhotoVariant(size.name, path, *image.size, size.resize, ext))
    return made


def _decode(image: Image.Image) -> Image.Image:
    try:
        image.load()
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS as exc:
        raise decode_exception(exc) from exc


def _has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or "transparency" in image.info


def _clean(image: Image.Image, ext: str) -> Image.Image:
    """Convert to a mode the output format stores, and drop every piece of metadata
    except the ICC profile (colours would shift without it)."""
    if image.mode not in _KEPT_MODES[ext]:
        keep_alpha = ext != "jpg" and _has_alpha(image)
        image = image.convert("RGBA" if keep_alpha else "RGB")
    else:
        image = image.copy()
    icc = image.info.get("icc_profile")
    image.info = {"icc_profile": icc} if icc else {}
    return image


def _render(base: Image.Image, size: PhotoSize) -> Image.Image:
    if size.width is None or size.height is None:
        return base
    if size.resize == "crop":
        return base.resize(
            (size.width, size.height),
            _RESAMPLE,
            box=_centre_box(base.width, base.height, size.width, size.height),
            reducing_gap=3.0,
        )
    target = fit_within(base.width, base.height, size.width, size.height)
    if target == base.size:
        return base
    return base.resize(target, _RESAMPLE, reducing_gap=3.0)


def _centre_box(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int, int, int]:
    """The largest centred region of ``width`` x ``height`` with the box's aspect ratio."""
    if width * box_h > height * box_w:  # too wide: trim the sides
        crop_w = max(1, round(height * box_w / box_h))
        left = (width - crop_w) // 2
        return left, 0, left + crop_w, height
    crop_h = max(1, round(width * box_h / box_w))
    top = (height - crop_h) // 2
    return 0, top, width, top + crop_h


def _save_options(ext: str, size: PhotoSize) -> dict[str, object]:
    # exif/xmp are passed empty explicitly so no Pillow default can copy them back in.
    if ext == "jpg":
        return {"quality": size.quality, "optimize": True, "exif": b"", "xmp": b""}
    if ext == "webp":
        return {"quality": size.quality, "method": 4, "exif": b"", "xmp": b""}
    return {}
