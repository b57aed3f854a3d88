"""README.md's settings table and .env.example match app/config.py (app/settings_doc.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel

from app import settings_doc
from app.config import ENV_FILE_VARIABLE, Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _fields(annotation, f"{prefix}{name}.")
        else:
            found.append((prefix + name, field.description))
    return found


def test_every_setting_has_a_description() -> None:
    missing = [name for name, description in _fields(Settings) if not description]
    assert missing == [], f'add Field(description="...") to {missing} in app/config.py'


def test_every_setting_is_in_the_generated_reference_by_its_variable() -> None:
    names = [doc.env for doc in settings_doc.iter_settings()]
    expected = ["MEDIASTUDIO_" + name.upper().replace(".", "__") for name, _ in _fields(Settings)]

    assert names == expected
    assert "MEDIASTUDIO_LIMITS__MAX_IMAGE_PIXELS" in names
    assert "MEDIASTUDIO_SECRET_KEY" not in names


def test_readme_table_matches_the_settings_model() -> None:
    text = README.read_text()
    assert text == settings_doc.render_readme(text), (
        f"README.md's settings table is stale: run {settings_doc.FIX}"
    )


def test_env_example_matches_the_settings_model() -> None:
    assert ENV_EXAMPLE.read_text() == settings_doc.env_example(), (
        f".env.example is stale: run {settings_doc.FIX}"
    )


def test_env_example_uncommented_reads_back_as_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("MEDIASTUDIO_"):
            monkeypatch.delenv(name)
    lines = [
        line.removeprefix("# ")
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.startswith("# MEDIASTUDIO_") and not line.endswith("=")
    ]
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n")

    loaded = Settings(_env_file=env_file)

    assert len(lines) > 40
    assert loaded.model_dump() == Settings(_env_file=None).model_dump()


def test_a_changed_default_makes_the_check_fail_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    row = "| `MEDIASTUDIO_HOST` | str | `127.0.0.1` |"
    assert row in README.read_text()
    readme.write_text(README.read_text().replace(row, "| `MEDIASTUDIO_HOST` | str | `0.0.0.0` |"))
    env_example = tmp_path / ".env.example"
    env_example.write_text(settings_doc.env_example())

    stale = settings_doc.main(["--check", str(readme), str(env_example)])
    fixed = settings_doc.main(["--write", str(readme)])

    assert stale == 1
    assert "make docs" in capsys.readouterr().err
    assert fixed == 0
    assert settings_doc.main(["--check", str(readme), str(env_example)]) == 0


@pytest.mark.parametrize(
    ("variable", "port"), [(None, 8001), ("other.env", 8002), ("", 8000)], ids=str
)
def test_the_env_file_is_read_from_the_working_directory_or_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str | None, port: int
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEDIASTUDIO_PORT", raising=False)
    (tmp_path / ".env").write_text("MEDIASTUDIO_PORT=8001\n")
    (tmp_path / "other.env").write_text("MEDIASTUDIO_PORT=8002\n")
    if variable is None:
        monkeypatch.delenv(ENV_FILE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(ENV_FILE_VARIABLE, variable)
    get_settings.cache_clear()
    try:
        assert get_settings().port == port
    finally:
        get_settings.cache_clear()


def test_the_environment_wins_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_FILE_VARIABLE, raising=False)
    monkeypatch.setenv("MEDIASTUDIO_PORT", "9000")
    (tmp_path / ".env").write_text("MEDIASTUDIO_PORT=8001\n")
    get_settings.cache_clear()
    try:
        assert get_settings().port == 9000
    finally:
        get_settings.cache_clear()
