"""Settings, read from ``MEDIASTUDIO_*`` environment variables (``__`` nests)."""

from __future__ import annotations

import ipaddress
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.uploads import limits

__all__ = [
    "ENV_FILE_VARIABLE",
    "AnalyticsSettings",
    "HttpSettings",
    "LimitSettings",
    "MetricsSettings",
    "OAuthSettings",
    "ProcessingSettings",
    "Settings",
    "StorageSettings",
    "StudioSettings",
    "WorkerSettings",
    "get_settings",
]


class LimitSettings(BaseModel):
    """Per-category byte limits and expiry times; defaults come from ``upload.limits``."""

    image_bytes: int = Field(default=limits.IMAGE_BYTES, description="Largest photo (bytes).")
    gif_bytes: int = Field(default=limits.GIF_BYTES, description="Largest animated GIF (bytes).")
    video_bytes: int = Field(
        default=limits.VIDEO_BYTES, description="Largest video without `amplify_video` (bytes)."
    )
    amplify_video_bytes: int = Field(
        default=limits.AMPLIFY_VIDEO_BYTES,
        description="Largest video with `media_category=amplify_video` (bytes).",
    )
    live_video_bytes: int = Field(
        default=limits.LIVE_VIDEO_BYTES,
        description="Largest broadcast recording that becomes library media (bytes; the "
        "upload protocol's 999 segments cap it below 5 GiB).",
    )
    subtitles_bytes: int = Field(
        default=limits.SUBTITLES_BYTES, description="Largest subtitle file (bytes)."
    )
    segment_bytes: int = Field(
        default=limits.SEGMENT_BYTES, description="Largest APPEND segment (bytes)."
    )
    upload_expiry_secs: int = Field(
        default=86_400, description="An upload not finalized within this is expired by the sweeper."
    )
    media_expiry_secs: int = Field(
        default=86_400,
        description="Finished media not attached to a post or DM within this is expired.",
    )
    max_image_pixels: int = Field(
        default=100_000_000,
        description="Largest decoded image (width x height); bigger ones are refused (400).",
    )


class WorkerSettings(BaseModel):
    in_process: bool = Field(
        default=True,
        description="`mediastudio serve` runs a job worker and the sweeper in each server process.",
    )
    poll_interval_secs: float = Field(
        default=1.0, description="How long an idle worker waits before looking for jobs again."
    )
    lease_secs: int = Field(
        default=60,
        description="A claimed job, a FINALIZE or an APPEND reservation is taken over after this.",
    )
    max_attempts: int = Field(
        default=3, description="Tries of a job that fails on our side before it ends `failed`."
    )
    sweep_interval_secs: float = Field(
        default=60.0, description="How often the sweeper expires uploads and media."
    )


class ProcessingSettings(BaseModel):
    """How hard processing may work: ffmpeg threads and preset, and how many heavy
    jobs (transcodes, photo resizes) one process runs at once."""

    ffmpeg_threads: int = Field(default=2, ge=1, le=16, description="Threads of each ffmpeg run.")
    ffmpeg_preset: str = Field(default="veryfast", description="x264 preset of the transcodes.")
    max_transcodes: int = Field(
        default=2, ge=1, description="Video/GIF transcodes one process runs at once."
    )
    max_image_jobs: int = Field(
        default=4, ge=1, description="Photo decodes and resizes one process runs at once."
    )


class OAuthSettings(BaseModel):
    """OAuth 1.0a verification."""

    timestamp_window_secs: int = Field(
        default=300, ge=1, description="How far `oauth_timestamp` may be from the server's clock."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Peers (addresses or CIDRs, a comma list or a JSON list) whose "
        "`X-Forwarded-Proto`/`X-Forwarded-Host` name the URL the client signed; from others "
        "they are ignored.",
    )
    max_signed_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=0,
        description="Largest urlencoded body read for an OAuth 1.0a signature (over it 413).",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: Any) -> Any:
        return parse_networks(value)


