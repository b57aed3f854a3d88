"""Ads API previews and published posts (§10): ``tweet_previews`` (iframes of this
service's own HTML preview page, ``GET /studio/v1/previews/{token}``), ``tweet`` (post
now) and ``tweets`` (the account's posts of one type, v1.1-style)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from app.http.deps import ClockDep, IdsDep, ReadSessionDep, SessionDep, context_of
from app.http.studio import params as ads
from app.http.studio.deps import ParamsDep, studio_access
from app.http.studio.envelope import data_response
from app.http.studio.post_wire import preview_iframe, preview_page, tweet_object
from app.http.studio.posts import content_fields, echo, errors_doc, snowflake, user_of
from app.http.urls import base_url
from app.schemas import openapi as oa
from app.studio import drafts, errors, rules
from app.studio import tweets as studio_tweets
from app.studio.access import Access
from app.studio.permissions import Action

__all__ = ["pages", "router"]

router = APIRouter(tags=["studio-posts"])
pages = APIRouter(prefix="/studio/v1", tags=["studio-posts"])

MAX_TWEET_IDS = 200
_TYPE = {"type": "string", "enum": list(studio_tweets.TWEET_TYPES)}
_PAGE_HEADERS = {
    # The page is framed by the dashboard; it runs no script and loads only images.
    "Content-Security-Policy": "default-src 'none'; img-src * data:; style-src 'unsafe-inline'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _ids(params: ads.AdsParams, name: str) -> list[int]:
    values = params.many(name)
    if len(values) > MAX_TWEET_IDS:
        raise errors.InvalidParameter(name, f"At most {MAX_TWEET_IDS} ids are allowed in {name}")
    return [snowflake(v, name) or 0 for v in values]


def _tweet_type(params: ads.AdsParams) -> str:
    params.required("tweet_type")
    found = ads.one_of(params, "tweet_type", studio_tweets.TWEET_TYPES)
    assert found is not None
    return found


@router.get(
    "/accounts/{account_id}/tweet_previews",
    responses=errors_doc(400, 401, 403),
    openapi_extra={
        "parameters": [
            oa.query("tweet_ids", {"type": "string"}, required=True),
            oa.query("tweet_type", _TYPE, required=True),
        ]
    },
)
async def tweet_previews(
    request: Request,
    access: Annotated[Access, studio_access(Action.READ_LIBRARY)],
    params: ParamsDep,
    session: ReadSessionDep,
    clock: ClockDep,
) -> Response:
    """An iframe per id of that type (others get none) showing the post as it will
    look; its URL renders for `studio.preview_ttl_secs`."""
    params.required("tweet_ids")
    kind = _tweet_type(params)
    wanted = _ids(params, "tweet_ids")
    found = await studio_tweets.existing_ids(session, account=access.account, kind=kind, ids=wanted)
    ttl = timedelta(seconds=context_of(request).settings.studio.preview_ttl_secs)
    base, expires = base_url(request), clock() + ttl
    data = []
    for tweet_id in dict.fromkeys(i for i in wanted if i in found):
        token = studio_tweets.preview_token(access.account, kind, tweet_id, expires=expires)
        url = f"{base}/studio/v1/previews/{token}"
        data.append({"tweet_id": str(tweet_id), "preview": preview_iframe(url)})
    return data_response(
        data,
        params=echo(access, tweet_ids=[str(i) for i in wanted], tweet_type=kind),
        data_type="tweet_previews",
    )


@pages.get(
    "/previews/{token}",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, **errors_doc(404)},
)
async def preview_page_route(
    request: Request, token: str, session: ReadSessionDep, clock: ClockDep
) -> Response:
    """The HTML a `tweet_previews` iframe shows: author, text, media thumbnails. No
    credentials (an iframe sends none): the signed token is the permission."""
    found = await studio_tweets.load_preview(session, token, now=clock())
    if found is None:
        raise errors.NotFound("This preview does not exist or has expired")
    html = preview_page(found, base_url=base_url(request))
    return HTMLResponse(html, headers=_PAGE_HEADERS)


@router.post(
    "/accounts/{account_id}/tweet",
    responses=errors_doc(400, 401, 403),
    openapi_extra={
        "parameters": [
            oa.query("as_user_id", oa.SNOWFLAKE),
            oa.query("text", {"type": "string", "maxLength": 1000}),
            oa.query("media_keys", {"type": "string"}),
            oa.query("card_uri", {"type": "string", "maxLength": 200}),
            oa.query("nullcast", oa.ADS_FLAG),
            oa.query("name", {"type": "string", "maxLength": rules.MAX_NAME}),
            oa.query("video_title", {"type": "string", "maxLength": 70}),
            oa.query("video_description", {"type": "string", "maxLength": 200}),
        ]
    },
)
async def post_now(
    request: Request,
    access: Annotated[Access, studio_access(Action.PUBLISH)],
    params: ParamsDep,
    session: SessionDep,
    ids: IdsDep,
    clock: ClockDep,
) -> Response:
    """A post by the FULL user now (nullcast unless `nullcast=false`), visible through
    v1.1 and v2 like any other. `video_title` / `video_description` become the title
    and description of the video's (or GIF's) library item, shown on the post."""
    user_of(access, params, "as_user_id")
    video = {
        field: value
        for field, name, limit in (
            ("title", "video_title", 70),
            ("description", "video_description", 200),
        )
        if (value := ads.text(params, name, max_length=limit))
    }
    post = await studio_tweets.post_now(
        session,
        ids,
        account=access.account,
        fields=content_fields(params, create=True),
        video=video,
        now=clock(),
    )
    body = tweet_object(post, base_url=base_url(request), tweet_type="PUBLISHED")
    return data_response(body, params=echo(access), data_type="tweet")


@router.get(
    "/accounts/{account_id}/tweets",
    responses=errors_doc(400, 401, 403),
    openapi_extra={
        "parameters": [
            oa.query("tweet_type", _TYPE, required=True),
            oa.query("count", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200}),
            oa.query("cursor", {"type": "string"}),
            oa.query("tweet_ids", {"type": "string"}),
            oa.query("name", {"type": "string", "maxLength": rules.MAX_NAME}),
            oa.query("timeline_type", {"type": "string", "enum": list(studio_tweets.TIMELINES)}),
            oa.query("trim_user", oa.ADS_FLAG),
            oa.query("include_mentions_and_replies", oa.ADS_FLAG),
            oa.query("user_id", oa.SNOWFLAKE),
        ]
    },
)
async def list_tweets(
    request: Request,
    access: Annotated[Access, studio_access(Action.READ_LIBRARY)],
    params: ParamsDep,
    session: ReadSessionDep,
    clock: ClockDep,
) -> Response:
    """The FULL user's posts of `tweet_type`, newest first; PUBLISHED ones by
    `timeline_type` (NULLCAST, the default, ORGANIC or ALL)."""
    kind = _tweet_type(params)
    user_id = user_of(access, params, "user_id")
    selection = drafts.Selection(
        count=ads.count(params, default=200, high=1000),
        cursor=snowflake(params.one("cursor"), "cursor"),
        tweet_ids=tuple(_ids(params, "tweet_ids")),
        name=ads.text(params, "name", max_length=rules.MAX_NAME) or None,
        timeline=ads.one_of(params, "timeline_type", studio_tweets.TIMELINES) or "NULLCAST",
        with_replies=ads.flag(params, "include_mentions_and_replies", default=False),
    )
    trim, base, now = ads.flag(params, "trim_user", default=False), base_url(request), clock()
    if kind == "PUBLISHED":
        found, after = await studio_tweets.list_published(
            session, author_id=user_id, selection=selection, now=now
        )
        data = [tweet_object(p, base_url=base, tweet_type=kind, trim_user=trim) for p in found]
    else:
        planned, after = await drafts.list_planned(
            session, kind=kind, account_id=access.account.id, user_id=user_id, selection=selection
        )
        posts = await studio_tweets.post_like(session, planned, now=now)
        data = [
            tweet_object(
                p, base_url=base, tweet_type=kind, scheduled_at=v.scheduled_at, trim_user=trim
            )
            for p, v in zip(posts, planned, strict=True)
        ]
    return data_response(
        data, params=echo(access, tweet_type=kind, count=selection.count), next_cursor=after
    )
