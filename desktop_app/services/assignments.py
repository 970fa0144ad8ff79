"""交办: assignments to departments and the numbered, signed papers that carry them.

A clerk drafts an assignment from a triaged case (a lead department and any assisting ones, the
requirements, a deadline from the rules); a duty leader or administrator signs (签发) it, which
takes a gap-free slip number, freezes the slip's content with its hash and the site's signature,
and moves the case into 办理中. The department's receipt, answer, extension, return, the 催办
notice and the 督办 escalation follow, each guarded, audited and on the case's timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from desktop_app.documents.slip_content import PaperKind, ReceiptContent, SlipContent
from desktop_app.domain.assignment_flow import (
    ADJUST_SERIES,
    OUTSTANDING,
    URGE_SERIES,
    AssignmentKind,
    AssignmentState,
    ExtensionState,
    Step,
    check_step,
    extended_due,
    series_of,
    slip_number,
    slip_series,
)
from desktop_app.domain.case_flow import EventKind, advance
from desktop_app.domain.deadlines import RuleKey, apply_deadline, assignment_rule
from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import WINDOW_PHONE
from desktop_app.domain.validation import mask_id_number, mask_phone, normalize_text
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    ComplainantKind,
    Nature,
    chinese_date,
)
from desktop_app.domain.workdays import Deadline, WorkdayCalendar
from desktop_app.errors import NotFound, UserError, ValidationFailed
from desktop_app.services import audit, integrity, receipts, settings
from desktop_app.services.calendar import CalendarService, rules_in
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.keys import SiteKeys, SlipCheck, sign_slip
from desktop_app.services.ownership import editable_case
from desktop_app.services.roster import RosterService
from desktop_app.services.sealing import Sealer
from desktop_app.services.site import PaperSettings, read_paper_settings
from desktop_app.services.timeline import add_event
from desktop_app.services.verification import check_paper
from desktop_app.storage.database import Database
from desktop_app.storage.models import (
    Assignment,
    Case,
    Department,
    NumberSequence,
    Site,
    Slip,
)
from desktop_app.storage.numbering import next_number

MAX_ASSIGNMENT_DAYS = 60
# Where the number goes on a draft's preview: it is taken only when the leader signs.
DRAFT_NUMBER = "〔签发时编号〕"


@dataclass(frozen=True)
class AssignmentInfo:
    id: int
    case_id: int
    kind: AssignmentKind
    state: AssignmentState
    department: str
    department_id: int
    requirements: str
    working_days: int
    due_date: date
    original_due_date: date
    deadline_note: str
    issued_at: datetime | None
    signer: str
    received_on: date | None
    received_by: str
    response: str
    extension_state: ExtensionState
    extension_days: int | None
    extension_reason: str
    returned_reason: str
    parent_id: int | None
    slip_numbers: tuple[str, ...]
    # 暂定: the current deadline passes through a year whose holidays are not known yet.
    due_provisional: bool = False
    # What the department's paper in hand says (the slip, or the newest 时限调整通知); None
    # before signing. It differs from ``due_date`` when the calendar (an imported schedule)
    # or an approved extension moved the deadline after the paper was issued.
    paper_due_date: date | None = None
    paper_provisional: bool = False

    @property
    def outstanding(self) -> bool:
        return self.state in OUTSTANDING

    @property
    def paper_differs(self) -> bool:
        """纸面时限 and 现行时限 name different days: the leader may issue a 时限调整通知.

        Only 暂定 lifted, the day the same, is not a difference the department must be told
        in writing (:attr:`deadline_confirmed`)."""
        return self.paper_due_date is not None and self.paper_due_date != self.due_date

    @property
    def deadline_confirmed(self) -> bool:
        """The paper's 暂定 deadline is now known to be right: 时限已确认，不再暂定."""
        return (
            self.paper_due_date == self.due_date
            and self.paper_provisional
            and not self.due_provisional
        )


@dataclass(frozen=True)
class SlipInfo:
    id: int
    number: str
    kind: PaperKind
    assignment_id: int
    department: str
    issued_at: datetime
    print_count: int
    voided: bool


@dataclass(frozen=True)
class SigningPreview:
    """What signing a draft now would do: the number it takes and the deadline it sets."""

    number: str
    due_date: date
    provisional: bool  # the deadline passes through a year whose holidays are not known yet
    on_duty: str = ""  # today's duty leader on the roster ("" : nobody is)
    # Said when the signer is not today's duty leader on the roster (the seeds: the leader on
    # rotation signs and answers for it); signing stays theirs to decide. "" when they are.
    duty_note: str = ""


