"""The official ``twitter-ads`` 11.0.0 SDK, unmodified, against a real uvicorn over a
real socket with OAuth 1.0a (Ads API wire reference §13): Client and Account, promotable
users, features, authenticated user access, MediaLibrary (add, load, all with its
Cursor, update echoing read-only fields, reload, delete), ScheduledTweet, DraftTweet,
TweetPreview, Tweet.create, Tweets.all and the SDK's error classes. Raw HTTP (OAuth 1.0a)
for what the SDK lacks: ``/studio/v1`` accounts and members, and the ``false`` values the
SDK's ``from_response`` drops. SQLite and PostgreSQL (``database_url``).
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from twitter_ads.account import Account
from twitter_ads.campaign import Tweet
from twitter_ads.client import Client
from twitter_ads.creative import DraftTweet, MediaLibrary, ScheduledTweet, TweetPreview, Tweets
from twitter_ads.error import BadRequest, Forbidden, NotAuthorized, NotFound
from twitter_ads.http import Request
from twitter_ads.restapi import UserIdLookup

from tests.compat.ads import Raw, client_of, pointed_at, upload_chunked, upload_photo
from tests.compat.conftest import Credentials, LiveServer
from tests.conftest import _truncate

pytestmark = [pytest.mark.slow]

_serial = count(1)


def unique(text: str) -> str:
    return f"{text} #{next(_serial)}"


def ahead(days: int) -> datetime:
    """A naive UTC time (the SDK formats it with a ``Z``), minute-aligned."""
    moment = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    return moment + timedelta(days=days, minutes=next(_serial))


@dataclass
class Live:
    server: LiveServer
    users: dict[str, Credentials]  # alice (admin, owner), bob (full), carol (limited), dave
    account_id: str
    raw: Raw  # alice's
    planned_id: str  # a scheduled post due a minute or two after the start

    @property
    def base(self) -> str:
        return self.server.base

    def client(self, name: str = "alice") -> Client:
        return client_of(self.users[name])

    def account(self, name: str = "alice", account_id: str | None = None) -> Account:
        return self.client(name).accounts(account_id or self.account_id)

    def photo(self, path: Path, name: str = "alice") -> str:
        """A photo uploaded through the SDK, added to the library; its media key."""
        key = upload_photo(self.client(name), self.base, path)["media_key"]
        item = MediaLibrary(self.account(name))
        item.media_key = key
        item.add()
        return str(key)


@pytest.fixture(scope="module")
async def live(
    database_url: str, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Live]:
    served = LiveServer(tmp_path_factory.mktemp("ads") / "data", database_url)
    served.start()
    try:
        with pointed_at(served.base):
            users = {name: served.user(name) for name in ("alice", "bob", "carol", "dave")}
            raw = Raw(served.base, users["alice"])
            made = raw.data(
                "POST", "/studio/v1/accounts", json={"name": "Café", "timezone": "Europe/Paris"}
            )
            for name, role in (("bob", "full"), ("carol", "limited")):
                path = f"/studio/v1/accounts/{made['id']}/members/{users[name].user_id}"
                assert raw.data("PUT", path, json={"role": role})["role"] == role
            planned = ScheduledTweet(client_of(users["alice"]).accounts(made["id"]))
            planned.text = unique("published by the scheduler")
            now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
            planned.scheduled_at = now + timedelta(minutes=2)  # due in 60-120 s
            planned.save()
            yield Live(served, users, made["id"], raw, planned.id)
            raw.close()
    finally:
        served.stop()
        await _truncate(engine)


@pytest.fixture
def fresh_account(live: Live) -> Account:
    """An account of alice's own with an empty library (for exact lists)."""
    made = live.raw.data("POST", "/studio/v1/accounts", data={"name": unique("Pages")})
    return live.account(account_id=made["id"])


