"""The site's working-day calendar: holiday overrides, imported years, deadline rules.

When the calendar changes, every open deadline is recomputed from its stored start and number of
working days, and the change is written on the case's timeline. The same happens once when the
services open on deadlines computed under another calendar version (an upgrade that changed the
rules, e.g. unentered years following the law instead of weekends alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from desktop_app.domain.case_flow import EventKind
from desktop_app.domain.deadlines import (
    DeadlineRules,
    RuleKey,
    apply_deadline,
    validate_rule_days,
)
from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import (
    CALENDAR_REVISION,
    DEADLINE_RULE_SETTINGS,
    DUE_SOON_DAYS,
    RULE_DAYS,
)
from desktop_app.domain.statutory_holidays import statutory_days
from desktop_app.domain.validation import normalize_text
from desktop_app.domain.vocabulary import CaseStatus, chinese_date
from desktop_app.domain.workdays import (
    HolidayOverride as Override,
)
from desktop_app.domain.workdays import (
    OverrideFormatError,
    WorkdayCalendar,
    parse_overrides_csv,
)
from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services import audit, settings
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.ownership import local_site_code
from desktop_app.services.timeline import add_event
from desktop_app.storage.database import Database
from desktop_app.storage.models import CalendarYear, Case, HolidayOverride, Site

OPEN_CODES = (CaseStatus.REGISTERED.value, CaseStatus.IN_PROGRESS.value)

# Who the timeline and audit log name for a recompute nobody asked for (an upgrade's).
SYSTEM_USER = "系统"
UPGRADE_HEADING = "工作日规则更新"


@dataclass(frozen=True)
class OverrideInfo:
    day: date
    working: bool
    name: str
    created_by: str


@dataclass(frozen=True)
class Recomputed:
    """A deadline the calendar change moved."""

    case_number: str
    what: str
    before: date
    after: date


class _PreviewDone(Exception):
    """Raised inside a calendar change made only to see what it moves: the write rolls back."""

    def __init__(self, moved: list[Recomputed]) -> None:
        super().__init__("preview")
        self.moved = moved


class CalendarService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._cached: WorkdayCalendar | None = None
        self._cached_revision: int | None = None

    # Reading --------------------------------------------------------------------------------

    def calendar(self) -> WorkdayCalendar:
        """The calendar with this site's overrides, cached until they change — here or in
        another process (e.g. ``bbcs workdays import`` while the window is open)."""
        with self._db.read() as session:
            revision = settings.read(session, CALENDAR_REVISION)
            if self._cached is None or revision != self._cached_revision:
                self._cached = _load_calendar(session)
                self._cached_revision = revision
        return self._cached

    def overrides(self) -> list[OverrideInfo]:
        with self._db.read() as session:
            rows = session.scalars(select(HolidayOverride).order_by(HolidayOverride.day))
            return [OverrideInfo(r.day, r.working, r.name, r.created_by) for r in rows]

    def imported_years(self) -> list[int]:
        with self._db.read() as session:
            return list(session.scalars(select(CalendarYear.year).order_by(CalendarYear.year)))

    def rules(self) -> DeadlineRules:
        with self._db.read() as session:
            return _load_rules(session)

    def bring_deadlines_up_to_date(self) -> list[Recomputed]:
        """Recompute open deadlines once if any was computed under another calendar version.

        An upgrade can change how days are counted without anyone importing a schedule (a year
        not yet entered now follows 《全国年节及纪念日放假办法》, not weekends alone); its
        deadlines must not wait for the next import. Run when the services open: when nothing
        changed it is one read of the calendar (cached for later use) and one query.
        """
        version = self.calendar().version
        with self._db.read() as session:
            if not _has_stale_deadlines(session, version):
                return []
        now = self._clock.now()
        with self._db.write() as session:
            calendar = _load_calendar(session)
            # Another process may have done it between the read and this write.
            if not _has_stale_deadlines(session, calendar.version):
                return []
            previous = sorted(
                {
                    v or ""
                    for v in session.scalars(
                        select(Case.due_calendar_version)
                        .where(*_stale(calendar.version))
                        .distinct()
                    )
                }
            )
            moved = recompute_open_deadlines(
                session, calendar, SYSTEM_USER, now, heading=UPGRADE_HEADING
            )
            audit.record(
                session,
                at=now,
                user_name=SYSTEM_USER,
                action="recompute_deadlines",
                entity="calendar",
                entity_uuid=f"revision-{settings.read(session, CALENDAR_REVISION)}",
                before={"calendar_versions": previous},
                after={
                    "calendar_version": calendar.version,
                    "moved_deadlines": len(moved),
                    "cases": sorted({m[1].case_number for m in moved}),
                },
            )
        return [m[1] for m in moved]

    # Changing -------------------------------------------------------------------------------

    def save_override(
        self, actor: Actor, day: date, *, working: bool, name: str
    ) -> tuple[list[Recomputed], Changes]:
        """Add or replace one day (a local closure, a make-up working day …)."""
        actor.require(Permission.MANAGE_REFERENCE)
        name = normalize_text(name) or ("调休上班" if working else "放假")
        return self._change(actor, [Override(day, working, name)], (), "save_override")

    def delete_override(self, actor: Actor, day: date) -> tuple[list[Recomputed], Changes]:
        actor.require(Permission.MANAGE_REFERENCE)
        if not any(o.day == day for o in self.overrides()):
            raise UserError(f"{chinese_date(day)}没有调整记录，无需删除")
        return self._change(actor, [], (), "delete_override", remove=(day,))

    def import_csv(
        self, actor: Actor, text: str, *, complete_years: Iterable[int] = (), source: str = ""
    ) -> tuple[list[Recomputed], Changes]:
        """Import a schedule (日期,是否上班,名称). ``complete_years``: years the file fully covers
        (e.g. the State Council's notice for next year), whose deadlines stop being provisional."""
        overrides, years = self._checked_schedule(actor, text, complete_years)
        return self._change(actor, overrides, years, "import_calendar", source=source)

    def preview_csv(
        self, actor: Actor, text: str, *, complete_years: Iterable[int] = ()
    ) -> list[Recomputed]:
        """What ``import_csv`` would do to the open cases' deadlines, changing nothing: the
        import is made and rolled back. Refused as the import is (a file that does not read,
        a complete year that works a statutory holiday)."""
        overrides, years = self._checked_schedule(actor, text, complete_years)
        moved, _changes = self._change(actor, overrides, years, "import_calendar", preview=True)
        return moved

    def _checked_schedule(
        self, actor: Actor, text: str, complete_years: Iterable[int]
    ) -> tuple[list[Override], list[int]]:
        actor.require(Permission.MANAGE_REFERENCE)
        try:
            overrides = parse_overrides_csv(text)
        except OverrideFormatError as exc:
            raise UserError(str(exc)) from exc
        if not overrides:
            raise UserError("文件中没有任何日期")
        years = sorted(set(complete_years))
        covered = {o.day.year for o in overrides}
        missing = [y for y in years if y not in covered]
        if missing:
            raise UserError(f"文件中没有 {missing[0]} 年的日期，不能标记该年已完整录入")
        if years:
            kept = {o.day: o.working for o in self.overrides()}
            unlisted = statutory_days_worked(years, kept | {o.day: o.working for o in overrides})
            if unlisted:
                named = "、".join(f"{chinese_date(d)}（{name}）" for d, name in unlisted[:4])
                more = f"等 {len(unlisted)} 天" if len(unlisted) > 4 else ""
                which = f"{years[0]}年" if len(years) == 1 else "所选年份"
                raise UserError(
                    f"文件标为{which}的完整安排，但{named}{more}"
                    "是法定节假日（《全国年节及纪念日放假办法》第二条），文件中没有列为放假，"
                    "导入后会按工作日计算期限。请核对文件是否完整；只导入部分日期时，"
                    "不要勾选“完整安排”。未做任何更改。"
                )
        return list(overrides), years

    def save_rules(self, actor: Actor, days: dict[RuleKey, int], due_soon_days: int) -> Changes:
        settings.require(actor, *DEADLINE_RULE_SETTINGS)
        errors = validate_rule_days(days, due_soon_days)
        if errors:
            raise ValidationFailed(errors)
        with self._db.write() as session:
            before = _load_rules(session)
            for key, value in days.items():
                settings.write(session, actor, RULE_DAYS[key], value)
            settings.write(session, actor, DUE_SOON_DAYS, due_soon_days)
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="save_deadline_rules",
                entity="settings",
                entity_uuid="deadline_rules",
                before={k.value: v for k, v in before.days.items()}
                | {"due_soon_days": before.due_soon_days},
                after={k.value: v for k, v in days.items()} | {"due_soon_days": due_soon_days},
            )
        return Changes(settings=True)

    def _change(
        self,
        actor: Actor,
        overrides: Sequence[Override],
        complete_years: Sequence[int],
        action: str,
        *,
        remove: Sequence[date] = (),
        source: str = "",
        preview: bool = False,
    ) -> tuple[list[Recomputed], Changes]:
        """Make the calendar change and move the open deadlines it moves; ``preview``: then roll
        it all back (nothing saved, nothing audited) and say what would have moved."""
        now = self._clock.now()
        try:
            return self._changed(
                actor, overrides, complete_years, action, remove, source, now, preview
            )
        except _PreviewDone as done:
            return done.moved, Changes()

    def _changed(
        self,
        actor: Actor,
        overrides: Sequence[Override],
        complete_years: Sequence[int],
        action: str,
        remove: Sequence[date],
        source: str,
        now: datetime,
        preview: bool,
    ) -> tuple[list[Recomputed], Changes]:
        with self._db.write() as session:
            for day in remove:
                session.execute(delete(HolidayOverride).where(HolidayOverride.day == day))
            for item in overrides:
                row = session.scalar(select(HolidayOverride).where(HolidayOverride.day == item.day))
                if row is None:
                    session.add(
                        HolidayOverride(
                            day=item.day,
                            working=item.working,
                            name=item.name,
                            created_at=now,
                            created_by=actor.display_name,
                        )
                    )
                else:
                    row.working = item.working
                    row.name = item.name
                    row.version += 1
            for year in complete_years:
                session.merge(CalendarYear(year=year, source=source, imported_at=now))
            revision = bump_revision(session)
            calendar = _load_calendar(session)
            moved = recompute_open_deadlines(session, calendar, actor.display_name, now)
            if preview:
                raise _PreviewDone([m[1] for m in moved])  # the transaction rolls back
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action=action,
                entity="calendar",
                # The calendar version can be longer than a record id (36 characters, which
                # PostgreSQL enforces): the revision number identifies it, the version is kept.
                entity_uuid=f"revision-{revision}",
                after={
                    "calendar_version": calendar.version,
                    "days": [
                        {"day": o.day, "working": o.working, "name": o.name} for o in overrides
                    ],
                    "removed": list(remove),
                    "complete_years": list(complete_years),
                    "moved_deadlines": len(moved),
                },
            )
        self._cached = None
        ids = tuple(sorted({m[0] for m in moved}))
        return [m[1] for m in moved], Changes(cases=bool(ids), case_ids=ids, settings=True)


