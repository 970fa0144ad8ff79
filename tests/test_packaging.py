"""Packaging: one version everywhere, the Windows version resource, the icon, the .deb's control
data and desktop entry, the Inno Setup script — and the built artefacts when CI has built them
(`python tasks.py package` runs before the tests; locally these skip without a dist/)."""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import struct
import subprocess
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

import desktop_app
from desktop_app.version import UNKNOWN, read_version, windows_version_tuple

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
PROGRAM = DIST / "bbcs" / ("bbcs-cli.exe" if os.name == "nt" else "bbcs")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bbcs_{name}", ROOT / "installer" / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# One version -----------------------------------------------------------------------------------


def test_the_version_comes_from_pyproject() -> None:
    assert read_version() == VERSION
    assert desktop_app.__version__ == VERSION


def test_a_checkout_pyproject_wins_and_a_foreign_one_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "bbcs"\nversion = "9.8.7"\n')
    assert read_version(tmp_path) == "9.8.7"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\nversion = "1.0"\n')
    assert read_version(tmp_path) != "1.0"
    (tmp_path / "pyproject.toml").write_text("not toml [")
    assert read_version(tmp_path) in (VERSION, UNKNOWN)  # installed metadata, if any


@pytest.mark.parametrize(
    ("version", "numbers"),
    [
        ("0.1.0", (0, 1, 0, 0)),
        ("1.2", (1, 2, 0, 0)),
        ("2026.11.3.7", (2026, 11, 3, 7)),
        ("1.2.0rc1", (1, 2, 0, 0)),
        ("1.4.0+local.5", (1, 4, 0, 0)),
        ("70000.1.0", (65535, 1, 0, 0)),
    ],
)
def test_windows_version_numbers(version: str, numbers: tuple[int, int, int, int]) -> None:
    assert windows_version_tuple(version) == numbers


# Windows version resource -------------------------------------------------------------------


def test_the_windows_version_resource_is_chinese_and_carries_the_version(tmp_path: Path) -> None:
    windows_version = load("windows_version.py")
    path = windows_version.write_version_file(
        tmp_path, "1.2.3", exe_name="bbcs-cli.exe", description="工作台（命令行）"
    )
    text = path.read_text("utf-8")
    tree = ast.parse(text, mode="eval")  # PyInstaller evaluates this text as Python
    strings = {
        node.args[0].value: node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "StringStruct"
        and all(isinstance(arg, ast.Constant) for arg in node.args)
    }
    assert strings["FileVersion"] == strings["ProductVersion"] == "1.2.3"
    assert strings["OriginalFilename"] == "bbcs-cli.exe"
    assert strings["FileDescription"] == "工作台（命令行）"
    assert "办不成事" in strings["ProductName"] and "办不成事" in strings["CompanyName"]
    assert "filevers=(1, 2, 3, 0)" in text
    assert "'080404b0'" in text and "[2052, 1200]" in text  # zh-CN, Unicode


