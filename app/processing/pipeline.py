"""The processing pipeline of one media: validate it by kind and category, then build
its variants. No database and no storage keys here: ``run`` reads a local copy of the
assembled file, writes its outputs into a scratch folder and returns what the caller
records; the caller publishes the folder as the media's variants.

Outputs (relative to the scratch folder, later to the media's variants prefix)::

    photo:        thumb.<ext> small.<ext> medium.<ext> large.<ext> orig.<ext>
    video:        vid/<W>x<H>.mp4 ...  pl/master.m3u8  pl/<W>x<H>/...  preview.jpg
    animated GIF: tweet_video.mp4  preview.jpg
    subtitles:    nothing (validated only)

Work is bounded per process: ffmpeg gets ``ffmpeg_threads`` threads, and semaphores cap
concurrent transcodes and photo builds. A failed run publishes nothing, and the
scratch folder with its partial outputs is removed by its owner.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from app.models import VariantKind
from app.processing import images, rules, subtitles, video
from app.processing import probe as probing
from app.storage import Scratch
from app.uploads.policy import ProcessingOptions
from app.uploads.protocol import MediaKind

__all__ = ["PipelineResult", "VariantFile", "run"]

ProgressCallback = Callable[[int], Awaitable[None]]

_Row = tuple[VariantKind, str, Path, str, int | None, int | None, int | None]
_IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True, slots=True)
class VariantFile:
    kind: VariantKind
    name: str
    path: str  # relative to the scratch folder and the variants prefix, "/"-separated
    content_type: str
    width: int | None
    height: int | None
    bitrate: int | None
    size: int


@dataclass(frozen=True, slots=True)
class PipelineResult:
    width: int | None  # displayed size of the source (after EXIF or container rotation)
    height: int | None
    duration_ms: int | None
    variants: list[VariantFile]


def _slot(name: str, limit: int) -> asyncio.Semaphore:
    """One semaphore per event loop and name: the bound holds for the whole process."""
    per_loop = _slots.setdefault(asyncio.get_running_loop(), {})
    if name not in per_loop:
        per_loop[name] = asyncio.Semaphore(limit)
    return per_loop[name]


async def run(
    kind: MediaKind,
    category: str | None,
    src: Path,
    work: Scratch,
    options: ProcessingOptions,
    *,
    on_progress: ProgressCallback | None = None,
) -> PipelineResult:
    """Validate ``src`` and write its variants into ``work.dir`` (empty at first).

    Raises ``InvalidMedia``/``UnsupportedMedia`` for files that break a rule (permanent),
    ``InternalError`` or other exceptions for failures worth a retry.
    """
    if kind is MediaKind.VIDEO:
        return await _video(category, src, work, options, on_progress)
    if kind is MediaKind.GIF:
        return await _gif(src, work, options)
    if kind is MediaKind.IMAGE:
        return await _photo(src, work.dir, options)
    await asyncio.to_thread(subtitles.parse_subtitles, src)
    return PipelineResult(width=None, height=None, duration_ms=None, variants=[])


async def _video(
    category: str | None,
    src: Path,
    work: Scratch,
    options: ProcessingOptions,
    on_progress: ProgressCallback | None,
) -> PipelineResult:
    facts = await probing.probe(src)
    rules.check_video(facts, rules.VIDEO_RULES.get(category or "", rules.TWEET_VIDEO))
    async with _slot("transcode", options.max_transcodes):
        out = await video.transcode(
            src,
            work,
            facts,
            on_progress=on_progress,
            threads=options.ffmpeg_threads,
            preset=options.ffmpeg_preset,
        )
    top = out.renditions[-1]
    files: list[_Row] = [
        (
            VariantKind.MP4,
            f"{r.width}x{r.height}",
            r.path,
            "video/mp4",
            r.width,
            r.height,
            r.bitrate,
        )
        for r in out.renditions
    ]
    files.append(
        (VariantKind.HLS, "master", out.hls_master, "application/x-mpegURL", None, None, None)
    )
    files.append(
        (VariantKind.PREVIEW, "preview", out.preview, "image/jpeg", top.width, top.height, None)
    )
    return PipelineResult(
        width=out.width,
        height=out.height,
        duration_ms=out.duration_ms,
        variants=await _describe(work.dir, files),
    )


async def _gif(src: Path, work: Scratch, options: ProcessingOptions) -> PipelineResult:
    gif = await images.inspect_image(src)
    rules.check_gif(gif)
    async with _slot("transcode", options.max_transcodes):
        out = await video.gif_to_mp4(
            src, work.dir, gif, threads=options.ffmpeg_threads, preset=options.ffmpeg_preset
        )
    name = f"{out.width}x{out.height}"
    files: list[_Row] = [
        (VariantKind.MP4, name, out.mp4, "video/mp4", out.width, out.height, 0),
        (VariantKind.PREVIEW, "preview", out.preview, "image/jpeg", out.width, out.height, None),
    ]
    return PipelineResult(
        width=gif.width,
        height=gif.height,
        duration_ms=None,
        variants=await _describe(work.dir, files),
    )


async def _photo(src: Path, out_dir: Path, options: ProcessingOptions) -> PipelineResult:
    async with _slot("image", options.max_image_jobs):
        made = await images.build_photo_variants(src, out_dir)
    files: list[_Row] = [
        (VariantKind.PHOTO, v.name, v.path, _IMAGE_TYPES[v.format], v.width, v.height, None)
        for v in made
    ]
    orig = next(v for v in made if v.name == "orig")
    return PipelineResult(
        width=orig.width,
        height=orig.height,
        duration_ms=None,
        variants=await _describe(out_dir, files),
    )


async def _describe(out_dir: Path, files: list[_Row]) -> list[VariantFile]:
    def describe() -> list[VariantFile]:
        return [
            VariantFile(
                kind=kind,
                name=name,
                path=path.relative_to(out_dir).as_posix(),
                content_type=content_type,
                width=width,
                height=height,
                bitrate=bitrate,
                size=path.stat().st_size,
            )
            for kind, name, path, content_type, width, height, bitrate in files
        ]

    return await asyncio.to_thread(describe)
