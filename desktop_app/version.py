"""The release version, read from its single source: ``[project] version`` in pyproject.toml.

* From a source checkout the checkout's pyproject.toml is read, so an edited version shows at
  once (the editable install's metadata only changes on reinstall).
* A PyInstaller build carries the same pyproject.toml next to the package (build.spec), which
  is faster at start-up than importing importlib.metadata (~25 ms).
* From an installed wheel, the installed distribution's metadata has it.
"""

from __future__ import annotations

import re
from pathlib import Path

DISTRIBUTION = "bbcs"
UNKNOWN = "0+unknown"


def _from_pyproject(path: Path) -> str | None:
    """``[project] version`` of a pyproject.toml naming this distribution.

    Read with a pattern rather than tomllib: the version is read at every start and the TOML
    parser costs more than the rest of it (the file is ours and written in the usual form).
    """
    try:
        text = path.read_text("utf-8")
    except OSError:
        return None
    section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    if section is None:
        return None
    fields = dict(re.findall(r'^(name|version)\s*=\s*"([^"\n]*)"', section.group(1), re.MULTILINE))
    if fields.get("name") != DISTRIBUTION:
        return None
    return fields.get("version") or None


def read_version(checkout: Path | None = None) -> str:
    """The version of bbcs: the checkout's pyproject.toml, else the installed metadata."""
    root = checkout if checkout is not None else Path(__file__).resolve().parent.parent
    found = _from_pyproject(root / "pyproject.toml")
    if found:
        return found
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN


def windows_version_tuple(version: str) -> tuple[int, int, int, int]:
    """``0.1.0`` → ``(0, 1, 0, 0)``: the four 16-bit numbers of a Windows version resource.

    Pre-release or local suffixes (``1.2.0rc1``, ``1.2.0+abc``) are dropped from a part.
    """
    numbers: list[int] = []
    for part in version.split("+", 1)[0].split(".")[:4]:
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        numbers.append(min(int(digits or 0), 0xFFFF))
    numbers += [0] * (4 - len(numbers))
    return (numbers[0], numbers[1], numbers[2], numbers[3])


__version__ = read_version()
