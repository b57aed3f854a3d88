"""``users``, ``apps``, ``jobs`` and ``sweep``: the operator's commands. Each opens one
session on the configured database (migrating it first, as ``users create`` always did),
calls a domain function and formats what it returns; mistakes are ``Mistake``s."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from app.commands.mistakes import Mistake
from app.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.core.ids import IdGenerator

__all__ = ["apps", "jobs", "run_with_session", "sweep", "users"]

_T = TypeVar("_T")

users = typer.Typer(help="Manage users and their credentials", no_args_is_help=True)
apps = typer.Typer(help="Manage client apps (OAuth 1.0a consumers)", no_args_is_help=True)
jobs = typer.Typer(help="Inspect and retry background jobs", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]
AppOption = Annotated[str | None, typer.Option("--app", help="issue the access token for this app")]


def run_with_session(use: Callable[[AsyncSession, IdGenerator], Awaitable[_T]]) -> _T:
    """Migrate the configured database, then run ``use`` with one session."""
    from app.cli import migrate_quietly
    from app.core.ids import IdGenerator
    from app.infra.db import make_engine, make_sessionmaker

    settings = get_settings()
    migrate_quietly(settings.database_url)

    async def run() -> _T:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await use(session, IdGenerator(settings.node_id))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _print(values: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({k: _plain(v) for k, v in values.items()}))
    else:
        for key, value in values.items():
            typer.echo(f"{key}: {_plain(value)}")


def _table(rows: Sequence[dict[str, Any]], as_json: bool) -> None:
    """Aligned columns (or a JSON list); an empty list prints only the JSON ``[]``."""
    if as_json:
        typer.echo(json.dumps([{k: _plain(v) for k, v in row.items()} for row in rows]))
        return
    if not rows:
        typer.echo("(none)")
        return
    cells = [[str(_plain(v)) if v is not None else "-" for v in row.values()] for row in rows]
    heads = list(rows[0])
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    for line in (heads, *cells):
        typer.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


# --- users ------------------------------------------------------------------------------


@users.command("create")
def users_create(screen_name: str, app_name: AppOption = None, as_json: JsonFlag = False) -> None:
    """Create a user; prints its bearer token and OAuth 1.0a credentials."""
    from app.accounts import service as accounts

    async def create(session: AsyncSession, ids: IdGenerator) -> accounts.IssuedCredentials:
        try:
            return await accounts.create_user(
                session, ids, screen_name=screen_name, app_name=app_name
            )
        except accounts.UnknownApp:
            raise Mistake(
                f"no app named {app_name!r}; create it with `mediastudio apps create`"
            ) from None
        except accounts.NameTaken:
            raise Mistake(
                f"a user named {screen_name!r} exists already "
                "(`mediastudio users rotate-token` issues new credentials)"
            ) from None

    _print(asdict(run_with_session(create)), as_json)


@users.command("list")
def users_list(as_json: JsonFlag = False) -> None:
    """List users with how many tokens each holds."""
    from app.accounts import service as accounts

    async def listed(session: AsyncSession, _: IdGenerator) -> list[accounts.UserSummary]:
        return await accounts.list_users(session)

    _table([asdict(user) for user in run_with_session(listed)], as_json)


def _unknown_user(screen_name: str) -> Mistake:
    return Mistake(f"no user named {screen_name!r} (`mediastudio users list`)")


@users.command("revoke")
def users_revoke(screen_name: str) -> None:
    """Revoke every bearer and OAuth access token of a user (its media and posts stay).

    Servers that saw a token keep accepting it for up to MEDIASTUDIO_BEARER_CACHE_SECS."""
    from app.accounts import service as accounts

    async def revoke(session: AsyncSession, _: IdGenerator) -> int:
        try:
            return await accounts.revoke_user(session, screen_name)
        except accounts.UnknownUser:
            raise _unknown_user(screen_name) from None

    typer.echo(f"revoked {run_with_session(revoke)} tokens of {screen_name}")


@users.command("rotate-token")
def users_rotate_token(
    screen_name: str, app_name: AppOption = None, as_json: JsonFlag = False
) -> None:
    """Replace a user's tokens with a new bearer token and OAuth access token."""
    from app.accounts import service as accounts

    async def rotate(session: AsyncSession, ids: IdGenerator) -> accounts.IssuedCredentials:
        try:
            return await accounts.rotate_credentials(
                session, ids, screen_name=screen_name, app_name=app_name
            )
        except accounts.UnknownUser:
            raise _unknown_user(screen_name) from None
        except accounts.UnknownApp:
            raise Mistake(f"no app named {app_name!r}") from None

    _print(asdict(run_with_session(rotate)), as_json)


