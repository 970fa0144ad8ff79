"""The lazy case table model: holds the ids of the current query, fetches rows a page at a time.

At 100,000 cases the ids are a few hundred kilobytes; rows are asked for only when the view is
about to paint them, and only a bounded number of pages is kept.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from desktop_app.domain.deadlines import DeadlineState, state_of
from desktop_app.domain.vocabulary import CaseStatus
from desktop_app.services.ledger import CaseFilter, CaseRow, LedgerService, SortKey
from desktop_app.ui.paged_model import PagedIdsModel
from desktop_app.ui.theme import GREEN, RED, YELLOW

COLUMNS: tuple[tuple[SortKey, str], ...] = (
    (SortKey.NUMBER, "编号"),
    (SortKey.STATUS, "状态"),
    (SortKey.RECEIVED, "反映时间"),
    (SortKey.COMPLAINANT, "反映人"),
    (SortKey.TITLE, "反映事项"),
    (SortKey.AREA, "领域"),
    (SortKey.CHANNEL, "来源"),
    (SortKey.DEPARTMENT, "受阻部门"),
    (SortKey.VISITS, "往返"),
    (SortKey.DUE, "办理时限"),
)

STATUS_COLOURS = {
    CaseStatus.REGISTERED: QColor("#1f618d"),
    CaseStatus.IN_PROGRESS: QColor("#b9770e"),
    CaseStatus.CONCLUDED: QColor(GREEN),
    CaseStatus.VISITED: QColor("#566573"),
    CaseStatus.WITHDRAWN: QColor("#909497"),
    CaseStatus.SCREENED_OUT: QColor("#909497"),  # ended at the door, like a withdrawal
}

CASE_ID_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex


class CaseTableModel(PagedIdsModel):
    query_changed = Signal()  # the filter or sort changed: the owner reloads ids

    def __init__(self, ledger: LedgerService, parent: QObject | None = None) -> None:
        super().__init__(ledger.rows, len(COLUMNS), parent)
        self._ledger = ledger
        self.case_filter = CaseFilter()
        self.sort_key = SortKey.RECEIVED
        self.descending = True
        # (today, last "due soon" day): open cases' deadlines are coloured against these.
        self.deadline_reference: tuple[date, date] | None = None

    # Query state ---------------------------------------------------------------------------

    def set_filter(self, case_filter: CaseFilter) -> None:
        self.case_filter = case_filter
        self.query_changed.emit()

    def load_ids(self, limit: int | None = None, offset: int = 0) -> list[int]:
        """The ids for the current query (``limit`` of them from ``offset``, if given) — safe
        to call on the worker thread."""
        return self._ledger.ids(self.case_filter, self.sort_key, self.descending, limit, offset)

    def case_id(self, row: int) -> int:
        return self.id_at(row)

    # Qt model API --------------------------------------------------------------------------

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section][1]
        if orientation == Qt.Orientation.Vertical:
            return section + 1
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role == CASE_ID_ROLE:
            return self._ids[index.row()]
        row: CaseRow | None = self._row(index.row())
        if row is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole else None
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, key)
        if role == Qt.ItemDataRole.ToolTipRole and key in (SortKey.TITLE, SortKey.COMPLAINANT):
            return f"{row.complainant_name}：{row.title}"
        if role == Qt.ItemDataRole.ForegroundRole and key is SortKey.STATUS:
            return QBrush(STATUS_COLOURS[row.status])
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and key is SortKey.VISITS
            and row.visits_count >= 3
        ):
            return QBrush(QColor(RED))
        if key is SortKey.DUE and role in (
            Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return self._deadline_mark(row, role)
        if role == Qt.ItemDataRole.TextAlignmentRole and key is SortKey.VISITS:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        key = COLUMNS[column][0]
        descending = order == Qt.SortOrder.DescendingOrder
        if key is self.sort_key and descending == self.descending:
            return
        self.sort_key = key
        self.descending = descending
        self.query_changed.emit()

    def _deadline_mark(self, row: CaseRow, role: int) -> Any:
        if (
            self.deadline_reference is None
            or row.due_date is None
            or row.status not in (CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS)
        ):
            return None
        today, soon_until = self.deadline_reference
        state = state_of(row.due_date, today, soon_until)
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.due_provisional:
                return f"{state.label}；暂定：所跨年份的节假日安排尚未公布，公布后可能调整"
            return state.label
        if state is DeadlineState.OVERDUE:
            return QBrush(QColor(RED))
        if state in (DeadlineState.DUE_TODAY, DeadlineState.DUE_SOON):
            return QBrush(QColor(YELLOW))
        return None


def _display(row: CaseRow, key: SortKey) -> str:
    if key is SortKey.NUMBER:
        return row.number
    if key is SortKey.STATUS:
        return row.status.label
    if key is SortKey.RECEIVED:
        return row.received_at.strftime("%Y-%m-%d %H:%M")
    if key is SortKey.COMPLAINANT:
        return row.complainant_name
    if key is SortKey.TITLE:
        return row.title
    if key is SortKey.AREA:
        return row.area
    if key is SortKey.CHANNEL:
        return row.channel.label
    if key is SortKey.DEPARTMENT:
        return row.department
    if key is SortKey.VISITS:
        return str(row.visits_count)
    if key is SortKey.DUE:
        if row.due_date is None:
            return ""
        return row.due_date.isoformat() + (" 暂定" if row.due_provisional else "")
    return ""
