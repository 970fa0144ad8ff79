"""Windows and dialogs sized to the screen they open on.

County offices use 1366×768 laptops and 1920×1080 screens at 125 % or 150 % scaling; the smallest
of these leaves about 1280×680 logical pixels once the taskbar is taken. Every page's and dialog's
minimum size fits that (tests/test_screen_fit.py checks it); a preferred size larger than the
screen is cut down to the screen's available area.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

# The smallest screen area a window must be usable in: 1920×1080 at 150 % less the taskbar.
SMALLEST_SCREEN = QSize(1280, 680)


def available_area(widget: QWidget | None = None) -> QRect:
    """The available geometry (without the taskbar) of the screen ``widget`` is on, or of the
    screen of its parent window, or the primary screen."""
    screen = None
    if widget is not None:
        screen = widget.screen()
        parent = widget.parentWidget()
        if parent is not None and parent.window() is not widget:
            screen = parent.window().screen() or screen
    if screen is None:
        screen = QGuiApplication.primaryScreen()
    if screen is None:
        return QRect(0, 0, SMALLEST_SCREEN.width(), SMALLEST_SCREEN.height())
    return screen.availableGeometry()


def size_to_screen(widget: QWidget, width: int, height: int, *, share: float = 0.92) -> QSize:
    """Resize ``widget`` to ``width``×``height``, or to ``share`` of the available screen area
    where that is smaller. Returns the size set."""
    area = available_area(widget)
    size = QSize(
        min(width, int(area.width() * share)),
        min(height, int(area.height() * share)),
    )
    widget.resize(size)
    return size


__all__ = ["SMALLEST_SCREEN", "available_area", "size_to_screen"]
