"""Subtitle tracks on videos: v1.1 ``media/subtitles/create|delete.json`` and v2
``POST|DELETE /2/media/subtitles``. Bodies are JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.core import errors
from app.http.deps import ClockDep, CurrentUser, SessionDep, StoreDep
from app.http.errors import v11_error_responses
from app.http.forms import json_object
from app.http.ratelimit import rate_limited
from app.http.responses import TwitterJSONResponse
from app.media import subtitles

router = APIRouter(tags=["subtitles"])

_LIMIT = rate_limited("media/subtitles", per_user=(100, 900), per_app=(10_000, 86_400))
_ID = r"^[0-9]{1,19}$"


def _tracks(body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    try:
        video_id = int(str(body["media_id"]))
        items = body["subtitle_info"]["subtitles"]
        if not isinstance(items, list) or not items:
            raise TypeError("subtitles must be a non-empty list")
    except (KeyError, ValueError, TypeError):
        raise errors.BadParameter(
            "Expected media_id and subtitle_info.subtitles[] in the JSON body."
        ) from None
    return video_id, items


@router.post(
    "/1.1/media/subtitles/create.json",
    status_code=204,
    responses={204: {"description": "attached (empty body)"}, **v11_error_responses(400, 401, 404)},
    dependencies=[_LIMIT],
)
async def create_v11(
    request: Request, user: CurrentUser, session: SessionDep, store: StoreDep, clock: ClockDep
) -> Response:
    """`{"media_id","media_category","subtitle_info":{"subtitles":[{"media_id",
    "language_code","display_name"}]}}`: attach subtitle tracks to your video."""
    video_id, items = _tracks(json_object(await request.body()))
    for item in items:
        await subtitles.attach_subtitles(
            session, store, user_id=user, video_id=video_id,
            subtitle_id=int(str(item.get("media_id", "0"))),
            language_code=str(item.get("language_code", "")),
            display_name=str(item.get("display_name", "")), now=clock(),
        )  # fmt: skip
    return Response(status_code=204)


@router.post(
    "/1.1/media/subtitles/delete.json",
    status_code=204,
    responses={204: {"description": "removed (empty body)"}, **v11_error_responses(400, 401, 404)},
    dependencies=[_LIMIT],
)
async def delete_v11(
    request: Request, user: CurrentUser, session: SessionDep, store: StoreDep
) -> Response:
    video_id, items = _tracks(json_object(await request.body()))
    for item in items:
        await subtitles.detach_subtitles(
            session, store, user_id=user, video_id=video_id,
            language_code=str(item.get("language_code", "")),
        )  # fmt: skip
    return Response(status_code=204)


class SubtitleV2(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(pattern=_ID)
    language_code: str
    display_name: str = ""


class SubtitlesCreateV2(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(pattern=_ID)
    media_category: str = "TweetVideo"
    subtitles: SubtitleV2


class SubtitlesDeleteV2(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(pattern=_ID)
    language_code: str
    media_category: str = "TweetVideo"


@router.post(
    "/2/media/subtitles", responses=v11_error_responses(400, 401, 404), dependencies=[_LIMIT]
)
async def create_v2(
    payload: SubtitlesCreateV2,
    user: CurrentUser,
    session: SessionDep,
    store: StoreDep,
    clock: ClockDep,
) -> Response:
    tracks = await subtitles.attach_subtitles(
        session, store, user_id=user, video_id=int(payload.id),
        subtitle_id=int(payload.subtitles.id), language_code=payload.subtitles.language_code,
        display_name=payload.subtitles.display_name, now=clock(),
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
    "/2/media/subtitles", responses=v11_error_responses(400, 401, 404), dependencies=[_LIMIT]
)
async def delete_v2(
    request: Request, user: CurrentUser, session: SessionDep, store: StoreDep
) -> Response:
    """Body: `{"id","language_code","media_category"}` (a DELETE with a JSON body)."""
    payload = SubtitlesDeleteV2.model_validate(json_object(await request.body()))
    await subtitles.detach_subtitles(
        session, store, user_id=user, video_id=int(payload.id), language_code=payload.language_code
    )
    return TwitterJSONResponse({"data": {"deleted": True}})
