"""The layout's import rules (STYLE.md §1), checked with an AST walk over ``app/``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
WEB = ("fastapi", "starlette")
PURE = ("sqlalchemy", "app.storage", "app.models", "app.infra", "app.http", *WEB)

# package or module -> what it must not import (a name or any of its submodules).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "app.core": ("app.http", "app.infra", "app.models", "sqlalchemy", *WEB),
    "app.infra": ("app.http", *WEB),
    "app.storage": ("app.http", "app.models", "sqlalchemy", *WEB),
    "app.models": ("app.http", *WEB),
    "app.schemas": ("app.http", *WEB),
    "app.uploads": ("app.http", *WEB),
    "app.media": ("app.http", *WEB),
    "app.processing": ("app.http", *WEB),
    "app.jobs": ("app.http", *WEB),
    "app.posts": ("app.http", *WEB),
    "app.dms": ("app.http", *WEB),
    "app.profiles": ("app.http", *WEB),
    "app.accounts": ("app.http", *WEB),
    "app.http": ("sqlalchemy.orm", "app.models", "app.storage.filesystem"),
    # The queue, registry and runner know no domain: domains register their job kinds
    # (app.jobs.handlers puts them together).
    "app.jobs.queue": ("app.processing", "app.posts", "app.dms", "app.profiles"),
    "app.jobs.registry": ("app.processing", "app.posts", "app.dms", "app.profiles"),
    "app.jobs.runner": ("app.processing", "app.posts", "app.dms", "app.profiles"),
    "app.http.v11": ("app.http.v2",),
    "app.http.v2": ("app.http.v11",),
    # Pure rules: no database, no storage, no HTTP.
    "app.uploads.protocol": PURE,
    "app.uploads.limits": PURE,
    "app.uploads.commands": PURE,
    # One parser per field type, usable by any surface: no framework, no database.
    "app.http.params": ("sqlalchemy", "app.storage", "app.models", "app.infra", *WEB),
    "app.processing.rules": PURE,
}
# Domain packages hand views (dataclasses such as ``MediaView``, ``PostView``) to the
# HTTP layer; the wire models of v1.1 and v2 (``app.schemas``) and the presenters that
# fill them live in ``app.http``.
DOMAINS = (
    "app.uploads",
    "app.media",
    "app.posts",
    "app.dms",
    "app.profiles",
    "app.accounts",
    "app.jobs",
    "app.processing",
)
# module -> why it needs a wire model (none does today).
SCHEMAS_ALLOWED: dict[str, str] = {}
# Outside these, nothing may import the web frameworks.
WEB_ALLOWED = ("app.http", "app.main")
# The compiled hot statements: one write path per table.
STATEMENTS_ALLOWED = ("app.infra", "app.uploads.queries")
# TODO(layout): modules that still reach the compiled statements directly; the uploads
# queries module takes their SQL over. Must end empty.
STATEMENTS_PENDING = (
    "app.context",
    "app.http.deps",
    "app.main",
    "app.uploads.append",
    "app.uploads.service",
)


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
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _modules() -> list[tuple[str, Path]]:
    return [(_module_name(path), path) for path in sorted(APP.rglob("*.py"))]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_import_rules(package: str) -> None:
    violations = [
        f"{module} imports {name}"
        for module, path in _modules()
        if _within(module, (package,))
        for name in sorted(_imports(path))
        if _within(name, FORBIDDEN[package])
    ]

    assert violations == []


def test_only_http_imports_the_web_frameworks() -> None:
    violations = [
        f"{module} imports {name}"
        for module, path in _modules()
        if not _within(module, WEB_ALLOWED)
        for name in sorted(_imports(path))
        if _within(name, WEB)
    ]

    assert violations == []


def test_only_uploads_queries_and_infra_use_the_compiled_statements() -> None:
    violations = [
        f"{module} imports {name}"
        for module, path in _modules()
        if not _within(module, STATEMENTS_ALLOWED + STATEMENTS_PENDING)
        for name in sorted(_imports(path))
        if _within(name, ("app.infra.statements",))
    ]

    assert violations == []


def test_every_package_says_what_it_is_for() -> None:
    undocumented = [
        module
        for module, path in _modules()
        if path.name == "__init__.py" and not ast.get_docstring(ast.parse(path.read_text()))
    ]

    assert undocumented == []


def test_domain_packages_do_not_import_the_wire_models() -> None:
    violations = [
        f"{module} imports {name}"
        for module, path in _modules()
        if _within(module, DOMAINS) and module not in SCHEMAS_ALLOWED
        for name in sorted(_imports(path))
        if _within(name, ("app.schemas",))
    ]

    assert violations == []


def test_the_wire_presenters_live_in_the_http_layer() -> None:
    presenters = {module for module, _ in _modules() if module.endswith(".presenters")}

    assert presenters == {"app.http.v11.presenters", "app.http.v2.presenters"}


def test_only_infra_uses_the_in_loop_sqlite_driver() -> None:
    """Everything on the in-loop driver runs on the event loop: only the compiled hot
    statements may (``app.infra.statements``); sessions get the thread-backed engine."""
    violations = [
        f"{module} imports {name}"
        for module, path in _modules()
        if not _within(module, ("app.infra",))
        for name in sorted(_imports(path))
        if _within(name, ("app.infra.sqlite_inloop",))
        or name in ("app.infra.db.make_hot_engine", "app.infra.db.in_loop_connector")
    ]

    assert violations == []
