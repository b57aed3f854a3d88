"""Run Alembic migrations from code (CLI, server start, tests).

The migrations live in ``migrations/`` beside ``alembic.ini`` at the repository's top
(what developers and ``alembic`` use); a built wheel carries the same folder as the package
``app._alembic`` with an ``alembic.ini`` of its own (``setup.py``). Either is found here.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config

__all__ = [
    "alembic_config",
    "alembic_ini",
    "downgrade_to_base",
    "script_location",
    "upgrade_to_head",
]

_ROOT = Path(__file__).resolve().parent.parent


def _locate() -> tuple[Path, Path]:
    """(script location, alembic.ini): ``app/_alembic`` of an installed wheel, else the
    source tree's ``migrations/`` and ``alembic.ini`` (the editable install included)."""
    packaged = Path(str(files("app").joinpath("_alembic")))
    if (packaged / "env.py").is_file():
        return packaged, packaged / "alembic.ini"
    return _ROOT / "migrations", _ROOT / "alembic.ini"


def script_location() -> Path:
    return _locate()[0]


def alembic_ini() -> Path:
    return _locate()[1]


def alembic_config(database_url: str) -> Config:
    config = Config(str(alembic_ini()))
    config.set_main_option("script_location", str(script_location()))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def downgrade_to_base(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "base")
