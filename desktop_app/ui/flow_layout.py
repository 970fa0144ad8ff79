"""A row of widgets that wraps onto the next line when the window is too narrow for it.

Toolbars and filter rows use it so that a 1366×768 laptop (or 1920×1080 at 150 %) shows every
button instead of widening the window past the screen. Its minimum width is its widest item's;
its minimum height is that of every item stacked, so a size check counts the wrapped rows —
except in a page that scrolls (``scrolled``), where that height would stand as empty space
under the rows: there it is one row's, and the scroll area asks the height for its width.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    """Items left to right, wrapping as needed. A toolbar's row (``last_to_right``) gives its
    spare width before its last item, so a row of two groups keeps the second at the right
    edge, as a stretch between them would; a list of checkboxes keeps every row to the left."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        spacing: int = 6,
        last_to_right: bool = True,
        scrolled: bool = False,
    ) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self._last_to_right = last_to_right
        self._scrolled = scrolled
        self.setContentsMargins(0, 0, 0, 0)

    # QLayout's item interface -------------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    # Sizes ------------------------------------------------------------------------------------

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:
        """Everything on one row."""
        shown = self._shown()
        width = sum(item.sizeHint().width() for item in shown) + self._gap * max(0, len(shown) - 1)
        height = max((item.sizeHint().height() for item in shown), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def minimumSize(self) -> QSize:
        """As wide as the widest item; as tall as every item on its own row (``scrolled``:
        as the tallest item)."""
        shown = self._shown()
        width = max((item.minimumSize().width() for item in shown), default=0)
        heights = [item.sizeHint().height() for item in shown]
        if self._scrolled:
            height = max(heights, default=0)
        else:
            height = sum(heights) + self._gap * max(0, len(heights) - 1)
        return QSize(width, height).grownBy(self.contentsMargins())

    # Placing ----------------------------------------------------------------------------------

    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _rows(self, width: int) -> list[list[QLayoutItem]]:
        rows: list[list[QLayoutItem]] = []
        used = 0
        for item in self._shown():
            wanted = item.sizeHint().width()
            if rows and used + self._gap + wanted <= width:
                rows[-1].append(item)
                used += self._gap + wanted
            else:
                rows.append([item])
                used = wanted
        return rows

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        margins: QMargins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        y = area.y()
        for row in self._rows(area.width()):
            height = max(item.sizeHint().height() for item in row)
            widths = [min(item.sizeHint().width(), area.width()) for item in row]
            spare = area.width() - sum(widths) - self._gap * (len(row) - 1)
            x = area.x()
            for index, (item, width) in enumerate(zip(row, widths, strict=True)):
                if self._last_to_right and index == len(row) - 1 and index > 0:
                    x += max(0, spare)
                if apply:
                    item_height = min(item.sizeHint().height(), height)
                    top = y + (height - item_height) // 2
                    item.setGeometry(QRect(QPoint(x, top), QSize(width, item_height)))
                x += width + self._gap
            y += height + self._gap
        return y - self._gap - area.y() + margins.top() + margins.bottom() if y > area.y() else 0


__all__ = ["FlowLayout"]
