"""``mediastudio accounts create/grant/revoke/list`` through the real console script; the
accounts it makes are the ones the Ads API serves."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from app.infra.db import make_sessionmaker
from app.studio import members
from tests.cli.conftest import Cli, assert_one_line_mistake


def test_create_prints_the_account(cli: Cli) -> None:
    cli.ok("users", "create", "alice")

    made = cli.json(
        "accounts", "create", "Coffee Shop", "--owner", "alice", "--timezone", "Asia/Tokyo"
    )

    assert (made["name"], made["timezone"], made["owner"]) == ("Coffee Shop", "Asia/Tokyo", "alice")
    assert made["id"].isalnum()
    assert made["id"] == made["id"].lower()


async def test_grant_revoke_and_list(cli: Cli, engine: AsyncEngine) -> None:
    for name in ("alice", "bob", "carol"):
        cli.ok("users", "create", name)
    account_id = cli.json("accounts", "create", "Coffee", "--owner", "alice")["id"]

    full = cli.json("accounts", "grant", account_id, "bob", "--role", "full")
    custom = cli.json(
        "accounts", "grant", account_id, "carol",
        "--permission", "creative_manager", "--permission", "TWEET_COMPOSER",
    )  # fmt: skip
    listed = cli.json("accounts", "list")
    table = cli.ok("accounts", "list")
    revoked = cli.ok("accounts", "revoke", account_id, "bob")

    assert (full["role"], full["permissions"]) == ("full", ["AD_MANAGER", "TWEET_COMPOSER"])
    assert (custom["role"], custom["permissions"]) == (
        "custom",
        ["CREATIVE_MANAGER", "TWEET_COMPOSER"],
    )
    assert listed == [
        {
            "id": account_id,
            "name": "Coffee",
            "timezone": "UTC",
            "owner": "alice",
            "members": [
                {"screen_name": "alice", "role": "admin"},
                {"screen_name": "bob", "role": "full"},
                {"screen_name": "carol", "role": "custom"},
            ],
        }
    ]
    assert table.splitlines()[0].split() == ["id", "name", "timezone", "owner", "members"]
    assert "alice (admin), bob (full), carol (custom)" in table.splitlines()[1]
    assert "revoked bob" in revoked
    async with make_sessionmaker(engine)() as session:
        left = await members.list_members(session, account_id=account_id)
    assert [m.screen_name for m in left] == ["alice", "carol"]


def test_list_without_accounts(cli: Cli) -> None:
    assert cli.ok("accounts", "list").strip() == "(none)"
    assert cli.json("accounts", "list") == []


def test_mistakes_are_one_line(cli: Cli) -> None:
    cli.ok("users", "create", "alice")
    account_id = cli.json("accounts", "create", "Coffee", "--owner", "alice")["id"]

    unknown_owner = cli.run("accounts", "create", "X", "--owner", "nobody")
    bad_zone = cli.run("accounts", "create", "X", "--owner", "alice", "--timezone", "Mars/Base")
    no_account = cli.run("accounts", "grant", "zzz", "alice", "--role", "full")
    both = cli.run(
        "accounts", "grant", account_id, "alice", "--role", "full", "--permission", "ANALYST"
    )
    neither = cli.run("accounts", "grant", account_id, "alice")
    bad_role = cli.run("accounts", "grant", account_id, "alice", "--role", "boss")
    last_admin = cli.run("accounts", "grant", account_id, "alice", "--role", "limited")
    owner = cli.run("accounts", "revoke", account_id, "alice")

    assert_one_line_mistake(unknown_owner, "nobody")
    assert_one_line_mistake(bad_zone, "Mars/Base")
    assert_one_line_mistake(no_account, "Account zzz was not found")
    assert_one_line_mistake(both, "exactly one of --role and --permission")
    assert_one_line_mistake(neither, "exactly one of --role and --permission")
    assert_one_line_mistake(bad_role, "role")
    assert_one_line_mistake(last_admin, "ACCOUNT_ADMIN")
    assert_one_line_mistake(owner, "owner")
    assert cli.json("accounts", "list")[0]["members"] == [{"screen_name": "alice", "role": "admin"}]
