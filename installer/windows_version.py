"""The Windows version resource of bbcs.exe and bbcs-cli.exe (Explorer's 属性 → 详细信息).

build.spec writes one PyInstaller version file per executable from the version in
pyproject.toml. Plain Python, no PyInstaller import, so a test can check it on Linux.
"""

from __future__ import annotations

from pathlib import Path

from desktop_app.version import windows_version_tuple

COMPANY = "「办不成事」监督窗口工作台开发组"
PRODUCT = "「办不成事」监督窗口工作台"
COPYRIGHT = "© 「办不成事」监督窗口工作台开发组"
LANGUAGE_ZH_CN = 0x0804  # Simplified Chinese (PRC)
CODEPAGE_UNICODE = 1200


def version_file_text(version: str, *, exe_name: str, description: str) -> str:
    """The text of a PyInstaller version file (``EXE(version=...)``) for one executable."""
    numbers = windows_version_tuple(version)
    table = f"{LANGUAGE_ZH_CN:04x}{CODEPAGE_UNICODE:04x}"
    strings = {
        "CompanyName": COMPANY,
        "FileDescription": description,
        "FileVersion": version,
        "InternalName": Path(exe_name).stem,
        "LegalCopyright": COPYRIGHT,
        "OriginalFilename": exe_name,
        "ProductName": PRODUCT,
        "ProductVersion": version,
    }
    entries = ",\n          ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return f"""# UTF-8
VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={numbers},
    prodvers={numbers},
    mask=0x3f,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0)
  ),
  kids=[
    StringFileInfo([
      StringTable(
        {table!r},
        [
          {entries}
        ])
    ]),
    VarFileInfo([VarStruct('Translation', [{LANGUAGE_ZH_CN}, {CODEPAGE_UNICODE}])])
  ]
)
"""


def write_version_file(folder: Path, version: str, *, exe_name: str, description: str) -> Path:
    """Write the version file for ``exe_name`` into ``folder``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"version-{Path(exe_name).stem}.txt"
    path.write_text(version_file_text(version, exe_name=exe_name, description=description), "utf-8")
    return path
