"""An event filter on each of the program's windows (``QWindow``: every key, click and turn of
the wheel reaches one before any widget), not on the whole application: a Python filter there is
shown every object of the program, some half-made or half-destroyed, and PySide then crashed now
and then (baa93d7) or wrapped a message box's button, seen while being built, as a plain
``QWidget`` (aab4a34).
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QGuiApplication, QWindow


class WindowFilter(QObject):
    """Filters (``eventFilter``, in a subclass) the events of every window of the program:
    those there are when it is made, and all there are each time the focus moves (a window that
    never had the focus is shown input too: on Windows an inactive window takes the wheel)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._windows: list[QWindow] = []
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self._focus_changed)  # a method: gone with self
        self.sweep()

    def sweep(self) -> None:
        """Watch every window there is now."""
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            for window in app.topLevelWindows():
                self.watch(window)

    def watch(self, window: QWindow | None) -> None:
        if window is None or window in self._windows:
            return
        window.installEventFilter(self)
        self._windows.append(window)
        window.destroyed.connect(lambda: self._forget(window))

    def _focus_changed(self, _window: QWindow | None) -> None:
        self.sweep()

    def _forget(self, window: QWindow) -> None:
        if window in self._windows:
            self._windows.remove(window)
