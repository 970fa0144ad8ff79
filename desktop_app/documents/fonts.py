"""Fonts for every printed document (DESIGN.md §5), registered with reportlab once per process.

Type follows GB/T 9704-2012: the title in 方正小标宋简体 (or another 小标宋), the body and
the 发文字号 in 仿宋_GB2312 (or 仿宋), the form's labels in 黑体. They are looked for among the
installed fonts:

* Windows: the names in the registry (HKLM and HKCU ``...\\Windows NT\\CurrentVersion\\Fonts``; a
  per-user font's value is its full path under %LOCALAPPDATA%\\Microsoft\\Windows\\Fonts), then the
  well-known file names (simfang.ttf …) in %WINDIR%\\Fonts and the per-user folder.
* Elsewhere: fontconfig (``fc-list``), or, without it, the font folders' file names.

A font that is missing stands in from the next of its role's list, down to the bundled Droid Sans
Fallback (Apache-2.0, a 黑体-like TrueType font); :attr:`FontSet.choices` says which font stands
in for which, and the settings page and the preview show it. Droid has no Latin letters or
digits, so the Bitstream Vera Sans that ships with reportlab is always in the fallback chain.

Text is drawn glyph by glyph from the first font of a chain that has the glyph
(:func:`font_runs`). A character no font has is reported (:func:`missing_glyphs`), never
dropped silently: a wrong name on an official paper is worse than a warning.

Only TrueType (glyf) fonts can be embedded by reportlab, so a CFF-flavoured OpenType font is
passed over (:func:`truetype_faces`); a .ttc collection is used by its subfont index. Every font
is embedded as a subset. Fallback fonts are registered lazily, the first time a text needs them,
because parsing a Windows CJK font takes a noticeable fraction of a second.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import struct
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import reportlab  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped,unused-ignore]

from desktop_app.paths import resources_dir

__all__ = [
    "BUNDLED_FONT_FILE",
    "BUNDLED_FONT_NAME",
    "LATIN_FONT_NAME",
    "OFFICIAL_FONT_FILES",
    "FontChoice",
    "FontSet",
    "InstalledFont",
    "choose_fonts",
    "current_fonts",
    "find_official_fonts",
    "font_notice",
    "font_runs",
    "installed_fonts",
    "linux_fonts",
    "missing_glyphs",
    "register_fonts",
    "string_width",
    "truetype_faces",
    "windows_fonts",
]

_log = logging.getLogger(__name__)

BUNDLED_FONT_FILE = "DroidSansFallbackFull.ttf"

# Key → (file name in %WINDIR%\Fonts, what a clerk calls it). Matched case-insensitively.
OFFICIAL_FONT_FILES: dict[str, tuple[str, str]] = {
    "xiaobiaosong": ("fzxbsjw.ttf", "方正小标宋简体"),
    "fangsong_gb2312": ("仿宋_gb2312.ttf", "仿宋_GB2312"),
    "simhei": ("simhei.ttf", "黑体"),
    "simfang": ("simfang.ttf", "仿宋"),
    "simsun": ("simsun.ttc", "宋体"),
    "simsunb": ("simsunb.ttf", "宋体-ExtB"),
}

# Key → the family names a system may list it under (Chinese and English Windows, fontconfig).
FAMILY_NAMES: dict[str, tuple[str, ...]] = {
    "xiaobiaosong": (
        "方正小标宋简体",
        "方正小标宋_GBK",
        "方正小标宋",
        "FZXiaoBiaoSong-B05S",
        "FZXiaoBiaoSong-B05",
    ),
    "fangsong_gb2312": ("仿宋_GB2312", "FangSong_GB2312"),
    "simfang": ("仿宋", "FangSong", "华文仿宋", "STFangsong"),
    "simhei": ("黑体", "SimHei"),
    "simsun": ("宋体", "SimSun"),
    # Windows' own; elsewhere (统信, 麒麟 …) 花園明朝 B, a free TrueType font with Ext. B to F
    # (a walk installed it and was still refused: only the Windows names were looked for).
    "simsunb": ("宋体-ExtB", "SimSun-ExtB", "HanaMinB", "花園明朝B", "Hanazono Mincho B"),
}

# Each role: what GB/T 9704 asks for, then the fonts that stand in, in order (the bundled font
# last, always). A role label is what the settings page and the preview call it.
_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "title": ("标题", ("xiaobiaosong", "simhei", "simsun", "simfang")),
    "body": ("正文和发文字号", ("fangsong_gb2312", "simfang", "simsun", "simhei")),
    "heading": ("表格栏目", ("simhei", "simsun", "simfang")),
}
_WANTED = {"title": "方正小标宋简体", "body": "仿宋_GB2312", "heading": "黑体"}
_GOOD_ENOUGH = {"title": 1, "body": 2, "heading": 1}  # how many of the list are not stand-ins

# reportlab font names (they also become the embedded subsets' base names' suffix).
_NAMES = {
    "xiaobiaosong": "bbcs-XiaoBiaoSong",
    "fangsong_gb2312": "bbcs-FangSongGB2312",
    "simhei": "bbcs-SimHei",
    "simfang": "bbcs-FangSong",
    "simsun": "bbcs-SimSun",
    "simsunb": "bbcs-SimSunExtB",
    "bundled": "bbcs-DroidSansFallback",
    "latin": "bbcs-Vera",
}
_LABELS = {key: label for key, (_file, label) in OFFICIAL_FONT_FILES.items()}
_BUNDLED_LABEL = "Droid Sans Fallback（程序自带）"
_STANDARD_LATIN = "Helvetica"
BUNDLED_FONT_NAME = _NAMES["bundled"]  # always known (a fallback at least), so usable by name
LATIN_FONT_NAME = _NAMES["latin"]


@dataclass(frozen=True)
class _FontFile:
    path: Path
    subfont_index: int = 0  # for .ttc collections


@dataclass(frozen=True)
class InstalledFont:
    """A font face the system lists: its family name, file and index in a .ttc collection."""

    family: str
    path: Path
    subfont_index: int = 0


@dataclass(frozen=True)
class FontChoice:
    """Which font a role of the paper (标题, 正文…) is printed in, and whether it stands in."""

    role: str  # 标题, 正文和发文字号, 表格栏目
    wanted: str  # what GB/T 9704 asks for, e.g. 方正小标宋简体
    used: str  # what is used, e.g. 黑体 or Droid Sans Fallback（程序自带）
    path: Path
    stand_in: bool

    def describe(self) -> str:
        if not self.stand_in:
            return f"{self.role}：{self.used}"
        return f"{self.role}：本机未安装{self.wanted}，以{self.used}代替"


@dataclass(frozen=True)
class FontSet:
    """The fonts a document draws with.

    Attributes:
        title: reportlab font name for titles (小标宋, or what stands in).
        body: reportlab font name for body text and the number (仿宋, or what stands in).
        paths: every font this set may use (title, body and fallbacks), name → file.
        fallbacks: further font names, tried in order for a glyph the main font lacks.
        heading: reportlab font name for a form's labels (黑体, or what stands in).
        choices: per role, the font used and whether it stands in for the one asked for.
    """

    title: str
    body: str
    paths: dict[str, Path]
    fallbacks: tuple[str, ...] = field(default=())
    heading: str = ""
    choices: tuple[FontChoice, ...] = field(default=())

    def chain(self, primary: str) -> tuple[str, ...]:
        """``primary`` first, then the other fonts of the set, each once."""
        names = (primary, self.title, self.body, *self.fallbacks)
        return tuple(dict.fromkeys(names))


def find_official_fonts(fonts_dir: Path) -> dict[str, Path]:
    """The official fonts (keys of :data:`OFFICIAL_FONT_FILES`) present in ``fonts_dir``.

    File names are matched case-insensitively, as Windows does (``SIMHEI.TTF`` is common).
    A missing or unreadable folder yields ``{}``.
    """
    try:
        entries = {p.name.lower(): p for p in fonts_dir.iterdir() if p.is_file()}
    except OSError:
        return {}
    found: dict[str, Path] = {}
    for key, (file_name, _label) in OFFICIAL_FONT_FILES.items():
        path = entries.get(file_name)
        if path is not None:
            found[key] = path
    return found


def truetype_faces(path: Path) -> int:
    """How many TrueType (glyf) faces ``path`` holds: 0 for CFF (.otf) or not a font at all.

    Read from the sfnt header alone, so checking a 20 MB collection costs a few bytes.
    """
    try:
        with path.open("rb") as file:
            head = file.read(12)
            if head[:4] != b"ttcf":
                return 1 if head[:4] in (b"\x00\x01\x00\x00", b"true") else 0
            count = struct.unpack(">I", head[8:12])[0]
            offsets = struct.unpack(f">{count}I", file.read(4 * count))
            flavours = []
            for offset in offsets:
                file.seek(offset)
                flavours.append(file.read(4))
    except (OSError, struct.error):
        return 0
    return count if all(f in (b"\x00\x01\x00\x00", b"true") for f in flavours) else 0


def _face_is_truetype(font: InstalledFont) -> bool:
    return truetype_faces(font.path) > font.subfont_index


RegistryReader = Callable[[], Iterable[tuple[str, str]]]


def _read_windows_registry() -> list[tuple[str, str]]:
    """(value name, data) of the Fonts keys of HKLM and then HKCU (Windows only)."""
    winreg: Any = importlib.import_module("winreg")  # Windows only (and typed as such)

    key_path = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Fonts"
    entries: list[tuple[str, str]] = []
    for hive in (winreg.HKEY_LOCAL_MACHINE, winreg.HKEY_CURRENT_USER):
        try:
            with winreg.OpenKey(hive, key_path) as key:
                index = 0
                while True:
                    try:
                        name, data, _kind = winreg.EnumValue(key, index)
                    except OSError:
                        break
                    entries.append((str(name), str(data)))
                    index += 1
        except OSError:
            continue
    return entries


def windows_fonts(
    system_dir: Path, user_dir: Path | None, registry: RegistryReader
) -> list[InstalledFont]:
    """The fonts Windows lists in its registry, then the official ones found by file name.

    A registry value is named like ``仿宋_GB2312 (TrueType)`` or, for a collection,
    ``SimSun & NSimSun (TrueType)`` (faces in file order); its data is a file name in
    ``system_dir`` or, for a font installed for one user only, a full path.
    """
    found: list[InstalledFont] = []
    try:
        entries = list(registry())
    except OSError as exc:
        _log.warning("读取注册表中的字体列表失败：%s", exc)
        entries = []
    for name, data in entries:
        names = name.rsplit(" (", 1)[0] if name.endswith(")") else name
        path = Path(data)
        if not path.is_absolute():
            path = system_dir / data
            if not path.is_file() and user_dir is not None and (user_dir / data).is_file():
                path = user_dir / data
        for index, family in enumerate(names.split(" & ")):
            found.append(InstalledFont(family.strip(), path, index))
    for folder in (system_dir, *([user_dir] if user_dir else [])):
        for key, path in find_official_fonts(folder).items():
            found.append(InstalledFont(_LABELS[key], path))
    return found


def _run_fc_list() -> str:
    """fontconfig's list of fonts: file, face index and family names, one face a line."""
    program = shutil.which("fc-list")
    if program is None:
        return ""
    try:
        result = subprocess.run(
            [program, "--format=%{file}\t%{index}\t%{family}\n"],
            capture_output=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        _log.warning("fc-list 运行失败：%s", exc)
        return ""
    return result.stdout.decode("utf-8", "replace")


def _linux_font_dirs() -> list[Path]:
    home = Path.home()
    return [
        Path("/usr/share/fonts"),
        Path("/usr/local/share/fonts"),
        home / ".local" / "share" / "fonts",
        home / ".fonts",
    ]


def linux_fonts(
    fc_list: Callable[[], str] = _run_fc_list, font_dirs: Sequence[Path] | None = None
) -> list[InstalledFont]:
    """The fonts fontconfig lists; without fontconfig, the official ones found by file name."""
    found: list[InstalledFont] = []
    for line in fc_list().splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        file_name, index, families = parts
        for family in families.split(","):
            found.append(InstalledFont(family.strip(), Path(file_name), int(index)))
    if found:
        return found
    for folder in _linux_font_dirs() if font_dirs is None else font_dirs:
        try:
            folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
        except OSError:
            continue
        for sub in folders:
            for key, path in find_official_fonts(sub).items():
                found.append(InstalledFont(_LABELS[key], path))
    return found


def _windows_font_dirs() -> tuple[Path, Path | None]:
    system = Path(os.environ.get("WINDIR") or r"C:\Windows") / "Fonts"
    local = os.environ.get("LOCALAPPDATA")
    # fonts installed "for this user only" (Windows 10 1809+)
    return system, (Path(local) / "Microsoft" / "Windows" / "Fonts" if local else None)


def installed_fonts() -> list[InstalledFont]:
    """This computer's installed fonts, by the means its system offers."""
    if sys.platform == "win32":
        system, user = _windows_font_dirs()
        return windows_fonts(system, user, _read_windows_registry)
    return linux_fonts()


def _latin_font_path() -> Path:
    return Path(reportlab.__file__).resolve().parent / "fonts" / "Vera.ttf"


_lock = threading.RLock()
_known: dict[str, _FontFile] = {}  # font name → file, registered or not yet
_failed: set[str] = set()
_font_set: FontSet | None = None


def _register(name: str) -> bool:
    """Register ``name`` with reportlab if that has not been done; False if it cannot be."""
    with _lock:
        if name in _failed:
            return False
        if name in pdfmetrics.getRegisteredFontNames():
            return True
        source = _known.get(name)
        if source is None:
            return False
        try:
            font = TTFont(name, str(source.path), subfontIndex=source.subfont_index)
        except Exception as exc:  # TTFError (e.g. embedding not allowed), OSError, bad data
            _log.warning("字体 %s 无法使用（%s）：%s", name, source.path, exc)
            _failed.add(name)
            return False
        pdfmetrics.registerFont(font)
        return True


def _official(installed: Iterable[InstalledFont]) -> dict[str, InstalledFont]:
    """Key of :data:`FAMILY_NAMES` → the first installed TrueType face of that family."""
    by_family: dict[str, InstalledFont] = {}
    for font in installed:
        by_family.setdefault(font.family.casefold(), font)
    found: dict[str, InstalledFont] = {}
    for key, families in FAMILY_NAMES.items():
        for family in families:
            face = by_family.get(family.casefold())
            if face is not None and _face_is_truetype(face):
                found[key] = face
                break
    return found


def _name_for(key: str, source: _FontFile) -> str:
    """The reportlab name of an official font's file: another file of the same font (a set
    chosen earlier in this process) gets a name of its own, as reportlab keeps the first."""
    name, count = _NAMES[key], 1
    while name in _known and _known[name] != source:
        count += 1
        name = f"{_NAMES[key]}-{count}"
    _known[name] = source
    return name


def choose_fonts(installed: Iterable[InstalledFont]) -> FontSet:
    """The font set for these installed fonts: each role's first usable font, and what stands in.

    A font that reportlab cannot load (embedding not allowed, a damaged file) is passed over.
    """
    bundled = _NAMES["bundled"]
    _known.setdefault(bundled, _FontFile(resources_dir() / "fonts" / BUNDLED_FONT_FILE))
    latin = _NAMES["latin"]
    _known.setdefault(latin, _FontFile(_latin_font_path()))
    official = _official(installed)
    names = {key: _name_for(key, _FontFile(f.path, f.subfont_index)) for key, f in official.items()}

    chosen: dict[str, str] = {}
    choices: list[FontChoice] = []
    for role, (label, keys) in _ROLES.items():
        used = next((k for k in keys if k in names and _register(names[k])), None)
        if used is None and not _register(bundled):
            raise RuntimeError(f"找不到可用的中文字体：{_known[bundled].path}")
        name = names[used] if used else bundled
        chosen[role] = name
        stand_in = used is None or keys.index(used) >= _GOOD_ENOUGH[role]
        used_label = official[used].family if used else _BUNDLED_LABEL
        choices.append(FontChoice(label, _WANTED[role], used_label, _known[name].path, stand_in))
    title, body, heading = chosen["title"], chosen["body"], chosen["heading"]
    extras = [names[k] for k in ("simsun", "simhei", "simfang", "simsunb") if k in names]
    # Helvetica (a standard font, not embedded) only ever draws a glyph if Vera is missing,
    # e.g. from a frozen build that left reportlab's fonts out: digits beat "[U+0032]".
    chain = [heading, *extras, bundled, latin, _STANDARD_LATIN]
    fallbacks = tuple(n for n in dict.fromkeys(chain) if n not in (title, body))
    return FontSet(
        title=title,
        body=body,
        paths={n: _known[n].path for n in dict.fromkeys([title, body, *fallbacks]) if n in _known},
        fallbacks=fallbacks,
        heading=heading,
        choices=tuple(choices),
    )


def register_fonts() -> FontSet:
    """Register the document fonts with reportlab (once; later calls return the same set)."""
    global _font_set
    with _lock:
        if _font_set is None:
            _font_set = choose_fonts(installed_fonts())
        return _font_set


def current_fonts() -> FontSet | None:
    """The fonts papers are printed in, if a paper was made in this process (no font parsed)."""
    return _font_set


def font_notice(fonts: FontSet) -> str:
    """What stands in for a font GB/T 9704 asks for, in one line; "" when nothing does."""
    missing = [choice.describe() for choice in fonts.choices if choice.stand_in]
    return "字体：" + "；".join(missing) + "。" if missing else ""


_TYPE1 = "type1"  # a standard (non-embedded) Type 1 font: WinAnsi characters only
_GlyphMap = dict[int, int] | str | None


_glyph_maps: dict[str, _GlyphMap] = {}


def _glyph_map(name: str) -> _GlyphMap:
    """code point → glyph id of a TrueType font (registered lazily if it is one of ours)."""
    found = _glyph_maps.get(name)
    if found is not None:
        return found
    if name in _failed or (name in _known and not _register(name)):
        return None
    try:
        font: Any = pdfmetrics.getFont(name)
    except KeyError:
        return None  # not cached: it may be registered later
    mapping = getattr(getattr(font, "face", None), "charToGlyph", None)
    found = mapping if isinstance(mapping, dict) else _TYPE1
    _glyph_maps[name] = found
    return found


def _has_glyph(name: str, char: str, maps: dict[str, _GlyphMap]) -> bool:
    if name not in maps:
        maps[name] = _glyph_map(name)
    mapping = maps[name]
    if isinstance(mapping, dict):
        return mapping.get(ord(char), 0) != 0
    if mapping == _TYPE1:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            return False
        return True
    return False


def _ignorable(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def missing_glyphs(text: str, font_names: Sequence[str]) -> list[str]:
    """Characters of ``text`` that none of ``font_names`` can draw, in order, each once.

    Whitespace and invisible format characters are ignored. An unknown font name counts as a
    font without glyphs.
    """
    maps: dict[str, _GlyphMap] = {}
    missing: dict[str, None] = {}
    for char in text:
        if _ignorable(char) or char in missing:
            continue
        if not any(_has_glyph(name, char, maps) for name in font_names):
            missing[char] = None
    return list(missing)


def font_runs(text: str, font_names: Sequence[str]) -> list[tuple[str | None, str]]:
    """Split ``text`` into (font, run) pieces, each char from the first font that has it.

    A run whose font is ``None`` holds characters no font has; the caller must show them some
    other way (and say so). Whitespace stays with the current run when that font has it.
    """
    maps: dict[str, _GlyphMap] = {}
    runs: list[tuple[str | None, str]] = []
    current: str | None = None
    buffer: list[str] = []
    for char in text:
        if char.isspace() and buffer and current is not None and _has_glyph(current, char, maps):
            buffer.append(char)
            continue
        font = next((n for n in font_names if _has_glyph(n, char, maps)), None)
        if font is None and char.isspace():
            font, char = (font_names[0] if font_names else None), " "
        if buffer and font != current:
            runs.append((current, "".join(buffer)))
            buffer = []
        current = font
        buffer.append(char)
    if buffer:
        runs.append((current, "".join(buffer)))
    return runs


def string_width(text: str, font: str, size: float) -> float:
    """Width of ``text`` in one registered font, in points."""
    return float(pdfmetrics.stringWidth(text, font, size))


def font_advice(characters: Iterable[str]) -> str:
    """What to do about characters no installed font draws, for a message: an emoji or a
    private character no official font has (installing a font does not help); a rare
    character (生僻字, CJK Ext. B–F) the fonts that carry them."""
    chars = list(characters)
    if chars and all(
        unicodedata.category(c) in ("So", "Sk", "Co", "Cn") or 0x1F000 <= ord(c) <= 0x1FAFF
        for c in chars
    ):
        return "表情符号、自造字等公文字体中都没有，请删去或改用文字"
    return (
        "请安装包含该字的 TrueType 字体（Windows 自带的“宋体-ExtB”；统信、麒麟等系统可装"
        "“花园明朝 HanaMinB”）"
    )
