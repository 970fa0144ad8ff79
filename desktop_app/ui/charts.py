"""Small painted charts for the 工作台 (issue 17): bars by category and a month trend.

Drawn with QPainter, not QtCharts: build.spec leaves PySide6.QtCharts out of the frozen program
to stay under its size budget. The widgets hold plain numbers (``rows``, ``series``) that tests
compare with the statistics service; they paint in the application's font, label every value,
and use the bulletin's palette (blue and orange tell apart in the common colour blindnesses).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QHelpEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

# documents/bulletin_pdf.py PALETTE: the same colours on paper and on screen.
BLUE = QColor("#1F4E79")
ORANGE = QColor("#D68910")
GRID = QColor("#e5e7e9")
TEXT = QColor("#2c3e50")
MUTED = QColor("#566573")
BAR_HEIGHT = 14
BAR_GAP = 5


class BarChart(QWidget):
    """Horizontal bars, one per (label, count) row, largest first as given, the count at the
    end of each bar; hovering a bar tells its share of the total."""

    def __init__(self, colour: QColor = BLUE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = colour
        self.rows: tuple[tuple[str, int], ...] = ()
        self.empty_text = "暂无事项"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)

    def set_rows(self, rows: Sequence[tuple[str, int]]) -> None:
        self.rows = tuple(rows)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        lines = max(1, len(self.rows))
        return QSize(220, lines * (BAR_HEIGHT + BAR_GAP) + BAR_GAP)

    def minimumSizeHint(self) -> QSize:
        return QSize(100, self.sizeHint().height())

    def bar_rect(self, index: int) -> QRect:
        """Where row ``index``'s bar is painted (tests click and hover there)."""
        metrics = QFontMetrics(self.font())
        label_width = max((metrics.horizontalAdvance(label) for label, _ in self.rows), default=0)
        value_width = metrics.horizontalAdvance(f"{max(self._counts(), default=0):,}") + 8
        left = label_width + 8
        room = max(1, self.width() - left - value_width)
        top = BAR_GAP + index * (BAR_HEIGHT + BAR_GAP)
        largest = max(self._counts(), default=0) or 1
        width = max(1, round(room * self.rows[index][1] / largest)) if self.rows[index][1] else 0
        return QRect(left, top, width, BAR_HEIGHT)

    def tip(self, index: int) -> str:
        label, count = self.rows[index]
        total = sum(self._counts())
        share = f"，占{100 * count / total:.1f}%" if total else ""
        return f"{label}：{count:,} 件{share}（共 {total:,} 件）"

    def row_at(self, point: QPoint) -> int | None:
        for index in range(len(self.rows)):
            rect = self.bar_rect(index)
            if rect.top() <= point.y() <= rect.bottom():
                return index
        return None

    def _counts(self) -> list[int]:
        return [count for _, count in self.rows]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetrics(self.font())
        if not self.rows:
            painter.setPen(MUTED)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            painter.end()  # before the backing store ends its paint (a Qt warning otherwise)
            return
        for index, (label, count) in enumerate(self.rows):
            bar = self.bar_rect(index)
            text_box = QRect(0, bar.top() - 3, bar.left() - 8, BAR_HEIGHT + 6)
            painter.setPen(TEXT)
            painter.drawText(
                text_box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.colour)
            painter.drawRoundedRect(bar, 2, 2)
            painter.setPen(TEXT)
            value = f"{count:,}"
            painter.drawText(
                QRect(bar.right() + 5, bar.top() - 3, metrics.horizontalAdvance(value) + 4, 20),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                value,
            )
        painter.end()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.row_at(event.pos())
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.tip(index), self)
            return True
        return super().event(event)


