"""The Producer's wire JSON (producer-api.md §3.5, §3.6, §8): sources and broadcasts in
gen B's keys with gen C's beside them (``title`` and ``status``, ``region`` and
``rtmp_region``), all times as decimal strings of epoch milliseconds, counts as strings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from app.config import Settings
from app.live import compat, rules
from app.live.nginx import APP, rtmps_enabled
from app.live.views import BroadcastView, SourceView

__all__ = ["Links", "broadcast_json", "source_json", "video_access"]


def _ms(value: datetime | None) -> str | None:
    return None if value is None else str(int(value.timestamp() * 1000))


@dataclass(frozen=True, slots=True)
class Links:
    """Where things are: the service's base URL and the ingest host."""

    base: str
    settings: Settings

    @property
    def ingest_host(self) -> str:
        return self.settings.live.public_host or urlsplit(self.base).hostname or "127.0.0.1"

    def rtmp_url(self) -> str:
        return f"rtmp://{self.ingest_host}:{self.settings.live.rtmp_port}/{APP}"

    def rtmps_url(self) -> str | None:
        if not rtmps_enabled(self.settings.live):
            return None
        return f"rtmps://{self.ingest_host}:{self.settings.live.rtmps_port}/{APP}"

    def srt_url(self, port: int | None) -> str | None:
        return None if port is None else f"srt://{self.ingest_host}:{port}"

    def share_url(self, broadcast_id: str) -> str:
        return f"{self.base}/i/broadcasts/{broadcast_id}"

    def live_playlist(self, broadcast_id: str, token: str | None) -> str:
        url = f"{self.base}/live/{broadcast_id}/index.m3u8"
        return url if token is None else f"{url}?t={token}"


def source_json(view: SourceView, links: Links, *, with_key: bool) -> dict[str, Any]:
    rtmp = view.type == "rtmp"
    body: dict[str, Any] = {
        "id": view.id,
        "owner_id": str(view.user_id),
        "name": view.name,
        "type": view.type,
        "region": view.region,
        "rtmp_region": view.region,
        "rtmp_url": links.rtmp_url() if rtmp else None,
        "rtmps_url": links.rtmps_url() if rtmp else None,
        "srt_url": links.srt_url(view.srt_port) if rtmp else None,
        "external_hls_url": view.external_hls_url,
        "is_stream_active": view.is_stream_active,
        "is360": False,
        "recommended_configuration": dict(compat.RECOMMENDED),
        "created_at_ms": _ms(view.created_at),
        "creation_time": int(view.created_at.timestamp() * 1000),
        "updated_at_ms": _ms(view.updated_at),
    }
    if with_key and rtmp:
        body["stream_key"] = body["rtmp_stream_key"] = view.stream_key
    if view.broadcast_id is not None:
        body["broadcast_id"] = view.broadcast_id
    if view.stream_attributes is not None:
        body["stream_attributes"] = view.stream_attributes
        body["compatibility_info"] = view.compatibility_info or {"errors": [], "warnings": []}
    return body


def video_access(view: BroadcastView, links: Links) -> dict[str, Any]:
    """The Preview player's URL (with the broadcast's preview token: it plays before
    Publish Now) and, once the recording is processed, ``replay_url``."""
    access: dict[str, Any] = {}
    if view.state in ("NOT_STARTED", "RUNNING"):
        url = links.live_playlist(view.id, view.preview_token)
        access["hls_url"] = access["https_hls_url"] = url
        if view.is_low_latency:
            access["lhls_url"] = url
    replay = view.replay
    if replay is not None and replay.delivery_token and replay.hls_path:
        prefix = f"{links.base}/video/{replay.media_key}/{replay.delivery_token}"
        access["replay_url"] = f"{prefix}/{replay.hls_path}"
        if replay.mp4_path:
            access["replay_download_url"] = f"{prefix}/{replay.mp4_path}"
    return access


def broadcast_json(view: BroadcastView, links: Links) -> dict[str, Any]:
    replay = view.replay
    ready = replay is not None and replay.state == "succeeded" and bool(replay.hls_path)
    body: dict[str, Any] = {
        "id": view.id,
        "broadcast_id": view.id,
        "media_key": f"28_{view.media_number}",
        "media_id": str(view.media_number),
        "title": view.title,
        "status": view.title,
        "tags": list(view.tags),
        "source_id": view.source_id,
        "state": view.state,
        "region": view.region,
        "chat_option": view.chat_option,
        "no_hearts": view.no_hearts,
        "is_low_latency": view.is_low_latency,
        "is_high_latency": not view.is_low_latency,
        "language": rules.language_of(view.locale),
        "locale": view.locale,
        "broadcast_source": "producer",
        "twitter_user_id": str(view.user_id),
        "user_id": str(view.user_id),
        "created_at_ms": _ms(view.created_at),
        "updated_at_ms": _ms(view.updated_at),
        "start_ms": _ms(view.started_at),
        "end_ms": _ms(view.ended_at),
        "width": view.width,
        "height": view.height,
        "total_watching": str(view.total_watching),
        "total_watched": str(view.total_watched),
        "is_stream_active": view.is_stream_active,
        "share_url": links.share_url(view.id),
        "available_for_replay": ready,
        "recording": {
            "state": view.recording_state,
            "media_id": None if replay is None else str(replay.media_id),
            "media_key": None if replay is None else replay.media_key,
            "processing_state": None if replay is None else replay.state,
            "duration_ms": None if replay is None else replay.duration_ms,
        },
    }
    return body
