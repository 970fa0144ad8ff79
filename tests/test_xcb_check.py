"""Linux: the missing libraries of Qt's xcb plugin are named with the packages to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.ui import xcb_check
from desktop_app.ui.xcb_check import (
    applies,
    bundled,
    debian_packages,
    message,
    missing_in_ldd_output,
)

# `ldd libqxcb.so` on a Debian 12 desktop without libxcb-icccm4 and libxcb-keysyms1.
LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd7a5f2000)
\tlibQt6XcbQpa.so.6 => /opt/bbcs/_internal/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f2c1c000000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f2c1bf00000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f2c1be00000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2c1ba00000)
"""


def test_ldd_output_gives_the_missing_sonames_once() -> None:
    assert missing_in_ldd_output(LDD_OUTPUT) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing_in_ldd_output("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_sonames_map_to_debian_packages() -> None:
    assert debian_packages(["libxcb-keysyms.so.1", "libxcb-icccm.so.4"]) == (
        ["libxcb-icccm4", "libxcb-keysyms1"],
        [],
    )
    assert debian_packages(["libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libEGL.so.1"]) == (
        ["libegl1", "libxcb-cursor0", "libxkbcommon-x11-0"],
        [],
    )
    # Two sonames from one package, an unknown one, and one of Qt's own libraries.
    packages, unknown = debian_packages(
        ["libglib-2.0.so.0", "libgthread-2.0.so.0", "libfoo.so.3", "libQt6XcbQpa.so.6"]
    )
    assert packages == ["libglib2.0-0"]
    assert unknown == ["libfoo.so.3"]
    assert bundled(["libQt6XcbQpa.so.6", "libxcb1.so.1", "libicuuc.so.73"]) == [
        "libQt6XcbQpa.so.6",
        "libicuuc.so.73",
    ]


def test_every_library_the_plugin_links_has_a_package() -> None:
    """The map covers what Qt's xcb plugin links (as ldd lists it where all are installed)."""
    plugin = xcb_check.xcb_plugin() if sys.platform.startswith("linux") else None
    if plugin is None:
        pytest.skip("no Qt xcb plugin here")
    output = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    linked = [line.split()[0] for line in output.splitlines() if "=>" in line]
    system = [n for n in linked if "xcb" in n or "xkb" in n or n.startswith(("libX", "libGL"))]
    assert system
    _packages, unknown = debian_packages(system)
    assert unknown == []


def test_the_message_names_the_packages_in_chinese_and_english() -> None:
    text = message(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libQt6XcbQpa.so.6"])
    assert "缺少以下系统库" in text and "missing" in text
    assert text.count("sudo apt-get install libxcb-icccm4 libxcb-keysyms1") == 2
    assert "重新安装" in text and "reinstall" in text
    assert "libxcb-cursor0" not in text  # Qt's own message would have named this one


def test_the_check_applies_only_to_linux_with_xcb() -> None:
    assert applies("linux", {})
    assert applies("linux", {"QT_QPA_PLATFORM": "xcb"})
    assert applies("linux", {"QT_QPA_PLATFORM": "xcb:nograb"})
    assert not applies("linux", {"QT_QPA_PLATFORM": "offscreen"})
    assert not applies("linux", {"QT_QPA_PLATFORM": "wayland"})
    assert not applies("win32", {})
    assert not applies("darwin", {})


def test_missing_libraries_reads_ldd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    fake_ldd = tmp_path / "ldd"
    fake_ldd.write_text(f"#!/bin/sh\ncat <<'EOF'\n{LDD_OUTPUT}EOF\n")
    fake_ldd.chmod(0o755)
    if not sys.platform.startswith("linux"):
        pytest.skip("ldd is Linux's")
    monkeypatch.setattr(xcb_check.shutil, "which", lambda name: str(fake_ldd))
    assert xcb_check.missing_libraries(plugin) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_the_module_run_as_a_program_is_quiet_when_it_does_not_apply() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app.ui.xcb_check"],
        capture_output=True,
        text=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_the_app_stops_with_the_message_before_qt_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop_app.ui import app

    monkeypatch.setattr(app, "setup_logging", lambda data_dir: None)  # no log file left behind
    text = message(["libxcb-icccm.so.4"])
    monkeypatch.setattr(xcb_check, "check", lambda: text)
    monkeypatch.setattr(app, "make_application", lambda: pytest.fail("Qt started"))
    assert app.run_gui(tmp_path / "数据") == 2
    assert "sudo apt-get install libxcb-icccm4" in capsys.readouterr().err
