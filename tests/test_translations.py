"""Qt's own dialogs in Chinese: the file dialog as Linux shows it (non-native), the print dialog,
the message and input dialogs — no label, button or tooltip left in English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QFileDialog,
    QGroupBox,
    QInputDialog,
    QLabel,
    QWidget,
)

from desktop_app.paths import resources_dir
from desktop_app.ui.theme import QT_CATALOGUES, install_translations

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "resources" / "translations"
# A word of English: two Latin letters in a row, after the accelerator marks (&N) are dropped.
ENGLISH = re.compile(r"[A-Za-z]{2,}")
# Names that stay as they are in Chinese UIs too.
KEPT = re.compile(r"\b(PDF|PostScript|CUPS|DPI|A4|mm|pt|cm|inch)\b")


@pytest.fixture
def translators(qapp: QApplication) -> Iterator[list[QTranslator]]:
    installed = install_translations(qapp)
    yield installed
    for translator in installed:
        QCoreApplication.removeTranslator(translator)


def english_texts(dialog: QWidget) -> list[str]:
    """Every visible text of ``dialog`` that still contains an English word."""
    texts: list[str] = []
    for widget in [dialog, *dialog.findChildren(QWidget)]:
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QGroupBox):
            texts.append(widget.title())
        if isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
        texts.append(widget.toolTip())
    found = []
    for text in texts:
        if re.search(r"[/\\*]", text):  # a folder or a file filter: the user's, not Qt's
            continue
        bare = KEPT.sub("", re.sub(r"\(?&\w\)?", "", text))
        if ENGLISH.search(bare):
            found.append(text)
    return found


def file_dialog(mode: QFileDialog.AcceptMode) -> QFileDialog:
    dialog = QFileDialog(None, "选择文件", str(ROOT), "PDF 文件 (*.pdf);;所有文件 (*)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)  # as on Linux
    dialog.setAcceptMode(mode)
    return dialog


def test_catalogues_come_from_resources_and_are_real(translators: list[QTranslator]) -> None:
    assert [Path(t.filePath()).name for t in translators] == [f"{n}.qm" for n in QT_CATALOGUES]
    for translator in translators:
        assert Path(translator.filePath()).parent == resources_dir() / "translations"
        assert translator.language() == "zh_CN"
    qtbase = TRANSLATIONS / "qtbase_zh_CN.qm"
    assert qtbase.stat().st_size > 100_000  # Qt's catalogue, not the 99-byte qt_zh_CN stub
    assert QCoreApplication.translate("QFileDialog", "File &name:") == "文件名称(&N)："
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    for licence in ("LICENSE.LGPL-3.txt", "LICENSE.GPL-3.txt", "README.md"):
        assert (TRANSLATIONS / licence).stat().st_size > 1000


def test_the_compiled_supplement_matches_its_source() -> None:
    """bbcs_qt_zh_CN.qm is compiled from the .ts beside it (python tasks.py translations)."""
    source = (TRANSLATIONS / "bbcs_qt_zh_CN.ts").read_text("utf-8")
    translator = QTranslator()
    assert translator.load(str(TRANSLATIONS / "bbcs_qt_zh_CN.qm"))
    pairs = re.findall(
        r"<name>(\w+)</name>|<source>(.*?)</source>\s*(?:<comment>(.*?)</comment>\s*)?"
        r"<translation>(.*?)</translation>",
        source,
    )
    context = ""
    checked = 0
    for name, text, comment, translation in pairs:
        if name:
            context = name
            continue
        unescape = text.replace("&amp;", "&")
        got = translator.translate(context, unescape, comment or None)
        assert got == translation.replace("&amp;", "&"), (context, unescape)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    "mode", [QFileDialog.AcceptMode.AcceptOpen, QFileDialog.AcceptMode.AcceptSave]
)
def test_the_file_dialog_speaks_chinese(
    qtbot, translators: list[QTranslator], mode: QFileDialog.AcceptMode
) -> None:
    dialog = file_dialog(mode)
    qtbot.addWidget(dialog)
    dialog.show()
    labels = [label.text() for label in dialog.findChildren(QLabel)]
    assert "查找范围(&L)：" in labels  # was "&Look in:"
    assert "文件类型(&T)：" in labels  # was "Files of &type:"
    assert "文件名称(&N)：" in labels
    assert english_texts(dialog) == []


def test_print_and_input_dialogs_speak_chinese(qtbot, translators: list[QTranslator]) -> None:
    printer = QPrinter()
    dialogs: list[QDialog] = [QPrintDialog(printer), QInputDialog()]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        assert english_texts(dialog) == [], dialog.windowTitle()
