"""Ads API media library (§7): list (keyset ``cursor``, ``media_type``, ``q``), get,
add, update, delete. Parameters from the query string or the body (the SDK sends them
in the query string, §13.1); unknown and read-only ones are ignored (§13.4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.http.deps import ClockDep, IdsDep, ReadSessionDep, SessionDep, StoreDep
from app.http.studio import library_wire
from app.http.studio.deps import AccountIdPath, ParamsDep, studio_access
from app.http.studio.envelope import data_response
from app.http.studio.params import AdsParams, count, one_of, text
from app.http.urls import base_url
from app.schemas import openapi as oa
from app.studio import errors
from app.studio import library as service
from app.studio.access import Access
from app.studio.library_views import CATEGORIES, MEDIA_TYPES
from app.studio.permissions import Action

__all__ = ["router"]

router = APIRouter(tags=["studio-library"])

MediaKeyPath = Annotated[str, Path(description="a media key (`3_…`, `7_…`, `13_…`, `16_…`)")]
_ITEM_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "`data`: the library object (§7.1)"},
    400: {"description": "INVALID_PARAMETER, MISSING_PARAMETER or INVALID_MEDIA"},
    401: {"description": "UNAUTHORIZED_ACCESS"},
    403: {"description": "NOT_FOUND (account) or ACTION_NOT_ALLOWED"},
    404: {"description": "NOT_FOUND: the media is not in this library"},
}
_STRING = {"type": "string"}
_FIELD_PARAMS = [
    oa.query("name", {"type": "string", "maxLength": 100}),
    oa.query("title", {"type": "string", "maxLength": 70}),
    oa.query("description", {"type": "string", "maxLength": 200}),
    oa.query("file_name", {"type": "string", "maxLength": 255}),
    oa.query("poster_media_key", _STRING),
]


def _changes(params: AdsParams) -> dict[str, str]:
    """The writable fields sent (an empty value unsets one)."""
    changes = {}
    for name in service.FIELDS:
        value = text(params, name, max_length=service.LIMITS.get(name, 64))
        if value is not None:
            changes[name] = value
    return changes


def _one(request: Request, view: Any, params: dict[str, Any], status_code: int = 200) -> Response:
    return data_response(
        library_wire.library_item(view, base_url=base_url(request)),
        params=params,
        status_code=status_code,
    )


@router.get(
    "/accounts/{account_id}/media_library",
    operation_id="studio-media-library-list",
    responses=_ITEM_DOC,
    openapi_extra={
        "parameters": [
            oa.query("count", {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}),
            oa.query("cursor", _STRING),
            oa.query("media_type", {"type": "string", "enum": list(MEDIA_TYPES)}),
            oa.query("q", {"type": "string", "minLength": 1, "maxLength": 255}),
        ]
    },
)
async def list_library(
    request: Request,
    access: Annotated[Access, studio_access(Action.READ_LIBRARY)],
    params: ParamsDep,
    session: ReadSessionDep,
    clock: ClockDep,
    account_id: AccountIdPath,
) -> Response:
    """The account's library, newest first; `next_cursor` pages on (null at the end).
    `q`: every term (case-insensitive word) must be in the name, title, file_name or
    description."""
    size = count(params, default=20, high=50)
    raw_cursor = params.one("cursor")
    cursor = service.decode_cursor(raw_cursor) if raw_cursor else None
    media_type = one_of(params, "media_type", MEDIA_TYPES)
    q = text(params, "q", max_length=255)
    if q is not None and not q:
        raise errors.InvalidParameter("q", "q must be 1 to 255 characters")
    views, next_cursor = await service.list_items(
        session,
        account_id=access.account.id,
        count=size,
        cursor=cursor,
        media_type=media_type,
        q=q,
        now=clock(),
    )
    echo: dict[str, Any] = {"account_id": account_id, "count": size}
    for name, value in (("cursor", raw_cursor), ("media_type", media_type), ("q", q)):
        if value:
            echo[name] = value
    base = base_url(request)
    return data_response(
        [library_wire.library_item(v, base_url=base) for v in views],
        params=echo,
        next_cursor=next_cursor,
    )


@router.get(
    "/accounts/{account_id}/media_library/{media_key}",
    operation_id="studio-media-library-get",
    responses=_ITEM_DOC,
)
async def get_library_item(
    request: Request,
    access: Annotated[Access, studio_access(Action.READ_LIBRARY)],
    session: ReadSessionDep,
    clock: ClockDep,
    account_id: AccountIdPath,
    media_key: MediaKeyPath,
) -> Response:
    """One library item."""
    view = await service.get_item(
        session, account_id=access.account.id, media_key=media_key, now=clock()
    )
    return _one(request, view, {"account_id": account_id, "media_key": media_key})


@router.post(
    "/accounts/{account_id}/media_library",
    operation_id="studio-media-library-add",
    status_code=201,
    responses={**_ITEM_DOC, 201: {"description": "`data`: the new library object"}},
    openapi_extra={
        "parameters": [
            oa.query("media_key", _STRING, required=True),
            oa.query("media_category", {"type": "string", "enum": list(CATEGORIES)}),
            *_FIELD_PARAMS,
        ]
    },
)
async def add_library_item(
    request: Request,
    access: Annotated[Access, studio_access(Action.EDIT_LIBRARY)],
    params: ParamsDep,
    session: SessionDep,
    ids: IdsDep,
    clock: ClockDep,
    account_id: AccountIdPath,
) -> Response:
    """Add a media the account's owner may attach (`media_key`, or a numeric media id
    with `media_category`). 201 with the new item; a media already in the library
    answers 200 with the item as it is."""
    media_key = params.one("media_key") or None
    media_id = params.one("media_id") or None
    if media_key is None and media_id is None:
        raise errors.MissingParameter("media_key")
    category = one_of(params, "media_category", CATEGORIES)
    changes = _changes(params)
    view, created = await service.add_item(
        session,
        ids,
        account=access.account,
        user_id=access.user_id,
        media_key=media_key,
        media_id=media_id,
        media_category=category,
        changes=changes,
        now=clock(),
    )
    echo: dict[str, Any] = {"account_id": account_id, "media_key": media_key or media_id}
    echo.update(changes)
    return _one(request, view, echo, status_code=201 if created else 200)


@router.put(
    "/accounts/{account_id}/media_library/{media_key}",
    operation_id="studio-media-library-update",
    responses=_ITEM_DOC,
    openapi_extra={"parameters": _FIELD_PARAMS},
)
async def update_library_item(
    request: Request,
    access: Annotated[Access, studio_access(Action.EDIT_LIBRARY)],
    params: ParamsDep,
    session: SessionDep,
    clock: ClockDep,
    account_id: AccountIdPath,
    media_key: MediaKeyPath,
) -> Response:
    """Change name, title, description, file_name, poster_media_key (an empty value
    unsets one); other parameters (the read-only fields the SDK echoes) are ignored."""
    changes = _changes(params)
    view = await service.update_item(
        session,
        account=access.account,
        user_id=access.user_id,
        media_key=media_key,
        changes=changes,
        now=clock(),
    )
    return _one(request, view, {"account_id": account_id, "media_key": media_key, **changes})


@router.delete(
    "/accounts/{account_id}/media_library/{media_key}",
    operation_id="studio-media-library-delete",
    responses=_ITEM_DOC,
)
async def delete_library_item(
    request: Request,
    access: Annotated[Access, studio_access(Action.DELETE_MEDIA)],
    session: SessionDep,
    store: StoreDep,
    clock: ClockDep,
    account_id: AccountIdPath,
    media_key: MediaKeyPath,
) -> Response:
    """The trash can: the account owner's own media is deleted for good (bytes and
    variants; posts that carried it show it unavailable); anyone else's media only
    leaves this library. Answers the item with `deleted` true."""
    view = await service.delete_item(
        session, store, account=access.account, media_key=media_key, now=clock()
    )
    return _one(request, view, {"account_id": account_id, "media_key": media_key})
