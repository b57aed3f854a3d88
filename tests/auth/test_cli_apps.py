"""``mediastudio apps create`` and ``users create --app``: credentials a client can sign with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Env

BIN = Path(sys.executable).parent


def _cli(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    variables = {
        **os.environ,
        "MEDIASTUDIO_DATABASE_URL": env.database_url,
        "MEDIASTUDIO_DATA_DIR": str(env.data_dir),
    }
    return subprocess.run(
        [str(BIN / "mediastudio"), *args],
        env=variables,
        capture_output=True,
        text=True,
        check=False,
    )


async def test_users_of_one_app_share_its_consumer_pair(env: Env, engine: AsyncEngine) -> None:
    made = _cli(env, "apps", "create", "studio", "--json")
    assert made.returncode == 0, made.stderr
    app = json.loads(made.stdout)

    ann = _cli(env, "users", "create", "ann", "--app", "studio", "--json")
    assert ann.returncode == 0, ann.stderr
    ben = _cli(env, "users", "create", "ben", "--app", "studio", "--json")
    first, second = json.loads(ann.stdout), json.loads(ben.stdout)

    assert first["consumer_key"] == second["consumer_key"] == app["consumer_key"]
    assert first["access_token"].startswith(f"{first['user_id']}-")
    assert first["access_token"] != second["access_token"]


async def test_an_unknown_app_or_a_taken_name_fails(env: Env, engine: AsyncEngine) -> None:
    _cli(env, "apps", "create", "studio")

    unknown = _cli(env, "users", "create", "ann", "--app", "nope")
    taken = _cli(env, "apps", "create", "studio")

    assert unknown.returncode == 2  # a mistake: one line, exit 2 (app/commands/mistakes.py)
    assert "no app named" in unknown.stderr
    assert taken.returncode == 2
    assert "exists already" in taken.stderr
