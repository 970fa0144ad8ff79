"""The board's two sheets: the month grid (a label per day) and the week's seven columns.

They show what :func:`~desktop_app.ui.calendar.looks.cell_look` decides and report clicks and
keys; they load nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from html import escape

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.deadlines import DayCell, MonthView
from desktop_app.domain.workdays import WEEKDAY_NAMES
from desktop_app.services.deadlines import DeadlineItem
from desktop_app.ui.calendar.looks import (
    BLUE,
    DIM_TEXT,
    GREY_TEXT,
    GRID_LINE,
    CellLook,
    cell_look,
    item_text,
    month_day,
    weekday_name,
)
from desktop_app.ui.calendar.widgets import case_id_of, item_widget, placeholder
from desktop_app.ui.theme import GREEN


class DayCellWidget(QFrame):
    """One day of the month sheet: rich-text labels that Qt paints itself."""

    def __init__(self, grid: MonthGrid) -> None:
        super().__init__(grid)
        self._grid = grid
        self.setObjectName("dayCell")
        self.day: date | None = None
        self.look: CellLook | None = None
        self.shown_note = ""  # the holiday's name as shown (cut with … in a narrow cell)
        self._sheet = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(9, 3, 5, 3)
        layout.setSpacing(0)
        self.top = QLabel()
        self.top.setTextFormat(Qt.TextFormat.RichText)
        self.bottom = QLabel()
        self.bottom.setTextFormat(Qt.TextFormat.PlainText)
        for label in (self.top, self.bottom):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.bottom.setStyleSheet("font-size: 9pt;")
        layout.addWidget(self.top)
        layout.addStretch(1)
        layout.addWidget(self.bottom)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def show_look(self, look: CellLook, selected: bool) -> None:
        changed = look != self.look
        self.day = look.day
        self.look = look
        if changed:
            self._set_top()
            self._set_leader()
            self.setToolTip(look.tooltip)
        sheet = _cell_sheet(look, selected)
        if sheet != self._sheet:
            self._sheet = sheet
            self.setStyleSheet(sheet)

    def _set_top(self) -> None:
        """The date, its badge, the holiday's name (cut with … where the cell is narrow: the
        cell's tooltip has it whole) and what is due."""
        if self.look is None:
            return
        note = self.look.note
        if note:
            font = QFont(self.top.font())
            font.setPointSizeF(NOTE_POINTS)
            width = max(10, self.top.width())
            note = QFontMetrics(font).elidedText(note, Qt.TextElideMode.ElideRight, width)
        self.shown_note = note
        html = _cell_html(self.look, note)
        if html != self.top.text():
            self.top.setText(html)

    def _set_leader(self) -> None:
        if self.look is None:
            return
        text = self.look.leader_text
        if text:
            width = max(10, self.bottom.width())
            text = self.bottom.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, width)
        if text != self.bottom.text():
            self.bottom.setText(text)
        colour = DIM_TEXT if self.look.dimmed else GREY_TEXT
        style = f"font-size: 9pt; color: {colour};"
        if self.bottom.styleSheet() != style:
            self.bottom.setStyleSheet(style)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # The 带班 line only where it fits under the date and the 到期 line (at 125 % on a
        # small screen it was drawn over them).
        self.bottom.setVisible(self.height() >= self._grid.full_row_height())
        self._set_top()
        self._set_leader()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.day is not None:
            self._grid.press(self.day)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.day is not None:
            self._grid.day_activated.emit(self.day)


def _blend(colour: str, towards_white: float) -> str:
    """A paler version of a colour, for days outside the month (rich text has no alpha)."""
    base = QColor(colour)
    mix = [round(c + (255 - c) * towards_white) for c in (base.red(), base.green(), base.blue())]
    return "#{:02x}{:02x}{:02x}".format(*mix)


NOTE_POINTS = 9.0  # the holiday's name under the date


