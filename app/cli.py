"""The ``mediastudio`` command: serve, worker, live, migrate, upload, openapi here; users, apps,
jobs and sweep in app/commands/admin.py. An expected mistake is one line on stderr and
exit code 2 (app/commands/mistakes.py); ``--debug`` shows its traceback instead."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from app.commands import admin, studio
from app.commands.mistakes import EXIT_MISTAKE, Mistake, describe
from app.config import Settings, get_settings

app = typer.Typer(help="Media Studio API", no_args_is_help=True)
app.add_typer(admin.users, name="users")
app.add_typer(admin.apps, name="apps")
app.add_typer(admin.jobs, name="jobs")
app.add_typer(studio.accounts, name="accounts")
app.command()(admin.sweep)

_debug = False


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="show the traceback of an error, not one line")
    ] = False,
) -> None:
    global _debug
    _debug = debug


LogFormatOption = Annotated[
    Literal["json", "text"] | None,
    typer.Option(help="log lines", show_default="MEDIASTUDIO_LOG_FORMAT, else json"),
]
LogLevelOption = Annotated[
    Literal["debug", "info", "warning", "error", "critical"] | None,
    typer.Option(
        case_sensitive=False,
        help="lowest level logged",
        show_default="MEDIASTUDIO_LOG_LEVEL, else info",
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
    host: Annotated[
        str | None,
        typer.Option(help="bind address", show_default="MEDIASTUDIO_HOST, else 127.0.0.1"),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="TCP port", show_default="MEDIASTUDIO_PORT, else 8000")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="server processes")] = 1,
    ssl_certfile: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="TLS certificate (PEM)")
    ] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="TLS private key (PEM)")
    ] = None,
    ssl_keyfile_password: Annotated[
        str | None, typer.Option(help="password of an encrypted private key")
    ] = None,
    log_format: LogFormatOption = None,
    log_level: LogLevelOption = None,
    migrate_first: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="apply pending migrations first",
            show_default="MEDIASTUDIO_MIGRATE_ON_START, else true",
        ),
    ] = None,
) -> None:
    """Migrate, then serve the API (with an in-process job worker); over TLS with
    --ssl-certfile and --ssl-keyfile (tweepy speaks only https).

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

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise Mistake("--ssl-certfile and --ssl-keyfile go together")
    if migrate_first is None:
        migrate_first = settings.migrate_on_start
    _refuse_unless_ready(settings.database_url, migrate=migrate_first)
    share_nodes(workers, settings.node_id)
    ingest = _start_live(settings, port or settings.port)
    try:
        _run_uvicorn(uvicorn, settings, host, port, workers, ssl_certfile, ssl_keyfile,
                     ssl_keyfile_password)  # fmt: skip
    finally:
        _stop_live(ingest)


def _run_uvicorn(
    uvicorn: Any, settings: Settings, host: str | None, port: int | None, workers: int,
    ssl_certfile: Path | None, ssl_keyfile: Path | None, ssl_keyfile_password: str | None,
) -> None:  # fmt: skip
    from app.logging import logging_config
    from app.serve import server_options

    uvicorn.run(
        "app.serve:create_served_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=logging_config(settings.log_format, settings.log_level),
        log_level=settings.log_level,
        access_log=False,  # app.http.requestlog writes one line per request
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        ssl_keyfile_password=ssl_keyfile_password,
        **server_options(settings),
    )


def share_nodes(processes: int, node_id: int | None) -> int | None:
    """Give ``processes`` sibling processes the node range of app/infra/nodes.py through
    the environment they inherit; returns the base node."""
    from app.infra.nodes import check_range, draw_base

    if processes <= 1:
        return node_id
    base = draw_base(processes) if node_id is None else node_id
    try:
        check_range(base, processes)
    except ValueError as bad:
        raise Mistake(str(bad)) from None
    os.environ["MEDIASTUDIO_NODE_ID"] = str(base)
    os.environ["MEDIASTUDIO_NODE_SLOTS"] = str(processes)
    get_settings.cache_clear()
    return base


def _start_live(settings: Settings, port: int) -> subprocess.Popen[bytes] | None:
    """`serve`'s live ingest: `mediastudio live` as a child process, or one line saying
    why live ingest is off (everything else works without it)."""
    from app.live.nginx import die_with_parent, missing, rtmps_enabled

    if not settings.live.enabled:
        typer.echo("live ingest is off: MEDIASTUDIO_LIVE__ENABLED=false", err=True)
        return None
    reason = missing(settings.live)
    if reason is not None:
        typer.echo(
            f"live ingest is off: {reason}; run `make setup` as root to install it", err=True
        )
        return None
    environment = dict(os.environ)
    environment.setdefault("MEDIASTUDIO_LIVE__HOOK_URL", f"http://127.0.0.1:{port}")
    if not rtmps_enabled(settings.live):
        typer.echo(
            "live ingest: RTMP only (RTMPS needs MEDIASTUDIO_LIVE__TLS_CERTFILE and _KEYFILE)",
            err=True,
        )
    # It ends with serve however serve ends (uvicorn re-raises SIGTERM after shutdown,
    # so serve's own clean-up may never run): the kernel sends it SIGTERM.
    return subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "live"],
        env=environment, preexec_fn=die_with_parent,
    )  # fmt: skip


