"""The ``mediastudio`` command: serve, worker, migrate, apps, users, upload, openapi."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer

from app.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.core.ids import IdGenerator

_T = TypeVar("_T")

app = typer.Typer(help="Media Studio API", no_args_is_help=True)
users = typer.Typer(help="Manage users and their credentials", no_args_is_help=True)
apps = typer.Typer(help="Manage client apps (OAuth 1.0a consumers)", no_args_is_help=True)
app.add_typer(users, name="users")
app.add_typer(apps, name="apps")


LogFormatOption = Annotated[
    Literal["json", "text"] | None,
    typer.Option(help="log lines (default: MEDIASTUDIO_LOG_FORMAT, else json)"),
]
LogLevelOption = Annotated[
    Literal["debug", "info", "warning", "error", "critical"] | None,
    typer.Option(
        case_sensitive=False, help="lowest level logged (default: MEDIASTUDIO_LOG_LEVEL, else info)"
    ),
]


def _logging_options(log_format: str | None, log_level: str | None) -> Settings:
    """Put the logging options in the environment, which the served processes (uvicorn's
    workers) and worker processes read their settings from; returns the settings."""
    for name, value in (("LOG_FORMAT", log_format), ("LOG_LEVEL", log_level)):
        if value is not None:
            os.environ[f"MEDIASTUDIO_{name}"] = value
    get_settings.cache_clear()
    return get_settings()


@app.command()
def migrate() -> None:
    """Apply database migrations up to the newest."""
    from app.migrate import upgrade_to_head

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[int, typer.Option(help="server processes")] = 1,
    log_format: LogFormatOption = None,
    log_level: LogLevelOption = None,
    migrate_first: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="apply pending migrations first (default: MEDIASTUDIO_MIGRATE_ON_START, true)",
        ),
    ] = None,
) -> None:
    """Migrate, then serve the API (with an in-process job worker).

    --no-migrate: refuse an unmigrated database instead; a newer one is always refused.
    """
    # app.serve, not app.main: the served processes get the process tuning
    # (docs/perf/gc-freeze.md, docs/perf/malloc-thresholds.md); create_app alone does not.
    # server_options: the header timeout's protocol, keep-alive, connection limit.
    from app.infra.metrics_process import use_multiprocess_dir

    settings = _logging_options(log_format, log_level)
    # Before app.serve imports prometheus_client: /metrics sums every process.
    use_multiprocess_dir(settings.data_dir, clean=True)
    import uvicorn

    from app.logging import logging_config
    from app.serve import server_options

    if migrate_first is None:
        migrate_first = settings.migrate_on_start
    _refuse_unless_ready(settings.database_url, migrate=migrate_first)
    uvicorn.run(
        "app.serve:create_served_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=logging_config(settings.log_format, settings.log_level),
        log_level=settings.log_level,
        access_log=False,  # app.http.requestlog writes one line per request
        **server_options(settings),
    )


@app.command()
def worker(
    processes: Annotated[int, typer.Option(help="worker processes")] = 1,
    log_format: LogFormatOption = None,
    log_level: LogLevelOption = None,
) -> None:
    """Run job workers as separate processes (PostgreSQL shares the queue safely).

    Never migrates: refuses a database whose schema is not the code's (exit code 2).
    """
    from app.infra.metrics_process import use_multiprocess_dir

    settings = _logging_options(log_format, log_level)
    use_multiprocess_dir(settings.data_dir, clean=False)  # serve's /metrics counts them
    _refuse_unless_ready(settings.database_url, migrate=False)  # never migrates
    if processes > 1:
        import multiprocessing

        children = [multiprocessing.Process(target=_worker_main) for _ in range(processes)]
        for child in children:
            child.start()
        for child in children:
            child.join()
    else:
        _worker_main()


def _worker_main() -> None:
    from app.infra.db import make_engine, make_sessionmaker
    from app.infra.metrics_process import mark_dead
    from app.jobs.runner import Runner
    from app.logging import configure_logging
    from app.storage import build_store
    from app.uploads.policy import UploadPolicy

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)

    async def run() -> None:
        engine = make_engine(settings.database_url)
        runner = Runner(
            make_sessionmaker(engine),
            build_store(settings.media_root),
            UploadPolicy.from_settings(settings),
        )
        try:
            await runner.run_forever(poll_interval=settings.worker.poll_interval_secs)
        finally:
            await engine.dispose()
            mark_dead()

    asyncio.run(run())


def _refuse_unless_ready(database_url: str, *, migrate: bool) -> None:
    """Exit 2 with one line unless the schema is current (after migrating, if asked)."""
    from app.infra import startup

    refusal = startup.prepare_database(database_url, migrate=migrate, upgrade=migrate_quietly)
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)


@users.command("create")
def users_create(
    screen_name: str,
    app_name: Annotated[
        str | None, typer.Option("--app", help="issue the access token for this app")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Create a user; prints its bearer token and OAuth 1.0a credentials."""
    from app.accounts import service as accounts

    async def create(session: AsyncSession, ids: IdGenerator) -> accounts.IssuedCredentials:
        return await accounts.create_user(session, ids, screen_name=screen_name, app_name=app_name)

    try:
        creds = _run_with_session(create)
    except accounts.UnknownApp:
        typer.echo(f"no app named {app_name!r}; create it with `mediastudio apps create`", err=True)
        raise typer.Exit(1) from None
    _print(asdict(creds), as_json)