class HttpSettings(BaseModel):
    """Connection and upload bounds of a served process (``MEDIASTUDIO_HTTP__*``). The
    header timeout and header cap are enforced by app/infra/http_protocol.py, so only
    under ``mediastudio serve``, ``app.serve.uvicorn_config`` or uvicorn run with
    ``--http`` naming that class; the body timeouts by app/http/timeouts.py, in every app."""

    header_timeout_secs: float = Field(
        default=10.0,
        gt=0,
        description="From connect (or the previous response) to the end of the headers; "
        "over it 408 and close.",
    )
    body_idle_timeout_secs: float = Field(
        default=30.0, gt=0, description="Longest wait for the next chunk of a request body (408)."
    )
    body_min_rate: int = Field(
        default=500,
        ge=0,
        description="Bytes/s a body must average once it took the idle timeout (0: off).",
    )
    keep_alive_secs: int = Field(
        default=5, ge=1, description="An idle kept-alive connection is closed after this."
    )
    max_header_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Request line and headers; over it 431."
    )
    uploads_per_user: int = Field(
        default=8,
        ge=1,
        description="Requests carrying media bytes in flight per user and process (429 code 88).",
    )
    upload_bytes_in_flight: int = Field(
        default=256 * 1024 * 1024,
        ge=1,
        description="Their declared bytes per process (503 code 130 with Retry-After).",
    )
    upload_wait_secs: float = Field(
        default=1.0, ge=0, description="How long a request over either bound waits for a place."
    )
    max_connections: int | None = Field(
        default=None,
        ge=1,
        description="Connections plus requests in flight per process (uvicorn's "
        "`limit_concurrency`, a plain 503 over it); unset: no limit.",
    )


class MetricsSettings(BaseModel):
    """The Prometheus endpoint, ``GET /metrics`` (app/http/public/metrics.py)."""

    enabled: bool = Field(
        default=True, description="Serve `GET /metrics` and count requests; false: 404."
    )
    token: str | None = Field(
        default=None,
        description="When set, `/metrics` requires `Authorization: Bearer <token>` (else 401).",
    )


class StorageSettings(BaseModel):
    """A full disk and the files a crash leaves."""

    min_free_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=0,
        description="`/readyz` answers 503 while the data volume has less free.",
    )
    min_free_percent: float = Field(
        default=1.0, ge=0, le=100, description="The same, as a percentage of the volume."
    )
    retry_after_secs: int = Field(
        default=60, ge=1, description="`Retry-After` of the 503 a full disk answers."
    )
    temp_max_age_secs: float = Field(
        default=3600.0,
        gt=0,
        description="Temporary files untouched this long are left by a dead process: swept.",
    )
    temp_sweep_interval_secs: float = Field(
        default=3600.0, gt=0, description="How often temporary files are swept (and at start-up)."
    )
    drain_max_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=0,
        description="The body of a request refused by a full disk is read and dropped up to "
        "this; beyond it the connection is closed.",
    )


class StudioSettings(BaseModel):
    """The studio (``MEDIASTUDIO_STUDIO__*``): drafts, scheduled posts, previews and the
    scheduler (app/studio/)."""

    scheduled_per_window: int = Field(
        default=30,
        ge=1,
        description="Most SCHEDULED posts of one account in any window of "
        "`scheduled_window_secs` around a new post's `scheduled_at` (else 400 "
        "SCHEDULED_TWEET_LIMIT_EXCEEDED).",
    )
    scheduled_window_secs: int = Field(
        default=900, ge=1, description="The length of that window (seconds)."
    )
    preview_ttl_secs: int = Field(
        default=86_400,
        ge=1,
        description="How long a `tweet_previews` iframe URL keeps rendering its post.",
    )
    scheduler_poll_secs: float = Field(
        default=0.5,
        gt=0,
        description="Longest sleep of an idle scheduler: it sleeps until the earliest due "
        "scheduled post, at most this (a post created in the same process wakes it at once).",
    )
    scheduler_batch: int = Field(
        default=50,
        ge=1,
        description="Due scheduled posts one scheduler transaction publishes at most (on "
        "SQLite it holds the write lock meanwhile).",
    )
    scheduler_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Tries of a due scheduled post that fails on our side (a database "
        "error) before it ends `FAILED`; a posting-rule refusal fails it at once.",
    )