def _stop_live(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@app.command()
def live(
    log_format: LogFormatOption = None,
    log_level: LogLevelOption = None,
) -> None:
    """Run the live ingest alone: nginx with the RTMP module (config generated in
    DATA_DIR/live/run) and its monitor (broadcast timers, stream attributes, HLS pulls).
    `serve` starts it by itself; run it alone beside API processes elsewhere.

    Exit code 2 with one line when nginx or its RTMP module is missing.
    """
    import signal

    from app.live.nginx import missing
    from app.live.supervisor import run_live
    from app.logging import configure_logging

    settings = _logging_options(log_format, log_level)
    configure_logging(settings.log_format, settings.log_level)
    reason = missing(settings.live)
    if reason is not None:
        raise Mistake(f"live ingest cannot start: {reason}")
    _refuse_unless_ready(settings.database_url, migrate=False)

    async def main_task() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):  # stop cleanly, never mid-query
            loop.add_signal_handler(signum, stop.set)
        while not stop.is_set():  # nginx could not start or died: start it again
            try:
                await run_live(settings, stop)
            except RuntimeError as died:
                typer.echo(f"live ingest restarting: {died}", err=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 2)

    asyncio.run(main_task())


@app.command()
def worker(
    processes: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
    sweep: Annotated[
        bool, typer.Option(help="also run the sweeper (expiry, nonces, temporary files)")
    ] = True,
    scheduler: Annotated[
        bool, typer.Option(help="also run the scheduler (publishes due scheduled posts)")
    ] = True,
    log_format: LogFormatOption = None,
    log_level: LogLevelOption = None,
) -> None:
    """Run job workers as separate processes (PostgreSQL shares the queue safely), each
    with the sweeper unless --no-sweep and the scheduler unless --no-scheduler (several
    of each at once are safe: every scheduled post is published once).

    Never migrates: refuses a database whose schema is not the code's (exit code 2).
    """
    from app.infra.metrics_process import use_multiprocess_dir

    settings = _logging_options(log_format, log_level)
    use_multiprocess_dir(settings.data_dir, clean=False)  # serve's /metrics counts them
    _refuse_unless_ready(settings.database_url, migrate=False)  # never migrates
    base = share_nodes(processes, settings.node_id)
    if processes > 1:
        import multiprocessing

        children = [
            multiprocessing.Process(target=_worker_main, args=(base + index, sweep, scheduler))
            for index in range(processes)
        ] if base is not None else []  # fmt: skip
        for child in children:
            child.start()
        for child in children:
            child.join()
    else:
        _worker_main(settings.node_id, sweep, scheduler)


def _worker_main(node_id: int | None, sweep: bool, scheduler: bool = True) -> None:
    from datetime import timedelta

    from app.analytics.rollup import rollup_from_settings
    from app.core.ids import IdGenerator
    from app.infra.db import make_engine, make_read_sessionmaker, make_sessionmaker
    from app.infra.metrics_process import mark_dead
    from app.jobs.runner import Runner
    from app.jobs.sweeper import run_sweeper
    from app.logging import configure_logging
    from app.storage import build_store
    from app.studio.scheduler import scheduler_from_settings
    from app.uploads.policy import UploadPolicy

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)

    async def run() -> None:
        engine = make_engine(settings.database_url)
        sessions, store = make_sessionmaker(engine), build_store(settings.media_root)
        runner = Runner(
            sessions,
            store,
            UploadPolicy.from_settings(settings),
            worker_id=None if node_id is None else f"node-{node_id}:{os.getpid()}",
        )
        loops = [runner.run_forever(poll_interval=settings.worker.poll_interval_secs)]
        if sweep:
            loops.append(
                run_sweeper(
                    sessions,
                    store,
                    interval=settings.worker.sweep_interval_secs,
                    temp_max_age=timedelta(seconds=settings.storage.temp_max_age_secs),
                    temp_interval=settings.storage.temp_sweep_interval_secs,
                )
            )
        if scheduler:
            loops.append(
                scheduler_from_settings(
                    sessions, make_read_sessionmaker(engine), IdGenerator(node_id), settings.studio
                )
            )
        loops.append(rollup_from_settings(sessions, settings.analytics, store))
        try:
            await asyncio.gather(*loops)
        finally:
            await engine.dispose()
            mark_dead()

    asyncio.run(run())


def _refuse_unless_ready(database_url: str, *, migrate: bool) -> None:
    """Exit 2 with one line unless the schema is current (after migrating, if asked)."""
    from app.infra import startup

    refusal = startup.prepare_database(database_url, migrate=migrate, upgrade=migrate_quietly)
    if refusal is not None:
        raise Mistake(refusal.removeprefix("mediastudio: "))


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
        str | None,
        typer.Option(help="base URL", show_default="http://HOST:PORT from settings"),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="MEDIASTUDIO_TOKEN", help="bearer token")
    ] = None,
    media_type: Annotated[
        str | None, typer.Option(help="MIME type", show_default="guessed from the file")
    ] = None,
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
        raise Mistake("a bearer token is needed: --token or MEDIASTUDIO_TOKEN")
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
    """The console script: one line and exit code 2 for an expected mistake."""
    try:
        app()
    except Exception as exc:
        message = describe(exc, database_url=_database_url())
        if message is None or _debug:
            raise
        print(f"mediastudio: {message}", file=sys.stderr)
        raise SystemExit(EXIT_MISTAKE) from None


def _database_url() -> str | None:
    try:
        return get_settings().database_url
    except Exception:  # the settings themselves are the mistake
        return None
