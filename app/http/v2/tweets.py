"""v2 posts and media lookup: POST/GET/DELETE /2/tweets, GET /2/media, /2/media/metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.convertors import StringConvertor, register_url_convertor
from starlette.responses import Response

from app.analytics import media_metrics
from app.core import errors
from app.http import params
from app.http.deps import ClockDep, CurrentUser, IdsDep, ReadSessionDep, SessionDep
from app.http.errors import v2_error_responses
from app.http.json_body import METADATA_BODY, POST_BODY, json_request_body, read_json
from app.http.ratelimit import THREE_HOURS, rate_limited
from app.http.responses import TwitterJSONResponse
from app.http.urls import base_url
from app.http.v2 import presenters
from app.media import metadata
from app.posts import service as posts
from app.schemas import openapi as oa

router = APIRouter(prefix="/2", tags=["tweets-v2"])

MEDIA_FIELDS = frozenset(
    {"alt_text", "duration_ms", "height", "media_key", "preview_image_url", "type", "url",
     "variants", "width", "public_metrics", "non_public_metrics", "organic_metrics",
     "promoted_metrics"}
)  # fmt: skip


class TweetMedia(BaseModel):
    model_config = ConfigDict(extra="ignore")
    media_ids: list[Annotated[str, Field(json_schema_extra=oa.SNOWFLAKE)]] = Field(
        min_length=1, max_length=4
    )
    tagged_user_ids: list[Annotated[str, Field(json_schema_extra=oa.SNOWFLAKE)]] = Field(
        default_factory=list, max_length=10
    )


class TweetCreate(BaseModel):
    """`text` may be left out when `media` is present."""

    # "text or media" is not declared as an anyOf: generated clients (openapi-python-client)
    # turn such a model into two types, and posts' own 400 says which is missing.
    model_config = ConfigDict(extra="ignore")
    text: str | None = None
    media: TweetMedia | None = None


class AltText(BaseModel):
    text: str = Field(max_length=1000)


class Metadata(BaseModel):
    model_config = ConfigDict(extra="ignore")
    alt_text: AltText | None = None


class MetadataCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Annotated[str, Field(json_schema_extra=oa.SNOWFLAKE)]
    metadata: Metadata


IdPath = Annotated[
    str, Path(description="a snowflake id (0..2^63-1)", json_schema_extra=oa.SNOWFLAKE)
]
_FIELDS_PATTERN = "^(?:{0})(?:,(?:{0}))*$".format("|".join(sorted(MEDIA_FIELDS)))
MediaFields = Annotated[
    str | None,
    Query(
        alias="media.fields",
        description="comma-separated: " + ", ".join(sorted(MEDIA_FIELDS)),
        json_schema_extra={"pattern": _FIELDS_PATTERN},
    ),
]
_KEY = "[0-9]{1,2}_" + oa.snowflake_range(2**63 - 1)


class _MediaKey(StringConvertor):
    """Only a media key routes to ``GET /2/media/{media_key}``: ``GET /2/media/metadata``
    is then a 405 (with ``Allow: POST``), not a lookup of a media called "metadata"."""

    regex = "[0-9]{1,2}_[0-9]+"


register_url_convertor("media_key", _MediaKey())
MediaKeyPath = Annotated[
    str, Path(description="`<prefix>_<id>`", json_schema_extra={"pattern": f"^{_KEY}$"})
]
_MAX_IDS = 100


def _media_ids_invalid(name: str, raw: object) -> errors.ApiError:
    return errors.MediaIdNotFound("Your media IDs are invalid.")


def _media_ids(raw: list[str]) -> list[int]:
    return params.id_list(raw, "media_ids", max_count=_MAX_IDS, invalid=_media_ids_invalid)


def _fields(raw: str | None) -> set[str]:
    fields = {f.strip() for f in (raw or "").split(",") if f.strip()}
    unknown = fields - MEDIA_FIELDS
    if unknown:
        raise errors.BadParameter(f"media.fields has unknown values: {', '.join(sorted(unknown))}")
    return fields


async def _media_objects(
    request: Request,
    session: AsyncSession,
    items: list[posts.AttachedMedia],
    *,
    fields: set[str],
    viewer_id: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """The v2 media objects of ``items``, with the metric fields the viewer gets."""
    metrics = await media_metrics.media_metrics(
        session, [item.media for item in items], fields=fields, viewer_id=viewer_id, now=now
    )
    base = base_url(request)
    return [
        presenters.media_v2(
            item, base_url=base, fields=fields, metrics=metrics.get(item.media.media_id)
        )
        for item in items
    ]


async def _tweets_body(
    request: Request,
    session: AsyncSession,
    found: list[posts.PostView],
    *,
    expansions: str | None,
    media_fields: str | None,
    tweet_fields: str | None,
    single: bool,
    viewer_id: int,
    now: datetime,
) -> dict[str, Any]:
    expand = "attachments.media_keys" in (expansions or "").split(",")
    wants = expand or "attachments" in (tweet_fields or "").split(",")
    data = [presenters.tweet_v2(p, with_attachments=wants) for p in found]
    body: dict[str, Any] = {"data": data[0] if single else data}
    if expand:
        items = [item for p in found for item in p.media]
        media = await _media_objects(
            request, session, items, fields=_fields(media_fields), viewer_id=viewer_id, now=now
        )
        if media:
            body["includes"] = {"media": media}
    return body


@router.post(
    "/tweets",
    status_code=201,
    responses={201: {"description": '{"data":{"id","text","edit_history_tweet_ids"}}'},
               **v2_error_responses(400, 401, 403, 429)},
    dependencies=[rate_limited("tweets:create", per_user=(200, 900), per_app=(300, THREE_HOURS))],
    openapi_extra=json_request_body(TweetCreate),
)  # fmt: skip
async def create_tweet(
    request: Request, user: CurrentUser, session: SessionDep, ids: IdsDep, clock: ClockDep
) -> Response:
    """Post with up to 4 photos, or 1 animated GIF, or 1 video (`media.media_ids`)."""
    payload = await read_json(request, TweetCreate, POST_BODY)
    media_ids = _media_ids(payload.media.media_ids) if payload.media else []
    if payload.media:
        params.id_list(payload.media.tagged_user_ids, "media.tagged_user_ids", max_count=10)
    post = await posts.create_post(
        session,
        ids,
        author_id=user,
        text=params.text(payload.text, "text"),
        media_ids=media_ids,
        possibly_sensitive=False,
        in_reply_to_status_id=None,
        now=clock(),
    )
    body = {"data": presenters.tweet_v2(post)}
    location = f"{base_url(request)}/2/tweets/{post.id}"
    return TwitterJSONResponse(body, status_code=201, headers={"location": location})


@router.get("/tweets/{id}", responses=v2_error_responses(400, 401, 404))
async def get_tweet(
    request: Request,
    id: IdPath,
    user: CurrentUser,
    session: ReadSessionDep,
    clock: ClockDep,
    expansions: Annotated[str | None, Query()] = None,
    media_fields: MediaFields = None,
    tweet_fields: Annotated[str | None, Query(alias="tweet.fields")] = None,
) -> Response:
    """One post; `expansions=attachments.media_keys` puts its media in `includes.media`."""
    now = clock()
    found = await posts.get_posts(session, [params.snowflake(id, "id")], now=now)
    if not found:
        raise errors.StatusNotFound(f"Could not find tweet with id: [{id}].")
    body = await _tweets_body(
        request,
        session,
        found,
        expansions=expansions,
        media_fields=media_fields,
        tweet_fields=tweet_fields,
        single=True,
        viewer_id=user,
        now=now,
    )
    return TwitterJSONResponse(body)


@router.get("/tweets", responses=v2_error_responses(400, 401))
async def get_tweets(
    request: Request,
    user: CurrentUser,
    session: ReadSessionDep,
    clock: ClockDep,
    ids: Annotated[
        str, Query(description="comma-separated, up to 100", json_schema_extra=oa.ID_LIST)
    ],
    expansions: Annotated[str | None, Query()] = None,
    media_fields: MediaFields = None,
    tweet_fields: Annotated[str | None, Query(alias="tweet.fields")] = None,
) -> Response:
    wanted = params.id_list(ids, "ids", max_count=_MAX_IDS)
    now = clock()
    found = await posts.get_posts(session, wanted, now=now)
    body = await _tweets_body(
        request,
        session,
        found,
        expansions=expansions,
        media_fields=media_fields,
        tweet_fields=tweet_fields,
        single=False,
        viewer_id=user,
        now=now,
    )
    seen = {p.id for p in found}
    missing = [str(i) for i in wanted if i not in seen]
    return TwitterJSONResponse(_partial(body, missing, resource_type="tweet", parameter="ids"))


def _partial(
    body: dict[str, Any], missing: list[str], *, resource_type: str, parameter: str
) -> dict[str, Any]:
    """A list lookup's body: ``data`` only when something was found, ``errors`` for the
    rest (unknown and not visible alike), still HTTP 200."""
    if not body["data"]:
        del body["data"]
    if missing:
        body["errors"] = presenters.not_found_v2(
            missing, resource_type=resource_type, parameter=parameter
        )
    return body


@router.delete(
    "/tweets/{id}",
    responses=v2_error_responses(400, 401, 403, 404, 429),
    dependencies=[rate_limited("tweets:delete", per_user=(50, 900))],
)
async def delete_tweet(
    id: IdPath, user: CurrentUser, session: SessionDep, clock: ClockDep
) -> Response:
    post_id = params.snowflake(id, "id")
    await posts.delete_post(session, user_id=user, post_id=post_id, now=clock())
    return TwitterJSONResponse({"data": {"deleted": True}})


@router.get("/media/{media_key:media_key}", responses=v2_error_responses(400, 401, 404))
async def get_media(
    request: Request,
    media_key: MediaKeyPath,
    user: CurrentUser,
    session: ReadSessionDep,
    clock: ClockDep,
    media_fields: MediaFields = None,
) -> Response:
    """A processed media by key (`<prefix>_<id>`), if the caller may see it: its owner
    and additional owners, everyone once posted, a DM's participants. Anything else is
    404, exactly as a key never issued."""
    now = clock()
    found = await posts.lookup_media(session, [media_key], viewer_id=user, now=now)
    if not found:
        raise errors.MediaNotFound(f"Could not find media with media_key: [{media_key}].")
    [media] = await _media_objects(
        request, session, found, fields=_fields(media_fields), viewer_id=user, now=now
    )
    return TwitterJSONResponse({"data": media})


@router.get("/media", responses=v2_error_responses(400, 401))
async def get_media_many(
    request: Request,
    user: CurrentUser,
    session: ReadSessionDep,
    clock: ClockDep,
    media_keys: Annotated[
        str,
        Query(
            description="comma-separated, up to 100",
            json_schema_extra={"pattern": f"^{_KEY}(?:,{_KEY}){{0,99}}$"},
        ),
    ],
    media_fields: MediaFields = None,
) -> Response:
    keys = [k.strip() for k in media_keys.split(",") if k.strip()]
    if len(keys) > 100:
        raise errors.BadParameter("media_keys takes at most 100 keys.")
    fields, now = _fields(media_fields), clock()
    found = await posts.lookup_media(session, keys, viewer_id=user, now=now)
    media = await _media_objects(request, session, found, fields=fields, viewer_id=user, now=now)
    body: dict[str, Any] = {"data": media}
    seen = {m.media.media_key for m in found}
    missing = [k for k in keys if k not in seen]
    return TwitterJSONResponse(
        _partial(body, missing, resource_type="media", parameter="media_keys")
    )


@router.post(
    "/media/metadata",
    responses=v2_error_responses(400, 401, 429),
    dependencies=[rate_limited("media/metadata", per_user=(500, 900), per_app=(50_000, 86_400))],
    openapi_extra=json_request_body(MetadataCreate),
)
async def create_metadata(
    request: Request, user: CurrentUser, session: SessionDep, clock: ClockDep
) -> Response:
    """Set alt text: `{"id": "<media id>", "metadata": {"alt_text": {"text": "..."}}}`."""
    payload = await read_json(request, MetadataCreate, METADATA_BODY)
    media_id = params.snowflake(payload.id, "id")
    associated: dict[str, Any] = {}
    if payload.metadata.alt_text is not None:
        text = await metadata.set_alt_text(
            session, user_id=user, media_id=media_id,
            text=params.text(payload.metadata.alt_text.text, "alt_text.text"), now=clock(),
        )  # fmt: skip
        associated["alt_text"] = {"text": text}
    return TwitterJSONResponse({"data": {"id": payload.id, "associated_metadata": associated}})
