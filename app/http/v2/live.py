"""The Producer on the X Livestream API wire (producer-api.md §3, §4, §8): gen B's
``/2/users/:user_id/sources`` and ``/2/users/:user_id/broadcasts`` (create -> preview ->
``PUT .../state`` PUBLISH / END, the seed's flow), gen C's ``/2/sources`` and
``/2/broadcasts`` beside them, ``GET /2/region`` and ``GET /2/broadcast_tags``."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.http import params
from app.http.deps import ClockDep, CurrentUser, IdsDep, SessionDep, context_of, live_files_of
from app.http.errors import v2_error_responses
from app.http.json_body import json_request_body, read_json_object
from app.http.responses import TwitterJSONResponse
from app.http.urls import base_url
from app.http.v2.live_wire import Links, broadcast_json, source_json, video_access
from app.live import access, nginx, rules, views
from app.live import service as live
from app.live.errors import LiveInvalid
from app.schemas import openapi as oa

__all__ = ["router"]

router = APIRouter(tags=["live"])
_BODY = 8 * 1024
_PAGE = 100
_ID = re.compile(r"^[a-zA-Z0-9]{1,13}$")
_IDS = r"^[a-zA-Z0-9]{1,13}(,[a-zA-Z0-9]{1,13}){0,99}$"
_OFFSET = "`nextToken.offset` of the previous page"
_DIGITS = r"^[0-9]{1,9}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

UserId = Annotated[
    str, Path(description="the broadcaster's user id", json_schema_extra=oa.SNOWFLAKE)
]
# Wider than a source id (digits): a stream key passed as the id is told apart (400
# "The `id` value is not a source id.", §4.2) from an unknown source (404).
SourceId = Annotated[
    str,
    Path(description="the source's id (a numeric string)", pattern=r"^[0-9A-Za-z]{1,64}$"),
]
BroadcastId = Annotated[str, Path(description="the broadcast's id", pattern=r"^[a-zA-Z0-9]{1,13}$")]
_ERRORS = v2_error_responses(400, 401, 403, 404)


class SourceCreate(BaseModel):
    """`name` and `region` (gen B/C); `type` and `external_hls_url` are extensions."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=100)]
    region: Literal[rules.REGIONS]  # type: ignore[valid-type]
    type: Literal["rtmp", "hls"] = "rtmp"
    external_hls_url: str | None = None


class SourceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=100)]


class BroadcastCreate(BaseModel):
    """Gen B's `source_id`, `region`, `is_low_latency`; the seed's `title`, `tags`,
    `chat_option` (1 = chat disabled), `no_hearts` and `latency_mode` as extensions."""

    model_config = ConfigDict(extra="forbid")
    source_id: Annotated[str, Field(pattern=r"^[0-9]{1,19}$")]
    region: Literal[rules.REGIONS] | None = None  # type: ignore[valid-type]
    is_low_latency: bool | None = None
    latency_mode: Literal["low", "high"] | None = None
    title: Annotated[str, Field(max_length=280)] | None = None
    tags: Annotated[list[Literal[rules.TAGS]], Field(max_length=2)] | None = None  # type: ignore[valid-type]
    chat_option: Annotated[int, Field(ge=0, le=6)] | None = None
    chat_disabled: bool | None = None
    no_hearts: bool | None = None
    locale: Annotated[str, Field(min_length=2, max_length=10)] | None = None


class StateChange(BaseModel):
    """PUBLISH (with optional `title`, `locale`, `chat_option`, `no_hearts`, `tags`;
    `should_not_tweet` accepted and ignored) or exactly `{"state": "END"}`."""

    model_config = ConfigDict(extra="forbid")
    state: Literal["PUBLISH", "END"]
    title: Annotated[str, Field(max_length=280)] | None = None
    should_not_tweet: bool | None = None
    locale: Annotated[str, Field(min_length=2, max_length=10)] | None = None
    chat_option: Annotated[int, Field(ge=0, le=6)] | None = None
    chat_disabled: bool | None = None
    no_hearts: bool | None = None
    tags: Annotated[list[Literal[rules.TAGS]], Field(max_length=2)] | None = None  # type: ignore[valid-type]