def statutory_days_worked(
    years: Iterable[int], working: dict[date, bool]
) -> list[tuple[date, str]]:
    """The holidays of the law's article 2 in ``years`` that would be working days if the
    schedule ``working`` (day → 上班) were the whole of those years: listed as 上班, or on a
    weekday and not listed at all. The State Council's schedule never works one (调休 moves
    weekends only), so a file that does is incomplete. Years the law is not computed for are
    not checked."""
    found: list[tuple[date, str]] = []
    for year in years:
        try:
            law = statutory_days(year)
        except ValueError:
            continue
        for day, held in law.items():
            if held.make_up:
                continue  # the schedule may give the weekend's holiday back otherwise
            if working.get(day, day.weekday() < 5):
                found.append((day, held.holiday))
    return found


# A withdrawn or screened-out case needs no written basis. Written as the statuses it is NOT:
# SQLite, without statistics, reads an IN list of four statuses through the status index (nearly
# every case, 40 ms at 100,000) instead of the basis deadline's own.
NO_BASIS_STATUSES = (CaseStatus.WITHDRAWN.value, CaseStatus.SCREENED_OUT.value)


def basis_outstanding() -> ColumnElement[bool]:
    """The written basis is still to come: neither received nor waived, and the case not
    withdrawn or screened out (the deadline board's and the recompute's one definition)."""
    return and_(
        Case.status.not_in(NO_BASIS_STATUSES),
        Case.basis_received_on.is_(None),
        Case.basis_waived_reason == "",
    )


