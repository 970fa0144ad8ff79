"""期限日历 page: the three tabs under one heading, and the one piece of state they share.

The board owns the month shown; the roster follows it (its ◀ ▶ move the board). Each tab loads
its own data and listens to the change hub itself, so this class only assembles them.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTabWidget, QVBoxLayout, QWidget

from desktop_app.ui.calendar.board import DeadlineBoard
from desktop_app.ui.calendar.holidays import HolidaysTab
from desktop_app.ui.calendar.looks import month_day, weekday_name
from desktop_app.ui.calendar.roster import RosterTab
from desktop_app.ui.common import UiContext, heading


class CalendarPage(QWidget):
    """期限日历 / 值班安排 / 节假日与期限规则."""

    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(6)
        top = QHBoxLayout()
        top.addWidget(heading("期限日历"))
        top.addStretch(1)
        self.today_label = QLabel("")
        self.today_label.setObjectName("hint")
        top.addWidget(self.today_label)
        layout.addLayout(top)

        self.board = DeadlineBoard(context)
        self.roster = RosterTab(context, self.board.anchor)
        self.holidays = HolidaysTab(context)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.board, "期限日历")
        self.tabs.addTab(self.roster, "值班安排")
        self.tabs.addTab(self.holidays, "节假日与期限规则")
        layout.addWidget(self.tabs, 1)

        self.board.open_case.connect(self.open_case.emit)
        self.board.month_changed.connect(self.roster.set_month)
        self.board.today_changed.connect(self._render_today)
        self.roster.month_step.connect(self.board.step_month)
        self._render_today(context.services.clock.now().date())

    def hasHeightForWidth(self) -> bool:
        """No: the window's page area would then make the page as tall as its layout would
        *like* to be at this width (729 px at 1366×768, the month's cells at their preferred
        height) and scroll, the month's last week below the screen's edge. Given the area's
        height instead, the month shrinks to fit it (its wrapped labels still get their lines);
        the area scrolls only below the page's minimum height."""
        return False

    def minimumSizeHint(self) -> QSize:
        """The layout's least size, with the lines the board's warning strip wraps onto beyond
        its first (at 125 % the 2027 warning takes two: the month's last week lay under the
        page area's edge however far it was scrolled)."""
        size = super().minimumSizeHint()
        return QSize(size.width(), size.height() + self.board.wrapped_extra_height())

    def refresh(self) -> None:
        """Reload every tab on the worker (board, roster, holidays and rules)."""
        self.board.refresh()
        self.roster.refresh()
        self.holidays.refresh()

    @property
    def is_loading(self) -> bool:
        return self.board.is_loading or self.roster.is_loading or self.holidays.is_loading

    def show_list(self, mode: str) -> None:
        """The board with 今日到期 / 已超期 / 即将到期 listed beside the month."""
        self.tabs.setCurrentIndex(self.tabs.indexOf(self.board))
        self.board.show_list(mode)

    def show_month(self, year: int, month: int) -> None:
        self.board.show_month(year, month)

    def go_today(self) -> None:
        self.board.go_today()

    def _render_today(self, today: date) -> None:
        self.today_label.setText(f"今天是 {today.year}年{month_day(today)} {weekday_name(today)}")
