"""期限日历: what falls due when, who is on duty, and the holidays and rules behind deadlines.

Three tabs: the month/week board of deadlines (red overdue, amber due soon), the duty roster
(值班安排), and the holiday overrides and deadline rules (节假日与期限规则). Everything is read
and written on the worker; :func:`cell_look` decides how a day looks, :class:`MonthGrid` only
paints it.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from html import escape
from pathlib import Path

from PySide6.QtCore import QDate, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QResizeEvent,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.deadlines import (
    MAX_RULE_DAYS,
    PROOF_EXAMPLE_DAYS,
    DayCell,
    DeadlineKind,
    DeadlineRules,
    DeadlineState,
    MonthView,
    RuleKey,
)
from desktop_app.domain.permissions import Permission
from desktop_app.domain.workdays import WEEKDAY_NAMES, Deadline
from desktop_app.errors import UserError
from desktop_app.services.app import AppServices
from desktop_app.services.calendar import OverrideInfo, Recomputed
from desktop_app.services.context import Changes
from desktop_app.services.deadlines import BoardFilter, DeadlineItem, TodayCounts
from desktop_app.services.roster import (
    DutyRole,
    Period,
    Rotation,
    RotationPlan,
    ShiftInfo,
    StaffInfo,
)
from desktop_app.services.site import DepartmentInfo
from desktop_app.ui.common import FieldError, UiContext, heading, show_error
from desktop_app.ui.flow_layout import FlowLayout
from desktop_app.ui.theme import ACCENT, GREEN, RED, YELLOW

BLUE = "#1f618d"  # today, and counts that are not yet pressing
GREY_TEXT = "#566573"
DIM_TEXT = "#aab2b7"
GRID_LINE = "#d5d8dc"
HOLIDAY_SHADE = "#e3e6e9"
WEEKEND_SHADE = "#f1f3f4"
OVERDUE_TINT = "#fbe5e3"
DUE_TINT = "#fcf3d9"
OUTSIDE_MONTH = "#fafafa"

_ID_ROLE = Qt.ItemDataRole.UserRole
_NO_HOLIDAY_REASONS = ("工作日", "周末")

ROSTER_TAB = 1

PANEL_DAY = "day"
PANEL_DUE_TODAY = "due_today"
PANEL_OVERDUE = "overdue"
PANEL_DUE_SOON = "due_soon"


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _weekday(day: date) -> str:
    return WEEKDAY_NAMES[day.weekday()]


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def _date_edit(day: date) -> QDateEdit:
    edit = QDateEdit(_qdate(day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


def state_colour(state: DeadlineState) -> str:
    """Red overdue, amber due today or soon, blue otherwise (DESIGN.md §4)."""
    if state is DeadlineState.OVERDUE:
        return RED
    if state in (DeadlineState.DUE_TODAY, DeadlineState.DUE_SOON):
        return YELLOW
    return BLUE


# --------------------------------------------------------------------------------------------
# How a day looks: pure, tested without painting
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellLook:
    day: date
    number: str
    note: str  # 国庆节 / 调休上班 / 台风停工; empty on an ordinary day or weekend
    badge: str  # 休 (holiday or closure) / 班 (make-up working day) / ""
    due_text: str  # 超期 2 / 到期 3 / ""
    leader_text: str  # 带班：… / ""
    colour: str  # colour of the due count, "" when nothing falls due
    background: str
    dimmed: bool  # outside the month shown
    today: bool
    tooltip: str

    @property
    def text(self) -> str:
        """Everything the cell says, one line each (for tests and accessibility)."""
        parts = [self.number, self.badge, self.note, self.due_text, self.leader_text]
        return "\n".join(p for p in parts if p)


def cell_look(cell: DayCell, today: date) -> CellLook:
    note = ""
    badge = ""
    if cell.is_makeup_day:
        badge, note = "班", "调休上班"
    elif not cell.working and cell.reason not in _NO_HOLIDAY_REASONS:
        badge, note = "休", cell.reason
    elif cell.reason not in _NO_HOLIDAY_REASONS:
        note = cell.reason

    total = cell.total
    colour = state_colour(cell.state) if total else ""
    if not total:
        due_text = ""
    elif cell.state is DeadlineState.OVERDUE:
        due_text = f"超期 {total}"
    else:
        due_text = f"到期 {total}"

    if total and cell.state is DeadlineState.OVERDUE:
        background = OVERDUE_TINT
    elif total and cell.state in (DeadlineState.DUE_TODAY, DeadlineState.DUE_SOON):
        background = DUE_TINT
    elif not cell.working and note:
        background = HOLIDAY_SHADE
    elif not cell.working:
        background = WEEKEND_SHADE
    elif not cell.in_month:
        background = OUTSIDE_MONTH
    else:
        background = "#ffffff"

    tip = [f"{cell.day.year}年{_md(cell.day)} {_weekday(cell.day)}", cell.reason]
    if not cell.known:
        tip.append("该年法定节假日尚未录入，按周末推算")
    if total:
        kinds = "、".join(f"{kind.label} {n}" for kind, n in cell.counts.items() if n)
        tip.append(f"{cell.state.label}：{kinds}")
    if cell.leader:
        tip.append(f"带班领导：{cell.leader}")
    if cell.window:
        tip.append(f"坐窗人员：{cell.window}")
    return CellLook(
        day=cell.day,
        number=str(cell.day.day),
        note=note,
        badge=badge,
        due_text=due_text,
        leader_text=f"带班：{cell.leader}" if cell.leader else "",
        colour=colour,
        background=background,
        dimmed=not cell.in_month,
        today=cell.day == today,
        tooltip="\n".join(tip),
    )


def item_text(item: DeadlineItem, *, with_due: bool = True, narrow: bool = False) -> str:
    """A deadline as the right panel lists it: number, kind, state; who and what; where, when."""
    state = item.state.label + ("（暂定）" if item.provisional else "")
    if narrow:  # a column of the week view
        return "\n".join(
            [
                item.number,
                f"{item.complainant}：{item.title}",
                f"{item.kind.label} · {state}",
                item.department or "未指定部门",
            ]
        )
    lines = [
        f"{item.number}　{item.kind.label}　{state}",
        f"{item.complainant}：{item.title}",
    ]
    where = item.department or "未指定部门"
    lines.append(f"{where}　{_md(item.due)}到期" if with_due else where)
    return "\n".join(lines)


def recomputed_text(moved: list[Recomputed]) -> str:
    if not moved:
        return "没有未办结事项的期限因此改变。"
    lines = [f"以下 {len(moved)} 项期限已随之调整，并已记入各事项的办理过程："]
    lines += [
        f"{m.case_number} {m.what}由 {m.before:%Y-%m-%d} 调整为 {m.after:%Y-%m-%d}" for m in moved
    ]
    return "\n".join(lines)


def _item_widget(
    item: DeadlineItem, *, with_due: bool = True, narrow: bool = False
) -> QListWidgetItem:
    widget_item = QListWidgetItem(item_text(item, with_due=with_due, narrow=narrow))
    widget_item.setData(_ID_ROLE, item.case_id)
    colour = state_colour(item.state)
    if item.state is not DeadlineState.NORMAL:
        widget_item.setForeground(QBrush(QColor(colour)))
    if item.state is DeadlineState.OVERDUE:
        font = widget_item.font()
        font.setBold(True)
        widget_item.setFont(font)
    widget_item.setToolTip(f"{item.title}\n双击或按回车打开事项")
    return widget_item


def _placeholder(text: str) -> QListWidgetItem:
    item = QListWidgetItem(text)
    item.setFlags(Qt.ItemFlag.NoItemFlags)
    item.setForeground(QBrush(QColor(GREY_TEXT)))
    return item


# --------------------------------------------------------------------------------------------
# Data loaded on the worker
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardQuery:
    anchor: date
    week: bool
    board_filter: BoardFilter
    panel: tuple[str, date | None]


@dataclass(frozen=True)
class BoardData:
    query: BoardQuery
    today: date
    view: MonthView
    counts: TodayCounts
    panel_items: list[DeadlineItem]
    week_items: dict[date, list[DeadlineItem]]
    today_leader: str
    shifts: list[ShiftInfo]
    staff: list[StaffInfo]


@dataclass(frozen=True)
class ReferenceData:
    departments: list[DepartmentInfo]
    overrides: list[OverrideInfo]
    imported_years: list[int]
    package_years: list[int]
    rules: DeadlineRules
    sites: list[tuple[str, str]]  # (code, name): the city offers a filter by county


@dataclass
class _Jobs:
    board: int = 0
    panel: int = 0
    reference: int = 0
    running: set[str] = field(default_factory=set)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def load_panel(
    services: AppServices,
    panel: tuple[str, date | None],
    today: date,
    soon_until: date,
    board_filter: BoardFilter,
) -> list[DeadlineItem]:
    board = services.deadlines
    mode, day = panel
    if mode == PANEL_OVERDUE:
        return board.items(None, today - timedelta(days=1), today, board_filter)
    if mode == PANEL_DUE_TODAY:
        return board.items(today, today, today, board_filter)
    if mode == PANEL_DUE_SOON:
        return board.items(today + timedelta(days=1), soon_until, today, board_filter)
    chosen = day or today
    return board.items(chosen, chosen, today, board_filter)


def load_board(services: AppServices, query: BoardQuery) -> BoardData:
    today = services.clock.now().date()
    board = services.deadlines
    anchor = query.anchor
    view = board.month(anchor.year, anchor.month, today, query.board_filter)
    counts = board.today(today, query.board_filter)
    week_items: dict[date, list[DeadlineItem]] = {}
    if query.week:
        start = week_start(anchor)
        for item in board.items(start, start + timedelta(days=6), today, query.board_filter):
            week_items.setdefault(item.due, []).append(item)
    leader = services.roster.leader_on(today)
    first = date(anchor.year, anchor.month, 1)
    last = date(anchor.year, anchor.month, month_calendar.monthrange(anchor.year, anchor.month)[1])
    return BoardData(
        query=query,
        today=today,
        view=view,
        counts=counts,
        panel_items=load_panel(services, query.panel, today, counts.soon_until, query.board_filter),
        week_items=week_items,
        today_leader=leader.staff_name if leader else "",
        shifts=services.roster.shifts(first, last),
        staff=services.roster.staff(),
    )


def load_reference(services: AppServices) -> ReferenceData:
    imported = services.calendar.imported_years()
    known = services.calendar.calendar().known_years()
    return ReferenceData(
        departments=services.site.departments(),
        overrides=services.calendar.overrides(),
        imported_years=imported,
        package_years=sorted(set(known) - set(imported)),
        rules=services.calendar.rules(),
        sites=services.ledger.case_sites(),
    )


def _read_schedule(path: Path) -> str:
    """CSV text as saved by Excel on a Chinese PC (GBK) or by anything else (UTF-8)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取文件 {path}（{exc.strerror or exc}）。") from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError("无法识别文件的文字编码，请在 Excel 中另存为“CSV UTF-8”后再导入。")