class EndOnly(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["END"]


def _links(request: Request) -> Links:
    return Links(base_url(request), context_of(request).settings)


def _srt_ports(request: Request) -> tuple[int, int] | None:
    configured = context_of(request).settings.live.srt_ports
    if configured is None:
        return None
    first, last = (int(p) for p in configured.split("-"))
    return first, last


def _window(request: Request) -> float:
    return context_of(request).settings.live.viewer_window_secs


async def _drop(request: Request, live_name: str | None) -> None:
    if live_name:
        await nginx.drop_publisher(context_of(request).settings.live, live_name)


def _owner(user_id: str) -> int:
    return params.snowflake(user_id, "user_id")


async def _body(request: Request) -> dict[str, Any]:
    return await read_json_object(request, _BODY)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return TwitterJSONResponse(body, status_code=status)


# --- region and tags ----------------------------------------------------------------------


@router.get("/2/region", responses=v2_error_responses(400, 401))
async def region(request: Request, user: CurrentUser) -> Response:
    """The recommended region: locally the configured default (no 307 hop)."""
    return _json({"region": context_of(request).settings.live.default_region})


@router.get("/2/broadcast_tags", responses=v2_error_responses(400, 401))
async def tags(user: CurrentUser) -> Response:
    """The categories a broadcast's `tags` (at most two) are taken from (extension)."""
    return _json({"data": list(rules.TAGS), "meta": {"max_tags": rules.MAX_TAGS}})


# --- gen B: /2/users/:user_id/sources -----------------------------------------------------


@router.post(
    "/2/users/{user_id}/sources", responses=_ERRORS, openapi_extra=json_request_body(SourceCreate)
)
async def create_user_source(
    request: Request, user_id: UserId, user: CurrentUser, session: SessionDep, ids: IdsDep,
    clock: ClockDep,
) -> Response:  # fmt: skip
    """Create a source: an RTMP push point (key, rtmp and rtmps URLs) or an HLS pull."""
    view = await live.create_source(
        session, ids, caller=user, owner_id=_owner(user_id), body=await _body(request),
        allowed_fields=("name", "region", "type", "external_hls_url"), now=clock(),
        srt_ports=_srt_ports(request),
    )  # fmt: skip
    return _json({"source": source_json(view, _links(request), with_key=True)})


@router.get("/2/users/{user_id}/sources", responses=_ERRORS)
async def list_user_sources(
    request: Request, user_id: UserId, user: CurrentUser, session: SessionDep
) -> Response:
    """The user's sources, newest first (no stream keys in lists)."""
    views = await live.list_sources(session, caller=user, owner_id=_owner(user_id))
    links = _links(request)
    return _json({"sources": [source_json(v, links, with_key=False) for v in views]})


@router.get("/2/users/{user_id}/sources/{source_id}", responses=_ERRORS)
async def get_user_source(
    request: Request, user_id: UserId, source_id: SourceId, user: CurrentUser, session: SessionDep
) -> Response:
    """One source; its stream key only for members who may change it."""
    owner = _owner(user_id)
    view = await live.get_source(session, caller=user, source_id=source_id, owner_id=owner)
    manager = await access.may(session, caller=user, owner_id=view.user_id, write=True)
    return _json({"source": source_json(view, _links(request), with_key=manager)})


@router.put(
    "/2/users/{user_id}/sources/{source_id}",
    responses=_ERRORS,
    openapi_extra=json_request_body(SourceUpdate),
)
async def rename_user_source(
    request: Request, user_id: UserId, source_id: SourceId, user: CurrentUser,
    session: SessionDep, clock: ClockDep,
) -> Response:  # fmt: skip
    """Only the name can change."""
    view = await live.rename_source(
        session, caller=user, source_id=source_id, owner_id=_owner(user_id),
        body=await _body(request), now=clock(),
    )  # fmt: skip
    return _json({"source": source_json(view, _links(request), with_key=False)})


@router.delete("/2/users/{user_id}/sources/{source_id}", responses=_ERRORS)
async def delete_user_source(
    request: Request, user_id: UserId, source_id: SourceId, user: CurrentUser, session: SessionDep
) -> Response:
    """Refused (400) while a broadcast on it is active."""
    live_name = await live.delete_source(
        session, caller=user, source_id=source_id, owner_id=_owner(user_id)
    )
    await _drop(request, live_name)
    return _json({"success": True})


# --- gen B: /2/users/:user_id/broadcasts --------------------------------------------------


def _created(view: views.BroadcastView, links: Links) -> dict[str, Any]:
    return {
        "broadcast": broadcast_json(view, links),
        "video_access": video_access(view, links),
        "share_url": links.share_url(view.id),
    }


@router.post(
    "/2/users/{user_id}/broadcasts",
    responses=v2_error_responses(400, 401, 403, 404, 409),
    openapi_extra=json_request_body(BroadcastCreate),
)
async def create_user_broadcast(
    request: Request, user_id: UserId, user: CurrentUser, session: SessionDep, ids: IdsDep,
    clock: ClockDep,
) -> Response:  # fmt: skip
    """NOT_STARTED on the source; the Preview plays `video_access.hls_url` once video
    arrives; then `PUT .../state` PUBLISH. A second active broadcast on a source: 409."""
    view = await live.create_broadcast(
        session, ids, caller=user, owner_id=_owner(user_id), body=await _body(request),
        now=clock(), viewer_window=_window(request),
    )  # fmt: skip
    return _json(_created(view, _links(request)))


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isdigit() or len(token) > 9:
        raise LiveInvalid("pagination_token is invalid.", "pagination_token")
    return int(token)


@router.get("/2/users/{user_id}/broadcasts", responses=_ERRORS)
async def list_user_broadcasts(
    request: Request, user_id: UserId, user: CurrentUser, session: SessionDep, clock: ClockDep,
    pagination_token: Annotated[str | None, Query(description=_OFFSET, pattern=_DIGITS)] = None,
) -> Response:  # fmt: skip
    """Newest first, 100 per page."""
    offset = _offset(pagination_token)
    views, more = await live.list_broadcasts(
        session, caller=user, owner_id=_owner(user_id), offset=offset, limit=_PAGE,
        now=clock(), viewer_window=_window(request),
    )  # fmt: skip
    links = _links(request)
    body: dict[str, Any] = {"broadcasts": [broadcast_json(v, links) for v in views]}
    if more:
        body["nextToken"] = {"offset": str(offset + _PAGE)}
    if offset > 0:
        body["previousToken"] = {"offset": str(max(0, offset - _PAGE))}
    return _json(body)


@router.get("/2/users/{user_id}/broadcasts/{broadcast_id}", responses=_ERRORS)
async def get_user_broadcast(
    request: Request, user_id: UserId, broadcast_id: BroadcastId, user: CurrentUser,
    session: SessionDep, clock: ClockDep,
) -> Response:  # fmt: skip
    """The broadcast with its `video_access` (Preview, and `replay_url` once recorded)."""
    view = await live.get_broadcast(
        session, caller=user, broadcast_id=broadcast_id, owner_id=_owner(user_id),
        now=clock(), viewer_window=_window(request),
    )  # fmt: skip
    return _json(_created(view, _links(request)))


@router.put(
    "/2/users/{user_id}/broadcasts/{broadcast_id}/state",
    responses=v2_error_responses(400, 401, 403, 404, 409),
    openapi_extra=json_request_body(StateChange),
)
async def set_user_broadcast_state(
    request: Request, user_id: UserId, broadcast_id: BroadcastId, user: CurrentUser,
    session: SessionDep, clock: ClockDep,
) -> Response:  # fmt: skip
    """PUBLISH (Publish Now: NOT_STARTED -> RUNNING, only while video arrives, else 409)
    or END (RUNNING -> ENDED; the encoder is disconnected, the recording becomes media)."""
    change = await live.set_state(
        session, caller=user, broadcast_id=broadcast_id, owner_id=_owner(user_id),
        body=await _body(request), now=clock(), viewer_window=_window(request),
        files=live_files_of(request),
    )  # fmt: skip
    await _drop(request, change.drop)
    if change.view.state == "ENDED":
        return _json({"success": True})
    return _json({"broadcast": broadcast_json(change.view, _links(request))})


@router.delete("/2/users/{user_id}/broadcasts/{broadcast_id}", responses=_ERRORS)
async def delete_user_broadcast(
    request: Request, user_id: UserId, broadcast_id: BroadcastId, user: CurrentUser,
    session: SessionDep, clock: ClockDep,
) -> Response:  # fmt: skip
    """Any state (an active one is canceled); the recording's library media stays."""
    live_name = await live.delete_broadcast(
        session, caller=user, broadcast_id=broadcast_id, owner_id=_owner(user_id),
        now=clock(), files=live_files_of(request),
    )  # fmt: skip
    await _drop(request, live_name)
    return _json({"success": True})


# --- gen C: /2/sources --------------------------------------------------------------------


@router.post(
    "/2/sources",
    status_code=201,
    responses=_ERRORS,
    openapi_extra=json_request_body(SourceCreate),
)
async def create_source(
    request: Request, user: CurrentUser, session: SessionDep, ids: IdsDep, clock: ClockDep
) -> Response:
    """201 with the source and its stream key."""
    view = await live.create_source(
        session, ids, caller=user, owner_id=user, body=await _body(request),
        allowed_fields=("name", "region", "type", "external_hls_url"), now=clock(),
        srt_ports=_srt_ports(request),
    )  # fmt: skip
    return _json({"data": source_json(view, _links(request), with_key=True)}, 201)


@router.get("/2/sources", responses=v2_error_responses(400, 401))
async def list_sources(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """The caller's sources (no stream keys)."""
    views = await live.list_sources(session, caller=user, owner_id=user)
    links = _links(request)
    data = [source_json(v, links, with_key=False) for v in views]
    return _json({"data": data, "meta": {"result_count": len(data)}})


@router.get("/2/sources/{source_id}", responses=_ERRORS)
async def get_source(
    request: Request, source_id: SourceId, user: CurrentUser, session: SessionDep
) -> Response:
    view = await live.get_source(session, caller=user, source_id=source_id)
    return _json({"data": source_json(view, _links(request), with_key=False)})


@router.patch(
    "/2/sources/{source_id}", responses=_ERRORS, openapi_extra=json_request_body(SourceUpdate)
)
async def patch_source(
    request: Request, source_id: SourceId, user: CurrentUser, session: SessionDep, clock: ClockDep
) -> Response:
    view = await live.rename_source(
        session, caller=user, source_id=source_id, owner_id=None, body=await _body(request),
        now=clock(),
    )  # fmt: skip
    return _json({"data": source_json(view, _links(request), with_key=False)})


@router.delete("/2/sources/{source_id}", responses=_ERRORS)
async def delete_source(
    request: Request, source_id: SourceId, user: CurrentUser, session: SessionDep
) -> Response:
    """Broadcasts that used it are kept without their `source_id`."""
    live_name = await live.delete_source(session, caller=user, source_id=source_id, owner_id=None)
    await _drop(request, live_name)
    return _json({"data": {"deleted": True}})


@router.get("/2/sources/{source_id}/stream_key", responses=_ERRORS)
async def get_stream_key(source_id: SourceId, user: CurrentUser, session: SessionDep) -> Response:
    """The push secret (members who may change the source only)."""
    view = await live.get_source(session, caller=user, source_id=source_id, write=True)
    return _json({"data": {"id": view.id, "stream_key": view.stream_key}})


@router.post("/2/sources/{source_id}/stream_key", responses=_ERRORS)
async def rotate_stream_key(
    request: Request, source_id: SourceId, user: CurrentUser, session: SessionDep, clock: ClockDep
) -> Response:
    """Rotate (extension): a new key; the old one is refused at connect from now on and
    an encoder live on it is disconnected."""
    view, live_name = await live.rotate_key(session, caller=user, source_id=source_id, now=clock())
    await _drop(request, live_name)
    return _json({"data": {"id": view.id, "stream_key": view.stream_key}})


# --- gen C: /2/broadcasts -----------------------------------------------------------------


def _cursor(token: str | None) -> tuple[datetime, str] | None:
    if token is None:
        return None
    try:
        us, last = base64.urlsafe_b64decode(token.encode() + b"==").decode().split(":", 1)
        at = _EPOCH + timedelta(microseconds=int(us))
    except (ValueError, UnicodeDecodeError, OverflowError):
        raise LiveInvalid("pagination_token is invalid.", "pagination_token") from None
    if not _ID.match(last):
        raise LiveInvalid("pagination_token is invalid.", "pagination_token")
    return at, last


def _token(view: views.BroadcastView) -> str:
    # The exact creation time (microseconds, as stored): a rounded one would skip the
    # broadcasts created between it and the last one of the page.
    us = (view.created_at - _EPOCH) // timedelta(microseconds=1)
    raw = f"{us}:{view.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@router.get("/2/broadcasts", responses=v2_error_responses(400, 401))
async def list_broadcasts(
    request: Request, user: CurrentUser, session: SessionDep, clock: ClockDep,
    ids: Annotated[
        str | None,
        Query(description="comma-separated broadcast ids (1-100)", pattern=_IDS),
    ] = None,
    max_results: Annotated[int, Query(ge=1, le=100)] = 100,
    pagination_token: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9_-]{4,64}$", description="`meta.next_token`")
    ] = None,
) -> Response:  # fmt: skip
    """By `ids` (those not visible go to `errors`), or the caller's own newest first."""
    links = _links(request)
    window = _window(request)
    if ids is not None:
        wanted = list(dict.fromkeys(ids.split(",")))
        views, missing = await live.lookup_broadcasts(
            session, caller=user, broadcast_ids=wanted, now=clock(), viewer_window=window
        )
        body: dict[str, Any] = {"data": [broadcast_json(v, links) for v in views]}
        if missing:
            body["errors"] = [
                {
                    "value": m, "detail": f"Could not find broadcast with id: [{m}].",
                    "title": "Not Found Error", "resource_type": "broadcast",
                    "parameter": "ids", "resource_id": m,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
                for m in missing
            ]  # fmt: skip
        body["meta"] = {"result_count": len(views)}
        return _json(body)
    views, more = await live.list_own_broadcasts(
        session, caller=user, cursor=_cursor(pagination_token), limit=max_results,
        now=clock(), viewer_window=window,
    )  # fmt: skip
    meta: dict[str, Any] = {"result_count": len(views)}
    if more and views:
        meta["next_token"] = _token(views[-1])
    return _json({"data": [broadcast_json(v, links) for v in views], "meta": meta})


@router.get("/2/broadcasts/{broadcast_id}", responses=_ERRORS)
async def get_broadcast(
    request: Request, broadcast_id: BroadcastId, user: CurrentUser, session: SessionDep,
    clock: ClockDep,
) -> Response:  # fmt: skip
    view = await live.get_broadcast(
        session, caller=user, broadcast_id=broadcast_id, now=clock(), viewer_window=_window(request)
    )
    links = _links(request)
    return _json(
        {"data": {**broadcast_json(view, links), "video_access": video_access(view, links)}}
    )


@router.put(
    "/2/broadcasts/{broadcast_id}/state",
    responses=_ERRORS,
    openapi_extra=json_request_body(EndOnly),
)
async def end_broadcast(
    request: Request, broadcast_id: BroadcastId, user: CurrentUser, session: SessionDep,
    clock: ClockDep,
) -> Response:  # fmt: skip
    """Only `{"state": "END"}` (gen C); PUBLISH is `PUT /2/users/:user_id/...`."""
    change = await live.set_state(
        session, caller=user, broadcast_id=broadcast_id, owner_id=None,
        body=await _body(request), now=clock(), viewer_window=_window(request),
        files=live_files_of(request), allow_publish=False,
    )  # fmt: skip
    await _drop(request, change.drop)
    return _json({"data": {"id": change.view.id, "state": change.view.state}})


@router.delete("/2/broadcasts/{broadcast_id}", responses=_ERRORS)
async def delete_broadcast(
    request: Request, broadcast_id: BroadcastId, user: CurrentUser, session: SessionDep,
    clock: ClockDep,
) -> Response:  # fmt: skip
    live_name = await live.delete_broadcast(
        session, caller=user, broadcast_id=broadcast_id, owner_id=None, now=clock(),
        files=live_files_of(request),
    )  # fmt: skip
    await _drop(request, live_name)
    return _json({"data": {"deleted": True}})
