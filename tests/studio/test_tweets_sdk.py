"""The official ``twitter-ads`` SDK 11.0.0, unmodified, drives drafts, scheduled posts,
previews, posting now and the posts list over a real socket with OAuth 1.0a (§13)."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import twitter_ads.http
from sqlalchemy.ext.asyncio import AsyncEngine
from twitter_ads.account import Account
from twitter_ads.campaign import Tweet
from twitter_ads.client import Client
from twitter_ads.creative import DraftTweet, ScheduledTweet, TweetPreview, Tweets
from twitter_ads.error import BadRequest

from tests.compat.conftest import Credentials, LiveServer
from tests.conftest import _truncate
from tests.fixtures.studio import create_studio_account
from tests.studio.posts_support import add_to_library


@pytest.fixture
async def served(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[LiveServer]:
    server = LiveServer(tmp_path / "data", database_url)
    server.start()
    yield server
    server.stop()
    await _truncate(engine)


@pytest.fixture
def sdk_domain(served: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(twitter_ads.http.Request, "_DEFAULT_DOMAIN", served.base)


def _upload(served: LiveServer, creds: Credentials, path: Path) -> str:
    response = httpx.post(
        f"{served.base}/1.1/media/upload.json",
        files={"media": (path.name, path.read_bytes())},
        headers={"Authorization": f"Bearer {creds.bearer_token}"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["media_id_string"])


def _drive(account: Account, owner: str, key: str) -> dict[str, Any]:
    """Every call the SDK has for these endpoints, as a user of it writes them."""
    seen: dict[str, Any] = {}
    draft = DraftTweet(account)
    draft.text, draft.as_user_id, draft.media_keys = "draft via sdk", owner, [key]
    draft.save()
    seen["draft_id"] = draft.id
    draft.text = "draft edited"
    draft.save()  # PUT, echoing read-only fields
    seen["draft_loaded"] = DraftTweet.load(account, draft.id).text
    seen["drafts"] = [d.id for d in DraftTweet.all(account)]

    st = ScheduledTweet(account)
    st.text, st.as_user_id, st.media_keys = "scheduled via sdk", owner, [key]
    st.scheduled_at = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(
        days=3
    )
    st.save()
    seen["scheduled_status"] = st.scheduled_status
    st.text = "scheduled edited"
    st.save()
    seen["scheduled_text"] = ScheduledTweet.load(account, st.id).text
    seen["scheduled_all"] = [s.id for s in account.scheduled_tweets()]
    previews = TweetPreview.load(account, tweet_ids=[draft.id], tweet_type="DRAFT")
    seen["previews"] = [(p.tweet_id, p.preview) for p in previews]

    posted = Tweet.create(account, text="now via sdk", as_user_id=owner, media_keys=[key])
    seen["posted"] = posted
    seen["tweets"] = [t["tweet_id"] for t in Tweets.all(account, tweet_type="PUBLISHED")]
    try:
        bad = ScheduledTweet(account)
        bad.text, bad.as_user_id = "past", owner
        bad.scheduled_at = datetime.datetime(2001, 1, 1)
        bad.save()
    except BadRequest as error:
        seen["bad"] = error.details
    st.delete()
    seen["scheduled_deleted"] = st.scheduled_status
    draft.delete()
    return seen


async def test_the_sdk_drives_drafts_scheduled_previews_and_posts(
    served: LiveServer, sdk_domain: None, engine: AsyncEngine, png_file: Path
) -> None:
    creds = await asyncio.to_thread(served.user, "sdkowner")
    account_id = await create_studio_account(engine, creds.user_id)
    media_id = await asyncio.to_thread(_upload, served, creds, png_file)
    key = await add_to_library(engine, account_id, media_id)
    client = Client(
        creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret
    )
    account = Account(client).from_response({"id": account_id})

    seen = await asyncio.to_thread(_drive, account, str(creds.user_id), key)

    assert seen["draft_loaded"] == "draft edited"
    assert seen["drafts"] == [seen["draft_id"]]
    assert seen["scheduled_status"] == "SCHEDULED"
    assert seen["scheduled_text"] == "scheduled edited"
    assert len(seen["scheduled_all"]) == 1
    [(tweet_id, preview)] = seen["previews"]
    assert tweet_id == seen["draft_id"]
    assert preview.startswith(f"<iframe class='tweet-preview' src='{served.base}/studio/v1/")
    assert seen["posted"]["tweet_type"] == "PUBLISHED"
    assert seen["posted"]["extended_entities"]["media"][0]["media_key"] == key
    assert seen["tweets"] == [seen["posted"]["tweet_id"]]
    assert seen["bad"][0]["code"] == "INVALID_PARAMETER"
    assert seen["scheduled_deleted"] == "DELETED"
