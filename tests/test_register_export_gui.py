"""导出台账 on the ledger screen (issue 17): clicked, exported off the UI thread, cancellable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from python_calamine import CalamineWorkbook

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.ledger import CaseFilter
from desktop_app.services.register_export import RegisterExport, RegisterExportService
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.ledger_page import LedgerPage
from desktop_app.ui.register_export_dialog import RegisterExportDialog
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.supervision_cases import Office, open_case


def _context(services: AppServices, actor: Actor) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, actor, ChangeHub(), runner)
    runner.wait()


@pytest.fixture
def context(services: AppServices, clerk: Actor, leader: Actor) -> Iterator[UiContext]:
    office = Office(services, clerk, leader)
    office.case("one", **open_case(received_at=datetime(2026, 11, 2, 9, 0)))
    office.case("two", received_at=datetime(2026, 11, 3, 9, 0))
    yield from _context(services, clerk)


def _dialog(qtbot, context: UiContext) -> RegisterExportDialog:
    page = LedgerPage(context)
    qtbot.addWidget(page)
    page.resize(1280, 700)
    page.show()
    qtbot.waitUntil(lambda: not page.is_loading)
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.findChild(RegisterExportDialog) is not None)
    dialog = page.findChild(RegisterExportDialog)
    assert isinstance(dialog, RegisterExportDialog)
    return dialog


def _type_path(qtbot, dialog: RegisterExportDialog, path: Path) -> None:
    dialog.path.clear()
    qtbot.keyClicks(dialog.path, str(path))


def test_the_ledger_exports_its_rows_to_excel(
    qtbot, context: UiContext, tmp_path: Path, message_boxes: MessageBoxes
) -> None:
    dialog = _dialog(qtbot, context)
    assert dialog.masked.isChecked() and dialog.masked.isEnabled()
    out = tmp_path / "ledger.xlsx"
    _type_path(qtbot, dialog, out)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.exported is not None, timeout=10000)
    assert isinstance(dialog.exported, RegisterExport) and dialog.exported.cases == 2
    assert "已导出" in dialog.status.text() and "已遮挡" in dialog.status.text()
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("事项台账").to_python()
    assert len(rows) == 3
    qtbot.waitUntil(lambda: dialog.close_button.text() == "关闭")
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_the_format_picks_the_suffix_and_the_book_is_printed(
    qtbot, context: UiContext, tmp_path: Path, message_boxes: MessageBoxes
) -> None:
    dialog = _dialog(qtbot, context)
    _type_path(qtbot, dialog, tmp_path / "book.xlsx")
    dialog.format.setFocus()
    qtbot.keyClick(dialog.format, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.format, Qt.Key.Key_Down)
    assert dialog.path.text() == str(tmp_path / "book.pdf")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.exported is not None, timeout=10000)
    assert "登记簿 2 件" in dialog.status.text()
    assert (tmp_path / "book.pdf").read_bytes().startswith(b"%PDF")


def test_cancel_stops_the_export_and_leaves_no_file(
    qtbot,
    context: UiContext,
    tmp_path: Path,
    message_boxes: MessageBoxes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The export waits until 取消 was clicked, so the cancel is seen whatever the machine's speed.
    clicked = threading.Event()
    reading = RegisterExportService.case_ids

    def after_the_click(self: RegisterExportService, case_filter):  # type: ignore[no-untyped-def]
        clicked.wait(10)
        return reading(self, case_filter)

    monkeypatch.setattr(RegisterExportService, "case_ids", after_the_click)
    dialog = _dialog(qtbot, context)
    folder = tmp_path / "usb"
    folder.mkdir()
    _type_path(qtbot, dialog, folder / "ledger.xlsx")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.close_button.text() == "取消" and not dialog.export_button.isEnabled()
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()  # 取消 stops the export; the dialog stays to say so
    clicked.set()
    qtbot.waitUntil(lambda: "已取消导出" in dialog.status.text(), timeout=10000)
    assert dialog.exported is None and list(folder.iterdir()) == []
    assert dialog.export_button.isEnabled()


def test_a_role_that_may_not_see_numbers_cannot_unmask_them(
    qtbot, services: AppServices, auditor: Actor
) -> None:
    for context in _context(services, auditor):
        dialog = RegisterExportDialog(context, CaseFilter())
        qtbot.addWidget(dialog)
        assert dialog.masked.isChecked() and not dialog.masked.isEnabled()
