"""Work on one case after intake: triage, conclusion, return visit, withdrawal, materials."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from desktop_app.domain.case_flow import EVENT_LABELS, EventKind, advance, visit_outcome
from desktop_app.domain.deadlines import DeadlineRules, RuleKey, apply_deadline, case_rule
from desktop_app.domain.permissions import Permission
from desktop_app.domain.validation import normalize_text
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Cause,
    Channel,
    ComplainantKind,
    Nature,
    Outcome,
    ReplyMethod,
    VisitGrade,
    chinese_date,
)
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.errors import NotFound, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.attachments import AttachmentStore
from desktop_app.services.calendar import CalendarService, rules_in
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.ownership import editable_case, read_only_reason
from desktop_app.services.sealing import Sealer, masked
from desktop_app.services.timeline import add_event, attach_files
from desktop_app.storage.database import Database
from desktop_app.storage.models import Area, Case


@dataclass(frozen=True)
class Triage:
    nature: Nature
    approach: Approach
    causes: tuple[Cause, ...]
    area: str
    note: str = ""


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    label: str
    summary: str
    user_name: str


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    filename: str
    sha256: str
    size: int
    added_at: datetime
    added_by: str
    path: Path


@dataclass(frozen=True)
class CaseDetail:
    id: int
    uuid: str
    number: str
    status: CaseStatus
    complainant_kind: ComplainantKind
    complainant_name: str
    id_number_masked: str
    credit_code: str
    contact_person: str
    phone: str  # masked (138****5678): the full number only through CaseService.reveal_numbers
    address: str
    id_override_reason: str
    title: str
    description: str
    area: str
    channel: Channel
    stuck_at: str
    stuck_department: str
    visits_count: int
    received_at: datetime
    nature: Nature | None
    approach: Approach | None
    causes: tuple[Cause, ...]
    outcome: Outcome | None
    visit_grade: VisitGrade | None
    due_date: date | None
    due_rule: RuleKey | None
    due_provisional: bool
    basis_due_date: date | None
    visit_due_date: date | None
    linked_case_number: str
    attachments: tuple[AttachmentInfo, ...]
    timeline: tuple[TimelineEntry, ...]
    site_code: str = ""
    # Non-empty for a case registered at another site (a county's case at the city): why this
    # site may only read it.
    read_only_reason: str = ""


@dataclass(frozen=True)
class RevealedNumbers:
    """A complainant's full ID and phone, shown on screen to someone allowed to (audited)."""

    id_number: str
    phone: str


# Who may see a complainant's full numbers on screen: the staff who handle cases (and phone the
# complainant back), not the auditor.
REVEAL_PERMISSION = Permission.REGISTER_CASE


