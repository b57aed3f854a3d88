"""Ads API accounts (§4), authenticated user access (§5), promotable users (§6) over
HTTP, on /11 and /12 alike."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.infra.db import make_sessionmaker
from app.models import StudioAccount
from tests.conftest import Env, User
from tests.fixtures.studio import create_studio_account, grant

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _error(response: Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1
    return dict(errors[0])


async def _accounts(engine: AsyncEngine, owner: User, *names: str) -> list[str]:
    return [await create_studio_account(engine, owner.id, name=name) for name in names]


class TestGetAccount:
    @pytest.mark.parametrize("version", ["11", "12"])
    async def test_the_account_object(
        self, env: Env, engine: AsyncEngine, alice: User, version: str
    ) -> None:
        account_id = await create_studio_account(
            engine, alice.id, name="Coffee", timezone="America/Los_Angeles"
        )

        response = await env.client.get(f"/{version}/accounts/{account_id}", headers=alice.headers)

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data_type"] == "account"
        assert body["request"]["params"] == {"account_id": account_id}
        data = body["data"]
        assert set(data) == {
            "name", "business_name", "timezone", "timezone_switch_at", "id", "created_at",
            "updated_at", "industry_type", "business_id", "approval_status", "deleted", "salt",
        }  # fmt: skip
        assert data["id"] == account_id
        assert re.fullmatch(r"[0-9a-z]+", account_id)
        assert (data["name"], data["timezone"]) == ("Coffee", "America/Los_Angeles")
        assert (data["business_name"], data["business_id"], data["industry_type"]) == (None,) * 3
        assert (data["approval_status"], data["deleted"]) == ("ACCEPTED", False)
        assert re.fullmatch(r"[0-9a-f]{32}", data["salt"])
        for field in ("created_at", "updated_at", "timezone_switch_at"):
            assert _TIME.match(data[field]), data[field]

    async def test_timezone_switch_at_is_the_local_midnight_of_the_creation_day(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id, timezone="Asia/Kolkata")

        data = (await env.client.get(f"/11/accounts/{account_id}", headers=alice.headers)).json()[
            "data"
        ]

        switch = datetime.strptime(data["timezone_switch_at"], "%Y-%m-%dT%H:%M:%SZ")
        created = datetime.strptime(data["created_at"], "%Y-%m-%dT%H:%M:%SZ")
        # Kolkata is UTC+05:30: its midnight is 18:30 UTC, at most a day before creation.
        assert (switch.hour, switch.minute) == (18, 30)
        assert 0 < (created - switch).total_seconds() <= 24 * 3600

    async def test_a_non_member_gets_403_not_found(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        response = await env.client.get(f"/11/accounts/{account_id}", headers=bob.headers)

        assert response.status_code == 403
        assert _error(response) == {
            "code": "NOT_FOUND",
            "message": f"Account {account_id} was not found",
        }

    async def test_an_unknown_account_answers_like_a_foreign_one(
        self, env: Env, alice: User
    ) -> None:
        response = await env.client.get("/12/accounts/zzzz", headers=alice.headers)

        assert response.status_code == 403
        assert _error(response)["code"] == "NOT_FOUND"

    async def test_without_credentials_is_401(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        response = await env.client.get(f"/11/accounts/{account_id}")

        assert response.status_code == 401
        assert _error(response) == {
            "code": "UNAUTHORIZED_ACCESS",
            "message": "This request is not properly authenticated",
        }

    async def test_a_limited_member_may_read_it(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        await grant(engine, account_id, bob.id, role="limited")

        response = await env.client.get(f"/11/accounts/{account_id}", headers=bob.headers)

        assert response.status_code == 200
        assert response.json()["data"]["id"] == account_id


class TestUpdateAccount:
    async def test_name_and_industry_type_change(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id, name="old")

        response = await env.client.put(
            f"/11/accounts/{account_id}",
            params={"name": "new name", "industry_type": "travel", "salt": "ignored"},
            headers=alice.headers,
        )

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["name"], data["industry_type"]) == ("new name", "TRAVEL")
        again = await env.client.get(f"/11/accounts/{account_id}", headers=alice.headers)
        assert again.json()["data"]["industry_type"] == "TRAVEL"
        assert again.json()["data"]["salt"] != "ignored"

    async def test_an_empty_industry_type_unsets_it(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        url = f"/11/accounts/{account_id}"
        await env.client.put(url, params={"industry_type": "MEDIA"}, headers=alice.headers)

        response = await env.client.put(url, params={"industry_type": ""}, headers=alice.headers)

        assert response.json()["data"]["industry_type"] is None

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ({"industry_type": "SPACE"}, "industry_type"),
            ({"name": ""}, "name"),
            ({"name": "x" * 256}, "name"),
        ],
    )
    async def test_bad_values_are_400(
        self,
        env: Env,
        engine: AsyncEngine,
        alice: User,
        params: dict[str, str],
        parameter: str,
    ) -> None:
        account_id = await create_studio_account(engine, alice.id, name="kept")

        response = await env.client.put(
            f"/11/accounts/{account_id}", params=params, headers=alice.headers
        )

        assert response.status_code == 400
        assert _error(response)["code"] == "INVALID_PARAMETER"
        assert _error(response)["parameter"] == parameter
        again = await env.client.get(f"/11/accounts/{account_id}", headers=alice.headers)
        assert again.json()["data"]["name"] == "kept"

    @pytest.mark.parametrize("role", ["full", "limited"])
    async def test_only_admins_change_settings(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User, role: str
    ) -> None:
        account_id = await create_studio_account(engine, alice.id, name="kept")
        await grant(engine, account_id, bob.id, role=role)

        response = await env.client.put(
            f"/11/accounts/{account_id}", params={"name": "mine"}, headers=bob.headers
        )

        assert response.status_code == 403
        assert _error(response)["code"] == "ACTION_NOT_ALLOWED"


class TestListAccounts:
    async def test_only_the_callers_accounts(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        mine = await _accounts(engine, alice, "a1", "a2")
        await _accounts(engine, bob, "b1")

        body = (await env.client.get("/11/accounts", headers=alice.headers)).json()

        assert [a["id"] for a in body["data"]] == mine
        assert body["next_cursor"] is None
        assert "total_count" not in body
        assert body["data_type"] == "account"

    async def test_pages_follow_the_cursor_without_skipping_or_repeating(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        made = await _accounts(engine, alice, *(f"n{i}" for i in range(5)))
        seen: list[str] = []
        params: dict[str, Any] = {"count": 2}

        while True:
            response = await env.client.get("/11/accounts", params=params, headers=alice.headers)
            body = response.json()
            seen += [a["id"] for a in body["data"]]
            if body["next_cursor"] is None:
                break
            params["cursor"] = body["next_cursor"]
            await create_studio_account(engine, alice.id, name="late")  # arrives meanwhile

        assert seen[:5] == made
        assert len(seen) == len(set(seen))

    async def test_sort_by_name_desc_is_echoed_as_an_array(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        await _accounts(engine, alice, "bravo", "alpha", "charlie")

        body = (
            await env.client.get(
                "/11/accounts", params={"sort_by": "name-desc", "count": 2}, headers=alice.headers
            )
        ).json()
        rest = (
            await env.client.get(
                "/11/accounts",
                params={"sort_by": "name-desc", "count": 2, "cursor": body["next_cursor"]},
                headers=alice.headers,
            )
        ).json()

        assert [a["name"] for a in body["data"] + rest["data"]] == ["charlie", "bravo", "alpha"]
        assert body["request"]["params"] == {"count": 2, "sort_by": ["name-desc"]}

    async def test_a_cursor_of_another_sort_is_refused(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        await _accounts(engine, alice, "x", "y")
        first = (
            await env.client.get("/11/accounts", params={"count": 1}, headers=alice.headers)
        ).json()

        response = await env.client.get(
            "/11/accounts",
            params={"count": 1, "sort_by": "name-asc", "cursor": first["next_cursor"]},
            headers=alice.headers,
        )

        assert response.status_code == 400
        assert _error(response)["parameter"] == "cursor"

    async def test_q_is_a_case_insensitive_name_prefix(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        await _accounts(engine, alice, "Coffee Shop", "coffee bar", "Tea coffee", "50% off")

        def names(body: dict[str, Any]) -> list[str]:
            return sorted(a["name"] for a in body["data"])

        coffee = await env.client.get("/11/accounts", params={"q": "COFFEE"}, headers=alice.headers)
        percent = await env.client.get("/11/accounts", params={"q": "5%"}, headers=alice.headers)
        wildcard = await env.client.get("/11/accounts", params={"q": "%"}, headers=alice.headers)

        assert names(coffee.json()) == ["Coffee Shop", "coffee bar"]
        assert names(percent.json()) == []
        assert names(wildcard.json()) == []

    async def test_account_ids_filter_comma_or_repeated(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        a, b, c = await _accounts(engine, alice, "a", "b", "c")
        (foreign,) = await _accounts(engine, bob, "theirs")

        comma = await env.client.get(
            "/11/accounts", params={"account_ids": f"{a},{c},{foreign}"}, headers=alice.headers
        )
        repeated = await env.client.get(
            "/11/accounts", params=[("account_ids", b), ("account_ids", c)], headers=alice.headers
        )

        assert [x["id"] for x in comma.json()["data"]] == [a, c]
        assert comma.json()["request"]["params"]["account_ids"] == [a, c, foreign]
        assert [x["id"] for x in repeated.json()["data"]] == [b, c]

    async def test_with_total_count(self, env: Env, engine: AsyncEngine, alice: User) -> None:
        await _accounts(engine, alice, "a", "b", "c")

        body = (
            await env.client.get(
                "/11/accounts",
                params={"count": 2, "with_total_count": "true"},
                headers=alice.headers,
            )
        ).json()

        assert body["total_count"] == 3
        assert len(body["data"]) == 2
        assert body["next_cursor"] is not None

    async def test_with_total_count_and_cursor_are_exclusive(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        await _accounts(engine, alice, "a", "b")
        first = (
            await env.client.get("/11/accounts", params={"count": 1}, headers=alice.headers)
        ).json()

        response = await env.client.get(
            "/11/accounts",
            params={"cursor": first["next_cursor"], "with_total_count": "true"},
            headers=alice.headers,
        )

        assert response.status_code == 400
        assert _error(response)["code"] == "EXCLUSIVE_PARAMETERS"

    async def test_deleted_accounts_only_with_deleted(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        kept, gone = await _accounts(engine, alice, "kept", "gone")
        async with make_sessionmaker(engine)() as session:
            await session.execute(
                update(StudioAccount).where(StudioAccount.id == gone).values(deleted=True)
            )
            await session.commit()

        plain = await env.client.get("/11/accounts", headers=alice.headers)
        with_deleted = await env.client.get(
            "/11/accounts",
            params={"with_deleted": "true", "sort_by": "deleted-desc"},
            headers=alice.headers,
        )

        assert [a["id"] for a in plain.json()["data"]] == [kept]
        assert [(a["id"], a["deleted"]) for a in with_deleted.json()["data"]] == [
            (gone, True),
            (kept, False),
        ]

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ({"count": "0"}, "count"),
            ({"count": "1001"}, "count"),
            ({"sort_by": "id-asc"}, "sort_by"),
            ({"sort_by": "name-up"}, "sort_by"),
            ({"cursor": "c-garbage"}, "cursor"),
            ({"cursor": "nope"}, "cursor"),
            ({"with_deleted": "maybe"}, "with_deleted"),
        ],
    )
    async def test_bad_parameters_are_400(
        self, env: Env, alice: User, params: dict[str, str], parameter: str
    ) -> None:
        response = await env.client.get("/11/accounts", params=params, headers=alice.headers)

        assert response.status_code == 400, response.text
        assert _error(response)["code"] == "INVALID_PARAMETER"
        assert _error(response)["parameter"] == parameter


class TestFeaturesAndAccess:
    async def test_features_are_an_empty_list(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        body = (
            await env.client.get(f"/11/accounts/{account_id}/features", headers=alice.headers)
        ).json()

        assert (body["data"], body["data_type"]) == ([], "features")

    @pytest.mark.parametrize(
        ("role", "permissions"),
        [
            ("admin", ["ACCOUNT_ADMIN", "TWEET_COMPOSER"]),
            ("full", ["AD_MANAGER", "TWEET_COMPOSER"]),
            ("limited", ["CREATIVE_MANAGER"]),
        ],
    )
    async def test_authenticated_user_access_lists_the_callers_permissions(
        self,
        env: Env,
        engine: AsyncEngine,
        alice: User,
        bob: User,
        role: str,
        permissions: list[str],
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        if role != "admin":
            await grant(engine, account_id, bob.id, role=role)
        caller = alice if role == "admin" else bob

        response = await env.client.get(
            f"/12/accounts/{account_id}/authenticated_user_access", headers=caller.headers
        )

        assert response.json() == {
            "data": {"user_id": str(caller.id), "permissions": permissions},
            "request": {"params": {"account_id": account_id}},
        }


class TestPromotableUsers:
    async def test_the_owner_is_the_full_promotable_user(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        await grant(engine, account_id, bob.id, role="limited")

        body = (
            await env.client.get(f"/11/accounts/{account_id}/promotable_users", headers=bob.headers)
        ).json()

        assert body["data_type"] == "promotable_user"
        assert body["next_cursor"] is None
        (user,) = body["data"]
        assert user["user_id"] == str(alice.id)
        assert (user["promotable_user_type"], user["deleted"]) == ("FULL", False)
        assert user["account_id"] == account_id
        assert _TIME.match(user["created_at"])
        assert _TIME.match(user["updated_at"])
        one = await env.client.get(
            f"/11/accounts/{account_id}/promotable_users/{user['id']}", headers=bob.headers
        )
        assert one.json()["data"] == user

    async def test_pagination_filter_and_total_count(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        url = f"/11/accounts/{account_id}/promotable_users"
        (user,) = (await env.client.get(url, headers=alice.headers)).json()["data"]

        counted = await env.client.get(
            url, params={"count": 1, "with_total_count": "true"}, headers=alice.headers
        )
        filtered = await env.client.get(
            url, params={"promotable_user_ids": "nope,other"}, headers=alice.headers
        )
        sorted_ = await env.client.get(
            url, params={"sort_by": "created_at-desc"}, headers=alice.headers
        )

        assert counted.json()["total_count"] == 1
        assert counted.json()["next_cursor"] is None
        assert filtered.json()["data"] == []
        assert sorted_.json()["data"] == [user]
        assert sorted_.json()["request"]["params"]["sort_by"] == ["created_at-desc"]

    async def test_an_unknown_promotable_user_is_404(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        response = await env.client.get(
            f"/11/accounts/{account_id}/promotable_users/abc", headers=alice.headers
        )

        assert response.status_code == 404
        assert _error(response)["code"] == "PROMOTABLE_USER_NOT_FOUND"

    async def test_another_accounts_promotable_user_is_not_found(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        first, second = await _accounts(engine, alice, "one", "two")
        url = f"/11/accounts/{second}/promotable_users"
        (theirs,) = (await env.client.get(url, headers=alice.headers)).json()["data"]

        response = await env.client.get(
            f"/11/accounts/{first}/promotable_users/{theirs['id']}", headers=alice.headers
        )

        assert response.status_code == 404


class TestUnknownVersions:
    @pytest.mark.parametrize(
        ("method", "path", "version"),
        [
            ("GET", "/10/accounts", "10"),
            ("POST", "/5.0/accounts/abc/media_library", "5.0"),
            ("GET", "/13/stats/accounts/abc", "13"),
        ],
    )
    async def test_an_unserved_version_is_invalid(
        self, env: Env, alice: User, method: str, path: str, version: str
    ) -> None:
        response = await env.client.request(method, path, headers=alice.headers)

        assert response.status_code == 404
        assert response.json() == {
            "errors": [{"code": "INVALID", "message": f"Version {version} is not available."}],
            "request": {"params": {}},
        }

    @pytest.mark.parametrize(
        ("method", "path", "status", "code"),
        [
            ("GET", "/11/accounts/abc/no_such_thing", 404, "ROUTE_NOT_FOUND"),
            ("DELETE", "/12/accounts", 405, "METHOD_NOT_ALLOWED"),
        ],
    )
    async def test_served_versions_keep_their_own_errors(
        self, env: Env, alice: User, method: str, path: str, status: int, code: str
    ) -> None:
        response = await env.client.request(method, path, headers=alice.headers)

        assert response.status_code == status
        assert _error(response)["code"] == code
