"""The ``mediastudio`` command: serve, worker, migrate, users, openapi."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from app.config import get_settings

app = typer.Typer(help="Media Studio API", no_args_is_help=True)
users = typer.Typer(help="Manage users and their credentials", no_args_is_help=True)
app.add_typer(users, name="users")


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
) -> None:
    """Migrate, then serve the API (with an in-process job worker)."""
    import uvicorn

    migrate()
    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
    )


@app.command()
def worker(
    processes: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Run job workers as separate processes (PostgreSQL shares the queue safely)."""
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
    from app.db import make_engine, make_sessionmaker
    from app.logging import configure_logging
    from app.services.policy import UploadPolicy
    from app.upload.storage import build_store
    from app.workers.runner import Runner

    configure_logging()
    settings = get_settings()

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

    asyncio.run(run())


@users.command("create")
def users_create(
    screen_name: str,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Create a user; prints its bearer token and OAuth 1.0a credentials."""
    from app.db import make_engine, make_sessionmaker
    from app.services import accounts
    from app.upload.ids import IdGenerator

    settings = get_settings()
    migrate_quietly(settings.database_url)

    async def create() -> accounts.IssuedCredentials:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await accounts.create_user(
                    session, IdGenerator(settings.node_id), screen_name=screen_name
                )
        finally:
            await engine.dispose()

    creds = asyncio.run(create())
    if as_json:
        typer.echo(json.dumps(asdict(creds)))
    else:
        for key, value in asdict(creds).items():
            typer.echo(f"{key}: {value}")


def migrate_quietly(database_url: str) -> None:
    from app.migrate import upgrade_to_head

    if database_url.startswith("sqlite"):
        get_settings().data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(database_url)


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
