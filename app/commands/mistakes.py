"""Expected mistakes -> one line on stderr and exit code 2; anything else, or any error
under ``mediastudio --debug``, keeps its traceback.

``describe`` looks through an exception's causes, so an unreachable database reads the
same whether asyncpg, SQLAlchemy or Alembic raised it. Passwords never appear: URLs are
rendered with ``hide_password``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

__all__ = ["EXIT_MISTAKE", "Mistake", "describe", "safe_url"]

EXIT_MISTAKE = 2


class Mistake(Exception):
    """A mistake of the caller's, with the one line that says what to do."""


def safe_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparsable URL>"
    if parsed.drivername.startswith("sqlite"):
        return parsed.database or ":memory:"
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return f"{host}/{parsed.database or ''}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _setting_name(loc: tuple[int | str, ...]) -> str:
    return "MEDIASTUDIO_" + "__".join(str(part).upper() for part in loc)


def _bad_setting(error: ValidationError) -> str:
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"bad setting {_setting_name(first['loc'])}: {message}"


def describe(exc: BaseException, *, database_url: str | None = None) -> str | None:
    """The one line for an expected mistake, or None for a bug (keep the traceback)."""
    where = f" at {safe_url(database_url)}" if database_url else ""
    for cause in _chain(exc):
        if isinstance(cause, Mistake):
            return str(cause)
        if isinstance(cause, ValidationError) and cause.title == "Settings":
            return _bad_setting(cause)
        if isinstance(cause, SettingsError):
            return f"bad setting: {cause}"
        if isinstance(cause, NoSuchModuleError | ArgumentError):
            return f"bad database URL: {cause}"
        if isinstance(cause, ConnectionError | TimeoutError | socket.gaierror):
            return f"cannot reach the database{where}: {cause.strerror or cause}"
        if isinstance(cause, DBAPIError):
            text = str(cause.orig).strip().splitlines()[0] if cause.orig else str(cause)
            if _is_connect_failure(text):
                return f"cannot reach the database{where}: {text}"
        if isinstance(cause, OSError) and cause.filename:
            return f"cannot use {cause.filename}: {cause.strerror}"
    return None


_CONNECT_FAILURES = (
    "unable to open database file",
    "password authentication failed",
    "connection refused",
    "could not connect",
    "no pg_hba.conf entry",
)


def _is_connect_failure(text: str) -> bool:
    lowered = text.lower()
    if lowered.startswith(("database ", "role ")) and "does not exist" in lowered:
        return True
    return any(marker in lowered for marker in _CONNECT_FAILURES)
