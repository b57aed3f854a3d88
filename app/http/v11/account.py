"""v1.1 profile image and banner (spec §7.3), users/show, verify_credentials, and the
public routes that serve the resulting files, in the shape of Twitter's CDN:

- ``/profile_images/<account_id>/<token>/avatar[_normal|_bigger|_mini].<ext>``
- ``/profile_banners/<account_id>/<token>[/<size>]``

The token changes with every update, so the files are served as immutable.

Parameters come from the query string and a urlencoded or multipart body. The image is
a normal (large) field, not a streamed one, so the body is read whole, bounded: a bit
over twice the image limit, enough for base64 plus percent-escapes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from app.core import errors
from app.http import params
from app.http.deps import CurrentUser, ReadSessionDep, SessionDep, StoreDep
from app.http.errors import v11_error_responses
from app.http.public.delivery import NOSNIFF, NOSNIFF_DOC, serve
from app.http.responses import TwitterJSONResponse
from app.http.urls import base_url
from app.http.v11 import presenters
from app.media.delivery import DeliveredFile
from app.profiles import service as profiles
from app.profiles.service import ProfileView
from app.schemas import openapi as oa
from app.schemas.common import ErrorsBody

__all__ = ["router"]

router = APIRouter()

_TOKEN = re.compile(r"^[0-9a-f]{20}$")
_USER_DOC = {"description": "A v1.1 user object", "content": {"application/json": {}}}
_FILE_DOCS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the image",
        "content": {"image/png": {}, "image/jpeg": {}, "image/gif": {}},
        "headers": NOSNIFF_DOC,
    },
    206: {"description": "the requested byte range", "headers": NOSNIFF_DOC},
    304: {"description": "not modified"},
    **v11_error_responses(404),
}
_SLACK = 64 * 1024


_BASE64: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": "base64 GIF, JPG or PNG (or the body's multipart file part)",
}
_PIXELS: dict[str, Any] = {"type": "string", "pattern": "^[0-9]{1,9}$"}


def _user(request: Request, view: ProfileView) -> dict[str, Any]:
    return presenters.user_v11(
        view.id,
        view.screen_name,
        base_url=base_url(request),
        profile_image_token=view.image_token,
        profile_banner_token=view.banner_token,
        statuses_count=view.statuses_count,
    )


async def _bounded(
    request: Request, limit: int, too_large: errors.ApiError
) -> AsyncGenerator[bytes]:
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise too_large
            yield chunk
    except ClientDisconnect:
        raise errors.BadParameter("The client closed the connection mid-body.") from None


async def _read_params(
    request: Request, *, limit: int, too_large: errors.ApiError
) -> dict[str, str | bytes]:
    """Query and body parameters (the body wins); a multipart file part as bytes."""
    params: dict[str, str | bytes] = dict(request.query_params)
    kind, _ = parse_options_header(request.headers.get("content-type", ""))
    body_limit = 2 * limit + _SLACK
    stream = _bounded(request, body_limit, too_large)
    form: FormData | None = None
    try:
        if kind == b"multipart/form-data":
            parser = MultiPartParser(
                request.headers, stream, max_files=4, max_fields=50, max_part_size=body_limit
            )
            form = await parser.parse()
        elif kind in (b"application/x-www-form-urlencoded", b""):
            form = await FormParser(
                request.headers, stream, max_fields=50, max_part_size=body_limit
            ).parse()
    except MultiPartException as exc:
        raise errors.BadParameter(f"Malformed body: {exc.message}") from exc
    if form is not None:
        try:
            for key, item in form.multi_items():
                params[key] = await item.read() if isinstance(item, UploadFile) else item
        finally:
            await form.close()
    return params


def _int_param(params_: dict[str, str | bytes], name: str) -> int | None:
    value = params_.get(name)
    return params.pixels(value.decode("latin-1") if isinstance(value, bytes) else value, name)


@router.post(
    "/1.1/account/update_profile_image.json",
    tags=["account-v1.1"],
    responses={200: _USER_DOC, **v11_error_responses(400, 401)},
    openapi_extra={
        "parameters": [
            oa.query("image", _BASE64, required=True),
            oa.query("include_entities", oa.FLAG),
            oa.query("skip_status", oa.FLAG),
        ]
    },
)
async def update_profile_image(
    request: Request, user: CurrentUser, session: SessionDep, store: StoreDep
) -> Response:
    """Set the caller's avatar from `image` (base64 GIF, JPG or PNG, at most 700 KB
    decoded). Animated GIFs are flattened to their first frame, images wider than 400 px
    are scaled down, and `_normal` (48 px), `_bigger` (73 px) and `_mini` (24 px)
    squares are made. Twitter does this asynchronously; we do it before answering, so
    the user object returned already carries the new `profile_image_url_https`."""
    too_large = errors.FileTooLarge("Image", profiles.MAX_IMAGE_BYTES)
    params = await _read_params(request, limit=profiles.MAX_IMAGE_BYTES, too_large=too_large)
    raw = params.get("image")
    if raw is None or raw == "":
        raise errors.ParameterMissing("image")
    data = profiles.decode_image(raw, limit=profiles.MAX_IMAGE_BYTES, too_large=too_large)
    view = await profiles.update_image(session, store, account_id=user, data=data)
    return TwitterJSONResponse(_user(request, view))


@router.post(
    "/1.1/account/update_profile_banner.json",
    tags=["account-v1.1"],
    status_code=201,
    responses={
        201: {"description": "accepted and processed (empty body)"},
        **v11_error_responses(400, 401),
        422: {"description": "the crop region is outside the image", "model": ErrorsBody},
    },
    response_class=Response,
    openapi_extra={
        "parameters": [
            oa.query("banner", _BASE64, required=True),
            *(oa.query(name, _PIXELS) for name in ("width", "height", "offset_left", "offset_top")),
        ]
    },
)
async def update_profile_banner(
    request: Request, user: CurrentUser, session: SessionDep, store: StoreDep
) -> Response:
    """Set the caller's banner from `banner` (base64, or a raw multipart file part; GIF,
    JPG or PNG, at most 5 MB). Optional `width`, `height`, `offset_left`, `offset_top`
    select the region of the image to use, in its pixels. Every size (1500x500, 600x200,
    300x100, web, web_retina, ipad, ipad_retina, mobile, mobile_retina) is made before
    answering 201 with an empty body; `users/show` then has `profile_banner_url`."""
    too_large = errors.FileTooLarge("Banner", profiles.MAX_BANNER_BYTES)
    params = await _read_params(request, limit=profiles.MAX_BANNER_BYTES, too_large=too_large)
    raw = params.get("banner")
    if raw is None or raw == "":
        raise errors.ImageUnreadable("banner parameter is missing.")
    crop = profiles.CropBox(
        width=_int_param(params, "width"),
        height=_int_param(params, "height"),
        left=_int_param(params, "offset_left") or 0,
        top=_int_param(params, "offset_top") or 0,
    )
    data = profiles.decode_image(raw, limit=profiles.MAX_BANNER_BYTES, too_large=too_large)
    await profiles.update_banner(session, store, account_id=user, data=data, crop=crop)
    return Response(status_code=201)


@router.post(
    "/1.1/account/remove_profile_banner.json",
    tags=["account-v1.1"],
    response_class=Response,
    responses={200: {"description": "removed (empty body, as Twitter answers)"},
               **v11_error_responses(400, 401)},
)  # fmt: skip
async def remove_profile_banner(
    user: CurrentUser, session: SessionDep, store: StoreDep
) -> Response:
    """Remove the caller's banner (and its files); 200 with an empty body."""
    await profiles.remove_banner(session, store, account_id=user)
    return Response(status_code=200)