class TestAccounts:
    def test_accounts_list_and_load(self, live: Live) -> None:
        client = live.client()

        listed = client.accounts()
        account = client.accounts(live.account_id)

        assert live.account_id in [a.id for a in listed]
        assert (account.id, account.name) == (live.account_id, "Café")
        assert account.timezone == "Europe/Paris"
        assert account.approval_status == "ACCEPTED"
        assert account.deleted is None  # false: the SDK drops it (§13.3) ...
        shown = live.raw.data("GET", f"/11/accounts/{live.account_id}")
        assert shown["deleted"] is False  # ... raw HTTP shows it
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", shown["created_at"])
        assert isinstance(account.created_at, str)  # the SDK keeps the raw time string

    def test_promotable_users_features_and_access(self, live: Live) -> None:
        account = live.account()
        alice = live.users["alice"]

        [user] = list(account.promotable_users())
        again = account.promotable_users(user.id)
        features = account.features()
        path = f"/11/accounts/{live.account_id}/authenticated_user_access"
        access = Request(live.client(), "get", path).perform().body["data"]

        assert (user.user_id, user.promotable_user_type) == (str(alice.user_id), "FULL")
        assert (again.id, again.user_id) == (user.id, user.user_id)
        assert isinstance(features, list)
        assert access == {
            "user_id": str(alice.user_id),
            "permissions": ["ACCOUNT_ADMIN", "TWEET_COMPOSER"],
        }

    def test_each_member_sees_own_access_on_v11_and_v12(self, live: Live) -> None:
        expected = {
            "bob": ["AD_MANAGER", "TWEET_COMPOSER"],
            "carol": ["CREATIVE_MANAGER"],
        }
        for name, permissions in expected.items():
            for version in ("11", "12"):
                path = f"/{version}/accounts/{live.account_id}/authenticated_user_access"
                body = Request(live.client(name), "get", path).perform().body
                assert body["data"]["permissions"] == permissions, (name, version)

    def test_a_non_member_and_bad_credentials(self, live: Live) -> None:
        with pytest.raises(Forbidden) as foreign:
            live.client("dave").accounts(live.account_id)
        assert live.account_id not in [a.id for a in live.client("dave").accounts()]
        creds = live.users["alice"]
        forged = Client(creds.consumer_key, creds.consumer_secret, creds.access_token, "guess")
        with pytest.raises(NotAuthorized) as refused:
            forged.accounts(live.account_id)

        assert foreign.value.details == [
            {"code": "NOT_FOUND", "message": f"Account {live.account_id} was not found"}
        ]
        assert refused.value.details == [
            {"code": "UNAUTHORIZED_ACCESS", "message": "This request is not properly authenticated"}
        ]

    def test_the_examples_user_lookup(self, live: Live) -> None:
        found = UserIdLookup.load(live.account(), "alice")

        assert found.id_str == str(live.users["alice"].user_id)