@apps.command("create")
def apps_create(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Register a client app; prints its consumer key and secret."""
    from app.accounts import oauth

    async def create(session: AsyncSession, ids: IdGenerator) -> oauth.IssuedApp:
        return await oauth.create_client_app(session, ids, name=name)

    try:
        issued = _run_with_session(create)
    except oauth.AppExists:
        typer.echo(f"an app named {name!r} exists already", err=True)
        raise typer.Exit(1) from None
    _print(asdict(issued), as_json)


def _run_with_session(use: Callable[[AsyncSession, IdGenerator], Awaitable[_T]]) -> _T:
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


def _print(values: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(values))
    else:
        for key, value in values.items():
            typer.echo(f"{key}: {value}")


def migrate_quietly(database_url: str) -> None:
    from app.migrate import upgrade_to_head

    if database_url.startswith("sqlite"):
        get_settings().data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(database_url)


@app.command()
def upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    category: Annotated[
        str | None, typer.Option(help="media_category, e.g. tweet_video, amplify_video")
    ] = None,
    server: Annotated[
        str | None, typer.Option(help="base URL [default: http://HOST:PORT from settings]")
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="MEDIASTUDIO_TOKEN", help="bearer token")
    ] = None,
    media_type: Annotated[str | None, typer.Option(help="MIME type [default: guessed]")] = None,
    segment_size: Annotated[int, typer.Option(min=1024, max=5 * 1024 * 1024)] = 4 * 1024 * 1024,
    max_rate: Annotated[
        float | None, typer.Option(help="cap the upload rate, bytes per second")
    ] = None,
) -> None:
    """Upload FILE in segments (3 in flight), resuming an interrupted upload of the same
    file to the same server; waits for processing and prints the media id."""
    from rich.console import Console

    from app import uploader

    if not token:
        typer.echo("a bearer token is needed: --token or MEDIASTUDIO_TOKEN", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    job = uploader.UploadJob(
        path=file,
        server=(server or f"http://{settings.host}:{settings.port}").rstrip("/"),
        token=token,
        category=category,
        media_type=media_type,
        segment_size=segment_size,
        max_rate=max_rate,
    )
    try:
        media_id = asyncio.run(uploader.run_upload(job, Console(stderr=True)))
    except uploader.UploadFailed as failure:
        typer.echo(f"upload failed: {failure}", err=True)
        raise typer.Exit(1) from None
    typer.echo(media_id)


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="where to write")] = Path("openapi/openapi.json"),
) -> None:
    """Export the OpenAPI document."""
    from app.main import create_app

    os.makedirs(output.parent, exist_ok=True)
    document = create_app().openapi()
    output.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    typer.echo(f"wrote {output}")


def main() -> None:
    app()
