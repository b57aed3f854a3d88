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
    "app.studio": ("app.http", *WEB),
    "app.analytics": ("app.http", *WEB),
    "app.live": ("app.http", *WEB),
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
    "app.media.visibility": PURE,
    "app.uploads.limits": PURE,
    "app.uploads.commands": PURE,
    # One parser per field type, usable by any surface: no framework, no database.
    "app.http.params": ("sqlalchemy", "app.storage", "app.models", "app.infra", *WEB),
    "app.processing.rules": PURE,
    "app.studio.permissions": PURE,
    "app.studio.rules": PURE,
    "app.studio.search": PURE,
    "app.analytics.metrics": PURE,
    "app.analytics.buckets": PURE,
    "app.analytics.rules": PURE,
    "app.live.rules": PURE,
    "app.live.compat": PURE,
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
    "app.studio",
    "app.analytics",
    "app.live",
)
# module -> why it needs a wire model (none does today).
SCHEMAS_ALLOWED: dict[str, str] = {}
# Outside these, nothing may import the web frameworks.
WEB_ALLOWED = ("app.http", "app.main")
# The compiled hot statements: one write path per table.
STATEMENTS_ALLOWED = ("app.infra", "app.uploads.queries")
# app.main builds the one ``Statements`` object and app.context/app.http.deps carry it to
# the upload use cases (typed as ``app.uploads.queries.Statements``); none runs SQL.
# app.live.recording builds its own for the job that uploads a broadcast's recording
# through the upload use cases (INIT, APPEND, FINALIZE), like a client would.
STATEMENTS_PENDING = (
    "app.context",
    "app.http.deps",
    "app.live.recording",
    "app.main",
)
# The only writer of the upload tables (STYLE.md §1, one write path per table).
MEDIA_WRITER = "app.uploads.queries"
MEDIA_MODELS = ("Media", "MediaSegment", "MediaSegmentReservation")


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
    "app.settings_doc": "`make docs` rewrites README.md and .env.example in the checkout",
    "app.infra.metrics_process": "makes prometheus_client's multiprocess folder and "
    "removes the sample files of processes that are gone: metrics, not the service's bytes",
    "app.infra.nodes": "lock files (DATA_DIR/run) that hand sibling processes their "
    "snowflake nodes; no media bytes",
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


def _media_columns() -> frozenset[str]:
    from app.models import Media

    return frozenset(column.key for column in Media.__table__.columns)


def _media_writes(tree: ast.AST, columns: frozenset[str]) -> list[str]:
    """Writes of the upload tables in ``tree``: ``insert/update/delete(Media...)``,
    ``Media.__table__`` handed to anything, ``Media(...)`` / ``MediaSegment(...)`` built,
    and assignments of a Media column to an attribute of a name that holds a media
    (``media``, ``item``, ``subtitle``, ``video``, ``upload`` and their plurals)."""
    found: list[str] = []
    holders = ("media", "item", "subtitle", "video", "upload")

    def is_model(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in MEDIA_MODELS) or (
            isinstance(node, ast.Attribute)
            and node.attr == "__table__"
            and isinstance(node.value, ast.Name)
            and node.value.id in MEDIA_MODELS
        )

    def targets(node: ast.AST) -> list[ast.AST]:
        if isinstance(node, ast.Assign):
            return [t for target in node.targets for t in _flatten(target)]
        if isinstance(node, ast.AugAssign | ast.AnnAssign):
            return list(_flatten(node.target))
        return []

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if isinstance(node.func, ast.Attribute):
                name = node.func.attr
            if name in ("insert", "update", "delete") and node.args and is_model(node.args[0]):
                found.append(f"line {node.lineno}: {name}({ast.unparse(node.args[0])})")
            if name in MEDIA_MODELS:
                found.append(f"line {node.lineno}: {name}(...)")
            if name == "setattr" and node.args and _holds_media(node.args[0], holders):
                found.append(f"line {node.lineno}: setattr on a media")
        for target in targets(node):
            if (
                isinstance(target, ast.Attribute)
                and target.attr in columns
                and _holds_media(target.value, holders)
            ):
                found.append(f"line {target.lineno}: {ast.unparse(target)} = ...")
    return found


def _flatten(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Tuple | ast.List):
        return [t for element in node.elts for t in _flatten(element)]
    return [node]


def _holds_media(node: ast.AST, holders: tuple[str, ...]) -> bool:
    return isinstance(node, ast.Name) and any(h in node.id.lower() for h in holders)


def test_only_uploads_queries_writes_the_upload_tables() -> None:
    columns = _media_columns()
    violations = [
        f"{module} {write}"
        for module, path in _modules()
        if module != MEDIA_WRITER and not module.startswith("app.models")
        for write in _media_writes(ast.parse(path.read_text()), columns)
    ]

    assert violations == []


@pytest.mark.parametrize(
    "source",
    [
        "await session.execute(update(Media).where(Media.id == 1).values(is_used=True))",
        "await session.execute(delete(Media).where(Media.id == 1))",
        "statement = insert(MediaSegment.__table__)",
        "session.add(Media(id=1))",
        "media.is_used = True",
        "item.state, item.progress_percent = state, 0",
        "video.alt_text += 'x'",
    ],
)
def test_the_upload_tables_check_sees_a_write(source: str) -> None:
    assert _media_writes(ast.parse(source), _media_columns()) != []


def test_the_upload_tables_check_lets_reads_and_other_tables_be() -> None:
    source = (
        "rows = await session.scalars(select(Media).where(Media.id == 1))\n"
        "job.state = JobState.DONE\n"
        "media_id = media.id\n"
        "await session.execute(delete(MediaVariant).where(MediaVariant.media_id == 1))\n"
    )

    assert _media_writes(ast.parse(source), _media_columns()) == []
