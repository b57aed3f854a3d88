"""``make bench-library``: the media library list with 100,000 media in one account.

For each database (SQLite in a temporary data dir; PostgreSQL in a scratch database of its
own, dropped after): seed it in bulk (``bench/library_seed.py``), start the service as
``mediastudio serve`` runs it (uvicorn, httptools + uvloop, no access log), then time
``GET /11/accounts/{id}/media_library`` over one keep-alive connection, after warm-up:
the first page, a deep page (the cursor of page ~2,500, reached by following
``next_cursor``), a common and a rare ``q`` term, a ``media_type`` filter. The cases run
in interleaved rounds, so drift on a shared machine hits all of them alike. Prints one
table and writes JSON under ``bench/results/`` (or ``--output``). Targets are reported,
never enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode

from bench import client, report, servers
from bench.library_seed import Seeded, seed

PG_SERVER_URL = os.environ.get(
    "MEDIASTUDIO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
TARGET_P99_MS = 20.0
# app.serve.PROTOCOL, as bench/run.py names it.
SERVICE_HTTP = "app.infra.http_protocol:TimedHttpToolsProtocol"
CASES = ("first_page", "first_page_50", "deep_page", "q_common", "q_rare", "media_type",
         "q_common_media_type")  # fmt: skip
# What any request costs on this server and client: no auth, no database (``/livez``);
# bearer auth and one user read (``verify_credentials``); a studio read: auth, the
# membership lookup and one account read (``GET /11/accounts/{id}``).
FLOORS = {"livez": "/livez", "auth": "/1.1/account/verify_credentials.json",
          "studio": "/11/accounts/{account_id}"}  # fmt: skip


FULL = {"items": 100_000, "requests": 300, "warmup": 30}
QUICK = {"items": 2_000, "requests": 30, "warmup": 5}


@dataclass(frozen=True)
class Plan:
    items: int
    requests: int
    warmup: int
    deep_page: int
    databases: tuple[str, ...]
    quick: bool


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Plan]:
    p = argparse.ArgumentParser(prog="python -m bench.library", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="2,000 media, 30 requests a case")
    p.add_argument("--items", type=int, help="media in the account (100000; quick 2000)")
    p.add_argument("--requests", type=int, help="timed requests per case (300; quick 30)")
    p.add_argument("--warmup", type=int, help="untimed requests per case first (30; quick 5)")
    p.add_argument(
        "--deep-page",
        type=int,
        default=2500,
        help="page whose cursor the deep case times (at most half the pages)",
    )
    p.add_argument("--db", action="append", choices=("sqlite", "postgresql"),
                   help="database to run on, repeatable (default: both)")  # fmt: skip
    p.add_argument("--pg-server-url", default=PG_SERVER_URL,
                   help="PostgreSQL server to make the scratch database on")  # fmt: skip
    p.add_argument("--output", type=Path, help="a .json file, or a directory for it")
    p.add_argument("--tmp-dir", type=Path, help="parent of the temporary data dirs")
    p.add_argument("--keep-tmp", action="store_true", help="do not delete the data dirs")
    args = p.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    given = {name: getattr(args, name) for name in FULL}
    plan = Plan(
        **{name: sizes[name] if value is None else value for name, value in given.items()},
        deep_page=args.deep_page,
        databases=tuple(dict.fromkeys(args.db or ("sqlite", "postgresql"))),
        quick=args.quick,
    )
    return args, plan


# --- the scratch PostgreSQL database -----------------------------------------------------


async def _admin(server_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url.replace("+asyncpg", ""), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def scratch_postgres(server_url: str) -> Iterator[str]:
    """A new database on ``server_url``'s server, dropped on the way out."""
    name = f"mediastudio_bench_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- measuring ---------------------------------------------------------------------------


