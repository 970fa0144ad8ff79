"""Department scorecards and the 量化管理评分表 (issue 17), as plain records and rules.

A scorecard row is what one department did with the assignments it received in a period; its
rates are domain/statistics.py ``Rate`` objects, so every figure carries its denominator. The
scoring sheet is a template the administrator edits (stored as plain text, one item a line:
``名称|分值|计算项``); an item naming a computed measure is filled in as points × rate, the others
are left blank for the inspector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Protocol

from desktop_app.domain.statistics import Rate
from desktop_app.domain.vocabulary import LabelledEnum

DEFAULT_RANKING_MIN_VOLUME = 5


class Measure(LabelledEnum):
    """A computed item the scoring sheet can fill in: each is a rate of the department's row,
    or of the window's own figures (the last two: a department's sheet reads them 不适用)."""

    SATISFACTION = "satisfaction", "满意率"
    ON_TIME = "on_time", "按期办结率"
    ON_TIME_ORIGINAL = "on_time_original", "按原期限办结率"
    NOT_RETURNED = "not_returned", "交办签收率（未退回）"
    VISITED = "visited", "回访率"
    CASE_ON_TIME = "case_on_time", "事项按期办结率"


# The measures of the window's own sheet only: a department does not visit or conclude cases.
WINDOW_ONLY: Final = frozenset({Measure.VISITED, Measure.CASE_ON_TIME})


@dataclass(frozen=True)
class DepartmentScore:
    """One department's figures for a period (assignments issued to it in the period)."""

    department_id: int
    department: str
    received: int  # assignments issued to it (drafts and voided ones never reached it)
    responded: int
    on_time: Rate  # against the deadline in force; open and past it counted as late
    on_time_original: Rate  # the same against the original deadline
    late: int  # finished after the deadline in force, or open and already past it
    extended: int  # an extension approved
    returned: int  # sent back as not theirs (退回)
    urged: int  # 催办 sent
    supervised: int  # 督办 assignments among those received
    working_days_median: float | None  # issue to response, working days (nearest rank)
    working_days_p90: float | None
    satisfaction: Rate  # its cases' return visits: satisfied (any grade that does not reopen)
    referrals: int  # accountability referrals proposed over its assignments

    def rate(self, measure: Measure) -> Rate | None:
        """The rate a computed scoring item reads; None for the window's own measures."""
        if measure in WINDOW_ONLY:
            return None
        if measure is Measure.SATISFACTION:
            return self.satisfaction
        if measure is Measure.ON_TIME:
            return self.on_time
        if measure is Measure.ON_TIME_ORIGINAL:
            return self.on_time_original
        return Rate(self.received - self.returned, self.received)


@dataclass(frozen=True)
class WindowScore:
    """The window's own figures for a period, as the 分析通报 computes them (cases received in
    the period; their 交办 rounds; their return visits): what its scoring sheet reads."""

    name: str  # the window scored, e.g. 杞县纪委监委“办不成事”监督窗口
    rates: Mapping[Measure, Rate]

    def rate(self, measure: Measure) -> Rate | None:
        return self.rates.get(measure)


class Rated(Protocol):
    def rate(self, measure: Measure) -> Rate | None: ...


@dataclass(frozen=True)
class Scorecard:
    period_from: date
    period_to: date
    today: date  # the day "open and already past the deadline" was judged on
    rows: tuple[DepartmentScore, ...]  # by department name
    ranking: tuple[str, ...]  # department names by on-time rate, best first, the small left out
    minimum_volume: int

    def rank_of(self, department: str) -> int | None:
        """1 for the best; None for a department left out of the ranking."""
        try:
            return self.ranking.index(department) + 1
        except ValueError:
            return None


# The scoring template ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringItem:
    name: str
    points: float
    measure: Measure | None  # None: the inspector scores it by hand


DEFAULT_TEMPLATE_TEXT = "\n".join(
    [
        "群众满意率|10|satisfaction",
        "按期办结率|10|on_time",
        "交办事项签收办理（未退回）|5|not_returned",
        "窗口规范化建设|10|",
        "台账资料完整规范|10|",
        "问题整改落实|15|",
    ]
)


# The window's own sheet (seed 002: the 纪委监委's inspectors score each window's running, calling
# back a concluded matter's complainant for its 满意率): its figures are the 分析通报's.
DEFAULT_WINDOW_TEMPLATE_TEXT = "\n".join(
    [
        "群众满意率|20|satisfaction",
        "回访率|10|visited",
        "交办事项按期办结率|15|on_time",
        "事项按期办结率|10|case_on_time",
        "登记规范（要素齐全、出具回执）|10|",
        "台账资料完整规范|10|",
        "问责线索移交与一类事整改|15|",
        "窗口建设（制度上墙、人员在岗）|10|",
    ]
)
NOT_APPLICABLE = "不适用"


def parse_template(text: str) -> tuple[ScoringItem, ...]:
    """The items of a template's text; ValueError (in Chinese) naming the first bad line."""
    items: list[ScoringItem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) not in (2, 3) or not parts[0]:
            raise ValueError(f"第{number}行应为“项目|分值|计算项（可空）”")
        try:
            points = float(parts[1])
        except ValueError:
            raise ValueError(f"第{number}行的分值“{parts[1]}”不是数字") from None
        if not 0 < points <= 100:
            raise ValueError(f"第{number}行的分值应在0到100之间")
        code = parts[2] if len(parts) == 3 else ""
        try:
            measure = Measure(code) if code else None
        except ValueError:
            known = "、".join(f"{m.value}={m.label}" for m in Measure)
            raise ValueError(f"第{number}行的计算项“{code}”不认识（可用：{known}）") from None
        items.append(ScoringItem(parts[0], points, measure))
    if not items:
        raise ValueError("评分表至少要有一项")
    return tuple(items)


@dataclass(frozen=True)
class SheetLine:
    item: ScoringItem
    score: float | None  # None: left blank (an inspector's item, or a rate with nothing counted)
    basis: str  # the rate behind a computed score, e.g. 85.0%（17/20）; "" for a blank item


def sheet_lines(items: tuple[ScoringItem, ...], row: Rated) -> tuple[SheetLine, ...]:
    """The template filled in for one department or the window: computed items get points ×
    rate; a measure that is not the row's (回访率 on a department's sheet) is left blank."""
    lines = []
    for item in items:
        if item.measure is None:
            lines.append(SheetLine(item, None, ""))
            continue
        measured = row.rate(item.measure)
        if measured is None:
            lines.append(SheetLine(item, None, NOT_APPLICABLE))
            continue
        value = measured.value
        score = None if value is None else round(item.points * value, 1)
        lines.append(SheetLine(item, score, measured.text()))
    return tuple(lines)
