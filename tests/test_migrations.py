"""Migrations are the schema: they match the models, and they go down and up again."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.util.exc import CommandError

from app.migrate import alembic_config, downgrade_to_base, upgrade_to_head


async def test_models_match_migrations(database_url: str) -> None:
    def check() -> str | None:
        try:
            command.check(alembic_config(database_url))
        except CommandError as exc:
            return str(exc)
        return None

    assert await asyncio.to_thread(check) is None


async def test_downgrade_to_base_and_back(database_url: str) -> None:
    await asyncio.to_thread(downgrade_to_base, database_url)
    await asyncio.to_thread(upgrade_to_head, database_url)
