"""切换用户 / 注销 in the main window, by clicks and keys; the window sized to its screen."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox
from shiboken6 import isValid

from desktop_app import APP_TITLE
from desktop_app.domain.vocabulary import Approach, Cause, Nature, Role
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.screen import available_area
from desktop_app.ui.startup import LoginDialog
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.message_boxes import MessageBoxes


@pytest.fixture
def warnings(message_boxes: MessageBoxes) -> MessageBoxes:
    """A message box would block an offscreen test: warnings are recorded, others fail."""
    message_boxes.allow("warning")
    return message_boxes


@pytest.fixture
def window(
    qtbot, services: AppServices, clerk: Actor, warnings: MessageBoxes
) -> Iterator[MainWindow]:
    runner = TaskRunner()
    main = MainWindow(UiContext(services, clerk, ChangeHub(), runner))
    qtbot.addWidget(main)
    main.show()
    qtbot.waitUntil(lambda: not main.ledger.is_loading)
    yield main
    runner.wait()


def type_chinese(widget, text: str) -> None:
    """Chinese as a Chinese IME delivers it: a committed string."""
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_through_window(qtbot, widget) -> None:
    """A click as the window system delivers it, so a modal dialog can block it (a click sent
    to the widget itself goes past modality)."""
    top = widget.window()
    point = widget.mapTo(top, widget.rect().center())
    qtbot.mouseClick(top.windowHandle(), Qt.MouseButton.LeftButton, pos=point)


def press_ctrl(qtbot, widget, key: Qt.Key) -> None:
    """Ctrl+``key`` typed in ``widget``. The shortcut acts on the press; the release goes where a
    real one would: to the modal dialog the shortcut opened, or nowhere while the window takes no
    input (switching user, it finishes the last user's work first). Sent to a widget that takes
    no input, QTest warns that it was not accepted."""
    qtbot.keyPress(widget, key, Qt.KeyboardModifier.ControlModifier)
    on_top = QApplication.activeModalWidget() or widget
    if on_top.isEnabled():
        qtbot.keyRelease(on_top, key, Qt.KeyboardModifier.ControlModifier)


def answer(qtbot, window: MainWindow, choice: QMessageBox.StandardButton) -> str:
    """Wait for the save/discard question, click ``choice``; returns the question's text."""
    qtbot.waitUntil(lambda: window.unsaved_question is not None)
    box = window.unsaved_question
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    text = box.text()
    buttons = {box.button(b).text() for b in (box.StandardButton.Save, box.StandardButton.Discard)}
    assert buttons == {"保存", "放弃"}
    click(qtbot, box.button(choice))
    return text


def log_in(qtbot, window: MainWindow, username: str, password: str = USER_PASSWORD) -> None:
    dialog = wait_for_login(qtbot, window)
    qtbot.keyClicks(dialog.username, username)
    qtbot.keyClicks(dialog.password, password)
    click(qtbot, dialog.login_button)
    qtbot.waitUntil(lambda: window.login_dialog is None)


def wait_for_login(qtbot, window: MainWindow) -> LoginDialog:
    qtbot.waitUntil(lambda: window.login_dialog is not None and window.login_dialog.isVisible())
    dialog = window.login_dialog
    assert dialog is not None
    return dialog


def test_switch_user_with_a_half_typed_form_discards_it_and_shows_the_leader(
    qtbot, window: MainWindow, services: AppServices
) -> None:
    window.go_to("受理登记")
    clerk_intake = window.intake
    type_chinese(clerk_intake.name, "王芳")
    qtbot.keyClicks(clerk_intake.phone, "13812345678")
    assert clerk_intake.has_unsaved_input()

    click(qtbot, window.switch_button)
    question = answer(qtbot, window, QMessageBox.StandardButton.Discard)
    assert "受理登记表单已填写" in question

    log_in(qtbot, window, "leader1")

    assert "潘险峰" in window.user_label.text()
    assert "带班领导" in window.user_label.text()
    assert window.context.actor.role is Role.DUTY_LEADER
    window.go_to("受理登记")
    assert window.intake is not clerk_intake  # the pages were rebuilt for the leader
    assert window.intake.name.text() == "" and window.intake.phone.text() == ""
    assert not window.intake.has_unsaved_input()
    assert services.ledger.count() == 0  # discarded, not saved
    qtbot.waitUntil(lambda: not window.ledger.is_loading)


def test_save_keeps_the_typed_case_and_the_log_in_names_its_number(
    qtbot, window: MainWindow, services: AppServices
) -> None:
    window.go_to("受理登记")
    page = window.intake
    type_chinese(page.name, "赵明")
    qtbot.keyClicks(page.phone, "13912345678")
    type_chinese(page.title, "不动产权证办不下来")
    type_chinese(page.description, "集资房未做土地分割，办不了不动产权证。")
    page.area.setCurrentIndex(page.area.findData("不动产登记"))

    click(qtbot, window.switch_button)
    answer(qtbot, window, QMessageBox.StandardButton.Save)
    dialog = wait_for_login(qtbot, window)

    assert services.ledger.count() == 1
    number = services.ledger.export_records()[0]["number"]
    hints = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert f"已保存：事项 {number}" in hints
    log_in(qtbot, window, "leader1")
    assert "潘险峰" in window.user_label.text()
    assert not window.intake.has_unsaved_input()
    qtbot.waitUntil(lambda: not window.ledger.is_loading)


def test_ctrl_l_in_an_open_step_dialog_saves_it_then_switches(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    result = services.intake.register(clerk, person_form())
    services.cases.triage(
        clerk, result.case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    case_dialog = window.open_case(result.case_id)
    assert case_dialog is not None
    qtbot.waitUntil(lambda: not case_dialog.assignments.is_loading)
    case_dialog.tabs.setCurrentWidget(case_dialog.assignments)
    qtbot.waitUntil(case_dialog.assignments.new_button.isEnabled)
    click(qtbot, case_dialog.assignments.new_button)
    qtbot.waitUntil(lambda: case_dialog.assignments.dialog is not None)  # read on the worker
    draft = case_dialog.assignments.dialog
    assert draft is not None
    qtbot.waitUntil(draft.isVisible)
    draft.activateWindow()  # what the window manager does with a new dialog (offscreen: not)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is draft)
    draft.department.setFocus()
    qtbot.keyClick(draft.department, Qt.Key.Key_Down)  # the first department, chosen
    type_chinese(draft.requirements, "请核实并办理，书面反馈监督窗口。")

    # The case dialog is modal: the shortcut must work from inside it.
    press_ctrl(qtbot, draft.requirements, Qt.Key.Key_L)
    question = answer(qtbot, window, QMessageBox.StandardButton.Save)
    assert "新建交办" in question and result.number in question

    log_in(qtbot, window, "leader1")

    assert not isValid(draft) or not draft.isVisible()
    assert not isValid(case_dialog) or not case_dialog.isVisible()
    assert window.open_dialogs() == []
    assignments = services.assignments.for_case(result.case_id)
    assert len(assignments) == 1  # the draft was saved, by the clerk
    assert assignments[0].requirements.startswith("请核实并办理，书面反馈监督窗口。")
    assert "潘险峰" in window.user_label.text()
    qtbot.waitUntil(lambda: not window.ledger.is_loading)


def test_a_form_that_cannot_be_saved_stops_the_switch(
    qtbot, window: MainWindow, services: AppServices, warnings: MessageBoxes
) -> None:
    window.go_to("受理登记")
    qtbot.keyClicks(window.intake.phone, "123")  # no name, a wrong phone: not savable
    click(qtbot, window.switch_button)
    answer(qtbot, window, QMessageBox.StandardButton.Save)
    qtbot.waitUntil(lambda: bool(warnings.texts("warning")))

    assert "没有保存成功" in warnings.texts("warning")[0]
    assert window.login_dialog is None
    assert "张敏" in window.user_label.text()
    assert window.pages.currentWidget() is window.intake
    assert window.intake.phone.text() == "123"  # kept for the clerk to correct
    assert services.ledger.count() == 0


def test_cancel_in_the_question_or_the_log_in_keeps_the_clerk(qtbot, window: MainWindow) -> None:
    window.go_to("受理登记")
    intake = window.intake
    qtbot.keyClicks(intake.phone, "13812345678")
    click(qtbot, window.switch_button)
    answer(qtbot, window, QMessageBox.StandardButton.Cancel)
    assert window.login_dialog is None
    assert intake.phone.text() == "13812345678"

    click(qtbot, window.switch_button)  # asks again; Esc is 取消 too
    qtbot.waitUntil(lambda: window.unsaved_question is not None)
    box = window.unsaved_question
    assert box is not None
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.unsaved_question is None)
    assert window.login_dialog is None
    assert intake.phone.text() == "13812345678"

    intake.clear()
    press_ctrl(qtbot, window.ledger, Qt.Key.Key_L)
    dialog = wait_for_login(qtbot, window)  # nothing unsaved: no question
    assert "当前用户：张敏" in " ".join(label.text() for label in dialog.findChildren(QLabel))
    click(qtbot, dialog.cancel_button)
    qtbot.waitUntil(lambda: window.login_dialog is None)
    assert window.intake is intake
    assert "张敏" in window.user_label.text()
    assert window.isVisible()


def test_log_out_then_cancel_closes_the_window(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.logged_out):
        click(qtbot, window.logout_button)
        dialog = wait_for_login(qtbot, window)
        assert not window.isVisible()  # the last user's work is not left on screen
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)


def test_log_out_and_log_in_as_the_administrator(qtbot, window: MainWindow) -> None:
    window.go_to("系统设置")
    assert not window.settings.add_user_box.isEnabled()  # a clerk adds no users
    # The site and its user: Qt adds the application's name itself (it showed twice).
    clerk_title = window.windowTitle()
    assert APP_TITLE not in clerk_title
    assert window.context.actor.display_name in clerk_title

    click(qtbot, window.logout_button)
    log_in(qtbot, window, "admin", "Admin12345")

    assert window.isVisible()
    assert window.context.actor.role is Role.ADMIN
    assert "管理员" in window.user_label.text()
    assert window.windowTitle() != clerk_title
    assert window.context.actor.display_name in window.windowTitle()
    window.go_to("系统设置")
    assert window.settings.add_user_box.isEnabled()  # the buttons follow the new role
    qtbot.waitUntil(lambda: not window.ledger.is_loading)


def test_main_window_fits_the_screen_and_exchange_does_not_grow_it(
    qtbot, window: MainWindow
) -> None:
    area = available_area(window)
    assert window.width() <= area.width() and window.height() <= area.height()
    for title in ("数据交换", "系统设置", "期限日历", "交办单", "事项台账"):
        window.go_to(title)
        QApplication.sendPostedEvents()  # the layouts' requests: a page may ask for more room
        assert window.width() <= area.width(), title
        assert window.height() <= area.height(), title
        assert window.minimumSizeHint().width() <= area.width(), title


def test_a_wrong_password_on_switching_keeps_the_dialog_open(qtbot, window: MainWindow) -> None:
    click(qtbot, window.switch_button)
    dialog = wait_for_login(qtbot, window)
    qtbot.keyClicks(dialog.username, "leader1")
    qtbot.keyClicks(dialog.password, "wrong-password1")
    click(qtbot, dialog.login_button)  # checked on the worker: the window stays responsive
    qtbot.waitUntil(lambda: not dialog.is_logging_in and dialog.error.isVisible())
    assert "不正确" in dialog.error.text()
    assert window.login_dialog is dialog and "张敏" in window.user_label.text()

    dialog.password.clear()
    qtbot.keyClicks(dialog.password, USER_PASSWORD)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.login_dialog is None)
    assert "潘险峰" in window.user_label.text()
    qtbot.waitUntil(lambda: not window.ledger.is_loading)


