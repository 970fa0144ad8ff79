"""The mouse wheel scrolls the page, not the box under the pointer.

Qt's combo boxes and spin boxes take the wheel whenever the pointer is over them: scrolling a long
form (受理登记 on a laptop) turned 来源渠道 from 窗口来访 to 上级转办 on the way down, with nothing
to show it. Here such a box takes the wheel only once it has the focus (clicked or tabbed into);
otherwise the wheel goes to the scroll area around it.

The guard filters the program's windows, as the idle lock does (``ui/window_filter.py``).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QWidget,
)

from desktop_app.ui.window_filter import WindowFilter

_GUARDED = (QComboBox, QAbstractSpinBox)


def _guarded_box(widget: QWidget | None) -> QWidget | None:
    """The combo or spin box ``widget`` is (or is part of: a spin box's line edit)."""
    while widget is not None and not widget.isWindow():
        if isinstance(widget, _GUARDED):
            return widget
        widget = widget.parentWidget()
    return None


class WheelGuard(WindowFilter):
    """Installed once (``install_wheel_guard``) on the application."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(event, QWheelEvent):
            return False
        box = _guarded_box(QApplication.widgetAt(event.globalPosition().toPoint()))
        if box is None or box.hasFocus():
            return False
        area = box.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is not None:  # the page scrolls; an event sent on is not passed up by Qt
            QCoreApplication.sendEvent(area.viewport(), event)
        return True


def install_wheel_guard(app: QApplication) -> None:
    """Guard ``app``'s windows (once)."""
    if app.findChild(WheelGuard) is None:
        WheelGuard(app)
