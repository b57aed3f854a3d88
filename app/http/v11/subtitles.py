"""Subtitle tracks on videos, v1.1: ``media/subtitles/create|delete.json``. Bodies are
JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.core import errors
from app.http import params
from app.http.deps import ClockDep, CurrentUser, SessionDep, StoreDep
from app.http.errors import v11_error_responses
from app.http.json_body import SUBTITLES_BODY, read_json_object
from app.http.ratelimit import SUBTITLES, limited
from app.media import subtitles
from app.schemas import openapi as oa

router = APIRouter(tags=["subtitles"])

_LIMIT = limited(SUBTITLES)


def _tracks(body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    video_id = params.snowflake(body.get("media_id"), "media_id")
    try:
        items = body["subtitle_info"]["subtitles"]
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise TypeError("subtitles must be a non-empty list of objects")
    except (KeyError, TypeError):
        raise errors.BadParameter(
            "Expected media_id and subtitle_info.subtitles[] in the JSON body."
        ) from None
    return video_id, items


@router.post(
    "/1.1/media/subtitles/create.json",
    status_code=204,
    responses={
        204: {"description": "attached (empty body)"},
        **v11_error_responses(400, 401, 404, 429),
    },
    dependencies=[_LIMIT],
    openapi_extra=oa.json_body(oa.SUBTITLES_CREATE_V11),
)
async def create_v11(
    request: Request, user: CurrentUser, session: SessionDep, store: StoreDep, clock: ClockDep
) -> Response:
    """`{"media_id","media_category","subtitle_info":{"subtitles":[{"media_id",
    "language_code","display_name"}]}}`: attach subtitle tracks to your video."""
    video_id, items = _tracks(await read_json_object(request, SUBTITLES_BODY))
    for item in items:
        await subtitles.attach_subtitles(
            session, store, user_id=user, video_id=video_id,
            subtitle_id=params.snowflake(item.get("media_id"), "subtitle_info.subtitles.media_id"),
            language_code=params.text(item.get("language_code"), "language_code"),
            display_name=params.text(item.get("display_name"), "display_name"), now=clock(),
        )  # fmt: skip
    return Response(status_code=204)


@router.post(
    "/1.1/media/subtitles/delete.json",
    status_code=204,
    responses={
        204: {"description": "removed (empty body)"},
        **v11_error_responses(400, 401, 404, 429),
    },
    dependencies=[_LIMIT],
    openapi_extra=oa.json_body(oa.SUBTITLES_DELETE_V11),
)
async def delete_v11(
    request: Request, user: CurrentUser, session: SessionDep, store: StoreDep
) -> Response:
    video_id, items = _tracks(await read_json_object(request, SUBTITLES_BODY))
    for item in items:
        await subtitles.detach_subtitles(
            session, store, user_id=user, video_id=video_id,
            language_code=params.text(item.get("language_code"), "language_code"),
        )  # fmt: skip
    return Response(status_code=204)
