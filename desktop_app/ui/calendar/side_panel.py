"""The board's right-hand column: one day's deadlines (or a today figure's), and the proof box."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.deadlines import MonthView
from desktop_app.services.deadlines import DeadlineItem
from desktop_app.ui.calendar.looks import (
    PANEL_DAY,
    PANEL_DUE_SOON,
    PANEL_DUE_TODAY,
    PANEL_OVERDUE,
    Panel,
    month_day,
    weekday_name,
)
from desktop_app.ui.calendar.proof import ProofBox
from desktop_app.ui.calendar.widgets import case_id_of, item_widget, placeholder
from desktop_app.ui.common import UiContext


class DayPanel(QWidget):
    """A title, the list (double click or Enter opens a case), and 期限计算 below."""

    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(300)
        self.setMaximumWidth(420)
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 0, 0, 0)
        column.setSpacing(4)
        self.panel_title = QLabel("")
        self.panel_title.setStyleSheet("font-size: 11.5pt; font-weight: bold;")
        self.panel_title.setWordWrap(True)
        column.addWidget(self.panel_title)
        self.panel_subtitle = QLabel("")
        self.panel_subtitle.setObjectName("hint")
        self.panel_subtitle.setWordWrap(True)
        column.addWidget(self.panel_subtitle)
        self.day_items = QListWidget()
        self.day_items.setWordWrap(True)
        self.day_items.setSpacing(2)
        self.day_items.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.day_items.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.day_items.setAlternatingRowColors(True)
        self.day_items.itemDoubleClicked.connect(self._open_item)
        self.day_items.itemActivated.connect(self._open_item)
        column.addWidget(self.day_items, 1)
        hint = QLabel("双击或按回车打开事项")
        hint.setObjectName("hint")
        column.addWidget(hint)
        self.proof = ProofBox(context)
        column.addWidget(self.proof)

    def show_items(
        self,
        panel: Panel,
        items: list[DeadlineItem],
        today: date,
        soon_until: date,
        view: MonthView | None,
    ) -> None:
        mode, day = panel
        subtitle = ""
        if mode == PANEL_OVERDUE:
            title = f"已超期、尚未办结 · {len(items)} 项"
            empty = "没有超期的事项"
        elif mode == PANEL_DUE_TODAY:
            title = f"今天（{month_day(today)}）到期 · {len(items)} 项"
            empty = "今天没有到期的事项"
        elif mode == PANEL_DUE_SOON:
            start = today + timedelta(days=1)
            title = f"即将到期（{month_day(start)}—{month_day(soon_until)}）· {len(items)} 项"
            empty = "近几个工作日没有到期的事项"
        else:
            chosen = day or today
            suffix = "（今天）" if chosen == today else ""
            count = f"{len(items)} 项到期" if items else "无到期事项"
            title = f"{chosen.year}年{month_day(chosen)} {weekday_name(chosen)}{suffix} · {count}"
            empty = "这一天没有到期的事项"
            cell = view.cell(chosen) if view else None
            if cell is not None:
                parts = []
                if cell.reason != "工作日":
                    parts.append(cell.reason)
                parts.append(f"带班：{cell.leader}" if cell.leader else "带班：未排班")
                if cell.window:
                    parts.append(f"坐窗：{cell.window}")
                subtitle = "　".join(parts)
        self.panel_title.setText(title)
        self.panel_subtitle.setText(subtitle)
        self.panel_subtitle.setVisible(bool(subtitle))
        self.day_items.clear()
        for item in items:
            self.day_items.addItem(item_widget(item, with_due=mode != PANEL_DAY))
        if not items:
            self.day_items.addItem(placeholder(empty))

    def focus_items(self) -> None:
        """Enter on a day of the grid: into its list, on the first case."""
        self.day_items.setFocus()
        if self.day_items.count():
            self.day_items.setCurrentRow(0)

    def _open_item(self, item: QListWidgetItem) -> None:
        case_id = case_id_of(item)
        if case_id is not None:
            self.open_case.emit(case_id)