class TestMediaLibrary:
    def test_add_load_update_reload_delete(self, live: Live, jpeg_file: Path) -> None:
        account = live.account()
        uploaded = upload_photo(live.client(), live.base, jpeg_file)
        key = uploaded["media_key"]

        item = MediaLibrary(account)
        item.media_key, item.name, item.file_name = key, "Latte", "latte.jpg"
        item = item.add()
        loaded = MediaLibrary.load(account, key)

        assert key == f"3_{uploaded['media_id_string']}"
        assert (item.media_key, item.name, item.file_name) == (key, "Latte", "latte.jpg")
        assert (loaded.media_type, loaded.media_status) == ("IMAGE", "TRANSCODE_COMPLETED")
        assert loaded.tweeted is None  # false, dropped by the SDK; raw shows it:
        raw = live.raw.data("GET", f"/11/accounts/{live.account_id}/media_library/{key}")
        assert (raw["tweeted"], raw["deleted"]) == (False, False)
        image = httpx.get(loaded.media_url)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/jpeg"

        # update() sends every set property, read-only ones too (§13.4); they are ignored.
        loaded.name = "renamed"
        updated = loaded.update()
        reloaded = MediaLibrary(account)
        reloaded.media_key = key
        reloaded = reloaded.reload()

        assert updated.name == "renamed"
        assert (reloaded.name, reloaded.file_name) == ("renamed", "latte.jpg")
        assert reloaded.media_type == "IMAGE"

        reloaded.delete()

        assert reloaded.deleted is True
        with pytest.raises(NotFound) as gone:
            MediaLibrary.load(account, key)
        assert gone.value.details[0]["code"] == "NOT_FOUND"
        assert httpx.get(loaded.media_url).status_code == 404

    def test_a_video_through_chunked_upload(
        self, live: Live, mp4_file: Path, png_file: Path
    ) -> None:
        account = live.account()
        done = upload_chunked(
            live.client(), live.base, mp4_file, media_type="video/mp4", category="tweet_video"
        )
        assert done["processing_info"]["state"] == "succeeded", done

        item = MediaLibrary(account)
        item.media_key = done["media_key"]
        item.title, item.description = "Test card", "Colour bars, 2 s"
        item = item.add()

        assert item.media_key == f"7_{done['media_id_string']}"
        assert item.media_type == "VIDEO"
        # The SDK declares no media_category property (§7.1 has it): raw HTTP shows it.
        raw = live.raw.data("GET", f"/11/accounts/{live.account_id}/media_library/{item.media_key}")
        assert raw["media_category"] == "TWEET_VIDEO"
        assert item.media_status == "TRANSCODE_COMPLETED"
        assert 1900 <= item.duration <= 2100  # the 2 s clip, in ms
        assert item.aspect_ratio == "4:3"  # 320x240
        assert item.poster_media_url.startswith(live.base)
        assert httpx.get(item.poster_media_url).status_code == 200
        assert httpx.get(item.media_url).headers["content-type"] == "video/mp4"

        poster = live.photo(png_file)
        item.title, item.poster_media_key = "Retitled", poster
        updated = item.update()  # duration, aspect_ratio, media_url... echoed, ignored
        assert (updated.title, updated.poster_media_key) == ("Retitled", poster)
        assert updated.poster_media_url == MediaLibrary.load(account, poster).media_url
        assert MediaLibrary.load(account, item.media_key).description == "Colour bars, 2 s"

        # Title and description reach the post's media (v1.1 additional_media_info).
        posted = Tweet.create(account, text=unique("a clip"), media_keys=[item.media_key])
        shown = live.raw("GET", "/1.1/statuses/show.json", params={"id": posted["id_str"]})
        [entity] = shown.json()["extended_entities"]["media"]
        assert entity["type"] == "video"
        info = entity["additional_media_info"]
        assert (info["title"], info["description"]) == ("Retitled", "Colour bars, 2 s")

    def test_the_cursor_walks_every_page(
        self, live: Live, fresh_account: Account, png_file: Path
    ) -> None:
        client = live.client()
        keys = []
        for _ in range(5):
            key = upload_photo(client, live.base, png_file)["media_key"]
            item = MediaLibrary(fresh_account)
            item.media_key = key
            item.add()
            keys.append(key)

        cursor = MediaLibrary.all(fresh_account, count=2)
        first_page = cursor.fetched
        seen = [item.media_key for item in cursor]

        assert first_page == 2  # the first request ran at once; the rest page by page
        assert seen == keys[::-1]  # newest first, each once, over three pages
        assert cursor.fetched == 5
        images = MediaLibrary.all(fresh_account, media_type="IMAGE", count=50)
        assert [i.media_key for i in images] == keys[::-1]
        assert list(MediaLibrary.all(fresh_account, media_type="VIDEO")) == []

    def test_q_searches_names_and_titles(
        self, live: Live, fresh_account: Account, png_file: Path
    ) -> None:
        client = live.client()
        named = {}
        for name in ("Summer Beach", "winter hills", "beach party"):
            item = MediaLibrary(fresh_account)
            item.media_key = upload_photo(client, live.base, png_file)["media_key"]
            item.name = name
            named[name] = item.add().media_key

        found = [i.media_key for i in MediaLibrary.all(fresh_account, q="BEACH")]

        assert found == [named["beach party"], named["Summer Beach"]]

    def test_a_member_uploads_for_the_owner_with_additional_owners(
        self, live: Live, png_file: Path
    ) -> None:
        alice_id = str(live.users["alice"].user_id)
        shared = upload_photo(live.client("bob"), live.base, png_file, additional_owners=alice_id)
        own = upload_photo(live.client("bob"), live.base, png_file)

        item = MediaLibrary(live.account("bob"))
        item.media_key = shared["media_key"]
        added = item.add()
        foreign = MediaLibrary(live.account("bob"))
        foreign.media_key = own["media_key"]
        with pytest.raises(BadRequest) as refused:
            foreign.add()

        assert added.media_key == shared["media_key"]
        assert refused.value.details[0]["code"] == "INVALID_MEDIA"

    def test_errors(self, live: Live, png_file: Path) -> None:
        account = live.account()

        with pytest.raises(BadRequest) as missing:
            MediaLibrary(account).add()
        with pytest.raises(NotFound):
            MediaLibrary.load(account, "3_1234567890")
        with pytest.raises(BadRequest) as too_many:
            MediaLibrary.all(account, count=51)
        bogus = MediaLibrary(account)
        bogus.media_key = "3_99999999999"
        with pytest.raises(BadRequest) as invalid:
            bogus.add()

        assert missing.value.details[0]["code"] == "MISSING_PARAMETER"
        assert missing.value.details[0]["message"] == '"media_key" is a required parameter'
        assert too_many.value.details[0]["code"] == "INVALID_PARAMETER"
        assert invalid.value.details[0]["code"] == "INVALID_MEDIA"

    def test_a_limited_member_adds_and_edits_but_does_not_delete(
        self, live: Live, png_file: Path
    ) -> None:
        account = live.account("carol")
        item = MediaLibrary(account)
        item.media_key = upload_photo(live.client(), live.base, png_file)["media_key"]  # alice's
        item.name = "by carol"
        item = item.add()
        item.name = "edited by carol"
        item.update()

        with pytest.raises(Forbidden) as refused:
            item.delete()

        assert refused.value.details[0]["code"] == "ACTION_NOT_ALLOWED"
        assert MediaLibrary.load(live.account(), item.media_key).name == "edited by carol"


