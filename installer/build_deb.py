#!/usr/bin/env python3
"""Build the Debian package of bbcs from the PyInstaller one-folder build.

    python installer/build_deb.py [--dist dist] [--version 0.1.0]

Writes ``dist/bbcs_<version>_<arch>.deb`` with:

* ``/opt/bbcs/`` — the one-folder build (``dist/bbcs``), unchanged;
* ``/usr/bin/bbcs`` — a symlink to ``/opt/bbcs/bbcs``, so ``bbcs backup`` works in a terminal;
* ``/usr/share/applications/bbcs.desktop`` — the menu entry (Chinese name and comment);
* ``/usr/share/icons/hicolor/<N>x<N>/apps/bbcs.png`` — the icon at every size;
* ``Depends`` computed from the build: every shared library a bundled binary links against
  that the build does not carry (libGL, xcb, xkbcommon, fontconfig, CUPS, D-Bus, glibc with the
  newest symbol version used), mapped to its Debian package — what dpkg-shlibdeps would do.

Why a .deb and not an AppImage: 统信UOS and 麒麟 Kylin are Debian/Ubuntu-based and install
software with dpkg/apt and their app stores, which take .deb packages; an office's IT staff
deploy and remove a .deb with the tools they already use. An AppImage needs FUSE (often absent
or locked down on these desktops), does not put itself in the menu, and cannot be managed by
apt. The data folder (~/.local/share/bbcs) is not part of the package: removing or upgrading
the package never touches it.

Plain Python plus ``dpkg-deb`` and ``readelf`` (binutils), no Debian packaging toolchain.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
MAINTAINER = "「办不成事」监督窗口工作台开发组 <bbcs@localhost>"

# soname → Debian package, for the libraries the build leaves to the system (build.spec,
# SYSTEM_LIBRARIES, and what PyInstaller never bundles: glibc, libGL/libEGL). Names as in
# Debian 12 and the UOS/Kylin releases based on it; newer releases' renamed packages (t64)
# provide these names.
SONAME_PACKAGES: dict[str, str] = {
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libresolv.so.2": "libc6",
    "libutil.so.1": "libc6",
    "ld-linux-x86-64.so.2": "libc6",
    "ld-linux-aarch64.so.1": "libc6",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
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
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libcups.so.2": "libcups2",
    "libz.so.1": "zlib1g",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
}

DESKTOP_ENTRY = """\
[Desktop Entry]
Type=Application
Version=1.0
Name=Banbucheng Supervision Window
Name[zh_CN]=办不成事监督窗口工作台
GenericName=Supervision window workbench
GenericName[zh_CN]=“办不成事”反映窗口登记与督办
Comment=Register, assign and follow up matters reported at the supervision window
Comment[zh_CN]=登记“办不成事”反映事项，签发交办单，按工作日督办、回访与统计
Exec=bbcs
Icon=bbcs
Terminal=false
Categories=Office;
Keywords=bbcs;banbucheng;
Keywords[zh_CN]=办不成事;监督窗口;交办单;督办;
StartupWMClass=bbcs
"""


def read_version() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return str(project["version"])


def debian_architecture() -> str:
    try:
        return subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        machine = platform.machine().lower()
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def _is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and _is_elf(p))


def needed_and_glibc(path: Path) -> tuple[list[str], list[str]]:
    """The sonames ``path`` links against and the GLIBC_x.y versions it asks for."""
    output = subprocess.run(
        ["readelf", "-d", "-V", "-W", str(path)], capture_output=True, text=True, check=False
    ).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", output)
    glibc = re.findall(r"Name: GLIBC_([0-9.]+)", output)
    return needed, glibc


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def system_dependencies(
    sonames: Iterable[str], glibc_versions: Iterable[str], *, lookup: bool = True
) -> list[str]:
    """Debian ``Depends`` entries for the libraries a build takes from the system.

    Raises:
        LookupError: a soname neither :data:`SONAME_PACKAGES` nor ``dpkg -S`` can place.
    """
    packages: set[str] = set()
    unknown: list[str] = []
    for soname in sorted(set(sonames)):
        package = SONAME_PACKAGES.get(soname) or (_dpkg_owner(soname) if lookup else None)
        if package is None:
            unknown.append(soname)
        else:
            packages.add(package)
    if unknown:
        raise LookupError(
            "no Debian package known for " + ", ".join(unknown) + " — add it to SONAME_PACKAGES"
        )
    versions = sorted(set(glibc_versions), key=_version_key)
    entries = []
    for package in sorted(packages | {"libc6"}):
        if package == "libc6" and versions:
            entries.append(f"libc6 (>= {versions[-1]})")
        else:
            entries.append(package)
    return entries


def _dpkg_owner(soname: str) -> str | None:
    try:
        result = subprocess.run(
            ["dpkg", "-S", f"*/{soname}"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    for line in result.stdout.splitlines():
        package = line.split(":", 1)[0].strip()
        if package:
            return package
    return None


def unbundled_libraries(folder: Path) -> tuple[set[str], set[str]]:
    """Sonames the build's binaries need but do not carry, and their GLIBC versions."""
    files = elf_files(folder)
    carried = {p.name for p in folder.rglob("*")}
    wanted: set[str] = set()
    glibc: set[str] = set()
    for path in files:
        needed, versions = needed_and_glibc(path)
        wanted.update(n for n in needed if n not in carried)
        glibc.update(versions)
    # Libraries that only a pruned Qt component would load are never loaded at run time.
    return wanted, glibc