class AssignmentService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        calendar: CalendarService,
        roster: RosterService,
        keys: SiteKeys,
        sealer: Sealer,
    ) -> None:
        self._db = db
        self._clock = clock
        self._calendar = calendar
        self._roster = roster
        self._keys = keys
        self._sealer = sealer

    # Reading --------------------------------------------------------------------------------

    def for_case(self, case_id: int) -> list[AssignmentInfo]:
        calendar = self._calendar.calendar()
        with self._db.read() as session:
            rows = session.scalars(
                select(Assignment).where(Assignment.case_id == case_id).order_by(Assignment.id)
            ).all()
            slips = _slip_numbers(session, [a.id for a in rows])
            papers = _paper_deadlines(session, rows)
            return [
                _with_deadlines(_info(a, slips.get(a.id, ())), calendar, a, papers.get(a.id))
                for a in rows
            ]

    def get(self, assignment_id: int) -> AssignmentInfo:
        calendar = self._calendar.calendar()
        with self._db.read() as session:
            assignment = _get(session, assignment_id)
            info = _info(assignment, _slip_numbers(session, [assignment.id]).get(assignment.id, ()))
            paper = _paper_deadlines(session, [assignment]).get(assignment.id)
            return _with_deadlines(info, calendar, assignment, paper)

    def slips_for_case(self, case_id: int) -> list[SlipInfo]:
        with self._db.read() as session:
            rows = session.execute(
                select(Slip, Assignment)
                .join(Assignment, Slip.assignment_id == Assignment.id)
                .where(Assignment.case_id == case_id)
                .order_by(Slip.id)
            ).all()
            return [_slip_info(slip, assignment) for slip, assignment in rows]

    def recent_slips(self, limit: int = 500) -> list[tuple[SlipInfo, int, str, str]]:
        """The newest papers with their case (id, number, title), in one query."""
        with self._db.read() as session:
            rows = session.execute(
                select(Slip, Assignment, Case.id, Case.number, Case.title)
                .join(Assignment, Slip.assignment_id == Assignment.id)
                .join(Case, Assignment.case_id == Case.id)
                .order_by(Slip.issued_at.desc(), Slip.id.desc())
                .limit(limit)
            ).all()
            return [
                (_slip_info(slip, assignment), case_id, number, title)
                for slip, assignment, case_id, number, title in rows
            ]

    def slip_content(self, number: str) -> tuple[SlipInfo, SlipContent]:
        with self._db.read() as session:
            row = session.execute(
                select(Slip, Assignment)
                .join(Assignment, Slip.assignment_id == Assignment.id)
                .where(Slip.number == number.strip())
            ).first()
            if row is None:
                raise NotFound(f"找不到编号为“{number}”的交办单")
            slip, assignment = row
            content = self._sealer.open_content(slip.content)
            return _slip_info(slip, assignment), SlipContent.from_json(content)

    def default_days(self, case_id: int) -> int:
        """The working days the rule of the case's paper gives a new assignment (a 办不了
        case's 依据告知单: the written-basis period, not the same-day answer)."""
        with self._db.read() as session:
            case = _get_case(session, case_id)
            return rules_in(session).working_days(_assignment_rule(case))

    def draft_wording(self, case_id: int) -> str:
        """The office's default wording for a new draft's requirements ({天数} and {事项} still
        in it): a 办不了 case's paper asks for the written basis, any other for the matter to
        be handled (系统设置 → 公文设置)."""
        with self._db.read() as session:
            case = _get_case(session, case_id)
            office = read_paper_settings(session)
            if _paper_kind(AssignmentKind.ASSIGN, case) is PaperKind.BASIS_REQUEST:
                return office.basis_wording
            return office.requirements_wording

    # Drafting -------------------------------------------------------------------------------

    def create(
        self,
        actor: Actor,
        case_id: int,
        *,
        department_id: int,
        requirements: str,
        assisting_ids: Sequence[int] = (),
        working_days: int | None = None,
        deadline_note: str = "",
        kind: AssignmentKind = AssignmentKind.ASSIGN,
        parent_id: int | None = None,
    ) -> tuple[list[int], Changes]:
        """Draft a lead assignment (and one per assisting department). Nothing is numbered yet."""
        actor.require(Permission.TRIAGE_CASE)
        requirements = requirements.strip()
        deadline_note = normalize_text(deadline_note)
        errors: dict[str, str] = {}
        if not requirements:
            errors["requirements"] = "请填写交办要求：办什么、办到什么程度、如何反馈"
        if department_id in assisting_ids:
            errors["assisting"] = "承办单位不能同时是协办单位"
        default = self.default_days(case_id)
        days = default if working_days is None else working_days
        if not 0 <= days <= MAX_ASSIGNMENT_DAYS:
            errors["working_days"] = f"办理时限应在0到{MAX_ASSIGNMENT_DAYS}个工作日之间"
        elif days != default and not deadline_note:
            errors["deadline_note"] = f"期限规则为{default}个工作日；改为{days}个工作日请说明理由"
        if errors:
            raise ValidationFailed(errors)
        now = self._clock.now()
        calendar = self._calendar.calendar()
        with self._db.write() as session:
            case = editable_case(session, case_id)
            ids = draft_in(
                session,
                actor,
                case,
                now=now,
                calendar=calendar,
                department_id=department_id,
                requirements=requirements,
                assisting_ids=assisting_ids,
                working_days=days,
                deadline_note=deadline_note,
                kind=kind,
                parent_id=parent_id,
            )
        return ids, Changes(cases=True, case_ids=(case_id,))

    # Signing --------------------------------------------------------------------------------

    def next_slip_number(self, assignment_id: int) -> str:
        """The number signing this draft would take now, without taking it.

        Another leader signing first takes it; :meth:`issue` with ``expected_number`` then
        refuses instead of signing under a number nobody confirmed.
        """
        now = self._clock.now()
        with self._db.read() as session:
            lead = _draft_lead(session, assignment_id)
            site = _site(session)
            series = slip_series(AssignmentKind(lead.kind))
            last = session.scalar(
                select(NumberSequence.last_value).where(
                    NumberSequence.kind == f"slip-{series}", NumberSequence.year == now.year
                )
            )
            return slip_number(_prefix(session, site), series, now.year, (last or 0) + 1)

    def signing_preview(self, actor: Actor, assignment_id: int) -> SigningPreview:
        """The number and deadline the leader confirms before signing, as :meth:`issue` would
        set them now (the deadline counted from today with today's calendar).

        Pass both to :meth:`issue` (``expected_number``, ``expected_due``): if either changed
        meanwhile, nothing is signed.
        """
        actor.require(Permission.VIEW_CASES)
        today = self._clock.now().date()
        calendar = self._calendar.calendar()
        number = self.next_slip_number(assignment_id)
        with self._db.read() as session:
            lead = _draft_lead(session, assignment_id)
            deadline = _deadline_if_signed(lead, today, calendar)
        leader = self._roster.leader_on(today)
        on_duty = leader.staff_name if leader is not None else ""
        if not on_duty:
            note = "今日值班表上没有带班领导。"
        elif on_duty != actor.display_name:
            note = f"今日带班领导是{on_duty}，您（{actor.display_name}）不在今日值班表上。"
        else:
            note = ""
        return SigningPreview(number, deadline.due, deadline.provisional, on_duty, note)

    def draft_slip_pdf(self, actor: Actor, assignment_id: int) -> bytes:
        """A draft's paper as signing it today would print it, marked 草稿 and without a number.

        Nothing is numbered, stored or counted. The signer is the actor if they may sign (the
        duty leader looking before signing); for a clerk the line stays empty.
        """
        from desktop_app.documents.slip_pdf import render_slip

        actor.require(Permission.VIEW_CASES)
        now = self._clock.now()
        window_phone = self._window_phone()
        calendar = self._calendar.calendar()
        with self._db.read() as session:
            lead = _draft_lead(session, assignment_id)
            case = _get_case(session, lead.case_id)
            site = _site(session)
            assists = _draft_assists(session, lead)
            signing = _deadline_if_signed(lead, now.date(), calendar)  # as issue() would set it
            due = signing.due
            content = _content(
                self._sealer,
                case,
                lead,
                assists,
                _paper_kind(AssignmentKind(lead.kind), case),
                DRAFT_NUMBER,
                site,
                signer=actor.display_name if actor.can(Permission.SIGN_SLIP) else "",
                issued_at=now,
                window_phone=window_phone,
                earlier=_earlier_number(session, lead),
                qr_payload="",
                due_date=due,
            )
        return render_slip(replace(content, due_provisional=signing.provisional), draft=True)

    def issue(
        self,
        actor: Actor,
        assignment_id: int,
        *,
        expected_number: str | None = None,
        expected_due: date | None = None,
    ) -> tuple[str, Changes]:
        """签发: number the slip, freeze and sign its content, send the case to 办理中.

        The lead's assisting drafts are issued with it on the same slip. The deadline counts
        from the day of signing. ``expected_number`` and ``expected_due``: the number and
        deadline the leader confirmed (:meth:`signing_preview`); if another signature took the
        number, or the deadline moved (midnight passed, the calendar changed), nothing is
        signed and a UserError says so.
        """
        actor.require(Permission.SIGN_SLIP)
        self._keys.ensure()
        now = self._clock.now()
        window_phone = self._window_phone()
        calendar = self._calendar.calendar()
        with self._db.write() as session:
            if actor.user_id is not None:  # a role given by SQL signs nothing (integrity.py)
                integrity.require_intact_user(session, actor.user_id)
            lead = _get(session, assignment_id)
            if AssignmentKind(lead.kind) is AssignmentKind.ASSIST:
                raise UserError("协办单位随承办单位一起签发，请签发承办单位的交办")
            check_step(Step.ISSUE, AssignmentState(lead.state))
            case = editable_case(session, lead.case_id)
            site = _site(session)
            assists = _draft_assists(session, lead)
            kind = AssignmentKind(lead.kind)
            paper = _paper_kind(kind, case)
            series = slip_series(kind)
            # Every character must print before a number is taken: a refused paper uses none.
            _refuse_unprintable(
                _content(
                    self._sealer,
                    case,
                    lead,
                    assists,
                    paper,
                    slip_number(_prefix(session, site), series, now.year, 1),
                    site,
                    signer=actor.display_name,
                    issued_at=now,
                    window_phone=window_phone,
                    earlier=_earlier_number(session, lead),
                    qr_payload="",
                ),
                paper,
            )
            seq = next_number(session, f"slip-{series}", now.year)
            number = slip_number(_prefix(session, site), series, now.year, seq)
            if expected_number is not None and number != expected_number:
                raise UserError(
                    f"编号{expected_number}已被另一次签发占用，本次将是{number}。"
                    "未签发，请重新点“签发”确认新编号。"
                )
            deadline = _deadline_if_signed(lead, now.date(), calendar)
            if expected_due is not None and deadline.due != expected_due:
                raise UserError(
                    f"办理时限已变为{chinese_date(deadline.due)}（原确认"
                    f"{chinese_date(expected_due)}）。未签发，请重新点“签发”确认新时限。"
                )
            for assignment in [lead, *assists]:
                # Drafted on an earlier day, or under another calendar: counted again today.
                if assignment.due_start != deadline.start or assignment.due_date != deadline.due:
                    assignment.due_start = deadline.start
                    assignment.due_date = assignment.original_due_date = deadline.due
            earlier = _earlier_number(session, lead)
            content = _content(
                self._sealer,
                case,
                lead,
                assists,
                paper,
                number,
                site,
                signer=actor.display_name,
                issued_at=now,
                window_phone=window_phone,
                earlier=earlier,
                qr_payload="",
            )
            content = replace(content, due_provisional=deadline.provisional)  # printed 暂定
            slip = self._sign_and_store(session, site, lead, content, seq)
            for assignment in [lead, *assists]:
                assignment.state = AssignmentState.ISSUED.value
                assignment.issued_at = now
                assignment.signer_name = actor.display_name
                assignment.version += 1
            # The case's deadline is now the lead department's.
            case.status = advance(CaseStatus(case.status), EventKind.ASSIGNED).value
            apply_deadline(case, deadline, _assignment_rule(case))
            case.version += 1
            case.updated_at = now
            helpers = "、".join(a.department.name for a in assists)
            summary = (
                f"{kind.label}{lead.department.name}"
                + (f"（协办：{helpers}）" if helpers else "")
                + f"，{lead.working_days}个工作日，{chinese_date(lead.due_date)}前办结；"
                f"{paper.label} {number}，签发人 {actor.display_name}"
            )
            _event(session, case, EventKind.ASSIGNED, summary, actor, now, {"slip": number})
            session.flush()
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="issue_slip",
                entity="slip",
                entity_uuid=slip.uuid,
                after={
                    "number": number,
                    "content_hash": slip.content_hash,
                    "case": case.number,
                    "due_date": lead.due_date,
                },
            )
            case_id = case.id
        return number, Changes(cases=True, case_ids=(case_id,))

    # The department's side ------------------------------------------------------------------

    def receive(
        self, actor: Actor, assignment_id: int, *, received_on: date, received_by: str
    ) -> Changes:
        actor.require(Permission.TRIAGE_CASE)
        received_by = normalize_text(received_by)
        if not received_by:
            raise ValidationFailed({"received_by": "请填写签收人"})
        if received_on > self._clock.now().date():
            raise ValidationFailed({"received_on": "签收日期不能晚于今天"})

        def apply(session: Session, a: Assignment, case: Case, now: datetime) -> str:
            check_step(Step.RECEIVE, AssignmentState(a.state))
            if a.issued_at is not None and received_on < a.issued_at.date():
                raise ValidationFailed({"received_on": "签收日期不能早于签发日期"})
            a.state = AssignmentState.RECEIVED.value
            a.received_on = received_on
            a.received_by = received_by
            return f"{a.department.name}于{chinese_date(received_on)}签收（签收人：{received_by}）"

        return self._step(actor, assignment_id, EventKind.RECEIVED, "receive", apply)

    def respond(
        self,
        actor: Actor,
        assignment_id: int,
        response: str,
        *,
        responded_on: date | None = None,
    ) -> Changes:
        """The department's written answer, received ``responded_on`` (today if not given): an
        answer that came in on its due date and was recorded the day after is not late."""
        actor.require(Permission.TRIAGE_CASE)
        if not response.strip():
            raise ValidationFailed({"response": "请填写部门的办理结果"})
        if responded_on is not None and responded_on > self._clock.now().date():
            raise ValidationFailed({"responded_on": "反馈日期不能晚于今天"})

        def apply(session: Session, a: Assignment, case: Case, now: datetime) -> str:
            check_step(Step.RESPOND, AssignmentState(a.state))
            day = responded_on or now.date()
            since = a.received_on or (a.issued_at.date() if a.issued_at else None)
            if since is not None and day < since:
                raise ValidationFailed(
                    {"responded_on": f"反馈日期不能早于{'签收' if a.received_on else '签发'}日期"}
                )
            a.state = AssignmentState.RESPONDED.value
            # A day before today is kept as that day (its time was not recorded).
            a.responded_at = now if day == now.date() else datetime.combine(day, time())
            a.response = response.strip()
            late = day > a.due_date
            when = "" if day == now.date() else f"于{chinese_date(day)}"
            return f"{a.department.name}{when}反馈：{a.response}" + ("（超期反馈）" if late else "")

        return self._step(actor, assignment_id, EventKind.RESPONDED, "respond", apply)

    def request_extension(
        self, actor: Actor, assignment_id: int, *, days: int, reason: str
    ) -> Changes:
        actor.require(Permission.TRIAGE_CASE)
        if not 1 <= days <= MAX_ASSIGNMENT_DAYS:
            raise ValidationFailed({"days": f"延期天数应在1到{MAX_ASSIGNMENT_DAYS}个工作日之间"})
        if not reason.strip():
            raise ValidationFailed({"reason": "请填写延期理由"})

        def apply(session: Session, a: Assignment, case: Case, now: datetime) -> str:
            check_step(
                Step.REQUEST_EXTENSION,
                AssignmentState(a.state),
                today=now.date(),
                due=a.due_date,
                extension=ExtensionState(a.extension_state),
            )
            a.extension_state = ExtensionState.REQUESTED.value
            a.extension_days = days
            a.extension_reason = normalize_text(reason)
            return f"{a.department.name}申请延期{days}个工作日：{a.extension_reason}"

        return self._step(actor, assignment_id, EventKind.EXTENSION, "request_extension", apply)

    def decide_extension(self, actor: Actor, assignment_id: int, *, approve: bool) -> Changes:
        actor.require(Permission.SIGN_SLIP)
        calendar = self._calendar.calendar()

        def apply(session: Session, a: Assignment, case: Case, now: datetime) -> str:
            check_step(
                Step.DECIDE_EXTENSION,
                AssignmentState(a.state),
                extension=ExtensionState(a.extension_state),
            )
            if not approve:
                a.extension_state = ExtensionState.REFUSED.value
                return (
                    f"{a.department.name}的延期申请未批准，仍须于{chinese_date(a.due_date)}前办结"
                )
            a.extension_state = ExtensionState.APPROVED.value
            extra = a.extension_days or 0
            new_due = extended_due(calendar, a.due_date, extra)
            old_due = a.due_date
            a.due_date = new_due  # original_due_date keeps the first promise for statistics
            if AssignmentKind(a.kind) is not AssignmentKind.ASSIST and case.due_date == old_due:
                # The case's deadline: the extra days on top of its own start and days.
                start = case.due_start if case.due_start is not None else old_due
                days = (case.due_working_days or 0) + extra if case.due_start else extra
                apply_deadline(case, calendar.add(start, days), _assignment_rule(case))
            return (
                f"批准{a.department.name}延期{extra}个工作日，期限由{chinese_date(old_due)}"
                f"延至{chinese_date(new_due)}（批准人：{actor.display_name}）"
            )

        return self._step(actor, assignment_id, EventKind.EXTENSION, "decide_extension", apply)

    def return_assignment(self, actor: Actor, assignment_id: int, reason: str) -> Changes:
        """退回: the department says it is not theirs; the window reassigns it."""
        actor.require(Permission.TRIAGE_CASE)
        if not reason.strip():
            raise ValidationFailed({"reason": "请填写退回理由"})

        def apply(session: Session, a: Assignment, case: Case, now: datetime) -> str:
            check_step(Step.RETURN, AssignmentState(a.state))
            a.state = AssignmentState.RETURNED.value
            a.returned_reason = normalize_text(reason)
            return f"{a.department.name}退回交办：{a.returned_reason}；请重新交办"

        return self._step(actor, assignment_id, EventKind.RETURNED, "return", apply)

    def urge(self, actor: Actor, assignment_id: int) -> tuple[str, Changes]:
        """催办: the day after expiry, a numbered notice to the department.

        It asks for feedback by a working day counted from the notice (the 催办通知：反馈时限
        rule, 1 working day unless the office set another), never by the deadline that has
        already passed: a notice made on a Saturday asks for Monday (or the rule's day).
        """
        actor.require(Permission.TRIAGE_CASE)
        now = self._clock.now()
        window_phone = self._window_phone()
        calendar = self._calendar.calendar()
        with self._db.write() as session:
            a = _get(session, assignment_id)
            check_step(Step.URGE, AssignmentState(a.state), today=now.date(), due=a.due_date)
            case = editable_case(session, a.case_id)
            site = _site(session)
            feedback = calendar.add(
                now.date(), rules_in(session).working_days(RuleKey.URGE_FEEDBACK)
            )
            own = _slip_numbers(session, [a.id]).get(a.id, ())
            earlier = own[0] if own else ""
            content = _content(
                self._sealer,
                case,
                a,
                [],
                PaperKind.URGE,
                slip_number(_prefix(session, site), URGE_SERIES, now.year, 1),
                site,
                signer=actor.display_name,
                issued_at=now,
                window_phone=window_phone,
                earlier=earlier,
                qr_payload="",
                requirements=(
                    f"你单位承办的{earlier}{_matter_word(a)}已于{chinese_date(a.due_date)}到期，"
                    f"至今未反馈办理结果。请立即办理，并于{chinese_date(feedback.due)}前"
                    "向监督窗口书面反馈；逾期未办结的，将按规定督办并追究责任。"
                ),
                due_date=feedback.due,
            )
            number = self._number_and_sign(
                session,
                site,
                a,
                content,
                URGE_SERIES,
                working_days=feedback.working_days,
                due_provisional=feedback.provisional,
            )
            a.urged_at = now
            a.version += 1
            _event(
                session,
                case,
                EventKind.URGED,
                f"向{a.department.name}发出催办通知 {number}（原期限{chinese_date(a.due_date)}）",
                actor,
                now,
                {"slip": number},
            )
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="urge",
                entity="assignment",
                entity_uuid=a.uuid,
                after={"number": number},
            )
            case_id = case.id
        return number, Changes(cases=True, case_ids=(case_id,))

    def adjust_deadline(self, actor: Actor, assignment_id: int) -> tuple[str, Changes]:
        """时限调整通知: tell the department in writing that its deadline moved after its paper
        was issued (the year's holiday schedule imported, an extension approved).

        The issued paper stays as it was (frozen, signed); the notice is a paper of its own,
        numbered (杞纪窗调〔2026〕1号) and signed like the slip, naming the old and the new
        deadline. It goes to the lead department, on behalf of its assisting ones too (they
        travel on its slip). Refused when the paper already says what the deadline is.
        """
        actor.require(Permission.SIGN_SLIP)
        self._keys.ensure()
        now = self._clock.now()
        window_phone = self._window_phone()
        calendar = self._calendar.calendar()
        with self._db.write() as session:
            lead = _get(session, _paper_owner(_get(session, assignment_id)))
            state = AssignmentState(lead.state)
            if state not in OUTSTANDING:
                raise UserError(f"{state.label}的交办不需要调整办理时限")
            paper = _paper_deadlines(session, [lead]).get(lead.id)
            if paper is None:
                raise UserError("这项交办没有已签发的交办单，不需要调整通知")
            provisional = _provisional(calendar, lead.due_start, lead.due_date)
            if paper == (lead.due_date, provisional):
                raise UserError(
                    f"交办单上的办理时限与现行时限一致（{chinese_date(lead.due_date)}），"
                    "不需要发时限调整通知"
                )
            if paper[0] == lead.due_date:
                # Only 暂定 lifted (or set): a notice "from 8 January to 8 January" tells the
                # department nothing; the date on its paper stands.
                raise UserError(
                    f"办理时限未变（{chinese_date(lead.due_date)}），只是"
                    + ("不再暂定" if paper[1] else "改为暂定")
                    + "，交办单上的日期仍然有效，不需要发时限调整通知"
                )
            case = editable_case(session, lead.case_id)
            site = _site(session)
            assists = [
                a
                for a in session.scalars(
                    select(Assignment)
                    .where(
                        Assignment.parent_id == lead.id,
                        Assignment.kind == AssignmentKind.ASSIST.value,
                        Assignment.state.in_([s.value for s in OUTSTANDING]),
                    )
                    .order_by(Assignment.id)
                )
            ]
            extension = (
                lead.extension_days or 0
                if lead.extension_state == ExtensionState.APPROVED.value
                else 0
            )
            own = _slip_numbers(session, [lead.id]).get(lead.id, ())
            earlier = own[0] if own else ""
            old, new = _marked(paper[0], paper[1]), _marked(lead.due_date, provisional)
            # The calendar moves a deadline by an imported schedule or by one day the
            # administrator set (a local closure …): both are the holiday arrangement changing.
            reason = f"经批准延期{extension}个工作日" if extension else "节假日安排调整"
            content = _content(
                self._sealer,
                case,
                lead,
                assists,
                PaperKind.ADJUST,
                slip_number(_prefix(session, site), ADJUST_SERIES, now.year, 1),
                site,
                signer=actor.display_name,
                issued_at=now,
                window_phone=window_phone,
                earlier=earlier,
                qr_payload="",
                requirements=(
                    f"因{reason}，{earlier}的办理时限由{old}调整为{new}"
                    f"（自{chinese_date(lead.due_start)}起算{lead.working_days + extension}"
                    "个工作日）。原交办要求不变。"
                ),
                due_date=lead.due_date,
            )
            number = self._number_and_sign(
                session,
                site,
                lead,
                content,
                ADJUST_SERIES,
                working_days=lead.working_days + extension,
                due_provisional=provisional,
            )
            lead.version += 1
            _event(
                session,
                case,
                EventKind.NOTE,
                f"向{lead.department.name}发出时限调整通知 {number}：办理时限由{old}调整为"
                f"{new}，签发人 {actor.display_name}",
                actor,
                now,
                {"slip": number},
            )
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="adjust_deadline",
                entity="assignment",
                entity_uuid=lead.uuid,
                before={"paper_due_date": paper[0], "paper_provisional": paper[1]},
                after={"number": number, "due_date": lead.due_date, "provisional": provisional},
            )
            case_id = case.id
        return number, Changes(cases=True, case_ids=(case_id,))

    def escalate(
        self, actor: Actor, assignment_id: int, *, requirements: str, working_days: int
    ) -> tuple[list[int], Changes]:
        """督办: an overdue assignment escalated; the new 督办 draft is then signed as usual."""
        info = self.get(assignment_id)
        check_step(Step.ESCALATE, info.state, today=self._clock.now().date(), due=info.due_date)
        return self.create(
            actor,
            info.case_id,
            department_id=info.department_id,
            requirements=requirements,
            working_days=working_days,
            deadline_note="督办：按督办要求另定期限",
            kind=AssignmentKind.SUPERVISE,
            parent_id=assignment_id,
        )

    def void(self, actor: Actor, assignment_id: int, reason: str) -> Changes:
        """作废 a draft, or an issued assignment signed by mistake; its number stays used."""
        actor.require(Permission.SIGN_SLIP)
        if not reason.strip():
            raise ValidationFailed({"reason": "请填写作废理由"})

        def apply(session: Session, a: Assignment, case: Case, now: datetime) -> str:
            check_step(Step.VOID, AssignmentState(a.state))
            was_issued = a.state == AssignmentState.ISSUED.value
            a.state = AssignmentState.VOIDED.value
            numbers: list[str] = []
            for slip in session.scalars(select(Slip).where(Slip.assignment_id == a.id)):
                slip.voided = True
                slip.void_reason = normalize_text(reason)
                slip.voided_at = now
                slip.version += 1
                numbers.append(slip.number)
            what = f"（编号 {'、'.join(numbers)} 作废，不再使用）" if numbers else ""
            verb = "作废已签发的交办" if was_issued else "删除交办草稿"
            return f"{verb}：{a.department.name}{what}；理由：{normalize_text(reason)}"

        return self._step(actor, assignment_id, EventKind.NOTE, "void", apply)

    # Papers ---------------------------------------------------------------------------------

    def slip_pdf(self, actor: Actor, number: str, *, case_id: int | None = None) -> bytes:
        """What the next print of an issued slip will look like; opening it is not a print.

        The original if it was never printed here, else marked 补打 with the current time.
        Nothing is counted or stored: only :meth:`record_slip_output` (printing or saving) is.

        ``case_id``: the case the slip belongs to. At the city another site's paper may share
        the number; without a case this site's own comes first.
        """
        from desktop_app.documents.slip_pdf import render_slip

        actor.require(Permission.VIEW_CASES)
        now = self._clock.now()
        with self._db.read() as session:
            slip = _printable_slip(session, number, case_id)
            content = SlipContent.from_json(self._sealer.open_content(slip.content))
            reprint_at = now if _next_is_reprint(slip) else None
        return render_slip(content, reprint_at=reprint_at)

    def record_slip_output(
        self,
        actor: Actor,
        number: str,
        *,
        case_id: int | None = None,
        out: Path | None = None,
        deliver: Callable[[bytes], None] | None = None,
    ) -> bytes:
        """A slip goes to paper or to a file: count it, audit it and return the exact bytes.

        The first output of this site's own slip is the original (print_slip); every later one,
        and any of another site's papers printed here, is marked 补打 (reprint_slip). With
        ``out`` the file is written, and ``deliver`` (the printer) is given the bytes, before
        the count is committed: a failed write or print raises and counts nothing, so the next
        output is still the original.
        """
        from desktop_app.documents.slip_pdf import render_slip

        actor.require(Permission.PRINT_PAPERS)
        now = self._clock.now()
        with self._db.write() as session:
            slip = _printable_slip(session, number, case_id)
            content = SlipContent.from_json(self._sealer.open_content(slip.content))
            # Another site's paper printed here is a copy (补打): its record stays the issuer's.
            reprint_at = now if _next_is_reprint(slip) else None
            data = render_slip(content, reprint_at=reprint_at, out=out)
            if deliver is not None:
                deliver(data)  # raises if the paper did not come out: nothing is committed
            if slip.site_code == "":
                slip.print_count += 1
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="reprint_slip" if reprint_at else "print_slip",
                entity="slip",
                entity_uuid=slip.uuid,
                after={
                    "number": slip.number,
                    "print_count": slip.print_count,
                    "output": "file" if out is not None else "printer",
                },
            )
        return data

    def issue_receipt(self, case_id: int, *, actor: Actor | None = None) -> ReceiptContent:
        """The case's 受理回执 as of now, with its signed QR code (recorded so 核验 accepts it)."""
        with self._db.write() as session:
            return self._receipt(session, case_id, actor)

    def receipt_pdf(
        self, case_id: int, *, out: Path | None = None, actor: Actor | None = None
    ) -> bytes:
        """受理回执 for the complainant: rendered in the transaction that records it, so a
        receipt that cannot be printed is not recorded as issued."""
        from desktop_app.documents.slip_pdf import render_receipt

        with self._db.write() as session:
            return render_receipt(self._receipt(session, case_id, actor), out=out)

    def _receipt(self, session: Session, case_id: int, actor: Actor | None) -> ReceiptContent:
        self._keys.ensure()
        return receipts.issue_receipt(
            session,
            self._keys,
            _get_case(session, case_id),
            _site(session),
            rules=rules_in(session),
            window_phone=settings.read(session, WINDOW_PHONE),
            actor=actor,
            now=self._clock.now(),
        )

    def verify(self, payload: str) -> SlipCheck:
        """Check a paper's QR payload (scanned or typed) against this site's keys (current and
        retired) and those of the sites it trusts (a city checks its counties' slips); a voided
        slip, or one whose site's key was revoked, does not pass (services.verification)."""
        self._keys.ensure()
        local_keys = self._keys.signing_public_keys()
        with self._db.read() as session:
            return check_paper(session, payload, _site(session), local_keys)

    def _number_and_sign(
        self,
        session: Session,
        site: Site,
        assignment: Assignment,
        draft: SlipContent,
        series: str,
        **fields: Any,
    ) -> str:
        """Number a notice drafted under a stand-in number and freeze it; ``fields`` are set
        with the number. Every character must print before a number is taken: a refused paper
        uses none."""
        _refuse_unprintable(draft, draft.kind)
        year = draft.issued_at.year
        seq = next_number(session, f"slip-{series}", year)
        number = slip_number(_prefix(session, site), series, year, seq)
        self._sign_and_store(
            session, site, assignment, replace(draft, number=number, **fields), seq
        )
        return number

    def _sign_and_store(
        self, session: Session, site: Site, assignment: Assignment, content: SlipContent, seq: int
    ) -> Slip:
        """Freeze a paper: hash its content, sign number and hash, keep it as issued."""
        content_hash = content.content_hash()
        payload = sign_slip(self._keys, site.code, content.number, content_hash)
        signed = SlipContent.from_json(content.to_json() | {"qr_payload": payload})
        slip = Slip(
            assignment_id=assignment.id,
            kind=content.kind.value,
            number=content.number,
            year=content.issued_at.year,
            seq=seq,
            content=self._sealer.seal_content(signed.to_json()),
            content_hash=content_hash,
            qr_payload=payload,
            issued_at=content.issued_at,
        )
        session.add(slip)
        return slip

    def _window_phone(self) -> str:
        with self._db.read() as session:
            return settings.read(session, WINDOW_PHONE)

    def _step(
        self,
        actor: Actor,
        assignment_id: int,
        kind: EventKind,
        action: str,
        apply: Any,
    ) -> Changes:
        now = self._clock.now()
        with self._db.write() as session:
            a = _get(session, assignment_id)
            case = editable_case(session, a.case_id)
            before = {"state": a.state, "due_date": a.due_date, "extension": a.extension_state}
            summary = apply(session, a, case, now)
            a.version += 1
            _event(session, case, kind, summary, actor, now, {"assignment": a.uuid})
            after = {"state": a.state, "due_date": a.due_date, "extension": a.extension_state}
            old, new = audit.diff(before, after)
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action=action,
                entity="assignment",
                entity_uuid=a.uuid,
                before=old or None,
                # What was done and why (a void's reason), beside the state it changed.
                after={**new, "note": summary},
            )
            case_id = case.id
        return Changes(cases=True, case_ids=(case_id,))


