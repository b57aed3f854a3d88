"""The service's Prometheus metrics (``mediastudio_*``): the process's counters and
histograms, fed by the code that does the work (app/http, app/uploads, app/processing,
app/jobs). The database gauges and the exposition are in app/infra/metrics_scrape.py.

In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set before prometheus_client's first
import: app/infra/metrics_process.py) each process writes these to its own files and
``/metrics`` sums them over all processes. None of them is a process gauge, so no
``multiprocess_mode`` is needed: the gauges are read from the database at scrape time.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = [
    "APPEND_SECONDS",
    "BYTES_INGESTED",
    "FINALIZE_SECONDS",
    "PROCESSING_FAILURES",
    "PROCESSING_SECONDS",
    "RATE_LIMIT_REFUSALS",
    "REQUESTS",
    "REQUEST_SECONDS",
    "SCHEDULER_ERRORS",
    "SCHEDULER_FAILED",
    "SCHEDULER_LAG_SECONDS",
    "SCHEDULER_PUBLISHED",
    "SCRAPE_ERRORS",
    "SWEEPER_BYTES",
    "SWEEPER_MEDIA",
    "SWEEPER_TEMP_FILES",
    "UPLOAD_GATE_REFUSALS",
]

# Upload steps: milliseconds (an APPEND of a small segment) to minutes (the FINALIZE of a
# 512 MB video); processing: up to ffmpeg's minutes.
_STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_PROCESSING_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

REQUESTS = Counter(
    "mediastudio_http_requests",
    "HTTP requests answered, by method, route template (unmatched: no route) and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "mediastudio_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
)
BYTES_INGESTED = Counter(
    "mediastudio_upload_bytes_ingested",
    "Media bytes stored, by command: append (a chunked upload's segments), simple.",
    ["command"],
)
APPEND_SECONDS = Histogram(
    "mediastudio_append_duration_seconds",
    "Duration of an APPEND (streaming a segment to storage and recording it).",
    buckets=_STEP_BUCKETS,
)
FINALIZE_SECONDS = Histogram(
    "mediastudio_finalize_duration_seconds",
    "Duration of a FINALIZE (assembling, verifying, then publishing or queueing the media).",
    buckets=_STEP_BUCKETS,
)
PROCESSING_SECONDS = Histogram(
    "mediastudio_processing_duration_seconds",
    "Duration of a media's processing run, by media kind (video, gif, photo) and outcome "
    "(succeeded, failed, retry).",
    ["kind", "outcome"],
    buckets=_PROCESSING_BUCKETS,
)
PROCESSING_FAILURES = Counter(
    "mediastudio_processing_failures",
    "Failed processing runs by category: InvalidMedia, UnsupportedMedia (permanent), "
    "InternalError, storage_full, unexpected (retried).",
    ["category"],
)
SWEEPER_BYTES = Counter(
    "mediastudio_sweeper_bytes_reclaimed",
    "Bytes of temporary files the sweeper removed.",
)
SWEEPER_MEDIA = Counter(
    "mediastudio_sweeper_media_removed",
    "Expired uploads and unused media the sweeper deleted.",
)
SWEEPER_TEMP_FILES = Counter(
    "mediastudio_sweeper_temp_files_removed",
    "Temporary files left by dead processes that the sweeper removed.",
)
RATE_LIMIT_REFUSALS = Counter(
    "mediastudio_rate_limit_refusals",
    "Requests refused with 429 code 88 by a rate-limit window, by endpoint.",
    ["endpoint"],
)
UPLOAD_GATE_REFUSALS = Counter(
    "mediastudio_upload_gate_refusals",
    "Uploads refused before their bytes were read, by reason: per_user (429 code 88, the "
    "user's uploads in flight), bytes (503 code 130, this process's upload bytes in flight).",
    ["reason"],
)
SCRAPE_ERRORS = Counter(
    "mediastudio_scrape_errors",
    "Scrapes whose database gauges could not be read (those gauges are missing from them).",
)
SCHEDULER_PUBLISHED = Counter(
    "mediastudio_scheduler_published",
    "Scheduled posts the scheduler published (app/studio/scheduler.py).",
)
SCHEDULER_FAILED = Counter(
    "mediastudio_scheduler_failed",
    "Scheduled posts set FAILED at go-live, by error: the posting rule's error class "
    "(DuplicateStatus, MediaUnavailable, ...), or internal (attempts ran out).",
    ["error"],
)
SCHEDULER_ERRORS = Counter(
    "mediastudio_scheduler_errors",
    "Scheduler passes that hit an unexpected error (retried with backoff).",
)
SCHEDULER_LAG_SECONDS = Histogram(
    "mediastudio_scheduler_lag_seconds",
    "From a scheduled post's scheduled_at to its publication (completed_at).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