class Library:
    """GETs of one account's library over one keep-alive connection."""

    def __init__(self, server: servers.Server, seeded: Seeded) -> None:
        self.server = server
        self.conn = client.Connection(server.port, seeded.bearer_token)
        self.path = f"/11/accounts/{seeded.account_id}/media_library"

    def target(self, params: dict[str, str]) -> str:
        return f"{self.path}?{urlencode(params)}"

    def get(self, target: str) -> tuple[float, client.Response]:
        started = time.perf_counter()
        response = self.conn.request("GET", target)
        return time.perf_counter() - started, response

    def page(self, target: str) -> dict[str, Any]:
        _, response = self.get(target)
        if response.status != 200:
            raise RuntimeError(f"GET {target}: {response.status} {response.body[:500]!r}")
        body: dict[str, Any] = response.json()
        return body

    def walk(self, pages: int, count: int = 20) -> tuple[str, list[float]]:
        """Follow ``next_cursor`` from the first page to page ``pages``; its cursor and the
        time of every page on the way."""
        times: list[float] = []
        cursor: str | None = None
        for _ in range(pages - 1):
            params = {"count": str(count)} | ({"cursor": cursor} if cursor else {})
            elapsed, response = self.get(self.target(params))
            if response.status != 200:
                raise RuntimeError(f"walk: {response.status} {response.body[:500]!r}")
            times.append(elapsed)
            cursor = response.json().get("next_cursor")
            if not cursor:
                raise RuntimeError(f"walk: no next_cursor after {len(times)} pages")
        assert cursor is not None
        return cursor, times

    def close(self) -> None:
        self.conn.close()


def _stats(name: str, times: list[float], errors: int, items: int) -> dict[str, Any]:
    return {
        "case": name,
        "requests": len(times),
        "errors": errors,
        "items_per_page": items,
        "p50_ms": round(report.percentile(times, 0.5) * 1000, 2),
        "p99_ms": round(report.percentile(times, 0.99) * 1000, 2),
        "max_ms": round(max(times, default=0.0) * 1000, 2),
        "mean_ms": round(sum(times) / len(times) * 1000, 2) if times else 0.0,
    }


def cpu_per_request(lib: Library, targets: dict[str, str], requests: int) -> dict[str, float]:
    """The server's CPU milliseconds per request of each case, run on its own: unlike
    latency, barely moved by other processes on the machine."""
    out = {}
    for name, target in targets.items():
        before = servers.cpu_seconds(lib.server)
        for _ in range(requests):
            lib.get(target)
        out[name] = round((servers.cpu_seconds(lib.server) - before) / requests * 1000, 2)
    return out


