"""Public pages of posts: the links the service hands out resolve.

- ``/i/status/<id>`` (appended to the text of a post with media, and its media
  entities' ``url``) answers ``302`` to the post's canonical page;
- ``/<screen_name>/status/<id>`` (and ``.../photo/<n>``, ``.../video/<n>``, the media
  entities' ``expanded_url``) is a small HTML page: author, text, created_at and the
  media (the photos, or the video/GIF with its preview as poster), with Open Graph tags
  so link previews work. A wrong screen name redirects to the right one, as Twitter does.

Unauthenticated (posts are public); unknown, deleted or malformed ids are the v1.1
``404`` code 144. Nothing but the post itself is shown.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app.core import errors
from app.http import media_wire
from app.http.deps import ClockDep, ReadSessionDep
from app.http.errors import v11_error_responses
from app.http.urls import base_url
from app.posts import service as posts
from app.posts.service import PostView
from app.uploads.protocol import MediaKind

__all__ = ["router"]

router = APIRouter(tags=["public"])

_MAX_ID = 2**63 - 1
_PAGE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "the post as a small HTML page", "content": {"text/html": {}}},
    302: {"description": "another screen name than the author's: to the right page"},
    **v11_error_responses(404),
}


def _post_id(raw: str) -> int:
    """A link's id: ASCII digits of a signed 64-bit id, else no such post (404)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) > _MAX_ID:
        raise errors.StatusNotFound()
    return int(raw)


async def _find(session: ReadSessionDep, clock: ClockDep, raw: str) -> PostView:
    found = await posts.get_posts(session, [_post_id(raw)], now=clock())
    if not found:
        raise errors.StatusNotFound()
    return found[0]


def _canonical(base: str, post: PostView) -> str:
    return f"{base}/{post.author_screen_name}/status/{post.id}"


@router.get(
    "/i/status/{post_id}",
    operation_id="public-status-link",
    response_class=Response,
    status_code=302,
    responses={302: {"description": "to the post's page (`Location`)"}, **v11_error_responses(404)},
)
async def status_link(
    request: Request, session: ReadSessionDep, clock: ClockDep, post_id: str
) -> Response:
    """The short link of a post: redirects to `/<screen_name>/status/<id>`."""
    post = await _find(session, clock, post_id)
    return RedirectResponse(_canonical(base_url(request), post), status_code=302)


@router.get(
    "/{screen_name}/status/{post_id}",
    operation_id="public-status-page",
    response_class=HTMLResponse,
    responses=_PAGE_DOC,
)
async def status_page(
    request: Request, session: ReadSessionDep, clock: ClockDep, screen_name: str, post_id: str
) -> Response:
    """A post as a small HTML page (author, text, media)."""
    return await _page(request, session, clock, screen_name, post_id)


@router.get(
    "/{screen_name}/status/{post_id}/{kind}/{position}",
    operation_id="public-status-media-page",
    response_class=HTMLResponse,
    responses=_PAGE_DOC,
)
async def status_media_page(
    request: Request,
    session: ReadSessionDep,
    clock: ClockDep,
    screen_name: str,
    post_id: str,
    kind: str,
    position: str,
) -> Response:
    """A media entity's `expanded_url` (`kind` photo or video, `position` 1-4): the
    post's page."""
    if kind not in ("photo", "video") or position not in ("1", "2", "3", "4"):
        raise errors.StatusNotFound()
    return await _page(request, session, clock, screen_name, post_id)


async def _page(
    request: Request, session: ReadSessionDep, clock: ClockDep, screen_name: str, post_id: str
) -> Response:
    post = await _find(session, clock, post_id)
    base = base_url(request)
    if screen_name.lower() != post.author_screen_name.lower():
        return RedirectResponse(_canonical(base, post), status_code=302)
    return HTMLResponse(render_page(post, base_url=base))


def render_page(post: PostView, *, base_url: str) -> str:
    """The HTML of a post's page; every value from the post is escaped."""
    esc = html.escape
    author, text = esc(post.author_screen_name), esc(post.text)
    created = post.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    head = [
        f"<title>@{author}: {text[:80]}</title>",
        f'<meta property="og:title" content="@{author}">',
        f'<meta property="og:description" content="{text}">',
        f'<meta property="og:url" content="{esc(_canonical(base_url, post))}">',
    ]
    body: list[str] = []
    for item in post.media:
        media, variants = item.media, item.variants
        if media.delivery_token is None:
            continue  # not deliverable (any more): the post shows without it
        poster = esc(media_wire.main_url(media, variants, base_url))
        if media.kind is MediaKind.IMAGE:
            head.append(f'<meta property="og:image" content="{poster}">')
            alt = esc(media.alt_text or "")
            body.append(f'<img src="{poster}" alt="{alt}">')
            continue
        mp4s = [url for _, kind, url in media_wire.stream_variants(media, variants, base_url)]
        source = esc(next((u for u in mp4s if u.endswith(".mp4")), mp4s[0] if mp4s else ""))
        head.append(f'<meta property="og:image" content="{poster}">')
        head.append(f'<meta property="og:video" content="{source}">')
        loop = " autoplay loop muted" if media.kind is MediaKind.GIF else ""
        body.append(f'<video src="{source}" poster="{poster}" controls{loop}></video>')
    return (
        '<!doctype html>\n<html lang="und"><head><meta charset="utf-8">'
        + "".join(head)
        + f'</head><body><article data-id="{post.id}"><p class="author">@{author}</p>'
        + f'<p class="text">{text}</p>'
        + "".join(body)
        + f'<time datetime="{created}">{created}</time></article></body></html>\n'
    )
