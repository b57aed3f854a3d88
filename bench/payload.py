"""Test media: a real mp4 head padded with random bytes, and its per-segment encodings.

The service sniffs segment 0 (and the assembled file at FINALIZE), so the file starts
with a short real mp4 made by the ffmpeg binary imageio-ffmpeg ships; the rest is random
bytes. The processing job that FINALIZE queues would later fail on the padding; the
bench times only the upload and FINALIZE, so that does not matter.

Every body is sent from a file with ``sendfile`` (zero copy), so each encoding is written
once, segment by segment, to its own file with a table of (offset, length) per segment.
"""

from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

MiB = 1024 * 1024
_WRITE_CHUNK = 8 * MiB


@dataclass(frozen=True)
class Encoded:
    """One encoding of the media file: ``path`` holds segment ``i`` at ``spans[i]``."""

    kind: str  # "raw", "base64", "base64-percent"
    path: Path
    spans: list[tuple[int, int]]

    def first(self, count: int) -> Encoded:
        """The first ``count`` segments only (a smaller upload of the same file)."""
        return Encoded(self.kind, self.path, self.spans[:count])

    @property
    def body_bytes(self) -> int:
        return sum(length for _, length in self.spans)


def make_mp4_head(path: Path) -> bytes:
    """A tiny real H.264 mp4 (``moov`` first, so the head is a complete file)."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10",
            "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", str(path),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return path.read_bytes()


def make_media(directory: Path, size: int) -> Path:
    """``size`` bytes: a real mp4 head, then random padding."""
    head = make_mp4_head(directory / "head.mp4")
    path = directory / "media.mp4"
    with open(path, "wb") as out:
        out.write(head[:size])
        left = size - min(size, len(head))
        while left > 0:
            n = min(left, _WRITE_CHUNK)
            out.write(os.urandom(n))
            left -= n
    return path


def _percent(data: bytes) -> bytes:
    return data.replace(b"+", b"%2B").replace(b"/", b"%2F").replace(b"=", b"%3D")


def encode(media: Path, segment: int, kind: str) -> Encoded:
    """Split ``media`` into ``segment``-byte pieces and write them encoded as ``kind``."""
    size = media.stat().st_size
    if kind == "raw":
        spans = [(off, min(segment, size - off)) for off in range(0, size, segment)]
        return Encoded(kind, media, spans)
    path = media.with_suffix(f".{kind}")
    spans = []
    offset = 0
    with open(media, "rb") as src, open(path, "wb") as out:
        while piece := src.read(segment):
            data = base64.b64encode(piece)
            if kind == "base64-percent":
                data = _percent(data)
            out.write(data)
            spans.append((offset, len(data)))
            offset += len(data)
    return Encoded(kind, path, spans)
