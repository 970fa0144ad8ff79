"""Work on one case after intake: triage, on-site supervision, the written basis, conclusion,
the reply, return visits (and the calls that did not reach the person), withdrawal, materials."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from desktop_app.domain.assignment_flow import (
    OPEN,
    AssignmentKind,
    AssignmentState,
    ClosedWith,
    Step,
    check_step,
)
from desktop_app.domain.case_flow import (
    EVENT_LABELS,
    EventKind,
    advance,
    visit_ends,
    visit_outcome,
)
from desktop_app.domain.causes import cause_codes
from desktop_app.domain.deadlines import DeadlineRules, RuleKey, apply_deadline, case_rule
from desktop_app.domain.permissions import Permission
from desktop_app.domain.validation import normalize_text
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Channel,
    ComplainantKind,
    Nature,
    Outcome,
    ReplyMethod,
    VisitContact,
    VisitGrade,
    VisitReason,
    chinese_date,
)
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.errors import ChangedElsewhere, NotFound, UserError, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.assignments import draft_in
from desktop_app.services.attachments import AttachmentStore, StoredFile
from desktop_app.services.calendar import CalendarService, rules_in
from desktop_app.services.classes import class_title
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.intake import front_door_rows
from desktop_app.services.limits import length_errors
from desktop_app.services.ownership import editable_case, read_only_reason
from desktop_app.services.reference import active_causes
from desktop_app.services.referrals import on_wont
from desktop_app.services.sealing import Sealer, masked
from desktop_app.services.timeline import add_event, attach_files
from desktop_app.storage.database import Database
from desktop_app.storage.models import Area, Assignment, Case, CaseEvent, Department

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Triage:
    nature: Nature
    approach: Approach
    causes: tuple[str, ...]  # cause codes from the reference list (an old Cause reads as one)
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
    version: int  # as read: a save that names it is refused once the case changed since
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
    causes: tuple[str, ...]  # cause codes (old stored causes read as codes)
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
    # Issue 16 (intake, part A): agent, who is complained about, campaign, screening, as lines.
    front_door: tuple[tuple[str, str], ...] = ()
    issue_class: str = ""  # the class of matters (一类事) it belongs to (issue 16 D)
    # Issue 16: the written basis, the reply, the return-visit calls.
    basis_received_on: date | None = None
    basis_signed_by: str = ""
    basis_waived_reason: str = ""
    basis_waived_by: str = ""
    replied_at: datetime | None = None
    reply_method: ReplyMethod | None = None
    visit_attempts: int = 0
    visit_retry_on: date | None = None
    visit_reasons: tuple[VisitReason, ...] = ()
    # Assignments not finished with (待签发/已签发/已签收), as “住建局（交办，已签收）”: the
    # case concludes over them only with a reason.
    open_assignments: tuple[str, ...] = ()
    # What the last 办结 recorded as 办理情况 and 答复内容 ("" before they were kept apart).
    conclusion_texts: tuple[str, str] = ("", "")
    # (assignment id, how the case's ending closed it) for each 随办结关闭 / 随撤回关闭 one.
    closed_with: tuple[tuple[int, ClosedWith], ...] = ()

    @property
    def basis_missing(self) -> bool:
        """办不了, and the signed basis neither arrived nor waived: it stays due after 办结."""
        return (
            self.basis_due_date is not None
            and self.basis_received_on is None
            and not self.basis_waived_reason
        )


@dataclass(frozen=True)
class OnsiteVisit:
    """现场督办: the duty leader at the department's window."""

    leader: str
    at: datetime
    department_id: int
    place: str
    result: str


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
                version=case.version,
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
                causes=tuple(cause_codes(case.causes)),
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
                front_door=front_door_rows(case, self._sealer),
                issue_class=class_title(session, case),
                basis_received_on=case.basis_received_on,
                basis_signed_by=case.basis_signed_by,
                basis_waived_reason=case.basis_waived_reason,
                basis_waived_by=case.basis_waived_by,
                replied_at=case.replied_at,
                reply_method=ReplyMethod(case.reply_method) if case.reply_method else None,
                conclusion_texts=_conclusion_texts(case.events),
                visit_attempts=case.visit_attempts,
                visit_retry_on=case.visit_retry_on,
                visit_reasons=tuple(VisitReason(r) for r in case.visit_reasons or ()),
                open_assignments=tuple(_describe(a) for a in _open_assignments(session, case.id)),
                closed_with=tuple(_closures(session, case).items()),
            )

    def stamp_of(self, case_id: int) -> tuple[int, int, int]:
        """What changes when anything shown in the case's window does: its version, and its
        assignments' count and versions (an open window compares the stamp it read with it)."""
        with self._db.read() as session:
            version = session.scalar(select(Case.version).where(Case.id == case_id))
            if version is None:
                raise NotFound("事项不存在")
            count, versions = session.execute(
                select(
                    func.count(Assignment.id), func.coalesce(func.sum(Assignment.version), 0)
                ).where(Assignment.case_id == case_id)
            ).one()
        return int(version), int(count), int(versions)

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

    def triage(
        self, actor: Actor, case_id: int, triage: Triage, *, seen_version: int | None = None
    ) -> Changes:
        """甄别分类: nature, approach, causes, area. ``seen_version``: the case as the one who
        saves saw it (``CaseDetail.version``); changed since, elsewhere, it is refused
        (``ChangedElsewhere``) rather than saved over what the other seat recorded."""
        actor.require(Permission.TRIAGE_CASE)
        errors: dict[str, str] = {}
        codes = cause_codes(triage.causes)
        with self._db.read() as session:
            areas = set(session.scalars(select(Area.name).where(Area.active.is_(True))))
            offered = {option.code: option.label for option in active_causes(session)}
        if not codes:
            errors["causes"] = "请至少选择一项受阻原因"
        elif unknown := [c for c in codes if c not in offered]:
            errors["causes"] = f"受阻原因“{'、'.join(unknown)}”不在本站点的原因列表中"
        if triage.area not in areas:
            errors["area"] = "请选择领域"
        if errors:
            raise ValidationFailed(errors)
        if not triage.note.strip() and self._triaged_so_already(case_id, triage, codes):
            # The classification saved already, saved again (a double click wrote it twice into
            # 办理记录): nothing to record.
            return Changes()

        calendar = self._calendar.calendar()

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            case.nature = triage.nature.value
            case.approach = triage.approach.value
            case.causes = codes
            case.area = triage.area
            case.triaged_at = now
            causes = "、".join(offered[c] for c in codes)
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

        # 不给办 proposes an accountability referral in the same transaction (issue 16).
        wont = on_wont(self._db, actor, case_id, triage.nature)
        return self._steps(
            actor, case_id, [(EventKind.TRIAGED, "triage", apply), *wont], seen_version
        )

    def _triaged_so_already(self, case_id: int, triage: Triage, codes: list[str]) -> bool:
        with self._db.read() as session:
            case = session.get(Case, case_id)
            return (
                case is not None
                and (case.nature, case.approach, case.area)
                == (triage.nature.value, triage.approach.value, triage.area)
                and set(cause_codes(case.causes or [])) == set(codes)
            )

    def conclude(
        self,
        actor: Actor,
        case_id: int,
        *,
        outcome: Outcome | None,
        what_was_done: str,
        reply_method: ReplyMethod | None,
        reply_text: str,
        close_reason: str = "",
        seen_version: int | None = None,
    ) -> Changes:
        """办结 with the reply to the complainant (on the spot, explained, or after departments).

        ``outcome`` and ``reply_method`` None: not chosen, refused with every other missing part
        in one round. Refused while an assignment of the case is still open, unless
        ``close_reason`` says why: then those assignments are closed (随办结关闭) and the reason is
        on the timeline — a case must not conclude and leave a department's assignment open for
        ever."""
        actor.require(Permission.CONCLUDE_CASE)
        errors = {
            key: message
            for key, message, given in (
                ("outcome", "请选择办理结果", outcome is not None),
                ("what_was_done", "请填写办理情况", bool(what_was_done.strip())),
                ("reply_method", "请选择答复方式", reply_method is not None),
                ("reply_text", "请填写答复当事人的内容", bool(reply_text.strip())),
            )
            if not given
        }
        if errors or outcome is None or reply_method is None:
            raise ValidationFailed(errors)
        close_reason = normalize_text(close_reason)

        calendar = self._calendar.calendar()

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            still_open = _open_assignments(session, case.id)
            if still_open and not close_reason:
                named = "、".join(_describe(a) for a in still_open)
                raise ValidationFailed(
                    {
                        "close_reason": f"{named}尚未办结；"
                        "确需办结事项，请写明理由（这些交办将随办结关闭）"
                    }
                )
            closed = _close_assignments(
                session, still_open, actor, now, close_reason, ClosedWith.CONCLUDED
            )
            case.outcome = outcome.value
            case.concluded_at = now
            case.replied_at = now
            case.reply_method = reply_method.value
            visit_days = rules_in(session).working_days(RuleKey.VISIT)
            case.visit_due_date = calendar.add(now.date(), visit_days).due
            case.visit_working_days = visit_days
            case.visit_retry_on = None
            summary = (
                f"办结（{outcome.label}）：{_clause(what_was_done)}；"
                f"{reply_method.label}：{reply_text.strip()}"
            )
            data: dict[str, Any] = {
                "outcome": outcome.value,
                "reply_method": reply_method.value,
                # Kept apart from the summary line, for the dialog to show them again.
                "what_was_done": what_was_done.strip(),
                "reply_text": reply_text.strip(),
            }
            if closed:
                summary += f"；{_named(closed)}{ClosedWith.CONCLUDED.label}，理由：{close_reason}"
                data["close_reason"] = close_reason
                data |= _closed_data(closed, ClosedWith.CONCLUDED)
            return {"summary": summary, "data": data}

        return self._step(actor, case_id, EventKind.CONCLUDED, "conclude", apply, seen_version)

    def record_visit(
        self,
        actor: Actor,
        case_id: int,
        *,
        grade: VisitGrade,
        note: str = "",
        reasons: Sequence[VisitReason] = (),
        seen_version: int | None = None,
    ) -> Changes:
        """回访核查 (the person was reached); 不满意 or worse reopens the case (重办), keeping
        the earlier outcome, and drafts a new assignment to the same department for the
        leader to sign."""
        actor.require(Permission.VISIT_CASE)
        if grade.reopens and not note.strip():
            raise ValidationFailed({"note": "评价为不满意时，请记录不满意的原因"})
        reasons = tuple(dict.fromkeys(reasons))

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            case.visit_grade = grade.value
            case.visit_reasons = [r.value for r in reasons]
            case.visit_attempts += 1
            case.visit_retry_on = None
            summary = f"回访评价：{grade.label}"
            if reasons:
                summary += f"；原因：{'、'.join(r.label for r in reasons)}"
            if note.strip():
                summary += f"；{note.strip()}"
            return {
                "summary": summary,
                "data": {
                    "grade": grade.value,
                    "contact": VisitContact.REACHED.value,
                    "reasons": [r.value for r in reasons],
                },
            }

        steps: list[_Step] = [(EventKind.VISITED, "visit", apply)]
        follow_up = visit_outcome(grade)
        if follow_up is not None:
            calendar = self._calendar.calendar()

            def reopen(session: Session, case: Case, now: datetime) -> dict[str, Any]:
                case.outcome = None
                case.concluded_at = None
                case.visit_due_date = None
                # A new round owes the person a new reply (待答复); the earlier one stays on
                # the timeline.
                case.replied_at = None
                case.reply_method = ""
                summary = f"回访{grade.label}，事项重办；原办理结果保留在记录中"
                if case.due_rule:
                    # 重办 starts a new period under the same rule.
                    summary += _set_deadline(
                        case, calendar, rules_in(session), RuleKey(case.due_rule), now.date()
                    )
                summary += _draft_reassignment(session, actor, case, calendar, now, grade, note)
                return {"summary": summary}

            steps.append((follow_up, "reopen", reopen))
        # The grade, the reopening and the new draft are one unit: a failure anywhere must not
        # leave a dissatisfied case closed, nor reopened without the draft it was promised.
        return self._steps(actor, case_id, steps, seen_version)

    def record_visit_attempt(
        self,
        actor: Actor,
        case_id: int,
        *,
        contact: VisitContact,
        note: str = "",
        seen_version: int | None = None,
    ) -> Changes:
        """A return-visit call that did not reach the person: counted, and to be tried again on
        the next working day — the 待重拨 list. A person who refuses the visit ends it, and so
        does the last of :data:`MAX_VISIT_CALLS` unanswered calls: the case is 已回访 without a
        grade (left out of satisfaction), not owed a visit for ever."""
        actor.require(Permission.VISIT_CASE)
        if contact is VisitContact.REACHED:
            raise ValidationFailed({"contact": "已联系上的回访，请记录回访评价"})
        refused = contact is VisitContact.REFUSED
        with self._db.read() as session:
            attempts = session.scalar(select(Case.visit_attempts).where(Case.id == case_id))
            if attempts is None:
                raise NotFound("事项不存在")
            calls = _unanswered_calls_this_round(session, case_id)
        ends = visit_ends(calls, refused=refused)
        retry_on = None if ends else self._calendar.calendar().add(self._clock.now().date(), 1).due

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            if case.visit_attempts != attempts:
                raise UserError("该事项的回访记录刚被更新，请刷新后再记录")
            case.visit_attempts += 1
            case.visit_retry_on = retry_on
            summary = f"第{case.visit_attempts}次回访：{contact.label}"
            if retry_on is not None:
                summary += f"，{chinese_date(retry_on)}再次回访"
            elif refused:
                summary += "，回访结束（无评价，不计入满意度）"
            else:
                summary += f"，本轮已联系{calls + 1}次未果，回访结束（无评价，不计入满意度）"
            if note.strip():
                summary += f"；{normalize_text(note)}"
            return {
                "summary": summary,
                "data": {
                    "contact": contact.value,
                    "retry_on": retry_on.isoformat() if retry_on else None,
                },
            }

        if refused:
            return self._step(
                actor, case_id, EventKind.VISITED, "visit_refused", apply, seen_version
            )
        if ends:
            return self._step(
                actor, case_id, EventKind.VISITED, "visit_unreached", apply, seen_version
            )
        return self._step(
            actor, case_id, EventKind.VISIT_ATTEMPT, "visit_attempt", apply, seen_version
        )

    def record_reply(
        self,
        actor: Actor,
        case_id: int,
        *,
        method: ReplyMethod,
        text: str,
        replied_at: datetime | None = None,
    ) -> Changes:
        """答复反映人, as a step of its own: before the case is concluded (an interim answer)
        or after (the department's result passed on)."""
        actor.require(Permission.CONCLUDE_CASE)
        now = self._clock.now()
        when = replied_at or now
        errors: dict[str, str] = {}
        if not text.strip():
            errors["text"] = "请填写答复当事人的内容"
        if when > now:
            errors["replied_at"] = "答复时间不能晚于现在"
        if errors:
            raise ValidationFailed(errors)

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            if when < case.received_at.replace(second=0, microsecond=0):
                raise ValidationFailed({"replied_at": "答复时间不能早于受理时间"})
            case.replied_at = when
            case.reply_method = method.value
            return {
                "summary": f"{chinese_date(when, parts='date_time')}{method.label}："
                f"{normalize_text(text)}",
                "data": {"method": method.value, "replied_at": when.isoformat()},
            }

        return self._step(actor, case_id, EventKind.REPLIED, "reply", apply)

    def record_onsite(self, actor: Actor, case_id: int, visit: OnsiteVisit) -> Changes:
        """现场督办: who went (the duty leader), when, to which department's window, and what
        came of it (seed 002: solved the same afternoon)."""
        actor.require(Permission.TRIAGE_CASE)
        errors: dict[str, str] = {}
        if not visit.leader.strip():
            errors["leader"] = "请填写督办的带班领导"
        if not visit.place.strip():
            errors["place"] = "请填写督办地点"
        if not visit.result.strip():
            errors["result"] = "请填写督办结果"
        if visit.at > self._clock.now():
            errors["at"] = "督办时间不能晚于现在"
        if errors:
            raise ValidationFailed(errors)

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            department = session.get(Department, visit.department_id)
            if department is None:
                raise ValidationFailed({"department": "请选择督办的部门"})
            return {
                "summary": (
                    f"{normalize_text(visit.leader)}于"
                    f"{chinese_date(visit.at, parts='date_time')}到{department.name}"
                    f"（{normalize_text(visit.place)}）现场督办；结果："
                    f"{normalize_text(visit.result)}"
                ),
                "data": {
                    "leader": normalize_text(visit.leader),
                    "at": visit.at.isoformat(),
                    "department": department.name,
                    "department_uuid": department.uuid,
                    "place": normalize_text(visit.place),
                    "result": normalize_text(visit.result),
                },
            }

        return self._step(actor, case_id, EventKind.ONSITE_SUPERVISED, "onsite", apply)

    def record_basis(
        self,
        actor: Actor,
        case_id: int,
        *,
        received_on: date,
        signed_by: str,
        scan: Path | None = None,
    ) -> Changes:
        """办不了: the department's written basis arrived, signed by its 主要负责人; the scan is
        kept as the case's material. Allowed after conclusion too: a missing basis stays due."""
        actor.require(Permission.TRIAGE_CASE)
        errors: dict[str, str] = {}
        if not signed_by.strip():
            errors["signed_by"] = "请填写签字的主要负责人"
        errors.update(length_errors({"signed_by": (signed_by, Case.basis_signed_by, "签字人")}))
        if received_on > self._clock.now().date():
            errors["received_on"] = "收到日期不能晚于今天"
        if errors:
            raise ValidationFailed(errors)
        with self._attachments.staged([scan] if scan is not None else []) as scans:
            return self._record_basis(actor, case_id, received_on, signed_by, *scans)

    def _record_basis(
        self,
        actor: Actor,
        case_id: int,
        received_on: date,
        signed_by: str,
        stored: StoredFile | None = None,
    ) -> Changes:
        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            _require_basis_due(case)
            case.basis_received_on = received_on
            case.basis_signed_by = normalize_text(signed_by)
            summary = (
                f"{chinese_date(received_on)}收到书面依据，主要负责人{case.basis_signed_by}签字"
            )
            if stored is not None:
                attach_files(session, case.id, [stored], user_name=actor.display_name, at=now)
                summary += f"；扫描件：{stored.filename}"
            return {
                "summary": summary,
                "data": {
                    "received_on": received_on.isoformat(),
                    "signed_by": case.basis_signed_by,
                    "scan_sha256": stored.sha256 if stored else None,
                },
            }

        return self._step(actor, case_id, EventKind.BASIS_RECEIVED, "basis_received", apply)

    def waive_basis(self, actor: Actor, case_id: int, reason: str) -> Changes:
        """A leader waives the written basis, with a reason: it leaves the calendar."""
        actor.require(Permission.WAIVE_BASIS)
        if not reason.strip():
            raise ValidationFailed({"reason": "请填写免除书面依据的理由"})
        too_long = length_errors({"reason": (reason, Case.basis_waived_reason, "免除理由")})
        if too_long:
            raise ValidationFailed(too_long)

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            _require_basis_due(case)
            case.basis_waived_reason = normalize_text(reason)
            case.basis_waived_by = actor.display_name
            return {
                "summary": f"免除书面依据，理由：{case.basis_waived_reason}",
                "data": {"reason": case.basis_waived_reason},
            }

        return self._step(actor, case_id, EventKind.BASIS_WAIVED, "basis_waived", apply)

    def withdraw(
        self, actor: Actor, case_id: int, reason: str, *, seen_version: int | None = None
    ) -> Changes:
        actor.require(Permission.WITHDRAW_CASE)
        if not reason.strip():
            raise ValidationFailed({"reason": "请填写撤回原因"})

        def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
            case.outcome = Outcome.WITHDRAWN.value
            case.concluded_at = now
            # The departments are told nothing more is owed: open assignments close with the
            # case, as at a reasoned conclusion, instead of falling overdue for ever.
            # Said as a withdrawal, not as a conclusion, wherever the closed one is shown.
            closed = _close_assignments(
                session,
                _open_assignments(session, case.id),
                actor,
                now,
                f"当事人撤回：{reason.strip()}",
                ClosedWith.WITHDRAWN,
            )
            summary = f"当事人撤回：{reason.strip()}"
            if not closed:
                return {"summary": summary}
            summary += f"；{_named(closed)}{ClosedWith.WITHDRAWN.label}"
            return {"summary": summary, "data": _closed_data(closed, ClosedWith.WITHDRAWN)}

        return self._step(actor, case_id, EventKind.WITHDRAWN, "withdraw", apply, seen_version)

    def add_attachments(self, actor: Actor, case_id: int, paths: Sequence[Path]) -> Changes:
        actor.require(Permission.REGISTER_CASE)
        now = self._clock.now()
        with self._attachments.staged(paths) as stored, self._db.write() as session:
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
        seen_version: int | None = None,
    ) -> Changes:
        return self._steps(actor, case_id, [(kind, action, apply)], seen_version)

    def _steps(
        self,
        actor: Actor,
        case_id: int,
        steps: Sequence[_Step],
        seen_version: int | None = None,
    ) -> Changes:
        """Guarded, audited steps in one transaction: each moves the status per the flow and
        adds an event to the timeline. ``seen_version``: refused if the case changed since."""
        now = self._clock.now()
        with self._db.write() as session:
            case = editable_case(session, case_id)
            if seen_version is not None and case.version != seen_version:
                raise ChangedElsewhere(
                    f"事项 {case.number} 在你打开之后已被修改（另一席位或窗口的操作，"
                    "或期限随节假日调整重算），这次的操作没有保存。"
                    "已重新读取，请核对最新情况后再操作。"
                )
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


