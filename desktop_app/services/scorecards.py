"""Department scorecards (issue 17): what each department did with the assignments it received.

The figures are counted here from the assignments' own columns and judged with the report
formulas of domain/statistics.py (``on_time_rate``, ``percentile``, ``ranked``), so the scorecard,
the bulletin and the dashboard agree on what "on time" means. An assignment belongs to the period
it was issued in; drafts and voided assignments never reached a department and are not counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from desktop_app.documents.scorecard_xlsx import write_scorecard_xlsx
from desktop_app.documents.scoring_sheet import ScoringSheetContent, render_scoring_sheets
from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState, ExtensionState
from desktop_app.domain.permissions import Permission
from desktop_app.domain.scoring import (
    DepartmentScore,
    Measure,
    Scorecard,
    ScoringItem,
    WindowScore,
    parse_template,
    sheet_lines,
)
from desktop_app.domain.settings import (
    RANKING_MIN_VOLUME,
    SCORING_TEMPLATE,
    WINDOW_SCORING_TEMPLATE,
)
from desktop_app.domain.statistics import Rate, Round, on_time_rate, percentile, ranked
from desktop_app.domain.vocabulary import ReferralState, SiteLevel, VisitGrade
from desktop_app.domain.workdays import DateOutOfRange, WorkdayCalendar
from desktop_app.errors import EnvironmentProblem, ValidationFailed, cannot_write
from desktop_app.services import audit, settings
from desktop_app.services.calendar import CalendarService
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.reference import department_labels
from desktop_app.services.site import read_paper_settings
from desktop_app.services.statistics import Period, StatisticsService
from desktop_app.storage.database import Database
from desktop_app.storage.models import Assignment, Case, Department, Referral, Site

# Reached the department: issued, and not voided. A returned one counts as received and returned.
_NOT_RECEIVED = (AssignmentState.DRAFT.value, AssignmentState.VOIDED.value)
_Row = tuple[int, str, str, str, date, date, datetime | None, datetime | None, str, bool]
# Rounds judged for on-time: the department had it to do. A returned one was not its matter; one
# closed with the case (随办结关闭) without a response was taken out of its hands.
_JUDGED = frozenset({AssignmentState.ISSUED, AssignmentState.RECEIVED, AssignmentState.RESPONDED})


@dataclass
class _Tally:
    name: str
    received: int = 0
    responded: int = 0
    rounds: list[Round] = field(default_factory=list)
    extended: int = 0
    returned: int = 0
    urged: int = 0
    supervised: int = 0
    working_days: list[float] = field(default_factory=list)
    referrals: int = 0


@dataclass(frozen=True)
class ScoringSettings:
    template: str  # one item a line: 名称|分值|计算项 (domain/scoring.py)
    minimum_volume: int  # assignments a department needs to be ranked
    window_template: str  # the window's own sheet, the same way


class ScorecardService:
    def __init__(self, db: Database, clock: Clock, calendar: CalendarService) -> None:
        self.db = db
        self.clock = clock
        self.calendar = calendar

    def scorecard(self, actor: Actor, period_from: date, period_to: date) -> Scorecard:
        """Every department that received an assignment issued in [period_from, period_to].

        Late and open past the deadline are judged as of the clock's today."""
        actor.require(Permission.VIEW_CASES)
        if period_to < period_from:
            raise ValidationFailed({"period": "结束日期早于开始日期"})
        today = self.clock.now().date()
        start = datetime.combine(period_from, time.min)
        end = datetime.combine(period_to + timedelta(days=1), time.min)
        in_period = (
            Assignment.issued_at >= start,
            Assignment.issued_at < end,
            Assignment.state.not_in(_NOT_RECEIVED),
        )
        working_days = _WorkingDays(self.calendar.calendar())
        tallies: dict[int, _Tally] = {}
        with self.db.read() as session:
            # Two departments of one name (a city holds every county's) are told apart: the
            # ranking is by name.
            labels = department_labels(session)
            rows = session.execute(
                select(
                    Assignment.department_id,
                    Department.name,
                    Assignment.kind,
                    Assignment.state,
                    Assignment.due_date,
                    Assignment.original_due_date,
                    Assignment.issued_at,
                    Assignment.responded_at,
                    Assignment.extension_state,
                    Assignment.urged_at.is_not(None),
                )
                .join(Department, Assignment.department_id == Department.id)
                .where(*in_period)
            )
            for row in rows:
                tally = tallies.get(row[0])
                if tally is None:
                    tally = tallies[row[0]] = _Tally(labels.get(row[0], row[1]))
                _count(tally, row, working_days)
            grades = _grades(session, in_period)
            for department_id, name, referrals in session.execute(_referrals(start, end)):
                if department_id not in tallies:  # referred, with nothing assigned this period
                    tallies[department_id] = _Tally(labels.get(department_id, name))
                tallies[department_id].referrals = referrals
            minimum = settings.read(session, RANKING_MIN_VOLUME)
        scores = [
            _score(department_id, tally, today, grades.get(department_id, []))
            for department_id, tally in sorted(tallies.items(), key=lambda kv: kv[1].name)
        ]
        ranking = ranked(
            {s.department: s.received for s in scores},
            {s.department: s.on_time.value for s in scores},
            minimum=minimum,
        )
        return Scorecard(
            period_from=period_from,
            period_to=period_to,
            today=today,
            rows=tuple(scores),
            ranking=tuple(ranking),
            minimum_volume=minimum,
        )

    def scoring_settings(self) -> ScoringSettings:
        """The template's text and the ranking's minimum volume, as stored."""
        with self.db.read() as session:
            return ScoringSettings(
                template=settings.read(session, SCORING_TEMPLATE),
                minimum_volume=settings.read(session, RANKING_MIN_VOLUME),
                window_template=settings.read(session, WINDOW_SCORING_TEMPLATE),
            )

    def save_scoring_settings(self, actor: Actor, chosen: ScoringSettings) -> Changes:
        """The administrator's template and minimum volume (checked against their declarations,
        audited if changed)."""
        settings.require(actor, SCORING_TEMPLATE, RANKING_MIN_VOLUME, WINDOW_SCORING_TEMPLATE)
        with self.db.write() as session:
            changed = audit.write_settings(
                session,
                actor,
                {
                    SCORING_TEMPLATE: chosen.template.strip(),
                    RANKING_MIN_VOLUME: chosen.minimum_volume,
                    WINDOW_SCORING_TEMPLATE: chosen.window_template.strip(),
                },
                at=self.clock.now(),
                action="save_scoring_settings",
                entity_uuid="scorecard",
            )
        return Changes(settings=True) if changed else Changes()

    def template(self) -> tuple[ScoringItem, ...]:
        """The 量化管理评分表's items as the administrator set them."""
        with self.db.read() as session:
            return parse_template(settings.read(session, SCORING_TEMPLATE))

    def sheets(
        self, actor: Actor, card: Scorecard, department_ids: Iterable[int] | None = None
    ) -> list[ScoringSheetContent]:
        """The 量化管理评分表 of each department of ``card`` (or of ``department_ids``), the
        template's computed items filled in from its row."""
        actor.require(Permission.VIEW_CASES)
        wanted = set(department_ids) if department_ids is not None else None
        with self.db.read() as session:
            items = parse_template(settings.read(session, SCORING_TEMPLATE))
            site_name = session.scalar(select(Site.name).where(Site.is_local.is_(True))) or ""
            issuer = read_paper_settings(session).issuer(site_name)
        made_at = self.clock.now()
        return [
            ScoringSheetContent(
                issuer=issuer,
                department=row.department,
                period_from=card.period_from,
                period_to=card.period_to,
                judged_on=card.today,
                lines=sheet_lines(items, row),
                made_at=made_at,
            )
            for row in card.rows
            if wanted is None or row.department_id in wanted
        ]

    def window_sheets(
        self, actor: Actor, period_from: date, period_to: date, site_code: str | None = None
    ) -> list[ScoringSheetContent]:
        """The 量化管理评分表 of the window itself (seed 002: the 纪委监委's inspectors score each
        window's running, and call back a concluded matter's complainant for its 满意率), the
        computed items from the 分析通报's figures of the cases received in the period. At a
        city, a page for its own window and one for each registered county (from the cases the
        county sent), or for ``site_code`` alone."""
        actor.require(Permission.VIEW_CASES)
        if period_to < period_from:
            raise ValidationFailed({"period": "结束日期早于开始日期"})
        with self.db.read() as session:
            items = parse_template(settings.read(session, WINDOW_SCORING_TEMPLATE))
            local = session.scalars(select(Site).where(Site.is_local.is_(True))).one()
            issuer = read_paper_settings(session).issuer(local.name)
            windows: list[tuple[str | None, str]] = [(local.code, issuer)]
            if local.level == SiteLevel.CITY.value:
                windows += [
                    (code, name)
                    for code, name in session.execute(
                        select(Site.code, Site.name)
                        .where(Site.is_local.is_(False), Site.level == SiteLevel.COUNTY.value)
                        .order_by(Site.code)
                    )
                ]
            else:
                windows = [(None, issuer)]  # every case here is the county's own
        if site_code is not None:
            windows = [w for w in windows if w[0] in (site_code, None)]
            if not windows:
                raise ValidationFailed({"site": f"没有登记代码为 {site_code} 的县区"})
        statistics = StatisticsService(self.db, self.clock, self.calendar)
        period = Period(period_from, period_to)
        made_at = self.clock.now()
        sheets = []
        for code, name in windows:
            stats = statistics.period_statistics(actor, period, site_code=code, compare=False)
            returned = stats.handling.returns
            score = WindowScore(
                name,
                {
                    Measure.SATISFACTION: stats.satisfied_rate,
                    Measure.VISITED: stats.visit_rate,
                    Measure.ON_TIME: stats.on_time,
                    Measure.ON_TIME_ORIGINAL: stats.on_time_original,
                    Measure.CASE_ON_TIME: stats.case_on_time,
                    Measure.NOT_RETURNED: Rate(stats.rounds, stats.rounds + returned),
                },
            )
            sheets.append(
                ScoringSheetContent(
                    issuer=issuer,
                    department=name,
                    period_from=period_from,
                    period_to=period_to,
                    judged_on=stats.today,
                    lines=sheet_lines(items, score),
                    made_at=made_at,
                    window=True,
                )
            )
        return sheets

    def export_window(
        self,
        actor: Actor,
        period_from: date,
        period_to: date,
        out: Path,
        site_code: str | None = None,
    ) -> Path:
        """Writes the window's scoring sheets (``window_sheets``) to ``out`` (.pdf)."""
        if out.suffix.lower() != ".pdf":
            raise ValidationFailed({"out": "窗口评分表请保存为 .pdf"})
        render_scoring_sheets(self.window_sheets(actor, period_from, period_to, site_code), out=out)
        return out

    def export(
        self, actor: Actor, card: Scorecard, out: Path, department_ids: Iterable[int] | None = None
    ) -> Path:
        """Writes ``card`` as .xlsx, or as the scoring sheets (.pdf), by ``out``'s suffix."""
        if out.suffix.lower() == ".pdf":
            sheets = self.sheets(actor, card, department_ids)
            if not sheets:
                raise ValidationFailed({"department": "所选期间没有部门收到交办，无评分表可打印"})
            render_scoring_sheets(sheets, out=out)
            return out
        if out.suffix.lower() != ".xlsx":
            raise ValidationFailed({"out": "请保存为 .xlsx（Excel）或 .pdf（评分表）"})
        actor.require(Permission.VIEW_CASES)
        try:
            write_scorecard_xlsx(card, out)  # whole or not at all
        except OSError as error:
            raise EnvironmentProblem(cannot_write(error, out, "Excel 文件")) from error
        return out


