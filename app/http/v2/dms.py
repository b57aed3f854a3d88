"""v2 direct messages: ``POST /2/dm_conversations/with/{participant_id}/messages``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.dms import service as dms
from app.http import params
from app.http.deps import ClockDep, CurrentUser, IdsDep, SessionDep
from app.http.errors import v2_error_responses
from app.http.json_body import DM_BODY, json_request_body, read_json
from app.http.ratelimit import DM_CREATE, limited
from app.http.responses import TwitterJSONResponse
from app.http.v2 import presenters as v2_presenters
from app.schemas import openapi as oa

router = APIRouter(tags=["direct-messages"])

_DM_LIMIT = limited(DM_CREATE)


class DmAttachment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    media_id: Annotated[str, Field(json_schema_extra=oa.SNOWFLAKE)]


class DmCreate(BaseModel):
    """`text` and/or one attachment (not declared as an anyOf: see TweetCreate)."""

    model_config = ConfigDict(extra="ignore")
    text: str | None = None
    attachments: list[DmAttachment] = Field(default_factory=list, max_length=1)


@router.post(
    "/2/dm_conversations/with/{participant_id}/messages",
    status_code=201,
    responses=v2_error_responses(400, 401, 403, 404, 429),
    dependencies=[_DM_LIMIT],
    openapi_extra=json_request_body(DmCreate),
)
async def v2_send(
    request: Request,
    participant_id: Annotated[
        str, Path(description="the other participant's user id", json_schema_extra=oa.SNOWFLAKE)
    ],
    user: CurrentUser,
    session: SessionDep,
    ids: IdsDep,
    clock: ClockDep,
) -> Response:
    """One-to-one message: `text` and/or one `attachments[].media_id`."""
    recipient_id = params.snowflake(participant_id, "participant_id")
    payload = await read_json(request, DmCreate, DM_BODY)
    media_id = (
        params.snowflake(payload.attachments[0].media_id, "attachments.media_id")
        if payload.attachments
        else None
    )
    dm = await dms.send_dm(
        session, ids, sender_id=user, recipient_id=recipient_id,
        text=params.text(payload.text, "text"), media_id=media_id, now=clock(),
    )  # fmt: skip
    return TwitterJSONResponse(v2_presenters.dm_sent_v2(dm), status_code=201)
