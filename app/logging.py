"""Process-wide logging: one handler on stderr, JSON (python-json-logger) or text lines.

``configure_logging`` sets up the root logger, ``app.*`` and uvicorn's loggers alike;
``logging_config`` is the same as a ``logging.config.dictConfig`` dict, which
``mediastudio serve`` hands to uvicorn so that every worker process logs the same way.
uvicorn's own access log is off (``uvicorn.access`` has no handler, so uvicorn skips it):
``app.http.requestlog`` writes one line per request instead.

Every line carries ``timestamp`` (ISO 8601, UTC, milliseconds), ``level``, ``logger`` and
``message``, then the record's extra fields, and during a request its ``request_id`` and,
once authenticated, ``user_id`` (``ContextFilter``, from ``app.infra.logcontext``).
"""

from __future__ import annotations

import json
import logging
import logging.config
import time
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from app.infra.logcontext import current_request

__all__ = [
    "ContextFilter",
    "JsonFormatter",
    "LogFormat",
    "TextFormatter",
    "configure_logging",
    "logging_config",
]

LogFormat = Literal["json", "text"]
# uvicorn adds color_message (its message with ANSI colours) to some records.
_SKIP = [*RESERVED_ATTRS, "color_message"]


class ContextFilter(logging.Filter):
    """Adds the current request's ``request_id`` and ``user_id`` to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = current_request.get()
        if info is not None:
            if not hasattr(record, "request_id"):
                record.request_id = info.request_id
            if info.user_id is not None and not hasattr(record, "user_id"):
                record.user_id = info.user_id
        return True


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, then the extras.

    ``add_fields`` is this service's own: the fixed fields and one pass over the record's
    attributes (python-json-logger's general one, with renames and defaults, took half of
    the ~40 us a line costs; the access line is written for every request)."""

    def __init__(self) -> None:
        super().__init__(reserved_attrs=_SKIP)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["timestamp"] = _timestamp(record)
        log_data["level"] = record.levelname.lower()
        log_data["logger"] = record.name
        log_data["message"] = record.message
        skip = self._skip_fields
        log_data.update({k: v for k, v in record.__dict__.items() if k not in skip})
        log_data.update(message_dict)  # exc_info, stack_info, or a logged dict


class TextFormatter(JsonFormatter):
    """The same fields on one readable line: ``timestamp level logger message k=v ...``
    (a traceback follows on the next lines)."""

    def serialize_log_record(self, log_data: dict[str, Any]) -> str:
        exc = log_data.pop("exc_info", None)
        head = [log_data.pop(key) for key in ("timestamp", "level", "logger", "message")]
        pairs = [f"{key}={_text(value)}" for key, value in log_data.items()]
        line = " ".join([head[0], f"{head[1]:<7}", head[2], head[3], *pairs])
        return f"{line}\n{exc}" if exc else line


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text == "" or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text)
    return text


def logging_config(format: LogFormat = "json", level: str = "info") -> dict[str, Any]:
    """The ``dictConfig`` for this service's processes (also uvicorn's ``log_config``)."""
    level = level.upper()
    formatter = JsonFormatter if format == "json" else TextFormatter
    quiet = {"handlers": [], "propagate": True, "level": level}
    # DEBUG is for this service and uvicorn; other libraries (aiosqlite logs every
    # statement, python-multipart every part) stay at INFO.
    others = "INFO" if level == "DEBUG" else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": others},
        "loggers": {
            "app": quiet,
            "uvicorn": quiet,
            "uvicorn.error": quiet,
            "uvicorn.asgi": quiet,
            # No handler anywhere up its chain: uvicorn then writes no access lines.
            "uvicorn.access": {"handlers": [], "propagate": False},
            # Alembic narrates every migration step and plugin load at INFO.
            "alembic": {"handlers": [], "propagate": True, "level": max_level(level, "WARNING")},
        },
    }


def max_level(level: str, floor: str) -> str:
    """The stricter of two level names."""
    return max(level, floor, key=logging.getLevelName)


_configured: tuple[str, str] | None = None


def configure_logging(format: LogFormat = "json", level: str = "info") -> None:
    """Configure this process's logging (idempotent for the same arguments)."""
    global _configured
    if _configured == (format, level.lower()):
        return
    logging.config.dictConfig(logging_config(format, level))
    _configured = (format, level.lower())