def _grades(
    session: Session, in_period: tuple[ColumnElement[bool], ...]
) -> dict[int, list[VisitGrade]]:
    """The return-visit grades of each department's cases: those it led (not only assisted on)
    and did not send back, each case once however many of its assignments the period holds."""
    rows = session.execute(
        select(Assignment.department_id, Case.id, Case.visit_grade)
        .join(Case, Assignment.case_id == Case.id)
        .where(
            *in_period,
            Assignment.kind != AssignmentKind.ASSIST.value,
            Assignment.state != AssignmentState.RETURNED.value,
            Case.visit_grade.is_not(None),
        )
        .distinct()
    )
    grades: dict[int, list[VisitGrade]] = defaultdict(list)
    for department_id, _case_id, grade in rows:
        if grade:
            grades[department_id].append(VisitGrade(grade))
    return grades


class _WorkingDays:
    """Working days from issue to response, each pair of days counted once (a year's
    assignments share a few thousand pairs)."""

    def __init__(self, calendar: WorkdayCalendar) -> None:
        self._calendar = calendar
        self._known: dict[tuple[date, date], int | None] = {}

    def between(self, start: date, end: date) -> int | None:
        key = (start, end)
        if key not in self._known:
            try:
                self._known[key] = self._calendar.between(start, end)
            except DateOutOfRange:
                # A year the calendar does not know is left out of the median, not guessed.
                self._known[key] = None
        return self._known[key]


