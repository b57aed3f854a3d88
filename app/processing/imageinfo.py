"""Open an image with Pillow, guarding against decompression bombs, and describe it."""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

__all__ = ["ImageInfo", "ImageRejected", "image_info"]

_FORMAT_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


class ImageRejected(Exception):
    """The file is not a readable image of a supported format, or is too large to decode."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    mime: str
    width: int
    height: int
    frames: int


def _inspect(path: Path, max_pixels: int) -> ImageInfo:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                # Checked from the header, before any pixel is decoded.
                if width * height > max_pixels:
                    raise ImageRejected(
                        f"Image dimensions too large, maximum pixels:{max_pixels}, "
                        f"actual:{width}x{height}"
                    )
                mime = _FORMAT_MIME.get(image.format or "")
                if mime is None:
                    raise ImageRejected(f"Unsupported image format: {image.format}")
                frames = getattr(image, "n_frames", 1)
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageRejected("Image file is invalid or unsupported.") from exc
    except Image.DecompressionBombWarning as exc:
        raise ImageRejected("Image dimensions too large.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected("Image file is invalid or truncated.") from exc
    return ImageInfo(mime=mime, width=width, height=height, frames=frames)


async def image_info(path: Path, *, max_pixels: int) -> ImageInfo:
    return await asyncio.to_thread(_inspect, path, max_pixels)
