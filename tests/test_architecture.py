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


# Only app.storage writes files (STYLE.md §1): one door for bytes, so object storage is
# a second backend and not a rewrite. Tools handed a path inside a scratch folder
# (ffmpeg's output argument, Pillow's ``save``) write there on storage's behalf; the
# rule is about our own calls. ``Path.replace`` cannot be told from ``str.replace`` and
# is left to review.
WRITES_ALLOWED = ("app.storage",)
WRITE_EXCEPTIONS = {
    "app.cli": "creates the data directory before migrating and writes the OpenAPI export",
    "app.uploader": "the client-side resumable uploader keeps its state file on the "
    "user's machine; it is not the service's bytes",
}
_WRITE_MODULES = ("shutil", "aiofiles", "tempfile")
_OS_WRITES = {
    "replace", "rename", "renames", "unlink", "remove", "rmdir", "removedirs", "mkdir",
    "makedirs", "link", "symlink", "truncate", "open",
}  # fmt: skip
_PATH_WRITES = {
    "write_text", "write_bytes", "unlink", "mkdir", "rmdir", "touch", "symlink_to",
    "hardlink_to",
}  # fmt: skip


def _writing_mode(node: ast.expr | None) -> bool:
    """True unless ``node`` is a constant mode that only reads."""
    if node is None:
        return False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return any(flag in node.value for flag in "wax+")
    return True


def _mode_argument(call: ast.Call, position: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "mode":
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def file_writes(source: str) -> list[str]:
    """Every way ``source`` writes, renames, deletes or makes files, as ``line: what``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            found += [
                f"{node.lineno}: imports {name}" for name in names if _within(name, _WRITE_MODULES)
            ]
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id == "open":
            if _writing_mode(_mode_argument(node, 1)):
                found.append(f"{node.lineno}: open() for writing")
        elif isinstance(function, ast.Attribute):
            owner = function.value
            if isinstance(owner, ast.Name) and owner.id == "os":
                if function.attr in _OS_WRITES:
                    found.append(f"{node.lineno}: os.{function.attr}()")
            elif function.attr in _PATH_WRITES:
                found.append(f"{node.lineno}: .{function.attr}()")
            elif (
                function.attr == "open"
                and isinstance(mode := _mode_argument(node, 0), ast.Constant)
                and _writing_mode(mode)
            ):
                found.append(f"{node.lineno}: .open() for writing")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "import shutil",
        "from aiofiles import os",
        "import tempfile",
        "open(path, 'wb')",
        "open(path, mode='a')",
        "open(path, mode)",
        "path.open('w')",
        "path.open(mode='r+')",
        "os.replace(a, b)",
        "os.rename(a, b)",
        "os.unlink(a)",
        "os.makedirs(a)",
        "path.write_text('x')",
        "path.write_bytes(b'x')",
        "path.unlink()",
        "path.mkdir(parents=True)",
    ],
)
def test_the_write_rule_sees_each_way_of_writing(source: str) -> None:
    assert len(file_writes(source)) == 1


@pytest.mark.parametrize(
    "source", ["open(path)", "open(path, 'rb')", "path.open('rb')", "Image.open(path)"]
)
def test_the_write_rule_lets_reads_pass(source: str) -> None:
    assert file_writes(source) == []


def test_only_storage_writes_files() -> None:
    violations = [
        f"{module}:{found}"
        for module, path in _modules()
        if not _within(module, WRITES_ALLOWED) and module not in WRITE_EXCEPTIONS
        for found in file_writes(path.read_text())
    ]

    assert violations == []


def test_every_write_exception_is_still_needed() -> None:
    sources = {module: path.read_text() for module, path in _modules()}

    assert {module for module in WRITE_EXCEPTIONS if file_writes(sources[module])} == set(
        WRITE_EXCEPTIONS
    )


def test_only_storage_names_a_backend() -> None:
    violations = [
        f"{module} imports {name}"
        for module, path in _modules()
        if not _within(module, ("app.storage",))
        for name in sorted(_imports(path))
        if _within(name, ("app.storage.filesystem",))
    ]

    assert violations == []


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