def test_switching_while_the_worker_is_busy_keeps_the_window_responsive(
    qtbot, window: MainWindow
) -> None:
    """An export or a print still running: the log-in waits for it without freezing the window
    (the heartbeat fixture fails a UI thread that stalls)."""
    release = threading.Event()
    order: list[str] = []

    def long_task() -> str:
        release.wait(10)
        return "done"

    window.context.runner.run(long_task, lambda _r: order.append("task"))
    releaser = threading.Timer(3.0, release.set)  # longer than the heartbeat's 2 s
    releaser.start()
    try:
        click(qtbot, window.switch_button)
        assert not window.isEnabled()
        assert window.statusBar().currentMessage() == "正在完成…"
        assert window.login_dialog is None
        qtbot.wait(200)  # the event loop runs meanwhile
        assert window.login_dialog is None and order == []
        qtbot.waitUntil(lambda: window.login_dialog is not None, timeout=10_000)
        order.append("log-in")
    finally:
        release.set()
        releaser.cancel()
    assert order == ["task", "log-in"]
    assert window.isEnabled() and window.statusBar().currentMessage() == ""
    log_in(qtbot, window, "leader1")
    assert "潘险峰" in window.user_label.text()
    qtbot.waitUntil(lambda: not window.ledger.is_loading)


