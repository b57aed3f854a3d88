"""The role matrix: (admin, full, limited, non-member, no credentials) x every studio
endpoint, on ``/11`` and ``/12`` alike, plus scoping between accounts.

What each role may do is written out here from the issue, not read from
``app/studio/permissions.py``: admin everything; full everything but members and account
settings; limited reads, adds to and edits the library, drafts and previews, but deletes
no media, schedules and publishes nothing, manages no members. A non-member gets 403
``NOT_FOUND`` "Account <id> was not found", no credentials 401 ``UNAUTHORIZED_ACCESS``,
a missing permission 403 ``ACTION_NOT_ALLOWED``, all in the Ads error envelope. Allowed
calls get valid inputs and must really succeed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from httpx import Response

from tests.conftest import User, create_user
from tests.fixtures.studio import create_studio_account
from tests.studio.conftest import Studio, ads_error

VERSIONS = ("11", "12")
# What each role may do (the roles), by the kind of call.
ANYONE = "anyone"  # any authenticated platform user (not account-scoped)
VIEW, READ, EDIT, DELETE_MEDIA, DRAFTS, PUBLISH, ADMIN = (
    "view",
    "read",
    "edit",
    "delete_media",
    "drafts",
    "publish",
    "admin",
)
MAY: dict[str, frozenset[str]] = {
    "admin": frozenset({VIEW, READ, EDIT, DELETE_MEDIA, DRAFTS, PUBLISH, ADMIN}),
    "full": frozenset({VIEW, READ, EDIT, DELETE_MEDIA, DRAFTS, PUBLISH}),
    "limited": frozenset({VIEW, READ, EDIT, DRAFTS}),
}
PERMISSIONS = {
    "admin": ["ACCOUNT_ADMIN", "TWEET_COMPOSER"],
    "full": ["AD_MANAGER", "TWEET_COMPOSER"],
    "limited": ["CREATIVE_MANAGER"],
}
_serial = count(1)


def unique(word: str) -> str:
    return f"{word} {next(_serial)}"


def later(days: int = 0) -> str:
    """A future time, a different day per call (the 30-per-15-minutes rule stays far)."""
    moment = datetime.now(UTC) + timedelta(days=2 + next(_serial) % 300, minutes=days)
    return moment.strftime("%Y-%m-%dT%H:%M:00Z")


@dataclass
class Call:
    method: str
    path: str  # under /<version>/accounts/<account_id>/, or absolute when it starts with /
    params: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None


Prepare = Callable[[Studio, str], Awaitable[Call]]
Body = dict[str, Any]
Check = Callable[[Studio, str, User, Call, Body], Awaitable[None]]


@dataclass(frozen=True)
class Case:
    id: str
    needs: str
    prepare: Prepare
    check: Check
    versioned: bool = True  # an Ads API path (/11 and /12); else /studio/v1
    scoped: bool = True  # needs membership of the account in the path


async def send(s: Studio, call: Call, user: User | None, version: str) -> Response:
    path = call.path if call.path.startswith("/") else s.url(call.path, version)
    headers = user.headers if user is not None else {}
    return await s.env.client.request(
        call.method, path, params=call.params, json=call.json, headers=headers
    )


# --- preparing targets (made by the admin) -------------------------------------------


async def draft(s: Studio, **params: Any) -> str:
    made = await s.call("POST", "draft_tweets", s.admin, text=unique("draft"), **params)
    assert made.status_code in (200, 201), made.text
    return str(made.json()["data"]["id"])


async def scheduled(s: Studio) -> str:
    made = await s.call(
        "POST", "scheduled_tweets", s.admin, text=unique("later"), scheduled_at=later()
    )
    assert made.status_code in (200, 201), made.text
    return str(made.json()["data"]["id"])


async def get_data(s: Studio, path: str, version: str = "11") -> Response:
    return await s.call("GET", path, s.admin, version=version)


def fixed(method: str, path: str, **params: Any) -> Prepare:
    async def prepare(s: Studio, who: str) -> Call:
        return Call(
            method, path.format(pu=await promotable_id(s)) if "{pu}" in path else path, dict(params)
        )

    return prepare


async def promotable_id(s: Studio) -> str:
    listed = await get_data(s, "promotable_users")
    return str(listed.json()["data"][0]["id"])


# --- checks of a success ------------------------------------------------------------


def ids(body: dict[str, Any], key: str = "id") -> list[str]:
    assert isinstance(body["data"], list), body
    return [str(item[key]) for item in body["data"]]


async def no_check(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    pass


async def lists_the_account(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert (s.account_id in ids(body)) is (who != "outsider"), body


async def is_the_account(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["id"] == s.account_id
    assert body["data"]["timezone"] == "UTC"


async def renamed(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["name"] == call.params["name"], body


async def feature_list(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert isinstance(body["data"], list)


async def own_access(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"] == {"user_id": str(user.id), "permissions": PERMISSIONS[who]}


async def the_full_user(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    data = body["data"]
    [one] = data if isinstance(data, list) else [data]
    assert one["user_id"] == str(s.admin.id)
    assert one["promotable_user_type"] == "FULL"


async def has_photo(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert s.media_key in ids(body, "media_key")


async def is_photo(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["media_key"] == s.media_key
    assert body["data"]["media_type"] == "IMAGE"


async def added(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["media_key"] == call.params["media_key"]
    assert body["data"]["name"] == call.params["name"]


async def media_renamed(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["name"] == call.params["name"]
    shown = await get_data(s, call.path)
    assert shown.json()["data"]["name"] == call.params["name"]


async def media_gone(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["deleted"] is True
    assert (await get_data(s, call.path)).status_code == 404


async def lists_target(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert call.params["_target"] in ids(body), body


async def is_target(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["id"] == call.path.rsplit("/", 1)[1]


async def has_text(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["text"] == call.params["text"]
    assert body["data"]["user_id"] == str(s.admin.id)
    shown = await get_data(s, f"{call.path.split('/')[0]}/{body['data']['id']}")
    assert shown.json()["data"]["text"] == call.params["text"]


async def edited(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["text"] == call.params["text"]
    assert (await get_data(s, call.path)).json()["data"]["text"] == call.params["text"]


async def draft_deleted(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["status"] == "DELETED"
    assert (await get_data(s, call.path)).status_code == 404


async def scheduled_deleted(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["scheduled_status"] == "DELETED"
    assert (await get_data(s, call.path)).status_code == 404


async def is_scheduled(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["scheduled_status"] == "SCHEDULED"
    assert body["data"]["scheduled_at"] == call.params["scheduled_at"]
    await has_text(s, who, user, call, body)


async def preview_message(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["message"] == "See @alice's notifications in the X app to preview your Tweet."


async def one_preview(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    [preview] = body["data"]
    assert preview["tweet_id"] == call.params["tweet_ids"]
    assert preview["preview"].startswith("<iframe")


async def published_list(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert call.params["_target"] in ids(body, "id_str"), body


async def posted(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["text"].startswith(call.params["text"] + " http")  # + the media's URL
    shown = await s.env.client.get(
        "/1.1/statuses/show.json", params={"id": body["data"]["id_str"]}, headers=s.admin.headers
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["user"]["id_str"] == str(s.admin.id)


async def account_made(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["name"] == call.json["name"]  # type: ignore[index]
    assert body["data"]["timezone"] == "Europe/Paris"
    made = body["data"]["id"]
    access = await s.call("GET", "authenticated_user_access", user, account_id=made)
    assert access.json()["data"]["permissions"] == PERMISSIONS["admin"]


async def own_accounts(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    await lists_the_account(s, who, user, call, body)


async def the_members(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    roles = {m["user_id"]: m["role"] for m in body["data"]}
    assert roles == {str(s.admin.id): "admin", str(s.full.id): "full", str(s.limited.id): "limited"}


async def granted(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    assert body["data"]["role"] == "limited"
    assert body["data"]["permissions"] == PERMISSIONS["limited"]


async def revoked(s: Studio, who: str, user: User, call: Call, body: Body) -> None:
    members = await s.env.client.get(
        f"/studio/v1/accounts/{s.account_id}/members", headers=s.admin.headers
    )
    assert call.path.rsplit("/", 1)[1] not in ids(members.json(), "user_id")


# --- preparations that need a fresh target per call --------------------------------


async def new_photo(s: Studio, who: str) -> Call:
    return Call("POST", "media_library", {"media_key": await s.upload_photo(), "name": unique("n")})


async def put_photo(s: Studio, who: str) -> Call:
    return Call("PUT", f"media_library/{s.media_key}", {"name": unique("renamed")})


def on_fresh(
    make: Callable[[Studio], Awaitable[str]], method: str, path: str, **params: Any
) -> Prepare:
    """A call on a target the admin makes anew each time (``make``): its id fills the
    ``{}`` of ``path``, or (for lists) is the ``_target`` the check looks for. Callable
    parameter values are called per call."""

    async def prepare(s: Studio, who: str) -> Call:
        target = await make(s)
        values = {k: v() if callable(v) else v for k, v in params.items()}
        if "{}" not in path:
            values["_target"] = target
        return Call(method, path.replace("{}", target), values)

    return prepare


async def add_photo(s: Studio) -> str:
    return await s.add_photo()


delete_photo = on_fresh(add_photo, "DELETE", "media_library/{}")
list_drafts = on_fresh(draft, "GET", "draft_tweets")
get_draft = on_fresh(draft, "GET", "draft_tweets/{}")
put_draft = on_fresh(draft, "PUT", "draft_tweets/{}", text=lambda: unique("redrafted"))
delete_draft = on_fresh(draft, "DELETE", "draft_tweets/{}")
preview_draft = on_fresh(draft, "POST", "draft_tweets/preview/{}")
list_scheduled = on_fresh(scheduled, "GET", "scheduled_tweets")
get_scheduled = on_fresh(scheduled, "GET", "scheduled_tweets/{}")
put_scheduled = on_fresh(scheduled, "PUT", "scheduled_tweets/{}", text=lambda: unique("moved"))
delete_scheduled = on_fresh(scheduled, "DELETE", "scheduled_tweets/{}")


async def post_draft(s: Studio, who: str) -> Call:
    return Call("POST", "draft_tweets", {"text": unique("drafted"), "media_keys": s.media_key})


async def post_scheduled(s: Studio, who: str) -> Call:
    return Call("POST", "scheduled_tweets", {"text": unique("soon"), "scheduled_at": later()})


async def previews(s: Studio, who: str) -> Call:
    return Call("GET", "tweet_previews", {"tweet_type": "DRAFT", "tweet_ids": await draft(s)})


async def list_tweets(s: Studio, who: str) -> Call:
    made = await s.call("POST", "tweet", s.admin, text=unique("now"))
    assert made.status_code in (200, 201), made.text
    target = made.json()["data"]["id_str"]
    return Call("GET", "tweets", {"tweet_type": "PUBLISHED", "_target": target})


async def post_tweet(s: Studio, who: str) -> Call:
    return Call("POST", "tweet", {"text": unique("posted now"), "media_keys": s.media_key})


async def create_account(s: Studio, who: str) -> Call:
    body = {"name": unique("New"), "timezone": "Europe/Paris"}
    return Call("POST", "/studio/v1/accounts", json=body)


async def own_list(s: Studio, who: str) -> Call:
    return Call("GET", "/studio/v1/accounts")


async def members(s: Studio, who: str) -> Call:
    return Call("GET", f"/studio/v1/accounts/{s.account_id}/members")


async def grant_one(s: Studio, who: str) -> Call:
    extra = await create_user(s.engine, f"extra{next(_serial)}")
    path = f"/studio/v1/accounts/{s.account_id}/members/{extra.id}"
    return Call("PUT", path, json={"role": "limited"})


async def revoke_one(s: Studio, who: str) -> Call:
    extra = await create_user(s.engine, f"extra{next(_serial)}")
    path = f"/studio/v1/accounts/{s.account_id}/members/{extra.id}"
    done = await s.env.client.put(path, json={"role": "full"}, headers=s.admin.headers)
    assert done.status_code == 200, done.text
    return Call("DELETE", path)


CASES = [
    Case(
        "accounts_list",
        ANYONE,
        fixed("GET", "/{version}/accounts"),
        lists_the_account,
        scoped=False,
    ),
    Case("account_get", VIEW, fixed("GET", ""), is_the_account),
    Case("account_put", ADMIN, fixed("PUT", "", name="Renamed"), renamed),
    Case("features", VIEW, fixed("GET", "features"), feature_list),
    Case("authenticated_user_access", VIEW, fixed("GET", "authenticated_user_access"), own_access),
    Case("promotable_users_list", VIEW, fixed("GET", "promotable_users"), the_full_user),
    Case("promotable_users_get", VIEW, fixed("GET", "promotable_users/{pu}"), the_full_user),
    Case("media_library_list", READ, fixed("GET", "media_library", count="50"), has_photo),
    Case(
        "media_library_get",
        READ,
        lambda s, w: fixed("GET", f"media_library/{s.media_key}")(s, w),
        is_photo,
    ),
    Case("media_library_add", EDIT, new_photo, added),
    Case("media_library_update", EDIT, put_photo, media_renamed),
    Case("media_library_delete", DELETE_MEDIA, delete_photo, media_gone),
    Case("draft_tweets_list", READ, list_drafts, lists_target),
    Case("draft_tweets_get", READ, get_draft, is_target),
    Case("draft_tweets_add", DRAFTS, post_draft, has_text),
    Case("draft_tweets_update", DRAFTS, put_draft, edited),
    Case("draft_tweets_delete", DRAFTS, delete_draft, draft_deleted),
    Case("draft_tweets_preview", DRAFTS, preview_draft, preview_message),
    Case("scheduled_tweets_list", READ, list_scheduled, lists_target),
    Case("scheduled_tweets_get", READ, get_scheduled, is_target),
    Case("scheduled_tweets_add", PUBLISH, post_scheduled, is_scheduled),
    Case("scheduled_tweets_update", PUBLISH, put_scheduled, edited),
    Case("scheduled_tweets_delete", PUBLISH, delete_scheduled, scheduled_deleted),
    Case("tweet_previews", READ, previews, one_preview),
    Case("tweets", READ, list_tweets, published_list),
    Case("tweet", PUBLISH, post_tweet, posted),
    Case(
        "studio_accounts_create",
        ANYONE,
        create_account,
        account_made,
        versioned=False,
        scoped=False,
    ),
    Case("studio_accounts_list", ANYONE, own_list, own_accounts, versioned=False, scoped=False),
    Case("members_list", ADMIN, members, the_members, versioned=False),
    Case("members_put", ADMIN, grant_one, granted, versioned=False),
    Case("members_delete", ADMIN, revoke_one, revoked, versioned=False),
]


def users_of(s: Studio) -> dict[str, User | None]:
    """The five callers: the three roles, a non-member, no credentials."""
    return {**s.members, "outsider": s.outsider, "anonymous": None}


# One studio per group (a fresh one per case would cost most of the run).
GROUPS = {
    "accounts": CASES[:7],
    "library": CASES[7:12],
    "drafts": CASES[12:18],
    "scheduled": CASES[18:23],
    "posts": CASES[23:26],
    "own": CASES[26:],
}
assert sum(map(len, GROUPS.values())) == len(CASES)


async def run_case(studio: Studio, case: Case) -> list[str]:
    """Every (version, caller) of one endpoint; the mismatches, described."""
    failures: list[str] = []
    for version in VERSIONS if case.versioned else ("",):
        for who, user in users_of(studio).items():
            call = await case.prepare(studio, who)
            call.path = call.path.replace("{version}", version)
            params = {k: v for k, v in call.params.items() if not k.startswith("_")}
            sent = Call(call.method, call.path, params, call.json)
            response = await send(studio, sent, user, version)
            where = (
                f"{case.id} /{version or 'studio/v1'} as {who}: {call.method} {call.path}"
                f" -> {response.status_code} {response.text[:200]}"
            )
            try:
                if user is None:
                    assert ads_error(response) == (
                        401,
                        "UNAUTHORIZED_ACCESS",
                        "This request is not properly authenticated",
                    )
                elif case.needs == ANYONE or (who in MAY and case.needs in MAY[who]):
                    assert 200 <= response.status_code < 300
                    await case.check(studio, who, user, call, response.json())
                elif who == "outsider" and case.scoped:
                    message = f"Account {studio.account_id} was not found"
                    assert ads_error(response) == (403, "NOT_FOUND", message)
                else:
                    assert ads_error(response)[:2] == (403, "ACTION_NOT_ALLOWED")
            except (AssertionError, KeyError, TypeError, ValueError) as error:
                failures.append(f"{where}\n    {type(error).__name__}: {error}")
    return failures


@pytest.mark.parametrize("group", list(GROUPS))
async def test_role_matrix(studio: Studio, group: str) -> None:
    failures = [f for case in GROUPS[group] for f in await run_case(studio, case)]

    assert not failures, "\n".join(failures)


async def test_what_a_refused_call_leaves_alone(studio: Studio) -> None:
    """Refused writes change nothing: the limited member's delete of media, schedule
    and post; the full member's rename of the account."""
    refused = [
        (studio.limited, "DELETE", f"media_library/{studio.media_key}", {}),
        (studio.limited, "POST", "scheduled_tweets", {"text": "no", "scheduled_at": later()}),
        (studio.limited, "POST", "tweet", {"text": "not now"}),
        (studio.full, "PUT", "", {"name": "Not yours"}),
        (studio.outsider, "PUT", f"media_library/{studio.media_key}", {"name": "mine"}),
    ]
    for user, method, path, params in refused:
        response = await studio.call(method, path, user, **params)
        assert response.status_code == 403, (path, response.text)

    photo = await get_data(studio, f"media_library/{studio.media_key}")
    assert photo.json()["data"]["name"] is None
    assert (await get_data(studio, "scheduled_tweets")).json()["data"] == []
    assert (await get_data(studio, "")).json()["data"]["name"] == "Studio A"
    published = await studio.call(
        "GET", "tweets", studio.admin, tweet_type="PUBLISHED", timeline_type="ALL"
    )
    assert published.json()["data"] == []