def _refuse_unprintable(content: SlipContent, paper: PaperKind) -> None:
    """A UserError naming each character no font can draw and the field it is in."""
    from desktop_app.documents.fonts import font_advice
    from desktop_app.documents.slip_pdf import unprintable_fields

    found = unprintable_fields(content)
    if not found:
        return
    where = "；".join(
        f"{label}中的" + "、".join(f"“{char}”（U+{ord(char):04X}）" for char in chars)
        for label, chars in found
    )
    labels = {label for label, _chars in found}
    # The letterhead is the administrator's to change; a matter's wording the clerk's.
    letterhead = [label for label in _LETTERHEAD_FIELDS if label in labels]
    advice = []
    if letterhead:
        advice.append(f"请管理员在“系统设置 → 公文设置”中修改{'、'.join(letterhead)}")
    if labels - set(letterhead):
        advice.append("改用同音字并在具体情况中说明")
    raise UserError(
        f"本机字体无法打印{where}。未签发，编号未占用。"
        f"{font_advice(c for _label, chars in found for c in chars)}后再签发{paper.label}，"
        f"或{'；或'.join(advice)}。"
    )


# Fields printed from 公文设置 (the issuing body is the 签发单位 on the paper).
_LETTERHEAD_FIELDS = ("版头", "签发单位")


