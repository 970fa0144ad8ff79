"""The mouse wheel over the intake form scrolls it and changes no box the pointer passes over;
a box the clerk clicked into takes the wheel as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.intake_page import IntakePage
from desktop_app.ui.wheel_guard import WheelGuard, install_wheel_guard
from tests.helpers.message_boxes import MessageBoxes


@pytest.fixture
def guarded(qapp: QApplication) -> Iterator[None]:
    """The guard as ``make_application`` installs it; the shared application's put back."""
    install_wheel_guard(qapp)
    yield
    for guard in qapp.findChildren(WheelGuard):
        shiboken6.delete(guard)  # its filters on the windows go with it


@pytest.fixture
def page(
    qtbot, guarded: None, services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[IntakePage]:
    runner = TaskRunner()
    page = IntakePage(UiContext(services, clerk, ChangeHub(), runner))
    qtbot.addWidget(page)
    page.resize(1366, 420)  # short: the form scrolls
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()  # the guard watches a window once it has had the focus
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is page.windowHandle())
    qtbot.waitUntil(lambda: page.area.count() > 1)
    yield page
    runner.wait()


def wheel(widget: QWidget, notches: int = -1) -> None:
    """Notches of the wheel (down: negative), the pointer over ``widget``'s middle, given to
    its window as the system gives it."""
    middle = widget.mapTo(widget.window(), QPoint(widget.width() // 2, widget.height() // 2))
    event = QWheelEvent(
        QPointF(middle),
        QPointF(widget.window().mapToGlobal(middle)),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    window = widget.window().windowHandle()
    assert window is not None
    QApplication.sendEvent(window, event)


def test_the_wheel_over_a_box_scrolls_the_form_and_changes_nothing(qtbot, page: IntakePage) -> None:
    scroll = page.form_scroll.verticalScrollBar()
    assert scroll.maximum() > 0
    page.description.setFocus()
    channel, visits = page.channel.currentText(), page.visits_count.value()
    page.form_scroll.ensureWidgetVisible(page.channel)
    before = scroll.value()

    wheel(page.channel)  # down, over 来源渠道
    assert page.channel.currentText() == channel
    assert scroll.value() > before  # the form moved instead
    page.form_scroll.ensureWidgetVisible(page.visits_count)
    before = scroll.value()
    wheel(page.visits_count, 1)  # up, over 往返次数 (its line edit is under the pointer)
    assert page.visits_count.value() == visits
    assert scroll.value() < before
    assert not page.channel.hasFocus() and not page.visits_count.hasFocus()


class _Seen(QObject):
    """Counts the wheel events that reach a widget."""

    def __init__(self) -> None:
        super().__init__()
        self.wheels = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel:
            self.wheels += 1
        return False


def test_a_box_the_clerk_clicked_into_takes_the_wheel(qtbot, page: IntakePage) -> None:
    """Clicked into, the box under the pointer is given the wheel (a synthetic event is not
    passed on from the spin box's line edit to the spin box as the system's is, so what is
    checked is that it reaches the box, not what the box makes of it)."""
    page.form_scroll.ensureWidgetVisible(page.visits_count)
    qtbot.mouseClick(page.visits_count, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.visits_count.hasFocus)
    seen = _Seen()
    editor = page.visits_count.lineEdit()
    editor.installEventFilter(seen)
    scroll = page.form_scroll.verticalScrollBar().value()
    wheel(page.visits_count, 1)
    assert seen.wheels == 1
    assert page.form_scroll.verticalScrollBar().value() == scroll  # not the page's
    editor.removeEventFilter(seen)