def _basis_still_missing(case: Case) -> bool:
    """:func:`basis_outstanding` for one loaded case."""
    return (
        case.status not in NO_BASIS_STATUSES
        and case.basis_received_on is None
        and not case.basis_waived_reason
    )


def bump_revision(session: Session) -> int:
    """Count a change of overrides or years (the cached calendar is rebuilt); flushed."""
    revision = settings.read(session, CALENDAR_REVISION) + 1
    settings.store(session, CALENDAR_REVISION, revision)
    session.flush()
    return revision


def _stale(version: str) -> tuple[ColumnElement[bool], ...]:
    """This site's open deadlines computed under another calendar version than ``version``
    (the cases :func:`recompute_open_deadlines` restamps; a missing version counts as other)."""
    return (
        # Wrapped so that SQLite walks the few open cases by status, not every case of the site
        # by the (site_code, number) key: 40 ms instead of ~2 ms at 100,000 cases.
        func.coalesce(Case.site_code, "")
        == select(Site.code).where(Site.is_local.is_(True)).scalar_subquery(),
        Case.status.in_(OPEN_CODES),
        Case.due_start.is_not(None),
        Case.due_working_days.is_not(None),
        or_(Case.due_calendar_version.is_(None), Case.due_calendar_version != version),
    )


def _has_stale_deadlines(session: Session, version: str) -> bool:
    """One query, stopping at the first: does any open deadline need recomputing?"""
    return session.scalar(select(Case.id).where(*_stale(version)).limit(1)) is not None


