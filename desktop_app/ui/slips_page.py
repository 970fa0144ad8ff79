"""交办单: every issued paper (交办单, 督办单, 催办通知, 依据告知单), searched and filtered,
and 核验 of a slip someone brings or sends.

The list is a lazy model (desktop_app/ui/slip_table.py) over the ids of the current query, loaded
on the worker: the UI thread only paints the rows in view. Verification takes the text of the
slip's QR code (a scanner types it, or it is pasted) and checks the site's signature and the
stored content.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.documents.slip_content import PaperKind
from desktop_app.errors import UserError
from desktop_app.services.context import Changes
from desktop_app.services.keys import SlipCheck
from desktop_app.services.slip_register import SlipFilter, SlipRow, SlipState
from desktop_app.ui.common import Card, FieldError, UiContext, show_error
from desktop_app.ui.list_table import list_view, page_hint, search_field, title_row
from desktop_app.ui.operations import Query
from desktop_app.ui.slip_preview import Deliver, SlipPreviewDialog
from desktop_app.ui.slip_table import TITLE_COLUMN, SlipTableModel
from desktop_app.ui.theme import GREEN, RED

# Widths that fit the usual content (a slip number such as 杞纪窗交〔2026〕1234号, a date and
# time); the title column takes what is left. Fixed widths: nothing is measured per cell.
COLUMN_WIDTHS = (184, 84, 140, 300, 190, 150, 52, 60)
TITLE_MIN_WIDTH = 200
NARROWEST_SHARE = 0.6  # on a narrow window the other columns shrink to no less than this
SEARCH_DELAY_MS = 250


class SlipTableView(QTableView):
    """The list: on a narrow window the other columns give up width before the title does."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def fit_columns(self) -> None:
        others = [w for column, w in enumerate(COLUMN_WIDTHS) if column != TITLE_COLUMN]
        room = self.viewport().width() - TITLE_MIN_WIDTH
        share = min(1.0, max(NARROWEST_SHARE, room / sum(others)))
        for column, width in enumerate(COLUMN_WIDTHS):
            if column != TITLE_COLUMN:
                self.setColumnWidth(column, int(width * share))


