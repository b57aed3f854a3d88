"""Turn measured phases into rows, target verdicts, a printed table and a JSON file."""

from __future__ import annotations

import json
import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.client import Run
from bench.servers import MiB, Usage


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def upload_row(name: str, media_bytes: int, run: Run, usage: Usage) -> dict[str, Any]:
    """One upload phase: throughput over the APPENDs, latency per APPEND, RSS, CPU."""
    return {
        "name": name,
        "mib": round(media_bytes / MiB, 1),
        "requests": len(run.latencies),
        "errors": len(run.errors),
        "error_samples": run.errors[:3],
        "mib_s": round(media_bytes / MiB / run.wall, 1) if run.wall else 0.0,
        "p50_ms": round(percentile(run.latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(run.latencies, 0.99) * 1000, 2),
        "finalize_s": [round(t, 3) for t in run.finalize],
        **usage.as_dict(),
    }


def _median(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The row with the median ``key``, with every row's value as ``runs_<key>`` and the
    errors of all rows."""
    ordered = sorted(rows, key=lambda r: float(r[key]))
    row = dict(ordered[len(ordered) // 2])
    row[f"runs_{key}"] = [r[key] for r in rows]
    row["errors"] = sum(r["errors"] for r in rows)
    return row


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The repeat with the median throughput, plus every repeat's MiB/s."""
    row = _median(rows, "mib_s")
    row["peak_rss_mib"] = max(r["peak_rss_mib"] for r in rows)
    finals = [t for r in rows for t in r["finalize_s"]]
    row["finalize_s"] = finals
    row["finalize_median_s"] = round(statistics.median(finals), 3) if finals else None
    return row


def median_rps(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The req/s round with the median rate, plus every round's rate."""
    return _median(rows, "rps")


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        memory = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover
        memory = 0.0
    import uvicorn

    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gib": memory,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "uvicorn": uvicorn.__version__,
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
    }


def _ratio(value: float, ceiling: float) -> float:
    return round(value / ceiling, 3) if ceiling else 0.0


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    up, ceil, rps = result["uploads"], result["ceiling"], result["rps"]
    single = ceil["single"]["mib_s"]
    big, small = up["multipart"], up["multipart_small"]
    conc = up["concurrent"]
    checks: list[tuple[str, float, str, float, bool]] = [
        ("multipart APPEND, 1 client / ceiling", _ratio(big["mib_s"], single), ">=", 0.85, True),
        ("base64 multipart / ceiling", _ratio(up["base64_multipart"]["mib_s"], single), ">=",
         0.25, True),
        ("base64 urlencoded / ceiling", _ratio(up["base64_urlencoded"]["mib_s"], single), ">=",
         0.10, True),
        ("concurrent aggregate / concurrent ceiling",
         _ratio(conc["mib_s"], ceil["concurrent"]["mib_s"]), ">=", 0.80, conc["errors"] == 0),
        ("concurrent errors", conc["errors"], "==", 0, True),
        ("peak RSS during the big upload (MiB)", big["peak_rss_mib"], "<", 150, True),
        ("peak RSS big / small upload", _ratio(big["peak_rss_mib"], small["peak_rss_mib"]),
         "<=", 1.10, True),
        ("FINALIZE of the big upload (s)", big["finalize_median_s"] or 0.0, "<", 2.0, True),
        ("INIT / bare FastAPI POST (req/s)", _ratio(rps["init"]["rps"], rps["bare_post"]["rps"]),
         ">=", 0.5, True),
        ("STATUS / bare FastAPI GET (req/s)",
         _ratio(rps["status"]["rps"], rps["bare_get"]["rps"]), ">=", 0.5, True),
    ]  # fmt: skip
    out = []
    for name, value, op, threshold, also in checks:
        ok = {">=": value >= threshold, "<": value < threshold, "<=": value <= threshold,
              "==": value == threshold}[op]  # fmt: skip
        out.append(
            {"target": name, "value": value, "op": op, "threshold": threshold, "met": ok and also}
        )
    return out


def table(result: dict[str, Any]) -> str:
    ceil, up, rps = result["ceiling"], result["uploads"], result["rps"]
    single, conc = ceil["single"]["mib_s"], ceil["concurrent"]["mib_s"]
    lines = [
        f"{'phase':<44} {'MiB/s':>8} {'ratio':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'peak RSS':>9} {'srv CPU':>8} {'cli CPU':>8} {'err':>4}",
    ]

    def add(label: str, row: dict[str, Any], ceiling: float | None) -> None:
        ratio = f"{row['mib_s'] / ceiling:.2f}" if ceiling else "-"
        lines.append(
            f"{label:<44} {row['mib_s']:>8.1f} {ratio:>6} {row['p50_ms']:>8.1f} "
            f"{row['p99_ms']:>8.1f} {row['peak_rss_mib']:>8.1f}M {row['server_cpu_pct']:>7.0f}% "
            f"{row['client_cpu_pct']:>7.0f}% {row['errors']:>4}"
        )

    big, small, n = up["multipart"]["mib"], up["multipart_small"]["mib"], result["settings"]
    add(f"ceiling: raw ASGI os.write, 1 client, {big:g} MiB", ceil["single"], None)
    add(f"ceiling: raw ASGI, {n['clients']} clients x {n['client_mib']:g} MiB",
        ceil["concurrent"], None)  # fmt: skip
    add(f"APPEND multipart, 1 client, {big:g} MiB", up["multipart"], single)
    add(f"APPEND multipart, 1 client, {small:g} MiB", up["multipart_small"], single)
    add("APPEND base64 media_data, multipart", up["base64_multipart"], single)
    add("APPEND base64 media_data, urlencoded", up["base64_urlencoded"], single)
    add(f"APPEND multipart, {n['clients']} clients (aggregate)", up["concurrent"], conc)
    fin = up["multipart"]
    lines.append(
        f"FINALIZE {big:g} MiB: median {fin['finalize_median_s']} s "
        f"(runs: {', '.join(str(t) for t in fin['finalize_s'])}); "
        f"{n['clients']}-client FINALIZE p50/p99 "
        f"{up['concurrent']['finalize_p50_s']}/{up['concurrent']['finalize_p99_s']} s"
    )
    lines.append("")
    lines.append(f"{'small requests':<44} {'req/s':>8} {'ratio':>6} {'p50 ms':>8} {'p99 ms':>8} "
                 f"{'client':>9} {'cli CPU':>8} {'err':>4}")  # fmt: skip
    pairs = [("raw_ping", None), ("bare_get", None), ("bare_post", None),
             ("init", "bare_post"), ("status", "bare_get")]  # fmt: skip
    labels = {"raw_ping": "raw ASGI ping (client capacity)", "bare_get": "bare FastAPI GET",
              "bare_post": "bare FastAPI POST (urlencoded)", "init": "INIT (amplify_video)",
              "status": "STATUS"}  # fmt: skip
    for key, base in pairs:
        row = rps[key]
        ratio = f"{row['rps'] / rps[base]['rps']:.2f}" if base and rps[base]["rps"] else "-"
        cpu = "-" if row["client_cpu_pct"] is None else f"{row['client_cpu_pct']:.0f}%"
        lines.append(
            f"{labels[key]:<44} {row['rps']:>8.0f} {ratio:>6} {row['p50_ms']:>8.2f} "
            f"{row['p99_ms']:>8.2f} {row['client']:>9} {cpu:>8} {row['errors']:>4}"
        )
    lines.append("")
    lines += verdicts(result["targets"])
    return "\n".join(lines)


def verdicts(checks: list[dict[str, Any]]) -> list[str]:
    """``[PASS] target: value op threshold`` (or ``[MISS]``), one line per target."""
    return [
        f"[{'PASS' if c['met'] else 'MISS'}] {c['target']}: {c['value']} {c['op']} {c['threshold']}"
        for c in checks
    ]


def write(result: dict[str, Any], output: Path | None, *, stem: str = "bench") -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stem}-{'quick-' if result['settings']['quick'] else ''}{stamp}.json"
    if output is None:
        path = Path(__file__).resolve().parent / "results" / name
    elif output.suffix == ".json":
        path = output
    else:
        path = output / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
