"""A scroll area for long forms and pages: scrolls up and down, never sideways.

A plain ``QScrollArea`` reports a tiny minimum size whatever it holds, so a page that puts its
content in one would pass any size check while its right half is cut off. This one keeps the
content's minimum *width* (and gives up only the height, which it scrolls), so a window that is
too narrow still says so, and tests/test_screen_fit.py still sees it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QStyle, QWidget

# Below this height the area scrolls rather than asking its window for more room.
SCROLL_MIN_HEIGHT = 160


class VerticalScrollArea(QScrollArea):
    """Holds ``content`` at the viewport's width; scrolls vertically when it is taller."""

    def __init__(
        self,
        content: QWidget,
        parent: QWidget | None = None,
        *,
        min_height: int = SCROLL_MIN_HEIGHT,
    ) -> None:
        super().__init__(parent)
        self._min_height = min_height
        # Not QScrollArea's widgetResizable: that makes the content as tall as it would *like*
        # to be at this width (a table's preferred height), so a page that fits scrolls anyway.
        # The content gets the viewport's height, or its minimum height for this width if more.
        self.setWidgetResizable(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)
        # The page's own background shows through, as if there were no scroll area.
        self.viewport().setAutoFillBackground(False)
        content.setAutoFillBackground(False)
        content.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the content's minimum width may have changed
            self._fit_content()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_content()

    def _fit_content(self) -> None:
        content = self.widget()
        if content is None:
            return
        width = max(self.viewport().width(), content.minimumSizeHint().width())
        # Qt's minimum height for a width counts a tab widget at its preferred height, so it is
        # not used: the minimum height, plus the lines that wrapped labels take beyond one.
        height = content.minimumSizeHint().height() + _wrapped_lines_height(content)
        size = QSize(width, max(height, self.viewport().height()))
        if content.size() != size:
            content.resize(size)

    def _chrome(self) -> QSize:
        margins = self.contentsMargins()
        # From the style, not from verticalScrollBar(): Qt asks for size hints while it destroys
        # the area, when the scroll bar is already gone.
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        return QSize(margins.left() + margins.right() + bar, margins.top() + margins.bottom())

    def minimumSizeHint(self) -> QSize:
        content = self.widget()
        if content is None:
            return super().minimumSizeHint()
        needed = content.minimumSizeHint().expandedTo(content.minimumSize())
        chrome = self._chrome()
        return QSize(
            needed.width() + chrome.width(),
            min(needed.height(), self._min_height) + chrome.height(),
        )

    def sizeHint(self) -> QSize:
        content = self.widget()
        if content is None:
            return super().sizeHint()
        chrome = self._chrome()
        wanted = content.sizeHint().expandedTo(content.minimumSizeHint())
        return QSize(wanted.width() + chrome.width(), wanted.height() + chrome.height())


def _wrapped_lines_height(content: QWidget) -> int:
    """The height that word-wrapped labels shown in ``content`` need beyond their one-line
    minimum, at their present widths."""
    extra = 0
    for label in content.findChildren(QLabel):
        if label.wordWrap() and label.width() > 0 and label.isVisibleTo(content):
            one_line = label.minimumSizeHint().height()
            extra += max(0, label.heightForWidth(label.width()) - one_line)
    return extra


__all__ = ["SCROLL_MIN_HEIGHT", "VerticalScrollArea"]
