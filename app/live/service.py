"""Sources and broadcasts: creating, listing, changing, publishing, ending, deleting
(producer-api.md §8), each for whoever ``app.live.access`` lets act; answered as the views
of ``app.live.views``. Every function commits before it returns."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import IdGenerator
from app.live import hooks, rules
from app.live.access import act_for, may, may_act_on
from app.live.errors import LiveConflict, LiveInvalid, LiveNotFound, from_rule
from app.live.rules import ACTIVE, BroadcastState, LiveRuleError, SourceType
from app.live.views import BroadcastView, SourceView, bound_broadcasts, broadcast_views, source_view
from app.models import LiveBroadcast, LiveIngest, LiveSource
from app.storage.live import LiveFiles

__all__ = [
    "StateChange",
    "create_broadcast",
    "create_source",
    "delete_broadcast",
    "delete_source",
    "get_broadcast",
    "get_source",
    "list_broadcasts",
    "list_own_broadcasts",
    "lookup_broadcasts",
    "rename_source",
    "rotate_key",
    "set_state",
]


# --- sources --------------------------------------------------------------------------


async def _source_row(session: AsyncSession, source_id: str) -> LiveSource:
    row = await session.get(LiveSource, source_id) if source_id.isdigit() else None
    if row is None:
        if await session.scalar(select(LiveSource.id).where(LiveSource.stream_key == source_id)):
            raise LiveInvalid("The `id` value is not a source id.", "id")
        raise LiveNotFound("source", source_id)
    return row


async def _visible_source(
    session: AsyncSession, *, caller: int, source_id: str, owner_id: int | None, write: bool
) -> LiveSource:
    row = await _source_row(session, source_id)
    await may_act_on(
        session, ("source", source_id), row.user_id, caller=caller, owner_id=owner_id, write=write
    )
    return row


async def create_source(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    caller: int,
    owner_id: int,
    body: dict[str, Any],
    allowed_fields: Sequence[str],
    now: datetime,
    srt_ports: tuple[int, int] | None = None,
) -> SourceView:
    await act_for(session, caller=caller, owner_id=owner_id, write=True)
    try:
        extra = rules.unknown_fields(list(body), allowed_fields)
        if extra:
            raise LiveRuleError("invalid", f"{extra[0]} is not a field of a source.", extra[0])
        name = rules.check_name(body.get("name"))
        region = rules.check_region(body.get("region"))
        kind = body.get("type", SourceType.RTMP.value)
        if kind not in (SourceType.RTMP.value, SourceType.HLS.value):
            raise LiveRuleError("invalid", "type must be rtmp or hls.", "type")
        url = None
        if kind == SourceType.HLS.value:
            url = rules.check_hls_url(body.get("external_hls_url"))
        elif body.get("external_hls_url") is not None:
            raise LiveRuleError(
                "invalid", "external_hls_url is only for type hls.", "external_hls_url"
            )
    except LiveRuleError as bad:
        raise from_rule(bad) from None
    for _ in range(5):
        port = None
        if srt_ports is not None and kind == SourceType.RTMP.value:
            port = await _free_srt_port(session, srt_ports)
        row = LiveSource(
            id=str(ids.next_id()), user_id=owner_id, name=name, type=kind, region=region,
            stream_key=rules.stream_key(), live_name=rules.live_name(), external_hls_url=url,
            srt_port=port, is_stream_active=False, created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:  # another source took that SRT port meanwhile
            await session.rollback()
            continue
        return source_view(row, None)
    raise LiveConflict("Sources are being created too fast: try again.")


async def _free_srt_port(session: AsyncSession, ports: tuple[int, int]) -> int | None:
    """The lowest port of the range no source holds; None when all are taken (the
    source is made without SRT)."""
    taken = set(
        await session.scalars(
            select(LiveSource.srt_port).where(LiveSource.srt_port.between(ports[0], ports[1]))
        )
    )
    return next((p for p in range(ports[0], ports[1] + 1) if p not in taken), None)


async def list_sources(session: AsyncSession, *, caller: int, owner_id: int) -> list[SourceView]:
    await act_for(session, caller=caller, owner_id=owner_id, write=False)
    rows = list(
        await session.scalars(
            select(LiveSource)
            .where(LiveSource.user_id == owner_id)
            .order_by(LiveSource.created_at.desc(), LiveSource.id.desc())
        )
    )
    bound = await bound_broadcasts(session, [r.id for r in rows])
    return [source_view(r, bound.get(r.id)) for r in rows]


async def get_source(
    session: AsyncSession, *, caller: int, source_id: str, owner_id: int | None = None,
    write: bool = False,
) -> SourceView:  # fmt: skip
    row = await _visible_source(
        session, caller=caller, source_id=source_id, owner_id=owner_id, write=write
    )
    bound = await bound_broadcasts(session, [row.id])
    return source_view(row, bound.get(row.id))


async def rename_source(
    session: AsyncSession, *, caller: int, source_id: str, owner_id: int | None,
    body: dict[str, Any], now: datetime,
) -> SourceView:  # fmt: skip
    row = await _visible_source(
        session, caller=caller, source_id=source_id, owner_id=owner_id, write=True
    )
    try:
        extra = rules.unknown_fields(list(body), ("name",))
        if extra:
            raise LiveRuleError("invalid", "Only the name of a source can change.", extra[0])
        row.name = rules.check_name(body.get("name"))
    except LiveRuleError as bad:
        raise from_rule(bad) from None
    row.updated_at = now
    view = source_view(row, (await bound_broadcasts(session, [row.id])).get(row.id))
    await session.commit()
    return view


async def rotate_key(
    session: AsyncSession, *, caller: int, source_id: str, now: datetime
) -> tuple[SourceView, str | None]:
    """A new stream key; the old one is refused from now on. Returns the view and the
    internal name of a stream that was live on the old key (the caller drops it)."""
    row = await _visible_source(
        session, caller=caller, source_id=source_id, owner_id=None, write=True
    )
    if row.type != SourceType.RTMP.value:
        raise LiveInvalid("Only an rtmp source has a stream key.", "id")
    row.stream_key = rules.stream_key()
    row.updated_at = now
    live = row.live_name if row.is_stream_active else None
    view = source_view(row, (await bound_broadcasts(session, [row.id])).get(row.id))
    await session.commit()
    return view, live


async def delete_source(
    session: AsyncSession, *, caller: int, source_id: str, owner_id: int | None
) -> str | None:
    """Refused while a broadcast on it is NOT_STARTED or RUNNING (§3.2); broadcasts that
    used it are kept without their ``source_id``. Returns the internal name of a stream
    still arriving (the caller drops it)."""
    row = await _visible_source(
        session, caller=caller, source_id=source_id, owner_id=owner_id, write=True
    )
    if (await bound_broadcasts(session, [row.id])).get(row.id):
        raise LiveInvalid("The source has an active broadcast: end it first.", "id")
    # Its ingests go with it (ON DELETE CASCADE): an ended broadcast still waiting for
    # their recordings would never be queued and its files would be lost.
    if await session.scalar(
        select(LiveIngest.id)
        .join(LiveBroadcast, LiveBroadcast.id == LiveIngest.broadcast_id)
        .where(LiveIngest.source_id == row.id, LiveBroadcast.recording_state == "waiting")
        .limit(1)
    ):
        raise LiveInvalid(
            "The source's last broadcast is still being recorded: try again in a moment.", "id"
        )
    live = row.live_name if row.is_stream_active else None
    await session.delete(row)
    await session.commit()
    return live


# --- broadcasts -----------------------------------------------------------------------


def _flag(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise LiveRuleError("invalid", f"{name} must be true or false.", name)
    return value


def _settings_of(body: dict[str, Any]) -> dict[str, Any]:
    """title, tags, chat_option (or chat_disabled), no_hearts, latency, locale."""
    changes: dict[str, Any] = {}
    if "title" in body and body["title"] is not None:
        changes["title"] = rules.check_title(body["title"])
    if "tags" in body and body["tags"] is not None:
        changes["tags"] = rules.check_tags(body["tags"])
    if body.get("chat_option") is not None:
        changes["chat_option"] = rules.check_chat_option(body["chat_option"])
    disabled = _flag(body, "chat_disabled")
    if disabled is not None:
        if "chat_option" in changes and (changes["chat_option"] == rules.CHAT_DISABLED) != disabled:
            raise LiveRuleError(
                "invalid", "chat_disabled contradicts chat_option.", "chat_disabled"
            )
        changes["chat_option"] = (
            rules.CHAT_DISABLED if disabled else changes.get("chat_option", rules.CHAT_EVERYONE)
        )
    no_hearts = _flag(body, "no_hearts")
    if no_hearts is not None:
        changes["no_hearts"] = no_hearts
    if body.get("locale") is not None:
        changes["locale"] = rules.check_locale(body["locale"])
    return changes


def _latency_of(body: dict[str, Any]) -> bool:
    low = _flag(body, "is_low_latency")
    mode = body.get("latency_mode")
    if mode is not None:
        if mode not in ("low", "high"):
            raise LiveRuleError("invalid", "latency_mode must be low or high.", "latency_mode")
        if low is not None and low != (mode == "low"):
            raise LiveRuleError(
                "invalid", "latency_mode contradicts is_low_latency.", "latency_mode"
            )
        return bool(mode == "low")
    return bool(low)


CREATE_FIELDS = (
    "source_id", "region", "is_low_latency", "latency_mode", "title", "tags", "chat_option",
    "chat_disabled", "no_hearts", "locale",
)  # fmt: skip


async def create_broadcast(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    caller: int,
    owner_id: int,
    body: dict[str, Any],
    now: datetime,
    viewer_window: float,
) -> BroadcastView:
    """NOT_STARTED, bound to the source; allowed before video arrives (the seed's
    create -> preview -> Publish Now; X gen B would 404, a documented difference). One
    active broadcast per source: a second is 409."""
    await act_for(session, caller=caller, owner_id=owner_id, write=True)
    try:
        extra = rules.unknown_fields(list(body), CREATE_FIELDS)
        if extra:
            raise LiveRuleError("invalid", f"{extra[0]} is not a field of a broadcast.", extra[0])
        source_id = body.get("source_id")
        if not isinstance(source_id, str) or not source_id:
            raise LiveRuleError("invalid", "source_id: field is required", "source_id")
        changes = _settings_of(body)
        low = _latency_of(body)
    except LiveRuleError as bad:
        raise from_rule(bad) from None
    source = await session.get(LiveSource, source_id) if source_id.isdigit() else None
    if source is None or source.user_id != owner_id:
        raise LiveNotFound("source", source_id)
    region = body.get("region")
    if region is not None and region != source.region:
        raise LiveInvalid("region must be the source's region.", "region")
    if (await bound_broadcasts(session, [source.id])).get(source.id):
        raise from_rule(
            LiveRuleError("conflict", "Another broadcast is active on this source: end it first.")
        )
    number = ids.next_id()
    row = LiveBroadcast(
        id=rules.broadcast_id(), media_number=number, user_id=owner_id, source_id=source.id,
        state=BroadcastState.NOT_STARTED.value, title=changes.get("title", ""),
        tags=changes.get("tags", []), region=source.region,
        chat_option=changes.get("chat_option", rules.CHAT_EVERYONE),
        no_hearts=changes.get("no_hearts", False), is_low_latency=low,
        locale=changes.get("locale"), preview_token=secrets.token_urlsafe(24),
        created_at=now, updated_at=now, total_watched=0, recording_state="none",
    )  # fmt: skip
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent create bound the source first
        await session.rollback()
        raise from_rule(
            LiveRuleError("conflict", "Another broadcast is active on this source: end it first.")
        ) from None
    # Video already arriving (an encoder started first) belongs to this broadcast.
    await session.execute(
        update(LiveIngest)
        .where(LiveIngest.source_id == source.id, LiveIngest.ended_at.is_(None))
        .values(broadcast_id=row.id)
    )
    view = (await broadcast_views(session, [row], now=now, window=viewer_window))[0]
    await session.commit()
    return view


async def _visible_broadcast(
    session: AsyncSession, *, caller: int, broadcast_id: str, owner_id: int | None, write: bool
) -> LiveBroadcast:
    row = await session.get(LiveBroadcast, broadcast_id)
    if row is None:
        raise LiveNotFound("broadcast", broadcast_id)
    await may_act_on(
        session, ("broadcast", broadcast_id), row.user_id, caller=caller, owner_id=owner_id,
        write=write,
    )  # fmt: skip
    return row


async def get_broadcast(
    session: AsyncSession, *, caller: int, broadcast_id: str, owner_id: int | None = None,
    now: datetime, viewer_window: float,
) -> BroadcastView:  # fmt: skip
    row = await _visible_broadcast(
        session, caller=caller, broadcast_id=broadcast_id, owner_id=owner_id, write=False
    )
    return (await broadcast_views(session, [row], now=now, window=viewer_window))[0]


async def list_broadcasts(
    session: AsyncSession, *, caller: int, owner_id: int, offset: int, limit: int,
    now: datetime, viewer_window: float,
) -> tuple[list[BroadcastView], bool]:  # fmt: skip
    """Newest first; returns the page and whether more follow."""
    await act_for(session, caller=caller, owner_id=owner_id, write=False)
    rows = list(
        await session.scalars(
            select(LiveBroadcast)
            .where(LiveBroadcast.user_id == owner_id)
            .order_by(LiveBroadcast.created_at.desc(), LiveBroadcast.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
    )
    views = await broadcast_views(session, rows[:limit], now=now, window=viewer_window)
    return views, len(rows) > limit


async def lookup_broadcasts(
    session: AsyncSession, *, caller: int, broadcast_ids: Sequence[str], now: datetime,
    viewer_window: float,
) -> tuple[list[BroadcastView], list[str]]:  # fmt: skip
    """``GET /2/broadcasts?ids=``: the visible ones, and the ids that are not."""
    rows = list(
        await session.scalars(select(LiveBroadcast).where(LiveBroadcast.id.in_(broadcast_ids)))
    )
    visible = [
        r for r in rows if await may(session, caller=caller, owner_id=r.user_id, write=False)
    ]
    found = {r.id for r in visible}
    order = {b: i for i, b in enumerate(broadcast_ids)}
    visible.sort(key=lambda r: order[r.id])
    views = await broadcast_views(session, visible, now=now, window=viewer_window)
    return views, [b for b in broadcast_ids if b not in found]


async def list_own_broadcasts(
    session: AsyncSession, *, caller: int, cursor: tuple[datetime, str] | None, limit: int,
    now: datetime, viewer_window: float,
) -> tuple[list[BroadcastView], bool]:  # fmt: skip
    query = select(LiveBroadcast).where(LiveBroadcast.user_id == caller)
    if cursor is not None:
        at, last = cursor
        query = query.where(
            (LiveBroadcast.created_at < at)
            | ((LiveBroadcast.created_at == at) & (LiveBroadcast.id < last))
        )
    rows = list(
        await session.scalars(
            query.order_by(LiveBroadcast.created_at.desc(), LiveBroadcast.id.desc()).limit(
                limit + 1
            )
        )
    )
    views = await broadcast_views(session, rows[:limit], now=now, window=viewer_window)
    return views, len(rows) > limit


PUBLISH_FIELDS = ("state", "title", "should_not_tweet", "locale", "chat_option", "no_hearts",
                  "chat_disabled", "tags")  # fmt: skip


@dataclass(frozen=True, slots=True)
class StateChange:
    view: BroadcastView
    drop: str | None  # internal stream name to disconnect (END)


async def set_state(
    session: AsyncSession,
    *,
    caller: int,
    broadcast_id: str,
    owner_id: int | None,
    body: dict[str, Any],
    now: datetime,
    viewer_window: float,
    files: LiveFiles | None = None,
    allow_publish: bool = True,
) -> StateChange:
    """PUBLISH (Publish Now) or END (§3.3, §8.4)."""
    row = await _visible_broadcast(
        session, caller=caller, broadcast_id=broadcast_id, owner_id=owner_id, write=True
    )
    state = body.get("state")
    try:
        if state == "END":
            extra = [k for k in body if k != "state"]
            if extra:
                raise LiveRuleError("invalid", f"{extra[0]} must not be set", extra[0])
            return await _end(session, files, row, now=now, viewer_window=viewer_window)
        if state != "PUBLISH" or not allow_publish:
            raise LiveRuleError(
                "invalid",
                "state must be PUBLISH or END." if allow_publish else "state must be END.",
                "state",
            )
        extra = rules.unknown_fields(list(body), PUBLISH_FIELDS)
        if extra:
            raise LiveRuleError("invalid", f"{extra[0]} is not a field of PUBLISH.", extra[0])
        if body.get("should_not_tweet") is not None:
            _flag(body, "should_not_tweet")  # accepted and ignored: no announcement posts
        changes = _settings_of(body)
        active = row.source_id is not None and bool(
            await session.scalar(
                select(LiveSource.is_stream_active).where(LiveSource.id == row.source_id)
            )
        )
        new_state = rules.publish(row.state, stream_active=active)
    except LiveRuleError as bad:
        raise from_rule(bad) from None
    done = await session.execute(
        update(LiveBroadcast)
        .where(LiveBroadcast.id == row.id, LiveBroadcast.state == BroadcastState.NOT_STARTED.value)
        .values(state=new_state.value, started_at=now, updated_at=now, **changes)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise LiveInvalid("The broadcast's state changed meanwhile.", "state")
    await session.refresh(row)
    view = (await broadcast_views(session, [row], now=now, window=viewer_window))[0]
    await session.commit()
    return StateChange(view, None)


async def _end(
    session: AsyncSession, files: LiveFiles | None, row: LiveBroadcast, *, now: datetime,
    viewer_window: float,
) -> StateChange:  # fmt: skip
    rules.end(row.state)
    drop = await hooks.finish(session, row, BroadcastState.ENDED, now=now)
    if drop is None:
        await session.rollback()
        raise LiveInvalid("The broadcast's state changed meanwhile.", "state")
    await session.flush()
    await hooks.maybe_queue(session, files, row.id, now=now)
    await session.refresh(row)
    view = (await broadcast_views(session, [row], now=now, window=viewer_window))[0]
    await session.commit()
    return StateChange(view, drop or None)


async def delete_broadcast(
    session: AsyncSession, *, caller: int, broadcast_id: str, owner_id: int | None,
    now: datetime, files: LiveFiles | None = None,
) -> str | None:  # fmt: skip
    """Any state; an active one is canceled first (its stream dropped, its recording
    discarded). The library media of an ended one stays."""
    row = await _visible_broadcast(
        session, caller=caller, broadcast_id=broadcast_id, owner_id=owner_id, write=True
    )
    drop: str | None = None
    if row.state in ACTIVE:
        result = await hooks.finish(session, row, BroadcastState.CANCELED, now=now)
        drop = result or None
    await hooks.forget_recordings(session, files, row.id)
    await session.delete(row)
    await session.commit()
    return drop
