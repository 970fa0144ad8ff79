"""Small Qt pieces the calendar's tabs share: date edits, list items, the read-only hint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QDateEdit, QLabel, QListWidgetItem, QWidget

from desktop_app.domain.deadlines import DeadlineState
from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services.deadlines import DeadlineItem
from desktop_app.ui.calendar.looks import GREY_TEXT, item_text, state_colour
from desktop_app.ui.common import FieldError, show_error
from desktop_app.ui.theme import ACCENT

ID_ROLE = Qt.ItemDataRole.UserRole


def qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def date_edit(day: date) -> QDateEdit:
    edit = QDateEdit(qdate(day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


def item_widget(
    item: DeadlineItem,
    *,
    with_due: bool = True,
    narrow: bool = False,
    fits: Callable[[str], bool] | None = None,
) -> QListWidgetItem:
    widget_item = QListWidgetItem(item_text(item, with_due=with_due, narrow=narrow, fits=fits))
    widget_item.setData(ID_ROLE, item.case_id)
    colour = state_colour(item.state)
    if item.state is not DeadlineState.NORMAL:
        widget_item.setForeground(QBrush(QColor(colour)))
    if item.state is DeadlineState.OVERDUE:
        font = widget_item.font()
        font.setBold(True)
        widget_item.setFont(font)
    widget_item.setToolTip(f"{item.title}\n双击或按回车打开事项")
    return widget_item


def placeholder(text: str) -> QListWidgetItem:
    item = QListWidgetItem(text)
    item.setFlags(Qt.ItemFlag.NoItemFlags)
    item.setForeground(QBrush(QColor(GREY_TEXT)))
    return item


def case_id_of(item: QListWidgetItem) -> int | None:
    """The case a listed deadline opens; None for a placeholder line."""
    case_id = item.data(ID_ROLE)
    return None if case_id is None else int(case_id)


def permission_hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(
        f"color: {ACCENT}; background: #fdf2f2; border: 1px solid #f5c6cb;"
        " border-radius: 4px; padding: 4px 8px;"
    )
    return label


def field_message(label: FieldError) -> Callable[[ValidationFailed], None]:
    """Input the rules refuse: the message beside the form."""
    return lambda exc: label.set_message(exc.message)


def beside(label: FieldError, parent: QWidget) -> Callable[[Exception], None]:
    """An Action's other refusals of the form's input (a person no longer on duty, a file with no
    dates) shown under the form as its field errors are; a bug is reported as everywhere else."""

    def failed(exc: Exception) -> None:
        if isinstance(exc, UserError):
            label.set_message(exc.message)
        else:
            show_error(parent, exc)

    return failed


class Reads:
    """The reads a tab has on the worker, and whether an answer is still the newest of its kind:
    when the month is changed twice quickly only the second answer is shown."""

    def __init__(self) -> None:
        self._newest: dict[str, int] = {}
        self._running: set[tuple[str, int]] = set()

    def outdate(self, kind: str) -> int:
        """Make every answer of ``kind`` still on its way out of date; the new number."""
        self._newest[kind] = self._newest.get(kind, 0) + 1
        return self._newest[kind]

    def start(self, kind: str) -> int:
        number = self.outdate(kind)
        self._running.add((kind, number))
        return number

    def finish(self, kind: str, number: int) -> None:
        self._running.discard((kind, number))

    def is_newest(self, kind: str, number: int) -> bool:
        return self._newest.get(kind) == number

    @property
    def busy(self) -> bool:
        return bool(self._running)