class TestScoping:
    """A member of account A cannot reach account B's items through A's path."""

    async def _account_b(self, s: Studio) -> tuple[str, str, str, str]:
        bob = s.outsider
        b_id = await create_studio_account(s.engine, bob.id, name="Studio B")
        b_key = await s.add_photo(account_id=b_id, owner=bob)
        made = await s.call("POST", "draft_tweets", bob, account_id=b_id, text="B's draft")
        assert made.status_code in (200, 201), made.text
        planned = await s.call(
            "POST", "scheduled_tweets", bob, account_id=b_id, text="B's plan", scheduled_at=later()
        )
        assert planned.status_code in (200, 201), planned.text
        return b_id, b_key, made.json()["data"]["id"], planned.json()["data"]["id"]

    @pytest.mark.parametrize("version", VERSIONS)
    async def test_b_items_under_a_are_404(self, studio: Studio, version: str) -> None:
        b_id, b_key, b_draft, b_planned = await self._account_b(studio)
        alice = studio.admin
        for method, path, params in [
            ("GET", f"media_library/{b_key}", {}),
            ("PUT", f"media_library/{b_key}", {"name": "taken"}),
            ("DELETE", f"media_library/{b_key}", {}),
            ("GET", f"draft_tweets/{b_draft}", {}),
            ("PUT", f"draft_tweets/{b_draft}", {"text": "taken"}),
            ("DELETE", f"draft_tweets/{b_draft}", {}),
            ("POST", f"draft_tweets/preview/{b_draft}", {}),
            ("GET", f"scheduled_tweets/{b_planned}", {}),
            ("PUT", f"scheduled_tweets/{b_planned}", {"text": "taken"}),
            ("DELETE", f"scheduled_tweets/{b_planned}", {}),
        ]:
            response = await studio.call(method, path, alice, version=version, **params)
            status, code, _ = ads_error(response)
            assert (status, code) == (404, "NOT_FOUND"), (method, path, response.text)

        # A's lists and previews show nothing of B's.
        for path in ("media_library", "draft_tweets", "scheduled_tweets"):
            listed = (await studio.call("GET", path, alice, version=version)).json()["data"]
            assert not {b_key, b_draft, b_planned} & {
                i.get("media_key", i.get("id")) for i in listed
            }
        for kind, item in (("DRAFT", b_draft), ("SCHEDULED", b_planned)):
            shown = await studio.call(
                "GET", "tweet_previews", alice, version=version, tweet_type=kind, tweet_ids=item
            )
            assert shown.status_code == 200, shown.text
            assert shown.json()["data"] == [], shown.text

        # B's items are untouched, and B's own path is closed to alice.
        bob = studio.outsider
        paths = (
            f"media_library/{b_key}",
            f"draft_tweets/{b_draft}",
            f"scheduled_tweets/{b_planned}",
        )
        for path in paths:
            kept = await studio.call("GET", path, bob, account_id=b_id)
            assert kept.status_code == 200, kept.text
            assert kept.json()["data"].get("name") != "taken"
            assert kept.json()["data"].get("text") != "taken"
        refused = await studio.call("GET", "media_library", alice, version=version, account_id=b_id)
        assert ads_error(refused) == (403, "NOT_FOUND", f"Account {b_id} was not found")

    async def test_b_media_cannot_be_drafted_under_a(self, studio: Studio) -> None:
        _, b_key, _, _ = await self._account_b(studio)

        response = await studio.call(
            "POST", "draft_tweets", studio.admin, text="x", media_keys=b_key
        )

        assert ads_error(response)[:2] == (400, "INVALID_MEDIA"), response.text

    async def test_an_unknown_account_is_403_not_found(self, studio: Studio) -> None:
        response = await studio.call("GET", "", studio.admin, account_id="zzzz9")

        assert ads_error(response) == (403, "NOT_FOUND", "Account zzzz9 was not found")
