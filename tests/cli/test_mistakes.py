"""Every expected mistake is one line on stderr and exit code 2; ``--debug`` keeps the
traceback; the settings take the forms people write."""

from __future__ import annotations

import pytest

from app.config import Settings, normalise_database_url
from tests.cli.conftest import Cli, assert_one_line_mistake
from tests.fixtures.live import free_port


def test_a_duplicate_user_is_one_line(cli: Cli) -> None:
    cli.ok("users", "create", "alice")

    again = cli.run("users", "create", "alice")

    assert_one_line_mistake(again, "'alice' exists already")
    assert "Traceback" not in again.stderr


def test_debug_shows_the_traceback(cli: Cli) -> None:
    cli.ok("users", "create", "alice")

    again = cli.run("--debug", "users", "create", "alice")

    assert again.returncode != 0
    assert "Traceback" in again.stderr
    assert "Mistake" in again.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("users", "create", "bob", "--app", "nope"), "no app named 'nope'"),
        (("users", "revoke", "nobody"), "no user named 'nobody'"),
        (("users", "rotate-token", "nobody"), "no user named 'nobody'"),
        (("jobs", "retry", "12345"), "no job 12345"),
        (("jobs", "list", "--state", "sleeping"), "no job state 'sleeping'"),
    ],
)
def test_unknown_names_are_one_line(cli: Cli, args: tuple[str, ...], expected: str) -> None:
    assert_one_line_mistake(cli.run(*args), expected)


def test_a_duplicate_app_is_one_line(cli: Cli) -> None:
    cli.ok("apps", "create", "tweetdeck")

    assert_one_line_mistake(cli.run("apps", "create", "tweetdeck"), "exists already")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"MEDIASTUDIO_OAUTH__TRUSTED_PROXIES": "127.0.0.1,not-an-ip"},
            "MEDIASTUDIO_OAUTH__TRUSTED_PROXIES: 'not-an-ip' is not an IP",
        ),
        (
            {"MEDIASTUDIO_OAUTH__TRUSTED_PROXIES": '["10.0.0.0/8", "x"]'},
            "MEDIASTUDIO_OAUTH__TRUSTED_PROXIES: 'x' is not an IP",
        ),
        ({"MEDIASTUDIO_DATABASE_URL": "mysql://db/x"}, "unsupported database 'mysql'"),
        (
            {"MEDIASTUDIO_DATABASE_URL": "postgresql+psycopg://db/x"},
            "unsupported driver 'psycopg'",
        ),
        ({"MEDIASTUDIO_DATABASE_URL": "nonsense"}, "MEDIASTUDIO_DATABASE_URL: not a database"),
        ({"MEDIASTUDIO_PORT": "eighty"}, "MEDIASTUDIO_PORT"),
        ({"MEDIASTUDIO_HTTP__KEEP_ALIVE_SECS": "0"}, "MEDIASTUDIO_HTTP__KEEP_ALIVE_SECS"),
    ],
)
def test_a_bad_setting_is_one_line(bare_cli: Cli, env: dict[str, str], expected: str) -> None:
    assert_one_line_mistake(bare_cli.run("users", "list", **env), "bad setting", expected)


def test_an_unreachable_postgresql_is_one_line_without_the_password(bare_cli: Cli) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://postgres:s3cret@127.0.0.1:{port}/media"

    line = assert_one_line_mistake(
        bare_cli.run("users", "list", MEDIASTUDIO_DATABASE_URL=url),
        f"cannot reach the database at 127.0.0.1:{port}/media",
    )

    assert "s3cret" not in line


def test_a_missing_postgresql_database_is_one_line(bare_cli: Cli, scratch_postgres: str) -> None:
    url = scratch_postgres.rsplit("/", 1)[0] + "/no_such_database_here"

    assert_one_line_mistake(
        bare_cli.run("users", "list", MEDIASTUDIO_DATABASE_URL=url),
        'database "no_such_database_here" does not exist',
    )


def test_an_unusable_data_folder_is_one_line(bare_cli: Cli, tmp_path: str) -> None:
    blocker = f"{tmp_path}/a-file"
    open(blocker, "w").close()
    url = f"sqlite:///{blocker}/sub/db.sqlite"

    assert_one_line_mistake(
        bare_cli.run("users", "list", MEDIASTUDIO_DATABASE_URL=url, MEDIASTUDIO_DATA_DIR=blocker),
        "a-file",
    )


def test_postgresql_without_a_driver_gets_asyncpg(bare_cli: Cli, scratch_postgres: str) -> None:
    assert scratch_postgres.startswith("postgresql://")
    bare_cli.env["MEDIASTUDIO_DATABASE_URL"] = scratch_postgres

    bare_cli.ok("users", "create", "plain")
    listed = bare_cli.json("users", "list")

    assert [user["screen_name"] for user in listed] == ["plain"]


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db"),
        ("postgresql+asyncpg://h/db", "postgresql+asyncpg://h/db"),
        ("sqlite:///var/x.db", "sqlite+aiosqlite:///var/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_get_the_async_driver(url: str, normal: str) -> None:
    assert normalise_database_url(url) == normal


def test_trusted_proxies_take_a_comma_list_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIASTUDIO_OAUTH__TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")
    assert Settings(_env_file=None).oauth.trusted_proxies == ["127.0.0.1", "10.0.0.0/8", "::1"]

    monkeypatch.setenv("MEDIASTUDIO_OAUTH__TRUSTED_PROXIES", '["192.168.0.0/16"]')
    assert Settings(_env_file=None).oauth.trusted_proxies == ["192.168.0.0/16"]

    monkeypatch.setenv("MEDIASTUDIO_OAUTH__TRUSTED_PROXIES", "")
    assert Settings(_env_file=None).oauth.trusted_proxies == []


def test_a_token_is_needed_to_upload(bare_cli: Cli, tmp_path: str) -> None:
    path = f"{tmp_path}/x.bin"
    open(path, "wb").close()

    assert_one_line_mistake(
        bare_cli.run("upload", path, MEDIASTUDIO_TOKEN=""), "a bearer token is needed"
    )