def _unanswered_calls_this_round(session: Session, case_id: int) -> int:
    """Unanswered return-visit calls since the case was last concluded (a reopened case's new
    round is called afresh)."""
    concluded = (
        select(func.max(CaseEvent.id))
        .where(CaseEvent.case_id == case_id, CaseEvent.kind == EventKind.CONCLUDED.value)
        .scalar_subquery()
    )
    return (
        session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(
                CaseEvent.case_id == case_id,
                CaseEvent.kind == EventKind.VISIT_ATTEMPT.value,
                CaseEvent.id > func.coalesce(concluded, 0),
            )
        )
        or 0
    )


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


def _open_assignments(session: Session, case_id: int) -> list[Assignment]:
    return list(
        session.scalars(
            select(Assignment)
            .where(
                Assignment.case_id == case_id,
                Assignment.state.in_([s.value for s in OPEN]),
            )
            .order_by(Assignment.id)
        )
    )


def _describe(assignment: Assignment) -> str:
    kind = AssignmentKind(assignment.kind).label
    state = AssignmentState(assignment.state).label
    return f"{assignment.department.name}（{kind}，{state}）"


# The audit action of each way of closing (services/audit_log.py labels them).
CLOSE_ACTIONS = {
    ClosedWith.CONCLUDED: "close_assignment",
    ClosedWith.WITHDRAWN: "close_assignment_withdrawn",
}