def measure(lib: Library, seeded: Seeded, plan: Plan) -> dict[str, Any]:
    common, common_n = seeded.common_term()
    rare, rare_n = seeded.rare_term()
    pages = max(2, min(plan.deep_page, seeded.items // 20 // 2))
    walk_started = time.perf_counter()
    deep_cursor, walk_times = lib.walk(pages)
    walk_s = time.perf_counter() - walk_started
    targets = {
        "first_page": lib.target({"count": "20"}),
        "first_page_50": lib.target({"count": "50"}),
        "deep_page": lib.target({"count": "20", "cursor": deep_cursor}),
        "q_common": lib.target({"count": "20", "q": common}),
        "q_rare": lib.target({"count": "20", "q": rare}),
        "media_type": lib.target({"count": "20", "media_type": "GIF"}),
        "q_common_media_type": lib.target({"count": "20", "q": common, "media_type": "GIF"}),
    }
    sizes = {name: len(lib.page(t)["data"]) for name, t in targets.items()}
    for name, path in FLOORS.items():
        targets[name], sizes[name] = path.format(account_id=seeded.account_id), 0
    for _ in range(plan.warmup):
        for t in targets.values():
            lib.get(t)
    times: dict[str, list[float]] = {name: [] for name in targets}
    errors = dict.fromkeys(targets, 0)
    for _ in range(plan.requests):  # rounds of every case: drift hits all alike
        for name, t in targets.items():
            elapsed, response = lib.get(t)
            if response.status == 200:
                times[name].append(elapsed)
            else:
                errors[name] += 1
    cases = {name: _stats(name, times[name], errors[name], sizes[name]) for name in targets}
    for name, cpu_ms in cpu_per_request(lib, targets, plan.requests).items():
        cases[name]["server_cpu_ms"] = cpu_ms
    cases["cursor_walk"] = _stats("cursor_walk", walk_times, 0, 20)
    cases["cursor_walk"]["server_cpu_ms"] = None
    gifs = seeded.by_type.get("GIF", 0)
    expected = {
        "first_page": min(20, seeded.items),
        "first_page_50": min(50, seeded.items),
        "deep_page": 20,
        "q_common": min(20, common_n),
        "q_rare": min(20, rare_n),
        "media_type": min(20, gifs),
        "q_common_media_type": min(20, seeded.gif_term_counts[common]),
    }
    return {
        "cases": cases,
        "expected_items": expected,
        "terms": {"common": [common, common_n], "rare": [rare, rare_n]},
        "deep_page": pages,
        "cursor_walk_s": round(walk_s, 2),
    }


def run_one(database: str, plan: Plan, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    data = root / database
    data.mkdir()
    with contextlib.ExitStack() as stack:
        if database == "sqlite":
            url = f"sqlite+aiosqlite:///{data / 'mediastudio.db'}"
        else:
            url = stack.enter_context(scratch_postgres(args.pg_server_url))
        print(f"{database}: seeding {plan.items:,} media")
        seeded = seed(url, plan.items)
        print(f"  seeded in {seeded.seconds} s: {seeded.by_type}")
        env = {
            "MEDIASTUDIO_DATA_DIR": str(data),
            "MEDIASTUDIO_DATABASE_URL": url,
            "MEDIASTUDIO_WORKER__IN_PROCESS": "false",
        }
        server = servers.start("service", "app.serve:create_served_app", factory=True,
                               workers=1, env=env, log_dir=data, ready_path="/healthz",
                               http=SERVICE_HTTP)  # fmt: skip
        stack.callback(server.stop)
        lib = Library(server, seeded)
        stack.callback(lib.close)
        print(f"  service: pid {server.proc.pid} on 127.0.0.1:{server.port}")
        load_before = os.getloadavg()[0]
        measured = measure(lib, seeded, plan)
        measured["loadavg"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        for row in measured["cases"].values():
            print(f"  {row['case']}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, "
                  f"{row['items_per_page']} items, errors {row['errors']}")  # fmt: skip
    return {
        "database": database,
        "database_name": url.rsplit("/", 1)[-1],  # the scratch database, dropped by now
        "seed_s": seeded.seconds,
        "items": seeded.items,
        "by_type": seeded.by_type,
        "distinct_terms": len(seeded.term_counts),
        "term_rows": sum(seeded.term_counts.values()),
        **measured,
    }


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for database, run in result["databases"].items():
        for name in CASES:
            row = run["cases"][name]
            met = row["p99_ms"] < TARGET_P99_MS and row["errors"] == 0
            target = f"{database} {name} p99 (ms)"
            out.append(
                {"target": target, "value": row["p99_ms"], "op": "<",
                 "threshold": TARGET_P99_MS, "met": met}
            )  # fmt: skip
    return out


LABELS = {
    "first_page": "first page (count=20)",
    "first_page_50": "first page (count=50)",
    "deep_page": "deep page (cursor of page {deep})",
    "q_common": "q={common} ({common_n} items)",
    "q_rare": "q={rare} ({rare_n} items)",
    "media_type": "media_type=GIF",
    "q_common_media_type": "q={common} & media_type=GIF",
    "cursor_walk": "cursor walk, pages 1-{walked} (each once)",
    "livez": "GET /livez (floor: no auth, no DB)",
    "auth": "GET verify_credentials (floor: auth + 1 read)",
    "studio": "GET /11/accounts/:id (floor: studio read)",
}


def table(result: dict[str, Any]) -> str:
    title = f"library list, {result['settings']['items']:,} media"
    lines = [
        f"{title:<46} {'db':<10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'srv CPU':>8} "
        f"{'items':>5} {'err':>3}"
    ]
    for database, run in result["databases"].items():
        (common, common_n), (rare, rare_n) = run["terms"]["common"], run["terms"]["rare"]
        words = {"deep": run["deep_page"], "walked": run["deep_page"] - 1, "common": common,
                 "common_n": common_n, "rare": rare, "rare_n": rare_n}  # fmt: skip
        for name, row in run["cases"].items():
            label = LABELS[name].format(**words)
            cpu = "-" if row["server_cpu_ms"] is None else f"{row['server_cpu_ms']:.2f}ms"
            lines.append(
                f"{label:<46} {database:<10} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} "
                f"{row['max_ms']:>7.2f} {cpu:>8} {row['items_per_page']:>5} {row['errors']:>3}"
            )
        lines.append(f"{'':<46} {database:<10} load average {run['loadavg']}")
    lines.append("")
    lines += report.verdicts(result["targets"])
    return "\n".join(lines)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args, plan = parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, _terminate)
    machine = report.machine()
    root = Path(tempfile.mkdtemp(prefix="mediastudio-library-", dir=args.tmp_dir))
    try:
        runs = {db: run_one(db, plan, args, root) for db in plan.databases}
    finally:
        if args.keep_tmp:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    result: dict[str, Any] = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {**machine, "loadavg_1m_at_end": round(os.getloadavg()[0], 2)},
        "settings": {
            **dataclasses.asdict(plan),
            "client": "python keep-alive (bench.client), 1 connection",
            "workers": 1,
        },
        "databases": runs,
    }
    result["targets"] = targets(result)
    print()
    print(table(result))
    path = report.write(result, args.output, stem="library")
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
