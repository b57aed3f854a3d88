"""``make bench``: the upload path against the machine's ceiling, in one run.

Starts three uvicorn servers on free loopback ports (httptools + uvloop, no access log,
same worker count): the service (own temporary data dir, SQLite unless
``--database-url``), the raw ASGI sink (``bench.ceiling_app:sink``) and a bare FastAPI app
(``bench.ceiling_app:bare``). Then: ceiling vs service for one client and for N
concurrent clients, base64 uploads, peak RSS for a small and a big upload, FINALIZE time,
and INIT/STATUS req/s against the bare endpoints. Prints one table and writes JSON under
``bench/results/`` (or ``--output``). Targets are reported, never enforced.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode

from bench import client, payload, report, rps, servers
from bench.servers import MiB, Monitor, Server

# app.serve.PROTOCOL, named here so the bench does not import the app.
SERVICE_HTTP = "app.infra.http_protocol:TimedHttpToolsProtocol"

SEGMENT = 5 * MiB


@dataclass(frozen=True)
class Plan:
    quick: bool
    big_mib: int
    small_mib: int
    clients: int
    client_mib: int
    rps_seconds: float
    connections: int
    repeat: int
    workers: int

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Plan]:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, short runs (< 1 min)")
    p.add_argument("--output", type=Path, help="a .json file, or a directory for it")
    p.add_argument("--database-url", default="", help="service DB (default: SQLite in tmp)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn workers for every server")
    p.add_argument("--repeat", type=int,
                   help="interleaved repeats of ceiling and service runs: single, concurrent "
                   "and req/s (median; 3, quick 1)")  # fmt: skip
    p.add_argument("--big-mib", type=int, help="single-upload size (512; quick 20)")
    p.add_argument("--clients", type=int, help="concurrent uploaders (32; quick 4)")
    p.add_argument("--client-mib", type=int, help="MiB per concurrent uploader (50; quick 5)")
    p.add_argument("--rps-seconds", type=float, help="length of each req/s run (5; quick 1)")
    p.add_argument("--connections", type=int, default=64, help="req/s client connections")
    p.add_argument("--malloc-tuned", action="store_true",
                   help="start all servers with MALLOC_MMAP/TRIM_THRESHOLD_=256 MiB")  # fmt: skip
    p.add_argument("--with-worker", action="store_true",
                   help="keep the service's in-process job worker on (it then processes the "
                   "padded videos while later phases run)")  # fmt: skip
    p.add_argument("--keep-caches", action="store_true",
                   help="do not drop the page cache before each upload phase (it is synced "
                   "either way)")  # fmt: skip
    p.add_argument("--tmp-dir", type=Path, help="parent of the temporary data dirs")
    p.add_argument("--keep-tmp", action="store_true", help="do not delete the data dirs")
    args = p.parse_args(argv)
    q = args.quick

    def pick(value: Any, full: Any, quick: Any) -> Any:
        return value if value is not None else (quick if q else full)

    plan = Plan(
        quick=q,
        big_mib=pick(args.big_mib, 512, 20),
        small_mib=10 if q else 50,
        clients=pick(args.clients, 32, 4),
        client_mib=pick(args.client_mib, 50, 5),
        rps_seconds=pick(args.rps_seconds, 5.0, 1.0),
        connections=args.connections,
        repeat=pick(args.repeat, 3, 1),
        workers=args.workers,
    )
    return args, plan


def create_user(env: dict[str, str]) -> str:
    """``mediastudio users create bench --json`` (migrates the service's DB first)."""
    command = [sys.executable, "-c", "from app.cli import main; main()"]
    command += ["users", "create", "bench", "--json"]
    done = subprocess.run(command, env=env, cwd=servers.REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"users create failed:\n{done.stdout}{done.stderr[-3000:]}")
    token: str = json.loads(done.stdout.strip().splitlines()[-1])["bearer_token"]
    return token


def _segments(mib: int) -> int:
    return math.ceil(mib * MiB / SEGMENT)


class Bench:
    def __init__(self, plan: Plan, root: Path, args: argparse.Namespace) -> None:
        self.plan, self.root, self.args = plan, root, args
        self.servers: list[Server] = []
        self.monitors: list[Monitor] = []
        self.log_tails: dict[str, str] = {}
        self.caches_dropped = not args.keep_caches

    def start(self) -> None:
        env: dict[str, str] = {}
        if self.args.malloc_tuned:
            env |= {
                "MALLOC_MMAP_THRESHOLD_": str(256 * MiB),
                "MALLOC_TRIM_THRESHOLD_": str(256 * MiB),
            }
        data, sink = self.root / "service", self.root / "sink"
        data.mkdir()
        sink.mkdir()
        service_env = {**env, "MEDIASTUDIO_DATA_DIR": str(data)}
        # One user drives every request: windows far above any run, still counted (the
        # rate limit's cost is part of the figures).
        unlimited = {"user": [10**9, 900], "app": [10**9, 86_400]}
        service_env["MEDIASTUDIO_RATE_LIMITS"] = json.dumps(
            {f"media/upload:{c}": unlimited for c in ("INIT", "APPEND", "FINALIZE", "STATUS")}
        )
        if self.args.database_url:
            service_env["MEDIASTUDIO_DATABASE_URL"] = self.args.database_url
        if not self.args.with_worker:
            service_env["MEDIASTUDIO_WORKER__IN_PROCESS"] = "false"
        self.token = create_user({**os.environ, **service_env})
        w, logs = self.plan.workers, self.root
        self.sink = self._add(servers.start("sink", "bench.ceiling_app:sink", workers=w,
                                            env={**env, "BENCH_SINK_DIR": str(sink)},
                                            log_dir=logs))  # fmt: skip
        self.bare = self._add(
            servers.start("bare", "bench.ceiling_app:bare", workers=w, env=env, log_dir=logs)
        )
        # app.serve: the service as `mediastudio serve` runs it, process tuning and the
        # header timeout's protocol (httptools underneath) included.
        self.service = self._add(servers.start("service", "app.serve:create_served_app",
                                               factory=True, workers=w, env=service_env,
                                               log_dir=logs, ready_path="/healthz",
                                               http=SERVICE_HTTP))  # fmt: skip
        self.sink_mon, self.bare_mon, self.service_mon = self.monitors
        for server in self.servers:
            print(f"  {server.name}: pid {server.proc.pid} on 127.0.0.1:{server.port}")

    def settle(self, encoded: payload.Encoded) -> None:
        """Start every upload phase from the same memory state: write back what earlier
        phases left dirty and, unless ``--keep-caches``, drop the clean page cache
        (needs root; where refused, the JSON says so), then read the phase's request
        bodies back in, so the client sends them from memory as before. On this VM,
        writes into new page cache slow down by ~2x once a few GB are cached (bench/README.md),
        which would penalize whichever server keeps its data (the service) and not the
        sink, which rewrites the same 64 files."""
        os.sync()
        if self.args.keep_caches:
            return
        try:
            Path("/proc/sys/vm/drop_caches").write_text("1\n")
        except OSError:
            self.caches_dropped = False
        end = max(offset + length for offset, length in encoded.spans)
        with open(encoded.path, "rb", buffering=0) as bodies:
            while bodies.tell() < end and bodies.read(8 * MiB):
                pass

    def _add(self, server: Server) -> Server:
        self.servers.append(server)
        self.monitors.append(Monitor(server))
        return server

    def stop(self) -> None:
        for monitor in self.monitors:
            monitor.close()
        for server in self.servers:
            server.stop()
            self.log_tails[server.name] = server.log.read_text(errors="replace")[-4000:]

    def upload(
        self, name: str, encoded: payload.Encoded, *, ceiling: bool = False, clients: int = 1
    ) -> dict[str, Any]:
        total = sum(n for _, n in self.raw.spans[: len(encoded.spans)])
        server, monitor = (
            (self.sink, self.sink_mon) if ceiling else (self.service, self.service_mon)
        )
        self.settle(encoded)
        with monitor.measure() as usage:
            run = client.upload(
                server.port, None if ceiling else self.token, encoded,
                total_bytes=total, clients=clients,
            )  # fmt: skip
        row = report.upload_row(name, total * clients, run, usage)
        row["finalize_p50_s"] = round(report.percentile(run.finalize, 0.5), 3)
        row["finalize_p99_s"] = round(report.percentile(run.finalize, 0.99), 3)
        print(f"  {name}: {row['mib_s']} MiB/s, p99 {row['p99_ms']} ms, "
              f"peak RSS {row['peak_rss_mib']} MiB, errors {row['errors']}")  # fmt: skip
        return row

    def run(self) -> dict[str, Any]:
        plan = self.plan
        big, small, per_client = (_segments(m) for m in (plan.big_mib, plan.small_mib,
                                                         plan.client_mib))  # fmt: skip
        self.machine = report.machine()  # load average before we add any
        print(f"preparing {plan.big_mib} MiB of media (mp4 head + random) in {self.root}")
        media = payload.make_media(
            self.root, max(plan.big_mib, plan.small_mib, plan.client_mib) * MiB
        )
        self.raw = payload.encode(media, SEGMENT, "raw")
        b64 = payload.encode(media, SEGMENT, "base64")
        pct = payload.encode(media, SEGMENT, "base64-percent")
        print("starting servers")
        self.start()
        print("warming up")
        self.upload("warm-up ceiling", self.raw.first(2), ceiling=True)
        self.upload("warm-up service", self.raw.first(2))
        uploads: dict[str, Any] = {}
        uploads["multipart_small"] = self.upload("multipart small", self.raw.first(small))
        ceilings, services = [], []
        for _ in range(plan.repeat):  # interleaved, so drift hits both alike
            ceilings.append(self.upload("ceiling 1 client", self.raw.first(big), ceiling=True))
            services.append(self.upload("multipart 1 client", self.raw.first(big)))
        uploads["multipart"] = report.median_row(services)
        uploads["base64_multipart"] = self.upload("base64 multipart", b64.first(big))
        uploads["base64_urlencoded"] = self.upload("base64 urlencoded", pct.first(big))
        ceiling = {"single": report.median_row(ceilings)}
        ceilings, services = [], []
        for _ in range(plan.repeat):  # interleaved too: the disk's state drifts between runs
            ceilings.append(self.upload("ceiling N clients", self.raw.first(per_client),
                                        ceiling=True, clients=plan.clients))  # fmt: skip
            services.append(self.upload("multipart N clients", self.raw.first(per_client),
                                        clients=plan.clients))  # fmt: skip
        ceiling["concurrent"] = report.median_row(ceilings)
        uploads["concurrent"] = report.median_row(services)
        result: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {**self.machine, "loadavg_1m_at_end": round(os.getloadavg()[0], 2)},
            "settings": {
                **plan.as_dict(),
                "segment_mib": SEGMENT // MiB,
                "malloc_tuned": self.args.malloc_tuned,
                "database": "custom" if self.args.database_url else "sqlite",
                "upload_client": "python sendfile (bench.client)",
                "page_cache_dropped_before_each_upload_phase": self.caches_dropped,
            },
            "ceiling": ceiling,
            "uploads": uploads,
            "rps": self.small_requests(),
        }
        result["targets"] = report.targets(result)
        return result

    def small_requests(self) -> dict[str, Any]:
        plan = self.plan
        conn = client.Connection(self.service.port, self.token)
        try:
            media_id = client.init(conn, 1024)
        finally:
            conn.close()
        init_body = urlencode(
            {
                "command": "INIT",
                "total_bytes": "1048576",
                "media_type": "video/mp4",
                "media_category": "amplify_video",
            }
        )
        status = f"/1.1/media/upload.json?command=STATUS&media_id={media_id}"
        cases = {
            "raw_ping": (self.sink, rps.Target("GET", "/")),
            "bare_get": (self.bare, rps.Target("GET", status)),
            "bare_post": (self.bare, rps.Target("POST", client.PATH, body=init_body.encode(),
                                                expect=202)),
            "init": (self.service, rps.Target("POST", client.PATH, self.token,
                                              init_body.encode(), expect=202)),
            "status": (self.service, rps.Target("GET", status, self.token)),
        }  # fmt: skip
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
        for _ in range(plan.repeat):  # rounds of every case, so drift hits all alike
            for name, (server, target) in cases.items():
                row = rps.measure(
                    server.port, target, connections=plan.connections, seconds=plan.rps_seconds
                )
                rounds[name].append(row)
                print(f"  {name}: {row['rps']} req/s ({row['client']}), "
                      f"errors {row['errors']}")  # fmt: skip
        return {name: report.median_rps(rows) for name, rows in rounds.items()}


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["analytics"]:  # python -m bench.run analytics ...: bench/analytics.py
        from bench import analytics

        return analytics.main(argv[1:])
    if argv[:1] == ["library"]:  # python -m bench.run library ...: bench/library.py
        from bench import library

        return library.main(argv[1:])
    args, plan = parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, _terminate)
    root = Path(tempfile.mkdtemp(prefix="mediastudio-bench-", dir=args.tmp_dir))
    bench = Bench(plan, root, args)
    try:
        result = bench.run()
    finally:
        bench.stop()
        if args.keep_tmp:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    result["server_log_tails"] = bench.log_tails
    print()
    print(report.table(result))
    path = report.write(result, args.output)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