# Icon -------------------------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_icon_exists_at_every_size() -> None:
    icons = ROOT / "resources" / "icons"
    for size in load("build_deb.py").ICON_SIZES:
        assert png_size(icons / f"bbcs-{size}.png") == (size, size)
    assert png_size(icons / "bbcs.png") == (256, 256)
    ico = (icons / "bbcs.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1)
    sizes = {ico[6 + 16 * i] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sizes


# The .deb ---------------------------------------------------------------------------------------


def test_depends_maps_system_libraries_and_asks_for_the_newest_glibc() -> None:
    build_deb = load("build_deb.py")
    depends = build_deb.system_dependencies(
        ["libGL.so.1", "libxcb-cursor.so.0", "libc.so.6", "libm.so.6", "libxcb.so.1"],
        ["2.2.5", "2.34", "2.17", "2.4"],
        lookup=False,
    )
    assert depends == ["libc6 (>= 2.34)", "libgl1", "libxcb-cursor0", "libxcb1"]


def test_an_unknown_system_library_stops_the_build() -> None:
    build_deb = load("build_deb.py")
    with pytest.raises(LookupError, match=r"libmystery\.so\.1"):
        build_deb.system_dependencies(["libmystery.so.1"], [], lookup=False)


def test_the_control_file_and_desktop_entry() -> None:
    build_deb = load("build_deb.py")
    control = build_deb.control_text("0.1.0", "amd64", 150_000, ["libc6 (>= 2.36)", "libgl1"])
    fields = dict(
        line.split(": ", 1) for line in control.splitlines() if line and not line.startswith(" ")
    )
    assert fields["Package"] == "bbcs"
    assert fields["Version"] == "0.1.0"
    assert fields["Architecture"] == "amd64"
    assert fields["Depends"] == "libc6 (>= 2.36), libgl1"
    assert fields["Installed-Size"] == "150000"
    entry = dict(line.split("=", 1) for line in build_deb.DESKTOP_ENTRY.splitlines() if "=" in line)
    assert entry["Name[zh_CN]"] == "办不成事监督窗口工作台"
    assert entry["Exec"] == "bbcs" and entry["Icon"] == "bbcs" and entry["Terminal"] == "false"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="no desktop-file-utils")
def test_the_desktop_entry_validates(tmp_path: Path) -> None:
    path = tmp_path / "bbcs.desktop"
    path.write_text(load("build_deb.py").DESKTOP_ENTRY, "utf-8")
    result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# Inno Setup -------------------------------------------------------------------------------------


def test_the_inno_setup_script_keeps_user_data_and_upgrades_in_place() -> None:
    raw = (ROOT / "installer" / "bbcs.iss").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, or ISCC reads the Chinese as ANSI
    script = raw.decode("utf-8-sig")
    sections: dict[str, list[str]] = {}
    current = ""
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1]
        elif stripped and not stripped.startswith(";"):
            sections.setdefault(current, []).append(stripped)
    setup = dict(line.split("=", 1) for line in sections["Setup"])
    assert setup["AppId"].startswith("{{")
    assert setup["DefaultDirName"] == "{autopf}\\bbcs"
    assert setup["PrivilegesRequired"] == "admin"
    assert setup["Compression"].startswith("lzma2")
    assert setup["AppVersion"] == "{#AppVersion}"
    # Nothing the installer or uninstaller deletes is in the user's data folder.
    for section in ("InstallDelete", "UninstallDelete"):
        for line in sections.get(section, []):
            assert "localappdata" not in line.lower() and "{app}" in line
    # The Chinese wizard: the unofficial translation, from the compiler or from installer/.
    assert sections["Languages"] == [
        'Name: "chinesesimplified"; MessagesFile: "{#ChineseMessages}"'
    ]
    assert "Languages\\Unofficial\\ChineseSimplified.isl" in script
    assert any("runasoriginaluser" in line for line in sections["Run"])


# The built artefacts (CI builds them before the tests) ------------------------------------------

needs_build = pytest.mark.skipif(not PROGRAM.exists(), reason="no dist/bbcs: run tasks.py package")


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@needs_build
def test_the_build_is_within_budget_and_carries_only_what_the_app_uses() -> None:
    folder = DIST / "bbcs"
    assert folder_size(folder) <= 180_000_000
    names = [p.relative_to(folder).as_posix() for p in folder.rglob("*")]
    assert not [n for n in names if "Qt6Quick" in n or "WebEngine" in n or "wayland" in n.lower()]
    translations = [n for n in names if "/translations/" in n and n.endswith(".qm")]
    assert translations and all("zh_CN" in n for n in translations)
    assert any(n.endswith("resources/icons/bbcs.png") for n in names)
    assert any(n.endswith("resources/fonts/DroidSansFallbackFull.ttf") for n in names)
    assert any("psycopg_binary" in n for n in names)  # PostgreSQL for the city level


@needs_build
def test_the_built_program_reports_the_version() -> None:
    result = subprocess.run(
        [str(PROGRAM), "--version"], capture_output=True, text=True, encoding="utf-8", timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"bbcs {VERSION}"


def built_deb() -> Path | None:
    found = sorted(DIST.glob(f"bbcs_{VERSION}_*.deb")) if DIST.exists() else []
    return found[0] if found and shutil.which("dpkg-deb") else None


@pytest.mark.skipif(built_deb() is None, reason="no .deb built (or no dpkg-deb)")
def test_the_deb_installs_the_program_a_command_a_menu_entry_and_icons() -> None:
    deb = built_deb()
    assert deb is not None
    assert deb.stat().st_size <= 60_000_000
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    assert "./opt/bbcs/bbcs" in listing
    assert "./usr/bin/bbcs -> /opt/bbcs/bbcs" in listing
    assert "./usr/share/applications/bbcs.desktop" in listing
    assert "./usr/share/icons/hicolor/256x256/apps/bbcs.png" in listing
    assert "./usr/share/icons/hicolor/16x16/apps/bbcs.png" in listing

    def field(name: str) -> str:
        return subprocess.run(
            ["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True
        ).stdout.strip()

    assert field("Package") == "bbcs"
    assert field("Version") == VERSION
    depends = field("Depends")
    assert "libc6 (>= " in depends and "libxkbcommon" in depends
