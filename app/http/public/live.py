"""The live side of the public surface: a broadcast's live HLS (``/live/<id>/index.m3u8``
and its segments, as nginx writes them while video arrives), its share page, and the
hooks nginx calls (``/internal/live/...``: loopback and the hook secret only).

Before Publish Now the playlist plays only with the broadcast's preview token
(``video_access.hls_url`` carries it, and the playlist hands it on to its segments);
while RUNNING it is public and each client fetching it counts as a viewer.
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import re
import time
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import FileResponse, HTMLResponse, Response

from app.http.deps import ClockDep, IdsDep, ReadSessionDep, SessionDep, context_of, live_files_of
from app.http.errors import v11_error_responses
from app.http.json_body import read_body
from app.live import hooks, views
from app.live.errors import LiveNotFound
from app.live.rules import ACTIVE
from app.live.viewers import ViewerCounter, viewer_of

__all__ = ["hooks_router", "router"]

router = APIRouter(tags=["live-playback"])
hooks_router = APIRouter(include_in_schema=False)

BroadcastId = Annotated[str, Path(description="the broadcast's id", pattern=r"^[a-zA-Z0-9]{1,13}$")]
Token = Annotated[
    str | None,
    Query(
        description="the preview token of `video_access.hls_url`", pattern=r"^[A-Za-z0-9_-]{8,64}$"
    ),
]
_SEGMENT_LINE = re.compile(r"^([0-9]{1,12}\.ts)$", re.MULTILINE)
_HLS = "application/vnd.apple.mpegurl"
_CORS = {"access-control-allow-origin": "*"}
_VIEWERS = ViewerCounter()
_CACHE_SECS = 1.0
_targets: dict[str, tuple[float, views.PlaybackTarget | None]] = {}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the live playlist", "content": {_HLS: {}}},
    **v11_error_responses(400, 404),
}


async def _target(session: Any, broadcast_id: str) -> views.PlaybackTarget | None:
    """Looked up at most once a second per broadcast and process: players fetch the
    playlist every fragment and a segment more often."""
    clock = time.monotonic()
    cached = _targets.get(broadcast_id)
    if cached is not None and clock - cached[0] < _CACHE_SECS:
        return cached[1]
    found = await views.playback_target(session, broadcast_id)
    if len(_targets) > 10_000:
        _targets.clear()
    if found is not None and found.state == "RUNNING":  # the many-viewers case only:
        _targets[broadcast_id] = (clock, found)  # a preview turns public at once
    return found


def _allowed(target: views.PlaybackTarget | None, token: str | None) -> views.PlaybackTarget:
    if target is None or target.live_name is None or target.state not in ACTIVE:
        raise LiveNotFound("broadcast", "" if target is None else target.broadcast_id)
    if target.state == "RUNNING" and token is None:
        return target
    if token is not None and hmac.compare_digest(token, target.preview_token):
        return target
    raise LiveNotFound("broadcast", target.broadcast_id)


@router.get("/live/{broadcast_id}/index.m3u8", responses=_RESPONSES, response_class=Response)
async def live_playlist(
    request: Request, broadcast_id: BroadcastId, session: ReadSessionDep, clock: ClockDep,
    t: Token = None,
) -> Response:  # fmt: skip
    """The live playlist (public while RUNNING; with `t` the preview before it)."""
    target = _allowed(await _target(session, broadcast_id), t)
    assert target.live_name is not None
    playlist = live_files_of(request).playlist(target.mode, target.live_name)
    if playlist is None:
        raise LiveNotFound("broadcast", broadcast_id)
    text = playlist.decode(errors="replace")
    if t is not None:
        text = _SEGMENT_LINE.sub(lambda m: f"{m.group(1)}?t={t}", text)
    if target.state == "RUNNING" and t is None:
        address = request.client.host if request.client else ""
        viewer = viewer_of(address, request.headers.get("user-agent", ""))
        context = context_of(request)
        await _VIEWERS.seen(context.sessions, broadcast_id, viewer, clock())
    headers = {"cache-control": "no-cache", **_CORS}
    return Response(text, media_type=_HLS, headers=headers)


@router.get(
    "/live/{broadcast_id}/{segment}",
    responses={200: {"description": "an MPEG-TS segment", "content": {"video/mp2t": {}}},
               **v11_error_responses(400, 404)},
    response_class=Response,
)  # fmt: skip
async def live_segment(
    request: Request,
    broadcast_id: BroadcastId,
    segment: Annotated[str, Path(pattern=r"^[0-9]{1,12}\.ts$")],
    session: ReadSessionDep,
    t: Token = None,
) -> Response:
    """One segment of the live playlist."""
    target = _allowed(await _target(session, broadcast_id), t)
    assert target.live_name is not None
    path = live_files_of(request).segment(target.mode, target.live_name, segment)
    if path is None:
        raise LiveNotFound("segment", segment)
    return FileResponse(
        path, media_type="video/mp2t", headers={"cache-control": "max-age=60", **_CORS}
    )


@router.get(
    "/i/broadcasts/{broadcast_id}",
    responses={200: {"description": "the broadcast's share page", "content": {"text/html": {}}},
               **v11_error_responses(400, 404)},
    response_class=HTMLResponse,
)  # fmt: skip
async def share_page(
    request: Request, broadcast_id: BroadcastId, session: ReadSessionDep
) -> Response:
    """A plain page: the title, the state and, while RUNNING, the live player."""
    target = await views.playback_target(session, broadcast_id)
    if target is None:
        raise LiveNotFound("broadcast", broadcast_id)
    title = html.escape(target.title or "Live broadcast")
    player = ""
    if target.state == "RUNNING":
        src = html.escape(f"/live/{broadcast_id}/index.m3u8")
        player = f'<video controls autoplay muted playsinline src="{src}"></video>'
    body = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
        f"<h1>{title}</h1><p>{html.escape(target.state)}</p>{player}</html>"
    )
    return HTMLResponse(body)


# --- nginx's hooks ------------------------------------------------------------------------


def _trusted(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
    secret = request.query_params.get("secret", "")
    expected = live_files_of(request).hook_secret()
    return loopback and hmac.compare_digest(secret.encode(), expected.encode())


async def _form(request: Request) -> dict[str, str]:
    raw = await read_body(request, 16 * 1024)
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))


@hooks_router.post("/internal/live/{event}")
async def nginx_hook(
    request: Request, event: str, session: SessionDep, ids: IdsDep, clock: ClockDep
) -> Response:
    """2xx accepts, 3xx renames the stream (``Location``), 4xx disconnects the encoder."""
    if not _trusted(request):
        return Response(status_code=403)
    form = await _form(request)
    now = clock()
    client_id, key = form.get("clientid", ""), form.get("name", "")
    if event == "publish":
        try:
            name = await hooks.on_publish(
                session, ids, key=key, client_id=client_id, address=form.get("addr", ""), now=now
            )
        except hooks.Refused:
            return Response(status_code=403)
        return Response(status_code=302, headers={"location": name})
    if event == "publish_done":
        await hooks.on_publish_done(
            session, live_files_of(request), ids, client_id=client_id, key=key, now=now
        )
        return Response(status_code=200)
    if event == "record_done":
        await hooks.on_record_done(
            session, live_files_of(request), client_id=client_id, path=form.get("path", ""), now=now
        )
        return Response(status_code=200)
    return Response(status_code=404)