@router.get(
    "/1.1/users/show.json",
    tags=["users-v1.1"],
    responses={200: _USER_DOC, **v11_error_responses(400, 401, 404)},
)
async def show_user(
    request: Request,
    user: CurrentUser,
    session: ReadSessionDep,
    user_id: Annotated[str | None, Query()] = None,
    screen_name: Annotated[str | None, Query(max_length=50)] = None,
) -> Response:
    """One user by `user_id` or `screen_name`, with `profile_image_url_https` and, when
    a banner is set, `profile_banner_url`. 404 (code 50) for an unknown user."""
    account_id = params.optional_snowflake(user_id, "user_id")
    if account_id is None and not screen_name:
        raise errors.ParameterMissing("user_id")
    view = await profiles.get_profile(session, user_id=account_id, screen_name=screen_name)
    return TwitterJSONResponse(_user(request, view))


@router.get(
    "/1.1/account/verify_credentials.json",
    tags=["users-v1.1"],
    responses={200: _USER_DOC, **v11_error_responses(400, 401)},
)
async def verify_credentials(
    request: Request, user: CurrentUser, session: ReadSessionDep
) -> Response:
    """The caller's own user object (200), or 401 (code 32 / 89) for bad credentials."""
    view = await profiles.get_profile(session, user_id=user)
    return TwitterJSONResponse(_user(request, view))