def control_text(version: str, arch: str, installed_kib: int, depends: list[str]) -> str:
    return (
        "Package: bbcs\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(depends)}\n"
        "Section: misc\n"
        "Priority: optional\n"
        "Description: 「办不成事」监督窗口工作台\n"
        ' The desktop workbench of the county and city "banbucheng" (can\'t-get-it-done)\n'
        " supervision windows: register matters, sign assignment slips, follow deadlines\n"
        " in Chinese working days, return visits and reports. Offline, Chinese UI.\n"
        " .\n"
        " 县（区）、市两级政务服务大厅“办不成事”反映窗口的桌面工作台。\n"
        " 数据保存在 ~/.local/share/bbcs，卸载或升级本软件包不会删除数据。\n"
    )


def _tree_size_kib(folder: Path) -> int:
    total = sum(p.lstat().st_size for p in folder.rglob("*") if not p.is_dir())
    return (total + 1023) // 1024


def stage(build: Path, staging: Path, version: str, arch: str) -> None:
    """Lay out the package tree in ``staging`` from the one-folder build ``build``."""
    if staging.exists():
        shutil.rmtree(staging)
    opt = staging / "opt" / "bbcs"
    shutil.copytree(build, opt, symlinks=True)
    (staging / "usr" / "bin").mkdir(parents=True)
    (staging / "usr" / "bin" / "bbcs").symlink_to("/opt/bbcs/bbcs")
    applications = staging / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / "bbcs.desktop").write_text(DESKTOP_ENTRY, "utf-8")
    icons = ROOT / "resources" / "icons"
    for size in ICON_SIZES:
        target = staging / "usr" / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True)
        shutil.copyfile(icons / f"bbcs-{size}.png", target / "bbcs.png")
    doc = staging / "usr" / "share" / "doc" / "bbcs"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "bbcs — 「办不成事」监督窗口工作台. Bundles Qt (LGPL-3.0, via PySide6), Python (PSF),\n"
        "and the Droid Sans Fallback font (Apache-2.0, /opt/bbcs/_internal/resources/fonts).\n",
        "utf-8",
    )
    unbundled, glibc = unbundled_libraries(opt)
    depends = system_dependencies(unbundled, glibc)
    debian = staging / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(
        control_text(version, arch, _tree_size_kib(staging), depends), "utf-8"
    )
    for path in [staging, *staging.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            executable = path.stat().st_mode & 0o111
            path.chmod(0o755 if executable else 0o644)


def build_deb(dist: Path, version: str | None = None) -> Path:
    """Build ``dist/bbcs_<version>_<arch>.deb`` from ``dist/bbcs``; returns its path."""
    version = version or read_version()
    arch = debian_architecture()
    build = dist / "bbcs"
    if not (build / "bbcs").is_file():
        raise FileNotFoundError(f"{build / 'bbcs'} is missing: run `python tasks.py package`")
    staging = ROOT / "build" / "deb" / f"bbcs_{version}_{arch}"
    stage(build, staging, version, arch)
    out = dist / f"bbcs_{version}_{arch}.deb"
    out.unlink(missing_ok=True)
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "-z9", "--build", str(staging), str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--version", default=None)
    args = parser.parse_args(argv)
    if shutil.which("dpkg-deb") is None or shutil.which("readelf") is None:
        print("dpkg-deb and readelf (binutils) are needed to build the .deb", file=sys.stderr)
        return 1
    out = build_deb(args.dist, args.version)
    print(f"{out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
