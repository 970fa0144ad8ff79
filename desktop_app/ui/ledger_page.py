"""事项台账: every case, filtered, sorted and searched; double-click opens the case."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.deadlines import soon_limit
from desktop_app.domain.vocabulary import CaseStatus, Channel
from desktop_app.services.context import Changes
from desktop_app.services.ledger import CaseFilter, SortKey, Worklist
from desktop_app.ui.case_table import COLUMNS, CaseTableModel
from desktop_app.ui.common import TaskRunner, UiContext
from desktop_app.ui.list_table import (
    bound_date,
    bound_edit,
    fitted_widths,
    list_view,
    narrow,
    search_field,
    title_row,
    to_qdate,
)
from desktop_app.ui.operations import Query

RETRY = "visit_retry"  # the status list's entry for 待重拨
AWAITING_VISIT = "awaiting_visit"  # … and for 待回访
_WORKLISTS = {worklist.value for worklist in Worklist}
# A query reads its first FIRST_ROWS ids, and MORE_ROWS more each time the view reaches the end:
# at a city of 1.5 million cases every id of a query would cost seconds (issue 18). Ten screens
# of rows: a search for 芳 (2 % of a city's cases) finds its first 200 in ~50 ms by walking the
# ledger's order, where its first 1,000 took 350 ms.
FIRST_ROWS = 200
MORE_ROWS = 5_000
# Beyond the first window the label counts up to COUNT_CAP cases and says "more than" after.
COUNT_CAP = 100_000
# The columns' widths (反映事项 stretches into what is left), and the least each is narrowed to
# when the page is narrow: at 125 % a 1366×768 laptop leaves ~875 logical pixels for the table,
# where the widths took 986 without 反映事项 and five columns sat behind a horizontal scrollbar.
WIDTHS = (140, 64, 140, 130, 330, 110, 84, 140, 44, 90)
LEAST = (124, 56, 132, 80, 150, 64, 52, 80, 40, 90)
RECEIVED_SAMPLE = "2026-12-07 15:32"  # the 反映时间 column shows a time as wide as this
CELL_PADDING = 14  # a cell's margins on both sides, and a little air


class LedgerPage(QWidget):
    open_case = Signal(int)

    def __init__(
        self,
        context: UiContext,
        parent: QWidget | None = None,
        *,
        figures_runner: TaskRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        # The label's count is read on the main window's worker for figures nothing waits on
        # (MainWindow.figures_runner), so that the next order or window is not queued behind it
        # (a search's count at a city of 1.5 million takes 0.1–0.3 s). On its own, the page uses
        # the screens' worker.
        self.figures_runner = figures_runner if figures_runner is not None else context.runner
        self._loading = False
        self._reload_again = False
        self._generation = 0  # of the ids shown: later windows of older ones are dropped
        self.model = CaseTableModel(context.services.ledger, self)
        # Whether the ids loading answer a filter or order the clerk asked for: shown from the top.
        self._from_top = False
        # The count shown for a filter, kept while only the order changes.
        self._counted: tuple[CaseFilter, str] | None = None
        # How many times cases changed while the page was open: a count asked before a change
        # is not shown after it.
        self._changes_seen = 0
        # The count being read (its filter and the changes seen when asked): a new order of the
        # same filter waits for it instead of counting the same matches again.
        self._counting: tuple[CaseFilter, int] | None = None
        self.model.query_changed.connect(self._query_changed)
        self.model.more_wanted.connect(self._load_more)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.count_label = title_row(layout, "事项台账")

        # First row: the search and the status, always shown; the rest of the filters fold
        # into 更多筛选 so the page fits a 1366×768 laptop (issue 12 item 3).
        filters = QHBoxLayout()
        self.search = search_field(
            "搜索编号、姓名、电话、事项或情况中的文字（Ctrl+F；↓ 进入结果，Enter 打开）"
        )
        self.search.setMinimumWidth(240)
        filters.addWidget(self.search, 3)
        self.status = QComboBox()
        self.status.addItem("全部状态", None)
        self.status.addItem("未办结（已登记+办理中）", "open")
        self.status.addItem("待甄别", "untriaged")
        self.status.addItem("待签发（待领导签发）", "unsigned")
        # The supervision lists (issue 16): what the 工作台's figures open.
        for worklist in Worklist:
            self.status.addItem(worklist.label, worklist.value)
        self.status.addItem("待回访（已办结）", AWAITING_VISIT)
        self.status.addItem("待重拨（回访未联系上）", RETRY)
        for status in CaseStatus:
            self.status.addItem(status.label, status.value)
        narrow(self.status, 13)
        filters.addWidget(self.status)
        # At the city: which county's cases (hidden while only one site's cases are here).
        self.site = QComboBox()
        self.site.setVisible(False)
        narrow(self.site, 10)
        filters.addWidget(self.site)
        self.more_button = QToolButton()
        self.more_button.setCheckable(True)
        self.more_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.more_button.setToolTip("领域、部门、来源、反映时间")
        filters.addWidget(self.more_button)
        self.reset_button = QPushButton("清除条件")
        filters.addWidget(self.reset_button)
        self.export_button = QPushButton("导出台账")
        self.export_button.setToolTip("把当前筛选出的事项导出为 Excel、CSV 或打印用的登记簿")
        filters.addWidget(self.export_button)
        layout.addLayout(filters)

        self.more_filters = QWidget()
        more = QHBoxLayout(self.more_filters)
        more.setContentsMargins(0, 0, 0, 0)
        self.area = QComboBox()
        self.department = QComboBox()
        self.channel = QComboBox()
        self.channel.addItem("全部来源", None)
        for channel in Channel:
            self.channel.addItem(channel.label, channel.value)
        for combo in (self.area, self.department, self.channel):
            narrow(combo, 10)
            more.addWidget(combo)
        self.date_from = bound_edit("起始日期")
        self.date_to = bound_edit("截止日期")
        more.addWidget(QLabel("反映时间"))
        more.addWidget(self.date_from)
        more.addWidget(QLabel("至"))
        more.addWidget(self.date_to)
        more.addStretch(1)
        self.more_filters.setVisible(False)
        layout.addWidget(self.more_filters)

        self.table = QTableView()
        list_view(self.table, self.model, WIDTHS)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSortIndicator(
            [k for k, _ in COLUMNS].index(SortKey.RECEIVED), Qt.SortOrder.DescendingOrder
        )
        header.setSectionResizeMode(
            [k for k, _ in COLUMNS].index(SortKey.TITLE), QHeaderView.ResizeMode.Stretch
        )
        layout.addWidget(self.table, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self.apply_filter)
        for combo in (self.status, self.site, self.area, self.department, self.channel):
            combo.currentIndexChanged.connect(self.apply_filter)
        self.date_from.dateChanged.connect(self.apply_filter)
        self.date_to.dateChanged.connect(self.apply_filter)
        self.reset_button.clicked.connect(self.reset_filters)
        self.export_button.clicked.connect(self.export_register)
        self.more_button.toggled.connect(self._more_toggled)
        self.table.doubleClicked.connect(
            lambda index: self.open_case.emit(self.model.case_id(index.row()))
        )
        # Ctrl+F is the main window's (it also brings this page forward); a second shortcut on
        # the same key here would make both ambiguous, and neither would fire.
        # ↓ in the search box goes to the results, Enter on a row opens the case (item 12).
        self.search.installEventFilter(self)
        self.table.installEventFilter(self)
        context.hub.changed.connect(self._on_changed)

        self._fill_reference_filters()
        self._show_more_indicator()

    # Public API -------------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def show_filter(self, case_filter: CaseFilter) -> None:
        """Show the ledger with a filter chosen elsewhere (e.g. a dashboard figure)."""
        self._block_filters(True)
        self.search.setText(case_filter.text)
        if case_filter.awaiting_triage:
            self.status.setCurrentIndex(self.status.findData("untriaged"))
        elif case_filter.awaiting_signature:
            self.status.setCurrentIndex(self.status.findData("unsigned"))
        elif case_filter.worklist is not None:
            self.status.setCurrentIndex(self.status.findData(case_filter.worklist.value))
        elif case_filter.visit_retry_due:
            self.status.setCurrentIndex(self.status.findData(RETRY))
        elif case_filter.awaiting_visit:
            self.status.setCurrentIndex(self.status.findData(AWAITING_VISIT))
        elif case_filter.statuses and set(case_filter.statuses) == {
            CaseStatus.REGISTERED,
            CaseStatus.IN_PROGRESS,
        }:
            self.status.setCurrentIndex(self.status.findData("open"))
        elif len(case_filter.statuses) == 1:
            self.status.setCurrentIndex(self.status.findData(case_filter.statuses[0].value))
        else:
            self.status.setCurrentIndex(0)
        self.site.setCurrentIndex(max(0, self.site.findData(case_filter.site_code)))
        self.area.setCurrentIndex(max(0, self.area.findData(case_filter.area)))
        self.department.setCurrentIndex(max(0, self.department.findData(case_filter.department_id)))
        channel = case_filter.channel.value if case_filter.channel else None
        self.channel.setCurrentIndex(max(0, self.channel.findData(channel)))
        self.date_from.setDate(to_qdate(case_filter.received_from))
        self.date_to.setDate(to_qdate(case_filter.received_to))
        self._block_filters(False)
        if self.hidden_filter_count():
            self.more_button.setChecked(True)  # a filter chosen elsewhere is shown, not hidden
        self._show_more_indicator()
        self.model.set_filter(case_filter)

    def current_filter(self) -> CaseFilter:
        status = self.status.currentData()
        if status == "open":
            statuses: tuple[CaseStatus, ...] = (CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS)
        elif status in ("untriaged", "unsigned", RETRY, AWAITING_VISIT) or status in _WORKLISTS:
            statuses = ()
        elif status:
            statuses = (CaseStatus(status),)
        else:
            statuses = ()
        channel = self.channel.currentData()
        return CaseFilter(
            text=self.search.text().strip(),
            statuses=statuses,
            area=self.area.currentData(),
            department_id=self.department.currentData(),
            channel=Channel(channel) if channel else None,
            received_from=bound_date(self.date_from.date()),
            received_to=bound_date(self.date_to.date()),
            awaiting_triage=status == "untriaged",
            awaiting_signature=status == "unsigned",
            site_code=self.site.currentData(),
            visit_retry_due=status == RETRY,
            awaiting_visit=status == AWAITING_VISIT,
            worklist=Worklist(status) if status in _WORKLISTS else None,
            # The lists that count from a day count from the clock's (no database read).
            today=self._context.services.clock.now().date(),
            user_id=self._context.actor.user_id,
        )

    def apply_filter(self) -> None:
        self._search_timer.stop()
        self._show_more_indicator()
        self.model.set_filter(self.current_filter())

    def hidden_filter_count(self) -> int:
        """How many of the filters under 更多筛选 narrow the list."""
        case_filter = self.current_filter()
        return sum(
            (
                case_filter.area is not None,
                case_filter.department_id is not None,
                case_filter.channel is not None,
                case_filter.received_from is not None or case_filter.received_to is not None,
            )
        )

    def export_register(self) -> None:
        """导出台账: the rows the current filter shows, in a dialog with progress and 取消."""
        from desktop_app.ui.register_export_dialog import RegisterExportDialog

        dialog = RegisterExportDialog(self._context, self.current_filter(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def reset_filters(self) -> None:
        self.show_filter(CaseFilter())

    def reload(self) -> None:
        """Re-run the query on the worker; the table keeps showing the old rows meanwhile."""
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        if self._known_count() is None:
            self.count_label.setText("正在查询…")
        services = self._context.services

        def load() -> tuple[list[int], tuple[date, date]]:
            # On the worker, with the ids: what counts as overdue / due soon today.
            today = services.clock.now().date()
            calendar = services.calendar.calendar()
            until = soon_limit(calendar, today, services.calendar.rules().due_soon_days)
            return self.model.load_ids(FIRST_ROWS + 1), (today, until)

        Query(self._context.runner, self, load, self._ids_loaded).failure(self._load_failed).run()

    @property
    def is_loading(self) -> bool:
        return self._loading

    # Internals -------------------------------------------------------------------------------

    def _ids_loaded(self, loaded: tuple[list[int], tuple[date, date]]) -> None:
        ids, reference = loaded
        self.model.deadline_reference = reference
        self._loading = False
        if self._reload_again:
            self._reload_again = False
            self.reload()
            return
        more = len(ids) > FIRST_ROWS
        self._generation += 1
        self.model.set_ids(ids[:FIRST_ROWS], more)
        if self._from_top:
            self._from_top = False
            # Not where the last list was scrolled to: its row 120 showed as the new top.
            self.table.scrollToTop()
        known = self._known_count()
        if known is not None and more:
            self.count_label.setText(known)  # the same matches in another order
        elif more:
            self._counted = None
            self.count_label.setText(self._count_text(f"{FIRST_ROWS:,} 件以上") + "（正在计数…）")
            if self._counting != self._count_key():
                self._count()
        else:
            self._counted = None
            self.count_label.setText(self._count_text(f"{len(ids):,} 件"))

    def _count_text(self, quantity: str) -> str:
        return f"找到 {quantity}" if self.search.text().strip() else f"共 {quantity}"

    def _query_changed(self) -> None:
        self._from_top = True
        self.reload()

    def _known_count(self) -> str | None:
        """The label of the filter shown, if it was counted and no case changed since."""
        if self._counted is not None and self._counted[0] == self.model.case_filter:
            return self._counted[1]
        return None

    def _fit_columns(self) -> None:
        """Narrow the columns toward LEAST when the table is narrower than WIDTHS (反映事项
        stretches into the rest); room is kept for the vertical scrollbar either way."""
        room = (
            self.table.width()
            - 2 * self.table.frameWidth()
            - self.table.verticalScrollBar().sizeHint().width()
        )
        keys = [key for key, _ in COLUMNS]
        title = keys.index(SortKey.TITLE)
        # A time is read whole or not at all ("2026-12-07 15:…" hid the hour at 125 %): its
        # column is never narrower than the text in the font shown.
        received = keys.index(SortKey.RECEIVED)
        needed = self.table.fontMetrics().horizontalAdvance(RECEIVED_SAMPLE) + CELL_PADDING
        least = [max(q, needed) if c == received else q for c, q in enumerate(LEAST)]
        preferred = [max(p, q) for p, q in zip(WIDTHS, least, strict=True)]
        for column, width in enumerate(fitted_widths(preferred, least, room)):
            if column != title:
                self.table.setColumnWidth(column, width)

    def _count_key(self) -> tuple[CaseFilter, int]:
        """What a count answers: the filter shown, with the cases as they are now."""
        return self.model.case_filter, self._changes_seen

    def _count(self) -> None:
        """The label's number for a query with more than the first window: counted on the
        worker, up to COUNT_CAP (a million matches would cost a second to count). Shown while
        the same filter is, in whatever order, unless cases changed meanwhile."""
        ledger = self._context.services.ledger
        asked = self._count_key()
        case_filter = asked[0]
        self._counting = asked

        def done() -> None:
            if self._counting == asked:
                self._counting = None

        def counted(number: int) -> None:
            done()
            if asked != self._count_key():
                return
            # A capped count stops at COUNT_CAP + 1; every case of the site is counted whole.
            shown = (
                f"{COUNT_CAP // 10_000} 万件以上" if number == COUNT_CAP + 1 else f"{number:,} 件"
            )
            self.count_label.setText(self._count_text(shown))
            self._counted = (case_filter, self.count_label.text())

        def failed(exc: Exception) -> None:
            done()
            self._load_failed(exc)

        Query(
            self.figures_runner, self, lambda: ledger.count(case_filter, cap=COUNT_CAP), counted
        ).failure(failed).run()

    def _load_more(self) -> None:
        """The view reached the last id held: the next window, read on the worker."""
        model, generation, offset = self.model, self._generation, self.model.rowCount()
        query = (model.case_filter, model.sort_key, model.descending)
        ledger = self._context.services.ledger

        def load() -> list[int]:
            return ledger.ids(*query, limit=MORE_ROWS + 1, offset=offset)

        def loaded(ids: list[int]) -> None:
            if generation == self._generation:
                model.append_ids(ids[:MORE_ROWS], len(ids) > MORE_ROWS)

        Query(self._context.runner, self, load, loaded).failure(self._load_failed).run()

    def _load_failed(self, exc: Exception) -> None:
        self._loading = False
        self.count_label.setText("查询失败")
        from desktop_app.ui.common import show_error

        show_error(self, exc)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            plain = not (event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)
            if watched is self.search and key == Qt.Key.Key_Down and plain:
                self._enter_results()
                return True
            if watched is self.table and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and plain:
                self._open_current()
                return True
            on_first_row = self.table.currentIndex().row() <= 0
            if watched is self.table and key == Qt.Key.Key_Up and plain and on_first_row:
                self.search.setFocus(Qt.FocusReason.BacktabFocusReason)  # back to the search
                return True
        return super().eventFilter(watched, event)

    def _enter_results(self) -> None:
        """↓ from the search box: the results get the focus, their first row selected."""
        if self._search_timer.isActive():
            self.apply_filter()  # the rows should match what was typed
        self.table.setFocus(Qt.FocusReason.TabFocusReason)
        if self.model.rowCount() > 0 and not self.table.currentIndex().isValid():
            self.table.setCurrentIndex(self.model.index(0, 0))
        elif self.model.rowCount() > 0:
            self.table.selectRow(self.table.currentIndex().row())

    def _more_toggled(self, shown: bool) -> None:
        self.more_filters.setVisible(shown)
        self._show_more_indicator()

    def _show_more_indicator(self) -> None:
        """The 更多筛选 button says when filters it hides narrow the list."""
        count = self.hidden_filter_count()
        arrow = "▴" if self.more_button.isChecked() else "▾"
        text = f"更多筛选 {arrow}"
        if count:
            text = f"更多筛选（{count}）{arrow}"
        self.more_button.setText(text)
        self.more_button.setStyleSheet(
            "QToolButton { color: #b22222; font-weight: bold; }" if count else ""
        )
        self.more_button.setToolTip(
            f"已设{count}项隐藏的筛选条件（领域、部门、来源、反映时间）"
            if count
            else "领域、部门、来源、反映时间"
        )

    def _open_current(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.open_case.emit(self.model.case_id(index.row()))

    def _on_changed(self, changes: Changes) -> None:
        if changes.departments or changes.settings or changes.site:
            self._fill_reference_filters()
        if changes.cases:
            self._counted = None  # the count may have changed too
            self._changes_seen += 1
            self.model.invalidate_rows()
            self.reload()

    def _fill_reference_filters(self) -> None:
        services = self._context.services
        self._block_filters(True)
        current_area = self.area.currentData()
        current_department = self.department.currentData()
        self.area.clear()
        self.area.addItem("全部领域", None)
        for area in services.site.areas():
            self.area.addItem(area, area)
        self.department.clear()
        self.department.addItem("全部部门", None)
        for department in services.site.filter_departments():
            self.department.addItem(department.name, department.id)
        current_site = self.site.currentData()
        self.site.clear()
        self.site.addItem("全部县区", None)
        sites = services.ledger.case_sites()
        for code, name in sites:
            self.site.addItem(name, code)
        self.site.setVisible(len(sites) > 1)
        self.site.setCurrentIndex(max(0, self.site.findData(current_site)))
        self.area.setCurrentIndex(max(0, self.area.findData(current_area)))
        self.department.setCurrentIndex(max(0, self.department.findData(current_department)))
        self._block_filters(False)

    def _block_filters(self, blocked: bool) -> None:
        for widget in (
            self.search,
            self.status,
            self.site,
            self.area,
            self.department,
            self.channel,
            self.date_from,
            self.date_to,
        ):
            widget.blockSignals(blocked)