def _cell_html(look: CellLook, note: str) -> str:
    def tone(colour: str) -> str:
        return _blend(colour, 0.55) if look.dimmed else colour

    number_colour = tone(BLUE if look.today else "#2c3e50")
    today = (
        f"&nbsp;<span style='font-size:9pt; font-weight:bold; color:{BLUE}'>今天</span>"
        if look.today
        else ""
    )
    badge = ""
    if look.badge:
        background = tone(GREEN if look.badge == "休" else "#5d6d7e")
        badge = (
            f"<span style='font-size:9pt; font-weight:bold; color:#ffffff;"
            f" background-color:{background}'>&nbsp;{look.badge}&nbsp;</span>"
        )
    html = (
        "<table width='100%' cellspacing='0' cellpadding='0'><tr>"
        f"<td><span style='font-size:13pt; font-weight:bold; color:{number_colour}'>"
        f"{look.number}</span>{today}</td><td align='right'>{badge}</td></tr></table>"
    )
    if note:
        html += (
            f"<div style='font-size:{NOTE_POINTS:g}pt; color:{tone(GREY_TEXT)}'>"
            f"{escape(note)}</div>"
        )
    if look.due_text:
        html += (
            f"<div style='font-size:11.5pt; font-weight:bold; color:{tone(look.colour)}'>"
            f"{look.due_text}</div>"
        )
    return html


def _cell_sheet(look: CellLook, selected: bool) -> str:
    border = f"border-style: solid; border-color: {GRID_LINE}; border-width: 0 1px 1px 0;"
    if look.today:
        border = f"border: 3px solid {BLUE};"
    elif selected:
        border = "border: 2px solid #5dade2;"
    if look.colour and not look.today:
        # A bar down the left edge: the colour of a day is visible from across the room.
        border += (
            f" border-left: 5px solid {_blend(look.colour, 0.4) if look.dimmed else look.colour};"
        )
    return f"#dayCell {{ background: {look.background}; {border} }}"


HEADER_HEIGHT = 26  # the weekday names
MIN_WIDTH = 540  # 7 days of ~77 px: a day's 带班 line is elided (its tooltip has it whole)


def _line(widget: QWidget, points: float, bold: bool) -> int:
    """The height of a line of ``widget``'s font at ``points`` (bold or not)."""
    font = QFont(widget.font())
    font.setPointSizeF(points)
    font.setBold(bold)
    return QFontMetrics(font).lineSpacing()


