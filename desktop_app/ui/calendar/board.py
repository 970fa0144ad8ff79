"""期限日历 tab: today's figures, the month or week of deadlines, the chosen day's list.

It owns the month shown (the roster tab follows it) and listens to the change hub itself: a
case or a setting (holidays, rules, roster) redraws the board, a department or a setting the
filters.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.deadlines import DeadlineKind, MonthView
from desktop_app.errors import UserError
from desktop_app.services.context import Changes
from desktop_app.services.deadlines import BoardFilter, DeadlineItem, TodayCounts
from desktop_app.ui.calendar.data import (
    BoardData,
    BoardQuery,
    FilterChoices,
    PanelData,
    load_board,
    load_filters,
    load_panel_data,
)
from desktop_app.ui.calendar.grid import MonthGrid, WeekBoard
from desktop_app.ui.calendar.looks import (
    GREY_TEXT,
    PANEL_DAY,
    PANEL_DUE_SOON,
    PANEL_DUE_TODAY,
    PANEL_OVERDUE,
    Panel,
    month_day,
    week_start,
)
from desktop_app.ui.calendar.side_panel import DayPanel
from desktop_app.ui.calendar.widgets import Reads
from desktop_app.ui.common import UiContext, heading, show_error
from desktop_app.ui.flow_layout import FlowLayout
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.theme import RED, YELLOW


class DeadlineBoard(QWidget):
    """The month grid or week board, the today strip, the filters and the side panel."""

    open_case = Signal(int)
    month_changed = Signal(object)  # the day the board is anchored on (its month is shown)
    today_changed = Signal(object)  # the date the last answer was computed for

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._services = context.services
        self._actor = context.actor
        self._reads = Reads()
        self._today = self._services.clock.now().date()
        self._anchor = self._today
        self._week_mode = False
        self._panel: Panel = (PANEL_DAY, self._today)
        self._loaded_today: date | None = None
        self.view: MonthView | None = None
        self.data: BoardData | None = None
        self.filter_choices: FilterChoices | None = None
        self.last_export: Path | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(6)
        layout.addWidget(self._build_strip())
        layout.addLayout(self._build_toolbar())

        self.warnings_label = QLabel("")
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setStyleSheet(
            f"color: #7d6608; background: #fef9e7; border: 1px solid {YELLOW};"
            " border-radius: 4px; padding: 3px 8px;"
        )
        self.warnings_label.setVisible(False)
        layout.addWidget(self.warnings_label)
        self.export_status = QLabel("")
        self.export_status.setObjectName("hint")
        self.export_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_status.setVisible(False)
        layout.addWidget(self.export_status)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        self.board_stack = QStackedWidget()
        self.grid = MonthGrid()
        self.grid.day_selected.connect(self.select_day)
        self.grid.day_activated.connect(self._focus_day_items)
        self.week_board = WeekBoard()
        self.week_board.open_case.connect(self.open_case.emit)
        self.week_board.day_selected.connect(self._week_day_selected)
        self.board_stack.addWidget(self.grid)
        self.board_stack.addWidget(self.week_board)
        splitter.addWidget(self.board_stack)
        self.side_panel = DayPanel(context)
        self.side_panel.open_case.connect(self.open_case.emit)
        splitter.addWidget(self.side_panel)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([760, 330])
        layout.addWidget(splitter, 1)

        for keys, slot in (
            (QKeySequence(Qt.Key.Key_PageUp), self.go_previous),
            (QKeySequence(Qt.Key.Key_PageDown), self.go_next),
            (QKeySequence("Ctrl+T"), self.go_today),
        ):
            shortcut = QShortcut(keys, self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        context.hub.changed.connect(self._on_changed)
        self._render_title()

    # Building -----------------------------------------------------------------------------------

    def _build_strip(self) -> QFrame:
        strip = QFrame()
        strip.setObjectName("todayStrip")
        strip.setStyleSheet(
            "#todayStrip { background: #fdfefe; border: 1px solid #d5d8dc; border-radius: 6px; }"
        )
        strip_row = QHBoxLayout(strip)
        strip_row.setContentsMargins(12, 4, 12, 4)
        self.strip_caption = QLabel("今天")
        self.strip_caption.setStyleSheet("font-weight: bold;")
        strip_row.addWidget(self.strip_caption)
        self.today_strip: dict[str, QPushButton] = {}
        for index, key in enumerate((PANEL_DUE_TODAY, PANEL_OVERDUE, PANEL_DUE_SOON)):
            if index:
                dot = QLabel("·")
                dot.setStyleSheet(f"color: {GREY_TEXT};")
                strip_row.addWidget(dot)
            button = QPushButton("—")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setFlat(True)
            button.clicked.connect(lambda _checked=False, k=key: self.show_list(k))
            strip_row.addWidget(button)
            self.today_strip[key] = button
        self.today_strip[PANEL_DUE_TODAY].setToolTip("列出今天到期的事项")
        self.today_strip[PANEL_OVERDUE].setToolTip("列出已超过期限、尚未办结的事项")
        self.today_strip[PANEL_DUE_SOON].setToolTip("列出之后几个工作日内到期的事项")
        strip_row.addStretch(1)
        self.duty_today = QLabel("")
        self.duty_today.setStyleSheet(f"color: {GREY_TEXT};")
        strip_row.addWidget(self.duty_today)
        return strip

    def _build_toolbar(self) -> FlowLayout:
        # Two groups that share a row where the window is wide enough, else wrap onto two:
        # moving through months and weeks on the left, filters and export on the right.
        nav_group, filter_group = QWidget(), QWidget()
        nav = QHBoxLayout(nav_group)
        filters = QHBoxLayout(filter_group)
        for group in (nav, filters):
            group.setContentsMargins(0, 0, 0, 0)
            group.setSpacing(6)
        self.previous_button = QPushButton("◀")
        self.previous_button.setToolTip("上一月／上一周（PageUp）")
        self.today_button = QPushButton("今天")
        self.today_button.setToolTip("回到今天（Ctrl+T）")
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip("下一月／下一周（PageDown）")
        for button in (self.previous_button, self.next_button):
            button.setFixedWidth(36)
        self.previous_button.clicked.connect(self.go_previous)
        self.today_button.clicked.connect(self.go_today)
        self.next_button.clicked.connect(self.go_next)
        nav.addWidget(self.previous_button)
        nav.addWidget(self.today_button)
        nav.addWidget(self.next_button)
        self.month_title = heading("", 14)
        self.month_title.setMinimumWidth(150)
        nav.addSpacing(6)
        nav.addWidget(self.month_title)
        self.earlier_button = QPushButton("")
        self.earlier_button.setFlat(True)
        self.earlier_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.earlier_button.setStyleSheet(
            f"color: {RED}; text-decoration: underline; border: none;"
        )
        self.earlier_button.setToolTip("这些事项的期限在本表之前，列出全部已超期事项")
        self.earlier_button.clicked.connect(lambda: self.show_list(PANEL_OVERDUE))
        self.earlier_button.setVisible(False)
        nav.addWidget(self.earlier_button)
        self.month_mode_button = QPushButton("月")
        self.week_mode_button = QPushButton("周")
        self.mode_group = QButtonGroup(self)
        for button, tip in (
            (self.month_mode_button, "按月查看"),
            (self.week_mode_button, "按周查看每天的事项"),
        ):
            button.setCheckable(True)
            button.setFixedWidth(36)
            button.setToolTip(tip)
            self.mode_group.addButton(button)
            nav.addWidget(button)
        nav.addStretch(1)
        self.month_mode_button.setChecked(True)
        self.month_mode_button.clicked.connect(lambda: self.set_week_mode(False))
        self.week_mode_button.clicked.connect(lambda: self.set_week_mode(True))
        self.site_filter = QComboBox()  # shown at the city once counties are registered
        self.site_filter.addItem("全部县区", None)
        self.site_filter.setVisible(False)
        self.site_filter.setToolTip("只看某个县区的期限")
        filters.addWidget(self.site_filter)
        self.department_filter = QComboBox()
        self.department_filter.addItem("全部部门", None)
        self.department_filter.setMinimumWidth(130)
        self.department_filter.setToolTip(
            "只看某个部门的期限：交办在办（已签发、已签收）的按承办单位，其余按受阻部门"
        )
        self.kind_filter = QComboBox()
        self.kind_filter.addItem("全部期限", None)
        for kind in DeadlineKind:
            self.kind_filter.addItem(kind.label, kind.value)
        self.mine_only = QCheckBox("只看我登记的")
        self.mine_only.setEnabled(self._actor.user_id is not None)
        filters.addWidget(self.department_filter)
        filters.addWidget(self.kind_filter)
        filters.addWidget(self.mine_only)
        self.export_button = QPushButton("导出本月PDF…")
        self.export_button.clicked.connect(self.export_pdf)
        filters.addWidget(self.export_button)
        toolbar = FlowLayout(spacing=6)
        toolbar.addWidget(nav_group)
        toolbar.addWidget(filter_group)
        self.department_filter.currentIndexChanged.connect(self._filters_changed)
        self.site_filter.currentIndexChanged.connect(self._filters_changed)
        self.kind_filter.currentIndexChanged.connect(self._filters_changed)
        self.mine_only.toggled.connect(self._filters_changed)
        return toolbar

    # Public API ----------------------------------------------------------------------------------

    def wrapped_extra_height(self) -> int:
        """What the warning strip needs beyond its one-line minimum at its width (a word-wrapped
        label's minimum counts one line)."""
        label = self.warnings_label
        if not label.isVisibleTo(self) or label.width() <= 0:
            return 0
        return max(0, label.heightForWidth(label.width()) - label.minimumSizeHint().height())

    def refresh(self) -> None:
        """Reload the board and its filters on the worker."""
        self._load_board()
        self._load_filters()

    @property
    def is_loading(self) -> bool:
        return self._reads.busy

    @property
    def anchor(self) -> date:
        return self._anchor

    def board_filter(self) -> BoardFilter:
        department = self.department_filter.currentData()
        kind = self.kind_filter.currentData()
        mine = self.mine_only.isChecked() and self._actor.user_id is not None
        return BoardFilter(
            department_id=department,
            kinds=(DeadlineKind(kind),) if kind else (),
            created_by_id=self._actor.user_id if mine else None,
            site_code=self.site_filter.currentData(),
        )

    def go_previous(self) -> None:
        if self._week_mode:
            self._go_to(self._anchor - timedelta(days=7))
        else:
            self.step_month(-1)

    def go_next(self) -> None:
        if self._week_mode:
            self._go_to(self._anchor + timedelta(days=7))
        else:
            self.step_month(1)

    def step_month(self, step: int) -> None:
        """The month before (-1) or after (1) the one shown, whether a month or week is shown."""
        if step < 0:
            other = self._anchor.replace(day=1) - timedelta(days=1)
        else:
            other = self._anchor.replace(day=28) + timedelta(days=4)
        self._go_to(self._month_anchor(other.year, other.month))

    def go_today(self) -> None:
        self._today = self._services.clock.now().date()
        self._go_to(self._today)

    def show_month(self, year: int, month: int) -> None:
        self._go_to(self._month_anchor(year, month))

    def set_week_mode(self, week: bool) -> None:
        if week == self._week_mode:
            return
        self._week_mode = week
        (self.week_mode_button if week else self.month_mode_button).setChecked(True)
        self.board_stack.setCurrentIndex(1 if week else 0)
        # A week needs the width: seven columns of cases. The day list returns with the month.
        self.side_panel.setVisible(not week)
        self._render_title()
        self._load_board()

    def show_list(self, mode: str) -> None:
        """Fill the right panel with 今日到期 / 已超期 / 即将到期 (the today strip)."""
        self._panel = (mode, None)
        if self._week_mode:
            self.set_week_mode(False)  # the list is shown beside the month; this loads it too
        else:
            self._load_panel()

    def select_day(self, day: date) -> None:
        """List one day's deadlines on the right; moves to its month if it is not shown."""
        same_month = (day.year, day.month) == (self._anchor.year, self._anchor.month)
        if self._week_mode:
            same_month = week_start(day) == week_start(self._anchor)
        self._anchor = day
        self._panel = (PANEL_DAY, day)
        self.grid.set_selected(day)
        if same_month and self.view is not None:
            self._load_panel()
        else:
            self._render_title()
            self._load_board()

    # Loading -------------------------------------------------------------------------------------

    def _query(self) -> BoardQuery:
        return BoardQuery(self._anchor, self._week_mode, self.board_filter(), self._panel)

    def _load_board(self) -> None:
        board_job = self._reads.start("board")
        panel_job = self._reads.outdate("panel")
        query = self._query()
        services = self._services

        def show(data: BoardData) -> None:
            if self._reads.is_newest("board", board_job):
                self._show_board(data, with_panel=self._reads.is_newest("panel", panel_job))

        (
            Query(self._context.runner, self, lambda: load_board(services, query), show)
            .finished(lambda: self._reads.finish("board", board_job))
            .run()
        )

    def _load_panel(self) -> None:
        panel_job = self._reads.start("panel")
        panel = self._panel
        board_filter = self.board_filter()
        services = self._services

        def show(data: PanelData) -> None:
            if self._reads.is_newest("panel", panel_job):
                self._show_panel(data.panel, data.items, data.today, data.counts)

        (
            Query(
                self._context.runner,
                self,
                lambda: load_panel_data(services, panel, board_filter),
                show,
            )
            .finished(lambda: self._reads.finish("panel", panel_job))
            .run()
        )

    def _load_filters(self) -> None:
        job = self._reads.start("filters")
        services = self._services

        def show(choices: FilterChoices) -> None:
            if self._reads.is_newest("filters", job):
                self._show_filters(choices)

        (
            Query(self._context.runner, self, lambda: load_filters(services), show)
            .finished(lambda: self._reads.finish("filters", job))
            .run()
        )

    def _on_changed(self, changes: Changes) -> None:
        if changes.cases or changes.settings:
            self._load_board()
        if changes.settings or changes.departments:
            self._load_filters()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        today = self._services.clock.now().date()
        if self.is_loading:
            return
        if self.view is None:
            self.refresh()
        elif today != self._loaded_today:
            # Left open overnight: "today", red and yellow have moved.
            if self._anchor == self._loaded_today:
                self._anchor = today
                self._panel = (PANEL_DAY, today)
            self._load_board()

    # Showing -------------------------------------------------------------------------------------

    def _show_board(self, data: BoardData, *, with_panel: bool) -> None:
        self.data = data
        self.view = data.view
        self._today = data.today
        self._loaded_today = data.today
        self.today_changed.emit(data.today)
        self._render_title()
        self.grid.set_view(data.view, self._anchor if self._panel[0] == PANEL_DAY else None)
        if data.query.week:
            start = week_start(data.query.anchor)
            cells = [data.view.cell(start + timedelta(days=i)) for i in range(7)]
            self.week_board.set_week(
                [c for c in cells if c is not None], data.week_items, data.today
            )
        self._render_counts(data.counts)
        self.duty_today.setText(
            f"今日带班领导：{data.today_leader}" if data.today_leader else "今日带班领导：未排班"
        )
        warnings = list(data.view.warnings)
        earlier = data.view.overdue_before
        self.earlier_button.setText(f"此前还有 {earlier} 项已超期")
        self.earlier_button.setVisible(earlier > 0)
        self.warnings_label.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.warnings_label.setVisible(bool(warnings))
        if with_panel:
            self._show_panel(data.query.panel, data.panel_items, data.today, data.counts)

    def _render_title(self) -> None:
        anchor = self._anchor
        if self._week_mode:
            start = week_start(anchor)
            end = start + timedelta(days=6)
            self.month_title.setText(f"{start.year}年{month_day(start)}—{month_day(end)}")
        else:
            self.month_title.setText(f"{anchor.year}年{anchor.month}月")
        self.export_button.setText(f"导出{anchor.month}月PDF…")
        self.month_changed.emit(anchor)

    def _render_counts(self, counts: TodayCounts) -> None:
        self.strip_caption.setText(f"今天 {month_day(counts.today)}：")
        specs = (
            (PANEL_DUE_TODAY, f"今日到期 {counts.due_today}", counts.due_today, YELLOW),
            (PANEL_OVERDUE, f"已超期 {counts.overdue}", counts.overdue, RED),
            (
                PANEL_DUE_SOON,
                f"即将到期 {counts.due_soon}（至 {month_day(counts.soon_until)}）",
                counts.due_soon,
                YELLOW,
            ),
        )
        for key, text, value, colour in specs:
            button = self.today_strip[key]
            button.setText(text)
            weight = "bold" if value else "normal"
            shown = colour if value else GREY_TEXT
            button.setStyleSheet(
                f"QPushButton {{ color: {shown}; font-weight: {weight}; font-size: 11.5pt;"
                " border: none; padding: 2px 6px; text-decoration: underline; }"
                "QPushButton:hover { background: #eaf2f8; }"
                "QPushButton:focus { background: #eaf2f8; }"
            )

    def _show_panel(
        self, panel: Panel, items: list[DeadlineItem], today: date, counts: TodayCounts
    ) -> None:
        self._render_counts(counts)
        self.side_panel.show_items(panel, items, today, counts.soon_until, self.view)

    def _show_filters(self, choices: FilterChoices) -> None:
        self.filter_choices = choices
        current = self.department_filter.currentData()
        self.department_filter.blockSignals(True)
        self.department_filter.clear()
        self.department_filter.addItem("全部部门", None)
        for department in choices.departments:
            self.department_filter.addItem(department.name, department.id)
        self.department_filter.setCurrentIndex(max(0, self.department_filter.findData(current)))
        self.department_filter.blockSignals(False)
        current_site = self.site_filter.currentData()
        self.site_filter.blockSignals(True)
        self.site_filter.clear()
        self.site_filter.addItem("全部县区", None)
        for code, name in choices.sites:
            self.site_filter.addItem(name, code)
        self.site_filter.setVisible(len(choices.sites) > 1)
        self.site_filter.setCurrentIndex(max(0, self.site_filter.findData(current_site)))
        self.site_filter.blockSignals(False)

    # Interactions --------------------------------------------------------------------------------

    def _month_anchor(self, year: int, month: int) -> date:
        if (year, month) == (self._today.year, self._today.month):
            return self._today
        return date(year, month, 1)

    def _go_to(self, day: date) -> None:
        self._anchor = day
        self._panel = (PANEL_DAY, day)
        self._render_title()
        self._load_board()

    def _filters_changed(self) -> None:
        self._load_board()

    def _week_day_selected(self, day: date) -> None:
        if self._panel != (PANEL_DAY, day):
            self._anchor = day
            self._panel = (PANEL_DAY, day)
            self._load_panel()

    def _focus_day_items(self, day: date) -> None:
        if self._panel != (PANEL_DAY, day):
            self.select_day(day)
        self.side_panel.focus_items()

    # PDF -----------------------------------------------------------------------------------------

    def export_pdf(self) -> None:
        view = self.view
        if view is None:
            return
        default = Path.home() / f"期限日历-{view.year}年{view.month:02d}月.pdf"
        path, _selected = QFileDialog.getSaveFileName(
            self, "导出本月期限日历", str(default), "PDF 文件 (*.pdf)"
        )
        if not path:
            return
        out = Path(path if path.lower().endswith(".pdf") else path + ".pdf")
        services = self._services

        def work() -> Path:
            from desktop_app.documents.calendar_pdf import render_month_pdf

            try:
                render_month_pdf(
                    view,
                    site_name=services.site.info().name,
                    generated_at=services.clock.now(),
                    out=out,
                )
            except OSError as exc:
                raise UserError(
                    f"无法保存到 {out}（{exc.strerror or exc}）。请换一个文件夹，"
                    "或检查U盘是否已拔出、磁盘是否已满。"
                ) from exc
            return out

        def done(saved: Path) -> None:
            self.last_export = saved
            self.export_status.setText(f"已导出：{saved}")
            self.export_status.setVisible(True)

        def failed(exc: Exception) -> None:
            self.export_status.setText("导出未完成。")
            show_error(self, exc)

        self.export_button.setEnabled(False)
        self.export_status.setText("正在生成 PDF…")
        self.export_status.setVisible(True)
        # An Action, not a Query: a file is written, and a failure is told even if the page has
        # gone meanwhile. It changes no records, so nothing is published.
        (
            Action(self._context, self, work)
            .success(done)
            .failure(failed)
            .finished(lambda: self.export_button.setEnabled(True))
            .run()
        )
