"""Real media for the processing tests, generated once per session.

Videos come from the bundled ffmpeg's lavfi sources (``testsrc2``, ``sine``), kept
tiny and encoded with ``-preset ultrafast`` wherever the rule under test allows.
Images come from Pillow.
"""

import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from app.storage import Scratch
from app.storage.filesystem import FilesystemStore
from tests.fixtures.media import ffmpeg, make_clip

GPS_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="52,31.2N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "store")


@pytest.fixture
async def scratch(store: FilesystemStore) -> AsyncIterator[Scratch]:
    """An empty scratch folder of a real filesystem store, removed after the test."""
    async with store.scratch() as work:
        yield work


def stored_files(store: FilesystemStore) -> list[Path]:
    """Every file below the store's root, scratch folders included."""
    return [p for p in store.root.rglob("*") if p.is_file()] if store.root.exists() else []


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip_720p(media_dir: Path) -> Path:
    """3 s, 1280x720, 30 fps H.264 + mono AAC-LC; moov at the end (no faststart)."""
    return make_clip(media_dir / "720p.mp4", size="1280x720", rate=30, seconds=3)


@pytest.fixture(scope="session")
def clip_portrait_silent(media_dir: Path) -> Path:
    """1 s, 360x640, no audio track."""
    return make_clip(media_dir / "portrait.mp4", size="360x640", rate=15, seconds=1, audio=False)


@pytest.fixture(scope="session")
def clip_rotated(media_dir: Path) -> Path:
    """320x180 pixels stored with a 90° display rotation, as phones record portrait."""
    stored = make_clip(media_dir / "stored.mp4", size="320x180", rate=10, seconds=1)
    path = media_dir / "rotated.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(stored), "-c", "copy", str(path))
    return path


@pytest.fixture(scope="session")
def clip_mov(media_dir: Path) -> Path:
    return make_clip(media_dir / "small.mov", size="64x64", rate=10, seconds=1)


@pytest.fixture(scope="session")
def clip_150s(media_dir: Path) -> Path:
    """150 s at 64x64 and 1 fps: long, yet only 150 frames to encode."""
    return make_clip(media_dir / "long.mp4", size="64x64", rate=1, seconds=150, audio=False)


@pytest.fixture(scope="session")
def clip_80fps(media_dir: Path) -> Path:
    return make_clip(media_dir / "80fps.mp4", size="64x64", rate=80, seconds=1, audio=False)


@pytest.fixture(scope="session")
def clip_4000x200(media_dir: Path) -> Path:
    return make_clip(media_dir / "wide.mp4", size="4000x200", rate=5, seconds=1, audio=False)


@pytest.fixture(scope="session")
def clip_truncated(clip_720p: Path, media_dir: Path) -> Path:
    """The first 100 kB of the 720p clip: its moov (at the end) is gone."""
    path = media_dir / "truncated.mp4"
    with clip_720p.open("rb") as source:
        path.write_bytes(source.read(100_000))
    return path


@pytest.fixture(scope="session")
def jpeg_with_gps(media_dir: Path) -> Path:
    """2400x1600 JPEG whose EXIF says "rotate 90° clockwise" (so it displays as
    1600x2400) and carries GPS, a camera make, XMP with GPS, and a comment."""
    path = media_dir / "gps.jpg"
    image = Image.new("RGB", (2400, 1600), "navy")
    image.paste((255, 200, 0), (0, 0, 1200, 200))  # a yellow band along the top
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    image.save(path, "JPEG", exif=exif, xmp=GPS_XMP, comment=b"shot at home")
    return path


@pytest.fixture(scope="session")
def png_with_alpha(media_dir: Path) -> Path:
    path = media_dir / "alpha.png"
    Image.new("RGBA", (800, 400), (0, 128, 0, 100)).save(path)
    return path


@pytest.fixture(scope="session")
def png_bomb(media_dir: Path) -> Path:
    """A valid PNG header (IHDR with a correct CRC) claiming 60000x60000 RGB, followed
    by a tiny IDAT and IEND: a few dozen bytes that would decode to ~10 GB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    path = media_dir / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


@pytest.fixture(scope="session")
def animated_gif(media_dir: Path) -> Path:
    """10 frames at an odd 121x91, to exercise even-size rounding."""
    path = media_dir / "anim.gif"
    frames = [Image.new("RGB", (121, 91), (i * 25, 0, 255 - i * 25)) for i in range(10)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path
