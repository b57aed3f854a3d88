"""Settings, read from ``MEDIASTUDIO_*`` environment variables (``__`` nests)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.uploads import limits

__all__ = [
    "HttpSettings",
    "LimitSettings",
    "OAuthSettings",
    "ProcessingSettings",
    "Settings",
    "StorageSettings",
    "WorkerSettings",
    "get_settings",
]


class LimitSettings(BaseModel):
    """Per-category byte limits and expiry times; defaults come from ``upload.limits``."""

    image_bytes: int = limits.IMAGE_BYTES
    gif_bytes: int = limits.GIF_BYTES
    video_bytes: int = limits.VIDEO_BYTES
    amplify_video_bytes: int = limits.AMPLIFY_VIDEO_BYTES
    subtitles_bytes: int = limits.SUBTITLES_BYTES
    segment_bytes: int = limits.SEGMENT_BYTES
    upload_expiry_secs: int = 86_400
    media_expiry_secs: int = 86_400
    max_image_pixels: int = 100_000_000


class WorkerSettings(BaseModel):
    in_process: bool = True
    poll_interval_secs: float = 1.0
    lease_secs: int = 60
    max_attempts: int = 3
    sweep_interval_secs: float = 60.0


class ProcessingSettings(BaseModel):
    """How hard processing may work: ffmpeg threads and preset, and how many heavy
    jobs (transcodes, photo resizes) one process runs at once."""

    ffmpeg_threads: int = Field(default=2, ge=1, le=16)
    ffmpeg_preset: str = "veryfast"
    max_transcodes: int = Field(default=2, ge=1)
    max_image_jobs: int = Field(default=4, ge=1)


class OAuthSettings(BaseModel):
    """OAuth 1.0a verification. ``trusted_proxies`` (addresses or CIDRs) are the peers
    whose ``X-Forwarded-Proto``/``X-Forwarded-Host`` name the URL the client signed;
    from anyone else those headers are ignored."""

    timestamp_window_secs: int = Field(default=300, ge=1)
    trusted_proxies: list[str] = []
    max_signed_body_bytes: int = Field(default=16 * 1024 * 1024, ge=0)


class HttpSettings(BaseModel):
    """Connection and upload bounds of a served process (``MEDIASTUDIO_HTTP__*``).

    ``header_timeout_secs``: from a new connection, or from the end of the previous
    response on a kept-alive one, to the end of the request headers (408 and close;
    enforced by app/infra/http_protocol.py, so only under ``mediastudio serve``,
    ``app.serve.uvicorn_config`` or uvicorn run with ``--http`` naming that class).
    ``body_idle_timeout_secs``: the longest wait for the next chunk of a request body
    (408 in the surface's error JSON; app/http/timeouts.py, in every app);
    ``body_min_rate``: once a body took that long, the bytes/s it must average (0: off).
    ``keep_alive_secs``: an idle kept-alive connection is closed after it (uvicorn's
    ``timeout_keep_alive``). ``max_header_bytes``: request line and headers (431).
    ``uploads_per_user``: requests carrying media bytes in flight per user and process
    (429 code 88). ``upload_bytes_in_flight``: their declared bytes per process (503 code
    130 with Retry-After). Over either, a request waits ``upload_wait_secs`` for a place
    before it is refused. ``max_connections``: connections plus requests in flight per
    process (uvicorn's ``limit_concurrency``; off by default)."""

    header_timeout_secs: float = Field(default=10.0, gt=0)
    body_idle_timeout_secs: float = Field(default=30.0, gt=0)
    body_min_rate: int = Field(default=500, ge=0)
    keep_alive_secs: int = Field(default=5, ge=1)
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    uploads_per_user: int = Field(default=8, ge=1)
    upload_bytes_in_flight: int = Field(default=256 * 1024 * 1024, ge=1)
    upload_wait_secs: float = Field(default=1.0, ge=0)
    # uvicorn's limit_concurrency: over it, new requests get uvicorn's plain 503.
    max_connections: int | None = Field(default=None, ge=1)


class StorageSettings(BaseModel):
    """A full disk and the files a crash leaves. ``/readyz`` answers 503 while the data
    folder's volume has less than ``min_free_bytes`` or ``min_free_percent`` free; a write
    that finds the disk full answers 503 with ``Retry-After: retry_after_secs``. Temporary
    files untouched for ``temp_max_age_secs`` are swept at start-up and then every
    ``temp_sweep_interval_secs``; the body of a request refused by a full disk is read
    and dropped up to ``drain_max_bytes`` (beyond that the connection is closed)."""

    min_free_bytes: int = Field(default=256 * 1024 * 1024, ge=0)
    min_free_percent: float = Field(default=1.0, ge=0, le=100)
    retry_after_secs: int = Field(default=60, ge=1)
    temp_max_age_secs: float = Field(default=3600.0, gt=0)
    temp_sweep_interval_secs: float = Field(default=3600.0, gt=0)
    drain_max_bytes: int = Field(default=16 * 1024 * 1024, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDIASTUDIO_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("var")
    database_url: str = ""
    # Connection pool of each process for a server database (not SQLite): INIT/STATUS at
    # 64 concurrent clients waited on the default 5 + 10
    # (docs/perf/statements-and-group-commit.md).
    database_pool_size: int = Field(default=16, ge=1)
    database_max_overflow: int = Field(default=16, ge=0)
    secret_key: SecretStr = SecretStr("dev-only-secret")
    # The URL clients reach this service at ("https://media.example.com"), used for every
    # link it hands out (media URLs, /i/status links, Location); unset: the request's
    # own scheme and host (app.http.urls).
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
    node_id: int | None = Field(default=None, ge=0, le=1023)
    # glibc malloc thresholds for upload buffers, applied by app.serve
    # (docs/perf/malloc-thresholds.md).
    tune_malloc: bool = True
    # freeze start-up objects out of the cyclic GC, applied by app.serve
    # (docs/perf/gc-freeze.md).
    tune_gc: bool = True
    migrate_on_start: bool = Field(
        default=True,
        description=(
            "`mediastudio serve` applies pending migrations before it serves; false: it "
            "refuses an unmigrated database instead (exit 2). A newer schema is always "
            "refused, never downgraded."
        ),
    )
    limits: LimitSettings = LimitSettings()
    worker: WorkerSettings = WorkerSettings()
    # Per endpoint: {"user": [limit, window_secs], "app": [limit, window_secs]}; the
    # defaults (spec §9) live at each route, v1.1 upload's in app.http.ratelimit.UPLOAD_V11.
    rate_limits: dict[str, dict[str, tuple[int, int]]] = {}
    processing: ProcessingSettings = ProcessingSettings()
    oauth: OAuthSettings = OAuthSettings()
    http: HttpSettings = HttpSettings()
    storage: StorageSettings = StorageSettings()

    @model_validator(mode="after")
    def _defaults_and_production_guard(self) -> Self:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'mediastudio.db'}"
        if (
            self.environment == "production"
            and self.secret_key.get_secret_value() == "dev-only-secret"
        ):
            raise ValueError("set MEDIASTUDIO_SECRET_KEY in production")
        return self

    @property
    def media_root(self) -> Path:
        return self.data_dir / "media"


@lru_cache
def get_settings() -> Settings:
    return Settings()
