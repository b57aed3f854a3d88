"""Scheduled posts over HTTP (Ads API §8), on SQLite and PostgreSQL: the object, the
scheduled_at window, the per-window limit (under a concurrent burst too), edits until
scheduled_at, hard deletes, roles."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utcnow
from app.http.deps import get_clock
from app.infra.db import make_sessionmaker
from app.models import Media, ScheduledTweet
from app.studio import scheduler
from tests.conftest import Env, User
from tests.studio.posts_support import Studio, error_code, library_photo, make_studio


@pytest.fixture
async def studio(env: Env, engine: AsyncEngine, alice: User) -> Studio:
    return await make_studio(env, engine, alice)


def ads(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(days: float = 0, minutes: float = 0) -> datetime:
    """A whole minute that far ahead of now."""
    moment = utcnow() + timedelta(days=days, minutes=minutes)
    return moment.replace(second=0, microsecond=0)


def set_clock(env: Env, moment: datetime) -> None:
    async def clock() -> Callable[[], datetime]:
        return lambda: moment

    env.app.dependency_overrides[get_clock] = clock


async def schedule(studio: Studio, when: datetime, user: User | None = None, **more: Any) -> Any:
    params = {"text": f"at {when.isoformat()} {more.pop('tag', '')}", "scheduled_at": ads(when)}
    return await studio.call("POST", "scheduled_tweets", user, **params, **more)


async def set_row(engine: AsyncEngine, scheduled_id: str, **values: Any) -> None:
    async with make_sessionmaker(engine)() as session:
        await session.execute(
            update(ScheduledTweet).where(ScheduledTweet.id == int(scheduled_id)).values(**values)
        )
        await session.commit()


class TestCreateScheduled:
    async def test_object_has_the_documented_shape(self, studio: Studio) -> None:
        when = at(days=2)

        response = await studio.call(
            "POST",
            "scheduled_tweets",
            text="Future",
            scheduled_at=ads(when + timedelta(seconds=42)),
            as_user_id=str(studio.owner.id),
        )

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["scheduled_status"] == "SCHEDULED"
        assert data["scheduled_at"] == ads(when)  # seconds dropped
        assert (data["tweet_id"], data["completed_at"]) == (None, None)
        assert data["user_id"] == str(studio.owner.id)
        assert (data["nullcast"], data["media_keys"], data["text"]) == (True, [], "Future")
        assert isinstance(data["id"], str)
        assert "failure_reason" not in data

    async def test_any_offset_and_a_date_alone_are_taken(self, studio: Studio) -> None:
        day = (utcnow() + timedelta(days=3)).date()

        offset = await studio.call(
            "POST", "scheduled_tweets", text="a", scheduled_at=f"{day}T10:30:00-0800"
        )
        date_only = await studio.call("POST", "scheduled_tweets", text="b", scheduled_at=str(day))

        assert offset.json()["data"]["scheduled_at"] == f"{day}T18:30:00Z"
        assert date_only.json()["data"]["scheduled_at"] == f"{day}T00:00:00Z"

    async def test_missing_scheduled_at_is_missing_parameter(self, studio: Studio) -> None:
        response = await studio.call("POST", "scheduled_tweets", text="when?")

        assert response.status_code == 400
        assert error_code(response) == "MISSING_PARAMETER"

    @pytest.mark.parametrize(
        "when",
        [
            lambda: ads(at(minutes=-1)),
            lambda: ads(at(days=366)),
            lambda: "tomorrow",
            lambda: "2030-02-30T00:00:00Z",
        ],
        ids=["past", "over-a-year", "words", "no-such-day"],
    )
    async def test_scheduled_at_outside_the_window_is_invalid(
        self, studio: Studio, when: Callable[[], str]
    ) -> None:
        response = await studio.call("POST", "scheduled_tweets", text="x", scheduled_at=when())

        assert response.status_code == 400
        assert error_code(response) == "INVALID_PARAMETER"
        assert response.json()["errors"][0]["parameter"] == "scheduled_at"

    async def test_library_media_is_taken_and_removed_media_refused(
        self, studio: Studio, engine: AsyncEngine, png_file: Path
    ) -> None:
        key = await library_photo(studio, png_file)

        kept = await schedule(studio, at(days=1), media_keys=key)
        async with make_sessionmaker(engine)() as session:
            await session.execute(
                update(Media).where(Media.media_key == key).values(removed_at=utcnow())
            )
            await session.commit()
        refused = await schedule(studio, at(days=1), media_keys=key, tag="2")

        assert kept.json()["data"]["media_keys"] == [key]
        assert error_code(refused) == "INVALID_MEDIA"


class TestWindowLimit:
    async def test_thirty_fit_in_fifteen_minutes_and_the_next_is_refused(
        self, studio: Studio
    ) -> None:
        start = at(days=5)
        for i in range(30):
            made = await schedule(studio, start + timedelta(minutes=i % 14), tag=str(i))
            assert made.status_code == 200, made.text

        inside = await schedule(studio, start + timedelta(minutes=7), tag="31")
        after = await schedule(studio, start + timedelta(minutes=28), tag="later")

        assert inside.status_code == 400
        assert error_code(inside) == "SCHEDULED_TWEET_LIMIT_EXCEEDED"
        assert after.status_code == 200

    async def test_a_window_is_any_fifteen_minutes_around_the_new_post(
        self, studio: Studio
    ) -> None:
        start = at(days=5)
        for i in range(29):
            await schedule(studio, start, tag=str(i))
        minutes = [14, 14, 15, -14, -14]

        results = [
            await schedule(studio, start + timedelta(minutes=m), tag=f"m{n}")
            for n, m in enumerate(minutes)
        ]

        # [start, start+15) holds 29 + the first at +14, the second at +14 is a 31st; +15
        # shares no window with start; -14 shares [start-14, start+1) with the 29.
        assert [r.status_code for r in results] == [200, 400, 200, 200, 400]

    async def test_only_scheduled_posts_count(self, studio: Studio, engine: AsyncEngine) -> None:
        start = at(days=5)
        made = [(await schedule(studio, start, tag=str(i))).json()["data"] for i in range(30)]
        await set_row(engine, made[0]["id"], status="FAILED", failure_reason="gone")

        response = await schedule(studio, start, tag="room")

        assert response.status_code == 200

    async def test_a_concurrent_burst_admits_exactly_the_limit(self, studio: Studio) -> None:
        start = at(days=6)

        results = await asyncio.gather(
            *(schedule(studio, start + timedelta(minutes=i % 10), tag=str(i)) for i in range(45))
        )

        statuses = sorted(r.status_code for r in results)
        assert statuses.count(200) == 30, [r.text for r in results if r.status_code != 200][:3]
        assert {error_code(r) for r in results if r.status_code != 200} == {
            "SCHEDULED_TWEET_LIMIT_EXCEEDED"
        }
        listed = (await studio.call("GET", "scheduled_tweets", count="200")).json()["data"]
        assert len(listed) == 30

    async def test_moving_a_post_into_a_full_window_is_refused(self, studio: Studio) -> None:
        start = at(days=5)
        for i in range(30):
            await schedule(studio, start, tag=str(i))
        other = (await schedule(studio, at(days=9))).json()["data"]

        moved = await studio.call("PUT", f"scheduled_tweets/{other['id']}", scheduled_at=ads(start))

        assert error_code(moved) == "SCHEDULED_TWEET_LIMIT_EXCEEDED"


class TestEditScheduled:
    async def test_sdk_style_put_changes_the_text_only(self, studio: Studio) -> None:
        made = (await schedule(studio, at(days=1), name="label")).json()["data"]

        response = await studio.call(
            "PUT",
            f"scheduled_tweets/{made['id']}",
            created_at=made["created_at"],
            id=made["id"],
            scheduled_status="SCHEDULED",
            updated_at=made["updated_at"],
            user_id=made["user_id"],
            nullcast="true",
            scheduled_at=made["scheduled_at"],
            text="changed",
        )

        data = response.json()["data"]
        assert response.status_code == 200, response.text
        assert (data["text"], data["name"]) == ("changed", "label")
        assert data["scheduled_at"] == made["scheduled_at"]

    async def test_scheduled_at_moves(self, studio: Studio) -> None:
        made = (await schedule(studio, at(days=1))).json()["data"]

        response = await studio.call(
            "PUT", f"scheduled_tweets/{made['id']}", scheduled_at=ads(at(days=2))
        )

        assert response.json()["data"]["scheduled_at"] == ads(at(days=2))

    async def test_edits_after_scheduled_at_are_refused(self, studio: Studio) -> None:
        when = at(minutes=5)
        made = (await schedule(studio, when)).json()["data"]
        set_clock(studio.env, when + timedelta(seconds=1))

        response = await studio.call("PUT", f"scheduled_tweets/{made['id']}", text="late")

        assert response.status_code == 400
        assert error_code(response) == "SCHEDULED_TWEET_NOT_EDITABLE"

    @pytest.mark.parametrize("status", ["SUCCESS", "FAILED"])
    async def test_edits_of_a_post_no_longer_scheduled_are_refused(
        self, studio: Studio, engine: AsyncEngine, status: str
    ) -> None:
        made = (await schedule(studio, at(days=1))).json()["data"]
        await set_row(engine, made["id"], status=status)

        response = await studio.call("PUT", f"scheduled_tweets/{made['id']}", text="x")

        assert error_code(response) == "SCHEDULED_TWEET_NOT_EDITABLE"

    async def test_a_failed_post_says_why(self, studio: Studio, engine: AsyncEngine) -> None:
        made = (await schedule(studio, at(days=1))).json()["data"]
        await set_row(
            engine,
            made["id"],
            status="FAILED",
            failure_reason="media deleted",
            completed_at=datetime(2030, 1, 1, tzinfo=UTC),
        )

        data = (await studio.call("GET", f"scheduled_tweets/{made['id']}")).json()["data"]

        assert data["scheduled_status"] == "FAILED"
        assert data["failure_reason"] == "media deleted"
        assert data["completed_at"] == "2030-01-01T00:00:00Z"


class TestDeleteAndList:
    async def test_delete_answers_deleted_and_the_post_is_gone(self, studio: Studio) -> None:
        made = (await schedule(studio, at(days=1))).json()["data"]

        deleted = await studio.call("DELETE", f"scheduled_tweets/{made['id']}")
        after = await studio.call("GET", f"scheduled_tweets/{made['id']}")

        assert deleted.status_code == 200
        assert deleted.json()["data"]["scheduled_status"] == "DELETED"
        assert deleted.json()["data"]["id"] == made["id"]
        assert after.status_code == 404

    async def test_list_pages_newest_first(self, studio: Studio) -> None:
        made = [(await schedule(studio, at(days=1), tag=str(i))).json()["data"] for i in range(3)]

        first = (await studio.call("GET", "scheduled_tweets", count="2")).json()
        rest = (
            await studio.call("GET", "scheduled_tweets", count="2", cursor=first["next_cursor"])
        ).json()

        ids = [d["id"] for d in first["data"] + rest["data"]]
        assert ids == [m["id"] for m in reversed(made)]
        assert rest["next_cursor"] is None

    async def test_user_id_other_than_the_full_user_is_invalid_user(self, studio: Studio) -> None:
        response = await studio.call("GET", "scheduled_tweets", user_id=str(studio.full.id))

        assert error_code(response) == "INVALID_USER"


class TestScheduledRoles:
    async def test_limited_member_reads_but_may_not_schedule(self, studio: Studio) -> None:
        made = (await schedule(studio, at(days=1))).json()["data"]

        read = await studio.call("GET", f"scheduled_tweets/{made['id']}", studio.limited)
        create = await schedule(studio, at(days=1), studio.limited, tag="l")
        edit = await studio.call("PUT", f"scheduled_tweets/{made['id']}", studio.limited, text="y")
        delete = await studio.call("DELETE", f"scheduled_tweets/{made['id']}", studio.limited)

        assert read.status_code == 200
        for refused in (create, edit, delete):
            assert (refused.status_code, error_code(refused)) == (403, "ACTION_NOT_ALLOWED")

    async def test_full_member_schedules_organic_posts(self, studio: Studio) -> None:
        response = await schedule(studio, at(days=1), studio.full, nullcast="false")

        assert response.status_code == 200
        assert response.json()["data"]["nullcast"] is False

    async def test_outsider_gets_403_not_found(self, studio: Studio) -> None:
        response = await studio.call("GET", "scheduled_tweets", studio.outsider)

        assert (response.status_code, error_code(response)) == (403, "NOT_FOUND")


class TestPublishedByTheScheduler:
    async def test_a_published_post_has_its_tweet_and_is_no_longer_editable(
        self, studio: Studio, png_file: Path
    ) -> None:
        key = await library_photo(studio, png_file)
        when = at(minutes=2)
        made = (await schedule(studio, when, media_keys=key)).json()["data"]

        await scheduler.publish_due(
            studio.env.state.sessions, studio.env.state.ids, clock=lambda: when
        )
        data = (await studio.call("GET", f"scheduled_tweets/{made['id']}")).json()["data"]
        shown = await studio.env.client.get(
            "/1.1/statuses/show.json", params={"id": data["tweet_id"]}, headers=studio.owner.headers
        )
        edit = await studio.call("PUT", f"scheduled_tweets/{made['id']}", text="too late")
        published = await studio.call("GET", "tweets", tweet_type="PUBLISHED")

        assert data["scheduled_status"] == "SUCCESS"
        assert data["completed_at"] == ads(when)
        assert shown.json()["text"].startswith(made["text"])
        assert shown.json()["extended_entities"]["media"][0]["media_key"] == key
        assert error_code(edit) == "SCHEDULED_TWEET_NOT_EDITABLE"
        assert [t["tweet_id"] for t in published.json()["data"]] == [data["tweet_id"]]

    async def test_media_deleted_meanwhile_fails_the_post_with_its_reason(
        self, studio: Studio, png_file: Path
    ) -> None:
        key = await library_photo(studio, png_file)
        when = at(minutes=2)
        made = (await schedule(studio, when, media_keys=key)).json()["data"]
        removed = await studio.call("DELETE", f"media_library/{key}")
        assert removed.status_code == 200, removed.text

        await scheduler.publish_due(
            studio.env.state.sessions, studio.env.state.ids, clock=lambda: when
        )
        data = (await studio.call("GET", f"scheduled_tweets/{made['id']}")).json()["data"]

        assert data["scheduled_status"] == "FAILED"
        assert data["tweet_id"] is None
        assert key in data["failure_reason"]
