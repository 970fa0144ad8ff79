"""Fonts for every printed document (DESIGN.md §5), registered with reportlab once per process.

* On Windows the installed official fonts are preferred: 黑体 (simhei.ttf) for titles, 仿宋
  (simfang.ttf) for body text, 宋体 (simsun.ttc) as another option and 宋体-ExtB (simsunb.ttf)
  for the rare characters of CJK Extension B.
* Elsewhere, or when those are missing, the bundled Droid Sans Fallback (Apache-2.0, a 黑体-like
  TrueType font) serves for titles and body alike. It has no Latin letters or digits, so the
  Bitstream Vera Sans that ships with reportlab is always in the fallback chain.

Text is drawn glyph by glyph from the first font of a chain that has the glyph
(:func:`font_runs`). A character no font has is reported (:func:`missing_glyphs`), never
dropped silently: a wrong name on an official paper is worse than a warning.

Only TrueType (glyf) fonts can be embedded by reportlab; every font is embedded as a subset.
Fallback fonts are registered lazily, the first time a text needs them, because parsing a
Windows CJK font takes a noticeable fraction of a second.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import unicodedata
from collections.abc import Sequence
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
    "FontSet",
    "find_official_fonts",
    "font_runs",
    "missing_glyphs",
    "register_fonts",
    "string_width",
]

_log = logging.getLogger(__name__)

BUNDLED_FONT_FILE = "DroidSansFallbackFull.ttf"

# Key → (file name in %WINDIR%\Fonts, what a clerk calls it). Matched case-insensitively.
OFFICIAL_FONT_FILES: dict[str, tuple[str, str]] = {
    "simhei": ("simhei.ttf", "黑体"),
    "simfang": ("simfang.ttf", "仿宋"),
    "simsun": ("simsun.ttc", "宋体"),
    "simsunb": ("simsunb.ttf", "宋体-ExtB"),
}

# reportlab font names (they also become the embedded subsets' base names' suffix).
_NAMES = {
    "simhei": "bbcs-SimHei",
    "simfang": "bbcs-FangSong",
    "simsun": "bbcs-SimSun",
    "simsunb": "bbcs-SimSunExtB",
    "bundled": "bbcs-DroidSansFallback",
    "latin": "bbcs-Vera",
}
_STANDARD_LATIN = "Helvetica"
BUNDLED_FONT_NAME = _NAMES["bundled"]  # always known (a fallback at least), so usable by name
LATIN_FONT_NAME = _NAMES["latin"]


@dataclass(frozen=True)
class _FontFile:
    path: Path
    subfont_index: int = 0  # for .ttc collections


@dataclass(frozen=True)
class FontSet:
    """The fonts a document draws with.

    Attributes:
        title: reportlab font name for titles (黑体 or the bundled 黑体-like font).
        body: reportlab font name for body text (仿宋 or the bundled font).
        paths: every font this set may use (title, body and fallbacks), name → file.
        fallbacks: further font names, tried in order for a glyph the main font lacks.
    """

    title: str
    body: str
    paths: dict[str, Path]
    fallbacks: tuple[str, ...] = field(default=())

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


def _windows_font_dirs() -> list[Path]:
    dirs = [Path(os.environ.get("WINDIR") or r"C:\Windows") / "Fonts"]
    local = os.environ.get("LOCALAPPDATA")
    if local:  # fonts installed "for this user only" (Windows 10 1809+)
        dirs.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    return dirs


def _installed_official_fonts() -> dict[str, Path]:
    if sys.platform != "win32":
        return {}
    found: dict[str, Path] = {}
    for fonts_dir in _windows_font_dirs():
        for key, path in find_official_fonts(fonts_dir).items():
            found.setdefault(key, path)
    return found


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


def _choose(official: dict[str, Path]) -> FontSet:
    for key, path in official.items():
        _known[_NAMES[key]] = _FontFile(path)  # simsun.ttc: subfont 0 is 宋体 (1 is 新宋体)
    bundled = _NAMES["bundled"]
    _known[bundled] = _FontFile(resources_dir() / "fonts" / BUNDLED_FONT_FILE)
    latin = _NAMES["latin"]
    _known[latin] = _FontFile(_latin_font_path())

    def first_usable(*keys: str) -> str:
        for key in keys:
            if key in official and _register(_NAMES[key]):
                return _NAMES[key]
        if not _register(bundled):
            raise RuntimeError(f"找不到可用的中文字体：{_known[bundled].path}")
        return bundled

    title = first_usable("simhei", "simsun", "simfang")
    body = first_usable("simfang", "simsun", "simhei")
    extras = [_NAMES[k] for k in ("simsun", "simhei", "simfang", "simsunb") if k in official]
    # Helvetica (a standard font, not embedded) only ever draws a glyph if Vera is missing,
    # e.g. from a frozen build that left reportlab's fonts out: digits beat "[U+0032]".
    chain = [*extras, bundled, latin, _STANDARD_LATIN]
    fallbacks = tuple(n for n in dict.fromkeys(chain) if n not in (title, body))
    return FontSet(
        title=title,
        body=body,
        paths={n: _known[n].path for n in dict.fromkeys([title, body, *fallbacks]) if n in _known},
        fallbacks=fallbacks,
    )


def register_fonts() -> FontSet:
    """Register the document fonts with reportlab (once; later calls return the same set)."""
    global _font_set
    with _lock:
        if _font_set is None:
            _font_set = _choose(_installed_official_fonts())
        return _font_set


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
