"""What every list page shares: the read-only table view, column headers, a model over a short
list of rows, and the date and combo fields of its filters.

Written once here so the 台账, 交办单, 审计日志, 问责线索, 一类事 and 联席会议 lists look and
behave alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QDate,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCalendarWidget,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
)

from desktop_app.ui.common import heading

NO_DATE = QDate(2000, 1, 1)  # a filter's date left at this is shown as 不限: no bound

_Index = QModelIndex | QPersistentModelIndex
Row = TypeVar("Row")


def list_view(
    view: QTableView, model: QAbstractItemModel, widths: Sequence[int] = ()
) -> QTableView:
    """Set up ``view`` as a list of ``model``: whole rows, one at a time, read only, one line a
    row. ``widths`` are fixed column widths (the user may drag them): nothing is measured per
    cell.
    """
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(26)
    if widths:
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate(widths):
            view.setColumnWidth(column, width)
    return view


def fitted_widths(preferred: Sequence[int], least: Sequence[int], room: int) -> list[int]:
    """Column widths that fit ``room`` pixels: ``preferred`` when they do, else each narrowed
    toward its ``least`` by the same share of the difference; never below ``least`` (then a
    horizontal scrollbar remains)."""
    total = sum(preferred)
    slack = sum(p - q for p, q in zip(preferred, least, strict=True))
    if total <= room or slack <= 0:
        return list(preferred)
    share = min(1.0, (total - room) / slack)
    return [round(p - (p - q) * share) for p, q in zip(preferred, least, strict=True)]


def selected_row(view: QTableView) -> int:
    """The selected row's number, -1 when none is selected."""
    rows = view.selectionModel().selectedRows()
    return rows[0].row() if rows else -1


def column_header(
    columns: Sequence[str], section: int, orientation: Qt.Orientation, role: int
) -> Any:
    """``headerData`` of a list: the column titles across, row numbers down."""
    if role != Qt.ItemDataRole.DisplayRole:
        return None
    if orientation == Qt.Orientation.Horizontal and 0 <= section < len(columns):
        return columns[section]
    if orientation == Qt.Orientation.Vertical:
        return section + 1
    return None


class RowsTableModel(QAbstractTableModel, Generic[Row]):
    """A short list held whole (classes, warnings, meetings: tens, not thousands), shown as
    text columns. A subclass names its ``headers`` and says what each row shows in ``cells``;
    a cell's tooltip is its text unless ``tip`` says otherwise."""

    headers: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []

    @property
    def rows(self) -> list[Row]:
        return self._rows

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Row | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def selected(self, view: QTableView) -> Row | None:
        """The row selected in ``view`` (a view of this model), None when none is."""
        return self.row_at(selected_row(view))

    def row_of(self, row_id: int) -> int:
        """The number of the row whose ``id`` is ``row_id``, -1 when it is not listed."""
        return next((i for i, r in enumerate(self._rows) if getattr(r, "id", None) == row_id), -1)

    def cells(self, row: Row) -> tuple[str, ...]:
        raise NotImplementedError

    def tip(self, row: Row, column: int) -> str | None:
        return self.cells(row)[column]

    # Qt model API ------------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return column_header(self.headers, section, orientation, role)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cells(row)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tip(row, index.column())
        return None


def title_row(layout: QVBoxLayout, title: str) -> QLabel:
    """Adds the page's heading to ``layout``, with the count of what it lists at the right;
    returns the count's label."""
    row = QHBoxLayout()
    row.addWidget(heading(title))
    row.addStretch(1)
    count = QLabel("")
    count.setObjectName("hint")
    row.addWidget(count)
    layout.addLayout(row)
    return count


def page_hint(text: str) -> QLabel:
    """A grey line or two under the heading that says what the page lists."""
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def search_field(placeholder: str) -> QLineEdit:
    """The free-text search of a list, with a clear button."""
    search = QLineEdit()
    search.setPlaceholderText(placeholder)
    search.setClearButtonEnabled(True)
    return search


def narrow(combo: QComboBox, characters: int) -> QComboBox:
    """A combo sized for ``characters`` characters, not for its longest entry (long department
    names would otherwise widen the whole row)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo


def date_edit(day: date | None = None) -> QDateEdit:
    """A date field with a calendar popup, shown as 2026-12-31."""
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    if day is not None:
        edit.setDate(to_qdate(day))
    return edit


class _OpensAtThisMonth(QObject):
    """A 不限 bound's calendar opens on this month, not on January 2000 (a walk had to page
    through 26 years to pick a date)."""

    def __init__(self, edit: QDateEdit, calendar: QCalendarWidget) -> None:
        super().__init__(calendar)  # goes with the calendar it watches
        self._edit = edit

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Only a Show is looked at (the calendar outlives its edit by a moment when a page is
        # closed: the edit is not touched for any other event).
        if event.type() == QEvent.Type.Show and isinstance(watched, QCalendarWidget):
            try:
                open_bound = self._edit.date() == NO_DATE
            except RuntimeError:  # the edit is gone
                return False
            if open_bound:
                today = QDate.currentDate()
                watched.setCurrentPage(today.year(), today.month())
        return False


def bound_edit(tooltip: str) -> QDateEdit:
    """One bound of a filter's date range, 不限 (``NO_DATE``) until a date is picked."""
    edit = date_edit()
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("不限")
    edit.setDate(NO_DATE)
    edit.setToolTip(tooltip)
    calendar = edit.calendarWidget()
    calendar.installEventFilter(_OpensAtThisMonth(edit, calendar))
    return edit


def picked_date(edit: QDateEdit) -> date:
    value = edit.date()
    return date(value.year(), value.month(), value.day())


def bound_date(value: QDate) -> date | None:
    """A bound's date, None for 不限."""
    if value == NO_DATE or not value.isValid():
        return None
    return date(value.year(), value.month(), value.day())


def to_qdate(value: date | None) -> QDate:
    """A date for a field; None is ``NO_DATE`` (不限)."""
    return NO_DATE if value is None else QDate(value.year, value.month, value.day)
