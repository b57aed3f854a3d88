"""Subtitle tracks on videos, v2: ``POST|DELETE /2/media/subtitles``. Bodies are JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.http import params
from app.http.deps import ClockDep, CurrentUser, SessionDep, StoreDep
from app.http.errors import v2_error_responses
from app.http.json_body import SUBTITLES_BODY, json_request_body, read_json
from app.http.ratelimit import SUBTITLES, limited
from app.http.responses import TwitterJSONResponse
from app.media import subtitles
from app.schemas import openapi as oa

router = APIRouter(tags=["subtitles"])

_LIMIT = limited(SUBTITLES)


_ID = Field(json_schema_extra=oa.SNOWFLAKE)


class SubtitleV2(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Annotated[str, _ID]
    language_code: Annotated[str, Field(min_length=1)]
    display_name: str = ""


class SubtitlesCreateV2(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Annotated[str, _ID]
    media_category: str = "TweetVideo"
    subtitles: SubtitleV2


class SubtitlesDeleteV2(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Annotated[str, _ID]
    language_code: Annotated[str, Field(min_length=1)]
    media_category: str = "TweetVideo"


@router.post(
    "/2/media/subtitles",
    responses=v2_error_responses(400, 401, 404, 429),
    dependencies=[_LIMIT],
    openapi_extra=json_request_body(SubtitlesCreateV2),
)
async def create_v2(
    request: Request, user: CurrentUser, session: SessionDep, store: StoreDep, clock: ClockDep
) -> Response:
    payload = await read_json(request, SubtitlesCreateV2, SUBTITLES_BODY)
    video_id = params.snowflake(payload.id, "id")
    tracks = await subtitles.attach_subtitles(
        session, store, user_id=user, video_id=video_id,
        subtitle_id=params.snowflake(payload.subtitles.id, "subtitles.id"),
        language_code=params.text(payload.subtitles.language_code, "subtitles.language_code"),
        display_name=params.text(payload.subtitles.display_name, "subtitles.display_name"),
        now=clock(),
    )  # fmt: skip
    return TwitterJSONResponse(
        {
            "data": {
                "id": payload.id,
                "media_category": payload.media_category,
                "associated_subtitles": [
                    {
                        "id": str(t.subtitle_id),
                        "language_code": t.language_code.upper(),
                        "display_name": t.display_name,
                    }
                    for t in tracks
                ],
            }
        }
    )


@router.delete(
    "/2/media/subtitles",
    responses=v2_error_responses(400, 401, 404, 429),
    dependencies=[_LIMIT],
    openapi_extra=json_request_body(SubtitlesDeleteV2),
)
async def delete_v2(
    request: Request, user: CurrentUser, session: SessionDep, store: StoreDep
) -> Response:
    """Body: `{"id","language_code","media_category"}` (a DELETE with a JSON body)."""
    payload = await read_json(request, SubtitlesDeleteV2, SUBTITLES_BODY)
    await subtitles.detach_subtitles(
        session, store, user_id=user, video_id=params.snowflake(payload.id, "id"),
        language_code=params.text(payload.language_code, "language_code"),
    )  # fmt: skip
    return TwitterJSONResponse({"data": {"deleted": True}})
