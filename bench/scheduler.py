"""``python -m bench.scheduler``: the scheduler publishing 10,000 posts due within one
minute, by real ``mediastudio worker`` processes, on SQLite and on PostgreSQL.

Per database: a fresh database (SQLite in a temporary folder; PostgreSQL: a database of
its own on ``--pg-url``, dropped after), migrated; ``--workers`` worker processes
(``mediastudio worker --no-sweep``) start while the users and accounts are made (enough
accounts that none has more than 30 posts in 15 minutes, the Ads API's per-window
limit); then ``--posts`` scheduled rows, due evenly over ``--seconds`` seconds from
``--lead`` seconds on; the bench waits until every row is settled.

Reported: publish lag (``completed_at - scheduled_at``) p50/p99/max, whether every post
was published within 60 s of its due time, the first publication after the first due
time, the publish rate and the wall time. Prints a table and writes JSON to
``bench/results/scheduler-<UTC time>.json`` (or ``--output``). Targets are reported,
never enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import report

REPO = Path(__file__).resolve().parent.parent
PER_ACCOUNT = 30  # scheduled posts per account and 15-minute window (Ads API §8.4)
TARGET_SECS = 60.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    summary = __doc__.split("\n")[0]
    p = argparse.ArgumentParser(prog="python -m bench.scheduler", description=summary)
    p.add_argument("--posts", type=int, default=10_000, help="scheduled posts (10,000)")
    p.add_argument("--seconds", type=float, default=60.0, help="their due times span (60)")
    p.add_argument("--lead", type=float, default=10.0,
                   help="first due time after the accounts exist (10)")  # fmt: skip
    p.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    p.add_argument("--batch", type=int, help="MEDIASTUDIO_STUDIO__SCHEDULER_BATCH (the default)")
    p.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                   help="PostgreSQL server to create the bench database on")  # fmt: skip
    p.add_argument("--output", type=Path, help="a .json file, or a directory for it")
    return p.parse_args(argv)


async def _prepare(url: str, *, posts: int, lead: float, seconds: float) -> datetime:
    """The users and accounts, then the scheduled rows (as the endpoints store them), the
    first due ``lead`` seconds after the accounts exist; returns that first due time."""
    from app.accounts import service as accounts
    from app.core.ids import IdGenerator
    from app.infra.db import make_engine, make_sessionmaker
    from app.models import ScheduledTweet
    from app.studio.accounts import create_account

    engine = make_engine(url)
    ids = IdGenerator()
    sessions = make_sessionmaker(engine)
    step = seconds / max(posts - 1, 1)
    owners: list[tuple[int, str]] = []
    try:
        for start in range(0, posts, PER_ACCOUNT):
            async with sessions() as session:
                user = await accounts.create_user(session, ids, screen_name=f"bench{start}")
            async with sessions() as session:
                account = await create_account(
                    session, ids, owner_id=user.user_id, name="bench", timezone="UTC",
                    now=datetime.now(UTC),
                )  # fmt: skip
            owners.append((user.user_id, account.id))
        first_due = datetime.now(UTC) + timedelta(seconds=lead)
        rows = [
            ScheduledTweet(
                id=ids.next_id(), account_id=account_id, user_id=user_id, created_by=user_id,
                text=f"bench post {i}", nullcast=True,
                scheduled_at=first_due + timedelta(seconds=i * step),
            )
            for i in range(posts)
            for user_id, account_id in [owners[i // PER_ACCOUNT]]
        ]  # fmt: skip
        for chunk in range(0, len(rows), 1000):
            async with sessions() as session:
                session.add_all(rows[chunk : chunk + 1000])
                await session.commit()
    finally:
        await engine.dispose()
    return first_due


async def _pending(url: str) -> int:
    from sqlalchemy import func, select

    from app.infra.db import make_engine, make_read_sessionmaker
    from app.models import ScheduledTweet

    engine = make_engine(url)
    try:
        async with make_read_sessionmaker(engine)() as session:
            query = select(func.count()).where(ScheduledTweet.status == "SCHEDULED")
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


async def _lags(url: str) -> tuple[list[float], list[datetime], dict[str, int]]:
    from sqlalchemy import select

    from app.infra.db import make_engine, make_read_sessionmaker
    from app.models import ScheduledTweet as T

    engine = make_engine(url)
    try:
        async with make_read_sessionmaker(engine)() as session:
            found = (await session.execute(select(T.status, T.scheduled_at, T.completed_at))).all()
    finally:
        await engine.dispose()
    statuses: dict[str, int] = {}
    lags, completed = [], []
    for status, due, done in found:
        statuses[status] = statuses.get(status, 0) + 1
        if status == "SUCCESS" and done is not None:
            lags.append((done - due).total_seconds())
            completed.append(done)
    return lags, completed, statuses


def _run_one(database: str, url: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from app.migrate import upgrade_to_head

    upgrade_to_head(url)  # the workers refuse an unmigrated database
    env = {
        **os.environ, "MEDIASTUDIO_DATABASE_URL": url, "MEDIASTUDIO_ENV_FILE": "",
        "MEDIASTUDIO_DATA_DIR": str(folder / "data"), "MEDIASTUDIO_LOG_LEVEL": "warning",
    }  # fmt: skip
    if args.batch:
        env["MEDIASTUDIO_STUDIO__SCHEDULER_BATCH"] = str(args.batch)
    command = [sys.executable, "-c", "from app.cli import main; main()", "worker", "--no-sweep"]
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            command, env={**env, "MEDIASTUDIO_NODE_ID": str(10 + n)}, cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=(folder / f"worker-{n}.log").open("wb"),
        )
        for n in range(args.workers)
    ]  # fmt: skip
    # The workers start while the accounts are made (and the lead runs).
    first_due = asyncio.run(_prepare(url, posts=args.posts, lead=args.lead, seconds=args.seconds))
    deadline = time.monotonic() + args.lead + args.seconds + 600
    try:
        while asyncio.run(_pending(url)) and time.monotonic() < deadline:
            if any(worker.poll() is not None for worker in workers):
                raise RuntimeError((folder / "worker-0.log").read_text()[-3000:])
            time.sleep(0.5)
        wall = time.monotonic() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
    lags, completed, statuses = asyncio.run(_lags(url))
    published = statuses.get("SUCCESS", 0)
    span = (max(completed) - min(completed)).total_seconds() if completed else 0.0
    return {
        "database": database,
        "posts": args.posts,
        "workers": args.workers,
        "published": published,
        "statuses": statuses,
        "lag_p50_s": round(report.percentile(lags, 0.50), 3),
        "lag_p99_s": round(report.percentile(lags, 0.99), 3),
        "lag_max_s": round(max(lags, default=0.0), 3),
        "all_within_60s": published == args.posts and max(lags, default=0.0) <= TARGET_SECS,
        "wall_s": round(wall, 1),
        # From the first due time to the first publication: the workers' start-up shows here.
        "first_publish_s": round((min(completed) - first_due).total_seconds(), 3)
        if completed
        else None,
        "publish_span_s": round(span, 1),
        "publish_rate_per_s": round(published / max(span, 1e-3), 1),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


async def _pg_database(server: str, name: str, *, drop: bool = False) -> None:
    import asyncpg

    conn = await asyncpg.connect(server)
    try:
        if drop:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    result: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "runs": [],
    }
    root = Path(tempfile.mkdtemp(prefix="bench-scheduler-"))
    try:
        for database in databases:
            folder = root / database
            folder.mkdir()
            if database == "sqlite":
                url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
                result["runs"].append(_run_one(database, url, args, folder))
                continue
            name = f"bench_scheduler_{secrets.token_hex(4)}"
            asyncio.run(_pg_database(args.pg_url, name))
            try:
                url = args.pg_url.replace("postgresql://", "postgresql+asyncpg://", 1)
                url = url.rsplit("/", 1)[0] + f"/{name}"
                result["runs"].append(_run_one(database, url, args, folder))
            finally:
                asyncio.run(_pg_database(args.pg_url, name, drop=True))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(table(result))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.output or REPO / "bench" / "results"
    path = path if path.suffix == ".json" else path / f"scheduler-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{'database':<11} {'posts':>6} {'workers':>7} {'p50 s':>7} {'p99 s':>7} {'max s':>7} "
        f"{'posts/s':>8}  all within 60 s"
    ]
    for run in result["runs"]:
        verdict = "[PASS]" if run["all_within_60s"] else "[MISS]"
        lines.append(
            f"{run['database']:<11} {run['published']:>6} {run['workers']:>7} "
            f"{run['lag_p50_s']:>7.3f} {run['lag_p99_s']:>7.3f} {run['lag_max_s']:>7.3f} "
            f"{run['publish_rate_per_s']:>8.1f}  {verdict}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