def draft_in(
    session: Session,
    actor: Actor,
    case: Case,
    *,
    now: datetime,
    calendar: WorkdayCalendar,
    department_id: int,
    requirements: str,
    assisting_ids: Sequence[int] = (),
    working_days: int | None = None,
    deadline_note: str = "",
    kind: AssignmentKind = AssignmentKind.ASSIGN,
    parent_id: int | None = None,
) -> list[int]:
    """The drafts of :meth:`AssignmentService.create` (checked there) in the caller's session,
    so another use case can make one in its own unit of work (a 不满意 visit's 重办 draft).
    Raises UserError when the case or a department cannot take one; the caller's transaction
    then rolls back whole. ``working_days`` defaults to the rule of the case's paper."""
    days = (
        rules_in(session).working_days(_assignment_rule(case))
        if working_days is None
        else working_days
    )
    deadline = calendar.add(now.date(), days)
    status = CaseStatus(case.status)
    if status not in (CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS):
        raise UserError(f"事项{status.label}，不能再交办")
    if case.nature is None and kind is not AssignmentKind.SUPERVISE:
        raise UserError("请先甄别分类（问题性质、处置方式），再交办")
    departments = {
        d.id: d
        for d in session.scalars(
            select(Department).where(
                Department.id.in_([department_id, *assisting_ids]),
                Department.active.is_(True),
            )
        )
    }
    missing = [i for i in [department_id, *assisting_ids] if i not in departments]
    if missing:
        raise ValidationFailed({"department": "所选部门不存在或已停用"})
    ids: list[int] = []
    lead: Assignment | None = None
    for index, target in enumerate([department_id, *assisting_ids]):
        assignment = Assignment(
            case_id=case.id,
            department_id=target,
            kind=(kind if index == 0 else AssignmentKind.ASSIST).value,
            state=AssignmentState.DRAFT.value,
            parent_id=parent_id if index == 0 else (lead.id if lead else None),
            requirements=requirements,
            due_start=now.date(),
            working_days=days,
            due_date=deadline.due,
            original_due_date=deadline.due,
            deadline_note=deadline_note,
            created_at=now,
            created_by=actor.display_name,
        )
        session.add(assignment)
        session.flush()
        if index == 0:
            lead = assignment
        ids.append(assignment.id)
        audit.record(
            session,
            at=now,
            user_name=actor.username,
            action="draft_assignment",
            entity="assignment",
            entity_uuid=assignment.uuid,
            after={
                "case": case.number,
                "department": departments[target].name,
                "kind": assignment.kind,
                "working_days": days,
                "due_date": deadline.due,
                "deadline_note": deadline_note,
            },
        )
    return ids