class CaseService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        attachments: AttachmentStore,
        calendar: CalendarService,
        sealer: Sealer,
    ) -> None:
        self._db = db
        self._clock = clock
        self._attachments = attachments
        self._calendar = calendar
        self._sealer = sealer

    def reveal_numbers(self, actor: Actor, case_id: int) -> RevealedNumbers:
        """The complainant's full ID and phone, for a user whose role may see them; every
        reveal is on the audit log (who, which case), the numbers themselves are not."""
        actor.require(REVEAL_PERMISSION)
        with self._db.write() as session:
            case = session.get(Case, case_id)
            if case is None:
                raise NotFound("事项不存在")
            person = case.complainant
            shown = RevealedNumbers(self._sealer.id_number(person), self._sealer.phone(person))
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="reveal_numbers",
                entity="complainant",
                entity_uuid=person.uuid,
                after={
                    "case": case.number,
                    "fields": [
                        k for k, v in (("id_number", shown.id_number), ("phone", shown.phone)) if v
                    ],
                },
            )
        return shown

    def detail(self, case_id: int) -> CaseDetail:
        with self._db.read() as session:
            case = session.scalar(
                select(Case)
                .where(Case.id == case_id)
                .options(selectinload(Case.events), selectinload(Case.attachments))
            )
            if case is None:
                raise NotFound("事项不存在")
            linked = session.get(Case, case.linked_case_id) if case.linked_case_id else None
            complainant = case.complainant
            shown = masked(self._sealer.id_number(complainant), self._sealer.phone(complainant))
            return CaseDetail(
                id=case.id,
                uuid=case.uuid,
                number=case.number,
                status=CaseStatus(case.status),
                complainant_kind=ComplainantKind(complainant.kind),
                complainant_name=complainant.name,
                id_number_masked=shown.id_number,
                credit_code=complainant.credit_code,
                contact_person=complainant.contact_person,
                phone=shown.phone,
                address=complainant.address,
                id_override_reason=complainant.id_override_reason,
                title=case.title,
                description=case.description,
                area=case.area,
                channel=Channel(case.channel),
                stuck_at=case.stuck_at,
                stuck_department=case.stuck_department.name if case.stuck_department else "",
                visits_count=case.visits_count,
                received_at=case.received_at,
                nature=Nature(case.nature) if case.nature else None,
                approach=Approach(case.approach) if case.approach else None,
                causes=tuple(Cause(c) for c in case.causes),
                outcome=Outcome(case.outcome) if case.outcome else None,
                visit_grade=VisitGrade(case.visit_grade) if case.visit_grade else None,
                due_date=case.due_date,
                due_rule=RuleKey(case.due_rule) if case.due_rule else None,
                due_provisional=case.due_provisional,
                basis_due_date=case.basis_due_date,
                visit_due_date=case.visit_due_date,
                linked_case_number=linked.number if linked else "",
                attachments=tuple(
                    AttachmentInfo(
                        a.id,
                        a.filename,
                        a.sha256,
                        a.size,
                        a.added_at,
                        a.added_by,
                        self._attachments.path_for(a.sha256),
                    )
                    for a in case.attachments
                ),
                timeline=tuple(
                    TimelineEntry(
                        e.at,
                        e.kind,
                        EVENT_LABELS.get(EventKind(e.kind), e.kind)
                        if e.kind in EventKind._value2member_map_
                        else e.kind,
                        e.summary,
                        e.user_name,
                    )
                    for e in case.events
                ),
                site_code=case.site_code,
                read_only_reason=read_only_reason(session, case),
            )

    def deadline_proof(self, case_id: int) -> list[str]:
        """Why the case is due on its day: each day counted or skipped, and why."""
        with self._db.read() as session:
            case = _get_case(session, case_id)
            start, days = case.due_start, case.due_working_days
        if start is None or days is None:
            return []
        deadline = self._calendar.calendar().add(start, days)
        lines = [f"自 {chinese_date(start)} 起算（当日不计），{days} 个工作日："]
        lines += deadline.proof_lines()
        lines += [f"注意：{w}" for w in deadline.warnings]
        return lines

    def find_by_number(self, number: str) -> int:
        with self._db.read() as session:
            case_id = session.scalar(select(Case.id).where(Case.number == number.strip()))
        if case_id is None:
            raise NotFound(f"找不到编号为“{number}”的事项")
        return case_id

    # Steps --------------------------------------------------------------------------------

    def triage(self, actor: Actor, case_id: int, triage: Triage) -> Changes:
        """甄别分类: nature, approach, causes, area."""
        actor.require(Permission.TRIAGE_CASE)
        errors: dict[str, str] = {}
        if not triage.causes:
            errors["causes"] = "请至少选择一项受阻原因"
        with self._db.read() as session:
            areas = set(session.scalars(select(Area.name).where(Area.active.is_(True))))
        if triage.area not in areas:
            errors["area"] = "请选择领域"
        if errors:
            raise ValidationFailed(errors)

        calendar = self._calendar.calendar()

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            case.nature = triage.nature.value
            case.approach = triage.approach.value
            case.causes = [c.value for c in triage.causes]
            case.area = triage.area
            case.triaged_at = now
            causes = "、".join(c.label for c in triage.causes)
            summary = (
                f"问题性质：{triage.nature.label}；处置方式：{triage.approach.label}；"
                f"受阻原因：{causes}；领域：{triage.area}"
            )
            if triage.note:
                summary += f"；说明：{normalize_text(triage.note)}"
            # A re-triage keeps the day the clock started: the original promise stands.
            start = case.due_start or now.date()
            summary += _set_deadline(
                case, calendar, rules_in(session), case_rule(triage.nature, triage.approach), start
            )
            return {"summary": summary}

        return self._step(actor, case_id, EventKind.TRIAGED, "triage", apply)

    def conclude(
        self,
        actor: Actor,
        case_id: int,
        *,
        outcome: Outcome,
        what_was_done: str,
        reply_method: ReplyMethod,
        reply_text: str,
    ) -> Changes:
        """办结 with the reply to the complainant (on the spot, explained, or after departments)."""
        actor.require(Permission.CONCLUDE_CASE)
        errors: dict[str, str] = {}
        if not what_was_done.strip():
            errors["what_was_done"] = "请填写办理情况"
        if not reply_text.strip():
            errors["reply_text"] = "请填写答复当事人的内容"
        if errors:
            raise ValidationFailed(errors)

        calendar = self._calendar.calendar()

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            case.outcome = outcome.value
            case.concluded_at = now
            visit_days = rules_in(session).working_days(RuleKey.VISIT)
            case.visit_due_date = calendar.add(now.date(), visit_days).due
            case.visit_working_days = visit_days
            return {
                "summary": (
                    f"办结（{outcome.label}）：{what_was_done.strip()}；"
                    f"{reply_method.label}：{reply_text.strip()}"
                ),
                "data": {"outcome": outcome.value, "reply_method": reply_method.value},
            }

        return self._step(actor, case_id, EventKind.CONCLUDED, "conclude", apply)

    def record_visit(
        self,
        actor: Actor,
        case_id: int,
        *,
        grade: VisitGrade,
        note: str = "",
    ) -> Changes:
        """回访核查; 不满意 or worse reopens the case (重办), keeping the earlier outcome."""
        actor.require(Permission.VISIT_CASE)
        if grade.reopens and not note.strip():
            raise ValidationFailed({"note": "评价为不满意时，请记录不满意的原因"})

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            case.visit_grade = grade.value
            return {
                "summary": f"回访评价：{grade.label}" + (f"；{note.strip()}" if note else ""),
                "data": {"grade": grade.value},
            }

        steps: list[_Step] = [(EventKind.VISITED, "visit", apply)]
        follow_up = visit_outcome(grade)
        if follow_up is not None:
            calendar = self._calendar.calendar()

            def reopen(session: Session, case: Case, now: datetime) -> dict[str, Any]:
                case.outcome = None
                case.concluded_at = None
                case.visit_due_date = None
                summary = f"回访{grade.label}，事项重办；原办理结果保留在记录中"
                if case.due_rule:
                    # 重办 starts a new period under the same rule.
                    summary += _set_deadline(
                        case, calendar, rules_in(session), RuleKey(case.due_rule), now.date()
                    )
                return {"summary": summary}

            steps.append((follow_up, "reopen", reopen))
        # The grade and the reopening are one unit: a crash between them must not leave a
        # dissatisfied case closed.
        return self._steps(actor, case_id, steps)

    def withdraw(self, actor: Actor, case_id: int, reason: str) -> Changes:
        actor.require(Permission.WITHDRAW_CASE)
        if not reason.strip():
            raise ValidationFailed({"reason": "请填写撤回原因"})

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            case.outcome = Outcome.WITHDRAWN.value
            case.concluded_at = now
            return {"summary": f"当事人撤回：{reason.strip()}"}

        return self._step(actor, case_id, EventKind.WITHDRAWN, "withdraw", apply)

    def add_attachments(self, actor: Actor, case_id: int, paths: Sequence[Path]) -> Changes:
        actor.require(Permission.REGISTER_CASE)
        stored = [self._attachments.put(p) for p in paths]
        now = self._clock.now()
        with self._db.write() as session:
            case = editable_case(session, case_id)
            attach_files(session, case.id, stored, user_name=actor.display_name, at=now)
            session.flush()
            for item in stored:
                audit.record(
                    session,
                    at=now,
                    user_name=actor.username,
                    action="add_attachment",
                    entity="case",
                    entity_uuid=case.uuid,
                    after={"filename": item.filename, "sha256": item.sha256},
                )
            case.version += 1
            case.updated_at = now
        return Changes(cases=True, case_ids=(case_id,))

    def _step(
        self,
        actor: Actor,
        case_id: int,
        kind: EventKind,
        action: str,
        apply: Callable[[Session, Case, datetime], dict[str, Any]],
    ) -> Changes:
        return self._steps(actor, case_id, [(kind, action, apply)])

    def _steps(self, actor: Actor, case_id: int, steps: Sequence[_Step]) -> Changes:
        """Guarded, audited steps in one transaction: each moves the status per the flow and
        adds an event to the timeline."""
        now = self._clock.now()
        with self._db.write() as session:
            case = editable_case(session, case_id)
            for kind, action, apply in steps:
                before = _snapshot(case)
                case.status = advance(CaseStatus(case.status), kind).value
                event = apply(session, case, now)
                case.version += 1
                case.updated_at = now
                add_event(
                    session,
                    case.id,
                    kind,
                    event["summary"],
                    user_name=actor.display_name,
                    at=now,
                    data=event.get("data"),
                )
                session.flush()
                old, new = audit.diff(before, _snapshot(case))
                audit.record(
                    session,
                    at=now,
                    user_name=actor.username,
                    action=action,
                    entity="case",
                    entity_uuid=case.uuid,
                    before=old,
                    after=new,
                )
        return Changes(cases=True, case_ids=(case_id,))