def replace_chinese(qtbot, widget, text: str) -> None:
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_chinese(widget, text)


def open_correction_in_case(qtbot, window: MainWindow, case_id: int):
    case_dialog = window.open_case(case_id)
    assert case_dialog is not None
    qtbot.waitExposed(case_dialog)
    case_dialog.tabs.setCurrentIndex(0)
    qtbot.waitUntil(case_dialog.correct_button.isEnabled)
    click(qtbot, case_dialog.correct_button)
    qtbot.waitUntil(lambda: case_dialog.correction_dialog is not None)
    correction = case_dialog.correction_dialog
    assert correction is not None
    qtbot.waitExposed(correction)
    correction.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is correction)
    return case_dialog, correction


def test_save_on_switching_saves_an_open_correction(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    result = services.intake.register(clerk, person_form(name="张三"))
    _case_dialog, correction = open_correction_in_case(qtbot, window, result.case_id)
    replace_chinese(qtbot, correction.name, "张珊")
    type_chinese(correction.reason, "身份证上是“珊”，登记时录错")

    qtbot.keyClick(correction.reason, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    question = answer(qtbot, window, QMessageBox.StandardButton.Save)
    assert f"更正 — 事项 {result.number}（保存时一并提交）" in question
    assert "将关闭，不会保存" in question  # the case dialog itself saves nothing

    log_in(qtbot, window, "leader1")
    assert services.cases.detail(result.case_id).complainant_name == "张珊"
    assert window.open_dialogs() == []
    assert "潘险峰" in window.user_label.text()
    qtbot.waitUntil(lambda: not window.ledger.is_loading)


def test_a_correction_that_cannot_be_saved_stops_the_switch(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor, warnings: MessageBoxes
) -> None:
    result = services.intake.register(clerk, person_form(name="张三"))
    _case_dialog, correction = open_correction_in_case(qtbot, window, result.case_id)
    replace_chinese(qtbot, correction.name, "张珊")  # no reason: refused

    qtbot.keyClick(correction.name, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    answer(qtbot, window, QMessageBox.StandardButton.Save)
    qtbot.waitUntil(lambda: bool(warnings.texts("warning")))

    assert "没有保存成功" in warnings.texts("warning")[0]
    assert window.login_dialog is None
    assert correction.isVisible() and correction.errors["reason"].isVisible()
    assert correction.name.text() == "张珊"  # kept to be put right
    assert services.cases.detail(result.case_id).complainant_name == "张三"
    assert "张敏" in window.user_label.text()
    click(qtbot, correction.cancel_button)


def test_the_question_blocks_the_open_case_dialog(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    result = services.intake.register(clerk, person_form())
    case_dialog = window.open_case(result.case_id)
    assert case_dialog is not None
    qtbot.waitExposed(case_dialog)
    case_dialog.tabs.setCurrentIndex(0)
    qtbot.waitUntil(case_dialog.correct_button.isEnabled)
    case_dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is case_dialog)

    qtbot.keyClick(case_dialog.tabs, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.unsaved_question is not None)
    box = window.unsaved_question
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    assert box.windowModality() == Qt.WindowModality.ApplicationModal
    assert QApplication.modalWindow() is box.windowHandle()
    click_through_window(qtbot, case_dialog.correct_button)  # behind the question: blocked
    qtbot.wait(100)
    assert case_dialog.correction_dialog is None
    click(qtbot, box.button(QMessageBox.StandardButton.Cancel))
    qtbot.waitUntil(lambda: window.unsaved_question is None)
    click_through_window(qtbot, case_dialog.correct_button)  # usable again
    qtbot.waitUntil(lambda: case_dialog.correction_dialog is not None)
    case_dialog.correction_dialog.reject()
    case_dialog.reject()


class BusyDialog(QDialog):
    """Like a slip preview recording its output: it will not close while busy."""

    def __init__(self, parent: MainWindow) -> None:
        super().__init__(parent)
        self.setWindowTitle("交办单预览")
        self.busy = True

    def reject(self) -> None:
        if not self.busy:
            super().reject()


def test_the_log_in_waits_for_a_busy_dialog(qtbot, window: MainWindow) -> None:
    busy = BusyDialog(window)
    busy.show()
    qtbot.waitExposed(busy)
    click(qtbot, window.switch_button)
    question = answer(qtbot, window, QMessageBox.StandardButton.Discard)
    assert "交办单预览（将关闭，不会保存）" in question

    qtbot.wait(300)
    assert window.login_dialog is None and busy.isVisible()
    assert window.statusBar().currentMessage() == "正在完成…"
    busy.busy = False
    dialog = wait_for_login(qtbot, window)
    assert not busy.isVisible()
    click(qtbot, dialog.cancel_button)
    qtbot.waitUntil(lambda: window.login_dialog is None)
    assert "张敏" in window.user_label.text()


def test_closing_the_window_while_waiting_opens_no_log_in(qtbot, window: MainWindow) -> None:
    release = threading.Event()
    window.context.runner.run(lambda: release.wait(10), lambda _r: None)
    click(qtbot, window.switch_button)
    assert window.statusBar().currentMessage() == "正在完成…"
    release.set()
    window.close()
    qtbot.waitUntil(window.isEnabled)
    qtbot.wait(100)
    assert window.login_dialog is None
