"""The wheel: what it carries, its metadata, and that an installed copy migrates.

The wheel is built offline from a copy of the repository (no build isolation: the dev
venv's setuptools), installed with ``--no-deps`` into a scratch venv that reaches the
dependencies through a ``.pth`` file naming the dev venv's site-packages, and its
``mediastudio`` runs from a directory outside the repository.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from packaging.requirements import Requirement
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from app.infra.db import make_engine
from app.main import create_app
from app.migrate import alembic_config
from tests.fixtures.scratch_db import blank_database_url

__all__ = ["blank_database_url"]  # the fixture: an empty database, SQLite and PostgreSQL

pytestmark = pytest.mark.slow  # a wheel build and a venv: about half a minute

REPO = Path(__file__).resolve().parent.parent
# What a checkout may hold that is not source: never copied, never in the wheel.
_NOT_SOURCE = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", "*.egg-info", "build", "dist", "node_modules", ".*_cache"
)


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without the dev venv's and the suite's settings."""
    drop = ("MEDIASTUDIO_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, **extra}


def _run(args: list[str | Path], cwd: Path, **extra: str) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=_clean_env(**extra), capture_output=True, text=True
    )
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
    return done.stdout + done.stderr


@dataclass(frozen=True)
class Built:
    wheel: Path
    log: str  # the build's output


@dataclass(frozen=True)
class Installed:
    root: Path  # the scratch venv
    workdir: Path  # outside the repository

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def run(self, *args: str | Path, **extra: str) -> str:
        return _run(
            [*args], self.workdir, PATH=f"{self.bin}{os.pathsep}{os.environ['PATH']}", **extra
        )


def _build(into: Path) -> Built:
    # A copy, so the build's build/ and egg-info never touch the checkout; tests/ and a
    # var/ come along to prove they stay out.
    source = into / "source" / "mediastudio"
    shutil.copytree(REPO, source, ignore=_NOT_SOURCE)
    (source / "var").mkdir(exist_ok=True)
    (source / "var" / "mediastudio.db").write_bytes(b"not shipped")
    out = into / "dist"
    log = _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, source],
        source,
        # Any warning fails the build, but setuptools' own import of pkg_resources (which
        # twitter-text-parser needs: setuptools<80) that it makes with any project.
        PYTHONWARNINGS="error,ignore:pkg_resources is deprecated as an API:DeprecationWarning",
    )
    (out / "build.log").write_text(log)
    (wheel,) = out.glob("mediastudio-*.whl")
    return Built(wheel, log)


def _install(wheel: Path, into: Path) -> Installed:
    root, workdir = into / "scratch", into / "elsewhere"
    workdir.mkdir()
    _run([sys.executable, "-m", "venv", "--without-pip", root], workdir)
    python = root / "bin" / "python"
    # The dev venv's pip installs into the scratch interpreter, offline, before the .pth
    # exists: it sees only the scratch venv's (empty) site-packages.
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "--no-warn-script-location", wheel],
        workdir,
    )  # fmt: skip
    scratch_site = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], workdir
    ).strip()
    dev_site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(scratch_site) / "dev-venv.pth").write_text("".join(f"{p}\n" for p in sorted(dev_site)))
    return Installed(root, workdir)


