"""Subtitle tracks attached to videos (v1.1 subtitles/create|delete, v2 /2/media/subtitles).

A track is a succeeded ``subtitles`` media of the same user. Attaching writes
``pl/subs/<lang>.vtt`` and ``.m3u8`` next to the video's HLS master and rewrites the
master (from the transcoder's pristine copy) to offer every attached track.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors
from app.models import Media, MediaSubtitle
from app.processing.errors import ProcessingError
from app.processing.hls_subtitles import (
    SubtitleTrack,
    cues_to_vtt,
    master_with_subtitles,
    subtitle_playlist,
)
from app.processing.subtitles import parse_subtitles
from app.storage import SegmentStore
from app.storage.base import SupportsLocalPath
from app.uploads import queries
from app.uploads.protocol import MediaKind, UploadState

__all__ = ["SubtitleInfo", "attach_subtitles", "detach_subtitles", "list_subtitles"]

LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True, slots=True)
class SubtitleInfo:
    subtitle_id: int
    language_code: str
    display_name: str


async def _owned(session: AsyncSession, user_id: int, media_id: int, kind: MediaKind) -> Media:
    media = await session.get(Media, media_id, with_for_update=True)
    if media is None or media.owner_id != user_id or media.kind is not kind:
        raise errors.MediaNotFound()
    if media.state is not UploadState.SUCCEEDED:
        raise errors.InvalidMediaIds(f"Media {media_id} is not ready.")
    return media


def _paths(store: SegmentStore, video_id: int) -> tuple[Path, Path]:
    if not isinstance(store, SupportsLocalPath):
        raise errors.MediaNotFound()
    playlists = store.variants_dir(str(video_id)) / "pl"
    return playlists, playlists / "master.m3u8"


async def list_subtitles(session: AsyncSession, video_id: int) -> list[SubtitleInfo]:
    rows = await session.scalars(
        select(MediaSubtitle)
        .where(MediaSubtitle.video_id == video_id)
        .order_by(MediaSubtitle.language_code)
    )
    return [SubtitleInfo(r.subtitle_id, r.language_code, r.display_name) for r in rows]


def _rewrite_master(playlists: Path, master: Path, tracks: list[SubtitleInfo]) -> None:
    if not master.exists():
        return  # no HLS rendition (yet): nothing to offer the tracks in
    pristine = playlists / "master.base.m3u8"
    if not pristine.exists():
        shutil.copyfile(master, pristine)
    text = master_with_subtitles(
        pristine.read_text(),
        [
            SubtitleTrack(t.language_code, t.display_name, f"subs/{t.language_code}.m3u8")
            for t in tracks
        ],
    )
    tmp = master.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(master)


def _write_track(playlists: Path, language: str, subtitle_file: Path, duration_ms: int) -> None:
    cues = parse_subtitles(subtitle_file)
    subs = playlists / "subs"
    subs.mkdir(parents=True, exist_ok=True)
    (subs / f"{language}.vtt").write_text(cues_to_vtt(cues))
    (subs / f"{language}.m3u8").write_text(subtitle_playlist(duration_ms, f"{language}.vtt"))


async def attach_subtitles(
    session: AsyncSession,
    store: SegmentStore,
    *,
    user_id: int,
    video_id: int,
    subtitle_id: int,
    language_code: str,
    display_name: str,
    now: datetime,
) -> list[SubtitleInfo]:
    """Attach (or replace) the ``language_code`` track of a video; before or after
    posting. Returns the video's tracks."""
    if not LANGUAGE.match(language_code):
        raise errors.BadParameter("language_code must be a BCP47 language code.")
    language = language_code.lower()
    video = await _owned(session, user_id, video_id, MediaKind.VIDEO)
    subtitle = await _owned(session, user_id, subtitle_id, MediaKind.SUBTITLES)
    playlists, master = _paths(store, video.id)
    assert isinstance(store, SupportsLocalPath)
    try:
        await asyncio.to_thread(
            _write_track,
            playlists,
            language,
            store.blob_path(str(subtitle.id)),
            video.duration_ms or 0,
        )
    except ProcessingError as exc:
        raise errors.BadParameter(f"Invalid subtitle file: {exc.message}") from exc
    row = await session.get(MediaSubtitle, (video.id, language))
    if row is None:
        session.add(
            MediaSubtitle(
                video_id=video.id, language_code=language, subtitle_id=subtitle.id,
                display_name=display_name or language,
            )
        )  # fmt: skip
    else:
        row.subtitle_id, row.display_name = subtitle.id, display_name or language
    queries.mark_used(subtitle)
    await session.flush()
    tracks = await list_subtitles(session, video.id)
    await asyncio.to_thread(_rewrite_master, playlists, master, tracks)
    await session.commit()
    return tracks


async def detach_subtitles(
    session: AsyncSession, store: SegmentStore, *, user_id: int, video_id: int, language_code: str
) -> None:
    video = await _owned(session, user_id, video_id, MediaKind.VIDEO)
    row = await session.get(MediaSubtitle, (video.id, language_code.lower()))
    if row is None:
        raise errors.MediaNotFound()
    await session.delete(row)
    await session.flush()
    playlists, master = _paths(store, video.id)
    tracks = await list_subtitles(session, video.id)

    def remove() -> None:
        for suffix in (".vtt", ".m3u8"):
            (playlists / "subs" / f"{row.language_code}{suffix}").unlink(missing_ok=True)
        _rewrite_master(playlists, master, tracks)

    await asyncio.to_thread(remove)
    await session.commit()
