"""Subtitle tracks attached to videos (v1.1 subtitles/create|delete, v2 /2/media/subtitles).

A track is a succeeded ``subtitles`` media of the same user. Attaching stores
``pl/subs/<lang>.vtt`` and ``.m3u8`` among the video's variants, next to its HLS master,
and rewrites the master (from the transcoder's pristine copy, kept as
``pl/master.base.m3u8``) to offer every attached track. Every file goes through
``ObjectStore.put``; the subtitle file is parsed from a scratch copy.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime

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
from app.storage import ObjectStore, StorageNotFound, keys
from app.uploads import queries
from app.uploads.protocol import MediaKind, UploadState

__all__ = ["SubtitleInfo", "attach_subtitles", "detach_subtitles", "list_subtitles"]

LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_MASTER = "pl/master.m3u8"
_PRISTINE = "pl/master.base.m3u8"


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


async def list_subtitles(session: AsyncSession, video_id: int) -> list[SubtitleInfo]:
    rows = await session.scalars(
        select(MediaSubtitle)
        .where(MediaSubtitle.video_id == video_id)
        .order_by(MediaSubtitle.language_code)
    )
    return [SubtitleInfo(r.subtitle_id, r.language_code, r.display_name) for r in rows]


async def _text(store: ObjectStore, key: str) -> str | None:
    try:
        return b"".join([chunk async for chunk in store.read(key)]).decode()
    except StorageNotFound:
        return None


async def _rewrite_master(store: ObjectStore, video_id: int, tracks: list[SubtitleInfo]) -> None:
    master = keys.variant(video_id, _MASTER)
    pristine = keys.variant(video_id, _PRISTINE)
    base = await _text(store, pristine)
    if base is None:
        base = await _text(store, master)
        if base is None:
            return  # no HLS rendition (yet): nothing to offer the tracks in
        await store.put(pristine, base.encode())
    text = master_with_subtitles(
        base,
        [
            SubtitleTrack(t.language_code, t.display_name, f"subs/{t.language_code}.m3u8")
            for t in tracks
        ],
    )
    await store.put(master, text.encode())


def _track_keys(video_id: int, language: str) -> tuple[str, str]:
    return (
        keys.variant(video_id, f"pl/subs/{language}.vtt"),
        keys.variant(video_id, f"pl/subs/{language}.m3u8"),
    )


async def _write_track(
    store: ObjectStore, video_id: int, subtitle_id: int, language: str, duration_ms: int
) -> None:
    async with store.scratch() as work:
        try:
            source = await work.local_copy(keys.media(subtitle_id))
        except StorageNotFound:
            raise errors.MediaNotFound() from None
        cues = await asyncio.to_thread(parse_subtitles, source)
    vtt, playlist = _track_keys(video_id, language)
    await store.put(vtt, cues_to_vtt(cues).encode())
    await store.put(playlist, subtitle_playlist(duration_ms, f"{language}.vtt").encode())


async def attach_subtitles(
    session: AsyncSession,
    store: ObjectStore,
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
    try:
        await _write_track(store, video.id, subtitle.id, language, video.duration_ms or 0)
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
    await _rewrite_master(store, video.id, tracks)
    await session.commit()
    return tracks


async def detach_subtitles(
    session: AsyncSession, store: ObjectStore, *, user_id: int, video_id: int, language_code: str
) -> None:
    video = await _owned(session, user_id, video_id, MediaKind.VIDEO)
    row = await session.get(MediaSubtitle, (video.id, language_code.lower()))
    if row is None:
        raise errors.MediaNotFound()
    await session.delete(row)
    await session.flush()
    tracks = await list_subtitles(session, video.id)
    for key in _track_keys(video.id, row.language_code):
        await store.delete(key)
    await _rewrite_master(store, video.id, tracks)
    await session.commit()
