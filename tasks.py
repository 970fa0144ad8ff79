#!/usr/bin/env python3
"""Developer tasks for bbcs. Needs only Python 3.11+; everything else is installed here.

python tasks.py run            set up .venv, make a demo county site on first run, open the app
python tasks.py test           install test tools and run lint, type checks and every test
python tasks.py screenshots    render each main screen with demo data to screenshots/*.png
python tasks.py bench          build a 100,000-case database and print timings as JSON
python tasks.py bench --city   a city of 1.5 million cases on PostgreSQL: lists, search, the
                               year's bulletin, the 15th county's first upload (after `bench`)
python tasks.py bench --city-sqlite  the same on SQLite
python tasks.py package        the one-folder build (PyInstaller), its self-test, the installer
python tasks.py lint           the lock, ruff, mypy and the layer contracts (import-linter) only
python tasks.py lock           update uv.lock and requirements/*.txt (its exports) to pyproject.toml
python tasks.py translations   compile resources/translations/*.ts to .qm (pyside6-lrelease)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
DEMO_DIR = ROOT / ".demo-data"
DEMO_SITE = {
    "--site-code": "410221",
    "--site-name": "杞县办不成事监督窗口",
    "--short-name": "杞县",
    "--level": "county",
    "--window-phone": "0378-2961234",
}
DEMO_ADMIN_PASSWORD = "Admin12345"
DEMO_CASES = 3000


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


# uv.lock resolves for the two platforms we build on ([tool.uv] environments in pyproject.toml);
# requirements/<set>.txt are its hash-pinned exports, one per set of extras, which pip installs.
LOCKED_PLATFORMS = {("linux", "x86_64"), ("win32", "AMD64")}
LOCK_EXPORTS = ROOT / "requirements"
EXPORTED_EXTRAS = ("", "test", "package")


def lock_export(extras: str) -> Path:
    return LOCK_EXPORTS / f"{extras or 'app'}.txt"


def ensure_venv(extras: str = "") -> Path:
    """Create .venv and install the locked versions (requirements/*.txt, exported from uv.lock)
    and the project (editable) once per change of the lock or pyproject.toml.

    pip installs the exports with hashes, so run, test and package need only Python and pip,
    and CI tests the versions that the Linux and Windows builds ship.
    """
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py may be started by an older Python
        sys.exit(f"bbcs needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    python = venv_python()
    if not python.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    locked = lock_export(extras)
    platform_key = (sys.platform, platform.machine())
    use_lock = platform_key in LOCKED_PLATFORMS and platform.python_implementation() == "CPython"
    wanted = f".[{extras}]" if extras else "."
    digest = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + locked.read_bytes() + wanted.encode()
    ).hexdigest()
    stamp = VENV / f".installed-{extras or 'app'}"
    if stamp.exists() and stamp.read_text() == digest:
        return python
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    if use_lock:
        print(f"Installing {locked.relative_to(ROOT)} and the project into .venv …", flush=True)
        subprocess.run([*pip, "--require-hashes", "-r", str(locked)], cwd=ROOT, check=True)
        subprocess.run([*pip, "--no-deps", "-e", "."], cwd=ROOT, check=True)
    else:
        # A platform the lock does not cover: the newest versions pyproject.toml allows.
        print(f"uv.lock covers Linux and Windows on x86-64 only: installing {wanted} unlocked …")
        subprocess.run([*pip, "-e", wanted], cwd=ROOT, check=True)
    stamp.write_text(digest)
    return python


def exports_of_lock(python: Path) -> dict[Path, str]:
    """What each requirements/*.txt must hold: uv's export of uv.lock (deterministic)."""
    exports = {}
    for extras in EXPORTED_EXTRAS:
        extra = ["--extra", extras] if extras else []
        command = ["export", "--frozen", "--no-emit-project", "--format", "requirements-txt"]
        exports[lock_export(extras)] = subprocess.run(
            [str(python), "-m", "uv", *command, *extra],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return exports


def check_lock(python: Path) -> int:
    """uv.lock agrees with pyproject.toml, and requirements/*.txt are its exports."""
    print("$ uv lock --check", flush=True)
    if subprocess.run([str(python), "-m", "uv", "lock", "--check"], cwd=ROOT).returncode != 0:
        print("uv.lock is out of date: run `python tasks.py lock`.", file=sys.stderr)
        return 1
    for path, exported in exports_of_lock(python).items():
        if path.read_text("utf-8").replace("\r\n", "\n") != exported:
            name = path.relative_to(ROOT).as_posix()
            print(f"{name} is not uv.lock's export: run `python tasks.py lock`.", file=sys.stderr)
            return 1
    return 0


def cmd_lock(args: argparse.Namespace) -> int:
    """uv lock (with any options given, e.g. --upgrade-package reportlab), then its exports."""
    python = ensure_venv("test")
    subprocess.run([str(python), "-m", "uv", "lock", *args.uv_args], cwd=ROOT, check=True)
    LOCK_EXPORTS.mkdir(exist_ok=True)
    for path, exported in exports_of_lock(python).items():
        path.write_text(exported, "utf-8", newline="\n")
    return 0


def bbcs(python: Path, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(python), "-m", "desktop_app", *args], cwd=ROOT, check=True, env=env)


def ensure_demo_site(python: Path, data_dir: Path, cases: int) -> None:
    if (data_dir / "bbcs.db").exists():
        return
    print(f"Setting up a demo county site in {data_dir} …", flush=True)
    # `demo` runs as the administrator `init` makes (the command line logs in).
    env = dict(
        os.environ,
        BBCS_ADMIN_PASSWORD=DEMO_ADMIN_PASSWORD,
        BBCS_USER="admin",
        BBCS_PASSWORD=DEMO_ADMIN_PASSWORD,
    )
    site_args = [item for pair in DEMO_SITE.items() for item in pair]
    try:
        bbcs(python, "--data-dir", str(data_dir), "init", *site_args, env=env)
        bbcs(python, "--data-dir", str(data_dir), "demo", "--cases", str(cases), env=env)
    except subprocess.CalledProcessError:
        # Leave nothing half-made: the next run starts over.
        for path in sorted(data_dir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        raise


def cmd_run(args: argparse.Namespace) -> int:
    python = ensure_venv()
    ensure_demo_site(python, DEMO_DIR, args.cases)
    print()
    print("演示站点：杞县办不成事监督窗口（410221）")
    print(f"  管理员   admin     密码 {DEMO_ADMIN_PASSWORD}")
    print("  受理员   clerk1    密码 Demo12345")
    print("  带班领导 leader1   密码 Demo12345")
    print("  纪检审计 auditor   密码 Demo12345")
    print(f"  数据目录 {DEMO_DIR}")
    print()
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        print("No display found (DISPLAY is not set): cannot open the window here.")
        print("Try `python tasks.py screenshots` to render the screens to PNG files instead.")
        return 1
    if sys.platform.startswith("linux"):
        # The libraries of Qt's xcb plugin, named with the packages to install (Qt's own
        # message names libxcb-cursor0 whichever library is missing).
        check = [str(python), "-m", "desktop_app.ui.xcb_check"]
        if subprocess.run(check, cwd=ROOT).returncode != 0:
            return 1
    return subprocess.run(
        [str(python), "-m", "desktop_app", "--data-dir", str(DEMO_DIR)], cwd=ROOT
    ).returncode


# import-linter's command (lint-imports) without relying on where the venv puts its scripts.
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"


def cmd_lint(_args: argparse.Namespace) -> int:
    python = ensure_venv("test")
    steps = [
        [str(python), "-m", "ruff", "check", "desktop_app", "tests", "tasks.py"],
        [str(python), "-m", "ruff", "format", "--check", "desktop_app", "tests", "tasks.py"],
        [str(python), "-m", "mypy"],
        # The layers of DESIGN.md §7 (contracts in pyproject.toml [tool.importlinter]).
        [str(python), "-c", LINT_IMPORTS, "--no-cache"],
    ]
    if check_lock(python) != 0:
        return 1
    for step in steps:
        shown = "lint-imports --no-cache" if LINT_IMPORTS in step else " ".join(step[2:])
        print("$", shown, flush=True)
        if subprocess.run(step, cwd=ROOT).returncode != 0:
            return 1
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    if cmd_lint(args) != 0:
        print("Lint or type check failed.", file=sys.stderr)
        return 1
    python = venv_python()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # Two worker processes (pytest-xdist): the suite in about half the time on a two-core machine
    # such as CI's; the arguments given after `test` come later and win (`-n 0`: one process).
    return subprocess.run(
        [str(python), "-m", "pytest", "-n", "2", *args.pytest_args], cwd=ROOT, env=env
    ).returncode


def cmd_screenshots(args: argparse.Namespace) -> int:
    python = ensure_venv()
    data_dir = ROOT / ".demo-data"
    ensure_demo_site(python, data_dir, DEMO_CASES)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [
            str(python),
            "-m",
            "desktop_app.ui.screenshots",
            "--data-dir",
            str(data_dir),
            "--out",
            str(ROOT / "screenshots"),
        ],
        cwd=ROOT,
        env=env,
    ).returncode


def cmd_bench(args: argparse.Namespace) -> int:
    if args.frozen:
        python = ensure_venv("package")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        script = ROOT / "tests" / "bench_frozen.py"
        return subprocess.run([str(python), str(script)], cwd=ROOT, env=env).returncode
    python = ensure_venv()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if args.city_sqlite:  # 1.5 million cases on SQLite (issue 18): tests/bench_city_sqlite.py
        return subprocess.run(
            [str(python), str(ROOT / "tests" / "bench_city_sqlite.py")], cwd=ROOT, env=env
        ).returncode
    if args.city:  # 1.5 million cases on PostgreSQL (issue 18): tests/bench_city.py
        return subprocess.run(
            [str(python), str(ROOT / "tests" / "bench_city.py")], cwd=ROOT, env=env
        ).returncode
    return subprocess.run(
        [str(python), str(ROOT / "tests" / "bench.py"), "--cases", str(args.cases)],
        cwd=ROOT,
        env=env,
    ).returncode


def cmd_translations(_args: argparse.Namespace) -> int:
    """resources/translations/*.ts → .qm, next to them (both are committed; the build ships the
    .qm files). See resources/translations/README.md."""
    python = ensure_venv()
    lrelease = python.parent / ("pyside6-lrelease.exe" if os.name == "nt" else "pyside6-lrelease")
    for source in sorted((ROOT / "resources" / "translations").glob("*.ts")):
        target = source.with_suffix(".qm")
        subprocess.run([str(lrelease), str(source), "-qm", str(target)], cwd=ROOT, check=True)
    return 0


def folder_size(path: Path) -> int:
    # PyInstaller links some libraries under two names: count each file once.
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


SIZE_BUDGET_FOLDER_MB = 180  # DESIGN.md §9
SIZE_BUDGET_INSTALLER_MB = 60


def find_iscc() -> Path | None:
    """Inno Setup 6's compiler: on PATH, or where its installer (and choco) puts it."""
    import shutil

    found = shutil.which("iscc") or shutil.which("ISCC")
    if found:
        return Path(found)
    for variable in ("ProgramFiles(x86)", "ProgramFiles"):
        base = os.environ.get(variable)
        if base and (Path(base) / "Inno Setup 6" / "ISCC.exe").is_file():
            return Path(base) / "Inno Setup 6" / "ISCC.exe"
    return None


def project_version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"])


def numeric_version(version: str) -> str:
    """``0.1.0`` → ``0.1.0.0`` (Windows version resources take four numbers)."""
    from desktop_app.version import windows_version_tuple

    return ".".join(map(str, windows_version_tuple(version)))


def build_installer(python: Path, dist: Path) -> Path | None:
    """The installer for this OS from dist/bbcs: Inno Setup on Windows, a .deb on Linux."""
    import shutil

    version = project_version()
    if os.name == "nt":
        iscc = find_iscc()
        if iscc is None:
            print("Inno Setup 6 (ISCC.exe) not found: no installer built (choco install innosetup)")
            return None
        subprocess.run(
            [
                str(iscc),
                "/Qp",
                f"/DAppVersion={version}",
                f"/DNumericVersion={numeric_version(version)}",
                f"/DSourceDir={dist / 'bbcs'}",
                f"/DOutputDir={dist}",
                str(ROOT / "installer" / "bbcs.iss"),
            ],
            cwd=ROOT,
            check=True,
        )
        return dist / f"bbcs-{version}-setup.exe"
    if sys.platform.startswith("linux"):
        if not (shutil.which("dpkg-deb") and shutil.which("readelf")):
            print("dpkg-deb or readelf not found: no .deb built")
            return None
        print("Building the .deb (xz) …", flush=True)
        output = subprocess.run(
            [str(python), str(ROOT / "installer" / "build_deb.py"), "--dist", str(dist)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return Path(output.split(" (", 1)[0])
    return None


def cmd_package(args: argparse.Namespace) -> int:
    """PyInstaller one-folder build from build.spec, the built program's self-test, then the
    installer for this OS (.deb on Linux, Inno Setup on Windows); prints the sizes."""
    python = ensure_venv("package")
    dist, work = ROOT / "dist", ROOT / "build"
    subprocess.run(
        [
            str(python),
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(ROOT / "build.spec"),
        ],
        cwd=ROOT,
        check=True,
    )
    # bbcs.exe is windowed on Windows (no console output): the self-test runs bbcs-cli.exe.
    program = dist / "bbcs" / ("bbcs-cli.exe" if os.name == "nt" else "bbcs")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([str(program), "self-test"], cwd=dist, env=env)
    size = folder_size(dist / "bbcs") / 1e6
    print(f"one-folder build: {dist / 'bbcs'} ({size:.1f} MB; budget {SIZE_BUDGET_FOLDER_MB} MB)")
    if result.returncode != 0:
        print("The built program's self-test failed.", file=sys.stderr)
        return result.returncode
    status = 0 if size <= SIZE_BUDGET_FOLDER_MB else 1
    if not args.no_installer:
        installer = build_installer(python, dist)
        if installer is not None:
            installer_mb = installer.stat().st_size / 1e6
            print(
                f"installer: {installer} "
                f"({installer_mb:.1f} MB; budget {SIZE_BUDGET_INSTALLER_MB} MB)"
            )
            if installer_mb > SIZE_BUDGET_INSTALLER_MB:
                status = 1
    if status:
        print("Over the size budget.", file=sys.stderr)
    return status


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="task", required=True)
    p = sub.add_parser("run", help="open the app on a demo site")
    p.add_argument("--cases", type=int, default=DEMO_CASES)
    p = sub.add_parser("test", help="lint, type-check and run every test")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER)
    sub.add_parser("lint", help="the lock's exports, ruff, mypy and the layer contracts")
    p = sub.add_parser("lock", help="update uv.lock and requirements/*.txt from pyproject.toml")
    p.add_argument("uv_args", nargs=argparse.REMAINDER, help="passed to uv lock")
    sub.add_parser("screenshots", help="render the main screens to screenshots/")
    sub.add_parser("translations", help="compile resources/translations/*.ts to .qm")
    p = sub.add_parser(
        "package", help="build dist/bbcs with PyInstaller, self-test it, build the installer"
    )
    p.add_argument(
        "--no-installer", action="store_true", help="only the one-folder build and its self-test"
    )
    p = sub.add_parser("bench", help="benchmarks on a 100,000-case database")
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument(
        "--frozen",
        action="store_true",
        help="start-up of the built program instead (PyInstaller, tests/bench_frozen.py)",
    )
    p.add_argument(
        "--city",
        action="store_true",
        help="a city of 15 counties (1.5 million cases) on the PostgreSQL server of "
        "BBCS_TEST_PG_URL, kept in its database bbcs_city_bench: its lists, search, year's "
        "bulletin and the 15th county's first upload (tests/bench_city.py; run bench first)",
    )
    p.add_argument(
        "--city-sqlite",
        action="store_true",
        help="a city of 15 counties (1.5 million cases) on SQLite, kept under .bench/city-sqlite, "
        "the import of the 15th county's real bundle into it, its lists, search and year's "
        "bulletin (tests/bench_city_sqlite.py)",
    )
    args = parser.parse_args()
    handlers = {
        "run": cmd_run,
        "test": cmd_test,
        "lint": cmd_lint,
        "lock": cmd_lock,
        "screenshots": cmd_screenshots,
        "bench": cmd_bench,
        "package": cmd_package,
        "translations": cmd_translations,
    }
    try:
        return handlers[args.task](args)
    except subprocess.CalledProcessError as exc:
        print(f"Step failed ({exc.returncode}): {' '.join(map(str, exc.cmd))}", file=sys.stderr)
        return exc.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