class TestScheduledTweets:
    def test_save_all_load_update_delete(self, live: Live, png_file: Path) -> None:
        account = live.account()
        key = live.photo(png_file)
        alice_id = str(live.users["alice"].user_id)
        when = ahead(days=3)

        tweet = ScheduledTweet(account)
        tweet.text, tweet.as_user_id, tweet.media_keys = unique("Later"), alice_id, [key]
        tweet.scheduled_at = when
        tweet.save()

        assert tweet.scheduled_status == "SCHEDULED"
        assert tweet.id is not None
        assert tweet.user_id == alice_id
        assert tweet.media_keys == [key]
        assert tweet.scheduled_at == when.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert tweet.nullcast is True
        assert tweet.tweet_id is None
        assert tweet.completed_at is None
        assert tweet.id in [t.id for t in ScheduledTweet.all(account)]
        assert account.scheduled_tweets(tweet.id).text == tweet.text

        # save() with an id is a PUT echoing id, scheduled_status, user_id, created_at...
        tweet.text = unique("Changed")
        tweet.nullcast = False
        tweet.save()
        loaded = ScheduledTweet.load(account, tweet.id)

        assert loaded.text == tweet.text
        assert loaded.scheduled_at == when.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert loaded.nullcast is None  # false, dropped by the SDK
        raw = live.raw.data("GET", f"/11/accounts/{live.account_id}/scheduled_tweets/{tweet.id}")
        assert raw["nullcast"] is False

        tweet.delete()

        assert tweet.scheduled_status == "DELETED"
        with pytest.raises(NotFound):
            ScheduledTweet.load(account, tweet.id)

    def test_rules(self, live: Live) -> None:
        account = live.account()
        too_far = ScheduledTweet(account)
        too_far.text, too_far.scheduled_at = unique("too far"), ahead(days=400)
        with pytest.raises(BadRequest) as late:
            too_far.save()
        blank = ScheduledTweet(account)
        blank.scheduled_at = ahead(days=2)
        with pytest.raises(BadRequest) as empty:
            blank.save()
        limited = ScheduledTweet(live.account("carol"))
        limited.text, limited.scheduled_at = unique("not mine to plan"), ahead(days=2)
        with pytest.raises(Forbidden) as refused:
            limited.save()

        assert late.value.details[0]["code"] == "INVALID_PARAMETER"
        assert empty.value.details[0]["code"] in ("MISSING_PARAMETER", "TWEET_CANNOT_BE_BLANK")
        assert refused.value.details[0]["code"] == "ACTION_NOT_ALLOWED"

    def test_a_full_member_schedules(self, live: Live) -> None:
        tweet = ScheduledTweet(live.account("bob"))
        tweet.text, tweet.scheduled_at = unique("bob plans"), ahead(days=5)
        tweet.save()

        assert tweet.user_id == str(live.users["alice"].user_id)  # the FULL user posts


