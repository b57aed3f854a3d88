"""Process-level tuning applied at start-up (by the served app, app/serve.py, and by the
bench's ceiling apps alike, so that ratios compare like with like). Both change the whole
process, so ``create_app`` never calls them."""

from __future__ import annotations

import ctypes
import gc

__all__ = ["tune_gc", "tune_malloc"]

_gc_tuned = False


def tune_gc() -> None:
    """Exempt what start-up built from the cyclic garbage collector (``gc.freeze``).

    A started service holds ~140,000 long-lived objects (ORM metadata, pydantic and
    FastAPI models, compiled statements) that every full collection traverses again:
    measured under INIT load, one full collection took ~65 ms (the p99 latency) and the
    collector ~10% of the CPU (docs/perf/gc-freeze.md). Frozen objects are still freed by
    reference counting; only cycles among them would stay. Once per process, at the end of
    start-up, by the served app (app/serve.py), never by ``create_app``.
    """
    global _gc_tuned
    if _gc_tuned:
        return
    _gc_tuned = True
    gc.collect()
    gc.freeze()


def tune_malloc() -> None:
    """Keep request-body buffers in glibc's heap instead of an mmap/munmap per buffer.

    Receiving an upload allocates and frees a large buffer per read; with glibc's
    defaults each one is a fresh mapping and a burst of page faults, which costs more CPU
    than the write itself (docs/perf/malloc-thresholds.md). Same effect as starting the
    server with ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_``; a no-op off glibc.
    Applied by the served app (app/serve.py) before start-up.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    for threshold in (256 * 1024 * 1024, 32 * 1024 * 1024):  # glibc may cap the first
        if mallopt(m_mmap_threshold, threshold):
            break
    mallopt(m_trim_threshold, 256 * 1024 * 1024)