# --- apps -------------------------------------------------------------------------------


@apps.command("create")
def apps_create(name: str, as_json: JsonFlag = False) -> None:
    """Register a client app; prints its consumer key and secret."""
    from app.accounts import oauth

    async def create(session: AsyncSession, ids: IdGenerator) -> oauth.IssuedApp:
        try:
            return await oauth.create_client_app(session, ids, name=name)
        except oauth.AppExists:
            raise Mistake(f"an app named {name!r} exists already") from None

    _print(asdict(run_with_session(create)), as_json)


@apps.command("list")
def apps_list(as_json: JsonFlag = False) -> None:
    """List client apps (names and consumer keys; secrets are shown only at creation)."""
    from app.accounts import oauth

    async def listed(session: AsyncSession, _: IdGenerator) -> list[oauth.AppSummary]:
        return await oauth.list_client_apps(session)

    _table([asdict(app) for app in run_with_session(listed)], as_json)


# --- jobs -------------------------------------------------------------------------------

STATES = ("queued", "running", "done", "failed")


@jobs.command("list")
def jobs_list(
    state: Annotated[
        str | None, typer.Option(help=f"only jobs in this state: {', '.join(STATES)}")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="only jobs of this kind")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="at most this many")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List jobs, newest first."""
    from app.jobs import queue

    if state is not None and state not in STATES:
        raise Mistake(f"no job state {state!r} (one of {', '.join(STATES)})")

    async def listed(session: AsyncSession, _: IdGenerator) -> list[queue.JobSummary]:
        return await queue.list_jobs(session, state=state, kind=kind, limit=limit)

    rows = [asdict(job) for job in run_with_session(listed)]
    if not as_json:  # one line per job: the error's first line, shortened
        for row in rows:
            row["last_error"] = (row["last_error"] or "").splitlines()[0][:60] or None
    _table(rows, as_json)


@jobs.command("retry")
def jobs_retry(job_id: int) -> None:
    """Queue a failed job again, its attempts reset. A media whose processing failed for a
    cause outside the file (InternalError, code 131) goes back to pending with it; one
    whose file is at fault is not retried."""
    from app.core.clock import utcnow
    from app.jobs import queue
    from app.processing import service as processing

    async def retry(session: AsyncSession, _: IdGenerator) -> queue.ClaimedJob:
        try:
            job = await queue.requeue_failed(session, job_id, now=utcnow())
            if job.media_id is not None and job.kind == queue.PROCESS_MEDIA:
                await processing.reopen_for_retry(session, job.media_id)
        except (queue.NotRetryable, processing.NotReopenable) as refused:
            await session.rollback()
            raise Mistake(str(refused)) from None
        await session.commit()
        return job

    job = run_with_session(retry)
    typer.echo(f"job {job.id} ({job.kind}) queued again")


# --- sweep ------------------------------------------------------------------------------


def sweep() -> None:
    """Run the sweeps once: expired uploads and media, old OAuth nonces, and temporary
    files older than MEDIASTUDIO_STORAGE__TEMP_MAX_AGE_SECS."""
    from app.core.clock import utcnow
    from app.infra.db import make_engine, make_sessionmaker
    from app.jobs.sweeper import sweep_once, sweep_temp_files
    from app.storage import build_store

    settings = get_settings()
    run_with_session(_nothing)  # migrated first, as every admin command

    async def run() -> tuple[int, int, int]:
        engine = make_engine(settings.database_url)
        try:
            sessions, store = make_sessionmaker(engine), build_store(settings.media_root)
            media = await sweep_once(sessions, store, now=utcnow())
            temp = await sweep_temp_files(
                sessions, store, now=utcnow(),
                older_than=timedelta(seconds=settings.storage.temp_max_age_secs),
            )  # fmt: skip
            return media, temp.files, temp.bytes
        finally:
            await engine.dispose()

    media, files, size = asyncio.run(run())
    typer.echo(f"removed {media} expired media and {files} temporary files ({size} bytes)")


async def _nothing(session: AsyncSession, ids: IdGenerator) -> None:
    return None
