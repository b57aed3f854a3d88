"""What the Producer hands the wire: views of sources and broadcasts (with the viewers
counted, whether video arrives, the recording as media) and what the live playlist route
needs. Reads only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.live.rules import ACTIVE
from app.models import LiveBroadcast, LiveSource, LiveViewer, Media, MediaVariant, VariantKind

__all__ = [
    "BroadcastView",
    "PlaybackTarget",
    "Replay",
    "SourceView",
    "active_sources",
    "bound_broadcasts",
    "broadcast_views",
    "playback_target",
    "replays_of",
    "source_view",
    "viewer_counts",
]


@dataclass(frozen=True, slots=True)
class SourceView:
    id: str
    user_id: int
    name: str
    type: str
    region: str
    stream_key: str
    external_hls_url: str | None
    srt_port: int | None
    is_stream_active: bool
    stream_attributes: dict[str, Any] | None
    compatibility_info: dict[str, Any] | None
    broadcast_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Replay:
    """The recording as library media: its key, state and, once processed, where its
    HLS playlist and largest MP4 are (paths under the media's delivery token)."""

    media_id: int
    media_key: str
    state: str
    duration_ms: int | None
    delivery_token: str | None
    hls_path: str | None
    mp4_path: str | None


@dataclass(frozen=True, slots=True)
class BroadcastView:
    id: str
    media_number: int
    user_id: int
    source_id: str | None
    state: str
    title: str
    tags: list[str]
    region: str
    chat_option: int
    no_hearts: bool
    is_low_latency: bool
    locale: str | None
    preview_token: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    width: int | None
    height: int | None
    total_watching: int
    total_watched: int
    is_stream_active: bool
    recording_state: str
    media_id: int | None
    replay: Replay | None = None


async def bound_broadcasts(session: AsyncSession, source_ids: Sequence[str]) -> dict[str, str]:
    if not source_ids:
        return {}
    rows = await session.execute(
        select(LiveBroadcast.source_id, LiveBroadcast.id).where(
            LiveBroadcast.source_id.in_(source_ids), LiveBroadcast.state.in_(ACTIVE)
        )
    )
    return {source_id: broadcast_id for source_id, broadcast_id in rows if source_id}


def source_view(row: LiveSource, broadcast_id: str | None) -> SourceView:
    return SourceView(
        id=row.id, user_id=row.user_id, name=row.name, type=row.type, region=row.region,
        stream_key=row.stream_key, external_hls_url=row.external_hls_url, srt_port=row.srt_port,
        is_stream_active=row.is_stream_active, stream_attributes=row.stream_attributes,
        compatibility_info=row.compatibility_info, broadcast_id=broadcast_id,
        created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


async def viewer_counts(
    session: AsyncSession, broadcast_ids: Sequence[str], now: datetime, window: float
) -> dict[str, int]:
    if not broadcast_ids:
        return {}
    rows = await session.execute(
        select(LiveViewer.broadcast_id, func.count())
        .where(
            LiveViewer.broadcast_id.in_(broadcast_ids),
            LiveViewer.last_seen >= now - timedelta(seconds=window),
        )
        .group_by(LiveViewer.broadcast_id)
    )
    return {broadcast_id: int(count) for broadcast_id, count in rows}


async def active_sources(session: AsyncSession, source_ids: Sequence[str | None]) -> set[str]:
    wanted = [s for s in source_ids if s]
    if not wanted:
        return set()
    rows = await session.scalars(
        select(LiveSource.id).where(LiveSource.id.in_(wanted), LiveSource.is_stream_active)
    )
    return set(rows)


async def replays_of(session: AsyncSession, media_ids: Sequence[int | None]) -> dict[int, Replay]:
    wanted = [m for m in media_ids if m is not None]
    if not wanted:
        return {}
    media = {m.id: m for m in await session.scalars(select(Media).where(Media.id.in_(wanted)))}
    paths: dict[int, dict[str, str]] = {}
    rows = await session.scalars(select(MediaVariant).where(MediaVariant.media_id.in_(wanted)))
    best: dict[int, int] = {}
    for variant in rows:
        found = paths.setdefault(variant.media_id, {})
        if (variant.kind is VariantKind.HLS and variant.name == "master") or (
            variant.kind is VariantKind.HLS and "hls" not in found
        ):
            found["hls"] = variant.path
        elif variant.kind is VariantKind.MP4 and (variant.bitrate or 0) >= best.get(
            variant.media_id, -1
        ):
            best[variant.media_id] = variant.bitrate or 0
            found["mp4"] = f"{variant.name}.mp4"
    return {
        m.id: Replay(
            media_id=m.id,
            media_key=m.media_key,
            state=m.state.value,
            duration_ms=m.duration_ms,
            delivery_token=m.delivery_token,
            hls_path=paths.get(m.id, {}).get("hls"),
            mp4_path=paths.get(m.id, {}).get("mp4"),
        )
        for m in media.values()
    }


async def broadcast_views(
    session: AsyncSession, rows: Sequence[LiveBroadcast], *, now: datetime, window: float
) -> list[BroadcastView]:
    watching = await viewer_counts(
        session, [r.id for r in rows if r.state == "RUNNING"], now, window
    )
    active = await active_sources(session, [r.source_id for r in rows])
    replays = await replays_of(session, [r.media_id for r in rows])
    return [
        BroadcastView(
            id=r.id,
            media_number=r.media_number,
            user_id=r.user_id,
            source_id=r.source_id,
            state=r.state,
            title=r.title,
            tags=list(r.tags or []),
            region=r.region,
            chat_option=r.chat_option,
            no_hearts=r.no_hearts,
            is_low_latency=r.is_low_latency,
            locale=r.locale,
            preview_token=r.preview_token,
            created_at=r.created_at,
            updated_at=r.updated_at,
            started_at=r.started_at,
            ended_at=r.ended_at,
            width=r.width,
            height=r.height,
            total_watching=watching.get(r.id, 0),
            total_watched=r.total_watched,
            is_stream_active=r.source_id in active and r.state in ACTIVE,
            recording_state=r.recording_state,
            media_id=r.media_id,
            replay=None if r.media_id is None else replays.get(r.media_id),
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class PlaybackTarget:
    """What the live playlist route needs: who may watch, and where nginx writes."""

    broadcast_id: str
    state: str
    title: str
    preview_token: str
    live_name: str | None
    mode: str  # low | high: the HLS application whose fragments this broadcast plays


async def playback_target(session: AsyncSession, broadcast_id: str) -> PlaybackTarget | None:
    row = (
        await session.execute(
            select(LiveBroadcast, LiveSource.live_name)
            .outerjoin(LiveSource, LiveSource.id == LiveBroadcast.source_id)
            .where(LiveBroadcast.id == broadcast_id)
        )
    ).first()
    if row is None:
        return None
    broadcast, live_name = row
    return PlaybackTarget(
        broadcast_id=broadcast.id,
        state=broadcast.state,
        title=broadcast.title,
        preview_token=broadcast.preview_token,
        live_name=live_name,
        mode="low" if broadcast.is_low_latency else "high",
    )