class AnalyticsSettings(BaseModel):
    """Playback analytics (``MEDIASTUDIO_ANALYTICS__*``): event ingest, the rollup, pruning
    and the Ads API's asynchronous stats jobs (app/analytics/)."""

    session_events_per_minute: int = Field(
        default=120,
        ge=1,
        description="Playback events one `session_id` may send per minute (more: 429).",
    )
    address_events_per_minute: int = Field(
        default=20_000,
        ge=1,
        description="Playback events one client address may send per minute (more: 429).",
    )
    availability_cache_secs: float = Field(
        default=5.0,
        ge=0,
        description="How long an API process remembers whether a media accepts playback "
        "events (publicly delivered: processed, posted, not removed).",
    )
    late_secs: int = Field(
        default=86_400,
        ge=0,
        description="How late a playback event may arrive (its `ts` this far in the past at "
        "most) and still be counted, in the hour it happened.",
    )
    future_skew_secs: int = Field(
        default=300,
        ge=0,
        description="How far in the future a playback event's `ts` may be (client clocks).",
    )
    rollup_poll_secs: float = Field(
        default=1.0,
        gt=0,
        description="Longest sleep of an idle rollup between looks for new playback events.",
    )
    rollup_batch: int = Field(
        default=5_000,
        ge=1,
        description="Raw playback events one rollup transaction counts at most.",
    )
    raw_retention_hours: int = Field(
        default=168,
        ge=48,
        description="Raw playback events (and idle sessions) older than this are pruned once "
        "rolled up (the rollups keep the numbers); at least 48 so duplicates of late events "
        "are still recognised.",
    )
    jobs_concurrent_limit: int = Field(
        default=100,
        ge=1,
        description="Asynchronous stats jobs one ad account may have PROCESSING at once "
        "(`X-Concurrent-Job-Limit`; more: 400 TOO_MANY_JOBS).",
    )
    job_file_ttl_secs: int = Field(
        default=172_800,
        ge=60,
        description="How long a finished stats job's gzip file stays downloadable (`expires_at`).",
    )


