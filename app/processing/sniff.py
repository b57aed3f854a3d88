"""Recognise a media type from a file's leading bytes (64 are enough)."""

from __future__ import annotations

__all__ = ["SNIFF_BYTES", "compatible", "sniff"]

SNIFF_BYTES = 64

_ISO_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")
# Types that are one format under two names.
_FAMILY = {
    "image/pjpeg": "image/jpeg",
    "video/quicktime": "video/mp4",
    "application/x-subrip": "text/srt",
}


def sniff(head: bytes) -> str | None:
    """The MIME type the bytes look like, or None when no known signature matches."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"BM"):
        return "image/bmp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head[4:8] in _ISO_BMFF_BOXES:
        return "video/quicktime" if head[8:10] == b"qt" else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return _sniff_text(head)


def _sniff_text(head: bytes) -> str | None:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n\t ")
    if text.startswith(b"WEBVTT"):
        return "text/vtt"
    first_line = text.split(b"\n", 1)[0].strip()
    if first_line.isdigit() and (b"-->" in text or len(text) < 16):
        return "text/srt"
    return None


def compatible(declared: str, detected: str | None) -> bool:
    """Whether bytes detected as ``detected`` may be uploaded as ``declared``."""
    if detected is None:
        return False
    declared = declared.split(";")[0].strip().lower()
    return _FAMILY.get(declared, declared) == _FAMILY.get(detected, detected)