# --------------------------------------------------------------------------------------------
# The month grid: paints the looks, reports clicks and keys
# --------------------------------------------------------------------------------------------


class DayCellWidget(QFrame):
    """One day of the month sheet: rich-text labels that Qt paints itself."""

    def __init__(self, grid: MonthGrid) -> None:
        super().__init__(grid)
        self._grid = grid
        self.setObjectName("dayCell")
        self.day: date | None = None
        self.look: CellLook | None = None
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
            self.top.setText(_cell_html(look))
            self._set_leader()
            self.setToolTip(look.tooltip)
        sheet = _cell_sheet(look, selected)
        if sheet != self._sheet:
            self._sheet = sheet
            self.setStyleSheet(sheet)

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


def _cell_html(look: CellLook) -> str:
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
    if look.note:
        html += f"<div style='font-size:9pt; color:{tone(GREY_TEXT)}'>{escape(look.note)}</div>"
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
        self.setMinimumSize(560, 330)
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
            header.setFixedHeight(26)
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


# --------------------------------------------------------------------------------------------
# The week board: seven columns of items
# --------------------------------------------------------------------------------------------


class WeekBoard(QWidget):
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
            lines = [f"<b>{_weekday(cell.day)} {_md(cell.day)}</b>"]
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
                column.addItem(_item_widget(item, narrow=True))
            if not day_items:
                column.addItem(_placeholder("无" if cell.working else "休息"))
            column.blockSignals(False)

    def _open(self, item: QListWidgetItem) -> None:
        case_id = item.data(_ID_ROLE)
        if case_id is not None:
            self.open_case.emit(int(case_id))

    def _row_changed(self, column: int, _row: int) -> None:
        if self.days:
            self.day_selected.emit(self.days[column])


# --------------------------------------------------------------------------------------------
# A dialog to change one day's shift
# --------------------------------------------------------------------------------------------