class LiveSettings(BaseModel):
    """The Producer's live ingest (``MEDIASTUDIO_LIVE__*``): nginx with the RTMP module,
    started by `mediastudio serve` (or alone by `mediastudio live`), and the broadcast
    timers (app/live/)."""

    enabled: bool = Field(
        default=True,
        description="Start the RTMP ingest with `mediastudio serve` when nginx and its RTMP "
        "module are installed (false: the API only; sources and broadcasts still work).",
    )
    bind: str = Field(default="127.0.0.1", description="Address the RTMP and RTMPS ports bind.")
    rtmp_port: int = Field(default=1935, ge=1, le=65535, description="RTMP ingest port.")
    rtmps_port: int = Field(
        default=1936,
        ge=1,
        le=65535,
        description="RTMPS ingest port (TLS by nginx's stream module): only with "
        "`tls_certfile` and `tls_keyfile`.",
    )
    relay_port: int = Field(
        default=1937,
        ge=1,
        le=65535,
        description="Loopback-only RTMP port of the internal relay that writes the HLS "
        "preview (never exposed).",
    )
    control_port: int = Field(
        default=8937,
        ge=1,
        le=65535,
        description="Loopback-only HTTP port of nginx's RTMP statistics and control "
        "(the service reads stream attributes and drops publishers there).",
    )
    public_host: str | None = Field(
        default=None,
        description="Host name in the `rtmp_url`/`rtmps_url` handed out; unset: the host "
        "of the request (or `public_base_url`).",
    )
    tls_certfile: Path | None = Field(default=None, description="PEM certificate for RTMPS.")
    tls_keyfile: Path | None = Field(default=None, description="PEM private key for RTMPS.")
    hook_url: str | None = Field(
        default=None,
        description="Base URL nginx calls for `on_publish`/`on_publish_done`/"
        "`on_record_done`; unset: `http://127.0.0.1:PORT`.",
    )
    nginx_binary: str = Field(default="nginx", description="The nginx executable.")
    modules_dir: Path = Field(
        default=Path("/usr/lib/nginx/modules"),
        description="Where `ngx_rtmp_module.so` and `ngx_stream_module.so` are.",
    )
    low_latency_fragment_secs: float = Field(
        default=1.0, gt=0, description="HLS fragment (and playlist step) of low-latency mode."
    )
    high_latency_fragment_secs: float = Field(
        default=4.0, gt=0, description="HLS fragment of high-latency mode (4 s or more)."
    )
    playlist_fragments: int = Field(default=4, ge=2, description="Fragments a live playlist lists.")
    reconnect_window_secs: float = Field(
        default=60.0,
        ge=0,
        description="How long a RUNNING broadcast waits for its encoder to reconnect before "
        "it ends (ENDED).",
    )
    publish_timeout_secs: float = Field(
        default=3600.0,
        gt=0,
        description="A broadcast not published this long after its creation is TIMED_OUT.",
    )
    monitor_interval_secs: float = Field(
        default=1.0, gt=0, description="How often the live monitor looks at timers and ingest."
    )
    probe_interval_secs: float = Field(
        default=10.0,
        gt=0,
        description="How often an active stream's attributes (codec, bitrate, size, frame "
        "rate, keyframe interval, audio) are measured again.",
    )
    viewer_window_secs: float = Field(
        default=30.0,
        gt=0,
        description="A viewer counts in `total_watching` this long after its last playlist "
        "request.",
    )
    default_region: str = Field(default="us-east-1", description="What `GET /2/region` recommends.")
    srt_ports: str | None = Field(
        default=None,
        pattern=r"^[0-9]{1,5}-[0-9]{1,5}$",
        description="`FIRST-LAST`: SRT ingest on, each rtmp source listening on a port of "
        "this range (an ffmpeg SRT listener relaying into the RTMP ingest; the passphrase is "
        "the stream key); unset: SRT off.",
    )