class TrendChart(QWidget):
    """Columns per month for two series side by side (受理, 其中已办结), a legend and a grid;
    clicking a column emits ``clicked(month index, series index)``."""

    clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: tuple[str, ...] = ()  # one per month, shown under its columns
        self.tips: tuple[str, ...] = ()  # the full month name for the tooltip
        self.series: tuple[tuple[str, tuple[int, ...]], ...] = ()
        self.colours = (BLUE, ORANGE)
        self.setMinimumSize(QSize(200, 190))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_data(
        self,
        labels: Sequence[str],
        series: Sequence[tuple[str, Sequence[int]]],
        tips: Sequence[str] = (),
    ) -> None:
        self.labels = tuple(labels)
        self.tips = tuple(tips) or self.labels
        self.series = tuple((name, tuple(values)) for name, values in series)
        self.update()

    def _plot(self) -> QRect:
        """The area the columns stand in: below the legend, above the month labels, right of
        the axis numbers."""
        metrics = QFontMetrics(self.font())
        axis = metrics.horizontalAdvance(f"{self._top():,}") + 8
        line = metrics.height()
        return QRect(axis, line + 10, self.width() - axis - 4, self.height() - 2 * line - 18)

    def _top(self) -> int:
        """The axis' top: the largest value rounded up to a round number (at least 4)."""
        largest = max((max(values, default=0) for _, values in self.series), default=0)
        step = 1
        while step * 10 < largest:
            step *= 10
        for multiple in (1, 2, 5, 10):
            if largest <= step * multiple:
                return max(4, step * multiple)
        return max(4, largest)

    def column_rect(self, month: int, series: int) -> QRect:
        plot = self._plot()
        slot = plot.width() / max(1, len(self.labels))
        width = max(2, int(slot * 0.7 / max(1, len(self.series))))
        left = plot.left() + int(slot * month + slot * 0.15) + series * width
        value = self.series[series][1][month]
        height = round(plot.height() * value / self._top())
        return QRect(left, plot.bottom() - height, width, height)

    def hit(self, point: QPoint) -> tuple[int, int] | None:
        """The (month, series) whose column (or the space above it) is under ``point``."""
        plot = self._plot()
        if not self.labels or not plot.contains(point):
            return None
        for month in range(len(self.labels)):
            for series in range(len(self.series)):
                rect = self.column_rect(month, series)
                if rect.left() <= point.x() <= rect.right():
                    return month, series
        return None

    def tip(self, month: int) -> str:
        parts = [f"{name} {values[month]:,} 件" for name, values in self.series]
        return f"{self.tips[month]}：{'，'.join(parts)}（点击查看）"

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = QFontMetrics(self.font())
        plot = self._plot()
        top = self._top()
        # Legend, top left.
        x = plot.left()
        for index, (name, _values) in enumerate(self.series):
            painter.fillRect(QRect(x, 4, 12, 12), self.colours[index % len(self.colours)])
            painter.setPen(TEXT)
            painter.drawText(QPoint(x + 16, 4 + metrics.ascent() - 1), name)
            x += 16 + metrics.horizontalAdvance(name) + 18
        # Grid and axis numbers: 0, half and the top.
        for value in (0, top // 2, top):
            y = plot.bottom() - round(plot.height() * value / top)
            painter.setPen(GRID)
            painter.drawLine(plot.left(), y, plot.right(), y)
            painter.setPen(MUTED)
            painter.drawText(
                QRect(0, y - metrics.height() // 2, plot.left() - 6, metrics.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{value:,}",
            )
        slot = plot.width() / max(1, len(self.labels))
        # "10月11月12月" would run together on a narrow chart: then the numbers alone.
        compact = any(metrics.horizontalAdvance(label) > slot - 6 for label in self.labels)
        for month, label in enumerate(self.labels):
            for series in range(len(self.series)):
                painter.fillRect(
                    self.column_rect(month, series), self.colours[series % len(self.colours)]
                )
            painter.setPen(TEXT)
            painter.drawText(
                QRect(int(plot.left() + slot * month), plot.bottom() + 4, int(slot), 2 * 16),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                label.removesuffix("月") if compact else label,
            )
        painter.end()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            found = self.hit(event.pos())
            if found is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.tip(found[0]), self)
            return True
        return super().event(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        found = self.hit(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and found is not None:
            self.clicked.emit(*found)
        super().mouseReleaseEvent(event)
