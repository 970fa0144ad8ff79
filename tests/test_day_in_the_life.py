"""A clerk's and a duty leader's day, by mouse and keyboard, on a 1366×768 office laptop.

The clerk registers a matter, finds it in the ledger, triages it and drafts an assignment; the duty
leader takes the seat (切换用户), finds the draft in the 待签发 queue, previews it, signs it and
saves the slip as a PDF; the clerk comes back, records 签收 and 办理反馈, concludes the case and
records the return visit. Every step is a click or a key press on the real widgets, and the
heartbeat fixture fails the test if the window stalls on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QMessageBox,
    QTabWidget,
    QWidget,
)
from shiboken6 import isValid

from desktop_app.domain.vocabulary import CaseStatus, Cause, Role
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui import screen
from desktop_app.ui.assignment_panel import AssignmentPanel, DraftDialog, StepDialog
from desktop_app.ui.case_detail import CaseDetailDialog
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.slip_preview import SlipPreviewDialog
from tests.helpers.factories import USER_PASSWORD
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401

LAPTOP = QRect(0, 0, 1366, 728)  # a 1366×768 screen less the taskbar


@pytest.fixture
def questions(message_boxes: MessageBoxes) -> MessageBoxes:
    """The leader answers 是 to the signing question; any other message box fails the test."""
    message_boxes.answer_every(QMessageBox.StandardButton.Yes)
    return message_boxes


@pytest.fixture
def window(
    qtbot, services: AppServices, clerk: Actor, questions: MessageBoxes, monkeypatch
) -> Iterator[MainWindow]:
    from desktop_app.ui.app import make_application

    make_application()  # the application's own fonts and style sheet decide the sizes
    monkeypatch.setattr(screen, "available_area", lambda widget=None: LAPTOP)
    import desktop_app.ui.main_window as main_window

    if hasattr(main_window, "available_area"):
        monkeypatch.setattr(main_window, "available_area", lambda widget=None: LAPTOP)
    runner = TaskRunner()
    main = MainWindow(UiContext(services, clerk, ChangeHub(), runner))
    qtbot.addWidget(main)
    main.resize(1366, 728)
    main.show()
    qtbot.waitUntil(lambda: not main.ledger.is_loading)
    yield main
    runner.wait()


# A person's hands ---------------------------------------------------------------------------


def click(qtbot, widget: QWidget) -> None:
    assert widget.isEnabled(), f"{widget.objectName() or widget} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_chinese(widget: QWidget, text: str) -> None:
    """Chinese as a Chinese IME delivers it: a committed string."""
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def choose(qtbot, combo: QComboBox, text: str) -> None:
    """Pick the entry whose text starts with ``text`` with the arrow keys, as from the keyboard."""
    combo.setFocus()
    for _ in range(combo.count() + 1):
        if combo.currentText().startswith(text):
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    raise AssertionError(f"{text} is not among {[combo.itemText(i) for i in range(combo.count())]}")


def open_tab(qtbot, tabs: QTabWidget, title: str) -> QWidget:
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == title)
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentIndex() == index
    return tabs.widget(index)


def open_from_ledger(qtbot, window: MainWindow, text: str) -> CaseDetailDialog:
    """Ctrl+F, type, ↓ into the results, Enter: the case dialog."""
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    ledger = window.ledger
    assert ledger.search.hasFocus()
    ledger.search.clear()
    type_chinese(ledger.search, text)
    qtbot.waitUntil(lambda: not ledger.is_loading and ledger.model.rowCount() == 1)
    qtbot.keyClick(ledger.search, Qt.Key.Key_Down)
    assert ledger.table.hasFocus()
    qtbot.keyClick(ledger.table, Qt.Key.Key_Return)
    return case_dialog(qtbot, window)


def case_dialog(qtbot, window: MainWindow) -> CaseDetailDialog:
    qtbot.waitUntil(lambda: any(isinstance(d, CaseDetailDialog) for d in window.open_dialogs()))
    dialog = next(d for d in window.open_dialogs() if isinstance(d, CaseDetailDialog))
    qtbot.waitUntil(lambda: not dialog.is_loading)  # the case is read on the worker
    return dialog


def switch_to(qtbot, window: MainWindow, username: str) -> None:
    click(qtbot, window.switch_button)
    qtbot.waitUntil(lambda: window.login_dialog is not None and window.login_dialog.isVisible())
    dialog = window.login_dialog
    qtbot.keyClicks(dialog.username, username)
    qtbot.keyClicks(dialog.password, USER_PASSWORD)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.login_dialog is None)
    qtbot.waitUntil(lambda: not window.ledger.is_loading)
    # A window manager gives the main window back the focus when the log-in dialog closes; the
    # offscreen platform has none.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def closed(widget: QWidget) -> bool:
    """Closed, and perhaps already deleted (dialogs are deleted when they close)."""
    return not isValid(widget) or not widget.isVisible()


def step_dialog(qtbot, panel: AssignmentPanel) -> StepDialog:
    qtbot.waitUntil(lambda: isinstance(panel.dialog, StepDialog) and panel.dialog.isVisible())
    assert isinstance(panel.dialog, StepDialog)
    return panel.dialog


def preview(qtbot, panel: AssignmentPanel) -> SlipPreviewDialog:
    qtbot.waitUntil(
        lambda: isinstance(panel.dialog, SlipPreviewDialog) and not panel.dialog.is_loading
    )
    assert isinstance(panel.dialog, SlipPreviewDialog)
    return panel.dialog


def pdf_text(data: bytes, path: Path) -> str:
    path.write_bytes(data)
    return "".join(page.extract_text() for page in PdfReader(path).pages)


# The day ------------------------------------------------------------------------------------


def test_a_clerks_and_a_leaders_day(
    qtbot,
    window: MainWindow,
    services: AppServices,
    questions: MessageBoxes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert window.width() <= 1366 and window.height() <= 728

    # 1. The clerk registers the matter (Ctrl+N opens 受理登记, Ctrl+S saves).
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    intake = window.intake
    type_chinese(intake.name, "李秀英")
    qtbot.keyClicks(intake.id_number, "11010519491231002X")
    qtbot.keyClicks(intake.phone, "13912345678")
    type_chinese(intake.title, "医保异地备案办不下来")
    type_chinese(intake.description, "在医保窗口三次被要求补材料，每次说法不一，备案一直办不下来。")
    choose(qtbot, intake.area, "医保社保")
    qtbot.keyClick(intake.title, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: intake.last_result is not None)
    number = intake.last_result.number
    assert number == "杞县-2026-0001"
    assert not intake.has_unsaved_input()

    # 2. Finds it in the ledger and opens it from the keyboard.
    dialog = open_from_ledger(qtbot, window, "李秀英")
    assert dialog.detail.number == number

    # 3. Triages it: nothing is pre-selected, the clerk chooses.
    open_tab(qtbot, dialog.tabs, "甄别分类")
    assert dialog.nature.currentData() is None and dialog.approach.currentData() is None
    choose(qtbot, dialog.nature, "不给办")
    choose(qtbot, dialog.approach, "责成办")
    click(qtbot, dialog.cause_boxes[Cause.SHIRKING])
    click(qtbot, dialog.triage_button)
    qtbot.waitUntil(
        lambda: dialog.triage_saved.isVisible() and "已保存" in dialog.triage_saved.text()
    )

    # 4. Drafts the assignment for the leader to sign.
    panel = dialog.assignments
    open_tab(qtbot, dialog.tabs, "交办")
    click(qtbot, panel.new_button)
    draft = step_dialog(qtbot, panel)
    assert isinstance(draft, DraftDialog)
    choose(qtbot, draft.department, "杞县医疗保障局")
    click(qtbot, draft.ok_button)
    qtbot.waitUntil(lambda: closed(draft))
    qtbot.waitUntil(lambda: not panel.is_loading and len(panel.assignments) == 1)
    assert not panel.sign_button.isEnabled()  # a clerk cannot sign
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.open_dialogs())

    # 5. The duty leader takes the seat and finds the draft in the 待签发 queue.
    switch_to(qtbot, window, "leader1")
    assert window.context.actor.role is Role.DUTY_LEADER
    assert "潘险峰" in window.user_label.text()
    window.go_to("工作台")
    tile = window.dashboard.figures["awaiting_signature"][0]
    qtbot.waitUntil(lambda: tile.number.text() == "1")
    click(qtbot, tile)
    qtbot.waitUntil(lambda: not window.ledger.is_loading and window.ledger.model.rowCount() == 1)
    window.ledger.table.setFocus()
    window.ledger.table.selectRow(0)
    qtbot.keyClick(window.ledger.table, Qt.Key.Key_Return)
    dialog = case_dialog(qtbot, window)
    panel = dialog.assignments
    open_tab(qtbot, dialog.tabs, "交办")
    qtbot.waitUntil(lambda: not panel.is_loading and panel.sign_button.isEnabled())

    # 6. Sees the draft as it will print, then signs from the preview.
    click(qtbot, panel.draft_button)
    draft_preview = preview(qtbot, panel)
    draft_text = pdf_text(draft_preview.pdf_bytes, tmp_path / "draft.pdf")
    assert "签发前预览" in draft_text and "〔签发时编号〕" in draft_text and "李秀英" in draft_text
    click(qtbot, panel.sign_from_preview)
    qtbot.waitUntil(lambda: bool(services.assignments.for_case(dialog.case_id)[0].slip_numbers))
    slip = services.assignments.for_case(dialog.case_id)[0].slip_numbers[0]
    # The confirmation named the number about to be taken.
    assert slip in questions.texts("question")[-1]
    qtbot.waitUntil(lambda: closed(draft_preview))
    qtbot.waitUntil(lambda: not panel.is_loading and panel.preview_button.isEnabled())

    # 7. Prints the slip to PDF: the first output is the original, not 补打.
    click(qtbot, panel.preview_button)
    slip_preview = preview(qtbot, panel)
    target = tmp_path / "交办单.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), "PDF 文件 (*.pdf)")
    )
    click(qtbot, slip_preview.save_button)
    qtbot.waitUntil(lambda: target.exists() and not slip_preview.busy)
    printed = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert slip in printed and "补打" not in printed
    info = next(s for s in services.assignments.slips_for_case(dialog.case_id) if s.number == slip)
    assert info.print_count == 1
    qtbot.keyClick(slip_preview, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: closed(slip_preview))
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.open_dialogs())

    # 8. The clerk comes back: 签收, 办理反馈.
    switch_to(qtbot, window, "clerk1")
    assert window.context.actor.role is Role.CLERK
    window.go_to("事项台账")
    dialog = open_from_ledger(qtbot, window, number)
    panel = dialog.assignments
    open_tab(qtbot, dialog.tabs, "交办")
    qtbot.waitUntil(lambda: not panel.is_loading and panel.receive_button.isEnabled())
    click(qtbot, panel.receive_button)
    receive = step_dialog(qtbot, panel)
    type_chinese(receive.fields["received_by"], "王科长")
    click(qtbot, receive.ok_button)
    qtbot.waitUntil(lambda: closed(receive))
    qtbot.waitUntil(lambda: not panel.is_loading and panel.respond_button.isEnabled())
    click(qtbot, panel.respond_button)
    respond = step_dialog(qtbot, panel)
    type_chinese(respond.fields["text"], "已为当事人办结异地备案，并对窗口人员批评教育。")
    click(qtbot, respond.ok_button)
    qtbot.waitUntil(lambda: closed(respond))
    qtbot.waitUntil(lambda: not panel.is_loading)

    # 9. Concludes, then records the return visit.
    open_tab(qtbot, dialog.tabs, "办结与回访")
    choose(qtbot, dialog.outcome, "办成")
    type_chinese(dialog.what_done, "医保局当日办结异地备案。")
    choose(qtbot, dialog.reply_method, "电话")
    type_chinese(dialog.reply_text, "已电话告知当事人办理结果。")
    qtbot.waitUntil(dialog.conclude_button.isEnabled)
    click(qtbot, dialog.conclude_button)
    qtbot.waitUntil(lambda: dialog.detail.status is CaseStatus.CONCLUDED)
    assert dialog.grade.currentData() is None
    choose(qtbot, dialog.grade, "满意")
    type_chinese(dialog.visit_note, "当事人表示满意。")
    qtbot.waitUntil(dialog.visit_button.isEnabled)
    click(qtbot, dialog.visit_button)
    qtbot.waitUntil(lambda: dialog.detail.status is CaseStatus.VISITED)

    timeline = [entry.label for entry in dialog.detail.timeline]
    for step in ("受理", "甄别", "交办", "签收", "反馈", "办结", "回访"):
        assert any(step in label for label in timeline), (step, timeline)
