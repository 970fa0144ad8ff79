"""Fonts, translations and the style sheet: Chinese everywhere, readable at a service hall."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from desktop_app.paths import resources_dir

log = logging.getLogger(__name__)

BUNDLED_FONT = "DroidSansFallbackFull.ttf"
WINDOWS_UI_FONTS = ("Microsoft YaHei UI", "Microsoft YaHei", "SimSun")
# Fonts with the rarer characters of names (CJK Extension B and later, e.g. 𠅤), put after the
# UI font when installed: Windows' 宋体-ExtB (and Windows 11's ExtG), 花园明朝 on Linux.
RARE_CHARACTER_FONTS = ("SimSun-ExtB", "SimSun-ExtG", "MingLiU-ExtB", "HanaMinB")

RED = "#c0392b"
YELLOW = "#b7950b"
GREEN = "#1e8449"
ACCENT = "#b22222"  # the red of official paper headings

STYLE_SHEET = f"""
QWidget {{ font-size: 10.5pt; }}
#navigation {{ background: #2c3e50; color: #ecf0f1; border: none; font-size: 11pt; }}
#navigation::item {{ padding: 10px 14px; }}
#navigation::item:selected {{ background: {ACCENT}; color: white; }}
#navigation::item:disabled {{ color: #7f8c8d; }}
#brand {{ background: #2c3e50; color: white; font-size: 12pt; font-weight: bold; padding: 14px; }}
#fieldError {{ color: {RED}; font-size: 9.5pt; }}
#card {{ background: white; border: 1px solid #d5d8dc; border-radius: 6px; }}
#bigNumber {{ font-size: 26pt; font-weight: bold; }}
#hint {{ color: #566573; }}
#pageArea {{ background: #f4f6f7; }}
QPushButton#primary {{ background: {ACCENT}; color: white; padding: 6px 18px;
    border-radius: 4px; font-weight: bold; }}
QPushButton#primary:disabled {{ background: #d5a6a6; }}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"], QComboBox[invalid="true"] {{
    border: 1px solid {RED}; }}
"""


# Qt's own Simplified Chinese catalogue (copied from Qt's translations, see
# resources/translations/README.md), then the Qt 6.11 strings it lacks ("&Look in:", "Files of
# &type:" of the file dialog, …), translated here. Not qt_zh_CN.qm: in Qt 6 that is a 99-byte
# stub that only loads qtbase_zh_CN.qm (and modules the app does not use) again.
QT_CATALOGUES = ("qtbase_zh_CN", "bbcs_qt_zh_CN")


def install_translations(app: QApplication) -> list[QTranslator]:
    """Qt's own dialogs and buttons (确定/取消, file and print dialogs) in Simplified Chinese.

    Each catalogue is taken from resources/translations (shipped in the build) or, failing that,
    from Qt's translations folder."""
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    translators: list[QTranslator] = []
    folders = [
        resources_dir() / "translations",
        Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)),
    ]
    for name in QT_CATALOGUES:
        for folder in folders:
            translator = QTranslator(app)
            if translator.load(name, str(folder)):
                app.installTranslator(translator)
                translators.append(translator)
                break
        else:
            log.warning("Qt translation %s not found in %s", name, folders)
    return translators


def install_fonts(app: QApplication) -> str:
    """Use the system UI font on Windows; elsewhere the bundled CJK font, so Chinese renders
    even on a machine without Chinese fonts. Returns the family in use."""
    installed = set(QFontDatabase.families())
    if sys.platform == "win32":
        for family in WINDOWS_UI_FONTS:
            if family in installed:
                font = QFont(family, 10)
                font.setFamilies(font_families([family], installed))
                app.setFont(font)
                return family
    path = resources_dir() / "fonts" / BUNDLED_FONT
    font_id = QFontDatabase.addApplicationFont(str(path))
    if font_id < 0:
        log.warning("could not load bundled font %s", path)
        return app.font().family()
    family = QFontDatabase.applicationFontFamilies(font_id)[0]
    font = QFont(app.font())
    # Latin letters from the platform's sans font, Chinese from the bundled one.
    font.setFamilies(font_families([app.font().family(), family], installed))
    font.setPointSize(10)
    app.setFont(font)
    return family


def font_families(chosen: list[str], installed: set[str]) -> list[str]:
    """The window's font chain: ``chosen``, then each installed font of rare characters (a
    name in Extension B shows in 宋体-ExtB rather than as a box where the UI font lacks it)."""
    return [*chosen, *(f for f in RARE_CHARACTER_FONTS if f in installed and f not in chosen)]


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE_SHEET)
