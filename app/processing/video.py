"""Video and animated-GIF transcoding with the bundled ffmpeg.

``transcode`` decodes the source once and encodes every rung of the ladder in the same
ffmpeg run (H.264 yuv420p + AAC-LC, ``+faststart``, container metadata such as GPS
stripped, keyframes every 2 s so renditions switch cleanly), then remuxes the mp4s into
HLS without re-encoding and grabs a preview frame. Layout written into the scratch
folder ``work.dir``::

    preview.jpg
    vid/<W>x<H>.mp4                  one per rendition
    pl/master.m3u8                   HLS master playlist
    pl/<W>x<H>/index.m3u8            VOD media playlist + seg-00000.ts ...

``gif_to_mp4`` writes ``tweet_video.mp4`` (silent) and ``preview.jpg`` into ``out_dir``.
Both write into an empty scratch folder (``app.storage.Scratch``) and never publish:
their caller publishes the folder once everything succeeded, and on a failure the
scratch folder, partial outputs included, is removed by its owner.
"""

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.processing.errors import InternalError
from app.processing.failures import INVALID_FILE, INVALID_VIDEO, ffmpeg_failure
from app.processing.ffmpeg import FFmpegFailed, run_ffmpeg
from app.processing.probe import ImageProbe, MediaProbe
from app.processing.variants import (
    VIDEO_LADDER,
    Orientation,
    RenditionPlan,
    VideoRung,
    plan_renditions,
)
from app.storage import Scratch

__all__ = [
    "GifOutputs",
    "ProgressCallback",
    "Rendition",
    "VideoOutputs",
    "aspect_ratio",
    "gif_to_mp4",
    "transcode",
]

ProgressCallback = Callable[[int], Awaitable[None]]

_KEYFRAME_SECONDS = 2
_ENCODE_SHARE = 90  # percent of the progress bar spent in the main encode


@dataclass(frozen=True, slots=True)
class Rendition:
    width: int
    height: int
    video_bitrate: int
    audio_bitrate: int  # 0 for silent sources
    path: Path  # the progressive mp4
    playlist: Path  # its HLS media playlist

    @property
    def bitrate(self) -> int:
        """Total nominal bits per second, as in ``video_info.variants[].bitrate``."""
        return self.video_bitrate + self.audio_bitrate


@dataclass(frozen=True, slots=True)
class VideoOutputs:
    renditions: list[Rendition]  # smallest first
    hls_master: Path
    preview: Path  # JPEG at the largest rendition's size
    width: int  # displayed source size
    height: int
    duration_ms: int
    aspect_ratio: tuple[int, int]  # reduced, e.g. (16, 9)


@dataclass(frozen=True, slots=True)
class GifOutputs:
    mp4: Path
    preview: Path
    width: int
    height: int
    aspect_ratio: tuple[int, int]


def aspect_ratio(width: int, height: int) -> tuple[int, int]:
    divisor = math.gcd(width, height)
    return width // divisor, height // divisor


