"""Ads API draft posts (§9) and scheduled posts (§8); previews, posting now and the
posts list (§10) are in ``previews``.

Parameters come from the query string or the body (``params.read_params``); unknown
and read-only ones (the SDK echoes ``id``, ``user_id``, ``scheduled_status``,
``created_at`` on PUT) are ignored. On PUT only the given fields change, and
``card_uri=`` / ``media_keys=`` / ``name=`` sent empty unset them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.http.deps import ClockDep, IdsDep, ReadSessionDep, SessionDep, context_of
from app.http.studio import params as ads
from app.http.studio.deps import ParamsDep, studio_access
from app.http.studio.envelope import AdsJSONResponse, data_response
from app.http.studio.post_wire import planned_object
from app.schemas import openapi as oa
from app.studio import drafts, errors, rules, tweets
from app.studio import posts as scheduled
from app.studio.access import Access
from app.studio.permissions import Action

router = APIRouter(tags=["studio-posts"])

_TEXT = {"type": "string", "maxLength": 1000}
_CONTENT = [
    oa.query("text", _TEXT),
    oa.query("media_keys", {"type": "string", "description": "comma list or repeated keys"}),
    oa.query("card_uri", {"type": "string", "maxLength": 200}),
    oa.query("nullcast", oa.ADS_FLAG),
    oa.query("name", {"type": "string", "maxLength": rules.MAX_NAME}),
]
_CREATE = [oa.query("as_user_id", oa.SNOWFLAKE), *_CONTENT]
_LIST = [
    oa.query("count", {"type": "integer", "minimum": 1, "maximum": 200, "default": 100}),
    oa.query("cursor", {"type": "string"}),
    oa.query("user_id", oa.SNOWFLAKE),
]
_SCHEDULED_AT = oa.query("scheduled_at", {"type": "string", "description": "ISO 8601"})


def errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The Ads error envelope's statuses, for ``responses=``."""
    return {s: {"description": "Ads API errors envelope"} for s in statuses}