def _close_assignments(
    session: Session,
    assignments: Sequence[Assignment],
    actor: Actor,
    now: datetime,
    reason: str,
    closed_with: ClosedWith,
) -> list[tuple[str, str]]:
    """Close the case's open assignments as it concludes (随办结关闭) or is withdrawn (随撤回关闭),
    each audited with ``closed_with``'s code. Returns (uuid, how it read before) of each."""
    closed: list[tuple[str, str]] = []
    for assignment in assignments:
        before = assignment.state
        closed.append((assignment.uuid, _describe(assignment)))
        assignment.state = check_step(Step.CLOSE, AssignmentState(before)).value
        assignment.version += 1
        audit.record(
            session,
            at=now,
            user_name=actor.username,
            action=CLOSE_ACTIONS[closed_with],
            entity="assignment",
            entity_uuid=assignment.uuid,
            before={"state": before},
            after={"state": assignment.state, "reason": reason, "closed_with": closed_with.value},
        )
    return closed


def _closed_data(closed: Sequence[tuple[str, str]], closed_with: ClosedWith) -> dict[str, Any]:
    """The ending event's record of what it closed, read back by :func:`_closures` (and sent
    with the case's timeline to the city)."""
    return {"closed_with": closed_with.value, "closed_assignments": [uuid for uuid, _ in closed]}