class SlipsPage(QWidget):
    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._loading = False
        self._reload_again = False
        self._stale = True
        self._keep_slip: int | None = None  # the selected slip, selected again after a reload
        self.model = SlipTableModel(context.services.slips, self)
        self.preview: SlipPreviewDialog | None = None
        self.last_check: SlipCheck | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.count_label = title_row(layout, "交办单")
        layout.addWidget(
            page_hint(
                "签发的全部交办单、督办单和催办通知，新签发的在前。"
                "新建和签发交办在事项的“交办”页中进行。"
            )
        )

        filters = QHBoxLayout()
        self.search = search_field("搜索：交办单号、事项编号、反映事项或承办单位中的文字")
        self.search.setMinimumWidth(260)
        filters.addWidget(self.search, 1)
        self.state = QComboBox()
        self.state.addItem("全部状态", None)
        for state in SlipState:
            self.state.addItem(state.label, state.value)
        filters.addWidget(self.state)
        self.kind = QComboBox()
        self.kind.addItem("全部类别", None)
        for kind in PaperKind:
            self.kind.addItem(kind.label, kind.value)
        filters.addWidget(self.kind)
        layout.addLayout(filters)

        self.table = SlipTableView()
        list_view(self.table, self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(TITLE_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.table.fit_columns()
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(self._open_index)
        open_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table)
        open_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        open_shortcut.activated.connect(self.open_selected_case)
        enter_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Enter), self.table)
        enter_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        enter_shortcut.activated.connect(self.open_selected_case)
        layout.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.open_button = QPushButton("打开事项")
        self.open_button.clicked.connect(lambda _checked=False: self.open_selected_case())
        self.preview_button = QPushButton("预览/补打…")
        self.preview_button.clicked.connect(lambda _checked=False: self.preview_selected())
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(lambda _checked=False: self.reload())
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout.addLayout(buttons)
        self.error = FieldError()
        layout.addWidget(self.error)

        verify = Card("核验交办单")
        hint = QLabel(
            "用扫码枪扫描交办单右上角（或受理回执上）的二维码，或粘贴二维码内容，按 Enter 核验。"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        verify.body.addWidget(hint)
        row = QHBoxLayout()
        self.verify_input = QLineEdit()
        self.verify_input.setPlaceholderText("BBCS1|站点代码|交办单号|摘要|签名")
        self.verify_input.returnPressed.connect(self.verify)
        self.verify_button = QPushButton("核验")
        self.verify_button.clicked.connect(lambda _checked=False: self.verify())
        row.addWidget(self.verify_input, 1)
        row.addWidget(self.verify_button)
        verify.body.addLayout(row)
        self.verify_result = QLabel("")
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verify_result.setVisible(False)
        verify.body.addWidget(self.verify_result)
        layout.addWidget(verify)

        # Ctrl+F goes to the search box; ↓ from it goes to the list, Enter there opens the case.
        QShortcut(QKeySequence.StandardKey.Find, self).activated.connect(self.focus_search)
        down = QShortcut(QKeySequence(Qt.Key.Key_Down), self.search)
        down.setContext(Qt.ShortcutContext.WidgetShortcut)
        down.activated.connect(self.focus_list)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self.reload)
        self.state.currentIndexChanged.connect(lambda _index: self.reload())
        self.kind.currentIndexChanged.connect(lambda _index: self.reload())

        context.hub.changed.connect(self._on_changed)
        self._update_buttons()

    # Loading -------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._loading or self._search_timer.isActive()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def focus_list(self) -> None:
        self.table.setFocus()
        if self.model.rowCount() and not self.table.selectionModel().selectedRows():
            self.table.selectRow(0)

    def current_filter(self) -> SlipFilter:
        state = self.state.currentData()
        kind = self.kind.currentData()
        return SlipFilter(
            text=self.search.text().strip(),
            state=SlipState(state) if state else None,
            kind=PaperKind(kind) if kind else None,
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _on_changed(self, changes: Changes) -> None:
        if not (changes.cases or changes.departments):
            return
        self._stale = True
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        """Re-run the query on the worker; the table keeps showing the old rows meanwhile."""
        self._search_timer.stop()
        if self._loading:
            self._reload_again = True  # the filter changed meanwhile: ask again when it is back
            return
        self._loading = True
        self._stale = False
        self.count_label.setText("正在查询…")
        register = self._context.services.slips
        slip_filter = self.current_filter()
        Query(self._context.runner, self, lambda: register.ids(slip_filter), self._loaded).failure(
            self._failed
        ).run()

    def _loaded(self, ids: list[int]) -> None:
        self._loading = False
        if self._reload_again:
            self._reload_again = False
            self.reload()
            return
        keep = self._keep_slip
        self.model.set_ids(ids)  # a reset: cached rows (print counts, voids) are read anew
        self.error.set_message(None)
        if self.current_filter().text:
            self.count_label.setText(f"找到 {len(ids):,} 份")
        else:
            self.count_label.setText(f"共 {len(ids):,} 份")
        row = self.model.row_of(keep) if keep is not None else -1
        if row < 0 and ids:
            row = 0
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))
        self._update_buttons()

    def _failed(self, exc: Exception) -> None:
        self._loading = False
        self._reload_again = False
        self.count_label.setText("查询失败")
        self.error.set_message(exc.message if isinstance(exc, UserError) else "交办单读取失败")
        if not isinstance(exc, UserError):
            show_error(self, exc)

    def selected(self) -> SlipRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.slip(rows[0].row())

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self._keep_slip = self.model.slip_id(rows[0].row())
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected()
        self.open_button.setEnabled(row is not None)
        self.preview_button.setEnabled(row is not None and not row.voided)

    # Actions -------------------------------------------------------------------------------

    def _open_index(self, index: QModelIndex) -> None:
        row = self.model.slip(index.row())
        if row is not None:
            self.open_case.emit(row.case_id)

    def open_selected_case(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_case.emit(row.case_id)

    def preview_selected(self) -> SlipPreviewDialog | None:
        row = self.selected()
        if row is None or row.voided:
            return None
        services, actor = self._context.services, self._context.actor
        number, case_id = row.number, row.case_id

        def render() -> bytes:
            return services.assignments.slip_pdf(actor, number, case_id=case_id)

        def record(out: Path | None, deliver: Deliver | None) -> bytes:
            return services.assignments.record_slip_output(
                actor, number, case_id=case_id, out=out, deliver=deliver
            )

        # Printing or saving counts: the dialog publishes the change, and this list (visible
        # behind it) shows the paper's new count at once.
        dialog = SlipPreviewDialog(
            self._context,
            render,
            number,
            self,
            record=record,
            changes=Changes(cases=True, case_ids=(case_id,)),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.preview = dialog
        dialog.open()
        return dialog

    def verify(self) -> None:
        payload = self.verify_input.text().strip()
        if not payload:
            self._show_check(False, "请先扫描或粘贴二维码内容")
            return
        services = self._context.services
        self.verify_button.setEnabled(False)

        def done(check: SlipCheck) -> None:
            self.verify_button.setEnabled(True)
            self.last_check = check
            # The facts recorded at issue, one a line, to hold against the paper in hand.
            lines = [f"　{label}：{value}" for label, value in check.facts]
            self._show_check(check.valid, "\n".join([check.message, *lines]))

        def failed(exc: Exception) -> None:
            self.verify_button.setEnabled(True)
            if isinstance(exc, UserError):
                self._show_check(False, exc.message)
            else:
                show_error(self, exc)

        Query(
            self._context.runner, self, lambda: services.assignments.verify(payload), done
        ).failure(failed).run()

    def _show_check(self, valid: bool, message: str) -> None:
        colour = GREEN if valid else RED
        background = "#e9f7ef" if valid else "#fdedec"
        mark = "✔ " if valid else "✘ "
        self.verify_result.setText(mark + message)
        self.verify_result.setStyleSheet(
            f"color:{colour};background:{background};border:1px solid {colour};"
            "padding:8px;border-radius:4px;font-weight:bold;"
        )
        self.verify_result.setVisible(True)
