"""The mouse wheel scrolls the page, not the box under the pointer.

Qt's combo boxes and spin boxes take the wheel whenever the pointer is over them: scrolling a long
form (受理登记 on a laptop) turned 来源渠道 from 窗口来访 to 上级转办 on the way down, with nothing
to show it. Here such a box takes the wheel only once it has the focus (clicked or tabbed into);
otherwise the wheel goes to the scroll area around it.

The guard watches the program's windows (``QWindow``), as the idle lock does, not every object
of the application: PySide wraps each object an application-wide filter is shown, and one shown
while still being built stays wrapped as a plain ``QWidget`` (a message box's button then had no
``setText``).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtGui import QGuiApplication, QWheelEvent, QWindow
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QWidget,
)

_GUARDED = (QComboBox, QAbstractSpinBox)


def _guarded_box(widget: QWidget | None) -> QWidget | None:
    """The combo or spin box ``widget`` is (or is part of: a spin box's line edit)."""
    while widget is not None and not widget.isWindow():
        if isinstance(widget, _GUARDED):
            return widget
        widget = widget.parentWidget()
    return None


class WheelGuard(QObject):
    """Installed once (``install_wheel_guard``); watches the program's windows."""

    def __init__(self, app: QGuiApplication) -> None:
        super().__init__(app)
        self._app = app
        self._windows: list[QWindow] = []
        # At each change of focus every window there is, not only the focused one: on Windows
        # a window that never had the focus takes the wheel too.
        app.focusWindowChanged.connect(self._focus_changed)  # a method: gone with the guard
        self.sweep()

    def _focus_changed(self, _window: QWindow | None) -> None:
        self.sweep()

    def sweep(self) -> None:
        for window in self._app.topLevelWindows():
            self.watch(window)

    def watch(self, window: QWindow | None) -> None:
        if window is None or window in self._windows:
            return
        window.installEventFilter(self)
        self._windows.append(window)
        window.destroyed.connect(lambda: self._forget(window))

    def _forget(self, window: QWindow) -> None:
        if window in self._windows:
            self._windows.remove(window)

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