_Step = tuple[EventKind, str, Callable[[Session, Case, datetime], dict[str, Any]]]


def _set_deadline(
    case: Case, calendar: WorkdayCalendar, rules: DeadlineRules, rule: RuleKey, start: date
) -> str:
    """Give the case its deadline under ``rule``; returns the text for the timeline."""
    days = rules.working_days(rule)
    deadline = calendar.add(start, days)
    apply_deadline(case, deadline, rule)
    text = f"；办理时限：{chinese_date(deadline.due)}（{rule.label}，{days}个工作日）"
    if case.nature == Nature.CANT.value:
        basis_days = rules.working_days(RuleKey.CANT_BASIS)
        basis = calendar.add(start, basis_days).due
        case.basis_due_date = basis
        case.basis_working_days = basis_days
        text += f"；书面依据须于{chinese_date(basis)}前提交（{basis_days}个工作日）"
    else:
        case.basis_due_date = None
        case.basis_working_days = None
    if deadline.provisional:
        text += "（" + "；".join(deadline.warnings) + "）"
    return text


def _get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("事项不存在")
    return case


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "nature": case.nature,
        "approach": case.approach,
        "causes": list(case.causes),
        "area": case.area,
        "outcome": case.outcome,
        "visit_grade": case.visit_grade,
    }