def _named(closed: Sequence[tuple[str, str]]) -> str:
    return "、".join(name for _, name in closed)


def _closures(session: Session, case: Case) -> dict[int, ClosedWith]:
    """How each closed assignment of the case was closed, from the ending events that closed
    them. An event from before these were recorded: a withdrawn case's closed ones were closed
    by the withdrawal unless a conclusion gave a reason for closing."""
    closed = session.execute(
        select(Assignment.id, Assignment.uuid).where(
            Assignment.case_id == case.id, Assignment.state == AssignmentState.CLOSED.value
        )
    ).all()
    if not closed:
        return {}
    endings = session.scalars(
        select(CaseEvent.data).where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind.in_([EventKind.CONCLUDED.value, EventKind.WITHDRAWN.value]),
        )
    ).all()
    by_uuid: dict[str, ClosedWith] = {}
    reasoned_conclusion = False
    for data in endings:
        data = data or {}
        reasoned_conclusion |= bool(data.get("close_reason"))
        code = str(data.get("closed_with", ""))
        if code in ClosedWith._value2member_map_:
            for uuid in data.get("closed_assignments", ()):
                by_uuid[uuid] = ClosedWith(code)
    older = (
        ClosedWith.WITHDRAWN
        if case.outcome == Outcome.WITHDRAWN.value and not reasoned_conclusion
        else ClosedWith.CONCLUDED
    )
    return {assignment_id: by_uuid.get(uuid, older) for assignment_id, uuid in closed}


