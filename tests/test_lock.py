"""The environment the tests run in is the lock's: every package of requirements/test.txt (the
export of uv.lock that tasks.py installs) at its locked version, the same version the Linux and
Windows builds ship from requirements/package.txt."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def locked(name: str) -> dict[str, str]:
    """Package → version for this platform, from requirements/<name>.txt."""
    pins = {}
    for line in (ROOT / "requirements" / f"{name}.txt").read_text("utf-8").splitlines():
        match = PIN.match(line)
        if match is None:
            continue
        package, pinned, marker = match.groups()
        if marker is None or Marker(marker).evaluate():
            pins[canonicalize_name(package)] = pinned
    return pins


def test_every_export_pins_with_hashes() -> None:
    for name in ("app", "test", "package"):
        text = (ROOT / "requirements" / f"{name}.txt").read_text("utf-8")
        packages = [line for line in text.splitlines() if PIN.match(line)]
        assert packages, name
        assert text.count("--hash=sha256:") >= len(packages), name


def test_the_builds_ship_the_tested_versions() -> None:
    tested, shipped = locked("test"), locked("package")
    assert {package: tested[package] for package in locked("app")} == locked("app")
    assert {package: shipped[package] for package in locked("app")} == locked("app")


def test_the_test_environment_is_the_lock() -> None:
    pins = locked("test")
    if not pins:
        pytest.skip("uv.lock covers Linux and Windows on x86-64 only")
    wrong = {}
    for package, pinned in pins.items():
        try:
            installed = version(package)
        except PackageNotFoundError:
            installed = "missing"
        if installed == "missing" or Version(installed) != Version(pinned):
            wrong[package] = f"{installed} (locked {pinned})"
    assert not wrong, f"not the locked versions, run `python tasks.py lint` to reinstall: {wrong}"
