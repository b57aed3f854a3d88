"""The package list, which pyproject.toml cannot express: every ``app*`` package, plus
``migrations/`` shipped as ``app._alembic`` so an installed wheel can migrate
(``app/migrate.py``). The repository keeps ``migrations/`` and ``alembic.ini`` at the top."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["app", "app.*"]), "app._alembic", "app._alembic.versions"],
    package_dir={"app._alembic": "migrations"},
)
