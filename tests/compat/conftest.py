"""Real client libraries against a real uvicorn over real sockets.

tweepy forces https (``API(host=, upload_host=)`` takes host[:port] only), so its server
runs with TLS from a throwaway ``trustme`` CA and ``REQUESTS_CA_BUNDLE`` names that CA.
twitter-api-v2 talks plain HTTP through a redirect plugin that plays a reverse proxy:
it sends ``X-Forwarded-Proto``/``X-Forwarded-Host`` of the URL it signed, and that
server trusts 127.0.0.1 as a proxy. The in-process worker runs, so processing finishes.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import _truncate
from tests.fixtures.live import PortTaken, free_port, wait_until_serving

BIN = Path(sys.executable).parent
COMPAT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Credentials:
    user_id: int
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    bearer_token: str


class LiveServer:
    """The service in a subprocess (``command``); proxy headers are left to the app's own
    ``oauth.trusted_proxies`` (uvicorn's rewriting is switched off)."""

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        *,
        tls: tuple[Path, Path] | None = None,
        trusted_proxies: list[str] | None = None,
        ca: Path | None = None,
    ) -> None:
        self.tls = tls
        self._use_port(free_port())
        self.started_before = False
        self.ca = ca
        self.env = {
            **os.environ,
            "MEDIASTUDIO_DATA_DIR": str(data_dir),
            "MEDIASTUDIO_DATABASE_URL": database_url,
            "MEDIASTUDIO_WORKER__IN_PROCESS": "true",
            "MEDIASTUDIO_WORKER__POLL_INTERVAL_SECS": "0.2",
            "MEDIASTUDIO_OAUTH__TRUSTED_PROXIES": json.dumps(trusted_proxies or []),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "server.log"

    def start(self) -> None:
        """Start the server; a first start moves to another port if another test run
        took this one meanwhile (a restart keeps its port: clients resume against it)."""
        for _ in range(5):
            try:
                self._start_once()
                self.started_before = True
                return
            except PortTaken:
                if self.started_before:
                    raise
                self._use_port(free_port())
        raise RuntimeError("no free port after 5 tries")

    def _use_port(self, port: int) -> None:
        self.port = port
        self.host = f"127.0.0.1:{self.port}"
        self.base = f"{'https' if self.tls else 'http'}://{self.host}"

    def command(self) -> list[str]:
        """With TLS: ``mediastudio serve --ssl-certfile --ssl-keyfile``, as the README tells
        tweepy users to run it; without: uvicorn on ``app.main``."""
        where = ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.tls:
            tls = ["--ssl-certfile", str(self.tls[0]), "--ssl-keyfile", str(self.tls[1])]
            return [str(BIN / "mediastudio"), "serve", *where, *tls]
        args = [str(BIN / "uvicorn"), "app.main:create_app", "--factory", "--no-proxy-headers"]
        return [*args, "--timeout-graceful-shutdown", "3", *where]

    def _start_once(self) -> None:
        args = self.command()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(args, env=self.env, stdout=log, stderr=log)
        with httpx.Client(verify=self.ssl_context(), timeout=1) as client:

            def healthy() -> bool:
                try:
                    return client.get(f"{self.base}/healthz").status_code == 200
                except httpx.HTTPError:
                    return False

            try:
                wait_until_serving(self.process, self.log, healthy)
            except RuntimeError:
                self.stop()
                raise

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca) if self.ca else None)

    def user(self, name: str) -> Credentials:
        out = subprocess.run(
            [str(BIN / "mediastudio"), "users", "create", name, "--json"],
            env=self.env, check=True, capture_output=True,
        )  # fmt: skip
        raw = json.loads(out.stdout)
        return Credentials(**{k: raw[k] for k in Credentials.__dataclass_fields__})

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def tls_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))
    with paths["cert"].open("wb") as out:
        for blob in cert.cert_chain_pems:
            out.write(blob.bytes())
    return paths


@pytest.fixture
async def tls_server(
    database_url: str, engine: AsyncEngine, tmp_path: Path, tls_files: dict[str, Path]
) -> AsyncIterator[LiveServer]:
    served = LiveServer(
        tmp_path / "data",
        database_url,
        tls=(tls_files["cert"], tls_files["key"]),
        ca=tls_files["ca"],
    )
    served.start()
    yield served
    served.stop()
    await _truncate(engine)


@pytest.fixture
async def proxied_server(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[LiveServer]:
    served = LiveServer(tmp_path / "data", database_url, trusted_proxies=["127.0.0.1"])
    served.start()
    yield served
    served.stop()
    await _truncate(engine)


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """``npm ci`` from the committed lockfile, once per checkout."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are required in CI")
        pytest.skip("node/npm not installed")
    installed = COMPAT / "node_modules" / "twitter-api-v2" / "package.json"
    lock = COMPAT / "package-lock.json"
    # Two runs in one checkout would otherwise both `npm ci`, each deleting the other's
    # node_modules; npm's own download cache (~/.npm) is safe to share.
    with (COMPAT / "node_modules.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=COMPAT, check=True
            )
    return COMPAT / "node_modules"
