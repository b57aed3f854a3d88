"""Canaries for the third-party internals the fast path leans on.

pyproject.toml caps SQLAlchemy, aiosqlite, FastAPI and Starlette at the versions tested
because of what is checked here. Each assertion names one private (or undocumented)
attribute, the file of ours that relies on it, and what to do when it is gone. When one
fails after an upgrade: fix the file it names (or drop the hack if the reason for it is
gone: docs/perf/ has the measurements), then raise the bound and run ``make lock``.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.sql.compiler import SQLCompiler

from app.infra.sqlite_inloop import InLoopConnector

AIOSQLITE_ADAPTER = "sqlalchemy.dialects.sqlite.aiosqlite.AsyncAdapt_aiosqlite_connection"


def _gone(what: str, used_by: str, todo: str) -> str:
    return f"{what} changed or is gone ({used_by} relies on it): {todo}"


def _adapter() -> type[Any]:
    from sqlalchemy.dialects.sqlite import aiosqlite as sa_aiosqlite

    adapter: type[Any] | None = getattr(sa_aiosqlite, "AsyncAdapt_aiosqlite_connection", None)
    assert adapter is not None, _gone(
        AIOSQLITE_ADAPTER,
        "app/infra/sqlite_inloop.py (InLoopConnection mimics what it calls on aiosqlite)",
        "read SQLAlchemy's new aiosqlite adapter and make InLoopConnection match it",
    )
    return adapter


class TestSQLAlchemyAiosqliteAdapter:
    """app/infra/sqlite_inloop.py hands SQLAlchemy's aiosqlite adapter a connection of
    its own (docs/perf/sqlite-inloop.md); the adapter reaches into aiosqlite's privates,
    so the in-loop connection carries the same ones."""

    SHIM = "app/infra/sqlite_inloop.py (InLoopConnection)"

    def test_the_adapter_class_exists(self) -> None:
        assert inspect.isclass(_adapter())

    def test_isolation_level_goes_through_the_tx_queue(self) -> None:
        source = inspect.getsource(_adapter())

        assert "self._connection._tx.put_nowait(" in source, _gone(
            f"{AIOSQLITE_ADAPTER}.isolation_level's use of aiosqlite's private `_tx` queue",
            self.SHIM + " provides `_tx` (_ImmediateQueue) for it",
            "see how the adapter now sets isolation_level and provide that instead",
        )

    def test_isolation_level_reaches_the_sqlite3_connection_as_conn(self) -> None:
        source = inspect.getsource(_adapter())

        assert "self._connection._conn" in source, _gone(
            f"{AIOSQLITE_ADAPTER}'s use of aiosqlite's private `_conn` (the sqlite3 connection)",
            self.SHIM + " keeps its sqlite3 connection as `_conn` for it",
            "expose the sqlite3 connection under the name the adapter now uses",
        )

    def test_commit_and_rollback_check_connection_is_open(self) -> None:
        source = inspect.getsource(_adapter())

        assert "if self._connection._connection" in source, _gone(
            f"{AIOSQLITE_ADAPTER}.commit/rollback's check of aiosqlite's private `_connection`",
            self.SHIM + " sets `_connection` so that commit and rollback run",
            "provide what the adapter now checks before commit/rollback",
        )

    def test_terminate_calls_stop(self) -> None:
        source = inspect.getsource(_adapter())

        assert "self._connection.stop" in source, _gone(
            f"{AIOSQLITE_ADAPTER}'s force-close through aiosqlite's `stop()`",
            self.SHIM + " implements `stop()` for it",
            "implement what the adapter now calls to terminate a connection",
        )

    async def test_the_in_loop_connection_has_what_the_adapter_touches(
        self, tmp_path: Path
    ) -> None:
        connection = await InLoopConnector(str(tmp_path / "x.db"), uri=False, timeout=1).connect()
        try:
            missing = [
                name
                for name in ("_tx", "_conn", "_connection", "stop", "create_function", "cursor")
                if not hasattr(connection, name)
            ]
        finally:
            await connection.close()

        assert missing == [], (
            f"app/infra/sqlite_inloop.py's InLoopConnection lost {missing}, which "
            f"{AIOSQLITE_ADAPTER} uses: put them back (see that adapter's source)"
        )

    async def test_the_in_loop_cursor_has_what_the_adapter_cursor_calls(
        self, tmp_path: Path
    ) -> None:
        from sqlalchemy.connectors import asyncio as sa_asyncio

        source = inspect.getsource(sa_asyncio.AsyncAdapt_dbapi_cursor)
        called = set(re.findall(r"self\._cursor\.(\w+)", source))
        # Called only for server-side cursors, nextset() and setinputsizes(), which the
        # service never uses (and aiosqlite's own cursor lacks the last two as well).
        unused = {"__aiter__", "nextset", "setinputsizes"}
        connection = await InLoopConnector(str(tmp_path / "x.db"), uri=False, timeout=1).connect()
        try:
            cursor = connection.cursor()
            missing = sorted(name for name in called - unused if not hasattr(cursor, name))
            await cursor.close()
        finally:
            await connection.close()

        assert called, _gone(
            "sqlalchemy.connectors.asyncio.AsyncAdapt_dbapi_cursor's `self._cursor`",
            "app/infra/sqlite_inloop.py (_Cursor mimics aiosqlite.Cursor for it)",
            "read the adapter cursor and make _Cursor provide what it calls",
        )
        assert missing == [], (
            f"SQLAlchemy's adapter cursor now calls {missing} on the driver cursor, which "
            "app/infra/sqlite_inloop.py's _Cursor lacks: add them there"
        )

    def test_the_dialect_parses_sqlite_urls_for_the_connector(self) -> None:
        from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

        args, options = SQLiteDialect_aiosqlite().create_connect_args(
            sqlalchemy.make_url("sqlite+aiosqlite:///var/x.db?uri=true")
        )

        assert (args[0], bool(options.get("uri"))) == ("var/x.db", True), _gone(
            "SQLiteDialect_aiosqlite.create_connect_args's (args, options) shape",
            "app/infra/db.py (_sqlite_database reads the file name and `uri` from it)",
            "take the database path and uri flag from the new return value",
        )


class TestSQLAlchemyCompiler:
    """app/infra/statements.py compiles Core statements once and binds their parameters
    itself (docs/perf/statements-and-group-commit.md), through compiler attributes that
    SQLAlchemy does not document as API."""

    TABLE = Table("t", MetaData(), Column("a", Integer), Column("b", String, default="x"))

    def _compiled(self) -> SQLCompiler:
        from sqlalchemy.dialects import sqlite

        compiled = insert(self.TABLE).compile(dialect=sqlite.dialect(), column_keys=["a", "b"])
        assert isinstance(compiled, SQLCompiler), _gone(
            "Compiled statements as sqlalchemy.sql.compiler.SQLCompiler",
            "app/infra/statements.py",
            "find where the compiled SQL and its bind names now live",
        )
        return compiled

    def test_positional_bind_names_are_in_positiontup(self) -> None:
        compiled = self._compiled()

        assert list(compiled.positiontup or []) == ["a", "b"], _gone(
            "SQLCompiler.positiontup (bind names in placeholder order)",
            "app/infra/statements.py (_Compiled.names orders the parameters by it)",
            "order parameters by what the compiler now exposes",
        )

    def test_binds_carry_their_effective_value(self) -> None:
        compiled = self._compiled()

        assert set(compiled.binds) >= {"a", "b"}, _gone(
            "SQLCompiler.binds (name -> BindParameter)",
            "app/infra/statements.py (bind processors and defaults come from it)",
            "read bind parameters from where the compiler now keeps them",
        )
        assert hasattr(compiled.binds["a"], "effective_value"), _gone(
            "BindParameter.effective_value",
            "app/infra/statements.py (a statement's literal parameters)",
            "read a bound literal's value from its new attribute",
        )


class TestStarlette:
    async def test_request_body_is_cached_as_underscore_body(self) -> None:
        from starlette.requests import Request

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"a=1", "more_body": False}

        request = Request({"type": "http", "method": "POST", "headers": []}, receive)
        await request.body()

        assert getattr(request, "_body", None) == b"a=1", _gone(
            "starlette.requests.Request._body (the cached body)",
            "app/http/forms.py (_small_body reuses a body already read)",
            "read the cached body from where Starlette now keeps it",
        )

    async def test_setting_underscore_body_replays_it(self) -> None:
        from starlette.requests import Request

        async def receive() -> dict[str, Any]:
            raise AssertionError("the body was set; nothing should be received")

        request = Request({"type": "http", "method": "POST", "headers": []}, receive)
        request._body = b"signed"
        replayed = [chunk async for chunk in request.stream() if chunk]

        assert (replayed, await request.body()) == ([b"signed"], b"signed"), _gone(
            "starlette.requests.Request._body (assigned, replayed by stream() and body())",
            "app/http/auth/oauth1.py (the OAuth 1.0a check reads a urlencoded body first, "
            "the route reads it again)",
            "hand the body on another way, e.g. a request.state attribute the forms read",
        )

    def test_form_parsers_take_their_limits(self) -> None:
        from starlette import formparsers

        multipart = inspect.signature(formparsers.MultiPartParser).parameters
        urlencoded = inspect.signature(formparsers.FormParser).parameters
        wanted = {"max_files", "max_fields", "max_part_size"}
        taken = (wanted & set(multipart), {"max_fields", "max_part_size"} & set(urlencoded))

        assert taken == (wanted, {"max_fields", "max_part_size"}), _gone(
            "starlette.formparsers.MultiPartParser/FormParser's max_* arguments",
            "app/http/v11/account.py (profile image upload parses its form with them)",
            "pass the limits the new way, or read the form through app/http/forms.py",
        )
        assert hasattr(formparsers.MultiPartException("x"), "message"), _gone(
            "starlette.formparsers.MultiPartException.message",
            "app/http/v11/account.py (the 400 names the parse error)",
            "read the message with str(exc)",
        )


class TestFastAPI:
    def test_included_routers_are_still_wrapped(self) -> None:
        from fastapi import routing

        assert hasattr(routing, "_IncludedRouter"), _gone(
            "fastapi.routing._IncludedRouter (include_router wraps a router, so each "
            "request is matched twice)",
            "app/main.py (the v1.1 media routes go straight into app.router.routes because "
            "of it; docs/perf/route-table.md)",
            "check whether include_router now adds routes flat; if so, measure INIT and "
            "STATUS with plain include_router (make bench) and drop the hack",
        )

    def test_the_route_table_is_a_plain_list(self) -> None:
        from fastapi import APIRouter, FastAPI

        app, router = FastAPI(), APIRouter()

        @router.get("/x")
        async def x() -> None: ...

        app.router.routes.extend(router.routes)

        assert router.routes[0] in app.router.routes, _gone(
            "FastAPI's app.router.routes as a mutable list of routes",
            "app/main.py (extends it with the v1.1 media routes)",
            "include the v1.1 router the supported way (docs/perf/route-table.md)",
        )


class TestPythonMultipart:
    def test_streaming_parser_calls_back_per_part(self) -> None:
        from python_multipart.multipart import MultipartParser, parse_options_header

        events: list[str] = []
        data: list[bytes] = []

        def on(name: str) -> Any:
            return lambda *args: events.append(name)

        def on_part_data(chunk: bytes, start: int, end: int) -> None:
            data.append(chunk[start:end])

        parser = MultipartParser(
            b"B",
            {
                "on_part_begin": on("part_begin"),
                "on_header_field": on("header_field"),
                "on_header_value": on("header_value"),
                "on_header_end": on("header_end"),
                "on_headers_finished": on("headers_finished"),
                "on_part_data": on_part_data,
                "on_part_end": on("part_end"),
            },
        )
        parser.write(b'--B\r\nContent-Disposition: form-data; name="m"\r\n\r\nbytes\r\n--B--\r\n')
        parser.finalize()

        assert (events[0], events[-1]) == ("part_begin", "part_end"), _gone(
            "python_multipart.multipart.MultipartParser's callbacks",
            "app/http/forms.py (APPEND's streaming multipart reader)",
            "adapt _multipart_events to the parser's new callbacks",
        )
        assert b"".join(data) == b"bytes", _gone(
            "MultipartParser's on_part_data(data, start, end)",
            "app/http/forms.py (media bytes are sliced from it)",
            "adapt on_part_data to the new signature",
        )
        assert parse_options_header(b"multipart/form-data; boundary=B") == (
            b"multipart/form-data",
            {b"boundary": b"B"},
        ), _gone(
            "python_multipart.multipart.parse_options_header (not in the package's __all__)",
            "app/http/forms.py, app/http/v2/params.py, app/http/v11/account.py, "
            "app/http/auth/oauth1.py",
            "parse Content-Type with the replacement or a helper of our own",
        )


class TestUvicornHttpTools:
    """app/infra/http_protocol.py subclasses uvicorn's httptools protocol for the header
    timeout and the header size cap; it overrides these methods and reads these
    attributes, none of which uvicorn documents."""

    SUBCLASS = "app/infra/http_protocol.py (TimedHttpToolsProtocol)"

    def _protocol(self) -> type[Any]:
        from uvicorn.protocols.http import httptools_impl

        protocol: type[Any] | None = getattr(httptools_impl, "HttpToolsProtocol", None)
        assert protocol is not None, _gone(
            "uvicorn.protocols.http.httptools_impl.HttpToolsProtocol",
            self.SUBCLASS,
            "subclass uvicorn's new HTTP/1.1 protocol class, or drop the header timeout if "
            "uvicorn now has one (a `timeout_*` option of uvicorn.Config)",
        )
        return protocol

    def test_the_hooks_it_overrides_are_there(self) -> None:
        protocol = self._protocol()
        hooks = (
            "connection_made",
            "connection_lost",
            "data_received",
            "on_message_begin",
            "on_headers_complete",
            "on_response_complete",
        )
        missing = [name for name in hooks if not callable(getattr(protocol, name, None))]

        assert missing == [], _gone(
            f"HttpToolsProtocol's {missing}",
            self.SUBCLASS + " arms and cancels its timer in them",
            "find where the new protocol starts a request, completes its headers and "
            "finishes its response, and hook there",
        )

    def test_the_attributes_it_reads_are_set_in_init(self) -> None:
        source = inspect.getsource(self._protocol().__init__)
        used = ("self.loop", "self.transport", "self.server_state", "self.pipeline")
        missing = [name for name in used if not re.search(rf"{name}\b[^=\n]*=", source)]

        assert missing == [], _gone(
            f"HttpToolsProtocol's {missing}",
            self.SUBCLASS + " schedules its timer on `loop`, writes and closes through "
            "`transport`, sends `server_state.default_headers`, checks `pipeline`",
            "read the new names in the subclass",
        )

    def test_default_headers_are_pairs_of_bytes(self) -> None:
        from uvicorn.server import ServerState

        state = ServerState()

        assert isinstance(getattr(state, "default_headers", None), list), _gone(
            "uvicorn.server.ServerState.default_headers (date, server)",
            self.SUBCLASS + " (its 408 and 431 carry them)",
            "take the default headers from where uvicorn now keeps them",
        )

    def test_a_protocol_class_can_be_named_by_import_path(self) -> None:
        import uvicorn

        config = uvicorn.Config(
            "app.serve:create_served_app", http=self.SUBCLASS_PATH, log_config=None
        )
        config.load_app = lambda: None  # type: ignore[method-assign]

        config.load()

        assert config.http_protocol_class.__name__ == "TimedHttpToolsProtocol", _gone(
            "uvicorn.Config(http=<import path>) (HTTP_PROTOCOLS.get(name, name))",
            "app/serve.py (server_options names the protocol class by its path)",
            "pass the class itself (with workers > 1 it must then be importable by name)",
        )

    SUBCLASS_PATH = "app.infra.http_protocol:TimedHttpToolsProtocol"
