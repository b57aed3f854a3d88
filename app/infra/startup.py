"""What the CLI's entry points do with the schema before they start.

``mediastudio serve`` migrates a database that is behind (unless told not to) and then
checks again; ``mediastudio worker`` never migrates. Both refuse anything else (behind
without migrating, ahead, unreachable) with the one line of ``SchemaStatus.message``;
the CLI prints it on stderr and exits 2. A newer (``ahead``) schema is never touched.
"""

from __future__ import annotations

from collections.abc import Callable

from app.infra import schema

__all__ = ["prepare_database"]


def prepare_database(
    database_url: str, *, migrate: bool, upgrade: Callable[[str], None]
) -> str | None:
    """None when the schema is current (after ``upgrade(database_url)`` if it was
    behind and ``migrate``); else the line saying why the command refuses to start."""
    status = schema.status_of_url(database_url)
    if status.state is schema.SchemaState.BEHIND and migrate:
        upgrade(database_url)
        status = schema.status_of_url(database_url)
    return None if status.current else status.message()
