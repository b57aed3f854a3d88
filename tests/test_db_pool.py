"""The server database's connection pool follows the settings (SQLite has none to size)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from httpx import ASGITransport, AsyncClient
from sqlalchemy.pool import QueuePool

from app.context import AppContext
from app.main import create_app
from tests.conftest import make_settings


async def test_the_pool_is_sized_by_the_settings(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        database_url, tmp_path / "data", database_pool_size=7, database_max_overflow=3
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        context: AppContext = app.state.context
        pool = cast(QueuePool, context.engine.pool)
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            health = await client.get("/healthz")

    assert health.status_code == 200  # on SQLite the sizes are ignored, without error
    if not database_url.startswith("sqlite"):
        assert pool.size() == 7
        assert pool._max_overflow == 3
