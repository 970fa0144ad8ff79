"""What each tab of the calendar reads, loaded on the worker as plain data (no Qt here).

Each tab asks for its own: the board for the month's deadlines and its filters, the roster for
the month's duty days and people, the holidays tab for overrides and rules.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from desktop_app.domain.deadlines import DayCell, DeadlineRules, MonthView
from desktop_app.errors import UserError
from desktop_app.services.app import AppServices
from desktop_app.services.calendar import OverrideInfo
from desktop_app.services.deadlines import BoardFilter, DeadlineItem, TodayCounts
from desktop_app.services.roster import ShiftInfo, StaffInfo
from desktop_app.services.site import DepartmentInfo
from desktop_app.ui.calendar.looks import (
    PANEL_DUE_SOON,
    PANEL_DUE_TODAY,
    PANEL_OVERDUE,
    Panel,
    week_start,
)


@dataclass(frozen=True)
class BoardQuery:
    anchor: date
    week: bool
    board_filter: BoardFilter
    panel: Panel


@dataclass(frozen=True)
class BoardData:
    query: BoardQuery
    today: date
    view: MonthView
    counts: TodayCounts
    panel_items: list[DeadlineItem]
    week_items: dict[date, list[DeadlineItem]]
    today_leader: str


@dataclass(frozen=True)
class PanelData:
    panel: Panel
    today: date
    counts: TodayCounts
    items: list[DeadlineItem]


@dataclass(frozen=True)
class FilterChoices:
    departments: list[DepartmentInfo]
    sites: list[tuple[str, str]]  # (code, name): the city offers a filter by county


@dataclass(frozen=True)
class ReferenceData:
    overrides: list[OverrideInfo]
    imported_years: list[int]
    package_years: list[int]
    rules: DeadlineRules


@dataclass(frozen=True)
class RosterData:
    year: int
    month: int
    today: date
    days: list[DayCell]  # the month's own days, with holidays and who is on duty
    shifts: list[ShiftInfo]
    staff: list[StaffInfo]


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, month_calendar.monthrange(year, month)[1])


def load_panel(
    services: AppServices,
    panel: Panel,
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


def load_panel_data(services: AppServices, panel: Panel, board_filter: BoardFilter) -> PanelData:
    """The side panel's list with today's figures (the strip is redrawn with it)."""
    today = services.clock.now().date()
    counts = services.deadlines.today(today, board_filter)
    items = load_panel(services, panel, today, counts.soon_until, board_filter)
    return PanelData(panel, today, counts, items)


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
    return BoardData(
        query=query,
        today=today,
        view=view,
        counts=counts,
        panel_items=load_panel(services, query.panel, today, counts.soon_until, query.board_filter),
        week_items=week_items,
        today_leader=leader.staff_name if leader else "",
    )


def load_filters(services: AppServices) -> FilterChoices:
    return FilterChoices(
        departments=services.site.filter_departments(), sites=services.ledger.case_sites()
    )


def load_roster(services: AppServices, year: int, month: int) -> RosterData:
    today = services.clock.now().date()
    view = services.deadlines.month(year, month, today)
    first, last = month_bounds(year, month)
    return RosterData(
        year=year,
        month=month,
        today=today,
        days=[cell for week in view.weeks for cell in week if cell.in_month],
        shifts=services.roster.shifts(first, last),
        staff=services.roster.staff(),
    )


def load_reference(services: AppServices) -> ReferenceData:
    imported = services.calendar.imported_years()
    known = services.calendar.calendar().known_years()
    return ReferenceData(
        overrides=services.calendar.overrides(),
        imported_years=imported,
        package_years=sorted(set(known) - set(imported)),
        rules=services.calendar.rules(),
    )


def read_schedule(path: Path) -> str:
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