def _load_calendar(session: Session) -> WorkdayCalendar:
    overrides = [
        Override(r.day, r.working, r.name)
        for r in session.scalars(select(HolidayOverride).order_by(HolidayOverride.day))
    ]
    years = list(session.scalars(select(CalendarYear.year)))
    return WorkdayCalendar(overrides, extra_known_years=years)


def _load_rules(session: Session) -> DeadlineRules:
    stored = settings.read_all(session, DEADLINE_RULE_SETTINGS)
    days = {key: stored[setting.key] for key, setting in RULE_DAYS.items()}
    return DeadlineRules(days, stored[DUE_SOON_DAYS.key])


def rules_in(session: Session) -> DeadlineRules:
    return _load_rules(session)


def calendar_in(session: Session) -> WorkdayCalendar:
    return _load_calendar(session)


def recompute_open_deadlines(
    session: Session,
    calendar: WorkdayCalendar,
    user_name: str,
    now: datetime,
    *,
    heading: str = "节假日安排调整",
) -> list[tuple[int, Recomputed]]:
    """Move every open deadline that the new calendar puts on another day; note it on the case
    (``heading`` says why).

    The original start and number of working days are kept, so the deadline is recomputed, not
    shifted by guesswork.
    """
    rules = _load_rules(session)
    moved: list[tuple[int, Recomputed]] = []
    # Only this site's cases: at the city, a county's deadlines follow the county's calendar and
    # are changed only by the county (DESIGN.md §6).
    local = local_site_code(session)
    cases = session.scalars(
        select(Case).where(
            Case.site_code == local,
            Case.due_start.is_not(None),
            Case.status.in_(OPEN_CODES)
            | (Case.status == CaseStatus.CONCLUDED.value)
            # A missing written basis stays due after 办结 and 回访 (issue 16): its day moves
            # with the calendar like an open deadline's, until it arrives or is waived.
            | (Case.basis_due_date.is_not(None) & basis_outstanding()),
        )
    )
    for case in cases:
        changes: list[tuple[str, date, date]] = []
        if case.status in OPEN_CODES and case.due_start and case.due_working_days is not None:
            deadline = calendar.add(case.due_start, case.due_working_days)
            if case.due_date != deadline.due and case.due_date is not None:
                changes.append(("办理时限", case.due_date, deadline.due))
            # The same start, working days and rule; the new calendar's day, version and 暂定.
            apply_deadline(case, deadline, RuleKey(case.due_rule) if case.due_rule else None)
        if (
            case.basis_due_date is not None
            and case.due_start is not None
            and (case.status in OPEN_CODES or _basis_still_missing(case))
        ):
            basis_days = case.basis_working_days
            if basis_days is None:
                basis_days = rules.working_days(RuleKey.CANT_BASIS)
            basis = calendar.add(case.due_start, basis_days).due
            if basis != case.basis_due_date:
                changes.append(("不能办依据", case.basis_due_date, basis))
                case.basis_due_date = basis
        if (
            case.status == CaseStatus.CONCLUDED.value
            and case.visit_due_date is not None
            and case.concluded_at is not None
        ):
            visit_days = case.visit_working_days
            if visit_days is None:
                visit_days = rules.working_days(RuleKey.VISIT)
            visit = calendar.add(case.concluded_at.date(), visit_days).due
            if visit != case.visit_due_date:
                changes.append(("回访", case.visit_due_date, visit))
                case.visit_due_date = visit
        if not changes:
            continue
        case.version += 1
        case.updated_at = now
        summary = "；".join(
            f"{what}由{chinese_date(old)}调整为{chinese_date(new)}" for what, old, new in changes
        )
        add_event(
            session,
            case.id,
            EventKind.NOTE,
            f"{heading}：{summary}",
            user_name=user_name,
            at=now,
            data={"calendar_version": calendar.version},
        )
        for what, old, new in changes:
            moved.append((case.id, Recomputed(case.number, what, old, new)))
    moved.extend(_recompute_assignments(session, calendar, user_name, now, heading))
    return moved