def _draft_reassignment(
    session: Session,
    actor: Actor,
    case: Case,
    calendar: WorkdayCalendar,
    now: datetime,
    grade: VisitGrade,
    note: str,
) -> str:
    """The draft assignment a 不满意 visit proposes, to the department that last had the case,
    for the duty leader to sign: made in the visit's transaction (assignments.draft_in). What
    keeps it from being drafted (no department ever had the case, it has stopped, the case was
    never triaged) is said on the timeline, for a clerk to assign by hand; any other failure
    refuses the whole visit. Returns the text for the reopening's summary."""
    if not actor.can(Permission.TRIAGE_CASE):
        return ""
    department_id = session.scalar(
        select(Assignment.department_id)
        .where(
            Assignment.case_id == case.id,
            Assignment.kind != AssignmentKind.ASSIST.value,
            Assignment.state != AssignmentState.VOIDED.value,
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    if department_id is None:
        department_id = case.stuck_department_id
    department = session.get(Department, department_id) if department_id is not None else None
    if department is None:
        return ""
    if not department.active:
        return f"；原承办部门{department.name}已停用，未自动拟办交办，请另行交办"
    if case.nature is None:
        return "；事项未经甄别分类，未自动拟办交办，请甄别分类后交办"
    requirements = (
        f"当事人回访评价为“{grade.label}”（{note.strip()}），事项重办。"
        "请重新办理，解决当事人反映的问题，并按期反馈办理结果。"
    )
    draft_in(
        session,
        actor,
        case,
        now=now,
        calendar=calendar,
        department_id=department.id,
        requirements=requirements,
    )
    return f"；已拟办交办{department.name}，待带班领导签发"


def _require_basis_due(case: Case) -> None:
    if case.basis_due_date is None:
        raise UserError("该事项不需要书面依据（只有“办不了”的事项需要部门提交书面依据）")
    if case.basis_received_on is not None:
        raise UserError(f"书面依据已于{chinese_date(case.basis_received_on)}收到")
    if case.basis_waived_reason:
        raise UserError(f"书面依据已由{case.basis_waived_by}免除")


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
        "basis_received_on": case.basis_received_on,
        "basis_signed_by": case.basis_signed_by,
        "basis_waived_reason": case.basis_waived_reason,
        "replied_at": case.replied_at,
        "reply_method": case.reply_method,
        "visit_attempts": case.visit_attempts,
        "visit_retry_on": case.visit_retry_on,
        "visit_reasons": list(case.visit_reasons or ()),
    }


def _clause(text: str) -> str:
    """``text`` as a clause that another follows after "；" (its own full stop dropped: the
    timeline said 已办结。；电话答复)."""
    return text.strip().rstrip("。；;.")


def _conclusion_texts(events: Sequence[CaseEvent]) -> tuple[str, str]:
    """办理情况 and 答复内容 as the newest 办结 recorded them."""
    for event in reversed(events):
        if event.kind == EventKind.CONCLUDED.value:
            data = event.data if isinstance(event.data, dict) else {}
            return str(data.get("what_was_done", "")), str(data.get("reply_text", ""))
    return "", ""