async def transcode(
    src: Path,
    work: Scratch,
    probe: MediaProbe,
    *,
    on_progress: ProgressCallback | None = None,
    threads: int = 2,
    preset: str = "veryfast",
    ladder: Mapping[Orientation, tuple[VideoRung, ...]] = VIDEO_LADDER,
    segment_seconds: int = 4,
) -> VideoOutputs:
    """Produce the renditions, HLS playlists and preview of an already-checked video.

    ``on_progress`` receives rising percentages 0..100 (100 once every output is made).
    ``threads`` caps ffmpeg's decoder, filter and each encoder's thread count.
    Raises ``InvalidMedia`` when ffmpeg cannot decode ``src`` or logs that it is broken
    (truncated, corrupt), ``InternalError`` when the machine failed or a later step did.
    """
    plans = plan_renditions(probe.width, probe.height, ladder)
    progress = _Progress(on_progress)
    await progress.report(0)
    out_dir = work.dir
    work.subdir("vid")
    encode = _encode_args(src, out_dir, plans, probe, threads=threads, preset=preset)

    async def on_time(ms: int) -> None:
        await progress.report(ms * _ENCODE_SHARE // max(probe.duration_ms, 1))

    await _run(encode, on_time=on_time, reads_input=INVALID_VIDEO)
    work.subdir("pl")
    await _run(_hls_args(out_dir, plans, probe.has_audio, segment_seconds))
    await progress.report(_ENCODE_SHARE + 5)
    top = out_dir / "vid" / f"{plans[-1].name}.mp4"
    await _run(_preview_args(top, out_dir / "preview.jpg", probe.duration_ms))
    await progress.report(100)
    return VideoOutputs(
        renditions=[_rendition(out_dir, plan, probe.has_audio) for plan in plans],
        hls_master=out_dir / "pl" / "master.m3u8",
        preview=out_dir / "preview.jpg",
        width=probe.width,
        height=probe.height,
        duration_ms=probe.duration_ms,
        aspect_ratio=aspect_ratio(probe.width, probe.height),
    )


async def gif_to_mp4(
    src: Path, out_dir: Path, gif: ImageProbe, *, threads: int = 2, preset: str = "veryfast"
) -> GifOutputs:
    """Convert an animated GIF (already checked with ``rules.check_gif``) to a silent
    H.264 mp4, its size rounded down to even numbers, plus a preview JPEG of the first
    frame. Raises ``InvalidMedia`` when ffmpeg cannot decode the GIF or logs that it is
    broken (a truncated GIF is logged yet converted)."""
    width, height = max(2, gif.width // 2 * 2), max(2, gif.height // 2 * 2)
    mp4, preview = out_dir / "tweet_video.mp4", out_dir / "preview.jpg"
    args = ["-threads", str(threads), "-i", str(src), "-map", "0:v:0", "-an"]
    args += ["-vf", f"scale={width}:{height},setsar=1,format=yuv420p"]
    args += [*_h264_args(preset, threads), "-map_metadata", "-1", str(mp4)]
    await _run(args, reads_input=INVALID_FILE)
    await _run(_preview_args(mp4, preview, 0))
    return GifOutputs(
        mp4=mp4,
        preview=preview,
        width=width,
        height=height,
        aspect_ratio=aspect_ratio(width, height),
    )


class _Progress:
    """Forwards only rising values, clamped to 0..100."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._last = -1

    async def report(self, percent: int) -> None:
        percent = max(0, min(100, percent))
        if self._callback is not None and percent > self._last:
            self._last = percent
            await self._callback(percent)


async def _run(
    args: Sequence[str],
    *,
    on_time: Callable[[int], Awaitable[None]] | None = None,
    reads_input: str | None = None,
) -> None:
    """Run ffmpeg; raise what ``failures.ffmpeg_failure`` makes of its exit and log.
    ``reads_input``: this run decodes the upload (its errors may be the file's fault),
    and the ``InvalidMedia`` message if they are."""
    decodes, message = reads_input is not None, reads_input or INVALID_VIDEO
    try:
        stderr = await run_ffmpeg(args, on_time=on_time)
    except FFmpegFailed as exc:
        failure = ffmpeg_failure(exc.returncode, exc.stderr, reads_input=decodes, message=message)
        # ffmpeg's own words (paths included) stay in the chained exception, for logs.
        raise (failure or InternalError()) from exc
    failure = ffmpeg_failure(0, stderr, reads_input=decodes, message=message)
    if failure is not None:
        raise failure from RuntimeError(f"ffmpeg logged: {stderr}")


def _h264_args(preset: str, threads: int) -> list[str]:
    return [
        "-c:v", "libx264", "-preset", preset, "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-threads", str(threads), "-movflags", "+faststart",
    ]  # fmt: skip


def _encode_args(
    src: Path,
    work: Path,
    plans: list[RenditionPlan],
    probe: MediaProbe,
    *,
    threads: int,
    preset: str,
) -> list[str]:
    """One decode, ``split`` into one scaler per rendition, one encoder per output."""
    labels = [f"s{i}" for i in range(len(plans))]
    graph = [f"[0:v:0]split={len(plans)}" + "".join(f"[{label}]" for label in labels)]
    for i, plan in enumerate(plans):
        graph.append(f"[{labels[i]}]scale={plan.width}:{plan.height},setsar=1,format=yuv420p[v{i}]")
    args = ["-threads", str(threads), "-i", str(src), "-filter_complex", ";".join(graph)]
    args += ["-filter_complex_threads", str(threads)]
    keyframes = f"expr:gte(t,n_forced*{_KEYFRAME_SECONDS})"
    for i, plan in enumerate(plans):
        rate = plan.video_bitrate
        args += ["-map", f"[v{i}]", *_h264_args(preset, threads)]
        args += ["-b:v", str(rate), "-maxrate", str(rate), "-bufsize", str(2 * rate)]
        args += ["-force_key_frames", keyframes, "-sc_threshold", "0"]
        if probe.has_audio:
            channels = str(min(probe.audio_channels or 2, 2))
            args += ["-map", "0:a:0", "-c:a", "aac", "-b:a", str(plan.audio_bitrate)]
            args += ["-ac", channels]
        args += ["-map_metadata", "-1", "-map_chapters", "-1"]
        args.append(str(work / "vid" / f"{plan.name}.mp4"))
    return args


def _hls_args(work: Path, plans: list[RenditionPlan], has_audio: bool, seconds: int) -> list[str]:
    """Remux (``-c copy``) every mp4 into its own VOD media playlist plus a master."""
    args: list[str] = []
    streams: list[str] = []
    for plan in plans:
        args += ["-i", str(work / "vid" / f"{plan.name}.mp4")]
    for i, plan in enumerate(plans):
        args += ["-map", f"{i}:v:0"] + (["-map", f"{i}:a:0"] if has_audio else [])
        streams.append(f"v:{i}" + (f",a:{i}" if has_audio else "") + f",name:{plan.name}")
    pl = work / "pl"
    args += ["-c", "copy", "-f", "hls", "-hls_time", str(seconds)]
    args += ["-hls_playlist_type", "vod", "-hls_segment_type", "mpegts"]
    args += ["-hls_segment_filename", str(pl / "%v" / "seg-%05d.ts")]
    args += ["-master_pl_name", "master.m3u8", "-var_stream_map", " ".join(streams)]
    return [*args, str(pl / "%v" / "index.m3u8")]


def _preview_args(video: Path, preview: Path, duration_ms: int) -> list[str]:
    # A frame a little way in: first frames are often black fade-ins.
    offset_ms = min(duration_ms // 4, 1000)
    return ["-ss", f"{offset_ms / 1000:.3f}", "-i", str(video), "-frames:v", "1",
            "-q:v", "3", "-map_metadata", "-1", str(preview)]  # fmt: skip


def _rendition(out_dir: Path, plan: RenditionPlan, has_audio: bool) -> Rendition:
    return Rendition(
        width=plan.width,
        height=plan.height,
        video_bitrate=plan.video_bitrate,
        audio_bitrate=plan.audio_bitrate if has_audio else 0,
        path=out_dir / "vid" / f"{plan.name}.mp4",
        playlist=out_dir / "pl" / plan.name / "index.m3u8",
    )