class Settings(BaseSettings):
    """Every setting, from ``MEDIASTUDIO_*`` environment variables or a ``.env`` file in
    the working directory (the environment wins). README.md's settings table and
    ``.env.example`` are generated from these fields (``make docs``, app/settings_doc.py)."""

    model_config = SettingsConfigDict(
        env_prefix="MEDIASTUDIO_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description="A label for the deployment; no behaviour depends on it today.",
    )
    host: str = Field(default="127.0.0.1", description="Address `mediastudio serve` binds.")
    port: int = Field(default=8000, description="TCP port of `mediastudio serve`.")
    data_dir: Path = Field(
        default=Path("var"),
        description="Data folder: media under `DATA_DIR/media`, the default SQLite database.",
    )
    database_url: str = Field(
        default="",
        description="`sqlite+aiosqlite:///...` or `postgresql+asyncpg://...` (`sqlite://`, "
        "`postgresql://` and `postgres://` get the async driver); "
        "empty: `sqlite+aiosqlite:///DATA_DIR/mediastudio.db`.",
    )
    # Connection pool of each process for a server database (not SQLite): INIT/STATUS at
    # 64 concurrent clients waited on the default 5 + 10
    # (docs/perf/statements-and-group-commit.md).
    database_pool_size: int = Field(
        default=16, ge=1, description="Pooled connections per process (PostgreSQL)."
    )
    database_max_overflow: int = Field(
        default=16, ge=0, description="Connections beyond the pool per process (PostgreSQL)."
    )
    public_base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="The URL clients reach this service at (`https://media.example.com`), "
        "the base of every link handed out; unset: the request's own scheme and host.",
    )
    node_id: int | None = Field(
        default=None,
        ge=0,
        le=1023,
        description="Snowflake node id, 0-1023, unique per process for guaranteed-unique "
        "ids; unset: random per process. The N processes of `serve --workers N` or `worker "
        "--processes N` take NODE_ID .. NODE_ID+N-1 (unset: a random base).",
    )
    node_slots: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="Set by `serve --workers N` / `worker --processes N` for their processes: "
        "each takes the lowest node of NODE_ID .. NODE_ID+N-1 no live sibling holds.",
    )
    bearer_cache_secs: float = Field(
        default=60.0,
        ge=0,
        description="How long a process remembers a valid bearer token: a revoked or rotated "
        "token keeps working this long on servers that saw it (0: never cached).",
    )
    tune_malloc: bool = Field(
        default=True,
        description="glibc malloc thresholds for upload buffers, applied by `mediastudio "
        "serve` / `app.serve` (docs/perf/malloc-thresholds.md).",
    )
    tune_gc: bool = Field(
        default=True,
        description="Freeze start-up objects out of the cyclic GC, applied by `mediastudio "
        "serve` / `app.serve` (docs/perf/gc-freeze.md).",
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="Log lines on stderr: one JSON object per line, or readable key=value text.",
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        default="info",
        description="Lowest level logged; `warning` drops the per-request access lines.",
    )
    migrate_on_start: bool = Field(
        default=True,
        description=(
            "`mediastudio serve` applies pending migrations before it serves; false: it "
            "refuses an unmigrated database instead (exit 2). A newer schema is always "
            "refused, never downgraded."
        ),
    )
    docs_enabled: bool = Field(
        default=True,
        description="Serve Swagger UI at `/docs` and ReDoc at `/redoc` (local assets, "
        "no CDN); `/openapi.json` is served either way.",
    )
    limits: LimitSettings = LimitSettings()
    worker: WorkerSettings = WorkerSettings()
    rate_limits: dict[str, dict[str, tuple[int, int]]] = Field(
        default={},
        description='JSON, per endpoint name: `{"media/upload:INIT": {"user": [limit, secs], '
        '"app": [limit, secs]}}`; unnamed endpoints keep their defaults (README "Rate limits").',
    )
    processing: ProcessingSettings = ProcessingSettings()
    oauth: OAuthSettings = OAuthSettings()
    http: HttpSettings = HttpSettings()
    storage: StorageSettings = StorageSettings()
    metrics: MetricsSettings = MetricsSettings()
    studio: StudioSettings = StudioSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    live: LiveSettings = LiveSettings()

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url", mode="after")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)

    @model_validator(mode="after")
    def _default_database(self) -> Self:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'mediastudio.db'}"
        return self

    @property
    def media_root(self) -> Path:
        return self.data_dir / "media"


def parse_networks(value: Any) -> Any:
    """A comma list or a JSON list of addresses/CIDRs, each checked; other types are left
    to pydantic (which refuses them)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = json.loads(text)
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, list):
        for entry in value:
            try:
                ipaddress.ip_network(str(entry).strip(), strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        return [str(entry).strip() for entry in value]
    return value


# The async driver of each database the service supports; a URL without one gets it.
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_ALIASES = {"postgres": "postgresql"}


def normalise_database_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` become ``postgresql+asyncpg://``,
    ``sqlite://`` becomes ``sqlite+aiosqlite://``; another driver or database is refused."""
    if not url:
        return url
    scheme, sep, rest = url.partition("://")
    if not sep or not rest:
        raise ValueError("not a database URL (expected postgresql://... or sqlite:///path)")
    dialect, _, driver = scheme.lower().partition("+")
    dialect = _ALIASES.get(dialect, dialect)
    if dialect not in _DRIVERS:
        raise ValueError(f"unsupported database {dialect!r} (use postgresql or sqlite)")
    wanted = _DRIVERS[dialect]
    if driver and f"{dialect}+{driver}" != wanted:
        raise ValueError(f"unsupported driver {driver!r} for {dialect} (use {wanted})")
    return f"{wanted}://{rest}"


ENV_FILE_VARIABLE = "MEDIASTUDIO_ENV_FILE"


@lru_cache
def get_settings() -> Settings:
    """The settings of this process: the environment, then the file ``MEDIASTUDIO_ENV_FILE``
    names (default ``.env`` in the working directory; empty: no file)."""
    env_file = os.environ.get(ENV_FILE_VARIABLE, ".env") or None
    return Settings(_env_file=env_file)
