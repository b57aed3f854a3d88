"""Fixtures of the Producer's tests: ``live_stack`` runs ``mediastudio serve`` with its
nginx RTMP ingest (RTMPS with a throwaway CA's certificate) on the test run's database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import _truncate
from tests.live.stack import LiveStack, require_live


@pytest.fixture(scope="session")
def live_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """RTMPS's certificate and key from a throwaway CA, and that CA (the encoders verify
    the server against it)."""
    folder = tmp_path_factory.mktemp("live-tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_path, key_path, ca_path = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    return cert_path, key_path, ca_path


@pytest.fixture
async def live_stack(
    database_url: str, engine: AsyncEngine, tmp_path: Path, live_tls: tuple[Path, Path, Path]
) -> AsyncIterator[LiveStack]:
    require_live()
    stack = LiveStack(tmp_path / "data", database_url, tls=live_tls)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
        await _truncate(engine)
    # serve and its live ingest stop cleanly on SIGTERM: the monitor's tick finishes, no
    # database call is cut short.
    assert "Traceback" not in stack.log.read_text(errors="replace")
