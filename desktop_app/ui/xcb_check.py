"""Before the window opens on Linux: are the system libraries of Qt's X11 (xcb) platform plugin
installed? Qt itself only says "xcb-cursor0 or libxcb-cursor0 is needed" whichever library is
missing; this names the missing ones and the Debian / 统信UOS / 麒麟 packages that provide them.

Cheap (one ``ldd`` of the plugin, ~50 ms) and skipped where it does not apply: not on Windows or
macOS, not when QT_QPA_PLATFORM names another platform (offscreen for tests, wayland).
Run as ``python -m desktop_app.ui.xcb_check`` (``python tasks.py run`` does): exit code 1 and
the message when something is missing.

Importing this module does not load Qt's GUI libraries.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

# What Qt 6's xcb platform plugin (libqxcb.so → libQt6XcbQpa, libQt6Gui) loads from the system,
# by soname, and the Debian package that ships each (the same names on Ubuntu, 统信UOS, 麒麟).
DEBIAN_PACKAGES: Mapping[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libOpenGL.so.0": "libopengl0",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libpng16.so.16": "libpng16-16",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libexpat.so.1": "libexpat1",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
}

# Checked by loading them when ``ldd`` is not there: the ones a fresh desktop most often lacks.
COMMONLY_MISSING = (
    "libxcb-cursor.so.0",
    "libxcb-icccm.so.4",
    "libxcb-keysyms.so.1",
    "libxcb-image.so.0",
    "libxcb-render-util.so.0",
    "libxcb-randr.so.0",
    "libxcb-shape.so.0",
    "libxcb-xkb.so.1",
    "libxkbcommon-x11.so.0",
    "libX11-xcb.so.1",
    "libEGL.so.1",
    "libGL.so.1",
)

_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)


# Libraries that come with PySide6 (or the bbcs build) itself: missing means a broken install.
_BUNDLED = re.compile(r"^lib(Qt6|icu|pyside6|shiboken6)")


def debian_packages(sonames: Iterable[str]) -> tuple[list[str], list[str]]:
    """The Debian packages that provide ``sonames``, sorted and without repeats, and the sonames
    no package is known for (their package is found with ``apt-file search <soname>``).
    Qt's own libraries are in neither list: see :func:`bundled`."""
    packages: set[str] = set()
    unknown: list[str] = []
    for soname in sonames:
        if _BUNDLED.match(soname):
            continue
        package = DEBIAN_PACKAGES.get(soname)
        if package is None:
            unknown.append(soname)
        else:
            packages.add(package)
    return sorted(packages), sorted(set(unknown))


def bundled(sonames: Iterable[str]) -> list[str]:
    """The missing libraries that PySide6 or the bbcs build should have brought along."""
    return [soname for soname in sonames if _BUNDLED.match(soname)]


def missing_in_ldd_output(output: str) -> list[str]:
    """The sonames ``ldd`` reports as "not found", in order, without repeats."""
    return list(dict.fromkeys(_NOT_FOUND.findall(output)))


def applies(platform: str = sys.platform, environ: Mapping[str, str] = os.environ) -> bool:
    """Only Linux with Qt's xcb platform: not Windows, not offscreen (tests), not wayland."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    return not chosen or chosen.split(":", 1)[0].split(";", 1)[0] == "xcb"


def xcb_plugin() -> Path | None:
    """Qt's xcb platform plugin in this installation (a virtualenv or the PyInstaller build)."""
    # QtCore only: the GUI libraries, and the plugin with its missing libraries, stay unloaded.
    from PySide6.QtCore import QLibraryInfo

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    plugin = plugins / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_libraries(plugin: Path | None = None) -> list[str]:
    """The sonames Qt's xcb plugin needs that this system does not have."""
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return []
    ldd = shutil.which("ldd")
    if ldd is not None:
        try:
            result = subprocess.run(
                [ldd, str(plugin)], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.SubprocessError):
            pass
        else:
            return missing_in_ldd_output(result.stdout + result.stderr)
    missing = []
    for soname in COMMONLY_MISSING:
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(soname)
    return missing


def message(missing: list[str]) -> str:
    """What to install, in Chinese and English."""
    packages, unknown = debian_packages(missing)
    names = "、".join(missing)
    lines = [
        f"无法打开窗口：Qt 的 X11（xcb）平台插件缺少以下系统库：{names}",
        "请在终端中安装（Debian、统信UOS、银河麒麟、Ubuntu）：",
    ]
    install = f"  sudo apt-get install {' '.join(packages)}" if packages else ""
    if install:
        lines.append(install)
    if unknown:
        lines.append(f"  以下库可用 apt-file search 查找所属的软件包：{' '.join(unknown)}")
    own = bundled(missing)
    if own:
        lines.append(f"  {' '.join(own)} 应随程序一起安装：请重新安装 bbcs。")
    lines += [
        "",
        f"Cannot open the window: Qt's X11 (xcb) platform plugin needs system libraries that "
        f"are missing: {', '.join(missing)}",
        "Install them (Debian, UOS, Kylin, Ubuntu):",
    ]
    if install:
        lines.append(install)
    if unknown:
        lines.append(f"  Find the package of these with apt-file search: {' '.join(unknown)}")
    if own:
        lines.append(f"  {' '.join(own)} come with the program: reinstall bbcs (or PySide6).")
    return "\n".join(lines)


def check() -> str | None:
    """The message to show when the window cannot open for missing libraries, else None."""
    if not applies():
        return None
    missing = missing_libraries()
    return message(missing) if missing else None


def main() -> int:
    problem = check()
    if problem is None:
        return 0
    print(problem, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
