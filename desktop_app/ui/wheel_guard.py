"""The mouse wheel scrolls the page, not the box under the pointer.

Qt's combo boxes and spin boxes take the wheel whenever the pointer is over them: scrolling a long
form (受理登记 on a laptop) turned 来源渠道 from 窗口来访 to 上级转办 on the way down, with nothing
to show it. Here such a box takes the wheel only once it has the focus (clicked or tabbed into);
otherwise the wheel goes to the page around it. Installed once on the application.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox

_GUARDED = (QComboBox, QAbstractSpinBox)


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish and isinstance(watched, _GUARDED):
            # Not focused by the wheel either (their default is Qt.WheelFocus).
            if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif kind == QEvent.Type.Wheel and isinstance(watched, _GUARDED) and not watched.hasFocus():
            # To the scroll area around it (an event sent on is not passed up by Qt by itself).
            area = watched.parentWidget()
            while area is not None and not isinstance(area, QAbstractScrollArea):
                area = area.parentWidget()
            if area is not None:
                QCoreApplication.sendEvent(area.viewport(), event)
            return True
        return False


def install_wheel_guard(app: QApplication) -> None:
    """Install the guard on ``app`` (once)."""
    if app.findChild(WheelGuard) is None:
        app.installEventFilter(WheelGuard(app))