def _assignment_rule(case: Case) -> RuleKey:
    """The rule a case's assignment follows (:func:`deadlines.assignment_rule`: a 办不了 case's
    依据告知单 gets the written-basis period); for a case never triaged its own rule, else
    很难办 (e.g. a 督办 of one that came in before triage)."""
    if case.nature and case.approach:
        return assignment_rule(Nature(case.nature), Approach(case.approach))
    return RuleKey(case.due_rule) if case.due_rule else RuleKey.HARD


def _paper_kind(kind: AssignmentKind, case: Case) -> PaperKind:
    if kind is AssignmentKind.SUPERVISE:
        return PaperKind.SUPERVISE
    if case.nature == Nature.CANT.value:
        return PaperKind.BASIS_REQUEST
    return PaperKind.ASSIGN


def _content(
    sealer: Sealer,
    case: Case,
    lead: Assignment,
    assists: Sequence[Assignment],
    paper: PaperKind,
    number: str,
    site: Site,
    *,
    signer: str,
    issued_at: datetime,
    window_phone: str,
    earlier: str,
    qr_payload: str,
    requirements: str | None = None,
    due_date: date | None = None,
) -> SlipContent:
    # 公文设置 as they stand in the signing transaction (the case's session): frozen into the
    # paper, so a later change of the settings never alters a paper already issued.
    session = object_session(case)
    office = read_paper_settings(session) if session is not None else PaperSettings()
    phone_masked = office.mask_phone.get(paper.value, True)
    id_masked = office.mask_id.get(paper.value, True)
    matter = printed_matter(case, sealer, phone_masked=phone_masked, id_masked=id_masked)
    return SlipContent(
        kind=paper,
        number=number,
        issuer=office.issuer(site.name),
        case_number=case.number,
        lead_department=lead.department.name,
        assisting_departments=tuple(a.department.name for a in assists),
        complainant=matter["complainant"],
        complainant_contact=matter["complainant_contact"],
        complainant_id_masked=matter["complainant_id_masked"],
        matter_title=matter["matter_title"],
        matter_description=matter["matter_description"],
        nature=Nature(case.nature).label if case.nature else "",
        approach=Approach(case.approach).label if case.approach else "",
        visits=case.visits_count or 0,
        masthead=office.masthead,
        phone_masked=phone_masked,
        id_masked=id_masked,
        requirements=requirements if requirements is not None else lead.requirements,
        due_date=due_date or lead.due_date,
        working_days=lead.working_days,
        signer=signer,
        issued_at=issued_at,
        window_phone=window_phone,
        qr_payload=qr_payload,
        earlier_number=earlier,
    )


