"""v1.1 direct messages (``direct_messages/events``) and their private media URLs.

DM media is served only below ``/1.1/ton/data/dm/<event id>/`` to the two participants
(authenticated), never by the public delivery routes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.core import errors
from app.dms import service as dms
from app.http import params
from app.http.deps import ClockDep, CurrentUser, IdsDep, ReadSessionDep, SessionDep, StoreDep
from app.http.errors import v11_error_responses
from app.http.json_body import DM_BODY, read_json_object
from app.http.public.delivery import serve
from app.http.ratelimit import DM_CREATE, limited
from app.http.responses import TwitterJSONResponse
from app.http.urls import base_url
from app.http.v11 import presenters as v11_presenters
from app.media import delivery
from app.schemas import openapi as oa

router = APIRouter(tags=["direct-messages"])

_DM_LIMIT = limited(DM_CREATE)


@router.post(
    "/1.1/direct_messages/events/new.json",
    responses=v11_error_responses(400, 401, 403, 404, 429),
    dependencies=[_DM_LIMIT],
    openapi_extra=oa.json_body(oa.DM_EVENT_V11),
)
async def new_event(
    request: Request, user: CurrentUser, session: SessionDep, ids: IdsDep, clock: ClockDep
) -> Response:
    """Send a `message_create` event with at most one media attachment
    (`message_data.attachment = {"type":"media","media":{"id":"<media_id>"}}`)."""
    body = await read_json_object(request, DM_BODY)
    try:
        create = body["event"]["message_create"]
        recipient = create["target"]["recipient_id"]
        message: dict[str, Any] = create.get("message_data", {})
        attachment = message.get("attachment")
        if not isinstance(message, dict) or not isinstance(attachment, dict | None):
            raise TypeError("message_data and its attachment are objects")
    except (KeyError, TypeError, AttributeError):
        raise errors.MalformedBody("The body must be a message_create event.") from None
    media_id = None
    if attachment is not None:
        if attachment.get("type") != "media" or not isinstance(attachment.get("media"), dict):
            raise errors.BadParameter("Only media attachments are supported.")
        media_id = params.snowflake(attachment["media"].get("id"), "media.id")
    dm = await dms.send_dm(
        session, ids, sender_id=user, recipient_id=params.snowflake(recipient, "recipient_id"),
        text=params.text(message.get("text"), "text"), media_id=media_id, now=clock(),
    )  # fmt: skip
    return TwitterJSONResponse(
        {"event": v11_presenters.dm_event_v11(dm, base_url=base_url(request))}
    )


@router.get("/1.1/direct_messages/events/show.json", responses=v11_error_responses(400, 401, 404))
async def show_event(
    request: Request,
    user: CurrentUser,
    session: ReadSessionDep,
    clock: ClockDep,
    id: Annotated[str, Query(description="event id", json_schema_extra=oa.SNOWFLAKE)],
) -> Response:
    dm = await dms.get_dm(session, user_id=user, dm_id=params.snowflake(id, "id"), now=clock())
    return TwitterJSONResponse(
        {"event": v11_presenters.dm_event_v11(dm, base_url=base_url(request))}
    )


DmIdPath = Annotated[str, Path(description="the DM event id", json_schema_extra=oa.SNOWFLAKE)]


def _not_found(name: str, raw: object) -> errors.ApiError:
    return errors.MediaNotFound()


def _file_dm_id(raw: str) -> int:
    """A private file URL's event id: not a snowflake is no such file (404)."""
    return params.snowflake(raw, "dm_id", invalid=_not_found)


@router.get(
    "/1.1/ton/data/dm/{dm_id}/media/{filename}",
    response_class=Response,
    responses=v11_error_responses(400, 401, 404),
)
async def dm_photo(
    request: Request,
    dm_id: DmIdPath,
    filename: str,
    user: CurrentUser,
    session: ReadSessionDep,
    store: StoreDep,
    clock: ClockDep,
    name: Annotated[str | None, Query()] = None,
    format: Annotated[str | None, Query()] = None,
) -> Response:
    """A DM photo, for the DM's sender and recipient only."""
    dm = await dms.get_dm(session, user_id=user, dm_id=_file_dm_id(dm_id), now=clock())
    token, _, fmt = filename.partition(".")
    if dm.media is None or dm.media.media.delivery_token != token:
        raise errors.MediaNotFound()
    found = await delivery.find_photo(
        session, store, token=token, fmt=format or fmt or None, size=name, allow_private=True
    )
    return serve(request, store, found)


@router.get(
    "/1.1/ton/data/dm/{dm_id}/video/{media_key}/{token}/{path:path}",
    response_class=Response,
    responses=v11_error_responses(400, 401, 404),
)
async def dm_video(
    request: Request,
    dm_id: DmIdPath,
    media_key: str,
    token: str,
    path: str,
    user: CurrentUser,
    session: ReadSessionDep,
    store: StoreDep,
    clock: ClockDep,
) -> Response:
    """A DM video or GIF file, for the DM's sender and recipient only."""
    dm = await dms.get_dm(session, user_id=user, dm_id=_file_dm_id(dm_id), now=clock())
    if dm.media is None or dm.media.media.delivery_token != token:
        raise errors.MediaNotFound()
    found = await delivery.find_video_file(
        session, store, media_key=media_key, token=token, path=path, allow_private=True
    )
    return serve(request, store, found)