_RESPONDED = AssignmentState.RESPONDED.value
_RETURNED = AssignmentState.RETURNED.value
_JUDGED_VALUES = frozenset(state.value for state in _JUDGED)
_SUPERVISE = AssignmentKind.SUPERVISE.value
_APPROVED = ExtensionState.APPROVED.value


def _count(tally: _Tally, row: _Row, working_days: _WorkingDays) -> None:
    """Adds one assignment to its department's tally (a plain tuple: a year holds 100,000)."""
    (
        _department,
        _name,
        kind,
        state,
        due,
        original_due,
        issued_at,
        responded_at,
        extension,
        urged,
    ) = row
    tally.received += 1
    if kind == _SUPERVISE:
        tally.supervised += 1
    if state == _RETURNED:
        tally.returned += 1
    if extension == _APPROVED:
        tally.extended += 1
    if urged:
        tally.urged += 1
    finished_on = None
    if responded_at is not None:
        tally.responded += 1
        finished_on = responded_at.date()
        days = working_days.between(issued_at.date(), finished_on) if issued_at else None
        if days is not None:
            tally.working_days.append(days)
    if state in _JUDGED_VALUES or responded_at is not None:
        tally.rounds.append(Round(due, original_due, finished_on))


def _referrals(start: datetime, end: datetime) -> Select[int, str, int]:
    """Per department, the 问责线索 proposed in the period that the leader did not drop: those
    proposed from one of its assignments, and, as the window files them (from the case, the
    单位 filled in from the respondent's or the stuck department), those whose 单位 is its name."""
    # The 单位 names one of the referring site's own departments, or one its city sent down
    # (a county's list holds both; the city's prefill is such a one as often as not).
    # Where both have the name, the site's own is meant (it is counted once).
    cities = select(Site.code).where(Site.level == SiteLevel.CITY.value)
    own = aliased(Department)
    owns_the_name = exists().where(
        own.name == Referral.person_unit, own.site_code == Referral.site_code
    )
    department = or_(
        Department.id == Assignment.department_id,
        and_(
            Referral.assignment_id.is_(None),
            Department.name == Referral.person_unit,
            or_(
                Department.site_code == Referral.site_code,
                and_(Department.site_code.in_(cities), ~owns_the_name),
            ),
        ),
    )
    return (
        select(Department.id, Department.name, func.count(Referral.id))
        .select_from(Referral)
        .outerjoin(Assignment, Referral.assignment_id == Assignment.id)
        .join(Department, department)
        .where(
            Referral.proposed_at >= start,
            Referral.proposed_at < end,
            Referral.state != ReferralState.DROPPED.value,
        )
        .group_by(Department.id, Department.name)
    )


def _score(
    department_id: int, tally: _Tally, today: date, graded: list[VisitGrade]
) -> DepartmentScore:
    on_time = on_time_rate(tally.rounds, today)
    return DepartmentScore(
        department_id=department_id,
        department=tally.name,
        received=tally.received,
        responded=tally.responded,
        on_time=on_time,
        on_time_original=on_time_rate(tally.rounds, today, original=True),
        late=on_time.denominator - on_time.numerator,
        extended=tally.extended,
        returned=tally.returned,
        urged=tally.urged,
        supervised=tally.supervised,
        working_days_median=percentile(tally.working_days, 50),
        working_days_p90=percentile(tally.working_days, 90),
        satisfaction=Rate(sum(not g.reopens for g in graded), len(graded)),
        referrals=tally.referrals,
    )