def printed_matter(
    case: Case, sealer: Sealer, *, phone_masked: bool = True, id_masked: bool = True
) -> dict[str, str]:
    """The complainant's and the matter's fields as a paper issued now prints them, the phone
    and ID masked or in full as the paper's kind is set (公文设置); 更正 compares an issued
    paper's content with these, masked as that paper was."""
    person = case.complainant
    enterprise = person.kind == ComplainantKind.ENTERPRISE.value
    contact = person.contact_person if enterprise else person.name
    clear_phone, clear_id = sealer.phone(person), sealer.id_number(person)
    phone = (mask_phone(clear_phone) if phone_masked else clear_phone) if clear_phone else ""
    identity = (
        person.credit_code
        if enterprise
        else ((mask_id_number(clear_id) if id_masked else clear_id) if clear_id else "")
    )
    return {
        "complainant": person.name,
        "complainant_contact": " ".join(p for p in (contact, phone) if p),
        "complainant_id_masked": identity,
        "matter_title": case.title,
        "matter_description": case.description,
    }


def _draft_lead(session: Session, assignment_id: int) -> Assignment:
    """The lead draft a draft belongs to: an assisting draft is signed on its lead's slip."""
    assignment = _get(session, assignment_id)
    if AssignmentKind(assignment.kind) is AssignmentKind.ASSIST and assignment.parent_id:
        assignment = _get(session, assignment.parent_id)
    if AssignmentState(assignment.state) is not AssignmentState.DRAFT:
        raise UserError("这项交办已不是草稿：请预览已签发的交办单")
    return assignment


