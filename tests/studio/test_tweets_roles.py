"""Who may call each drafts / scheduled / previews / tweets endpoint: admin, full,
limited, a non-member and no credentials (README "Studio roles")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utcnow
from tests.conftest import Env, User
from tests.studio.posts_support import Studio, error_code, make_studio

LATER = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:00Z")


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # {draft} and {scheduled} name the fixtures' items
    params: tuple[tuple[str, str], ...] = ()
    publishes: bool = False  # needs PUBLISH, not only reading or editing drafts


CALLS = {
    "list drafts": Call("GET", "draft_tweets"),
    "get draft": Call("GET", "draft_tweets/{draft}"),
    "create draft": Call("POST", "draft_tweets", (("text", "new draft"),)),
    "edit draft": Call("PUT", "draft_tweets/{draft}", (("text", "edited"),)),
    "delete draft": Call("DELETE", "draft_tweets/{draft}"),
    "preview draft": Call("POST", "draft_tweets/preview/{draft}"),
    "list scheduled": Call("GET", "scheduled_tweets"),
    "get scheduled": Call("GET", "scheduled_tweets/{scheduled}"),
    "create scheduled": Call(
        "POST", "scheduled_tweets", (("text", "new"), ("scheduled_at", LATER)), publishes=True
    ),
    "edit scheduled": Call(
        "PUT", "scheduled_tweets/{scheduled}", (("text", "edited"),), publishes=True
    ),
    "delete scheduled": Call("DELETE", "scheduled_tweets/{scheduled}", publishes=True),
    "previews": Call("GET", "tweet_previews", (("tweet_ids", "{draft}"), ("tweet_type", "DRAFT"))),
    "tweets": Call("GET", "tweets", (("tweet_type", "SCHEDULED"),)),
    "post now": Call("POST", "tweet", (("text", "now"),), publishes=True),
}
ROLES = ("admin", "full", "limited", "outsider", "anonymous")


def expected(call: Call, role: str) -> tuple[int, str | None]:
    if role == "anonymous":
        return 401, "UNAUTHORIZED_ACCESS"
    if role == "outsider":
        return 403, "NOT_FOUND"
    if role == "limited" and call.publishes:
        return 403, "ACTION_NOT_ALLOWED"
    return 200, None


@pytest.fixture
async def studio(env: Env, engine: AsyncEngine, alice: User) -> Studio:
    return await make_studio(env, engine, alice)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(CALLS))
async def test_each_role_gets_what_its_permissions_allow(
    studio: Studio, name: str, role: str
) -> None:
    draft = (await studio.call("POST", "draft_tweets", text="a draft")).json()["data"]["id"]
    scheduled = (
        await studio.call("POST", "scheduled_tweets", text="planned", scheduled_at=LATER)
    ).json()["data"]["id"]
    call = CALLS[name]
    path = call.path.format(draft=draft, scheduled=scheduled)
    params = {k: v.format(draft=draft) for k, v in call.params}
    users = {"admin": studio.owner, "full": studio.full, "limited": studio.limited}
    users["outsider"] = studio.outsider
    headers = users[role].headers if role in users else {}

    response = await studio.env.client.request(
        call.method, studio.url(path), params=params, headers=headers
    )

    status, code = expected(call, role)
    assert response.status_code == status, response.text
    if code is not None:
        assert error_code(response) == code