class ShiftDialog(QDialog):
    """调整值班: put someone else on one day, or leave it empty."""

    def __init__(
        self,
        day: date,
        staff: list[StaffInfo],
        shifts: list[ShiftInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"调整值班：{day.year}年{_md(day)} {_weekday(day)}")
        self.day = day
        self._staff = staff
        self._shifts = shifts
        form = QFormLayout(self)
        self.role = QComboBox()
        for role in (DutyRole.LEADER, DutyRole.WINDOW):
            self.role.addItem(role.label, role.value)
        self.person = QComboBox()
        self.period = QComboBox()
        for period in Period:
            self.period.addItem(period.label, period.value)
        self.note = QLineEdit()
        self.note.setPlaceholderText("如：与某某调班、病假")
        form.addRow("值班角色", self.role)
        form.addRow("人员", self.person)
        form.addRow("时段", self.period)
        form.addRow("备注", self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.role.currentIndexChanged.connect(self._fill_people)
        self._fill_people()

    def _fill_people(self) -> None:
        role = DutyRole(self.role.currentData())
        self.person.clear()
        self.person.addItem("（空，不安排）", None)
        for person in self._staff:
            if person.duty_role is role and person.active:
                title = f"（{person.title}）" if person.title else ""
                self.person.addItem(f"{person.name}{title}", person.id)
        current = [s for s in self._shifts if s.duty_role is role]
        if current:
            self.person.setCurrentIndex(max(0, self.person.findData(current[0].staff_id)))
            self.period.setCurrentIndex(max(0, self.period.findData(current[0].period.value)))
            self.note.setText(current[0].note)
        else:
            self.period.setCurrentIndex(0)
            self.note.clear()

    def values(self) -> tuple[DutyRole, int | None, Period, str]:
        person = self.person.currentData()
        return (
            DutyRole(self.role.currentData()),
            None if person is None else int(person),
            Period(self.period.currentData()),
            self.note.text(),
        )


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


class CalendarPage(QWidget):
    """期限日历 / 值班安排 / 节假日与期限规则."""

    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._services = context.services
        self._actor = context.actor
        self._can_edit = context.actor.can(Permission.MANAGE_REFERENCE)
        self._jobs = _Jobs()
        self._today = self._services.clock.now().date()
        self._anchor = self._today
        self._week_mode = False
        self._panel: tuple[str, date | None] = (PANEL_DAY, self._today)
        self._loaded_today: date | None = None
        self.view: MonthView | None = None
        self.data: BoardData | None = None
        self.reference: ReferenceData | None = None
        self.shift_dialog: ShiftDialog | None = None
        self.last_export: Path | None = None
        self._roster_stale = True

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(6)
        top = QHBoxLayout()
        top.addWidget(heading("期限日历"))
        top.addStretch(1)
        self.today_label = QLabel("")
        self.today_label.setObjectName("hint")
        top.addWidget(self.today_label)
        layout.addLayout(top)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_board_tab(), "期限日历")
        self.tabs.addTab(self._build_roster_tab(), "值班安排")
        self.tabs.addTab(self._build_reference_tab(), "节假日与期限规则")
        layout.addWidget(self.tabs, 1)
        self.tabs.currentChanged.connect(self._tab_changed)

        context.hub.changed.connect(self._on_changed)
        self._render_today()
        self._render_title()

    # Public API ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload everything on the worker (board, roster, holidays and rules)."""
        self._load_board()
        self._load_reference()

    @property
    def is_loading(self) -> bool:
        return bool(self._jobs.running)

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
            first = self._anchor.replace(day=1) - timedelta(days=1)
            self._go_to(self._month_anchor(first.year, first.month))

    def go_next(self) -> None:
        if self._week_mode:
            self._go_to(self._anchor + timedelta(days=7))
        else:
            last = self._anchor.replace(day=28) + timedelta(days=4)
            self._go_to(self._month_anchor(last.year, last.month))

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
        self.tabs.setCurrentIndex(0)
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

    # The board tab -------------------------------------------------------------------------------

    def _build_board_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(6)

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
        layout.addWidget(strip)

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
        self.department_filter.setToolTip("只看某个受阻部门的事项")
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
        layout.addLayout(toolbar)
        self.department_filter.currentIndexChanged.connect(self._filters_changed)
        self.site_filter.currentIndexChanged.connect(self._filters_changed)
        self.kind_filter.currentIndexChanged.connect(self._filters_changed)
        self.mine_only.toggled.connect(self._filters_changed)

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
        self.side_panel = self._build_side_panel()
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
            shortcut = QShortcut(keys, tab)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        return tab

    def _build_side_panel(self) -> QWidget:
        side = QWidget()
        side.setMinimumWidth(300)
        side.setMaximumWidth(420)
        column = QVBoxLayout(side)
        column.setContentsMargins(6, 0, 0, 0)
        column.setSpacing(4)
        self.panel_title = QLabel("")
        self.panel_title.setStyleSheet("font-size: 11.5pt; font-weight: bold;")
        self.panel_title.setWordWrap(True)
        column.addWidget(self.panel_title)
        self.panel_subtitle = QLabel("")
        self.panel_subtitle.setObjectName("hint")
        self.panel_subtitle.setWordWrap(True)
        column.addWidget(self.panel_subtitle)
        self.day_items = QListWidget()
        self.day_items.setWordWrap(True)
        self.day_items.setSpacing(2)
        self.day_items.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.day_items.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.day_items.setAlternatingRowColors(True)
        self.day_items.itemDoubleClicked.connect(self._open_item)
        self.day_items.itemActivated.connect(self._open_item)
        column.addWidget(self.day_items, 1)
        hint = QLabel("双击或按回车打开事项")
        hint.setObjectName("hint")
        column.addWidget(hint)

        box = QGroupBox("期限计算（向当事人说明期限怎么算）")
        form = QVBoxLayout(box)
        form.setSpacing(4)
        row = QHBoxLayout()
        row.addWidget(QLabel("自"))
        self.proof_date = _date_edit(self._today)
        self.proof_date.setToolTip("起算日（当天不计入）")
        row.addWidget(self.proof_date)
        row.addWidget(QLabel("起"))
        self.proof_days = QSpinBox()
        self.proof_days.setRange(0, MAX_RULE_DAYS)
        self.proof_days.setValue(PROOF_EXAMPLE_DAYS)
        self.proof_days.setSuffix(" 个工作日")
        row.addWidget(self.proof_days)
        row.addStretch(1)
        form.addLayout(row)
        self.proof_due = QLabel("")
        self.proof_due.setWordWrap(True)
        self.proof_due.setStyleSheet("font-weight: bold;")
        form.addWidget(self.proof_due)
        self.proof_text = QPlainTextEdit()
        self.proof_text.setReadOnly(True)
        self.proof_text.setMinimumHeight(90)
        self.proof_text.setMaximumHeight(150)
        self.proof_text.setStyleSheet("font-size: 9.5pt;")
        form.addWidget(self.proof_text)
        self.proof_date.dateChanged.connect(self._compute_proof)
        self.proof_days.valueChanged.connect(self._compute_proof)
        column.addWidget(box)
        return side

    # The roster tab ------------------------------------------------------------------------------

    def _build_roster_tab(self) -> QWidget:
        tab = QWidget()
        row = QHBoxLayout(tab)
        row.setContentsMargins(8, 8, 8, 6)
        left = QVBoxLayout()
        top = QHBoxLayout()
        roster_previous = QPushButton("◀")
        roster_previous.setFixedWidth(36)
        roster_previous.setToolTip("上一月")
        roster_next = QPushButton("▶")
        roster_next.setFixedWidth(36)
        roster_next.setToolTip("下一月")
        roster_previous.clicked.connect(lambda: self._roster_month(-1))
        roster_next.clicked.connect(lambda: self._roster_month(1))
        self.roster_title = heading("", 12)
        top.addWidget(roster_previous)
        top.addWidget(roster_next)
        top.addWidget(self.roster_title)
        top.addStretch(1)
        left.addLayout(top)
        self.roster_table = QTableWidget(0, 5)
        self.roster_table.setHorizontalHeaderLabels(
            ["日期", "星期", "节假日", "带班领导", "坐窗人员"]
        )
        self.roster_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.roster_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.roster_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.roster_table.verticalHeader().setVisible(False)
        self.roster_table.verticalHeader().setDefaultSectionSize(24)
        header = self.roster_table.horizontalHeader()
        for column, width in enumerate((100, 50, 130)):
            self.roster_table.setColumnWidth(column, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.roster_table.itemSelectionChanged.connect(self._roster_selection_changed)
        self.roster_table.itemDoubleClicked.connect(lambda _item: self.adjust_shift())
        left.addWidget(self.roster_table, 1)
        buttons = QHBoxLayout()
        self.adjust_button = QPushButton("调整…")
        self.adjust_button.setToolTip("给选中的日期换人或取消安排（也可双击该行）")
        self.adjust_button.setEnabled(False)
        self.adjust_button.clicked.connect(self.adjust_shift)
        buttons.addWidget(self.adjust_button)
        self.roster_status = QLabel("")
        self.roster_status.setObjectName("hint")
        self.roster_status.setWordWrap(True)
        buttons.addWidget(self.roster_status, 1)
        left.addLayout(buttons)
        row.addLayout(left, 3)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 6, 0)
        if not self._can_edit:
            side_layout.addWidget(_permission_hint("只有管理员可以修改值班人员和排班。"))

        staff_box = QGroupBox("值班人员")
        staff_layout = QVBoxLayout(staff_box)
        self.staff_lists: dict[DutyRole, QListWidget] = {}
        lists = QHBoxLayout()
        for role in (DutyRole.LEADER, DutyRole.WINDOW):
            column = QVBoxLayout()
            column.addWidget(QLabel(role.label))
            widget = QListWidget()
            widget.setMaximumHeight(110)
            column.addWidget(widget)
            lists.addLayout(column)
            self.staff_lists[role] = widget
        staff_layout.addLayout(lists)
        add_form = QGridLayout()
        self.staff_role = QComboBox()
        for role in (DutyRole.LEADER, DutyRole.WINDOW):
            self.staff_role.addItem(role.label, role.value)
        self.staff_name = QLineEdit()
        self.staff_name.setPlaceholderText("姓名")
        self.staff_title = QLineEdit()
        self.staff_title.setPlaceholderText("职务，如：副主任")
        self.staff_phone = QLineEdit()
        self.staff_phone.setPlaceholderText("电话")
        self.add_staff_button = QPushButton("添加")
        self.add_staff_button.clicked.connect(self.add_staff)
        self.staff_phone.returnPressed.connect(self.add_staff)
        add_form.addWidget(self.staff_role, 0, 0)
        add_form.addWidget(self.staff_name, 0, 1)
        add_form.addWidget(self.staff_title, 1, 0)
        add_form.addWidget(self.staff_phone, 1, 1)
        add_form.addWidget(self.add_staff_button, 1, 2)
        staff_layout.addLayout(add_form)
        self.staff_error = FieldError()
        staff_layout.addWidget(self.staff_error)
        side_layout.addWidget(staff_box)

        generate_box = QGroupBox("生成排班")
        generate = QFormLayout(generate_box)
        self.generate_role = QComboBox()
        for role in (DutyRole.LEADER, DutyRole.WINDOW):
            self.generate_role.addItem(role.label, role.value)
        self.generate_rotation = QComboBox()
        for rotation in Rotation:
            self.generate_rotation.addItem(rotation.label, rotation.value)
        self.generate_people = QListWidget()
        self.generate_people.setMaximumHeight(90)
        self.generate_people.setToolTip("勾选参加轮换的人员（空格键勾选），按列表顺序轮流")
        first = self._anchor.replace(day=1)
        self.generate_start = _date_edit(first)
        self.generate_end = _date_edit(
            first.replace(day=month_calendar.monthrange(first.year, first.month)[1])
        )
        dates = QHBoxLayout()
        dates.addWidget(self.generate_start)
        dates.addWidget(QLabel("至"))
        dates.addWidget(self.generate_end)
        dates.addStretch(1)
        self.generate_weekday = QComboBox()
        for index, name in enumerate(WEEKDAY_NAMES[:5]):
            self.generate_weekday.addItem(name, index)
        self.generate_weekday.setCurrentIndex(2)
        self.generate_period = QComboBox()
        for period in (Period.AM, Period.PM):
            self.generate_period.addItem(period.label, period.value)
        self.generate_period.setCurrentIndex(1)
        weekly = QHBoxLayout()
        weekly.addWidget(self.generate_weekday)
        weekly.addWidget(self.generate_period)
        weekly.addStretch(1)
        generate.addRow("角色", self.generate_role)
        generate.addRow("轮换方式", self.generate_rotation)
        generate.addRow("人员", self.generate_people)
        generate.addRow("日期", dates)
        generate.addRow("每周值班", weekly)
        self.generate_button = QPushButton("生成排班")
        self.generate_button.clicked.connect(self.generate_roster)
        self.generate_error = FieldError()
        generate.addRow(self.generate_button, self.generate_error)
        note = QLabel("只排工作日；会替换该角色在这段日期内原有的排班。")
        note.setObjectName("hint")
        note.setWordWrap(True)
        generate.addRow(note)
        self.generate_role.currentIndexChanged.connect(self._fill_generate_people)
        self.generate_rotation.currentIndexChanged.connect(self._rotation_changed)
        side_layout.addWidget(generate_box)
        side_layout.addStretch(1)
        # Clerks and leaders see who is on duty and how to reach them, not forms they cannot use.
        add_form_widgets = (
            self.staff_role,
            self.staff_name,
            self.staff_title,
            self.staff_phone,
            self.add_staff_button,
        )
        for widget in add_form_widgets:
            widget.setVisible(self._can_edit)
        generate_box.setVisible(self._can_edit)
        self._rotation_changed()

        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumWidth(400)
        row.addWidget(scroll, 2)

        for widget in (
            self.staff_role,
            self.staff_name,
            self.staff_title,
            self.staff_phone,
            self.add_staff_button,
            self.generate_role,
            self.generate_rotation,
            self.generate_people,
            self.generate_start,
            self.generate_end,
            self.generate_weekday,
            self.generate_period,
            self.generate_button,
        ):
            widget.setEnabled(self._can_edit and widget.isEnabled())
        return tab

    # The holidays and rules tab ------------------------------------------------------------------

    def _build_reference_tab(self) -> QWidget:
        tab = QWidget()
        outer = QVBoxLayout(tab)
        outer.setContentsMargins(8, 8, 8, 6)
        self.reference_hint = _permission_hint("只有管理员可以修改节假日和期限规则。")
        self.reference_hint.setVisible(not self._can_edit)
        outer.addWidget(self.reference_hint)
        row = QHBoxLayout()
        outer.addLayout(row, 1)

        left = QVBoxLayout()
        left.addWidget(heading("节假日与调休（本站例外设置）", 12))
        self.years_label = QLabel("")
        self.years_label.setObjectName("hint")
        self.years_label.setWordWrap(True)
        left.addWidget(self.years_label)
        self.overrides_table = QTableWidget(0, 4)
        self.overrides_table.setHorizontalHeaderLabels(["日期", "上班/休息", "名称", "录入人"])
        self.overrides_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.overrides_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.overrides_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.overrides_table.verticalHeader().setVisible(False)
        self.overrides_table.verticalHeader().setDefaultSectionSize(24)
        self.overrides_table.setColumnWidth(0, 140)
        self.overrides_table.setColumnWidth(1, 80)
        self.overrides_table.horizontalHeader().setSectionResizeMode(
            2, QHeaderView.ResizeMode.Stretch
        )
        self.overrides_table.setColumnWidth(3, 100)
        self.overrides_table.itemSelectionChanged.connect(self._override_selected)
        left.addWidget(self.overrides_table, 2)

        editor = QHBoxLayout()
        self.override_date = _date_edit(self._today)
        self.override_working = QComboBox()
        self.override_working.addItem("休息", False)
        self.override_working.addItem("上班", True)
        self.override_name = QLineEdit()
        self.override_name.setPlaceholderText("名称，如：台风停工、调休上班")
        self.save_override_button = QPushButton("保存这一天")
        self.save_override_button.clicked.connect(self.save_override)
        self.override_name.returnPressed.connect(self.save_override)
        self.delete_override_button = QPushButton("删除所选")
        self.delete_override_button.clicked.connect(self.delete_override)
        self.delete_override_button.setEnabled(False)
        editor.addWidget(self.override_date)
        editor.addWidget(self.override_working)
        editor.addWidget(self.override_name, 1)
        editor.addWidget(self.save_override_button)
        editor.addWidget(self.delete_override_button)
        left.addLayout(editor)
        self.override_error = FieldError()
        left.addWidget(self.override_error)

        importing = QHBoxLayout()
        self.import_button = QPushButton("导入国务院节假日安排…")
        self.import_button.setToolTip(
            "CSV 文件，每行“日期,是否上班,名称”，如 2027-10-01,休息,国庆节"
        )
        self.import_button.clicked.connect(self.import_schedule)
        self.complete_year_check = QCheckBox("该文件是某年的完整安排：")
        self.complete_year = QSpinBox()
        self.complete_year.setRange(2000, 2100)
        self.complete_year.setValue(self._today.year + 1)
        self.complete_year.setSuffix(" 年")
        self.complete_year.setEnabled(False)
        self.complete_year_check.toggled.connect(
            lambda on: self.complete_year.setEnabled(on and self._can_edit)
        )
        importing.addWidget(self.import_button)
        importing.addWidget(self.complete_year_check)
        importing.addWidget(self.complete_year)
        importing.addStretch(1)
        left.addLayout(importing)
        self.calendar_status = QLabel("")
        self.calendar_status.setWordWrap(True)
        left.addWidget(self.calendar_status)
        self.recomputed_text = QPlainTextEdit()
        self.recomputed_text.setReadOnly(True)
        self.recomputed_text.setMinimumHeight(90)
        self.recomputed_text.setMaximumHeight(200)
        self.recomputed_text.setPlaceholderText(
            "修改节假日后，受影响事项的期限调整情况显示在这里。"
        )
        left.addWidget(self.recomputed_text, 1)
        row.addLayout(left, 3)

        rules_box = QGroupBox("期限规则（工作日）")
        rules = QFormLayout(rules_box)
        self.rule_spins: dict[RuleKey, QSpinBox] = {}
        for key in RuleKey:
            spin = QSpinBox()
            spin.setRange(0, MAX_RULE_DAYS)
            spin.setSuffix(" 个工作日")
            rules.addRow(key.label, spin)
            self.rule_spins[key] = spin
        self.due_soon_spin = QSpinBox()
        self.due_soon_spin.setRange(0, 10)
        self.due_soon_spin.setSuffix(" 个工作日内")
        self.due_soon_spin.setToolTip("在这几个工作日内到期的事项标为黄色“即将到期”")
        rules.addRow("黄色提醒：到期前", self.due_soon_spin)
        self.save_rules_button = QPushButton("保存")
        self.save_rules_button.setObjectName("primary")
        self.save_rules_button.clicked.connect(self.save_rules)
        rules.addRow(self.save_rules_button)
        self.rules_error = FieldError()
        rules.addRow(self.rules_error)
        self.rules_status = QLabel("")
        self.rules_status.setWordWrap(True)
        rules.addRow(self.rules_status)
        rules_note = QLabel(
            "0 表示当日（遇节假日顺延）。修改后对之后甄别和办结的事项生效，已计算的期限不变。"
        )
        rules_note.setObjectName("hint")
        rules_note.setWordWrap(True)
        rules.addRow(rules_note)
        rules_column = QVBoxLayout()
        rules_column.addWidget(rules_box)
        rules_column.addStretch(1)
        row.addLayout(rules_column, 2)

        for widget in (
            self.override_date,
            self.override_working,
            self.override_name,
            self.save_override_button,
            self.import_button,
            self.complete_year_check,
            self.save_rules_button,
            self.due_soon_spin,
            *self.rule_spins.values(),
        ):
            widget.setEnabled(self._can_edit)
        return tab

    # Loading -------------------------------------------------------------------------------------

    def _query(self) -> BoardQuery:
        return BoardQuery(self._anchor, self._week_mode, self.board_filter(), self._panel)

    def _load_board(self) -> None:
        self._jobs.board += 1
        self._jobs.panel += 1
        board_job, panel_job = self._jobs.board, self._jobs.panel
        query = self._query()
        services = self._services
        self._jobs.running.add(f"board{board_job}")

        def done(data: BoardData) -> None:
            self._jobs.running.discard(f"board{board_job}")
            if board_job == self._jobs.board:
                self._show_board(data, with_panel=panel_job == self._jobs.panel)

        def failed(exc: Exception) -> None:
            self._jobs.running.discard(f"board{board_job}")
            show_error(self, exc)

        self._context.runner.run(lambda: load_board(services, query), done, failed)

    def _load_panel(self) -> None:
        self._jobs.panel += 1
        panel_job = self._jobs.panel
        panel = self._panel
        board_filter = self.board_filter()
        services = self._services
        self._jobs.running.add(f"panel{panel_job}")

        def load() -> tuple[date, TodayCounts, list[DeadlineItem]]:
            today = services.clock.now().date()
            counts = services.deadlines.today(today, board_filter)
            return (
                today,
                counts,
                load_panel(services, panel, today, counts.soon_until, board_filter),
            )

        def done(result: tuple[date, TodayCounts, list[DeadlineItem]]) -> None:
            self._jobs.running.discard(f"panel{panel_job}")
            if panel_job == self._jobs.panel:
                today, counts, items = result
                self._show_panel(panel, items, today, counts)

        def failed(exc: Exception) -> None:
            self._jobs.running.discard(f"panel{panel_job}")
            show_error(self, exc)

        self._context.runner.run(load, done, failed)

    def _load_reference(self) -> None:
        self._jobs.reference += 1
        job = self._jobs.reference
        services = self._services
        self._jobs.running.add(f"reference{job}")

        def done(data: ReferenceData) -> None:
            self._jobs.running.discard(f"reference{job}")
            if job == self._jobs.reference:
                self._show_reference(data)

        def failed(exc: Exception) -> None:
            self._jobs.running.discard(f"reference{job}")
            show_error(self, exc)

        self._context.runner.run(lambda: load_reference(services), done, failed)

    def _on_changed(self, changes: Changes) -> None:
        if changes.cases or changes.settings:
            self._load_board()
        if changes.settings or changes.departments:
            self._load_reference()

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
        self._render_today()
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
        # The roster table is filled when it is looked at: a month of rows is not free.
        self._roster_stale = True
        if self.tabs.currentIndex() == ROSTER_TAB:
            self._show_roster(data)

    def _render_today(self) -> None:
        today = self._today
        self.today_label.setText(f"今天是 {today.year}年{_md(today)} {_weekday(today)}")

    def _render_title(self) -> None:
        anchor = self._anchor
        if self._week_mode:
            start = week_start(anchor)
            end = start + timedelta(days=6)
            self.month_title.setText(f"{start.year}年{_md(start)}—{_md(end)}")
        else:
            self.month_title.setText(f"{anchor.year}年{anchor.month}月")
        self.export_button.setText(f"导出{anchor.month}月PDF…")
        self.roster_title.setText(f"{anchor.year}年{anchor.month}月值班表")

    def _render_counts(self, counts: TodayCounts) -> None:
        self.strip_caption.setText(f"今天 {_md(counts.today)}：")
        specs = (
            (PANEL_DUE_TODAY, f"今日到期 {counts.due_today}", counts.due_today, YELLOW),
            (PANEL_OVERDUE, f"已超期 {counts.overdue}", counts.overdue, RED),
            (
                PANEL_DUE_SOON,
                f"即将到期 {counts.due_soon}（至 {_md(counts.soon_until)}）",
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
        self,
        panel: tuple[str, date | None],
        items: list[DeadlineItem],
        today: date,
        counts: TodayCounts,
    ) -> None:
        mode, day = panel
        self._render_counts(counts)
        subtitle = ""
        if mode == PANEL_OVERDUE:
            title = f"已超期、尚未办结 · {len(items)} 项"
            empty = "没有超期的事项"
        elif mode == PANEL_DUE_TODAY:
            title = f"今天（{_md(today)}）到期 · {len(items)} 项"
            empty = "今天没有到期的事项"
        elif mode == PANEL_DUE_SOON:
            start = today + timedelta(days=1)
            title = f"即将到期（{_md(start)}—{_md(counts.soon_until)}）· {len(items)} 项"
            empty = "近几个工作日没有到期的事项"
        else:
            chosen = day or today
            suffix = "（今天）" if chosen == today else ""
            count = f"{len(items)} 项到期" if items else "无到期事项"
            title = f"{chosen.year}年{_md(chosen)} {_weekday(chosen)}{suffix} · {count}"
            empty = "这一天没有到期的事项"
            cell = self.view.cell(chosen) if self.view else None
            if cell is not None:
                parts = []
                if cell.reason != "工作日":
                    parts.append(cell.reason)
                parts.append(f"带班：{cell.leader}" if cell.leader else "带班：未排班")
                if cell.window:
                    parts.append(f"坐窗：{cell.window}")
                subtitle = "　".join(parts)
        self.panel_title.setText(title)
        self.panel_subtitle.setText(subtitle)
        self.panel_subtitle.setVisible(bool(subtitle))
        self.day_items.clear()
        for item in items:
            self.day_items.addItem(_item_widget(item, with_due=mode != PANEL_DAY))
        if not items:
            self.day_items.addItem(_placeholder(empty))

    def _tab_changed(self, index: int) -> None:
        if index == ROSTER_TAB and self._roster_stale and self.data is not None:
            self._show_roster(self.data)

    def _show_roster(self, data: BoardData) -> None:
        self._roster_stale = False
        view = data.view
        days = [cell for week in view.weeks for cell in week if cell.in_month]
        selected = self._selected_roster_day()
        self.roster_table.setRowCount(len(days))
        focus_row: int | None = None
        for row, cell in enumerate(days):
            holiday = "" if cell.reason == "工作日" else cell.reason
            values = (
                f"{cell.day:%Y-%m-%d}",
                _weekday(cell.day),
                holiday,
                cell.leader or ("" if not cell.working else "—"),
                cell.window,
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column == 0:
                    item.setData(_ID_ROLE, cell.day)
                if not cell.working:
                    item.setBackground(
                        QBrush(QColor(HOLIDAY_SHADE if holiday != "周末" else WEEKEND_SHADE))
                    )
                    item.setForeground(QBrush(QColor(GREY_TEXT)))
                if cell.day == data.today:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.roster_table.setItem(row, column, item)
            if cell.day == selected:
                self.roster_table.selectRow(row)
            if cell.day == (selected or data.today):
                focus_row = row
        if focus_row is not None:
            # After the table has its size, so the row can be centred.
            focus_day = days[focus_row].day
            QTimer.singleShot(0, self.roster_table, lambda: self._scroll_roster_to(focus_day))
        for role, widget in self.staff_lists.items():
            widget.clear()
            people = [p for p in data.staff if p.duty_role is role]
            for person in people:
                parts = [person.name, person.title, person.phone]
                text = "　".join(p for p in parts if p)
                if not person.active:
                    text += "（停用）"
                item = QListWidgetItem(text)
                item.setData(_ID_ROLE, person.id)
                widget.addItem(item)
            if not people:
                widget.addItem(_placeholder("尚未添加"))
        self._fill_generate_people()
        self._roster_selection_changed()

    def _show_reference(self, data: ReferenceData) -> None:
        self.reference = data
        current = self.department_filter.currentData()
        self.department_filter.blockSignals(True)
        self.department_filter.clear()
        self.department_filter.addItem("全部部门", None)
        for department in data.departments:
            self.department_filter.addItem(department.name, department.id)
        self.department_filter.setCurrentIndex(max(0, self.department_filter.findData(current)))
        self.department_filter.blockSignals(False)
        current_site = self.site_filter.currentData()
        self.site_filter.blockSignals(True)
        self.site_filter.clear()
        self.site_filter.addItem("全部县区", None)
        for code, name in data.sites:
            self.site_filter.addItem(name, code)
        self.site_filter.setVisible(len(data.sites) > 1)
        self.site_filter.setCurrentIndex(max(0, self.site_filter.findData(current_site)))
        self.site_filter.blockSignals(False)

        years = data.package_years
        builtin = f"内置节假日数据覆盖 {years[0]}–{years[-1]} 年" if years else "没有内置节假日数据"
        imported = (
            "已导入完整安排的年份：" + "、".join(f"{y}年" for y in data.imported_years)
            if data.imported_years
            else "尚未导入其他年份的完整安排"
        )
        self.years_label.setText(
            f"{builtin}；{imported}。下表的例外设置（如台风停工、补录的调休）优先于内置数据。"
        )
        self.overrides_table.setRowCount(len(data.overrides))
        for row, override in enumerate(data.overrides):
            values = (
                f"{override.day:%Y-%m-%d} {_weekday(override.day)}",
                "上班" if override.working else "休息",
                override.name,
                override.created_by,
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column == 0:
                    item.setData(_ID_ROLE, override.day)
                self.overrides_table.setItem(row, column, item)
        self._override_selected()
        for key, spin in self.rule_spins.items():
            spin.setValue(data.rules.working_days(key))
        self.due_soon_spin.setValue(data.rules.due_soon_days)
        if not self.proof_text.toPlainText():
            self._compute_proof()

    # Board interactions --------------------------------------------------------------------------

    def _month_anchor(self, year: int, month: int) -> date:
        if (year, month) == (self._today.year, self._today.month):
            return self._today
        return date(year, month, 1)

    def _go_to(self, day: date) -> None:
        self._anchor = day
        self._panel = (PANEL_DAY, day)
        self._render_title()
        self._load_board()

    def _roster_month(self, step: int) -> None:
        if step < 0:
            other = self._anchor.replace(day=1) - timedelta(days=1)
        else:
            other = self._anchor.replace(day=28) + timedelta(days=4)
        self._go_to(self._month_anchor(other.year, other.month))

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
        self.day_items.setFocus()
        if self.day_items.count():
            self.day_items.setCurrentRow(0)

    def _open_item(self, item: QListWidgetItem) -> None:
        case_id = item.data(_ID_ROLE)
        if case_id is not None:
            self.open_case.emit(int(case_id))

    def _compute_proof(self) -> None:
        start = _pydate(self.proof_date.date())
        days = self.proof_days.value()
        calendar = self._services.calendar

        def done(deadline: Deadline) -> None:
            if (_pydate(self.proof_date.date()), self.proof_days.value()) != (start, days):
                return  # the clerk has typed on; a newer result is coming
            due = deadline.due
            text = f"期限日：{due.year}年{_md(due)} {_weekday(due)}"
            if deadline.provisional:
                text += "（暂定）"
            self.proof_due.setText(text)
            self.proof_due.setToolTip(f"起算日 {start:%Y-%m-%d} 当天不计入")
            self.proof_due.setStyleSheet(
                f"font-weight: bold; color: {YELLOW if deadline.provisional else BLUE};"
            )
            lines = [*deadline.proof_lines(), *deadline.warnings]
            self.proof_text.setPlainText("\n".join(lines))

        self._context.runner.run(lambda: calendar.calendar().add(start, days), done)

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
            self.export_button.setEnabled(True)
            self.last_export = saved
            self.export_status.setText(f"已导出：{saved}")
            self.export_status.setVisible(True)

        def failed(exc: Exception) -> None:
            self.export_button.setEnabled(True)
            self.export_status.setText("导出未完成。")
            show_error(self, exc)

        self.export_button.setEnabled(False)
        self.export_status.setText("正在生成 PDF…")
        self.export_status.setVisible(True)
        self._context.runner.run(work, done, failed)

    # Roster actions ------------------------------------------------------------------------------

    def _scroll_roster_to(self, day: date) -> None:
        self.roster_table.doItemsLayout()  # the new rows' scroll range, before scrolling
        for row in range(self.roster_table.rowCount()):
            item = self.roster_table.item(row, 0)
            if item is not None and item.data(_ID_ROLE) == day:
                self.roster_table.scrollToItem(item, QAbstractItemView.ScrollHint.PositionAtCenter)
                return

    def _selected_roster_day(self) -> date | None:
        rows = self.roster_table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.roster_table.item(rows[0].row(), 0)
        return None if item is None else item.data(_ID_ROLE)

    def _roster_selection_changed(self) -> None:
        self.adjust_button.setEnabled(self._can_edit and self._selected_roster_day() is not None)

    def _rotation_changed(self) -> None:
        weekly = self.generate_rotation.currentData() == Rotation.WEEKLY_HALF_DAY.value
        self.generate_weekday.setEnabled(weekly and self._can_edit)
        self.generate_period.setEnabled(weekly and self._can_edit)

    def _fill_generate_people(self) -> None:
        role = DutyRole(self.generate_role.currentData())
        checked = set(self.generate_people_ids())
        self.generate_people.clear()
        staff = self.data.staff if self.data else []
        for person in staff:
            if person.duty_role is role and person.active:
                title = f"（{person.title}）" if person.title else ""
                item = QListWidgetItem(f"{person.name}{title}")
                item.setData(_ID_ROLE, person.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked if person.id in checked else Qt.CheckState.Unchecked
                )
                self.generate_people.addItem(item)
        if not self.generate_people.count():
            self.generate_people.addItem(_placeholder(f"请先在上方添加{role.label}"))

    def generate_people_ids(self) -> list[int]:
        ids = []
        for row in range(self.generate_people.count()):
            item = self.generate_people.item(row)
            if item.data(_ID_ROLE) is not None and item.checkState() == Qt.CheckState.Checked:
                ids.append(int(item.data(_ID_ROLE)))
        return ids

    def add_staff(self) -> None:
        if not self._can_edit:
            return
        self.staff_error.set_message(None)
        actor, roster = self._actor, self._services.roster
        role = DutyRole(self.staff_role.currentData())
        name, title, phone = (
            self.staff_name.text(),
            self.staff_title.text(),
            self.staff_phone.text(),
        )

        def done(result: tuple[StaffInfo, Changes]) -> None:
            person, changes = result
            for widget in (self.staff_name, self.staff_title, self.staff_phone):
                widget.clear()
            self.roster_status.setText(f"已添加{person.duty_role.label}“{person.name}”。")
            self.staff_name.setFocus()
            self._context.hub.publish(changes)

        self._context.runner.run(
            lambda: roster.save_staff(actor, name=name, duty_role=role, title=title, phone=phone),
            done,
            lambda exc: self._field_failure(exc, self.staff_error),
        )

    def generate_roster(self) -> None:
        if not self._can_edit:
            return
        self.generate_error.set_message(None)
        plan = RotationPlan(
            duty_role=DutyRole(self.generate_role.currentData()),
            rotation=Rotation(self.generate_rotation.currentData()),
            staff_ids=tuple(self.generate_people_ids()),
            start=_pydate(self.generate_start.date()),
            end=_pydate(self.generate_end.date()),
            weekday=int(self.generate_weekday.currentData()),
            period=Period(self.generate_period.currentData()),
        )
        actor, roster = self._actor, self._services.roster

        def done(result: tuple[int, Changes]) -> None:
            count, changes = result
            self.roster_status.setText(
                f"已生成 {plan.start:%Y-%m-%d} 至 {plan.end:%Y-%m-%d} 的"
                f"{plan.duty_role.label}排班，共 {count} 班。"
            )
            self._context.hub.publish(changes)

        self._context.runner.run(
            lambda: roster.generate(actor, plan),
            done,
            lambda exc: self._field_failure(exc, self.generate_error),
        )

    def adjust_shift(self) -> None:
        day = self._selected_roster_day()
        if not self._can_edit or day is None or self.data is None:
            return
        shifts = [s for s in self.data.shifts if s.day == day]
        dialog = ShiftDialog(day, self.data.staff, shifts, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._apply_shift(dialog))
        dialog.destroyed.connect(lambda: setattr(self, "shift_dialog", None))
        self.shift_dialog = dialog
        dialog.open()

    def _apply_shift(self, dialog: ShiftDialog) -> None:
        day = dialog.day
        role, staff_id, period, note = dialog.values()
        actor, roster = self._actor, self._services.roster
        name = dialog.person.currentText()

        def done(changes: Changes) -> None:
            who = "不安排" if staff_id is None else name
            self.roster_status.setText(f"{day:%Y-%m-%d} 的{role.label}已调整为：{who}。")
            self._context.hub.publish(changes)

        self._context.runner.run(
            lambda: roster.set_shift(actor, day, role, staff_id, period=period, note=note), done
        )

    # Holiday and rule actions --------------------------------------------------------------------

    def _override_selected(self) -> None:
        rows = self.overrides_table.selectionModel().selectedRows()
        self.delete_override_button.setEnabled(self._can_edit and bool(rows))
        if not rows or self.reference is None:
            return
        row = rows[0].row()
        if row >= len(self.reference.overrides):
            return
        override = self.reference.overrides[row]
        self.override_date.setDate(_qdate(override.day))
        self.override_working.setCurrentIndex(1 if override.working else 0)
        self.override_name.setText(override.name)

    def save_override(self) -> None:
        if not self._can_edit:
            return
        day = _pydate(self.override_date.date())
        working = bool(self.override_working.currentData())
        name = self.override_name.text()
        actor, calendar = self._actor, self._services.calendar
        self.override_error.set_message(None)

        def done(result: tuple[list[Recomputed], Changes]) -> None:
            moved, changes = result
            state = "上班" if working else "休息"
            self.calendar_status.setText(
                f"已保存：{day:%Y-%m-%d} {_weekday(day)} {state}（{name.strip() or '未命名'}）。"
            )
            self.recomputed_text.setPlainText(recomputed_text(moved))
            self._context.hub.publish(changes)

        self._context.runner.run(
            lambda: calendar.save_override(actor, day, working=working, name=name),
            done,
            lambda exc: self._field_failure(exc, self.override_error),
        )

    def delete_override(self) -> None:
        rows = self.overrides_table.selectionModel().selectedRows()
        if not self._can_edit or not rows or self.reference is None:
            return
        day = self.reference.overrides[rows[0].row()].day
        actor, calendar = self._actor, self._services.calendar

        def done(result: tuple[list[Recomputed], Changes]) -> None:
            moved, changes = result
            self.calendar_status.setText(f"已删除 {day:%Y-%m-%d} 的例外设置，恢复按内置数据计算。")
            self.recomputed_text.setPlainText(recomputed_text(moved))
            self._context.hub.publish(changes)

        self._context.runner.run(lambda: calendar.delete_override(actor, day), done)

    def import_schedule(self) -> None:
        if not self._can_edit:
            return
        path, _selected = QFileDialog.getOpenFileName(
            self,
            "选择节假日安排文件",
            str(Path.home()),
            "CSV 文件 (*.csv *.txt);;所有文件 (*)",
        )
        if not path:
            return
        source = Path(path)
        years = [self.complete_year.value()] if self.complete_year_check.isChecked() else []
        actor, calendar = self._actor, self._services.calendar

        def work() -> tuple[list[Recomputed], Changes]:
            text = _read_schedule(source)
            return calendar.import_csv(actor, text, complete_years=years, source=source.name)

        def done(result: tuple[list[Recomputed], Changes]) -> None:
            moved, changes = result
            complete = f"，并标记 {years[0]} 年已完整录入" if years else ""
            self.calendar_status.setText(f"已导入 {source.name}{complete}。")
            self.recomputed_text.setPlainText(recomputed_text(moved))
            self._context.hub.publish(changes)

        self.calendar_status.setText(f"正在导入 {source.name}…")
        self._context.runner.run(
            work, done, lambda exc: self._field_failure(exc, self.override_error)
        )

    def save_rules(self) -> None:
        if not self._can_edit:
            return
        days = {key: spin.value() for key, spin in self.rule_spins.items()}
        due_soon = self.due_soon_spin.value()
        actor, calendar = self._actor, self._services.calendar
        self.rules_error.set_message(None)

        def done(changes: Changes) -> None:
            self.rules_status.setText("已保存期限规则。")
            self.rules_status.setStyleSheet(f"color: {GREEN};")
            self._context.hub.publish(changes)

        self._context.runner.run(
            lambda: calendar.save_rules(actor, days, due_soon),
            done,
            lambda exc: self._field_failure(exc, self.rules_error),
        )

    def _field_failure(self, exc: Exception, label: FieldError) -> None:
        """Input the service refused: the message beside the form; anything else as usual."""
        if isinstance(exc, UserError):
            label.set_message(exc.message)
        else:
            show_error(self, exc)


def _permission_hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(
        f"color: {ACCENT}; background: #fdf2f2; border: 1px solid #f5c6cb;"
        " border-radius: 4px; padding: 4px 8px;"
    )
    return label