class TestDraftTweets:
    def test_save_all_load_update_preview_delete(self, live: Live, png_file: Path) -> None:
        account = live.account("carol")  # drafts are a limited member's too
        key = live.photo(png_file)

        draft = DraftTweet(account)
        draft.text, draft.media_keys = unique("Draft"), [key]
        draft.save()

        assert draft.id is not None
        assert draft.user_id == str(live.users["alice"].user_id)
        assert draft.media_keys == [key]
        assert draft.id in [d.id for d in DraftTweet.all(account)]
        assert DraftTweet.load(account, draft.id).text == draft.text

        draft.text = unique("Redrafted")
        draft.save()
        assert DraftTweet.load(account, draft.id).text == draft.text

        path = f"/11/accounts/{live.account_id}/draft_tweets/preview/{draft.id}"
        body = Request(live.client("carol"), "post", path).perform().body
        assert body["message"] == "See @alice's notifications in the X app to preview your Tweet."

        raw = live.raw.data("DELETE", f"/11/accounts/{live.account_id}/draft_tweets/{draft.id}")
        assert raw["status"] == "DELETED"
        with pytest.raises(NotFound):
            DraftTweet.load(account, draft.id)

        again = DraftTweet(account)
        again.text = unique("to delete through the SDK")
        again.save()
        again.delete()
        with pytest.raises(NotFound):
            again.reload()