class MonthGrid(QWidget):
    """A Monday-first month sheet. Arrow keys move the selected day; Enter opens its list.

    Built from labels rather than painted in Python: Qt draws them itself, and every cell can
    be read by a screen reader or a test.
    """

    day_selected = Signal(object)  # date
    day_activated = Signal(object)  # date: double click or Enter

    ROWS = 6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._full_row_height: int | None = None
        self.setMinimumSize(MIN_WIDTH, HEADER_HEIGHT + 5 * self._row_min_height())
        self.setAccessibleName("月历")
        self.setObjectName("monthGrid")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            f"#monthGrid {{ background: #ffffff; border-left: 1px solid {GRID_LINE};"
            f" border-top: 1px solid {GRID_LINE}; }}"
        )
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for column, name in enumerate(WEEKDAY_NAMES):
            header = QLabel(name)
            header.setAlignment(Qt.AlignmentFlag.AlignCenter)
            header.setFixedHeight(HEADER_HEIGHT)
            colour = "#7b8a8b" if column >= 5 else "#2c3e50"
            header.setStyleSheet(
                f"background: #eaeef1; color: {colour}; font-weight: bold;"
                f" border-right: 1px solid {GRID_LINE}; border-bottom: 1px solid {GRID_LINE};"
            )
            layout.addWidget(header, 0, column)
        self._cells: list[DayCellWidget] = []
        for row in range(self.ROWS):
            for column in range(7):
                cell = DayCellWidget(self)
                layout.addWidget(cell, row + 1, column)
                self._cells.append(cell)
            layout.setRowStretch(row + 1, 1)
        for column in range(7):
            layout.setColumnStretch(column, 1)
        self._by_day: dict[date, DayCellWidget] = {}
        self._rows = 0
        self.selected: date | None = None

    def _row_min_height(self) -> int:
        """A week's least height: a day's date and its 到期 line (or a holiday's name), at the
        cell's fonts and margins (_cell_html, DayCellWidget). The 带班 line below them shows
        where there is room for it too (``full_row_height``; the day's panel and its tooltip
        name the leader): a six-week month then still fits the smallest screen's page."""
        return 3 + _line(self, 13, True) + _line(self, 11.5, True) + 3 + 2

    def full_row_height(self) -> int:
        """A week's height with each day's 带班 line as well (counted once: cells ask it at
        every resize)."""
        if self._full_row_height is None:
            self._full_row_height = self._row_min_height() + _line(self, 9, False)
        return self._full_row_height

    # For the page and for tests ---------------------------------------------------------------

    def set_view(self, view: MonthView, selected: date | None) -> None:
        self.selected = selected
        self._by_day = {}
        days = [cell for week in view.weeks for cell in week]
        rows = len(view.weeks)
        if rows != self._rows:
            for index, cell_widget in enumerate(self._cells):
                cell_widget.setVisible(index < rows * 7)
            layout = self.layout()
            if isinstance(layout, QGridLayout):
                for row in range(self.ROWS):
                    layout.setRowStretch(row + 1, 1 if row < rows else 0)
            self._rows = rows
            # As short as the month's weeks can be with their lines whole (the page gives the
            # grid what the screen has left: at 125 % the lines overlapped at a fixed 330 px).
            self.setMinimumHeight(HEADER_HEIGHT + rows * self._row_min_height())
        for cell_widget, cell in zip(self._cells, days, strict=False):
            cell_widget.show_look(cell_look(cell, view.today), cell.day == selected)
            self._by_day[cell.day] = cell_widget

    def set_selected(self, day: date | None) -> None:
        previous, self.selected = self.selected, day
        for other in (previous, day):
            widget = self._by_day.get(other) if other else None
            if widget is not None and widget.look is not None:
                widget.show_look(widget.look, other == day)

    def days(self) -> list[date]:
        return list(self._by_day)

    def cell_widget(self, day: date) -> DayCellWidget | None:
        return self._by_day.get(day)

    def look(self, day: date) -> CellLook | None:
        widget = self._by_day.get(day)
        return widget.look if widget else None

    def cell_text(self, day: date) -> str:
        look = self.look(day)
        return look.text if look else ""

    def cell_rect(self, day: date) -> QRect:
        widget = self._by_day.get(day)
        return widget.geometry() if widget else QRect()

    def day_at(self, pos: QPoint) -> date | None:
        for day, widget in self._by_day.items():
            if widget.isVisible() and widget.geometry().contains(pos):
                return day
        return None

    def sizeHint(self) -> QSize:
        return QSize(760, 520)

    # Input ------------------------------------------------------------------------------------

    def press(self, day: date) -> None:
        self.setFocus()
        self.set_selected(day)
        self.day_selected.emit(day)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_Up: -7,
            Qt.Key.Key_Down: 7,
        }
        key = Qt.Key(event.key())
        if key in steps and self.selected is not None:
            day = self.selected + timedelta(days=steps[key])
            self.set_selected(day)
            self.day_selected.emit(day)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected is not None:
            self.day_activated.emit(self.selected)
            return
        super().keyPressEvent(event)


