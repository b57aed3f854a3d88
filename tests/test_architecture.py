"""The import rules of STYLE.md §1, checked with an AST walk."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"

FORBIDDEN = {
    "app.upload": (
        "fastapi",
        "starlette",
        "sqlalchemy",
        "app.models",
        "app.services",
        "app.routers",
    ),
    "app.processing": ("fastapi", "starlette", "app.routers"),
    "app.routers": ("sqlalchemy", "app.models", "app.upload.storage.filesystem"),
    "app.models": ("app.services", "app.routers", "fastapi"),
    "app.schemas": ("app.services", "app.routers", "fastapi"),
    "app.services": ("fastapi", "app.routers"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_import_rules(package: str) -> None:
    folder = APP / package.removeprefix("app.").replace(".", "/")
    violations = [
        f"{_module_name(path)} imports {name}"
        for path in sorted(folder.rglob("*.py"))
        for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package])
    ]

    assert violations == []
