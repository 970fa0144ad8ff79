"""审计日志: the auditor searches the audit log, reads an entry's before and after, exports CSV.

Shown only to a role with VIEW_AUDIT (the auditor); the service checks it again on every read.
Nothing here changes a record: the one write is the export's own audit entry.

Every read runs on the worker (``Query``), the page of rows the table is about to paint too:
the table model asks for a missing page and shows "…" until it arrives, so scrolling through
100,000 entries never reads the database on the UI thread.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.errors import ValidationFailed
from desktop_app.services.audit_log import (
    AuditExport,
    AuditFilter,
    AuditRow,
    Choice,
)
from desktop_app.services.context import Actor, Changes
from desktop_app.ui.common import FieldError, TaskRunner, UiContext, heading, show_error
from desktop_app.ui.list_table import (
    NO_DATE,
    bound_date,
    bound_edit,
    column_header,
    list_view,
    narrow,
)
from desktop_app.ui.operations import Query

COLUMNS = ("序号", "时间", "用户", "操作", "对象", "事项编号")
_Index = QModelIndex | QPersistentModelIndex


class AuditTableModel(QAbstractTableModel):
    """The entries of the current search by id; rows read a page at a time on the worker.

    A page not yet read shows "…" and is asked for once; when it arrives its rows repaint. A
    page that arrives for an earlier search (the ids changed meanwhile) is dropped.
    """

    PAGE_SIZE = 200
    MAX_PAGES = 25

    page_loaded = Signal()

    def __init__(
        self,
        fetch: Callable[[Sequence[int]], list[AuditRow]],
        runner: TaskRunner,
        owner: QWidget,
    ) -> None:
        super().__init__(owner)
        self._fetch = fetch
        self._runner = runner
        self._owner = owner
        self._ids: list[int] = []
        self._pages: OrderedDict[int, dict[int, AuditRow]] = OrderedDict()
        self._asked: set[int] = set()
        self._generation = 0

    def set_ids(self, ids: Sequence[int]) -> None:
        self.beginResetModel()
        self._ids = list(ids)
        self._pages.clear()
        self._asked.clear()
        self._generation += 1
        self.endResetModel()

    def entry(self, row: int) -> AuditRow | None:
        """The row's entry if its page has been read (None until then)."""
        if not 0 <= row < len(self._ids):
            return None
        page = self._pages.get(row // self.PAGE_SIZE)
        if page is None:
            self._ask(row // self.PAGE_SIZE)
            return None
        return page.get(self._ids[row])

    @property
    def loading(self) -> bool:
        """A page is being read."""
        return bool(self._asked)

    @property
    def cached_pages(self) -> int:
        return len(self._pages)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return column_header(COLUMNS, section, orientation, role)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        row = self.entry(index.row())
        if row is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole else None
        column = index.column()
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.action_label}（{row.action}）：{row.entity_label} {row.entity_uuid}"
        return (
            str(row.id),
            row.at.strftime("%Y-%m-%d %H:%M:%S"),
            row.who,
            row.action_label,
            row.entity_label,
            row.case_number,
        )[column]

    def _ask(self, page_number: int) -> None:
        if page_number in self._asked:
            return
        self._asked.add(page_number)
        start = page_number * self.PAGE_SIZE
        ids = self._ids[start : start + self.PAGE_SIZE]
        generation = self._generation
        fetch = self._fetch

        def arrived(rows: list[AuditRow]) -> None:
            if generation != self._generation:
                return
            self._asked.discard(page_number)
            self._pages[page_number] = {r.id: r for r in rows}
            while len(self._pages) > self.MAX_PAGES:
                self._pages.popitem(last=False)
            last = min(start + self.PAGE_SIZE, len(self._ids)) - 1
            self.dataChanged.emit(self.index(start, 0), self.index(last, len(COLUMNS) - 1))
            self.page_loaded.emit()

        def failed(exc: Exception) -> None:
            if generation == self._generation:
                self._asked.discard(page_number)
            show_error(self._owner, exc)

        Query(self._runner, self._owner, lambda: fetch(ids), arrived).failure(failed).run()


class AuditPage(QWidget):
    """Filters above, the entries in the middle, the chosen entry's before/after below."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._actor: Actor = context.actor
        self._log = context.services.audit_log
        self._loading = False
        self._reload_again = False
        self._exporting = False
        log, actor = self._log, self._actor
        self.model = AuditTableModel(lambda ids: log.rows(actor, ids), context.runner, self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        top = QHBoxLayout()
        top.addWidget(heading("审计日志"))
        note = QLabel("只读：这里只能查看和导出，不能修改任何记录")
        note.setObjectName("hint")
        top.addWidget(note)
        top.addStretch(1)
        self.export_note = QLabel("")
        self.export_note.setObjectName("hint")
        top.addWidget(self.export_note)
        self.count_label = QLabel("")
        self.count_label.setObjectName("hint")
        top.addWidget(self.count_label)
        layout.addLayout(top)

        filters = QHBoxLayout()
        self.user = QComboBox()
        self.user.addItem("全部用户", None)
        narrow(self.user, 12)
        self.action = QComboBox()
        self.action.addItem("全部操作", None)
        narrow(self.action, 14)
        self.case_number = QLineEdit()
        self.case_number.setPlaceholderText("事项编号，如 杞县-2026-0001")
        self.case_number.setClearButtonEnabled(True)
        self.case_number.setMinimumWidth(180)
        self.date_from = bound_edit("起始日期")
        self.date_to = bound_edit("截止日期")
        self.search_button = QPushButton("查询")
        self.reset_button = QPushButton("清除条件")
        self.export_button = QPushButton("导出CSV")
        self.export_button.setToolTip("把当前查询到的全部记录导出为 Excel 可打开的 CSV 文件")
        # Two rows: in one, at 125 % on a 1366×768 laptop, 查询, 清除条件 and 导出CSV lay past
        # the page's right edge (a walk had to scroll sideways to them).
        filters.addWidget(self.user)
        filters.addWidget(self.action)
        filters.addWidget(self.case_number, 1)
        layout.addLayout(filters)
        when = QHBoxLayout()
        when.addWidget(QLabel("时间"))
        when.addWidget(self.date_from)
        when.addWidget(QLabel("至"))
        when.addWidget(self.date_to)
        when.addStretch(1)
        when.addWidget(self.search_button)
        when.addWidget(self.reset_button)
        when.addWidget(self.export_button)
        layout.addLayout(when)
        self.error = FieldError()
        layout.addWidget(self.error)

        self.table = QTableView()
        self.table.setModel(self.model)
        list_view(self.table, self.model, (70, 170, 170, 150, 90, 140))
        self.table.horizontalHeader().setStretchLastSection(True)

        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 6, 0, 0)
        self.detail_title = QLabel("选中一条记录，这里显示修改前后的内容")
        self.detail_title.setObjectName("hint")
        self.detail_title.setWordWrap(True)
        detail_layout.addWidget(self.detail_title)
        self.detail = QTableWidget(0, 3)
        self.detail.setHorizontalHeaderLabels(["字段", "修改前", "修改后"])
        self.detail.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.detail.verticalHeader().setVisible(False)
        self.detail.setWordWrap(True)
        header = self.detail.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        detail_layout.addWidget(self.detail, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

        self.search_button.clicked.connect(self.reload)
        self.case_number.returnPressed.connect(self.reload)
        self.reset_button.clicked.connect(self.reset_filters)
        self.export_button.clicked.connect(self.export)
        for combo in (self.user, self.action):
            combo.currentIndexChanged.connect(self.reload)
        self.date_from.dateChanged.connect(self.reload)
        self.date_to.dateChanged.connect(self.reload)
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(self._selection_changed)
        self.model.page_loaded.connect(self._show_current)
        context.hub.changed.connect(self._on_changed)

        self._fill_choices()
        self.reload()

    # Public API -------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._loading or self.model.loading

    @property
    def is_exporting(self) -> bool:
        return self._exporting

    def current_filter(self) -> AuditFilter:
        return AuditFilter(
            user_name=self.user.currentData(),
            action=self.action.currentData(),
            case_number=self.case_number.text().strip(),
            date_from=bound_date(self.date_from.date()),
            date_to=bound_date(self.date_to.date()),
        )

    def reload(self) -> None:
        """Run the search on the worker; the table keeps the old rows meanwhile."""
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        self.error.set_message(None)
        self.count_label.setText("正在查询…")
        log, actor, wanted = self._log, self._actor, self.current_filter()
        Query(self._context.runner, self, lambda: log.ids(actor, wanted), self._ids_loaded).failure(
            self._load_failed
        ).run()

    def reset_filters(self) -> None:
        for widget in (self.user, self.action, self.case_number, self.date_from, self.date_to):
            widget.blockSignals(True)
        self.user.setCurrentIndex(0)
        self.action.setCurrentIndex(0)
        self.case_number.clear()
        self.date_from.setDate(NO_DATE)
        self.date_to.setDate(NO_DATE)
        for widget in (self.user, self.action, self.case_number, self.date_from, self.date_to):
            widget.blockSignals(False)
        self.reload()

    def export(self) -> None:
        """导出CSV: the whole search (not just the rows on screen) to a file the user names."""
        if self._exporting:
            return
        suggested = str(Path.home() / f"审计日志-{self._context.services.clock.now():%Y%m%d}.csv")
        path, _selected = QFileDialog.getSaveFileName(
            self, "导出审计日志", suggested, "CSV 文件 (*.csv)"
        )
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() != ".csv":
            target = target.with_name(target.name + ".csv")
        self._exporting = True
        self.export_note.setText("")
        self.export_button.setEnabled(False)
        self.export_button.setText("正在导出…")
        log, actor, wanted = self._log, self._actor, self.current_filter()
        Query(self._context.runner, self, lambda: log.export_csv(actor, wanted, target)).success(
            self._exported
        ).on_invalid(self._invalid).finished(self._export_finished).run()

    # Internals -------------------------------------------------------------------------------

    def _ids_loaded(self, ids: list[int]) -> None:
        self._loading = False
        if self._reload_again:
            self._reload_again = False
            self.reload()
            return
        self.model.set_ids(ids)
        self._show_detail(None)
        self.count_label.setText(f"共 {len(ids):,} 条")

    def _load_failed(self, exc: Exception) -> None:
        self._loading = False
        self._reload_again = False
        self.count_label.setText("查询失败")
        if isinstance(exc, ValidationFailed):
            self._invalid(exc)
        else:
            show_error(self, exc)

    def _invalid(self, exc: ValidationFailed) -> None:
        self.error.set_message(exc.message)
        if "case_number" in exc.errors:
            self.case_number.setFocus()
            self.case_number.selectAll()

    def _exported(self, result: AuditExport) -> None:
        self.export_note.setText(f"已导出 {result.count:,} 条到 {result.path}")
        # The export's own entry is new: the list shows it when it matches the search.
        self.reload()
        self._fill_choices()

    def _export_finished(self) -> None:
        self._exporting = False
        self.export_button.setEnabled(True)
        self.export_button.setText("导出CSV")

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_current()

    def _show_current(self) -> None:
        index = self.table.currentIndex()
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].row() if rows else index.row() if index.isValid() else -1
        self._show_detail(self.model.entry(row) if row >= 0 else None)

    def _show_detail(self, row: AuditRow | None) -> None:
        self.detail.setRowCount(0)
        if row is None:
            self.detail_title.setText("选中一条记录，这里显示修改前后的内容")
            return
        case = f"，事项 {row.case_number}" if row.case_number else ""
        self.detail_title.setText(
            f"第 {row.id} 条 · {row.at:%Y-%m-%d %H:%M:%S} · {row.who} · "
            f"{row.action_label}（{row.action}） · {row.entity_label} {row.entity_uuid}{case}"
        )
        fields = row.changed_fields()
        if not fields:
            self.detail.setRowCount(1)
            self.detail.setItem(0, 0, QTableWidgetItem("（无）"))
            self.detail.setItem(0, 1, QTableWidgetItem("这条记录没有修改前后的内容"))
            return
        self.detail.setRowCount(len(fields))
        for number, (name, before, after) in enumerate(fields):
            for column, text in enumerate((name, before, after)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.detail.setItem(number, column, item)
        self.detail.resizeRowsToContents()

    def _fill_choices(self) -> None:
        log, actor = self._log, self._actor

        def load() -> tuple[list[Choice], list[Choice]]:
            return log.users(actor), log.actions(actor)

        Query(self._context.runner, self, load, self._choices_loaded).run()

    def _choices_loaded(self, choices: tuple[list[Choice], list[Choice]]) -> None:
        users, actions = choices
        for combo, items, everyone in (
            (self.user, users, "全部用户"),
            (self.action, actions, "全部操作"),
        ):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everyone, None)
            for choice in items:
                combo.addItem(choice.label, choice.value)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.blockSignals(False)

    def _on_changed(self, _changes: Changes) -> None:
        # Every change is audited: whatever changed, the log has grown.
        self.reload()