@pytest.fixture(scope="session")
def _artifacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Built, Installed]:
    """The wheel and its scratch venv, made once per run: xdist workers share the run's
    temporary root and take turns on a lock; the first builds, the others reuse."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "wheel"
    shared.mkdir(exist_ok=True)
    with (shared / "lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        done = shared / "done"
        if done.exists():
            (wheel,) = (shared / "dist").glob("mediastudio-*.whl")
            built = Built(wheel, (shared / "dist" / "build.log").read_text())
            return built, Installed(shared / "scratch", shared / "elsewhere")
        for partial in ("source", "dist", "scratch", "elsewhere"):  # a failed first try's
            shutil.rmtree(shared / partial, ignore_errors=True)
        built = _build(shared)
        installed = _install(built.wheel, shared)
        done.touch()
        return built, installed


@pytest.fixture
def built(_artifacts: tuple[Built, Installed]) -> Built:
    return _artifacts[0]


@pytest.fixture
def installed(_artifacts: tuple[Built, Installed]) -> Installed:
    return _artifacts[1]


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_wheel_carries_the_package_the_migrations_and_alembic_ini(built: Built) -> None:
    names = _names(built.wheel)

    sources = {p.relative_to(REPO).as_posix() for p in (REPO / "app").rglob("*.py")}
    assert sources <= names, f"missing from the wheel: {sorted(sources - names)}"
    assert "app/py.typed" in names
    revisions = sorted((REPO / "migrations" / "versions").glob("*.py"))
    assert revisions
    shipped = {f"app/_alembic/versions/{p.name}" for p in revisions}
    assert shipped <= names, f"missing revisions: {sorted(shipped - names)}"
    for name in ("alembic.ini", "env.py", "script.py.mako"):
        assert f"app/_alembic/{name}" in names
    dist_info = "mediastudio-0.1.0.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"app", dist_info}, f"unexpected top-level entries: {tops}"  # no tests/, var/
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_wheel_metadata_has_the_licence_expression_and_the_requirements(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as archive:
        metadata = Parser().parsestr(archive.read("mediastudio-0.1.0.dist-info/METADATA").decode())
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["License"] is None  # the deprecated field is gone
    assert not [c for c in metadata.get_all("Classifier") or [] if c.startswith("License ::")]

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    required = {str(Requirement(r)) for r in metadata.get_all("Requires-Dist") or []}
    runtime = {r for r in required if "extra ==" not in r}
    assert runtime == {str(Requirement(r)) for r in project["dependencies"]}
    assert metadata["Requires-Python"] == project["requires-python"]
    licence = (REPO / "LICENSE").read_text()
    assert licence.lstrip().startswith("Apache License\n                           Version 2.0")
    assert "END OF TERMS AND CONDITIONS" in licence


def test_wheel_builds_without_warnings(built: Built) -> None:
    # PYTHONWARNINGS=error already fails the build on a Python warning; setuptools also
    # prints some (the deprecated licence table, say) as text.
    assert "Warning" not in built.log, built.log
    assert "deprecat" not in built.log.lower(), built.log


def test_the_installed_copy_is_used(installed: Installed) -> None:
    probe = (
        "import json, app, app.migrate as m; "
        "print(json.dumps([app.__file__, str(m.script_location()), str(m.alembic_ini())]))"
    )
    out = installed.run(installed.bin / "python", "-c", probe)
    module, location, ini = (Path(p) for p in json.loads(out))
    assert installed.root in module.parents, module
    assert REPO not in module.parents
    assert location == module.parent / "_alembic"
    assert ini == location / "alembic.ini"
    assert (installed.bin / "mediastudio").exists()

    # The shipped alembic.ini serves operators too: `alembic -c <it> heads` names the head.
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    heads = installed.run(installed.bin / "python", "-m", "alembic", "-c", ini, "heads")
    assert heads.split() == [str(head), "(head)"]


async def test_installed_mediastudio_migrates_a_fresh_database(
    installed: Installed, blank_database_url: str, tmp_path: Path
) -> None:
    settings = {
        "MEDIASTUDIO_DATABASE_URL": blank_database_url,
        "MEDIASTUDIO_DATA_DIR": str(tmp_path / "data"),
    }
    out = await asyncio.to_thread(installed.run, "mediastudio", "migrate", **settings)
    assert "database is up to date" in out

    # At head, and the schema is what the models describe.
    config = alembic_config(blank_database_url)
    head = ScriptDirectory.from_config(config).get_current_head()
    engine = make_engine(blank_database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        await engine.dispose()
    assert [v for (v,) in versions] == [head]
    await asyncio.to_thread(command.check, config)  # raises if models and schema differ

    created = await asyncio.to_thread(
        installed.run, "mediastudio", "users", "create", "wheelie", "--json", **settings
    )
    assert json.loads(created)["bearer_token"]


def test_installed_openapi_export_matches_the_source(installed: Installed) -> None:
    out = installed.workdir / "spec" / "openapi.json"
    installed.run("mediastudio", "openapi", "--output", out)
    assert json.loads(out.read_text()) == json.loads(json.dumps(create_app().openapi()))


@pytest.mark.parametrize("ini", ["alembic.ini", "migrations/alembic.ini"])
def test_alembic_runs_from_the_repository_root(ini: str) -> None:
    """The checkout keeps its layout: ``alembic`` at the top reads ./alembic.ini (and the
    copy the wheel ships works on the same folder)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    alembic = Path(sys.executable).parent / "alembic"
    heads = _run([alembic, "-c", ini, "heads"], REPO)
    assert heads.split() == [str(head), "(head)"]
