"""A one-line label that gives up width gracefully: cut with … and whole in its tooltip.

For the status bar of a small screen (1366×768 at 125 %: 1,093 logical pixels), where a long
site name would otherwise be clipped mid-character with no way to read the rest.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget


class ElidedLabel(QLabel):
    """Asks for its whole text's width but accepts a few characters' worth; what it cannot
    show is cut with … and the whole text is its tooltip (empty when nothing is cut)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._detail = ""
        self._update_tooltip()

    def set_detail(self, detail: str) -> None:
        """More than the text says, for its tooltip (after the whole text, when that is cut)."""
        self._detail = detail
        self._update_tooltip()

    def setText(self, text: str) -> None:
        super().setText(text)
        self._update_tooltip()

    def shown_text(self) -> str:
        """The text as painted at the label's present width."""
        return self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width()
        )

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        margins = self.contentsMargins()
        narrow = self.fontMetrics().horizontalAdvance(self.text()[:4] + "…")
        return QSize(min(hint.width(), narrow + margins.left() + margins.right()), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            self.shown_text(),
            self.foregroundRole(),
        )
        painter.end()  # before the backing store's own end (PySide may free it later)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        whole = self.text() if self.shown_text() != self.text() else ""
        self.setToolTip("\n".join(part for part in (whole, self._detail) if part))
