"""app/logging.py alone: the line formats, the context fields, the process config."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.infra.logcontext import RequestInfo, bind_user, current_request
from app.logging import ContextFilter, JsonFormatter, TextFormatter, logging_config


def _record(msg: str = "job done", **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "app.jobs.runner", "levelno": 20, "msg": msg})
    record.levelname = "INFO"
    record.created, record.msecs = 1_796_239_761.25, 250.0
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_json_line_has_the_fixed_fields_first_then_the_extras() -> None:
    line = JsonFormatter().format(_record(job_id=7, kind="video", color_message="\x1b[1m"))

    data = json.loads(line)
    assert list(data)[:4] == ["timestamp", "level", "logger", "message"]
    assert data == {
        "timestamp": "2026-12-02T19:29:21.250Z",
        "level": "info",
        "logger": "app.jobs.runner",
        "message": "job done",
        "job_id": 7,
        "kind": "video",
    }


def test_a_text_line_is_one_line_of_the_same_fields() -> None:
    line = TextFormatter().format(_record("refused", reason="bad signature", status=401))

    assert "\n" not in line
    assert line.startswith("2026-12-02T19:29:21.250Z info    app.jobs.runner refused ")
    assert line.endswith('reason="bad signature" status=401')


def test_a_traceback_follows_its_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = _record("failed", exc_info=sys.exc_info())
    json_line = json.loads(JsonFormatter().format(record))
    text = TextFormatter().format(record)

    assert "ValueError: boom" in json_line["exc_info"]
    assert text.splitlines()[0].endswith("failed")
    assert "ValueError: boom" in text


def test_the_context_adds_the_request_id_and_the_user_once_known() -> None:
    context = ContextFilter()
    outside = _record()
    token = current_request.set(RequestInfo("r-1"))
    try:
        before = _record()
        context.filter(before)
        bind_user(42)
        after = _record()
        context.filter(after)
    finally:
        current_request.reset(token)
    context.filter(outside)

    assert (before.request_id, hasattr(before, "user_id")) == ("r-1", False)  # type: ignore[attr-defined]
    assert (after.request_id, after.user_id) == ("r-1", 42)  # type: ignore[attr-defined]
    assert not hasattr(outside, "request_id")


def test_the_config_turns_uvicorns_access_log_off_and_sets_every_level() -> None:
    config = logging_config("text", "warning")

    assert config["loggers"]["uvicorn.access"] == {"handlers": [], "propagate": False}
    assert config["root"]["level"] == "WARNING"
    assert {config["loggers"][name]["level"] for name in ("app", "uvicorn", "uvicorn.error")} == {
        "WARNING"
    }
    assert config["formatters"]["default"]["()"] is TextFormatter


def test_debug_is_for_the_service_and_uvicorn_only() -> None:
    config = logging_config("json", "debug")

    assert config["root"]["level"] == "INFO"
    assert config["loggers"]["app"]["level"] == "DEBUG"
    assert config["loggers"]["uvicorn.error"]["level"] == "DEBUG"


def test_the_settings_take_either_case_and_refuse_other_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDIASTUDIO_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("MEDIASTUDIO_LOG_FORMAT", "Text")
    assert (Settings().log_level, Settings().log_format) == ("warning", "text")
    monkeypatch.setenv("MEDIASTUDIO_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="log_format"):
        Settings()
