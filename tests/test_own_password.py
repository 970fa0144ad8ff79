"""修改密码 (issue 15 item 9): each user changes their own password from the status bar; the
policy's refusals are shown in Chinese beside the field, and nothing changes until it passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from desktop_app.errors import UserError
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.password_dialog import PasswordDialog
from tests.helpers.factories import USER_PASSWORD
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401

NEW_PASSWORD = "Neu-Passwort9"


@pytest.fixture
def window(
    qtbot, services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[MainWindow]:
    runner = TaskRunner()
    main = MainWindow(UiContext(services, clerk, ChangeHub(), runner))
    qtbot.addWidget(main)
    main.show()
    qtbot.waitUntil(lambda: not main.ledger.is_loading)
    yield main
    runner.wait()


def open_dialog(qtbot, window: MainWindow) -> PasswordDialog:
    qtbot.mouseClick(window.password_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), PasswordDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, PasswordDialog)
    return dialog


def fill(qtbot, dialog: PasswordDialog, old: str, new: str, again: str) -> None:
    for field, text in (
        (dialog.old_password, old),
        (dialog.new_password, new),
        (dialog.new_again, again),
    ):
        field.clear()
        qtbot.keyClicks(field, text)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy)


def test_a_user_changes_their_own_password(
    qtbot, window: MainWindow, services: AppServices
) -> None:
    dialog = open_dialog(qtbot, window)
    assert "张敏" in dialog.windowTitle() + "".join(
        label.text() for label in dialog.findChildren(QLabel)
    )

    fill(qtbot, dialog, USER_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert dialog.errors["new_again"].text() == "两次输入的新密码不一致"

    fill(qtbot, dialog, "Wrong-123", NEW_PASSWORD, NEW_PASSWORD)
    assert dialog.errors["old_password"].text() == "原密码不正确"

    fill(qtbot, dialog, USER_PASSWORD, "abcdefgh", "abcdefgh")
    assert dialog.errors["new_password"].isVisible()
    assert "密码" in dialog.errors["new_password"].text()
    assert dialog.isVisible()
    # Nothing changed so far: the old password still logs in.
    services.auth.login("clerk1", USER_PASSWORD)

    fill(qtbot, dialog, USER_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None)
    assert window.statusBar().currentMessage() == "密码已修改"
    assert services.auth.login("clerk1", NEW_PASSWORD).username == "clerk1"
    with pytest.raises(UserError):
        services.auth.login("clerk1", USER_PASSWORD)