def _draft_assists(session: Session, lead: Assignment) -> list[Assignment]:
    return list(
        session.scalars(
            select(Assignment)
            .where(
                Assignment.parent_id == lead.id,
                Assignment.kind == AssignmentKind.ASSIST.value,
                Assignment.state == AssignmentState.DRAFT.value,
            )
            .order_by(Assignment.id)
        )
    )


def _deadline_if_signed(lead: Assignment, today: date, calendar: WorkdayCalendar) -> Deadline:
    """The deadline counts from the day of signing: a draft signed later gets its full days.

    Always counted again with today's calendar, never the date stored with the draft: holidays
    entered since drafting move it, and the leader confirms the date signing will set.
    """
    return calendar.add(today, lead.working_days)


def _earlier_number(session: Session, lead: Assignment) -> str:
    """The 督办单 refers to the original 交办单 (the parent's first paper)."""
    if lead.parent_id is None:
        return ""
    parent_slips = _slip_numbers(session, [lead.parent_id]).get(lead.parent_id, ())
    return parent_slips[0] if parent_slips else ""


def _printable_slip(session: Session, number: str, case_id: int | None) -> Slip:
    query = select(Slip).where(Slip.number == number.strip())
    if case_id is not None:
        query = query.join(Assignment, Slip.assignment_id == Assignment.id).where(
            Assignment.case_id == case_id
        )
    slip = session.scalar(query.order_by(Slip.site_code))
    if slip is None:
        raise NotFound(f"找不到编号为“{number}”的交办单")
    if slip.voided:
        raise UserError(f"{slip.number}已作废，不能打印")
    return slip


def _next_is_reprint(slip: Slip) -> bool:
    """This site's slip is an original until first printed or saved; another site's is a copy."""
    return slip.print_count > 0 or slip.site_code != ""


