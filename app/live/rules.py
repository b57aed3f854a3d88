"""The Producer's pure rules: regions, tags, the broadcast state machine and the checks of
every field a client sends (producer-api.md §3.3, §5, §8). No database, no HTTP."""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from enum import StrEnum

__all__ = [
    "CHAT_DISABLED",
    "CHAT_EVERYONE",
    "REGIONS",
    "TAGS",
    "BroadcastState",
    "LiveRuleError",
    "SourceType",
    "broadcast_id",
    "check_chat_option",
    "check_hls_url",
    "check_name",
    "check_region",
    "check_tags",
    "check_title",
    "end",
    "ingest_lost",
    "is_active",
    "live_name",
    "publish",
    "stream_key",
    "timed_out",
]

# §5: the regions observed in use; unknown codes are refused (gen C does the same).
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1",
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
)  # fmt: skip

# The seed's "up to two categories": Twitter never published its list (§7.2,
# UNCONFIRMED), so this is ours, served by GET /2/broadcast_tags.
TAGS = (
    "news", "politics", "sports", "esports", "gaming", "music", "entertainment",
    "technology", "science", "business", "finance", "education", "lifestyle", "travel",
    "food", "health", "fashion", "art", "culture", "religion", "weather", "community",
)  # fmt: skip
MAX_TAGS = 2
MAX_TITLE = 280  # the announcement post's length cap (§3.3: post limits apply)
MAX_NAME = 100
CHAT_DISABLED = 1
CHAT_EVERYONE = 2
CHAT_OPTIONS = range(0, 7)  # §3.3: 0-6


class SourceType(StrEnum):
    RTMP = "rtmp"  # pushed by an encoder, rtmp and rtmps URLs with a stream key
    HLS = "hls"  # pulled by the service from an HLS URL given at creation


class BroadcastState(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    RUNNING = "RUNNING"
    ENDED = "ENDED"
    TIMED_OUT = "TIMED_OUT"
    CANCELED = "CANCELED"


# The states a broadcast holds its source in (one such broadcast per source).
ACTIVE = (BroadcastState.NOT_STARTED, BroadcastState.RUNNING)


class LiveRuleError(ValueError):
    """A refused request: ``kind`` is ``invalid`` (400), ``conflict`` (409) or
    ``not_found`` (404); ``parameter`` names the field when one is at fault."""

    def __init__(self, kind: str, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.parameter = parameter


def is_active(state: str) -> bool:
    return state in ACTIVE


def publish(state: str, *, stream_active: bool) -> BroadcastState:
    """PUBLISH (Publish Now): NOT_STARTED -> RUNNING, only while video arrives (§8.4)."""
    if state != BroadcastState.NOT_STARTED:
        raise LiveRuleError(
            "invalid", f"A broadcast in state {state} cannot be published.", "state"
        )
    if not stream_active:
        raise LiveRuleError(
            "conflict", "The source is not receiving video: start the encoder, then publish."
        )
    return BroadcastState.RUNNING


def end(state: str) -> BroadcastState:
    """END: RUNNING -> ENDED, irreversible; ending what never ran is refused (§8.4)."""
    if state != BroadcastState.RUNNING:
        raise LiveRuleError("invalid", f"A broadcast in state {state} cannot be ended.", "state")
    return BroadcastState.ENDED


def ingest_lost(state: str, *, lost_for: float, window: float) -> BroadcastState | None:
    """A RUNNING broadcast whose video stopped longer than the reconnect window ends;
    within the window a reconnect continues it. None: nothing changes."""
    if state == BroadcastState.RUNNING and lost_for > window:
        return BroadcastState.ENDED
    return None


def timed_out(state: str, *, age: float, timeout: float) -> BroadcastState | None:
    """A broadcast never published within ``timeout`` seconds of its creation times out."""
    if state == BroadcastState.NOT_STARTED and age > timeout:
        return BroadcastState.TIMED_OUT
    return None


def check_name(value: object, parameter: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise LiveRuleError("invalid", f"{parameter}: field is required", parameter)
    name = value.strip()
    if len(name) > MAX_NAME:
        raise LiveRuleError("invalid", f"{parameter} is longer than {MAX_NAME}.", parameter)
    return name


def check_title(value: object) -> str:
    if not isinstance(value, str):
        raise LiveRuleError("invalid", "title must be a string.", "title")
    if len(value) > MAX_TITLE:
        raise LiveRuleError("invalid", f"title is longer than {MAX_TITLE}.", "title")
    return value.strip()


def check_region(value: object) -> str:
    if not isinstance(value, str) or value not in REGIONS:
        raise LiveRuleError("invalid", f"region {value!r} is not a supported region.", "region")
    return value


def check_tags(values: object) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise LiveRuleError("invalid", "tags must be a list of strings.", "tags")
    tags = list(dict.fromkeys(v.strip().lower() for v in values))
    if len(tags) > MAX_TAGS:
        raise LiveRuleError("invalid", f"At most {MAX_TAGS} tags.", "tags")
    unknown = [t for t in tags if t not in TAGS]
    if unknown:
        raise LiveRuleError(
            "invalid", f"Unknown tag {unknown[0]!r}: see /2/broadcast_tags.", "tags"
        )
    return tags


def check_chat_option(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in CHAT_OPTIONS:
        raise LiveRuleError("invalid", "chat_option must be an integer from 0 to 6.", "chat_option")
    return value


def check_hls_url(value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise LiveRuleError(
            "invalid", "external_hls_url must be an http(s) URL of an HLS playlist.",
            "external_hls_url",
        )  # fmt: skip
    if len(value) > 2000 or any(c.isspace() for c in value):
        raise LiveRuleError("invalid", "external_hls_url is not a URL.", "external_hls_url")
    return value


_ALNUM = string.ascii_letters + string.digits
_KEY = string.ascii_lowercase + string.digits


def broadcast_id() -> str:
    """13 alphanumeric characters (``^[a-zA-Z0-9]{1,13}$``, §3.1)."""
    return "1" + "".join(secrets.choice(_ALNUM) for _ in range(12))


def stream_key() -> str:
    """The push secret: 24 characters of [a-z0-9] (about 124 bits)."""
    return "".join(secrets.choice(_KEY) for _ in range(24))


def live_name() -> str:
    """The internal stream name an accepted stream is renamed to: the key never reaches a
    file name or a URL."""
    return "s" + secrets.token_hex(10)


def check_locale(value: object) -> str:
    if not isinstance(value, str) or not 2 <= len(value) <= 10:
        raise LiveRuleError("invalid", "locale must look like en or en_US.", "locale")
    if not all(c.isalnum() or c in "_-" for c in value):
        raise LiveRuleError("invalid", "locale must look like en or en_US.", "locale")
    return value


def language_of(locale: str | None) -> str:
    return (locale or "en").replace("-", "_").split("_")[0].lower()


def unknown_fields(given: Sequence[str], allowed: Sequence[str]) -> list[str]:
    return [name for name in given if name not in allowed]
