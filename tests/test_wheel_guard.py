"""The mouse wheel over the intake form scrolls it and changes no box the pointer passes over;
a box the clerk clicked into takes the wheel as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
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
        qapp.removeEventFilter(guard)
        guard.deleteLater()


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
    qtbot.waitUntil(lambda: page.area.count() > 1)
    yield page
    runner.wait()


def wheel(widget: QWidget, notches: int = -1) -> None:
    """Notches of the wheel (down: negative), the pointer over ``widget``'s middle."""
    middle = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        middle,
        QPointF(widget.mapToGlobal(QPoint(int(middle.x()), int(middle.y())))),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_a_box_scrolls_the_form_and_changes_nothing(qtbot, page: IntakePage) -> None:
    scroll = page.form_scroll.verticalScrollBar()
    assert scroll.maximum() > 0
    page.description.setFocus()
    channel, visits = page.channel.currentText(), page.visits_count.value()

    wheel(page.channel)  # down
    assert page.channel.currentText() == channel
    assert scroll.value() > 0  # the form moved instead
    down = scroll.value()
    wheel(page.visits_count, 1)  # up
    assert page.visits_count.value() == visits
    assert scroll.value() < down
    assert not page.channel.hasFocus() and not page.visits_count.hasFocus()


def test_a_box_the_clerk_clicked_into_takes_the_wheel(qtbot, page: IntakePage) -> None:
    page.form_scroll.ensureWidgetVisible(page.visits_count)
    qtbot.mouseClick(page.visits_count, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.visits_count.hasFocus)
    before = page.visits_count.value()
    wheel(page.visits_count, 1)
    assert page.visits_count.value() == before + 1
