"""Read a video's container and stream facts with MediaInfo (bundled with pymediainfo).

MediaInfo only parses headers, so probing a 512 MB file is cheap; it still blocks, so
it runs in a worker thread. Animated GIFs are inspected with Pillow instead
(``images.inspect_gif``).
"""

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymediainfo import MediaInfo

from app.processing.errors import InternalError, InvalidMedia
from app.processing.failures import decode_exception

__all__ = ["ImageProbe", "MediaProbe", "probe"]


@dataclass(frozen=True, slots=True)
class MediaProbe:
    """What the rules and the transcoder need to know about a video file.

    ``width``/``height`` are the *displayed* size: a rotation of 90 or 270 degrees in
    the container swaps them, as players (and ffmpeg's autorotate) do.
    """

    container: str  # "mp4", "mov", or MediaInfo's format lower-cased ("webm", "mpeg-ts")
    duration_ms: int
    width: int
    height: int
    frame_rate: float
    frame_count: int | None
    scan_type: str  # "progressive", "interlaced", "mbaff"...
    video_codec: str  # MediaInfo format: "AVC", "HEVC", "VP9"...
    pixel_aspect_ratio: float
    chroma_subsampling: str | None  # "4:2:0"; None when MediaInfo cannot tell
    rotation: int = 0
    audio_codec: str | None = None  # "AAC", "Opus"...; None without audio
    audio_profile: str | None = None  # "LC", "HE-AAC LC", "HE-AACv2 HE-AAC LC"...
    audio_channels: int | None = None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


@dataclass(frozen=True, slots=True)
class ImageProbe:
    """Header facts about a still or animated image, read by ``images.inspect_image``
    without decoding pixels."""

    format: str  # Pillow's format name: "JPEG", "PNG", "WEBP", "GIF"...
    width: int
    height: int
    frame_count: int = 1

    @property
    def is_animated(self) -> bool:
        return self.frame_count > 1


async def probe(path: Path) -> MediaProbe:
    """Probe ``path``; raise ``InvalidMedia`` when it has no decodable video track and
    ``InternalError`` when MediaInfo cannot run or the file cannot be read."""
    try:
        info = await asyncio.to_thread(MediaInfo.parse, path)
    except OSError as exc:  # the library did not load, or the file is unreadable
        failure = decode_exception(exc)
        raise (failure if exc.errno is not None else InternalError(str(exc))) from exc
    except RuntimeError as exc:  # libmediainfo could not open a file we just copied
        raise InternalError("MediaInfo cannot open the file") from exc
    except ValueError as exc:
        raise InvalidMedia("file is invalid") from exc
    return _from_tracks(info.general_tracks, info.video_tracks, info.audio_tracks)


def _from_tracks(general: list[Any], videos: list[Any], audios: list[Any]) -> MediaProbe:
    if not general or not videos:
        raise InvalidMedia("Unsupported video format: no video track")
    container, video = general[0], videos[0]
    width, height = _int(video.width), _int(video.height)
    duration_ms = _int(container.duration) or _int(video.duration)
    if not width or not height or not duration_ms:
        raise InvalidMedia("Unsupported video format: video track cannot be decoded")
    rotation = round(_float(video.rotation) or 0.0) % 360
    if rotation in (90, 270):
        width, height = height, width
    audio = audios[0] if audios else None
    return MediaProbe(
        container=_container(container),
        duration_ms=duration_ms,
        width=width,
        height=height,
        frame_rate=_float(video.frame_rate) or _float(container.frame_rate) or 0.0,
        frame_count=_int(video.frame_count),
        scan_type=str(video.scan_type or "progressive").lower(),
        video_codec=str(video.format or "unknown"),
        pixel_aspect_ratio=_float(video.pixel_aspect_ratio) or 1.0,
        chroma_subsampling=_str(video.chroma_subsampling),
        rotation=rotation,
        audio_codec=_str(audio.format) if audio else None,
        audio_profile=_audio_profile(audio) if audio else None,
        audio_channels=_int(audio.channel_s) if audio else None,
    )


def _container(general: Any) -> str:
    fmt = str(general.format or "unknown")
    if fmt == "MPEG-4":
        # MediaInfo calls both MPEG-4 and QuickTime "MPEG-4"; the brand tells them apart.
        brand = str(general.codec_id or "").strip()
        return "mov" if brand == "qt" or general.format_profile == "QuickTime" else "mp4"
    return fmt.lower()


def _audio_profile(audio: Any) -> str | None:
    # MediaInfo >= 20 reports "LC" / "HE-AAC LC" in format_additionalfeatures; older
    # builds put it in format_profile.
    return _str(audio.format_additionalfeatures) or _str(audio.format_profile)


def _str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _float(value: object) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(str(value).split(" / ")[0])
    except ValueError:
        return None


def _int(value: object) -> int | None:
    number = _float(value)
    return round(number) if number is not None else None