def _event(
    session: Session,
    case: Case,
    kind: EventKind,
    summary: str,
    actor: Actor,
    now: datetime,
    data: dict[str, Any],
) -> None:
    advance(CaseStatus(case.status), kind)  # guard: the case must be in a state that allows it
    add_event(session, case.id, kind, summary, user_name=actor.display_name, at=now, data=data)
    case.version += 1
    case.updated_at = now


def _prefix(session: Session, site: Site) -> str:
    """The 发文字号 prefix as 公文设置 has it now: a number is made when a paper is signed, so a
    new prefix reaches papers issued afterwards and no number already given changes."""
    return read_paper_settings(session).prefix(site.short_name, site.slip_prefix)


def _site(session: Session) -> Site:
    site = session.scalar(select(Site).where(Site.is_local.is_(True)))
    if site is None:
        raise UserError("站点尚未初始化")
    return site


def _get(session: Session, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("交办记录不存在")
    return assignment


def _get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("事项不存在")
    return case


SUPERVISE_TEMPLATE: Final = (
    "你单位承办的{matter}已超过办理期限{urged}，现予督办。请于{days}个工作日内办结，"
    "书面报告办理结果及超期原因。"
)


def supervise_requirements(numbers: Sequence[str], days: int) -> str:
    """The 督办要求 a leader starts from, for an assignment with papers ``numbers``: the paper
    the department holds the matter by (its 交办单, or an earlier 督办单) and the 催办通知 sent
    since, each called what it is (a 催办通知 read as a "交办事项" on the paper)."""
    supervise = slip_series(AssignmentKind.SUPERVISE)
    held = [n for n in numbers if series_of(n) in (slip_series(AssignmentKind.ASSIGN), supervise)]
    urges = [n for n in numbers if series_of(n) == URGE_SERIES]
    if held:
        matter = held[0] + ("督办事项" if series_of(held[0]) == supervise else "交办事项")
    else:
        matter = "本交办事项"
    urged = f"，经{'、'.join(urges)}催办仍未办结" if urges else ""
    return SUPERVISE_TEMPLATE.format(matter=matter, urged=urged, days=days)


def _matter_word(a: Assignment) -> str:
    """What a paper calls the matter the department holds by ``a``'s own paper."""
    return "督办事项" if a.kind == AssignmentKind.SUPERVISE.value else "交办事项"


def _slip_numbers(session: Session, assignment_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Slip numbers per assignment; assisting departments travel on their lead's slip."""
    if not assignment_ids:
        return {}
    owners = {
        a_id: (parent if kind == AssignmentKind.ASSIST.value and parent is not None else a_id)
        for a_id, parent, kind in session.execute(
            select(Assignment.id, Assignment.parent_id, Assignment.kind).where(
                Assignment.id.in_(list(assignment_ids))
            )
        )
    }
    numbers: dict[int, list[str]] = {}
    for owner, number in session.execute(
        select(Slip.assignment_id, Slip.number)
        .where(Slip.assignment_id.in_(set(owners.values())))
        .order_by(Slip.id)
    ):
        numbers.setdefault(owner, []).append(number)
    return {a_id: tuple(numbers[owner]) for a_id, owner in owners.items() if owner in numbers}


def _info(a: Assignment, slips: tuple[str, ...]) -> AssignmentInfo:
    return AssignmentInfo(
        id=a.id,
        case_id=a.case_id,
        kind=AssignmentKind(a.kind),
        state=AssignmentState(a.state),
        department=a.department.name,
        department_id=a.department_id,
        requirements=a.requirements,
        working_days=a.working_days,
        due_date=a.due_date,
        original_due_date=a.original_due_date,
        deadline_note=a.deadline_note,
        issued_at=a.issued_at,
        signer=a.signer_name,
        received_on=a.received_on,
        received_by=a.received_by,
        response=a.response,
        extension_state=ExtensionState(a.extension_state),
        extension_days=a.extension_days,
        extension_reason=a.extension_reason,
        returned_reason=a.returned_reason,
        parent_id=a.parent_id,
        slip_numbers=slips,
    )


def _slip_info(slip: Slip, assignment: Assignment) -> SlipInfo:
    return SlipInfo(
        id=slip.id,
        number=slip.number,
        kind=PaperKind(slip.kind),
        assignment_id=slip.assignment_id,
        department=assignment.department.name,
        issued_at=slip.issued_at,
        print_count=slip.print_count,
        voided=slip.voided,
    )


# The papers that set a department's deadline (a 催办通知 asks for feedback, it sets none).
_DEADLINE_PAPERS = (
    PaperKind.ASSIGN.value,
    PaperKind.SUPERVISE.value,
    PaperKind.BASIS_REQUEST.value,
    PaperKind.ADJUST.value,
)


def _paper_owner(a: Assignment) -> int:
    """An assisting department travels on its lead's papers."""
    assisting = AssignmentKind(a.kind) is AssignmentKind.ASSIST and a.parent_id is not None
    return a.parent_id if assisting and a.parent_id is not None else a.id


def _paper_deadlines(
    session: Session, assignments: Sequence[Assignment]
) -> dict[int, tuple[date, bool]]:
    """The deadline (and 暂定) on each assignment's paper in the department's hand: the newest
    时限调整通知, else the slip it was issued on. Read from the frozen content, as printed."""
    owners = {a.id: _paper_owner(a) for a in assignments}
    if not owners:
        return {}
    rows = session.execute(
        select(Slip.assignment_id, Slip.kind, Slip.content)
        .where(
            Slip.assignment_id.in_(set(owners.values())),
            Slip.voided.is_(False),
            Slip.kind.in_(_DEADLINE_PAPERS),
        )
        .order_by(Slip.id)
    )
    papers: dict[int, tuple[date, bool]] = {}
    for owner, kind, content in rows:
        deadline = (
            date.fromisoformat(str(content["due_date"])),
            bool(content.get("due_provisional", False)),
        )
        if kind == PaperKind.ADJUST.value or owner not in papers:
            papers[owner] = deadline
    return {a_id: papers[owner] for a_id, owner in owners.items() if owner in papers}


def _marked(day: date, provisional: bool) -> str:
    return chinese_date(day) + ("（暂定）" if provisional else "")


def _provisional(calendar: WorkdayCalendar, start: date, due: date) -> bool:
    """暂定: a day from ``start`` to ``due`` lies in a year whose holidays are not known."""
    return any(not calendar.is_known(date(year, 1, 1)) for year in range(start.year, due.year + 1))


def _with_deadlines(
    info: AssignmentInfo,
    calendar: WorkdayCalendar,
    a: Assignment,
    paper: tuple[date, bool] | None,
) -> AssignmentInfo:
    return replace(
        info,
        due_provisional=_provisional(calendar, a.due_start, a.due_date),
        paper_due_date=paper[0] if paper else None,
        paper_provisional=paper[1] if paper else False,
    )
