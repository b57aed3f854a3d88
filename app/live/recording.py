"""The ``live_recording`` job: a broadcast's recordings (one FLV per encoder connection,
in order) joined and remuxed to one MP4, which enters the owner's media through the
upload protocol itself (INIT, APPEND in 5 MiB segments, FINALIZE: the normal pipeline
makes its variants, HLS and preview image) and the library of every studio account the
owner has. The broadcast links it (``media_id``); the FLVs are removed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from imageio_ffmpeg import get_ffmpeg_exe
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import get_settings
from app.core.clock import utcnow
from app.core.ids import IdGenerator
from app.infra.statements import Statements
from app.jobs.queue import ClaimedJob
from app.jobs.registry import JobDeps
from app.models import LiveBroadcast, Media
from app.storage.live import LiveFiles
from app.studio import library
from app.uploads import append, service
from app.uploads.limits import SEGMENT_BYTES
from app.uploads.protocol import MediaCategory

__all__ = ["RecordingFailed", "give_up", "live_files", "run_job"]

log = logging.getLogger(__name__)
_READ = 1024 * 1024
_MIN_PART = 1024


class RecordingFailed(Exception):
    """Retrying cannot help (the runner fails the job at once; ``give_up`` marks it)."""

    permanent = True


def live_files() -> LiveFiles:
    return LiveFiles.of(get_settings().data_dir)


async def _remux(paths: list[Path], out: Path) -> None:
    # Absolute ``file:`` URLs: the list arrives on a pipe, not in the recordings folder.
    listing = "".join(f"file 'file:{p.resolve().as_posix()}'\n" for p in paths).encode()
    process = await asyncio.create_subprocess_exec(
        get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "concat", "-safe", "0", "-protocol_whitelist", "file,pipe", "-i", "pipe:0",
        # Video copied; audio re-encoded onto one continuous timeline (each recording
        # starts its audio a little off its video, which would overlap at the joins).
        "-map", "0:v:0?", "-map", "0:a:0?", "-c:v", "copy", "-af", "aresample=async=1000",
        "-c:a", "aac", "-b:a", "128k", "-avoid_negative_ts", "make_zero",
        "-movflags", "+faststart", str(out),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate(listing)
    if process.returncode != 0:
        raise RecordingFailed(f"remux failed: {err.decode(errors='replace')[-300:]}")


async def _chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        source.seek(start)
        left = length
        while left > 0:
            piece = await asyncio.to_thread(source.read, min(_READ, left))
            if not piece:
                return
            left -= len(piece)
            yield piece


async def _upload(deps: JobDeps, owner_id: int, path: Path) -> int:
    engine: AsyncEngine = deps.sessions.kw["bind"]
    statements = Statements(engine)
    ids = IdGenerator()
    size = (await asyncio.to_thread(path.stat)).st_size
    try:
        view = await service.init_upload(
            statements, ids, deps.policy, owner_id=owner_id, total_bytes=size,
            media_type="video/mp4", category=MediaCategory.LIVE_VIDEO,
            additional_owners=[], shared=False, now=utcnow(),
        )  # fmt: skip
        for index, start in enumerate(range(0, size, SEGMENT_BYTES)):
            await append.append_segment(
                statements, deps.store, deps.policy, owner_id=owner_id,
                media_id=view.media_id, index=index,
                chunks=_chunks(path, start, min(SEGMENT_BYTES, size - start)),
                expected_sha256=None, now=utcnow(),
            )  # fmt: skip
    finally:
        await statements.close()
    await service.finalize_upload(
        deps.sessions, deps.store, deps.policy, owner_id=owner_id, media_id=view.media_id,
        now=utcnow(),
    )  # fmt: skip
    return view.media_id


async def run_job(deps: JobDeps, job: ClaimedJob) -> None:
    payload = job.payload
    broadcast_id, owner_id = str(payload["broadcast_id"]), int(payload["user_id"])
    files = live_files()
    found = [files.recording(str(name)) for name in payload.get("files", [])]
    # A connection that sent (almost) nothing leaves a file of headers only: not a part.
    paths = [p for p in found if p is not None and p.stat().st_size >= _MIN_PART]
    if not paths:
        raise RecordingFailed("the broadcast's recordings are gone")
    async with deps.store.scratch() as scratch:
        out = scratch.dir / "recording.mp4"
        await _remux(paths, out)
        if (await asyncio.to_thread(out.stat)).st_size > deps.policy.limits.live_video:
            raise RecordingFailed("the recording is larger than the largest video")
        media_id = await _upload(deps, owner_id, out)
    async with deps.sessions() as session:
        media = await session.get(Media, media_id)
        if media is not None:
            await library.add_recording_in_transaction(
                session, IdGenerator(), owner_id=owner_id, media=media,
                title=str(payload.get("title") or ""), now=utcnow(),
            )  # fmt: skip
        await session.execute(
            update(LiveBroadcast)
            .where(LiveBroadcast.id == broadcast_id)
            .values(media_id=media_id, recording_state="ready", recording_error=None)
        )
        await session.commit()
    for path in found:
        if path is not None:
            files.remove_recording(path.name)
    log.info("broadcast %s recorded as media %s", broadcast_id, media_id)


async def give_up(deps: JobDeps, job: ClaimedJob) -> None:
    """The last attempt failed: the broadcast says so (the FLVs stay for an operator)."""
    async with deps.sessions() as session:
        await session.execute(
            update(LiveBroadcast)
            .where(LiveBroadcast.id == str(job.payload.get("broadcast_id")))
            .values(recording_state="failed", recording_error="the recording could not be made")
        )
        await session.commit()
