"""``make bench-analytics``: playback event ingestion and the stats queries.

For each database (SQLite in a temporary data dir; PostgreSQL in a scratch database of its
own, dropped after):

1. **Ingest**: seed an account with 20 posted media (bench/analytics_seed.py), start the
   service as ``mediastudio serve`` runs it (uvicorn, httptools + uvloop, one process, no
   in-process worker), then for ``--seconds`` (60) keep ``--connections`` keep-alive
   connections busy (closed loop: each sends its next batch as soon as the last was
   answered, so the rate found is the most the one process holds), each batch 100 events
   of 10 new sessions (start, 4 progress, 4 quartiles, end). Reports events/s and the
   p50/p99 of the request latency. Then the rollup (``roll_up_once``, as a worker runs
   it) counts everything; the bench checks events sent = raw events counted by the
   rollup = 10 x the sessions' starts, and reports the rollup's events/s.
2. **Queries**: seed 90 days of hourly rollups for the 20 posts and ``--noise-media``
   others, and ``--events`` (10 million) rolled raw events, then time over one keep-alive
   connection: ``GET /2/media/analytics`` (20 media keys, 90 days, daily and total), the
   studio report (the account, 90 days by day), and the Ads API's synchronous stats (20
   posts, 7 days, HOUR and DAY).

Prints the figures and writes JSON under ``bench/results/`` (or ``--output``). Targets
(>= 20,000 events/s; p99 < 50 ms) are reported, never enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import client, report, servers
from bench.analytics_seed import seed_posted, seed_rollups
from bench.library import PG_SERVER_URL, SERVICE_HTTP, scratch_postgres

EVENTS = "/studio/v1/playback/events"
TARGET_EVENTS_S = 20_000
TARGET_P99_MS = 50.0
FULL = {"seconds": 60.0, "connections": 8, "events": 10_000_000, "noise_media": 200,
        "requests": 200}  # fmt: skip
QUICK = {"seconds": 2.0, "connections": 2, "events": 2_000, "noise_media": 2, "requests": 5}


def _template(media_key: str) -> bytes:
    """A batch of 10 sessions x 10 events; ``SSSSSSSS`` is replaced per batch."""
    events = []
    now = int(time.time() * 1000)
    for s in range(10):
        session = f"SSSSSSSS-{s}"
        steps: list[dict[str, Any]] = [{"type": "start", "position_ms": 0}]
        steps += [{"type": "progress", "position_ms": 2500 * i} for i in range(1, 5)]
        steps += [{"type": "quartile", "quartile": q, "position_ms": 2500 * q // 25}
                  for q in (25, 50, 75, 100)]  # fmt: skip
        steps.append({"type": "end", "position_ms": 10000})
        for seq, step in enumerate(steps):
            events.append({"media_key": media_key, "session_id": session, "seq": seq,
                           "ts": now + seq * 1000, **step})  # fmt: skip
    return json.dumps({"events": events}, separators=(",", ":")).encode()


class Ingest:
    """``connections`` threads, each one keep-alive connection in a closed loop."""

    def __init__(self, port: int, template: bytes, seconds: float, connections: int) -> None:
        self.port, self.template = port, template
        self.seconds, self.connections = seconds, connections
        self.latencies: list[float] = []
        self.sent_batches = 0
        self.errors = 0
        self._lock = threading.Lock()
        self._next = 0

    def _batch_id(self) -> int:
        with self._lock:
            self._next += 1
            return self._next

    def _run(self, deadline: float) -> None:
        conn = client.Connection(self.port)
        times: list[float] = []
        sent = errors = 0
        try:
            while time.monotonic() < deadline:
                body = self.template.replace(b"SSSSSSSS", b"%08d" % self._batch_id())
                started = time.perf_counter()
                answer = conn.request("POST", EVENTS, [body], "application/json")
                times.append(time.perf_counter() - started)
                if answer.status == 202 and b'"rejected":[]' in answer.body:
                    sent += 1
                else:
                    errors += 1
        finally:
            conn.close()
            with self._lock:
                self.latencies += times
                self.sent_batches += sent
                self.errors += errors

    def run(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.seconds
        started = time.monotonic()
        threads = [
            threading.Thread(target=self._run, args=(deadline,)) for _ in range(self.connections)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        events = self.sent_batches * 100
        ms = [t * 1000 for t in self.latencies]
        return {
            "seconds": round(elapsed, 1),
            "connections": self.connections,
            "requests": len(ms),
            "events_sent": events,
            "errors": self.errors,
            "events_per_s": round(events / elapsed),
            "p50_ms": round(report.percentile(ms, 0.5), 2) if ms else None,
            "p99_ms": round(report.percentile(ms, 0.99), 2) if ms else None,
        }


async def _roll_up(url: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from app.analytics.rollup import roll_up_once
    from app.config import AnalyticsSettings
    from app.infra.db import make_engine, make_sessionmaker
    from app.models.analytics import MediaTotals, PlaybackEvent

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    settings = AnalyticsSettings()
    started = time.monotonic()
    counted = 0
    try:
        while n := await roll_up_once(sessions, settings):
            counted += n
        elapsed = time.monotonic() - started
        async with sessions() as session:
            rolled = await session.scalar(
                select(func.count()).select_from(PlaybackEvent).where(PlaybackEvent.rolled)
            )
            starts = await session.scalar(select(func.sum(MediaTotals.starts)))
    finally:
        await engine.dispose()
    return {
        "counted": counted,
        "rolled_rows": int(rolled or 0),
        "starts": int(starts or 0),
        "rollup_s": round(elapsed, 1),
        "rollup_events_per_s": round(counted / elapsed) if elapsed else None,
    }


def _timed(conn: client.Connection, target: str, requests: int) -> dict[str, Any]:
    for _ in range(max(2, requests // 10)):  # warm-up
        conn.request("GET", target)
    times = []
    errors = 0
    for _ in range(requests):
        started = time.perf_counter()
        answer = conn.request("GET", target)
        times.append((time.perf_counter() - started) * 1000)
        errors += answer.status != 200
    return {
        "p50_ms": round(report.percentile(times, 0.5), 2),
        "p99_ms": round(report.percentile(times, 0.99), 2),
        "errors": errors,
    }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def queries(port: int, token: str, posted: Any, end_hour: int, requests: int) -> dict[str, Any]:
    conn = client.Connection(port, token)
    end = datetime.fromtimestamp(end_hour, UTC)
    start90, start7 = end - timedelta(days=90), end - timedelta(days=7)
    day_end = end.replace(hour=0)
    keys = ",".join(key for _, key in posted.media)
    posts = ",".join(str(p) for p in posted.post_ids)
    base = {"start_time": _iso(start90), "end_time": _iso(end), "media_keys": keys}
    ads = {"entity": "ORGANIC_TWEET", "entity_ids": posts, "metric_groups": "VIDEO,ENGAGEMENT",
           "placement": "ALL_ON_TWITTER"}  # fmt: skip
    cases = {
        "v2_media_analytics_90d_daily": "/2/media/analytics?"
        + urlencode({**base, "granularity": "daily"}),
        "v2_media_analytics_90d_total": "/2/media/analytics?"
        + urlencode({**base, "granularity": "total"}),
        "studio_report_90d_day": f"/studio/v1/accounts/{posted.account_id}/analytics?"
        + urlencode({"start": (day_end - timedelta(days=90)).date().isoformat(),
                     "end": day_end.date().isoformat(), "granularity": "day"}),
        "ads_stats_7d_hour": f"/11/stats/accounts/{posted.account_id}?"
        + urlencode({**ads, "granularity": "HOUR", "start_time": _iso(start7),
                     "end_time": _iso(end)}),
        "ads_stats_7d_day": f"/11/stats/accounts/{posted.account_id}?"
        + urlencode({**ads, "granularity": "DAY", "start_time": _iso(day_end - timedelta(days=7)),
                     "end_time": _iso(day_end)}),
    }  # fmt: skip
    try:
        out = {}
        for name, target in cases.items():
            check = conn.request("GET", target)
            if check.status != 200:
                raise RuntimeError(f"{name}: {check.status} {check.body[:300]!r}")
            out[name] = _timed(conn, target, requests)
        return out
    finally:
        conn.close()


def run_one(
    database: str, plan: dict[str, Any], args: argparse.Namespace, root: Path
) -> dict[str, Any]:
    data = root / database
    data.mkdir()
    with contextlib.ExitStack() as stack:
        if database == "sqlite":
            url = f"sqlite+aiosqlite:///{data / 'mediastudio.db'}"
        else:
            url = stack.enter_context(scratch_postgres(args.pg_server_url))
        posted = seed_posted(url, 20)
        print(f"{database}: seeded 20 posted media in {posted.seconds} s")
        env = {
            "MEDIASTUDIO_DATA_DIR": str(data),
            "MEDIASTUDIO_DATABASE_URL": url,
            "MEDIASTUDIO_WORKER__IN_PROCESS": "false",
            "MEDIASTUDIO_ANALYTICS__ADDRESS_EVENTS_PER_MINUTE": str(10**9),
        }
        server = servers.start("service", "app.serve:create_served_app", factory=True,
                               workers=1, env=env, log_dir=data, ready_path="/healthz",
                               http=SERVICE_HTTP)  # fmt: skip
        stack.callback(server.stop)
        cpu_before = servers.cpu_seconds(server)
        ingest = Ingest(server.port, _template(posted.media[0][1]), plan["seconds"],
                        plan["connections"]).run()  # fmt: skip
        ingest["server_cpu_s"] = round(servers.cpu_seconds(server) - cpu_before, 1)
        print(f"  ingest: {ingest['events_per_s']:,} events/s, p50 {ingest['p50_ms']} ms, "
              f"p99 {ingest['p99_ms']} ms, errors {ingest['errors']}")  # fmt: skip
        rolled = asyncio.run(_roll_up(url))
        ingest.update(rolled)
        ingest["no_event_lost"] = (
            rolled["counted"] == ingest["events_sent"] == rolled["rolled_rows"]
            and rolled["starts"] * 10 == ingest["events_sent"]
        )
        print(f"  rollup: {rolled['counted']:,} events in {rolled['rollup_s']} s "
              f"({rolled['rollup_events_per_s']} events/s); no event lost: "
              f"{ingest['no_event_lost']}")  # fmt: skip
        end_hour, seconds = seed_rollups(
            url, [m for m, _ in posted.media], days=90, noise_media=plan["noise_media"],
            events=plan["events"],
        )  # fmt: skip
        print(f"  seeded 90 days of rollups and {plan['events']:,} raw events in {seconds} s")
        timed = queries(server.port, posted.bearer_token, posted, end_hour, plan["requests"])
        for name, row in timed.items():
            print(f"  {name}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms")
    return {"database": database, "ingest": ingest, "queries": timed,
            "seed_rollups_s": seconds, "raw_events_stored": plan["events"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.run analytics", description=__doc__)
    p.add_argument("--quick", action="store_true", help="tiny numbers (the smoke test)")
    p.add_argument("--db", action="append", choices=["sqlite", "postgresql"])
    p.add_argument("--seconds", type=float)
    p.add_argument("--connections", type=int)
    p.add_argument("--events", type=int, help="rolled raw events stored for the queries")
    p.add_argument("--noise-media", type=int)
    p.add_argument("--requests", type=int)
    p.add_argument("--pg-server-url", default=PG_SERVER_URL)
    p.add_argument("--output", type=Path)
    args = p.parse_args(argv)
    plan = dict(QUICK if args.quick else FULL)
    for name in plan:
        if getattr(args, name, None) is not None:
            plan[name] = getattr(args, name)
    result: dict[str, Any] = {
        "machine": report.machine(),
        "settings": {"quick": args.quick, **plan},
        "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp:
        for database in args.db or ["sqlite", "postgresql"]:
            result["runs"].append(run_one(database, plan, args, Path(tmp)))
    result["targets"] = {"events_per_s": TARGET_EVENTS_S, "p99_ms": TARGET_P99_MS}
    path = report.write(result, args.output, stem="analytics")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
