"""Demo office records beside the cases: a local closure, the duty roster, the deadline fields
triage and conclusion set, and the assignments with their signed slips."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from desktop_app.documents.slip_content import PaperKind, SlipContent
from desktop_app.domain.assignment_flow import (
    AssignmentKind,
    AssignmentState,
    ExtensionState,
    default_slip_prefix,
    slip_number,
    slip_series,
)
from desktop_app.domain.case_flow import EventKind
from desktop_app.domain.deadlines import RuleKey, assignment_rule, case_rule, deadline_fields
from desktop_app.domain.settings import (
    DEFAULT_REQUIREMENTS_WORDING,
    EXPORT_GENERATION,
    WINDOW_PHONE,
    requirements_wording,
)
from desktop_app.domain.validation import mask_id_number
from desktop_app.domain.vocabulary import Approach, CaseStatus, Nature, chinese_date
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.services import settings
from desktop_app.services.calendar import calendar_in, rules_in
from desktop_app.services.demo.generator import Staff
from desktop_app.services.demo.rows import new_uuid
from desktop_app.services.keys import SiteKeys, sign_slip
from desktop_app.services.sealing import Sealer
from desktop_app.storage.models import (
    Assignment,
    Attachment,
    Case,
    CaseEvent,
    Complainant,
    Department,
    DutyShift,
    DutyStaff,
    HolidayOverride,
    NumberSequence,
    Site,
    Slip,
)

_DEMO_WORDING = DEFAULT_REQUIREMENTS_WORDING  # the wording a new office starts with


def add_closure(session: Session, now: datetime) -> date:
    """A local closure about three weeks ahead, as an administrator would enter one."""
    calendar = WorkdayCalendar()
    day = now.date() + timedelta(days=20)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    session.add(
        HolidayOverride(
            day=day,
            working=False,
            name="大厅停电检修闭厅",
            created_at=now,
            created_by="系统管理员",
        )
    )
    session.flush()
    return day


def add_roster(session: Session, staff: Staff, today: date) -> None:
    """带班领导 in 14-day cycles (as in the generated timelines), clerks alternating daily."""
    calendar = calendar_in(session)
    leaders = []
    for index, name in enumerate(staff.leaders):
        person = DutyStaff(name=name, duty_role="leader", title=_LEADER_TITLES[index % 3])
        session.add(person)
        leaders.append(person)
    windows = []
    for _user_id, name in staff.clerks:
        person = DutyStaff(name=name, duty_role="window", title="坐窗人员")
        session.add(person)
        windows.append(person)
    session.flush()
    day = today - timedelta(days=45)
    turn = 0
    while day <= today + timedelta(days=75):
        if calendar.is_working_day(day):
            leader = leaders[(day.toordinal() // 14) % len(leaders)]
            session.add(DutyShift(day=day, duty_role="leader", period="day", staff_id=leader.id))
            clerk = windows[turn % len(windows)]
            session.add(DutyShift(day=day, duty_role="window", period="day", staff_id=clerk.id))
            turn += 1
        day += timedelta(days=1)
    session.flush()


_LEADER_TITLES = ("党风政风监督室主任", "第一纪检监察室副主任", "案件监督管理室主任")


def fill_deadlines(session: Session, now: datetime) -> None:
    """Give the generated cases the deadline fields that triage and conclusion set live."""
    calendar = calendar_in(session)
    rules = rules_in(session)
    visit_days = rules.working_days(RuleKey.VISIT)
    basis_days = rules.working_days(RuleKey.CANT_BASIS)
    rows = session.execute(
        select(
            Case.id,
            Case.status,
            Case.nature,
            Case.approach,
            Case.triaged_at,
            Case.due_date,
            Case.concluded_at,
        ).where(Case.triaged_at.is_not(None))
    ).all()
    updates: list[dict[str, Any]] = []
    for case_id, status, nature, approach, triaged_at, due, concluded_at in rows:
        if nature is None or approach is None or triaged_at is None:
            continue
        rule = case_rule(Nature(nature), Approach(approach))
        start = triaged_at.date()
        # A due date the story already set (an extension) is counted as the days up to it.
        days = rules.working_days(rule) if due is None else max(0, calendar.between(start, due))
        values: dict[str, Any] = {
            "id": case_id,
            **deadline_fields(calendar.add(start, days), rule),
            "basis_due_date": calendar.add(start, basis_days).due
            if nature == Nature.CANT.value and status in ("registered", "in_progress")
            else None,
            "visit_due_date": calendar.add(concluded_at.date(), visit_days).due
            if concluded_at is not None and status in ("concluded", "visited")
            else None,
            "basis_working_days": basis_days
            if nature == Nature.CANT.value and status in ("registered", "in_progress")
            else None,
            "visit_working_days": visit_days
            if concluded_at is not None and status in ("concluded", "visited")
            else None,
        }
        updates.append(values)
    for start_index in range(0, len(updates), 5000):
        session.execute(update(Case), updates[start_index : start_index + 5000])


def _answered_at(
    calendar: WorkdayCalendar,
    issued: datetime,
    received_on: date | None,
    days: int,
    case: Case,
    next_round: datetime | None,
    now: datetime,
) -> datetime:
    """When a department answered a round: some working days after it signed for it (a few
    of them late), never after the case was concluded, the next round issued, or now. Drawn
    from the round itself, so the demo's other draws stay the seed's."""
    draw = random.Random(f"{case.id}:{issued.isoformat()}")
    start = received_on or issued.date()
    spent = draw.randint(1, max(1, days)) + (draw.randint(1, 4) if draw.random() < 0.12 else 0)
    day = calendar.add(start, spent).due
    ends = [now, *(t for t in (case.concluded_at, next_round) if t is not None)]
    answered = datetime.combine(day, time(draw.randint(9, 16), draw.choice((0, 15, 30, 45))))
    earliest = max(issued + timedelta(minutes=30), datetime.combine(start, time(9, 0)))
    latest = min(ends) - timedelta(minutes=30)
    if latest < earliest:  # concluded within the hour: halfway between
        return issued + (min(ends) - issued) / 2
    return min(max(answered, earliest), latest)


def add_assignments(
    session: Session, keys: SiteKeys, rng: random.Random, now: datetime, sealer: Sealer
) -> None:
    """Real assignment records and signed slips for the 交办/督办 events in the timelines.

    Closed cases' assignments were answered; open cases' last assignment is issued, received,
    waiting for an extension decision or extended, and some overdue ones were urged (催办).
    Triaged cases not yet assigned get a draft waiting for the duty leader's signature.
    """
    site = session.scalar(select(Site).where(Site.is_local.is_(True)))
    assert site is not None
    prefix = site.slip_prefix or default_slip_prefix(site.short_name)
    window_phone = settings.read(session, WINDOW_PHONE)
    departments = {d.name: d.id for d in session.scalars(select(Department))}
    department_names = {v: k for k, v in departments.items()}
    calendar = calendar_in(session)
    urge_days = rules_in(session).working_days(RuleKey.URGE_FEEDBACK)
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.at, CaseEvent.data, Case, Complainant)
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Complainant, Complainant.id == Case.complainant_id)
        .where(CaseEvent.kind == EventKind.ASSIGNED.value)
        .order_by(CaseEvent.at, CaseEvent.id)
    ).all()
    last_of_case: dict[int, int] = {}
    next_round: dict[int, datetime] = {}  # row index → when the case's next round was issued
    any_returned = False
    for index, row in enumerate(rows):
        if row[0] in last_of_case:
            next_round[last_of_case[row[0]]] = row[1]
        last_of_case[row[0]] = index
    next_id = (session.scalar(select(func.max(Assignment.id))) or 0) + 1
    sequences: dict[tuple[str, int], int] = {}
    assignments: list[dict[str, Any]] = []
    slips: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    bumped: dict[int, int] = {}
    # A case whose deadline followed its round's extension: its working days and due date.
    extended: dict[int, tuple[int, date]] = {}

    def number(series: str, year: int) -> tuple[str, int]:
        seq = sequences.get((series, year), 0) + 1
        sequences[(series, year)] = seq
        return slip_number(prefix, series, year, seq), seq

    for index, (case_id, at, data, case, person) in enumerate(rows):
        supervise = data.get("kind") == "督办"
        kind = AssignmentKind.SUPERVISE if supervise else AssignmentKind.ASSIGN
        department_id = int(data["department_id"])
        due = date.fromisoformat(data["due_date"])
        days = int(data["working_days"])
        open_now = case.status == CaseStatus.IN_PROGRESS.value and last_of_case[case_id] == index
        state = AssignmentState.RESPONDED
        received_on: date | None = calendar.add(at.date(), 0 if rng.random() < 0.6 else 1).due
        extension, extra = ExtensionState.NONE, None
        due_now = due
        returned = False
        if open_now:
            roll = rng.random()
            if roll < 0.30:
                state, received_on = AssignmentState.ISSUED, None
            elif roll < 0.36 or not any_returned:
                # Sent back as not theirs: the case waits to be assigned again (at least one,
                # so the state shows).
                state, returned = AssignmentState.RETURNED, True
                any_returned = True
            else:
                state = AssignmentState.RECEIVED
                if roll > 0.92:
                    extension, extra = ExtensionState.REFUSED, rng.choice((5, 10))
                elif roll > 0.85 and due >= now.date():
                    extension, extra = ExtensionState.REQUESTED, rng.choice((3, 5))
                elif roll > 0.75:
                    extension, extra = ExtensionState.APPROVED, rng.choice((3, 5))
                    due_now = calendar.add(due, extra).due
                    if case.due_date == due and case.due_start is not None:
                        # As AssignmentService.decide_extension moves it: the days grow.
                        days_now = (case.due_working_days or 0) + extra
                        extended[case_id] = (days_now, calendar.add(case.due_start, days_now).due)
        if received_on is not None:  # not after today, the conclusion or the next round
            ends = [now, *(t for t in (case.concluded_at, next_round.get(index)) if t)]
            received_on = max(at.date(), min(received_on, *(t.date() for t in ends)))
        answered = None
        if not open_now:
            answered = _answered_at(
                calendar, at, received_on, days, case, next_round.get(index), now
            )
            if received_on is not None and received_on > answered.date():
                received_on = answered.date()  # signed for and answered on the spot
        series = slip_series(kind)
        slip_no, seq = number(series, at.year)
        lead_id = next_id
        next_id += 1
        assist_names = [a for a in data.get("assist", []) if a in departments]
        clear_phone = sealer.phone(person)
        content = SlipContent(
            kind=PaperKind.SUPERVISE
            if supervise
            else (
                PaperKind.BASIS_REQUEST if case.nature == Nature.CANT.value else PaperKind.ASSIGN
            ),
            number=slip_no,
            issuer=site.name,
            case_number=case.number,
            lead_department=department_names[department_id],
            assisting_departments=tuple(assist_names),
            complainant=person.name,
            complainant_contact=" ".join(
                p
                for p in (
                    person.contact_person or (person.name if person.kind == "person" else ""),
                    clear_phone,  # in full, as the office's papers print it by default
                )
                if p
            ),
            complainant_id_masked=person.credit_code
            or (mask_id_number(clear_id) if (clear_id := sealer.id_number(person)) else ""),
            matter_title=case.title,
            matter_description=case.description,
            requirements=requirements_wording(_DEMO_WORDING, days=days, title=case.title),
            due_date=due,
            working_days=days,
            signer=str(data.get("signed_by", "")),
            issued_at=at,
            window_phone=window_phone,
            qr_payload="",
        )
        content_hash = content.content_hash()
        payload = sign_slip(keys, site.code, slip_no, content_hash)
        stored = content.to_json() | {"qr_payload": payload}
        base = {
            "case_id": case_id,
            "state": state.value,
            "requirements": content.requirements,
            "due_start": at.date(),
            "working_days": days,
            "due_date": due_now,
            "original_due_date": due,
            "deadline_note": "",
            "created_at": at,
            "created_by": str(data.get("signed_by", "")),
            "issued_at": at,
            "signer_name": str(data.get("signed_by", "")),
            "received_on": received_on,
            "received_by": "办公室" if received_on else "",
            "responded_at": answered,
            "response": "" if open_now else "已办理，详见办结记录",
            "extension_state": extension.value,
            "extension_days": extra,
            "extension_reason": "需调取历史档案、协调相关单位" if extra else "",
            "returned_reason": "不属于本单位职责，建议交由相关主管部门办理" if returned else "",
            "urged_at": None,
            "version": 1,
        }
        assignments.append(
            base
            | {
                "id": lead_id,
                "uuid": new_uuid(rng),
                "department_id": department_id,
                "kind": kind.value,
                "parent_id": None,
            }
        )
        for name in assist_names:
            assignments.append(
                base
                | {
                    "id": next_id,
                    "uuid": new_uuid(rng),
                    "department_id": departments[name],
                    "kind": AssignmentKind.ASSIST.value,
                    "parent_id": lead_id,
                }
            )
            next_id += 1
        slips.append(
            {
                "uuid": new_uuid(rng),
                "version": 1,
                "assignment_id": lead_id,
                "kind": content.kind.value,
                "number": slip_no,
                "year": at.year,
                "seq": seq,
                "content": stored,
                "content_hash": content_hash,
                "qr_payload": payload,
                "issued_at": at,
                "print_count": 1,
                "voided": False,
                "void_reason": "",
            }
        )
        if not open_now:
            continue
        # The open assignment's own steps on the timeline.
        steps: list[tuple[EventKind, str]] = []
        if received_on is not None:
            name = department_names[department_id]
            steps.append((EventKind.RECEIVED, f"{name}于{chinese_date(received_on)}签收"))
        if extension is not ExtensionState.NONE:
            steps.append(
                (EventKind.EXTENSION, f"{department_names[department_id]}申请延期{extra}个工作日")
            )
        if returned:
            steps.append(
                (
                    EventKind.RETURNED,
                    f"{department_names[department_id]}退回交办：不属于本单位职责；请重新交办",
                )
            )
        if extension is ExtensionState.REFUSED:
            steps.append((EventKind.EXTENSION, f"延期申请未批准，仍须于{chinese_date(due)}前办结"))
        if extension is ExtensionState.APPROVED:
            steps.append(
                (
                    EventKind.EXTENSION,
                    f"批准延期{extra}个工作日，期限延至{chinese_date(due_now)}",
                )
            )
        if not returned and due_now < now.date() and rng.random() < 0.6:
            urge_no, urge_seq = number("催", now.year)
            # As AssignmentService.urge words it: a feedback date of its own, from today.
            feedback = calendar.add(now.date(), urge_days)
            urge = SlipContent.from_json(
                content.to_json()
                | {
                    "kind": PaperKind.URGE.value,
                    "number": urge_no,
                    "earlier_number": slip_no,
                    "issued_at": now.isoformat(),
                    "due_date": feedback.due.isoformat(),
                    "working_days": feedback.working_days,
                    "requirements": f"你单位承办的{slip_no}交办事项已于{chinese_date(due_now)}"
                    f"到期，至今未反馈办理结果。请立即办理，并于{chinese_date(feedback.due)}前"
                    "向监督窗口书面反馈；逾期未办结的，将按规定督办并追究责任。",
                }
            )
            urge_hash = urge.content_hash()
            urge_payload = sign_slip(keys, site.code, urge_no, urge_hash)
            slips.append(
                {
                    "uuid": new_uuid(rng),
                    "version": 1,
                    "assignment_id": lead_id,
                    "kind": PaperKind.URGE.value,
                    "number": urge_no,
                    "year": now.year,
                    "seq": urge_seq,
                    "content": urge.to_json() | {"qr_payload": urge_payload},
                    "content_hash": urge_hash,
                    "qr_payload": urge_payload,
                    "issued_at": now,
                    "print_count": 1,
                    "voided": False,
                    "void_reason": "",
                }
            )
            assignments[-1 - len(assist_names)]["urged_at"] = now
            steps.append((EventKind.URGED, f"发出催办通知 {urge_no}"))
        moment = at
        for kind_, summary in steps:
            moment = min(now, moment + timedelta(hours=rng.randint(2, 30)))
            events.append(
                {
                    "uuid": new_uuid(rng),
                    "version": 1,
                    "case_id": case_id,
                    "at": moment,
                    "kind": kind_.value,
                    "summary": summary,
                    "data": {},
                    "user_name": str(data.get("signed_by", "")),
                }
            )
        bumped[case_id] = bumped.get(case_id, 0) + len(steps)
    # Triaged, not yet assigned: a draft waiting for the duty leader.
    waiting = session.execute(
        select(
            Case.id,
            Case.stuck_department_id,
            Case.triaged_at,
            Case.nature,
            Case.approach,
            Case.title,
        ).where(Case.status == CaseStatus.REGISTERED.value, Case.nature.is_not(None))
    ).all()
    rules = rules_in(session)
    any_voided = False
    for waiting_case, stuck_department, triaged_at, nature, approach, waiting_title in waiting:
        if stuck_department is None or triaged_at is None or approach is None:
            continue
        if nature is None or rng.random() < 0.4:
            continue
        period = rules.working_days(assignment_rule(Nature(nature), Approach(approach)))
        due = calendar.add(triaged_at.date(), period).due
        # A draft to the wrong department, thrown away (at least one, so the state shows).
        voided = not any_voided or rng.random() < 0.15
        any_voided = any_voided or voided
        assignments.append(
            {
                "id": next_id,
                "uuid": new_uuid(rng),
                "case_id": waiting_case,
                "department_id": stuck_department,
                "kind": AssignmentKind.ASSIGN.value,
                "state": (AssignmentState.VOIDED if voided else AssignmentState.DRAFT).value,
                "parent_id": None,
                "requirements": requirements_wording(
                    _DEMO_WORDING, days=period, title=str(waiting_title)
                ),
                "due_start": triaged_at.date(),
                "working_days": period,
                "due_date": due,
                "original_due_date": due,
                "deadline_note": "",
                "created_at": triaged_at,
                "created_by": "受理员",
                "extension_state": "",
                "version": 1,
            }
        )
        next_id += 1
    for start in range(0, len(assignments), 5000):
        session.execute(insert(Assignment), assignments[start : start + 5000])
    for start in range(0, len(slips), 5000):
        session.execute(insert(Slip), slips[start : start + 5000])
    if events:
        session.execute(insert(CaseEvent), events)
    for case_id, n in bumped.items():
        # No session synchronisation: the loaded Case objects are not used afterwards, and
        # matching every one of them per statement made this quadratic.
        values: dict[str, Any] = {"version": Case.version + n}
        if case_id in extended:
            values["due_working_days"], values["due_date"] = extended[case_id]
        session.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    for (series, year), last in sequences.items():
        session.merge(NumberSequence(kind=f"slip-{series}", year=year, last_value=last))
    session.flush()


def stamp_for_export(session: Session) -> None:
    """Rows written in bulk (Core inserts) belong to the next export generation, like those the
    ORM writes (storage.models._mark_for_export)."""
    generation = settings.read(session, EXPORT_GENERATION) + 1
    for model in (Department, Complainant, Case, CaseEvent, Attachment, Assignment, Slip):
        session.execute(
            update(model).where(model.change_seq.is_(None)).values(change_seq=generation)
        )