class TestPreviewsAndPosts:
    def test_tweet_previews(self, live: Live, png_file: Path) -> None:
        account = live.account()
        draft = DraftTweet(account)
        draft.text, draft.media_keys = unique("Preview <me> & you"), [live.photo(png_file)]
        draft.save()
        planned = ScheduledTweet(account)
        planned.text, planned.scheduled_at = unique("planned"), ahead(days=6)
        planned.save()

        both = [draft.id, planned.id]  # FlattenParams sends them comma-joined
        drafts = list(TweetPreview.load(account, tweet_ids=both, tweet_type="DRAFT"))
        scheduled = list(TweetPreview.load(account, tweet_ids=[planned.id], tweet_type="SCHEDULED"))

        assert [p.tweet_id for p in drafts] == [draft.id]  # the scheduled id is no draft
        assert [p.tweet_id for p in scheduled] == [planned.id]
        src = re.search(r"src=['\"]([^'\"]+)['\"]", drafts[0].preview)
        assert src is not None, drafts[0].preview
        page = httpx.get(html.unescape(src.group(1)))
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert html.escape(draft.text, quote=False) in page.text
        assert "<me>" not in page.text

    def test_tweet_create_and_tweets_all(self, live: Live, jpeg_file: Path) -> None:
        account = live.account()
        key = live.photo(jpeg_file)
        alice = live.users["alice"]
        text = unique("Posted now")

        posted = Tweet.create(account, text=text, as_user_id=str(alice.user_id), media_keys=[key])
        listed = list(Tweets.all(account, tweet_type="PUBLISHED", tweet_ids=[posted["id_str"]]))

        assert posted["text"].startswith(text)
        assert [t["id_str"] for t in listed] == [posted["id_str"]]
        assert listed[0]["nullcast"] is True
        [media] = posted["extended_entities"]["media"]
        assert media["id_str"] == key.split("_")[1]
        shown = live.raw("GET", "/1.1/statuses/show.json", params={"id": posted["id_str"]})
        assert shown.status_code == 200, shown.text
        assert shown.json()["user"]["id_str"] == str(alice.user_id)
        v2 = live.raw("GET", f"/2/tweets/{posted['id_str']}")
        assert v2.status_code == 200, v2.text
        assert v2.json()["data"]["text"].startswith(text)
        assert MediaLibrary.load(account, key).tweeted is True

    def test_tweets_all_lists_drafts_and_scheduled_posts(self, live: Live) -> None:
        account = live.account()
        draft = DraftTweet(account)
        draft.text = unique("listed draft")
        draft.save()
        planned = ScheduledTweet(account)
        planned.text, planned.scheduled_at = unique("listed plan"), ahead(days=7)
        planned.save()

        drafts = list(Tweets.all(account, tweet_type="DRAFT", tweet_ids=[draft.id]))
        plans = list(Tweets.all(account, tweet_type="SCHEDULED", tweet_ids=[planned.id]))

        assert [(t["tweet_id"], t["tweet_type"]) for t in drafts] == [(draft.id, "DRAFT")]
        assert [(t["tweet_id"], t["tweet_type"]) for t in plans] == [(planned.id, "SCHEDULED")]
        assert plans[0]["scheduled_at"] == planned.scheduled_at

    def test_the_scheduler_published_the_post_planned_at_start(self, live: Live) -> None:
        """``live`` planned a post for the next minute; by now (or soon) it is live."""
        account = live.account()
        deadline = time.monotonic() + 120
        planned = ScheduledTweet.load(account, live.planned_id)
        while planned.scheduled_status == "SCHEDULED":
            assert time.monotonic() < deadline, "not published within 120 s"
            time.sleep(0.5)
            planned = ScheduledTweet.load(account, live.planned_id)

        assert planned.scheduled_status == "SUCCESS"
        assert planned.tweet_id is not None
        assert planned.completed_at >= planned.scheduled_at  # both ...Z strings
        [post] = Tweets.all(account, tweet_type="PUBLISHED", tweet_ids=[planned.tweet_id])
        assert post["text"] == planned.text
        shown = live.raw("GET", f"/2/tweets/{planned.tweet_id}")
        assert shown.json()["data"]["text"] == planned.text
        planned.text = unique("too late")
        with pytest.raises(BadRequest):  # no edits once live
            planned.save()

    def test_a_limited_member_cannot_post(self, live: Live) -> None:
        with pytest.raises(Forbidden) as refused:
            Tweet.create(live.account("carol"), text=unique("no"))

        assert refused.value.details[0]["code"] == "ACTION_NOT_ALLOWED"

    def test_v12_paths_answer_alike(self, live: Live) -> None:
        client = live.client()
        for version in ("11", "12"):
            body: dict[str, Any] = (
                Request(
                    client,
                    "get",
                    f"/{version}/accounts/{live.account_id}/media_library",
                    params={"count": 1},
                )
                .perform()
                .body
            )
            assert isinstance(body["data"], list)
            assert "next_cursor" in body


class TestOwnSurface:
    def test_members_over_raw_http(self, live: Live) -> None:
        path = f"/studio/v1/accounts/{live.account_id}/members"

        members = live.raw.data("GET", path)
        refused = Raw(live.base, live.users["bob"])("GET", path)

        roles = {m["user_id"]: m["role"] for m in members}
        users = live.users
        assert roles == {
            str(users["alice"].user_id): "admin",
            str(users["bob"].user_id): "full",
            str(users["carol"].user_id): "limited",
        }
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["code"] == "ACTION_NOT_ALLOWED"

    def test_grant_then_revoke_shows_in_the_sdk(self, live: Live) -> None:
        dave = live.users["dave"]
        path = f"/studio/v1/accounts/{live.account_id}/members/{dave.user_id}"

        live.raw.data("PUT", path, json={"permissions": ["CREATIVE_MANAGER"]})
        seen = live.account("dave").id
        live.raw.data("DELETE", path)

        assert seen == live.account_id
        with pytest.raises(Forbidden):
            live.account("dave")