class WeekBoard(QWidget):
    """Seven columns of the week's deadlines, a header per day with its holiday and leader."""

    open_case = Signal(int)
    day_selected = Signal(object)  # date

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.headers: list[QLabel] = []
        self.columns: list[QListWidget] = []
        self.days: list[date] = []
        self._items: list[list[DeadlineItem]] = []  # each column's deadlines, as listed
        for index in range(7):
            column = QVBoxLayout()
            column.setSpacing(2)
            header = QLabel()
            header.setWordWrap(True)
            header.setAlignment(Qt.AlignmentFlag.AlignCenter)
            header.setMinimumHeight(54)
            items = QListWidget()
            items.setWordWrap(True)
            items.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            items.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
            items.setSpacing(2)
            items.itemDoubleClicked.connect(self._open)
            items.itemActivated.connect(self._open)
            items.currentRowChanged.connect(partial(self._row_changed, index))
            column.addWidget(header)
            column.addWidget(items, 1)
            layout.addLayout(column, 1)
            self.headers.append(header)
            self.columns.append(items)

    def set_week(
        self, cells: list[DayCell], items: dict[date, list[DeadlineItem]], today: date
    ) -> None:
        self.days = [cell.day for cell in cells]
        for header, column, cell in zip(self.headers, self.columns, cells, strict=True):
            look = cell_look(cell, today)
            lines = [f"<b>{weekday_name(cell.day)} {month_day(cell.day)}</b>"]
            sub = look.note or ("休息" if not cell.working else "")
            if look.badge:
                sub = f"{look.badge}｜{sub}"
            if cell.leader:
                sub = (sub + " · " if sub else "") + f"带班：{cell.leader}"
            lines.append(f"<span style='font-size:9pt'>{escape(sub) if sub else '&nbsp;'}</span>")
            header.setText("<br>".join(lines))
            border = f"3px solid {BLUE}" if look.today else f"1px solid {GRID_LINE}"
            background = look.background if look.background != "#ffffff" else "#f4f6f7"
            header.setStyleSheet(
                f"QLabel {{ background: {background}; border: {border}; border-radius: 4px;"
                f" color: {BLUE if look.today else '#2c3e50'}; padding: 2px; }}"
            )
            header.setToolTip(look.tooltip)
            column.blockSignals(True)
            column.clear()
            day_items = items.get(cell.day, [])
            for item in day_items:
                column.addItem(item_widget(item, narrow=True, fits=partial(_fits, column)))
            if not day_items:
                column.addItem(placeholder("无" if cell.working else "休息"))
            _fit_cards(column)
            column.blockSignals(False)
        self._items = [items.get(day, []) for day in self.days]

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # Each number broken after its site's name only where the column is too narrow for it.
        for column, day_items in zip(self.columns, self._items, strict=False):
            changed = False
            for row, item in enumerate(day_items):
                text = item_text(item, narrow=True, fits=partial(_fits, column))
                if column.item(row) is not None and column.item(row).text() != text:
                    column.item(row).setText(text)
                    changed = True
            if changed or event.oldSize().width() != event.size().width():
                _fit_cards(column)

    def _open(self, item: QListWidgetItem) -> None:
        case_id = case_id_of(item)
        if case_id is not None:
            self.open_case.emit(case_id)

    def _row_changed(self, column: int, _row: int) -> None:
        if self.days:
            self.day_selected.emit(self.days[column])


def _card_width(column: QListWidget) -> int:
    """The width a week column's card text has (its items' margins and spacing aside)."""
    return max(column.viewport().width() - 2 * column.spacing() - 8, 20)


def _fits(column: QListWidget, line: str) -> bool:
    """Whether ``line`` fits a week column's card width."""
    return column.fontMetrics().horizontalAdvance(line) <= _card_width(column)


def _fit_cards(column: QListWidget) -> None:
    """Each card's height from its wrapped text at the card width: the list's own guess
    measured wider than it paints, and at 125 % a card's last line was cut with "…" while the
    column stood empty below it."""
    width = _card_width(column)
    metrics = column.fontMetrics()
    for row in range(column.count()):
        item = column.item(row)
        box = metrics.boundingRect(
            QRect(0, 0, width, 100_000), int(Qt.TextFlag.TextWordWrap), item.text()
        )
        item.setSizeHint(QSize(width, box.height() + 6))
