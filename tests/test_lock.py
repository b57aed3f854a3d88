"""The lock files in requirements/ agree with pyproject.toml (`make lock` rewrites them)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pins(lock: str) -> dict[str, Version]:
    text = (ROOT / "requirements" / lock).read_text()
    return {
        canonicalize_name(name): Version(version)
        for name, version in re.findall(r"^([A-Za-z0-9._-]+)==(\S+) \\$", text, re.MULTILINE)
    }


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("runtime.lock", PROJECT["dependencies"]),
        ("dev.lock", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
    ],
)
def test_every_requirement_is_pinned_within_its_range(lock: str, requirements: list[str]) -> None:
    pins = _pins(lock)
    wrong = []
    for line in requirements:
        requirement = Requirement(line)
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or pinned not in requirement.specifier:
            wrong.append(f"{requirement} (locked: {pinned})")

    assert wrong == [], f"requirements/{lock} is stale: run `make lock` ({wrong})"


def test_runtime_and_dev_locks_pin_the_same_versions() -> None:
    runtime, dev = _pins("runtime.lock"), _pins("dev.lock")

    differ = {name: (v, dev.get(name)) for name, v in runtime.items() if dev.get(name) != v}

    assert differ == {}, f"run `make lock`: runtime.lock and dev.lock differ on {differ}"


def test_every_pin_carries_a_hash() -> None:
    for lock in ("runtime.lock", "dev.lock"):
        text = (ROOT / "requirements" / lock).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1])
        unhashed = [e.split()[0] for e in entries if "==" in e and "--hash=sha256:" not in e]

        assert unhashed == [], f"requirements/{lock}: no hash for {unhashed}; run `make lock`"
