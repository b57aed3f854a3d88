"""The service's own surface, /studio/v1: creating accounts, listing one's own, granting
and revoking members, the last-admin and owner rules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.infra.db import make_sessionmaker
from app.studio import members
from tests.conftest import Env, User, create_user
from tests.fixtures.studio import create_studio_account, grant

V1 = "/studio/v1"


def _error(response: Response) -> dict[str, Any]:
    body = response.json()
    assert body["request"] == {"params": {}}
    (error,) = body["errors"]
    return dict(error)


def _members_url(account_id: str, user: User | None = None) -> str:
    return f"{V1}/accounts/{account_id}/members" + (f"/{user.id}" if user else "")


class TestCreateAccount:
    async def test_json_body_creates_an_account_the_caller_administers(
        self, env: Env, alice: User
    ) -> None:
        response = await env.client.post(
            f"{V1}/accounts",
            json={"name": "Coffee", "timezone": "Europe/Paris"},
            headers=alice.headers,
        )

        assert response.status_code == 201, response.text
        data = response.json()["data"]
        assert (data["name"], data["timezone"]) == ("Coffee", "Europe/Paris")
        assert data["role"] == "admin"
        assert data["permissions"] == ["ACCOUNT_ADMIN", "TWEET_COMPOSER"]
        ads = await env.client.get(f"/11/accounts/{data['id']}", headers=alice.headers)
        assert ads.json()["data"]["name"] == "Coffee"
        users = await env.client.get(
            f"/11/accounts/{data['id']}/promotable_users", headers=alice.headers
        )
        assert users.json()["data"][0]["user_id"] == str(alice.id)

    @pytest.mark.parametrize("how", ["form", "query"])
    async def test_form_and_query_parameters_work_too(
        self, env: Env, alice: User, how: str
    ) -> None:
        fields = {"name": "Tea"}
        if how == "form":
            response = await env.client.post(f"{V1}/accounts", data=fields, headers=alice.headers)
        else:
            response = await env.client.post(f"{V1}/accounts", params=fields, headers=alice.headers)

        assert response.status_code == 201, response.text
        assert response.json()["data"]["timezone"] == "UTC"

    @pytest.mark.parametrize(
        ("body", "code", "parameter"),
        [
            ({}, "MISSING_PARAMETER", "name"),
            ({"name": ""}, "MISSING_PARAMETER", "name"),
            ({"name": "   "}, "INVALID_PARAMETER", "name"),
            ({"name": "x" * 256}, "INVALID_PARAMETER", "name"),
            ({"name": "ok", "timezone": "Mars/Olympus"}, "INVALID_PARAMETER", "timezone"),
            ({"name": "ok", "timezone": "utc"}, "INVALID_PARAMETER", "timezone"),
        ],
    )
    async def test_bad_input_is_400_and_creates_nothing(
        self, env: Env, alice: User, body: dict[str, str], code: str, parameter: str
    ) -> None:
        response = await env.client.post(f"{V1}/accounts", json=body, headers=alice.headers)

        assert response.status_code == 400, response.text
        assert (_error(response)["code"], _error(response)["parameter"]) == (code, parameter)
        listed = await env.client.get(f"{V1}/accounts", headers=alice.headers)
        assert listed.json()["data"] == []

    async def test_without_credentials_is_401(self, env: Env) -> None:
        response = await env.client.post(f"{V1}/accounts", json={"name": "x"})

        assert response.status_code == 401
        assert _error(response)["code"] == "UNAUTHORIZED_ACCESS"


class TestListOwnAccounts:
    async def test_each_account_with_the_callers_role(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        mine = await create_studio_account(engine, alice.id, name="mine")
        theirs = await create_studio_account(engine, bob.id, name="theirs")
        await grant(engine, theirs, alice.id, role="limited")
        await create_studio_account(engine, bob.id, name="not shared")

        body = (await env.client.get(f"{V1}/accounts", headers=alice.headers)).json()

        assert [(a["id"], a["role"], a["permissions"]) for a in body["data"]] == [
            (mine, "admin", ["ACCOUNT_ADMIN", "TWEET_COMPOSER"]),
            (theirs, "limited", ["CREATIVE_MANAGER"]),
        ]
        assert body["next_cursor"] is None


class TestMembers:
    async def test_admin_lists_members_in_the_order_they_joined(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        await grant(engine, account_id, bob.id, role="limited")

        body = (await env.client.get(_members_url(account_id), headers=alice.headers)).json()

        assert [
            (m["user_id"], m["screen_name"], m["role"], m["permissions"]) for m in body["data"]
        ] == [
            (str(alice.id), "alice", "admin", ["ACCOUNT_ADMIN", "TWEET_COMPOSER"]),
            (str(bob.id), "bob", "limited", ["CREATIVE_MANAGER"]),
        ]
        assert {"created_at", "updated_at"} <= set(body["data"][0])

    @pytest.mark.parametrize("role", ["full", "limited"])
    async def test_non_admins_may_not_manage_members(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User, role: str
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        await grant(engine, account_id, bob.id, role=role)

        listing = await env.client.get(_members_url(account_id), headers=bob.headers)
        promote = await env.client.put(
            _members_url(account_id, bob), json={"role": "admin"}, headers=bob.headers
        )
        remove = await env.client.delete(_members_url(account_id, alice), headers=bob.headers)

        for response in (listing, promote, remove):
            assert response.status_code == 403
            assert _error(response)["code"] == "ACTION_NOT_ALLOWED"

    async def test_an_outsider_sees_no_account(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        response = await env.client.put(
            _members_url(account_id, bob), json={"role": "admin"}, headers=bob.headers
        )

        assert response.status_code == 403
        assert _error(response) == {
            "code": "NOT_FOUND",
            "message": f"Account {account_id} was not found",
        }

    @pytest.mark.parametrize(
        ("role", "permissions"),
        [
            ("admin", ["ACCOUNT_ADMIN", "TWEET_COMPOSER"]),
            ("full", ["AD_MANAGER", "TWEET_COMPOSER"]),
            ("limited", ["CREATIVE_MANAGER"]),
            ("LIMITED", ["CREATIVE_MANAGER"]),
        ],
    )
    async def test_granting_a_role_gives_its_permissions(
        self,
        env: Env,
        engine: AsyncEngine,
        alice: User,
        bob: User,
        role: str,
        permissions: list[str],
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        response = await env.client.put(
            _members_url(account_id, bob), json={"role": role}, headers=alice.headers
        )

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["user_id"], data["role"], data["permissions"]) == (
            str(bob.id),
            role.lower(),
            permissions,
        )
        access = await env.client.get(
            f"/11/accounts/{account_id}/authenticated_user_access", headers=bob.headers
        )
        assert access.json()["data"]["permissions"] == permissions

    @pytest.mark.parametrize(
        ("sent", "role", "permissions"),
        [
            (["campaign_analyst"], "custom", ["CAMPAIGN_ANALYST"]),
            (
                ["TWEET_COMPOSER", "CREATIVE_MANAGER", "CREATIVE_MANAGER"],
                "custom",
                ["CREATIVE_MANAGER", "TWEET_COMPOSER"],
            ),
            (["TWEET_COMPOSER", "AD_MANAGER"], "full", ["AD_MANAGER", "TWEET_COMPOSER"]),
            ("ANALYST,AD_MANAGER", "custom", ["AD_MANAGER", "ANALYST"]),
        ],
    )
    async def test_an_explicit_permission_list(
        self,
        env: Env,
        engine: AsyncEngine,
        alice: User,
        bob: User,
        sent: list[str] | str,
        role: str,
        permissions: list[str],
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        response = await env.client.put(
            _members_url(account_id, bob), json={"permissions": sent}, headers=alice.headers
        )

        assert response.status_code == 200, response.text
        assert (response.json()["data"]["role"], response.json()["data"]["permissions"]) == (
            role,
            permissions,
        )
        listed = (await env.client.get(_members_url(account_id), headers=alice.headers)).json()
        assert listed["data"][1]["permissions"] == permissions

    @pytest.mark.parametrize(
        ("body", "code", "parameter"),
        [
            ({}, "MISSING_PARAMETER", "role"),
            ({"role": "admin", "permissions": ["AD_MANAGER"]}, "EXCLUSIVE_PARAMETERS", None),
            ({"role": "owner"}, "INVALID_PARAMETER", "role"),
            ({"role": ""}, "INVALID_PARAMETER", "role"),
            ({"permissions": ["AD_MANAGER", "SUPERUSER"]}, "INVALID_PARAMETER", "permissions"),
            ({"permissions": ["TWEET_COMPOSER"]}, "INVALID_PARAMETER", "permissions"),
            ({"permissions": ""}, "INVALID_PARAMETER", "permissions"),
        ],
    )
    async def test_bad_grants_are_400_and_change_nothing(
        self,
        env: Env,
        engine: AsyncEngine,
        alice: User,
        bob: User,
        body: dict[str, Any],
        code: str,
        parameter: str | None,
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        await grant(engine, account_id, bob.id, role="limited")

        response = await env.client.put(
            _members_url(account_id, bob), json=body, headers=alice.headers
        )

        assert response.status_code == 400, response.text
        assert _error(response)["code"] == code
        if parameter is not None:
            assert _error(response)["parameter"] == parameter
        listed = (await env.client.get(_members_url(account_id), headers=alice.headers)).json()
        assert listed["data"][1]["permissions"] == ["CREATIVE_MANAGER"]

    async def test_tweet_composer_alone_is_refused_with_the_reason(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        response = await env.client.put(
            _members_url(account_id, bob),
            json={"permissions": ["TWEET_COMPOSER"]},
            headers=alice.headers,
        )

        assert (
            "only with ACCOUNT_ADMIN, AD_MANAGER or CREATIVE_MANAGER" in _error(response)["message"]
        )

    @pytest.mark.parametrize(("user_id", "status"), [("999999", 404), ("abc", 400), ("0", 400)])
    async def test_an_unknown_or_malformed_user(
        self, env: Env, engine: AsyncEngine, alice: User, user_id: str, status: int
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        response = await env.client.put(
            f"{V1}/accounts/{account_id}/members/{user_id}",
            json={"role": "full"},
            headers=alice.headers,
        )

        assert response.status_code == status
        expected = "USER_NOT_FOUND" if status == 404 else "INVALID_PARAMETER"
        assert _error(response)["code"] == expected

    async def test_revoking_ends_the_access(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        await grant(engine, account_id, bob.id, role="full")

        response = await env.client.delete(_members_url(account_id, bob), headers=alice.headers)

        assert response.status_code == 200, response.text
        assert response.json()["data"]["deleted"] is True
        assert response.json()["data"]["role"] == "full"
        after = await env.client.get(f"/11/accounts/{account_id}", headers=bob.headers)
        assert after.status_code == 403
        assert _error(after)["code"] == "NOT_FOUND"
        again = await env.client.delete(_members_url(account_id, bob), headers=alice.headers)
        assert again.status_code == 404
        assert _error(again)["code"] == "NOT_FOUND"


class TestAdminsRemain:
    async def test_the_only_admin_cannot_demote_themself(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        response = await env.client.put(
            _members_url(account_id, alice), json={"role": "full"}, headers=alice.headers
        )

        assert response.status_code == 400
        assert _error(response)["code"] == "LAST_ADMIN"
        access = await env.client.get(
            f"/11/accounts/{account_id}/authenticated_user_access", headers=alice.headers
        )
        assert "ACCOUNT_ADMIN" in access.json()["data"]["permissions"]

    async def test_the_owner_cannot_be_removed(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        await grant(engine, account_id, bob.id, role="admin")

        response = await env.client.delete(_members_url(account_id, alice), headers=bob.headers)

        assert response.status_code == 400
        assert _error(response)["code"] == "OWNER_NOT_REMOVABLE"

    async def test_the_owner_may_step_down_while_another_admin_remains(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        await grant(engine, account_id, bob.id, role="admin")

        stepped_down = await env.client.put(
            _members_url(account_id, alice), json={"role": "full"}, headers=alice.headers
        )
        bob_demotes = await env.client.put(
            _members_url(account_id, bob), json={"role": "limited"}, headers=bob.headers
        )
        bob_leaves = await env.client.delete(_members_url(account_id, bob), headers=bob.headers)
        custom = await env.client.put(
            _members_url(account_id, bob),
            json={"permissions": ["AD_MANAGER", "TWEET_COMPOSER"]},
            headers=bob.headers,
        )

        assert stepped_down.status_code == 200, stepped_down.text
        for response in (bob_demotes, bob_leaves, custom):
            assert response.status_code == 400
            assert _error(response)["code"] == "LAST_ADMIN"
        url = f"/11/accounts/{account_id}/promotable_users"
        owner = await env.client.get(url, headers=bob.headers)
        assert owner.json()["data"][0]["user_id"] == str(alice.id)

    async def test_an_explicit_list_with_account_admin_keeps_an_admin(
        self, env: Env, engine: AsyncEngine, alice: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)

        response = await env.client.put(
            _members_url(account_id, alice),
            json={"permissions": ["ACCOUNT_ADMIN"]},
            headers=alice.headers,
        )

        assert response.status_code == 200, response.text
        assert response.json()["data"]["role"] == "custom"

    async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User
    ) -> None:
        account_id = await create_studio_account(engine, alice.id)
        await grant(engine, account_id, bob.id, role="admin")
        carol = await create_user(engine, "carol")
        await grant(engine, account_id, carol.id, role="admin")

        responses = await asyncio.gather(
            env.client.put(
                _members_url(account_id, bob), json={"role": "full"}, headers=alice.headers
            ),
            env.client.put(
                _members_url(account_id, carol), json={"role": "full"}, headers=bob.headers
            ),
            env.client.put(
                _members_url(account_id, alice), json={"role": "full"}, headers=carol.headers
            ),
        )

        # Each change is checked with the account locked, the actor's own admin right
        # included: whatever the interleaving, an admin remains.
        assert {r.status_code for r in responses} <= {200, 400, 403}
        assert 200 in {r.status_code for r in responses}
        async with make_sessionmaker(engine)() as session:
            everyone = await members.list_members(session, account_id=account_id)
        assert [m for m in everyone if "ACCOUNT_ADMIN" in m.permissions]
