"""一类事 (issue 16): classes of matters with their systemic fixes, and early warnings of
matters rising in one department × area × cause.

A class (共性问题) links cases across departments and time and names the systemic fix (a rule
revised, a 一次性告知 materials list issued, a process shortened), who owns it, its deadline and
when it was done; each case linked or unlinked gets a CLASSED entry on its timeline.

Early warning: :meth:`ClassService.scan_warnings` counts this month's matters and the previous
months' per key and hands the counts to the pure rule (domain/early_warning.py); what fires is
stored as a candidate (state open) for a person to dismiss, with a note, or to turn into a class.
A case is counted for its stuck department, or else the department of its lead assignment
(交办), and once for each of its causes (as codes; an untriaged case under cause "").
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from desktop_app.domain import early_warning
from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState
from desktop_app.domain.case_flow import EventKind
from desktop_app.domain.causes import cause_codes, cause_label
from desktop_app.domain.early_warning import Thresholds, WarningKey
from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import (
    WARNING_HISTORY_MONTHS,
    WARNING_MIN_VOLUME,
    WARNING_P_PER_MILLE,
    WARNING_SETTINGS,
)
from desktop_app.domain.validation import normalize_text
from desktop_app.domain.vocabulary import CaseStatus, FixKind
from desktop_app.errors import NotFound, UserError, ValidationFailed
from desktop_app.services import audit, settings
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.ownership import editable_case, require_made_here
from desktop_app.services.timeline import add_event
from desktop_app.storage.database import Database
from desktop_app.storage.models import (
    Assignment,
    Case,
    CauseCode,
    Department,
    EarlyWarning,
    IssueClass,
)

CHANGED = Changes(classes=True)
NO_DEPARTMENT = "（未定部门）"
NO_CAUSE = "（未分类）"


class WarningState:
    OPEN = "open"
    DISMISSED = "dismissed"
    CLASSED = "classed"


WARNING_STATE_LABELS = {
    WarningState.OPEN: "待研判",
    WarningState.DISMISSED: "已排除",
    WarningState.CLASSED: "已转为一类事",
}


class ClassState:
    OPEN = "open"
    DONE = "done"
    OVERDUE = "overdue"


CLASS_STATE_LABELS = {
    ClassState.OPEN: "整改中",
    ClassState.DONE: "已完成",
    ClassState.OVERDUE: "整改逾期",
}


@dataclass(frozen=True)
class ClassForm:
    """What a person types for a class; ``causes`` are cause codes."""

    title: str
    description: str = ""
    area: str = ""
    causes: tuple[str, ...] = ()
    fix_kind: FixKind | None = None
    fix_description: str = ""
    owner_department_id: int | None = None
    owner_name: str = ""
    due_date: date | None = None
    done_on: date | None = None


@dataclass(frozen=True)
class LinkedCase:
    id: int
    number: str
    title: str
    department: str
    status: str  # the status label
    received_at: datetime


@dataclass(frozen=True)
class ClassRow:
    """A class as the list shows it, with its counts."""

    id: int
    uuid: str
    title: str
    area: str
    causes: tuple[str, ...]  # labels
    fix_kind: str  # label, "" when no fix is named yet
    fix_description: str
    owner: str  # 部门 · 负责人
    due_date: date | None
    done_on: date | None
    state: str  # ClassState
    case_count: int
    department_count: int

    @property
    def state_label(self) -> str:
        return CLASS_STATE_LABELS[self.state]


@dataclass(frozen=True)
class ClassDetail:
    id: int
    form: ClassForm
    row: ClassRow
    cases: tuple[LinkedCase, ...]


@dataclass(frozen=True)
class WarningRow:
    """A stored warning with the numbers that raised it."""

    id: int
    month: str
    department_id: int | None
    department: str
    area: str
    cause: str
    cause_label: str
    count: int
    baseline: float
    months: int
    p_value: float
    state: str
    note: str
    decided_by: str
    issue_class_id: int | None

    @property
    def why(self) -> str:
        return early_warning.explain(
            early_warning.Warning(
                key=WarningKey(self.department_id, self.area, self.cause),
                month=self.month,
                count=self.count,
                baseline=self.baseline,
                months=self.months,
                p_value=self.p_value,
            )
        )

    @property
    def state_label(self) -> str:
        return WARNING_STATE_LABELS.get(self.state, self.state)


@dataclass(frozen=True)
class ScanResult:
    month: str
    raised: int  # new warnings stored
    updated: int  # open warnings of this month whose numbers moved
    changes: Changes = field(default=CHANGED)


class ClassService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # Reference lists for the forms ---------------------------------------------------------

    def cause_choices(self) -> list[tuple[str, str]]:
        """The site's cause codes (code, label), in their order."""
        with self.db.read() as session:
            return _cause_choices(session)

    def department_choices(self) -> list[tuple[int, str]]:
        with self.db.read() as session:
            rows = session.execute(
                select(Department.id, Department.name)
                .where(Department.active.is_(True))
                .order_by(Department.name)
            )
            return [(department_id, name) for department_id, name in rows]

    # Classes -------------------------------------------------------------------------------

    def list_classes(self, *, state: str | None = None, text: str = "") -> list[ClassRow]:
        """Every class, newest first; ``state`` a ClassState to keep only those."""
        today = self.clock.now().date()
        with self.db.read() as session:
            query = select(IssueClass).order_by(IssueClass.id.desc())
            if text.strip():
                like = f"%{text.strip()}%"
                query = query.where(
                    IssueClass.title.like(like)
                    | IssueClass.description.like(like)
                    | IssueClass.area.like(like)
                )
            classes = list(session.scalars(query))
            rows = _class_rows(session, classes, today)
        if state:
            rows = [r for r in rows if r.state == state]
        return rows

    def detail(self, class_id: int) -> ClassDetail:
        today = self.clock.now().date()
        with self.db.read() as session:
            issue_class = _get_class(session, class_id)
            row = _class_rows(session, [issue_class], today)[0]
            cases = session.scalars(
                select(Case).where(Case.issue_class_id == class_id).order_by(Case.received_at)
            ).all()
            departments = _departments_of(session, cases)
            linked = tuple(
                LinkedCase(
                    id=c.id,
                    number=c.number,
                    title=c.title,
                    department=departments.get(c.id, ("", NO_DEPARTMENT))[1],
                    status=CaseStatus(c.status).label,
                    received_at=c.received_at,
                )
                for c in cases
            )
            return ClassDetail(id=class_id, form=_form_of(issue_class), row=row, cases=linked)

    def create(
        self, actor: Actor, form: ClassForm, *, case_ids: Sequence[int] = ()
    ) -> tuple[int, Changes]:
        """A new class, with ``case_ids`` linked to it in the same transaction."""
        actor.require(Permission.MANAGE_CLASSES)
        now = self.clock.now()
        with self.db.write() as session:
            issue_class, touched = _add_class(session, actor, form, case_ids, now)
            class_id = issue_class.id
        return class_id, _changes(touched)

    def update(self, actor: Actor, class_id: int, form: ClassForm) -> Changes:
        actor.require(Permission.MANAGE_CLASSES)
        now = self.clock.now()
        with self.db.write() as session:
            issue_class = _get_class(session, class_id)
            require_made_here(session, issue_class, "一类事")
            form = _checked(session, form)
            before = _values(_form_of(issue_class))
            after = _values(form)
            old, new = audit.diff(before, after)
            if not new:
                return Changes()
            for name, value in after.items():
                setattr(issue_class, name, value)
            issue_class.version += 1
            issue_class.updated_at = now
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="update_class",
                entity="issue_class",
                entity_uuid=issue_class.uuid,
                before=old,
                after=new,
            )
        return CHANGED

    def link(self, actor: Actor, class_id: int, case_ids: Sequence[int]) -> Changes:
        """Link cases to the class (a case in another class moves to this one)."""
        actor.require(Permission.MANAGE_CLASSES)
        now = self.clock.now()
        with self.db.write() as session:
            issue_class = _get_class(session, class_id)
            touched = _link(session, actor, issue_class, case_ids, now)
        return _changes(touched)

    def link_by_number(self, actor: Actor, class_id: int, number: str) -> Changes:
        """Link the case of this number (as a person types it on the page)."""
        with self.db.read() as session:
            case_id = session.scalar(select(Case.id).where(Case.number == number.strip()))
        if case_id is None:
            raise ValidationFailed({"number": f"没有编号为“{number.strip()}”的事项"})
        return self.link(actor, class_id, [case_id])

    def unlink(self, actor: Actor, case_ids: Sequence[int]) -> Changes:
        actor.require(Permission.MANAGE_CLASSES)
        now = self.clock.now()
        touched: list[int] = []
        with self.db.write() as session:
            for case_id in case_ids:
                case = editable_case(session, case_id)
                if case.issue_class_id is None:
                    continue
                issue_class = _get_class(session, case.issue_class_id)
                _set_class(session, actor, case, None, f"移出一类事“{issue_class.title}”", now)
                touched.append(case_id)
        return _changes(touched)

    # Early warning -------------------------------------------------------------------------

    def thresholds(self) -> Thresholds:
        with self.db.read() as session:
            return _thresholds(session)

    def save_thresholds(
        self, actor: Actor, *, history_months: int, p_per_mille: int, min_volume: int
    ) -> Changes:
        """The warning thresholds (checked against their declarations, audited if changed)."""
        settings.require(actor, *WARNING_SETTINGS)
        with self.db.write() as session:
            changed = audit.write_settings(
                session,
                actor,
                {
                    WARNING_HISTORY_MONTHS: history_months,
                    WARNING_P_PER_MILLE: p_per_mille,
                    WARNING_MIN_VOLUME: min_volume,
                },
                at=self.clock.now(),
                action="warning_thresholds",
                entity_uuid="early_warning",
            )
        return Changes(settings=True, classes=True) if changed else Changes()

    def scan_warnings(self, actor: Actor) -> ScanResult:
        """Judge the month so far (against the same share of the earlier months) and the last
        whole month (a rise in its last days is not lost when nobody scanned then), and store
        what fires: a new key as an open warning; an open one gets today's numbers; a dismissed
        or classed one stays decided. History starts at the site's first matter."""
        actor.require(Permission.MANAGE_CLASSES)
        now = self.clock.now()
        month = early_warning.month_of(now.year, now.month)
        last_month = early_warning.previous_months(month, 1)[0]
        share = now.day / calendar.monthrange(now.year, now.month)[1]
        raised = updated = 0
        with self.db.write() as session:
            thresholds = _thresholds(session)
            first = early_warning.previous_months(last_month, thresholds.history_months)[0]
            counts: dict[WarningKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for _case_id, case_month, key in _attributed(session, first, month):
                counts[key][case_month] += 1
            since = _first_month(session)
            found_all = [
                *early_warning.scan(counts, last_month, thresholds, since=since),
                *early_warning.scan(counts, month, thresholds, share=share, since=since),
            ]
            for found in found_all:
                stored = _stored_warning(session, found.month, found.key)
                numbers = {
                    "count": found.count,
                    "baseline": round(found.baseline, 4),
                    "months": found.months,
                    "p_value": found.p_value,
                }
                if stored is None:
                    stored = EarlyWarning(
                        month=found.month,
                        department_id=found.key.department_id,
                        area=found.key.area,
                        cause=found.key.cause,
                        raised_at=now,
                        state=WarningState.OPEN,
                        **numbers,
                    )
                    session.add(stored)
                    session.flush()
                    raised += 1
                elif stored.state == WarningState.OPEN and stored.count != found.count:
                    for name, value in numbers.items():
                        setattr(stored, name, value)
                    updated += 1
                else:
                    continue
                audit.record(
                    session,
                    at=now,
                    user_name=actor.username,
                    action="raise_warning",
                    entity="early_warning",
                    entity_uuid=f"warning-{stored.id}",
                    after={"month": found.month, **_key_values(found.key), **numbers},
                )
        return ScanResult(month=month, raised=raised, updated=updated)

    def warnings(self, *, state: str | None = None) -> list[WarningRow]:
        """Stored warnings, newest month first, the most significant first within a month."""
        with self.db.read() as session:
            query = select(EarlyWarning).order_by(
                EarlyWarning.month.desc(), EarlyWarning.p_value, EarlyWarning.id
            )
            if state:
                query = query.where(EarlyWarning.state == state)
            stored = list(session.scalars(query))
            names = _department_names(session, {w.department_id for w in stored})
            labels = dict(_cause_choices(session))
            return [_warning_row(w, names, labels) for w in stored]

    def warning_cases(self, warning_id: int) -> list[int]:
        """The cases a warning counted (its month, department, area and cause)."""
        with self.db.read() as session:
            warning = _get_warning(session, warning_id)
            return _cases_of(session, warning)

    def dismiss(self, actor: Actor, warning_id: int, note: str) -> Changes:
        """排除: a person looked and found nothing common (the note says why)."""
        actor.require(Permission.MANAGE_CLASSES)
        note = normalize_text(note)
        if not note:
            raise ValidationFailed({"note": "请写明排除的理由"})
        if len(note) > 200:
            raise ValidationFailed({"note": "理由最多200个字"})
        now = self.clock.now()
        with self.db.write() as session:
            warning = _open_warning(session, warning_id)
            warning.note = note
            _decide(
                session, actor, warning, WarningState.DISMISSED, "dismiss_warning", now, note=note
            )
        return CHANGED

    def draft_from_warning(self, warning_id: int) -> ClassForm:
        """A class form pre-filled from a warning, for a person to complete."""
        with self.db.read() as session:
            warning = _get_warning(session, warning_id)
            department = _department_names(session, {warning.department_id}).get(
                warning.department_id, ""
            )
            label = cause_label(warning.cause, dict(_cause_choices(session)))
            parts = (department, warning.area, label if warning.cause else "")
            return ClassForm(
                title="、".join(part for part in parts if part) + "类问题集中反映",
                description=f"{warning.month}预警：{early_warning.explain(_as_warning(warning))}。",
                area=warning.area,
                causes=(warning.cause,) if warning.cause else (),
                owner_department_id=warning.department_id,
            )

    def class_from_warning(
        self, actor: Actor, warning_id: int, form: ClassForm | None = None
    ) -> tuple[int, Changes]:
        """转为一类事: a class (the draft, or the person's edit of it) linked to the cases the
        warning counted; the warning is marked classed."""
        actor.require(Permission.MANAGE_CLASSES)
        form = form or self.draft_from_warning(warning_id)
        now = self.clock.now()
        with self.db.write() as session:
            warning = _open_warning(session, warning_id)
            issue_class, touched = _add_class(
                session,
                actor,
                form,
                _cases_of(session, warning),
                now,
                audited={"from_warning": warning.id},
            )
            warning.issue_class_id = issue_class.id
            _decide(
                session,
                actor,
                warning,
                WarningState.CLASSED,
                "class_warning",
                now,
                issue_class=issue_class.uuid,
            )
            class_id = issue_class.id
        return class_id, _changes(touched)


# Helpers -----------------------------------------------------------------------------------


def _changes(case_ids: Sequence[int]) -> Changes:
    return Changes(classes=True, cases=bool(case_ids), case_ids=tuple(case_ids))


def _cause_choices(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(
        select(CauseCode.code, CauseCode.label)
        .where(CauseCode.active.is_(True))
        .order_by(CauseCode.position, CauseCode.code)
    )
    return [(code, label) for code, label in rows]


def _get_class(session: Session, class_id: int) -> IssueClass:
    issue_class = session.get(IssueClass, class_id)
    if issue_class is None:
        raise NotFound("一类事不存在")
    return issue_class


def _get_warning(session: Session, warning_id: int) -> EarlyWarning:
    warning = session.get(EarlyWarning, warning_id)
    if warning is None:
        raise NotFound("预警不存在")
    return warning


def _open_warning(session: Session, warning_id: int) -> EarlyWarning:
    warning = _get_warning(session, warning_id)
    if warning.state != WarningState.OPEN:
        raise UserError(f"这条预警{WARNING_STATE_LABELS.get(warning.state, '')}，不能再处理。")
    return warning


def _decide(
    session: Session,
    actor: Actor,
    warning: EarlyWarning,
    state: str,
    action: str,
    now: datetime,
    **audited: Any,
) -> None:
    """An open warning dismissed or turned into a class: who decided and when, audited (with
    ``audited`` beside the new state)."""
    warning.state = state
    warning.decided_by = actor.display_name
    warning.decided_at = now
    audit.record(
        session,
        at=now,
        user_name=actor.username,
        action=action,
        entity="early_warning",
        entity_uuid=f"warning-{warning.id}",
        before={"state": WarningState.OPEN},
        after={"state": state, **audited},
    )


def _form_of(issue_class: IssueClass) -> ClassForm:
    return ClassForm(
        title=issue_class.title,
        description=issue_class.description,
        area=issue_class.area,
        causes=tuple(issue_class.causes),
        fix_kind=FixKind(issue_class.fix_kind) if issue_class.fix_kind else None,
        fix_description=issue_class.fix_description,
        owner_department_id=issue_class.owner_department_id,
        owner_name=issue_class.owner_name,
        due_date=issue_class.due_date,
        done_on=issue_class.done_on,
    )


def _values(form: ClassForm) -> dict[str, Any]:
    """The form as IssueClass columns."""
    return {
        "title": form.title,
        "description": form.description,
        "area": form.area,
        "causes": list(form.causes),
        "fix_kind": form.fix_kind.value if form.fix_kind else "",
        "fix_description": form.fix_description,
        "owner_department_id": form.owner_department_id,
        "owner_name": form.owner_name,
        "due_date": form.due_date,
        "done_on": form.done_on,
    }


def _checked(session: Session, form: ClassForm) -> ClassForm:
    """The form tidied, or ValidationFailed naming each problem in Chinese."""
    form = replace(
        form,
        title=normalize_text(form.title),
        description=form.description.strip(),
        area=normalize_text(form.area),
        fix_description=form.fix_description.strip(),
        owner_name=normalize_text(form.owner_name),
        causes=tuple(dict.fromkeys(form.causes)),
    )
    errors: dict[str, str] = {}
    if not form.title:
        errors["title"] = "请填写一类事的名称"
    elif len(form.title) > 200:
        errors["title"] = "名称最多200个字"
    if len(form.area) > 40:
        errors["area"] = "领域最多40个字"
    if len(form.owner_name) > 40:
        errors["owner_name"] = "负责人最多40个字"
    known = {code for code, _label in _cause_choices(session)}
    unknown = [code for code in form.causes if code not in known]
    if unknown:
        errors["causes"] = f"没有这个原因代码：{'、'.join(unknown)}"
    if form.owner_department_id is not None and (
        session.get(Department, form.owner_department_id) is None
    ):
        errors["owner_department_id"] = "责任部门不存在"
    if form.done_on is not None and form.fix_kind is None:
        errors["fix_kind"] = "已完成的一类事须写明整改措施"
    if form.fix_kind is not None and not form.fix_description:
        errors["fix_description"] = "请写明整改措施的内容（如修订了哪项制度、出台了哪份清单）"
    if errors:
        raise ValidationFailed(errors)
    return form


def _add_class(
    session: Session,
    actor: Actor,
    form: ClassForm,
    case_ids: Iterable[int],
    now: datetime,
    *,
    audited: dict[str, Any] | None = None,
) -> tuple[IssueClass, list[int]]:
    """A new class from ``form`` (checked here), audited (with ``audited`` beside its values) and
    the cases linked: 新建 and 转为一类事 create a class alike. Returns it and the cases it
    touched."""
    form = _checked(session, form)
    issue_class = IssueClass(
        created_at=now, created_by=actor.display_name, updated_at=now, **_values(form)
    )
    session.add(issue_class)
    session.flush()
    audit.record(
        session,
        at=now,
        user_name=actor.username,
        action="create_class",
        entity="issue_class",
        entity_uuid=issue_class.uuid,
        after={**_values(form), **(audited or {})},
    )
    return issue_class, _link(session, actor, issue_class, case_ids, now)


def _link(
    session: Session,
    actor: Actor,
    issue_class: IssueClass,
    case_ids: Iterable[int],
    now: datetime,
) -> list[int]:
    touched: list[int] = []
    for case_id in dict.fromkeys(case_ids):
        case = editable_case(session, case_id)
        if case.issue_class_id == issue_class.id:
            continue
        summary = f"归入一类事“{issue_class.title}”"
        if case.issue_class_id is not None:
            summary += f"（原属“{_get_class(session, case.issue_class_id).title}”）"
        _set_class(session, actor, case, issue_class, summary, now)
        touched.append(case_id)
    return touched


def _set_class(
    session: Session,
    actor: Actor,
    case: Case,
    issue_class: IssueClass | None,
    summary: str,
    now: datetime,
) -> None:
    """One case into (or out of) a class: the column, its timeline, the audit entry."""
    before = case.issue_class_id
    case.issue_class_id = issue_class.id if issue_class is not None else None
    case.version += 1
    case.updated_at = now
    add_event(
        session,
        case.id,
        EventKind.CLASSED,
        summary,
        user_name=actor.display_name,
        at=now,
        data={"issue_class": issue_class.uuid if issue_class is not None else None},
    )
    session.flush()
    audit.record(
        session,
        at=now,
        user_name=actor.username,
        action="classify" if issue_class is not None else "unclassify",
        entity="case",
        entity_uuid=case.uuid,
        before={"issue_class_id": before},
        after={"issue_class_id": case.issue_class_id},
    )


def _thresholds(session: Session) -> Thresholds:
    values = settings.read_all(session, WARNING_SETTINGS)
    return Thresholds(
        history_months=values[WARNING_HISTORY_MONTHS.key],
        p_threshold=values[WARNING_P_PER_MILLE.key] / 1000,
        min_volume=values[WARNING_MIN_VOLUME.key],
    )


def _month_start(month: str) -> datetime:
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1)


def _month_after(month: str) -> datetime:
    year, number = (int(part) for part in month.split("-"))
    return datetime(year + number // 12, number % 12 + 1, 1)


class _Stuck(Protocol):
    """What :func:`_departments_of` reads of a case (a Case, or a row of just these columns)."""

    @property
    def id(self) -> int: ...

    @property
    def stuck_department_id(self) -> int | None: ...


def _departments_of(session: Session, cases: Sequence[_Stuck]) -> dict[int, tuple[int, str]]:
    """Each case's department (id, name): where it got stuck, or else its lead assignment's."""
    found: dict[int, int] = {
        c.id: c.stuck_department_id for c in cases if c.stuck_department_id is not None
    }
    missing = [c.id for c in cases if c.id not in found]
    for start in range(0, len(missing), 500):
        rows = session.execute(
            select(Assignment.case_id, Assignment.department_id)
            .where(
                Assignment.case_id.in_(missing[start : start + 500]),
                Assignment.kind == AssignmentKind.ASSIGN.value,
                Assignment.state != AssignmentState.VOIDED.value,
            )
            .order_by(Assignment.id)
        )
        for case_id, department_id in rows:
            found.setdefault(case_id, department_id)
    names = _department_names(session, set(found.values()))
    return {case_id: (dept, names.get(dept, NO_DEPARTMENT)) for case_id, dept in found.items()}


def _department_names(session: Session, ids: Iterable[int | None]) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    names: dict[int | None, str] = {None: NO_DEPARTMENT}
    if wanted:
        rows = session.execute(
            select(Department.id, Department.name).where(Department.id.in_(wanted))
        )
        names.update({department_id: name for department_id, name in rows})
    return names


def _first_month(session: Session) -> str | None:
    """The month of this site's first matter: history starts there (None: no matter yet)."""
    first = session.scalar(select(func.min(Case.received_at)).where(Case.origin_site == ""))
    return early_warning.month_of(first.year, first.month) if first is not None else None


def _attributed(
    session: Session, first_month: str, last_month: str
) -> list[tuple[int, str, WarningKey]]:
    """(case id, month, key) for every matter this site registered in the months given, once
    per cause; a matter ended at screening (out of scope) is not counted. Only this site's own
    matters: a warning becomes a class of cases this site may link (at the city, the counties'
    cases are theirs to class). The complainant is not loaded (the join cost most of a scan)."""
    cases = list(
        session.scalars(
            select(Case)
            .options(lazyload(Case.complainant))
            .where(
                Case.received_at >= _month_start(first_month),
                Case.received_at < _month_after(last_month),
                Case.status != CaseStatus.SCREENED_OUT.value,
                Case.origin_site == "",
            )
        )
    )
    departments = _departments_of(session, cases)
    out: list[tuple[int, str, WarningKey]] = []
    for case in cases:
        month = early_warning.month_of(case.received_at.year, case.received_at.month)
        department = departments.get(case.id, (None, ""))[0]
        for cause in cause_codes(case.causes) or [""]:
            out.append((case.id, month, WarningKey(department, case.area, cause)))
    return out


def _cases_of(session: Session, warning: EarlyWarning) -> list[int]:
    key = WarningKey(warning.department_id, warning.area, warning.cause)
    return [
        case_id
        for case_id, _month, found in _attributed(session, warning.month, warning.month)
        if found == key
    ]


def _stored_warning(session: Session, month: str, key: WarningKey) -> EarlyWarning | None:
    department = (
        EarlyWarning.department_id.is_(None)
        if key.department_id is None
        else EarlyWarning.department_id == key.department_id
    )
    return session.scalar(
        select(EarlyWarning).where(
            EarlyWarning.month == month,
            department,
            EarlyWarning.area == key.area,
            EarlyWarning.cause == key.cause,
        )
    )


def _key_values(key: WarningKey) -> dict[str, Any]:
    return {"department_id": key.department_id, "area": key.area, "cause": key.cause}


def _as_warning(warning: EarlyWarning) -> early_warning.Warning:
    return early_warning.Warning(
        key=WarningKey(warning.department_id, warning.area, warning.cause),
        month=warning.month,
        count=warning.count,
        baseline=warning.baseline,
        months=warning.months,
        p_value=warning.p_value,
    )


def _warning_row(
    warning: EarlyWarning, names: dict[int | None, str], labels: dict[str, str]
) -> WarningRow:
    return WarningRow(
        id=warning.id,
        month=warning.month,
        department_id=warning.department_id,
        department=names.get(warning.department_id, NO_DEPARTMENT),
        area=warning.area,
        cause=warning.cause,
        cause_label=cause_label(warning.cause, labels) if warning.cause else NO_CAUSE,
        count=warning.count,
        baseline=warning.baseline,
        months=warning.months,
        p_value=warning.p_value,
        state=warning.state,
        note=warning.note,
        decided_by=warning.decided_by,
        issue_class_id=warning.issue_class_id,
    )


def _class_rows(session: Session, classes: Sequence[IssueClass], today: date) -> list[ClassRow]:
    if not classes:
        return []
    ids = [c.id for c in classes]
    counts = dict(
        session.execute(
            select(Case.issue_class_id, func.count(Case.id))
            .where(Case.issue_class_id.in_(ids))
            .group_by(Case.issue_class_id)
        ).all()
    )
    # Three columns of each linked case, not whole cases: a class may hold thousands.
    linked = session.execute(
        select(Case.id, Case.stuck_department_id, Case.issue_class_id).where(
            Case.issue_class_id.in_(ids)
        )
    ).all()
    departments = _departments_of(session, linked)
    spread: dict[int, set[int]] = defaultdict(set)
    for case in linked:
        if case.id in departments and case.issue_class_id is not None:
            spread[case.issue_class_id].add(departments[case.id][0])
    labels = dict(_cause_choices(session))
    owners = _department_names(session, {c.owner_department_id for c in classes})
    rows: list[ClassRow] = []
    for c in classes:
        if c.done_on is not None:
            state = ClassState.DONE
        elif c.due_date is not None and c.due_date < today:
            state = ClassState.OVERDUE
        else:
            state = ClassState.OPEN
        owner = " · ".join(
            part
            for part in (
                owners.get(c.owner_department_id, "") if c.owner_department_id else "",
                c.owner_name,
            )
            if part
        )
        rows.append(
            ClassRow(
                id=c.id,
                uuid=c.uuid,
                title=c.title,
                area=c.area,
                causes=tuple(cause_label(code, labels) for code in c.causes),
                fix_kind=FixKind(c.fix_kind).label if c.fix_kind else "",
                fix_description=c.fix_description,
                owner=owner,
                due_date=c.due_date,
                done_on=c.done_on,
                state=state,
                case_count=counts.get(c.id, 0),
                department_count=len(spread.get(c.id, ())),
            )
        )
    return rows


def class_title(session: Session, case: Case) -> str:
    """The class a case belongs to, as its detail shows it ("" when none)."""
    if case.issue_class_id is None:
        return ""
    issue_class = session.get(IssueClass, case.issue_class_id)
    if issue_class is None:
        return ""
    done = f"（{issue_class.done_on.isoformat()}已完成整改）" if issue_class.done_on else ""
    return issue_class.title + done
