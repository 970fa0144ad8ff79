"""Each screen has its own key whatever the role (Ctrl+3 is 事项台账 for the clerk and the
auditor alike); a screen a role does not see has no key for it, and the navigation's tooltip
names the key. Pressed on the main window as a person would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier

# Written out apart from the code: the keys a user learns once and keeps, whatever the role.
KEYS: dict[str, tuple[Qt.Key, Qt.KeyboardModifier, str]] = {
    "工作台": (Qt.Key.Key_1, CTRL, "Ctrl+1"),
    "受理登记": (Qt.Key.Key_2, CTRL, "Ctrl+2"),
    "事项台账": (Qt.Key.Key_3, CTRL, "Ctrl+3"),
    "期限日历": (Qt.Key.Key_4, CTRL, "Ctrl+4"),
    "交办单": (Qt.Key.Key_5, CTRL, "Ctrl+5"),
    "问责线索": (Qt.Key.Key_6, CTRL, "Ctrl+6"),
    "一类事与预警": (Qt.Key.Key_7, CTRL, "Ctrl+7"),
    "联席会议": (Qt.Key.Key_8, CTRL, "Ctrl+8"),
    "统计通报": (Qt.Key.Key_9, CTRL, "Ctrl+9"),
    "数据交换": (Qt.Key.Key_0, CTRL, "Ctrl+0"),
    "系统设置": (Qt.Key.Key_Comma, CTRL, "Ctrl+,"),
    "审计日志": (Qt.Key.Key_A, CTRL | SHIFT, "Ctrl+Shift+A"),
}


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.wait()


def open_window(qtbot, services: AppServices, actor: Actor, runner: TaskRunner) -> MainWindow:
    window = MainWindow(UiContext(services, actor, ChangeHub(), runner))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: not window.ledger.is_loading)
    return window


def titles(window: MainWindow) -> list[str]:
    navigation = window.navigation
    return [navigation.item(row).text() for row in range(navigation.count())]


def current_title(window: MainWindow) -> str:
    item = window.navigation.currentItem()
    assert item is not None
    return item.text()


def press_every_key(qtbot, window: MainWindow, runner: TaskRunner) -> dict[str, str]:
    """Each screen's key pressed in turn from 工作台; what the window shows after each."""
    shown: dict[str, str] = {}
    for title, (key, modifiers, _text) in KEYS.items():
        # The offscreen platform forgets which window is active when a screen's first read
        # lands (no window manager); a person's window stays active, so make it so again.
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        qtbot.keyClick(window, Qt.Key.Key_1, CTRL)
        assert current_title(window) == "工作台"
        qtbot.keyClick(window, key, modifiers)
        shown[title] = current_title(window)
        assert window.pages.currentWidget() is window.page(shown[title])
        qtbot.waitUntil(runner.idle, timeout=10_000)  # the screen's first read, done
    return shown


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_each_screen_has_its_own_key_whatever_the_role(
    qtbot,
    services: AppServices,
    runner: TaskRunner,
    message_boxes: MessageBoxes,
    role: str,
    request: pytest.FixtureRequest,
) -> None:
    message_boxes.allow("warning", "information")
    actor: Actor = request.getfixturevalue(role)
    window = open_window(qtbot, services, actor, runner)
    visible = titles(window)

    shown = press_every_key(qtbot, window, runner)

    for title in KEYS:
        # A screen the role sees comes up under its key; one it does not see leaves 工作台.
        assert shown[title] == (title if title in visible else "工作台"), title
    # The same key is the same screen for both roles, wherever the screen sits in the list.
    assert shown["事项台账"] == "事项台账" and shown["期限日历"] == "期限日历"
    if role == "auditor":
        assert "受理登记" not in visible and shown["受理登记"] == "工作台"
        assert visible.index("事项台账") == 1  # third for the clerk: Ctrl+3 still finds it
        assert shown["审计日志"] == "审计日志"
    else:
        assert visible.index("事项台账") == 2
        assert shown["联席会议"] == "联席会议" and shown["系统设置"] == "系统设置"
    for row, title in enumerate(visible):
        native = QKeySequence(KEYS[title][2]).toString(QKeySequence.SequenceFormat.NativeText)
        assert window.navigation.item(row).toolTip() == f"{title}（{native}）"