def _recompute_assignments(
    session: Session, calendar: WorkdayCalendar, user_name: str, now: datetime, heading: str
) -> list[tuple[int, Recomputed]]:
    """Outstanding assignments keep their start and working days; an approved extension keeps
    its extra days on top."""
    from desktop_app.storage.models import Assignment

    moved: list[tuple[int, Recomputed]] = []
    outstanding = session.scalars(
        select(Assignment)
        .join(Case, Assignment.case_id == Case.id)
        .where(
            Case.site_code == local_site_code(session),
            Assignment.state.in_(("issued", "received", "draft")),
        )
    )
    for assignment in outstanding:
        original = calendar.add(assignment.due_start, assignment.working_days).due
        due = original
        if assignment.extension_state == "approved" and assignment.extension_days:
            due = calendar.add(original, assignment.extension_days).due
        if due == assignment.due_date and original == assignment.original_due_date:
            continue
        before = assignment.due_date
        assignment.original_due_date = original
        assignment.due_date = due
        assignment.version += 1
        case = session.get(Case, assignment.case_id)
        if case is None or due == before:
            continue
        case.version += 1
        case.updated_at = now
        add_event(
            session,
            case.id,
            EventKind.NOTE,
            (
                f"{heading}：{assignment.department.name}的交办期限由"
                f"{chinese_date(before)}调整为{chinese_date(due)}"
            ),
            user_name=user_name,
            at=now,
            data={"calendar_version": calendar.version},
        )
        moved.append((case.id, Recomputed(case.number, "交办期限", before, due)))
    return moved
