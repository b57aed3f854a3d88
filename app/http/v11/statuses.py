"""v1.1 posts and media metadata: statuses/update, show, destroy, user_timeline,
media/metadata/create. Parameters come from the query string, the body, or both."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.core import errors
from app.http import params
from app.http.deps import ClockDep, CurrentUser, IdsDep, ReadSessionDep, SessionDep
from app.http.errors import v11_error_responses
from app.http.forms import open_form
from app.http.json_body import METADATA_BODY, UPDATE_BODY, read_json_object
from app.http.ratelimit import THREE_HOURS, rate_limited
from app.http.responses import TwitterJSONResponse
from app.http.urls import base_url
from app.http.v11 import presenters
from app.media import metadata
from app.posts import service as posts
from app.schemas import openapi as oa

router = APIRouter(prefix="/1.1", tags=["statuses-v1.1"])

_STATUS_DOC = {"description": "A v1.1 status object", "content": {"application/json": {}}}


# More than 4 media is the posting rule's 324; this only bounds the list.
_MAX_MEDIA_IDS = 100
IdQuery = Annotated[str, Query(description="a snowflake id", json_schema_extra=oa.SNOWFLAKE)]
IdPath = Annotated[str, Path(description="a snowflake id", json_schema_extra=oa.SNOWFLAKE)]
OptionalId = Annotated[
    str | None, Query(description="a snowflake id", json_schema_extra=oa.SNOWFLAKE)
]


@router.post(
    "/statuses/update.json",
    responses={200: _STATUS_DOC, **v11_error_responses(400, 401, 403, 429)},
    dependencies=[
        rate_limited("statuses/update", per_user=(300, THREE_HOURS), per_app=(300, THREE_HOURS))
    ],
    openapi_extra={
        "parameters": [
            # In the query string at most 1,000 characters: past ~16 KiB of URL uvicorn
            # itself refuses the request line (a plain-text 400). Longer text goes in the
            # body; past 280 weighted characters it is 403 code 186 either way.
            oa.query("status", {"type": "string", "maxLength": 1000}),
            oa.query("media_ids", oa.ID_LIST),
            oa.query("possibly_sensitive", oa.FLAG),
            oa.query("in_reply_to_status_id", oa.SNOWFLAKE),
        ]
    },
)
async def update(
    request: Request, user: CurrentUser, session: SessionDep, ids: IdsDep, clock: ClockDep
) -> Response:
    """Post a status with up to 4 photos, or 1 animated GIF, or 1 video (`media_ids`)."""
    form = await open_form(request, max_body=UPDATE_BODY)
    await form.read_rest()
    values = form.params
    reply = values.get("in_reply_to_status_id")
    post = await posts.create_post(
        session,
        ids,
        author_id=user,
        text=params.text(values.get("status"), "status"),
        media_ids=params.id_list(values.get("media_ids"), "media_ids", max_count=_MAX_MEDIA_IDS),
        possibly_sensitive=params.flag(values.get("possibly_sensitive")),
        in_reply_to_status_id=params.optional_snowflake(reply, "in_reply_to_status_id"),
        now=clock(),
    )
    return TwitterJSONResponse(presenters.status_v11(post, base_url=base_url(request)))


@router.get(
    "/statuses/show.json", responses={200: _STATUS_DOC, **v11_error_responses(400, 401, 404)}
)
async def show(
    request: Request,
    user: CurrentUser,
    session: ReadSessionDep,
    clock: ClockDep,
    id: IdQuery,
    include_ext_alt_text: Annotated[str | None, Query()] = None,
) -> Response:
    """One status; `include_ext_alt_text=true` adds each media's `ext_alt_text`."""
    found = await posts.get_posts(session, [params.snowflake(id, "id")], now=clock())
    if not found:
        raise errors.StatusNotFound()
    body = presenters.status_v11(
        found[0], base_url=base_url(request), include_ext_alt_text=params.flag(include_ext_alt_text)
    )
    return TwitterJSONResponse(body)


@router.post(
    "/statuses/destroy/{id}.json",
    responses={200: _STATUS_DOC, **v11_error_responses(400, 401, 403, 404)},
)
async def destroy(
    request: Request, id: IdPath, user: CurrentUser, session: SessionDep, clock: ClockDep
) -> Response:
    """Delete one of your statuses; answers the deleted status."""
    post_id = params.snowflake(id, "id")
    post = await posts.delete_post(session, user_id=user, post_id=post_id, now=clock())
    return TwitterJSONResponse(presenters.status_v11(post, base_url=base_url(request)))


@router.get(
    "/statuses/user_timeline.json",
    responses={200: {"description": "statuses, newest first"}, **v11_error_responses(400, 401)},
)
async def user_timeline(
    request: Request,
    user: CurrentUser,
    session: ReadSessionDep,
    clock: ClockDep,
    user_id: OptionalId = None,
    count: Annotated[int, Query(ge=1, le=200)] = 20,
    max_id: OptionalId = None,
) -> Response:
    """The newest statuses of `user_id` (default: the caller)."""
    found = await posts.user_timeline(
        session,
        user_id=params.optional_snowflake(user_id, "user_id") or user,
        count=count,
        max_id=params.optional_snowflake(max_id, "max_id"),
        now=clock(),
    )
    base = base_url(request)
    return TwitterJSONResponse([presenters.status_v11(p, base_url=base) for p in found])


@router.post(
    "/media/metadata/create.json",
    status_code=204,
    responses={204: {"description": "stored (empty body)"}, **v11_error_responses(400, 401, 429)},
    dependencies=[rate_limited("media/metadata", per_user=(500, 900), per_app=(50_000, 86_400))],
    openapi_extra=oa.json_body(oa.METADATA_CREATE_V11),
)
async def metadata_create(
    request: Request, user: CurrentUser, session: SessionDep, clock: ClockDep
) -> Response:
    """Set a media's alt text. The body is JSON whatever its Content-Type says (or none);
    `media_id` may be a number or a string. Answers 204 with an empty body."""
    body = await read_json_object(request, METADATA_BODY)
    media_id = params.snowflake(body.get("media_id"), "media_id")
    alt = body.get("alt_text")
    if not isinstance(alt, dict) or not isinstance(alt.get("text"), str):
        raise errors.ParameterMissing("alt_text")
    text = params.text(alt["text"], "alt_text.text")
    await metadata.set_alt_text(session, user_id=user, media_id=media_id, text=text, now=clock())
    return Response(status_code=204)
