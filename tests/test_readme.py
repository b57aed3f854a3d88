"""README.md's examples work as written: every fenced block whose first line is
``# example: NAME`` runs against a real uvicorn (``Served``: its own data folder and
SQLite database, the in-process worker on) with real media from tests/fixtures/media.py.

Shell blocks run under ``bash -euo pipefail`` with ``inherit_errexit`` (a failing curl
fails the example); Python blocks with this venv's python. The tweepy ``API`` example
needs https: it runs against a second ``Served`` over TLS (a throwaway trustme CA).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from app.migrate import upgrade_to_head
from tests.fixtures import media
from tests.fixtures.served import Served

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning"),
]

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"^```(sh|python)\n# example: ([a-z0-9-]+)\n(.*?)^```$", re.M | re.S)
# One per area of the product; removing one from the README fails the test.
REQUIRED = {
    "v11-chunked-upload", "v11-simple-upload", "v2-upload-json", "v2-upload-command-form",
    "posts-v11", "posts-v2", "alt-text", "subtitles", "dms", "profile-images", "delivery",
    "cli-upload", "tweepy-api", "tweepy-client", "studio",
}  # fmt: skip


@dataclass(frozen=True)
class Example:
    name: str
    language: str
    code: str


def examples(text: str) -> dict[str, Example]:
    found: dict[str, Example] = {}
    for language, name, body in BLOCK.findall(text):
        assert name not in found, f"two README examples are called {name!r}"
        found[name] = Example(name, language, f"# example: {name}\n{body}")
    return found


EXAMPLES = examples(README.read_text())


def _serve_has_tls() -> bool:
    out = subprocess.run(
        [str(Path(sys.executable).parent / "mediastudio"), "serve", "--help"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return "--ssl-certfile" in out.stdout


class TlsServed(Served):
    """``Served`` over https: ``mediastudio serve --ssl-certfile --ssl-keyfile``, the
    command the README names, or uvicorn's ``--ssl-*`` while serve has no such options
    (a transition: drop the fallback once serve has them)."""

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        log: Path,
        *,
        tls: tuple[Path, Path],
        **settings: str,
    ) -> None:
        super().__init__(data_dir, database_url, log, **settings)
        self.tls = tls

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cert, key = self.tls
        if _serve_has_tls():
            return [
                str(Path(sys.executable).parent / "mediastudio"), "serve", "--host", "127.0.0.1",
                "--port", str(self.port), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key),
            ]  # fmt: skip
        return [*super().command(), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]


def _tools() -> None:
    missing = [tool for tool in ("curl", "jq") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the README examples need {missing} in CI")
        pytest.skip(f"the README examples need {missing}")


def _user(served: Served, name: str) -> dict[str, str]:
    out = subprocess.run(
        [str(Path(sys.executable).parent / "mediastudio"), "users", "create", name, "--json"],
        env=served.env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return {key: str(value) for key, value in json.loads(out.stdout).items()}


@pytest.fixture(scope="module")
def example_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The variables the examples read, for a plain and a TLS server on one database."""
    _tools()
    root = tmp_path_factory.mktemp("readme")
    url = f"sqlite+aiosqlite:///{root / 'readme.db'}"
    upgrade_to_head(url)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_pem, cert_pem, key_pem = root / "ca.pem", root / "cert.pem", root / "key.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    cert.private_key_pem.write_to_path(str(key_pem))
    cert_pem.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    settings = {"worker__poll_interval_secs": "0.2"}
    plain = Served(root / "data", url, root / "plain.log", **settings)
    tls = TlsServed(root / "data", url, root / "tls.log", tls=(cert_pem, key_pem), **settings)
    patch = pytest.MonkeyPatch()
    patch.setenv("SSL_CERT_FILE", str(ca_pem))  # Served's health check (httpx) trusts the CA
    try:
        plain.start()
        tls.start()
        alice, bob = _user(plain, "alice"), _user(plain, "bob")
        work = root / "cwd"  # examples run here; `.venv/bin/...` is this venv
        work.mkdir()
        (work / ".venv").symlink_to(Path(sys.prefix))
        yield {
            **{k: v for k, v in os.environ.items() if not k.startswith("MEDIASTUDIO_")},
            "CWD": str(work),
            "XDG_CACHE_HOME": str(root / "cache"),
            "REQUESTS_CA_BUNDLE": str(ca_pem),
            "BASE": plain.base,
            "HOST": tls.base.removeprefix("https://"),
            "TOKEN": alice["bearer_token"],
            "CONSUMER_KEY": alice["consumer_key"],
            "CONSUMER_SECRET": alice["consumer_secret"],
            "ACCESS_TOKEN": alice["access_token"],
            "ACCESS_TOKEN_SECRET": alice["access_token_secret"],
            "BOB_ID": bob["user_id"],
            "BOB_TOKEN": bob["bearer_token"],
            "VIDEO": str(media.make_mp4(root / "clip.mp4")),
            "IMAGE": str(media.make_png(root / "image.png")),
            "GIF": str(media.make_animated_gif(root / "anim.gif")),
        }
    finally:
        patch.undo()
        plain.stop()
        tls.stop()


def test_every_area_has_an_example() -> None:
    assert set(EXAMPLES) >= REQUIRED, f"README lacks examples {REQUIRED - set(EXAMPLES)}"


def test_the_two_commands_come_first() -> None:
    lines = README.read_text().splitlines()

    assert lines[:3] == ["# Media Studio API", "", "```sh"]
    assert lines[3].startswith("make serve   # ")
    assert lines[4].startswith("make test    # ")
    assert lines[5] == "```"


def test_the_quick_start_sets_up_before_it_creates_a_user() -> None:
    quick = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    steps = ["make setup", "mediastudio users create alice --json", "make serve", "/readyz"]
    positions = [quick.index(step) for step in steps]

    assert positions == sorted(positions)
    assert "--retry-connrefused" in quick


def _run(example: Example, env: dict[str, str], cwd: str) -> str | None:
    """None when the example succeeded and printed something, else what went wrong."""
    if example.language == "sh":
        command = ["bash", "-euo", "pipefail", "-O", "inherit_errexit", "-c", example.code]
    else:
        command = [sys.executable, "-W", "ignore::DeprecationWarning", "-c", example.code]
    try:
        done = subprocess.run(
            command, env=env, cwd=cwd, capture_output=True, text=True, timeout=180
        )
    except subprocess.TimeoutExpired as timeout:
        return f"timed out:\n{timeout.stdout!r}\n{timeout.stderr!r}"
    if done.returncode != 0:
        return f"exit {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return None if done.stdout.strip() else "printed nothing"


def test_every_example_runs(example_env: dict[str, str]) -> None:
    """One test, so one pair of servers, whatever the number of xdist workers; a failing
    example is named with its output."""
    env = {k: v for k, v in example_env.items() if k != "CWD"}
    failures = {
        name: failure
        for name, example in EXAMPLES.items()
        if (failure := _run(example, env, example_env["CWD"])) is not None
    }

    assert failures == {}, "\n\n".join(f"README example {n!r} {f}" for n, f in failures.items())