def snowflake(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise errors.InvalidParameter(name, f"Expected an id for {name}, got {raw!r}")
    return int(raw)


def path_id(raw: str, what: str, account_id: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise errors.NotFound(f"{what} {raw} was not found for Account {account_id}")
    return int(raw)


def user_of(access: Access, params: ads.AdsParams, name: str) -> int:
    """``as_user_id`` / ``user_id``: the FULL user's id, the default (400 INVALID_USER)."""
    raw = params.one(name)
    if raw is not None and raw != "" and not (raw.isascii() and raw.isdigit()):
        raise errors.InvalidUser(f"Invalid user id {raw!r}", parameter=name)
    return drafts.check_user(access.account, int(raw) if raw else None)


def content_fields(params: ads.AdsParams, *, create: bool) -> drafts.Fields:
    """The content the request gives; on create ``text`` is required without media."""
    fields: drafts.Fields = {}
    text = ads.text(params, "text")
    if text is not None:
        fields["text"] = text
    if params.present("media_keys"):
        fields["media_keys"] = params.many("media_keys")
    for name, limit in (("name", rules.MAX_NAME), ("card_uri", 200)):
        if params.present(name):
            fields[name] = ads.text(params, name, max_length=limit) or None  # type: ignore[literal-required]
    if params.present("nullcast"):
        fields["nullcast"] = ads.flag(params, "nullcast", default=True)
    if create and "text" not in fields and not fields.get("media_keys"):
        raise errors.MissingParameter("text")
    return fields


def echo(access: Access, **more: Any) -> dict[str, Any]:
    return {"account_id": access.account.id, **more}


def window_rule(request: Request) -> scheduled.WindowRule:
    settings = context_of(request).settings.studio
    return scheduled.WindowRule(
        settings.scheduled_per_window, timedelta(seconds=settings.scheduled_window_secs)
    )


async def list_page(kind: str, access: Access, params: ads.AdsParams, session: Any) -> Response:
    """One page of drafts or scheduled posts (`count` 1-200, default 100; `cursor`)."""
    selection = drafts.Selection(
        count=ads.count(params, default=100, high=200),
        cursor=snowflake(params.one("cursor"), "cursor"),
    )
    found, after = await drafts.list_planned(
        session,
        kind=kind,
        account_id=access.account.id,
        user_id=user_of(access, params, "user_id"),
        selection=selection,
    )
    return data_response(
        [planned_object(d) for d in found],
        params=echo(access, count=selection.count),
        data_type=f"{kind.lower()}_tweet",
        next_cursor=after,
    )


# --- draft posts (§9) -------------------------------------------------------------


@router.get(
    "/accounts/{account_id}/draft_tweets",
    responses=errors_doc(400, 401, 403),
    openapi_extra={"parameters": _LIST},
)
async def list_drafts(
    access: Annotated[Access, studio_access(Action.READ_LIBRARY)],
    params: ParamsDep,
    session: ReadSessionDep,
) -> Response:
    """The FULL user's drafts, newest first (`count` 1-200, default 100; `cursor`)."""
    return await list_page("DRAFT", access, params, session)


@router.get(
    "/accounts/{account_id}/draft_tweets/{draft_tweet_id}", responses=errors_doc(401, 403, 404)
)
async def get_draft(
    access: Annotated[Access, studio_access(Action.READ_LIBRARY)],
    draft_tweet_id: str,
    session: ReadSessionDep,
) -> Response:
    draft_id = path_id(draft_tweet_id, "Draft Tweet", access.account.id)
    found = await drafts.get_draft(session, account_id=access.account.id, draft_id=draft_id)
    return data_response(
        planned_object(found),
        params=echo(access, draft_tweet_id=str(draft_id)),
        data_type="draft_tweet",
    )


@router.post(
    "/accounts/{account_id}/draft_tweets",
    responses=errors_doc(400, 401, 403),
    openapi_extra={"parameters": _CREATE},
)
async def create_draft(
    access: Annotated[Access, studio_access(Action.EDIT_DRAFTS)],
    params: ParamsDep,
    session: SessionDep,
    ids: IdsDep,
    clock: ClockDep,
) -> Response:
    """A draft by the FULL user (`as_user_id`, the default); organic ones
    (`nullcast=false`) need the right to publish."""
    found = await drafts.create_draft(
        session,
        ids,
        account=access.account,
        user_id=user_of(access, params, "as_user_id"),
        fields=content_fields(params, create=True),
        may_publish=access.may(Action.PUBLISH),
        now=clock(),
    )
    return data_response(planned_object(found), params=echo(access), data_type="draft_tweet")


@router.put(
    "/accounts/{account_id}/draft_tweets/{draft_tweet_id}",
    responses=errors_doc(400, 401, 403, 404),
    openapi_extra={"parameters": _CONTENT},
)
async def update_draft(
    access: Annotated[Access, studio_access(Action.EDIT_DRAFTS)],
    draft_tweet_id: str,
    params: ParamsDep,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    found = await drafts.update_draft(
        session,
        account=access.account,
        draft_id=path_id(draft_tweet_id, "Draft Tweet", access.account.id),
        fields=content_fields(params, create=False),
        may_publish=access.may(Action.PUBLISH),
        now=clock(),
    )
    return data_response(planned_object(found), params=echo(access), data_type="draft_tweet")


@router.delete(
    "/accounts/{account_id}/draft_tweets/{draft_tweet_id}", responses=errors_doc(401, 403, 404)
)
async def delete_draft(
    access: Annotated[Access, studio_access(Action.EDIT_DRAFTS)],
    draft_tweet_id: str,
    session: SessionDep,
) -> Response:
    """A hard delete; the answer carries `"status": "DELETED"`."""
    draft_id = path_id(draft_tweet_id, "Draft Tweet", access.account.id)
    found = await drafts.delete_draft(session, account_id=access.account.id, draft_id=draft_id)
    body = {**planned_object(found), "status": "DELETED"}
    return data_response(
        body, params=echo(access, draft_tweet_id=str(draft_id)), data_type="draft_tweet"
    )


@router.post(
    "/accounts/{account_id}/draft_tweets/preview/{draft_tweet_id}",
    responses=errors_doc(401, 403, 404),
)
async def preview_draft(
    access: Annotated[Access, studio_access(Action.READ_LIBRARY)],
    draft_tweet_id: str,
    session: ReadSessionDep,
) -> Response:
    """X sends the draft to the user's apps; here it answers the message only (the
    rendered preview is `tweet_previews`)."""
    draft_id = path_id(draft_tweet_id, "Draft Tweet", access.account.id)
    found = await drafts.get_draft(session, account_id=access.account.id, draft_id=draft_id)
    screen_name = await tweets.screen_name_of(session, found.user_id)
    return AdsJSONResponse(
        {
            "request": {"params": echo(access, draft_tweet_id=str(draft_id))},
            "message": f"See @{screen_name}'s notifications in the X app to preview your Tweet.",
        }
    )


# --- scheduled posts (§8) ---------------------------------------------------------


def scheduled_fields(params: ads.AdsParams, *, create: bool, now: Any) -> drafts.Fields:
    fields = content_fields(params, create=create)
    raw = params.required("scheduled_at") if create else params.one("scheduled_at")
    if raw:
        at = ads.timestamp(raw, "scheduled_at")
        fields["scheduled_at"] = rules.plan_scheduled_at(at, now=now)
    return fields


@router.get(
    "/accounts/{account_id}/scheduled_tweets",
    responses=errors_doc(400, 401, 403),
    openapi_extra={"parameters": _LIST},
)
async def list_scheduled(
    access: Annotated[Access, studio_access(Action.READ_LIBRARY)],
    params: ParamsDep,
    session: ReadSessionDep,
) -> Response:
    """The FULL user's scheduled posts in every status, newest first."""
    return await list_page("SCHEDULED", access, params, session)


@router.get(
    "/accounts/{account_id}/scheduled_tweets/{scheduled_tweet_id}",
    responses=errors_doc(401, 403, 404),
)
async def get_scheduled(
    access: Annotated[Access, studio_access(Action.READ_LIBRARY)],
    scheduled_tweet_id: str,
    session: ReadSessionDep,
) -> Response:
    scheduled_id = path_id(scheduled_tweet_id, "Scheduled Tweet", access.account.id)
    found = await scheduled.get_scheduled(
        session, account_id=access.account.id, scheduled_id=scheduled_id
    )
    return data_response(
        planned_object(found),
        params=echo(access, scheduled_tweet_id=str(scheduled_id)),
        data_type="scheduled_tweet",
    )


@router.post(
    "/accounts/{account_id}/scheduled_tweets",
    responses=errors_doc(400, 401, 403),
    openapi_extra={"parameters": [_SCHEDULED_AT, *_CREATE]},
)
async def create_scheduled(
    request: Request,
    access: Annotated[Access, studio_access(Action.PUBLISH)],
    params: ParamsDep,
    session: SessionDep,
    ids: IdsDep,
    clock: ClockDep,
) -> Response:
    """A post published at `scheduled_at` (minute granularity, at most 365 days ahead);
    at most `studio.scheduled_per_window` SCHEDULED posts in any window of
    `studio.scheduled_window_secs` around it."""
    now = clock()
    found = await scheduled.create_scheduled(
        session,
        ids,
        account=access.account,
        user_id=user_of(access, params, "as_user_id"),
        created_by=access.user_id,
        fields=scheduled_fields(params, create=True, now=now),
        rule=window_rule(request),
        now=now,
    )
    return data_response(planned_object(found), params=echo(access), data_type="scheduled_tweet")


@router.put(
    "/accounts/{account_id}/scheduled_tweets/{scheduled_tweet_id}",
    responses=errors_doc(400, 401, 403, 404),
    openapi_extra={"parameters": [_SCHEDULED_AT, *_CONTENT]},
)
async def update_scheduled(
    request: Request,
    access: Annotated[Access, studio_access(Action.PUBLISH)],
    scheduled_tweet_id: str,
    params: ParamsDep,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """Edits while SCHEDULED and before `scheduled_at`; later 400
    SCHEDULED_TWEET_NOT_EDITABLE."""
    now = clock()
    found = await scheduled.update_scheduled(
        session,
        account=access.account,
        scheduled_id=path_id(scheduled_tweet_id, "Scheduled Tweet", access.account.id),
        fields=scheduled_fields(params, create=False, now=now),
        rule=window_rule(request),
        now=now,
    )
    return data_response(planned_object(found), params=echo(access), data_type="scheduled_tweet")


@router.delete(
    "/accounts/{account_id}/scheduled_tweets/{scheduled_tweet_id}",
    responses=errors_doc(401, 403, 404),
)
async def delete_scheduled(
    access: Annotated[Access, studio_access(Action.PUBLISH)],
    scheduled_tweet_id: str,
    session: SessionDep,
) -> Response:
    """A hard delete; the answer carries `"scheduled_status": "DELETED"`."""
    scheduled_id = path_id(scheduled_tweet_id, "Scheduled Tweet", access.account.id)
    found = await scheduled.delete_scheduled(
        session, account_id=access.account.id, scheduled_id=scheduled_id
    )
    body = {**planned_object(found), "scheduled_status": "DELETED"}
    return data_response(
        body,
        params=echo(access, scheduled_tweet_id=str(scheduled_id)),
        data_type="scheduled_tweet",
    )