@router.get(
    "/profile_images/default_normal.png",
    tags=["delivery"],
    operation_id="delivery-default_profile_image",
    response_class=Response,
    responses={
        200: {"description": "a 48 px PNG", "content": {"image/png": {}}, "headers": NOSNIFF_DOC}
    },
)
async def default_profile_image() -> Response:
    """The avatar of users without one (`default_profile_image: true`)."""
    headers = {"cache-control": "public, max-age=86400", **NOSNIFF}
    return Response(profiles.default_avatar(), media_type="image/png", headers=headers)


@router.get(
    "/profile_images/{account_id}/{token}/{filename}",
    tags=["delivery"],
    operation_id="delivery-profile_image",
    response_class=Response,
    responses=_FILE_DOCS,
)
async def profile_image(
    request: Request,
    session: ReadSessionDep,
    store: StoreDep,
    account_id: str,
    token: str,
    filename: str,
) -> Response:
    """An avatar: `avatar.<ext>` (at most 400 px wide) or its `_normal`, `_bigger`,
    `_mini` squares. Public and immutable: a new avatar gets a new token."""
    if not _TOKEN.match(token):
        raise errors.MediaNotFound()
    found = await profiles.find_image(
        session, store, account_id=_account_id(account_id), token=token, filename=filename
    )
    return serve(request, store, found)


@router.get(
    "/profile_banners/{account_id}/{token}",
    tags=["delivery"],
    operation_id="delivery-profile_banner",
    response_class=Response,
    responses=_FILE_DOCS,
)
async def profile_banner(
    request: Request, session: ReadSessionDep, store: StoreDep, account_id: str, token: str
) -> Response:
    """The banner at its largest size, 1500x500."""
    return serve(request, store, await _banner(session, store, account_id, token, None))


@router.get(
    "/profile_banners/{account_id}/{token}/{size}",
    tags=["delivery"],
    operation_id="delivery-profile_banner_size",
    response_class=Response,
    responses=_FILE_DOCS,
)
async def profile_banner_size(
    request: Request,
    session: ReadSessionDep,
    store: StoreDep,
    account_id: str,
    token: str,
    size: str,
) -> Response:
    """A banner size: `1500x500`, `600x200`, `300x100`, `web` (520x260), `web_retina`,
    `ipad` (626x313), `ipad_retina`, `mobile` (320x160) or `mobile_retina`. Public and
    immutable: a new banner gets a new token."""
    return serve(request, store, await _banner(session, store, account_id, token, size))


async def _banner(
    session: SessionDep, store: StoreDep, account_id: str, token: str, size: str | None
) -> DeliveredFile:
    if not _TOKEN.match(token):
        raise errors.MediaNotFound()
    return await profiles.find_banner(
        session, store, account_id=_account_id(account_id), token=token, size=size
    )


def _not_found(name: str, raw: object) -> errors.ApiError:
    return errors.MediaNotFound()


def _account_id(raw: str) -> int:
    """A file path's account id: not a snowflake is no such file (404)."""
    return params.snowflake(raw, "account_id", invalid=_not_found)
