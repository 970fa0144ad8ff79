"""How a day and a deadline look, decided without painting: tested as plain data.

:func:`cell_look` decides a day of the month sheet, :func:`item_text` a deadline in a list; the
widgets in :mod:`desktop_app.ui.calendar.grid` only show what these return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from desktop_app.domain.deadlines import DayCell, DeadlineState
from desktop_app.domain.workdays import WEEKDAY_NAMES
from desktop_app.services.calendar import Recomputed
from desktop_app.services.deadlines import DeadlineItem
from desktop_app.ui.theme import RED, YELLOW

BLUE = "#1f618d"  # today, and counts that are not yet pressing
GREY_TEXT = "#566573"
DIM_TEXT = "#aab2b7"
GRID_LINE = "#d5d8dc"
HOLIDAY_SHADE = "#e3e6e9"
WEEKEND_SHADE = "#f1f3f4"
OVERDUE_TINT = "#fbe5e3"
DUE_TINT = "#fcf3d9"
OUTSIDE_MONTH = "#fafafa"

_NO_HOLIDAY_REASONS = ("工作日", "周末")

# What the board's side panel lists: one day, or one of the today strip's figures.
PANEL_DAY = "day"
PANEL_DUE_TODAY = "due_today"
PANEL_OVERDUE = "overdue"
PANEL_DUE_SOON = "due_soon"

Panel = tuple[str, date | None]


def month_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def weekday_name(day: date) -> str:
    return WEEKDAY_NAMES[day.weekday()]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def state_colour(state: DeadlineState) -> str:
    """Red overdue, amber due today or soon, blue otherwise (DESIGN.md §4)."""
    if state is DeadlineState.OVERDUE:
        return RED
    if state in (DeadlineState.DUE_TODAY, DeadlineState.DUE_SOON):
        return YELLOW
    return BLUE


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

    tip = [f"{cell.day.year}年{month_day(cell.day)} {weekday_name(cell.day)}", cell.reason]
    if not cell.known:
        tip.append("该年放假安排尚未录入，暂按放假办法推算（不含调休）")
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


def item_text(
    item: DeadlineItem,
    *,
    with_due: bool = True,
    narrow: bool = False,
    fits: Callable[[str], bool] | None = None,
) -> str:
    """A deadline as the right panel lists it: number, kind, state; who and what; where, when.

    ``narrow``: a column of the week view, where ``fits`` says whether a line fits its width:
    a number that does not is broken after its site's name (杞县- / 2026-0020), not wherever
    the line breaks (at 125 % it broke after 杞)."""
    state = item.state.label + ("（暂定）" if item.provisional else "")
    if narrow:  # a column of the week view
        number = item.number
        prefix, dash, rest = number.partition("-")
        if fits is not None and dash and not fits(number):
            number = f"{prefix}{dash}\n{rest}"
        return "\n".join(
            [
                number,
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
    lines.append(f"{where}　{month_day(item.due)}到期" if with_due else where)
    return "\n".join(lines)


# The moves a schedule's confirmation lists; the rest are counted (all are listed after it).
_LISTED_MOVES = 8


def moves_to_confirm(moved: list[Recomputed]) -> str:
    """What an import would move, for its confirmation: deadlines still to be met, of open
    cases (办理期限) and of concluded ones (回访, 书面依据)."""
    if not moved:
        return "没有事项的期限会因此改变。"
    cases = len({m.case_number for m in moved})
    lines = [
        f"将有 {cases} 件事项的 {len(moved)} 个期限随之调整（导入后逐项记入各事项的办理过程）："
    ]
    lines += [f"{m.case_number} {m.what} {_move(m)}" for m in moved[:_LISTED_MOVES]]
    if len(moved) > _LISTED_MOVES:
        lines.append(f"……另有 {len(moved) - _LISTED_MOVES} 个，导入后全部列在下方。")
    return "\n".join(lines)


def _move(m: Recomputed) -> str:
    """12-10→12-11 (the year said only when the move crosses one): one line a move in the
    question's narrow box, which wrapped each full date pair onto a second line."""
    form = "%m-%d" if m.before.year == m.after.year else "%Y-%m-%d"
    return f"{m.before:{form}}→{m.after:{form}}"


def recomputed_text(moved: list[Recomputed]) -> str:
    if not moved:
        return "没有未办结事项的期限因此改变。"
    lines = [f"以下 {len(moved)} 项期限已随之调整，并已记入各事项的办理过程："]
    lines += [
        f"{m.case_number} {m.what}由 {m.before:%Y-%m-%d} 调整为 {m.after:%Y-%m-%d}" for m in moved
    ]
    return "\n".join(lines)
