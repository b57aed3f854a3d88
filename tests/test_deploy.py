"""Dockerfile, .dockerignore and compose.yaml, read as files (no Docker engine runs here):
the compose file is valid against the compose spec's schema, every command it and the
image run is a real ``mediastudio`` command line, every variable a real setting."""

from __future__ import annotations

import fnmatch
import http.server
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import BaseModel

from app import cli
from app.config import Settings
from app.main import create_app

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
IMAGE_SERVICES = ("migrate", "api", "worker")


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())  # resolves the anchors and `<<` merges
    assert isinstance(loaded, dict)
    return loaded


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.compose-spec", path],
        capture_output=True,
        text=True,
    )


def _parse_command_line(argv: list[str]) -> Any:
    """Parses argv as the ``mediastudio`` command would, without running it: an unknown
    command or option raises. Returns the command's context (typer vendors click)."""
    assert argv[0] == "mediastudio", argv
    group: Any = typer.main.get_command(cli.app)
    assert argv[1] in group.commands, f"{argv}: no such command in {sorted(group.commands)}"
    return group.commands[argv[1]].make_context(argv[1], argv[2:])


def _setting(variable: str) -> None:
    """Fails unless MEDIASTUDIO_A__B names the field a.b of the settings model."""
    assert variable.startswith("MEDIASTUDIO_"), variable
    model: type[BaseModel] = Settings
    for part in variable.removeprefix("MEDIASTUDIO_").lower().split("__"):
        assert part in model.model_fields, f"{variable}: no setting {part!r} in {model.__name__}"
        annotation = model.model_fields[part].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation


def test_compose_file_is_valid_against_the_compose_schema() -> None:
    done = _check_compose(COMPOSE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_refuses_a_broken_compose_file(tmp_path: Path) -> None:
    broken = _compose()
    broken["services"]["api"]["depends_on"]["migrate"]["condition"] = "service_finished"
    path = tmp_path / "compose.yaml"
    path.write_text(json.dumps(broken))  # JSON is YAML

    done = _check_compose(path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "service_finished" in done.stdout + done.stderr


def test_compose_runs_migrate_once_before_api_and_worker() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", *IMAGE_SERVICES}
    for name in ("api", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    postgres = services["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])


def test_compose_services_run_real_commands_with_real_settings() -> None:
    services = _compose()["services"]
    commands = {name: _parse_command_line(services[name]["command"]) for name in IMAGE_SERVICES}
    assert {n: c.command.name for n, c in commands.items()} == {
        "migrate": "migrate",
        "api": "serve",
        "worker": "worker",
    }
    for name in IMAGE_SERVICES:
        environment = services[name]["environment"]
        for variable in environment:
            _setting(variable)
        assert environment["MEDIASTUDIO_DATABASE_URL"].startswith("postgresql+asyncpg://")
        # api and worker share the media: one volume mounted at the data directory.
        assert f"media:{environment['MEDIASTUDIO_DATA_DIR']}" in services[name]["volumes"]
    assert services["api"]["environment"]["MEDIASTUDIO_WORKER__IN_PROCESS"] == "false"
    assert commands["api"].params["migrate_first"] is False  # `migrate` did it, once
    assert "MEDIASTUDIO_WORKER__IN_PROCESS" not in services["worker"]["environment"]


def test_compose_environment_is_accepted_by_the_settings_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = _compose()["services"]["api"]["environment"]
    for variable, value in api.items():
        # ${VAR:-default} and ${VAR:?message} are the operator's: substitute a value.
        monkeypatch.setenv(variable, re.sub(r"\$\{[^}]*\}", "x" * 32, str(value)))
    settings = Settings(_env_file=None)
    assert settings.environment == "production"
    assert settings.worker.in_process is False
    assert settings.data_dir == Path("/data")


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _ignored(path: str, patterns: list[str]) -> bool:
    return any(
        fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p.removeprefix("**/")) for p in patterns
    )


def test_dockerfile_healthcheck_asks_readyz_with_python() -> None:
    (healthcheck,) = [args for op, args in _dockerfile() if op == "HEALTHCHECK"]
    exec_form = json.loads(healthcheck[healthcheck.index("CMD") + 3 :])
    assert exec_form[:2] == ["python", "-c"]
    assert "/readyz" in exec_form[2]
    assert "get" in create_app().openapi()["paths"]["/readyz"]  # a route the API serves
    assert "urllib.request" in exec_form[2]
    compile(exec_form[2], "HEALTHCHECK", "exec")  # valid Python


def test_dockerfile_runs_a_real_command_as_a_non_root_user() -> None:
    instructions = _dockerfile()
    (cmd,) = [args for op, args in instructions if op == "CMD"]
    assert _parse_command_line(json.loads(cmd)).command.name == "serve"
    users = [args for op, args in instructions if op == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    for op, args in instructions:
        if op == "ENV":
            for variable in re.findall(r"(MEDIASTUDIO_\w+)=", args):
                _setting(variable)


def test_dockerfile_copies_only_what_exists_and_is_not_ignored() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (".venv", ".git", "var", "tests", "**/__pycache__", "**/node_modules"):
        assert needed in patterns
    copies = [shlex.split(args) for op, args in _dockerfile() if op == "COPY"]
    sources = [src for *srcs, _ in copies if not srcs[0].startswith("--from") for src in srcs]
    assert "app" in sources
    assert "migrations" in sources
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file"
        assert not _ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    assert any(args.startswith("--from=wheel") for op, args in _dockerfile() if op == "COPY")


def _healthcheck_exit_code(status: int | None) -> int:
    """Runs the image's HEALTHCHECK command against a real HTTP server on this machine
    that answers /readyz with ``status`` (None: nothing listens on the port)."""
    (healthcheck,) = [args for op, args in _dockerfile() if op == "HEALTHCHECK"]
    argv = json.loads(healthcheck[healthcheck.index("CMD") + 3 :])
    asked: list[str] = []

    class Ready(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(status or 500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ready)
    port = server.server_address[1]
    if status is None:
        server.server_close()
    else:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = subprocess.run(
            [sys.executable, *argv[1:]],
            env={**os.environ, "MEDIASTUDIO_PORT": str(port)},
            capture_output=True,
        )
    finally:
        if status is not None:
            server.shutdown()
            server.server_close()
    assert asked == ([] if status is None else ["/readyz"])
    return done.returncode


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False), (None, False)])
def test_the_healthcheck_is_healthy_only_when_readyz_answers_200(
    status: int | None, healthy: bool
) -> None:
    assert (_healthcheck_exit_code(status) == 0) is healthy
