"""Idle lock (issue 15 item 9): after the idle time the window is covered; the same user's
password brings back the half-typed form; anyone else goes through 切换用户 and never sees it.

The idle time is a few hundred milliseconds here (``MainWindow(idle_lock_ms=…)``); in use it is
the 无操作自动锁屏 setting's minutes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.lock_screen import LockScreen
from desktop_app.ui.main_window import MainWindow
from tests.helpers.factories import USER_PASSWORD
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401

IDLE_MS = 400


@pytest.fixture
def window(
    qtbot, services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[MainWindow]:
    runner = TaskRunner()
    main = MainWindow(UiContext(services, clerk, ChangeHub(), runner), idle_lock_ms=IDLE_MS)
    qtbot.addWidget(main)
    main.show()
    qtbot.waitUntil(lambda: not main.ledger.is_loading)
    yield main
    if main.screen_lock.screen is not None:
        main.screen_lock.screen.finish()
    runner.wait()


def type_chinese(widget, text: str) -> None:
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def half_typed_form(qtbot, window: MainWindow) -> None:
    window.go_to("受理登记")
    type_chinese(window.intake.name, "王芳")
    qtbot.keyClicks(window.intake.phone, "13812345678")


def wait_for_lock(qtbot, window: MainWindow) -> LockScreen:
    qtbot.waitUntil(lambda: window.screen_lock.is_locked, timeout=5000)
    screen = window.screen_lock.screen
    assert screen is not None
    qtbot.waitUntil(screen.isVisible)
    return screen


def test_idle_window_locks_and_the_same_user_gets_the_half_typed_form_back(
    qtbot, window: MainWindow, services: AppServices
) -> None:
    half_typed_form(qtbot, window)

    screen = wait_for_lock(qtbot, window)
    assert screen.geometry() == window.frameGeometry()  # the whole window is covered
    assert screen.isModal()
    assert "张敏" in screen.who.text()

    # A wrong password: said, still locked (it is a log-in: it counts towards the lock-out).
    qtbot.keyClicks(screen.password, "wrong-password1")
    qtbot.mouseClick(screen.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not screen.is_checking and screen.error.isVisible())
    assert screen.error.text() == "用户名或密码不正确"
    assert window.screen_lock.is_locked

    screen.password.clear()
    qtbot.keyClicks(screen.password, USER_PASSWORD)
    qtbot.keyClick(screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.screen_lock.is_locked)
    modal = QApplication.activeModalWidget()
    assert modal is None, modal.text()  # the lock screen is gone

    assert window.intake.name.text() == "王芳"
    assert window.intake.phone.text() == "13812345678"
    assert window.context.actor.username == "clerk1"
    assert window.pages.currentWidget() is window.intake
    # Still idle afterwards: it locks again.
    wait_for_lock(qtbot, window)


def test_esc_does_not_open_the_lock(qtbot, window: MainWindow) -> None:
    screen = wait_for_lock(qtbot, window)
    qtbot.keyClick(screen.password, Qt.Key.Key_Escape)
    screen.close()
    assert screen.isVisible() and window.screen_lock.is_locked


def unlock(qtbot, window: MainWindow, screen: LockScreen) -> None:
    qtbot.keyClicks(screen.password, USER_PASSWORD)
    qtbot.mouseClick(screen.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.screen_lock.is_locked)


def test_input_keeps_the_window_unlocked(qtbot, window: MainWindow) -> None:
    unlock(qtbot, window, wait_for_lock(qtbot, window))  # the idle time starts afresh
    handle = window.windowHandle()
    assert handle is not None
    for step in range(12):  # 1.2 s of moving the mouse: three idle times
        qtbot.mouseMove(handle, QPoint(200 + step * 5, 200))
        qtbot.wait(100)
    assert not window.screen_lock.is_locked
    for _step in range(6):  # typing (into the window, as the keyboard does) counts too
        qtbot.keyClick(handle, Qt.Key.Key_Shift)
        qtbot.wait(100)
    assert not window.screen_lock.is_locked
    wait_for_lock(qtbot, window)  # and once the user stops, it locks


def test_another_user_switches_and_the_half_typed_form_is_given_up(
    qtbot, window: MainWindow
) -> None:
    half_typed_form(qtbot, window)
    screen = wait_for_lock(qtbot, window)

    qtbot.mouseClick(screen.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.screen_lock.question is not None)
    question = window.screen_lock.question
    assert question is not None
    assert "受理登记表单已填写" in question.text()
    assert question.button(QMessageBox.StandardButton.Save) is None  # nothing saved for them
    # 取消: back to the lock, the form untouched.
    qtbot.mouseClick(question.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.screen_lock.question is None)
    assert window.screen_lock.is_locked and window.intake.name.text() == "王芳"

    qtbot.mouseClick(screen.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.screen_lock.question is not None)
    question = window.screen_lock.question
    assert question is not None
    discard = question.button(QMessageBox.StandardButton.Discard)
    assert discard.text() == "放弃并切换"
    qtbot.mouseClick(discard, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: window.login_dialog is not None and window.login_dialog.isVisible())
    login = window.login_dialog
    assert login is not None
    assert not window.screen_lock.is_locked
    qtbot.keyClicks(login.username, "leader1")
    qtbot.keyClicks(login.password, USER_PASSWORD)
    qtbot.mouseClick(login.login_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.login_dialog is None and window.isVisible())

    assert window.context.actor.username == "leader1"
    assert "潘险峰" in window.user_label.text()
    assert window.intake.name.text() == ""
    assert window.intake.phone.text() == ""
    wait_for_lock(qtbot, window)  # the new user's window locks too


def test_nothing_typed_switches_without_asking(qtbot, window: MainWindow) -> None:
    screen = wait_for_lock(qtbot, window)
    qtbot.mouseClick(screen.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.login_dialog is not None and window.login_dialog.isVisible())
    assert window.screen_lock.question is None
