"""交办单: the slips of the cases still in hand, and 核验 of a slip someone brings or sends.

The list is bounded: slips of the most recent 200 cases that are 办理中 or 待回访. Verification
takes the text of the slip's QR code (a scanner types it, or it is pasted) and checks the site's
signature and the stored content.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from desktop_app.errors import UserError
from desktop_app.services.assignments import SlipInfo, paper_label
from desktop_app.services.context import Changes
from desktop_app.services.keys import SlipCheck
from desktop_app.ui.common import Card, FieldError, UiContext, heading, show_error
from desktop_app.ui.slip_preview import SlipPreviewDialog
from desktop_app.ui.theme import GREEN, RED

SLIP_LIMIT = 500
COLUMNS = ("交办单号", "类别", "事项编号", "反映事项", "承办单位", "签发时间", "打印", "状态")
ROW_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class SlipRow:
    slip: SlipInfo
    case_id: int
    case_number: str
    case_title: str


def load_slip_rows(context: UiContext) -> list[SlipRow]:
    """Runs on the worker: the newest papers, newest first (one query)."""
    return [
        SlipRow(slip, case_id, number, title)
        for slip, case_id, number, title in context.services.assignments.recent_slips(SLIP_LIMIT)
    ]


class SlipsPage(QWidget):
    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self.rows: list[SlipRow] = []
        self._loading = False
        self._stale = True
        self.preview: SlipPreviewDialog | None = None
        self.last_check: SlipCheck | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        title_row = QHBoxLayout()
        title_row.addWidget(heading("交办单"))
        title_row.addStretch(1)
        self.count_label = QLabel("")
        self.count_label.setObjectName("hint")
        title_row.addWidget(self.count_label)
        layout.addLayout(title_row)
        scope = QLabel(
            f"最近签发的{SLIP_LIMIT}份交办单、督办单和催办通知。"
            "新建和签发交办在事项的“交办”页中进行。"
        )
        scope.setObjectName("hint")
        scope.setWordWrap(True)
        layout.addWidget(scope)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_selected_case())
        layout.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.open_button = QPushButton("打开事项")
        self.open_button.clicked.connect(self.open_selected_case)
        self.preview_button = QPushButton("预览/补打…")
        self.preview_button.clicked.connect(self.preview_selected)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self.reload)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout.addLayout(buttons)
        self.error = FieldError()
        layout.addWidget(self.error)

        verify = Card("核验交办单")
        hint = QLabel("用扫码枪扫描交办单右上角的二维码，或粘贴二维码内容，按 Enter 核验。")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        verify.body.addWidget(hint)
        row = QHBoxLayout()
        self.verify_input = QLineEdit()
        self.verify_input.setPlaceholderText("BBCS1|站点代码|交办单号|摘要|签名")
        self.verify_input.returnPressed.connect(self.verify)
        self.verify_button = QPushButton("核验")
        self.verify_button.clicked.connect(self.verify)
        row.addWidget(self.verify_input, 1)
        row.addWidget(self.verify_button)
        verify.body.addLayout(row)
        self.verify_result = QLabel("")
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verify_result.setVisible(False)
        verify.body.addWidget(self.verify_result)
        layout.addWidget(verify)

        context.hub.changed.connect(self._on_changed)
        self._update_buttons()

    # Loading -------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._loading

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _on_changed(self, changes: Changes) -> None:
        if not changes.cases:
            return
        self._stale = True
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        if self._loading:
            return
        self._loading = True
        self._stale = False
        context = self._context
        self._context.runner.run(lambda: load_slip_rows(context), self._loaded, self._failed)

    def _loaded(self, rows: list[SlipRow]) -> None:
        if not isValid(self):  # closed while the worker was busy
            return
        self._loading = False
        self.rows = rows
        self.table.setRowCount(len(rows))
        grey = QBrush(QColor("#909497"))
        for index, row in enumerate(rows):
            slip = row.slip
            status = "已作废" if slip.voided else ("未打印" if slip.print_count == 0 else "有效")
            values = [
                slip.number,
                paper_label(slip.kind),
                row.case_number,
                row.case_title,
                slip.department,
                f"{slip.issued_at:%Y-%m-%d %H:%M}",
                f"{slip.print_count} 次",
                status,
            ]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(ROW_ROLE, index)
                if slip.voided:
                    item.setForeground(grey)
                self.table.setItem(index, column, item)
            if slip.print_count == 0 and not slip.voided:
                self.table.item(index, 7).setForeground(QBrush(QColor(RED)))
        self.count_label.setText(f"共 {len(rows)} 份")
        if rows and not self.table.selectionModel().selectedRows():
            self.table.selectRow(0)
        self._update_buttons()

    def _failed(self, exc: Exception) -> None:
        if not isValid(self):  # closed while the worker was busy
            return
        self._loading = False
        self.error.set_message(exc.message if isinstance(exc, UserError) else "交办单读取失败")
        if not isinstance(exc, UserError):
            show_error(self, exc)

    def selected(self) -> SlipRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.rows[self.table.item(rows[0].row(), 0).data(ROW_ROLE)]

    def _update_buttons(self) -> None:
        row = self.selected()
        self.open_button.setEnabled(row is not None)
        self.preview_button.setEnabled(row is not None and not row.slip.voided)

    # Actions -------------------------------------------------------------------------------

    def open_selected_case(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_case.emit(row.case_id)

    def preview_selected(self) -> SlipPreviewDialog | None:
        row = self.selected()
        if row is None or row.slip.voided:
            return None
        services, actor = self._context.services, self._context.actor
        number, case_id = row.slip.number, row.case_id

        def render() -> bytes:
            return services.assignments.slip_pdf(actor, number, case_id=case_id)

        dialog = SlipPreviewDialog(self._context, render, number, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # Each opening counts as a print; the list shows the new count afterwards.
        dialog.finished.connect(lambda _code: self.reload())
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
            if not isValid(self):
                return
            self.verify_button.setEnabled(True)
            self.last_check = check
            self._show_check(check.valid, check.message)

        def failed(exc: Exception) -> None:
            if not isValid(self):
                return
            self.verify_button.setEnabled(True)
            if isinstance(exc, UserError):
                self._show_check(False, exc.message)
            else:
                show_error(self, exc)

        self._context.runner.run(lambda: services.assignments.verify(payload), done, failed)

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
