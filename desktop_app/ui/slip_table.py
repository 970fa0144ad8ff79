"""The lazy slip table model of the 交办单 screen: the ids of the current query, rows a page at a
time (as desktop_app/ui/case_table.py does for the ledger).

Every issued paper can be listed: at 100,000 slips the ids are a few hundred kilobytes, and rows
are read only for the pages the view is about to paint.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from desktop_app.domain.papers import PaperKind
from desktop_app.services.slip_register import SlipRegister, SlipRow, SlipState
from desktop_app.ui.list_table import column_header
from desktop_app.ui.paged_model import PagedIdsModel
from desktop_app.ui.theme import RED

COLUMNS = ("交办单号", "类别", "事项编号", "反映事项", "承办单位", "签发时间", "打印", "状态")
TITLE_COLUMN = 3
DEPARTMENT_COLUMN = 4
KIND_COLUMN = 1
STATE_COLUMN = 7
# The 类别 column's short names (whole in its tooltip): "不能办事项书面依据告知单" was cut to
# "不能办…", which says nothing.
SHORT_KINDS = {PaperKind.BASIS_REQUEST: "依据告知单", PaperKind.ADJUST: "时限调整"}
SLIP_ID_ROLE = Qt.ItemDataRole.UserRole + 1

GREY = QColor("#909497")

_Index = QModelIndex | QPersistentModelIndex


class SlipTableModel(PagedIdsModel):
    def __init__(self, register: SlipRegister, parent: QObject | None = None) -> None:
        super().__init__(register.rows, len(COLUMNS), parent)
        self._register = register

    def slip_id(self, row: int) -> int:
        return self.id_at(row)

    def slip(self, row: int) -> SlipRow | None:
        """The row's slip (read from the database if its page is not cached)."""
        if not 0 <= row < len(self._ids):
            return None
        slip: SlipRow | None = self._row(row)
        return slip

    # Qt model API --------------------------------------------------------------------------

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return column_header(COLUMNS, section, orientation, role)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role == SLIP_ID_ROLE:
            return self._ids[index.row()]
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.ForegroundRole,
        ):
            return None
        row: SlipRow | None = self._row(index.row())
        if row is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole else None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == TITLE_COLUMN:
                return f"{row.case_number}：{row.case_title}"
            if column == DEPARTMENT_COLUMN:
                return row.department
            if column == KIND_COLUMN:
                return row.kind.label
            if column == 0 and row.site_code:
                return f"{row.site_code} 签发"
            return None
        # Foreground: voided papers greyed out, unprinted ones' state in red.
        if row.voided:
            return QBrush(GREY)
        if column == STATE_COLUMN and row.state is SlipState.UNPRINTED:
            return QBrush(QColor(RED))
        return None


def _display(row: SlipRow, column: int) -> str:
    values = (
        row.number,
        SHORT_KINDS.get(row.kind, row.kind.label),
        row.case_number,
        row.case_title,
        row.department,
        f"{row.issued_at:%Y-%m-%d %H:%M}",
        f"{row.print_count} 次",
        row.state.label,
    )
    return values[column] if 0 <= column < len(values) else ""
