"""联席会议 (issue 16): joint meetings, their minutes, and the follow-up assignments made from
their decisions (signed like any slip).

A meeting is recorded with what it took up — cases and classes (一类事) — each with its
discussion and decision. A decision may name a department and working days: that becomes a draft
assignment of the case through AssignmentService's drafting (the normal 新建交办 path: it waits
for the duty leader's signature and then becomes a numbered slip like any other; nothing is signed
here), in the meeting's own transaction: a draft that cannot be made leaves no meeting either.
The minutes (会议纪要) are numbered gap-free, 杞纪窗纪〔2026〕1号, when the meeting is recorded.
Each case taken up gets a 联席会议 event; every change is audited, so an edit after the fact keeps
what the minutes said before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from desktop_app.documents.minutes_pdf import MinutesContent, MinutesMatter, render_minutes
from desktop_app.domain.assignment_flow import slip_number
from desktop_app.domain.case_flow import EventKind, advance
from desktop_app.domain.permissions import Permission
from desktop_app.domain.validation import normalize_text
from desktop_app.domain.vocabulary import CaseStatus, chinese_date
from desktop_app.errors import NotFound, UserError, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.assignments import MAX_ASSIGNMENT_DAYS, draft_in
from desktop_app.services.calendar import calendar_in
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.limits import length_errors
from desktop_app.services.ownership import editable_case, require_made_here
from desktop_app.services.site import read_paper_settings
from desktop_app.services.timeline import add_event
from desktop_app.storage.database import Database
from desktop_app.storage.models import (
    Assignment,
    Case,
    Department,
    IssueClass,
    Meeting,
    MeetingItem,
    Site,
    Slip,
)
from desktop_app.storage.numbering import next_number

MINUTES_SERIES = "纪"  # 杞纪窗纪〔2026〕1号
NUMBER_KIND = f"meeting-{MINUTES_SERIES}"
# Cases a follow-up may be assigned in (as AssignmentService.create allows).
_ASSIGNABLE = frozenset({CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS})


@dataclass(frozen=True)
class ItemForm:
    """One matter as the form gives it: a case or a class, and what was decided.

    ``department_id`` (and optionally ``working_days``; None: the rule's days) asks for a
    follow-up assignment of the case. ``item_id`` names an existing item when editing.
    """

    case_id: int | None = None
    issue_class_id: int | None = None
    discussion: str = ""
    decision: str = ""
    department_id: int | None = None
    working_days: int | None = None
    item_id: int | None = None


@dataclass(frozen=True)
class MeetingForm:
    held_at: datetime
    chair: str
    topic: str
    place: str = ""
    attendees: tuple[str, ...] = ()
    summary: str = ""
    recorder: str = ""
    items: tuple[ItemForm, ...] = field(default=())


@dataclass(frozen=True)
class MeetingItemInfo:
    id: int
    case_id: int | None
    case_number: str
    case_title: str
    issue_class_id: int | None
    class_title: str
    discussion: str
    decision: str
    department_id: int | None
    department: str
    working_days: int | None
    assignment_id: int | None
    assignment_state: str  # AssignmentState value, "" without one
    due_date: date | None
    slip_number: str  # once the leader signed, else ""

    @property
    def matter(self) -> str:
        if self.case_id is not None:
            return f"{self.case_number} {self.case_title}"
        return f"一类事：{self.class_title}"


@dataclass(frozen=True)
class MeetingRow:
    id: int
    number: str
    held_at: datetime
    place: str
    chair: str
    topic: str
    attendees: tuple[str, ...]
    matters: int
    follow_ups: int


@dataclass(frozen=True)
class MeetingDetail:
    id: int
    number: str
    held_at: datetime
    place: str
    chair: str
    attendees: tuple[str, ...]
    topic: str
    summary: str
    recorder: str
    created_at: datetime
    updated_at: datetime
    items: tuple[MeetingItemInfo, ...]

    def form(self) -> MeetingForm:
        """The form that records this meeting as it is (the start of an edit)."""
        return MeetingForm(
            held_at=self.held_at,
            chair=self.chair,
            topic=self.topic,
            place=self.place,
            attendees=self.attendees,
            summary=self.summary,
            recorder=self.recorder,
            items=tuple(
                ItemForm(
                    case_id=i.case_id,
                    issue_class_id=i.issue_class_id,
                    discussion=i.discussion,
                    decision=i.decision,
                    department_id=i.department_id,
                    working_days=i.working_days,
                    item_id=i.id,
                )
                for i in self.items
            ),
        )


@dataclass(frozen=True)
class CaseChoice:
    id: int
    number: str
    title: str
    status: CaseStatus

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}（{self.status.label}）"


@dataclass(frozen=True)
class ClassChoice:
    id: int
    title: str


@dataclass(frozen=True)
class _Clean:
    """A form with its text normalised."""

    held_at: datetime
    chair: str
    topic: str
    place: str
    attendees: tuple[str, ...]
    summary: str
    recorder: str
    items: tuple[ItemForm, ...]


class MeetingService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # Reading --------------------------------------------------------------------------------

    def register(self, actor: Actor) -> list[MeetingRow]:
        """Every meeting, the newest first."""
        actor.require(Permission.VIEW_CASES)
        with self.db.read() as session:
            meetings = session.scalars(
                select(Meeting).order_by(Meeting.held_at.desc(), Meeting.id.desc())
            ).all()
            return [
                MeetingRow(
                    id=m.id,
                    number=m.number,
                    held_at=m.held_at,
                    place=m.place,
                    chair=m.chair,
                    topic=m.topic,
                    attendees=tuple(m.attendees or ()),
                    matters=len(m.items),
                    follow_ups=sum(1 for i in m.items if i.department_id is not None),
                )
                for m in meetings
            ]

    def get(self, actor: Actor, meeting_id: int) -> MeetingDetail:
        actor.require(Permission.VIEW_CASES)
        with self.db.read() as session:
            return _detail(session, _meeting(session, meeting_id))

    def for_case(self, actor: Actor, case_id: int) -> list[MeetingRow]:
        """The meetings that took up a case (for its detail page)."""
        ids = self._meeting_ids_for_case(case_id)
        return [row for row in self.register(actor) if row.id in ids]

    def _meeting_ids_for_case(self, case_id: int) -> set[int]:
        with self.db.read() as session:
            return set(
                session.scalars(
                    select(MeetingItem.meeting_id).where(MeetingItem.case_id == case_id)
                )
            )

    def find_cases(self, actor: Actor, text: str, limit: int = 20) -> list[CaseChoice]:
        """Cases whose number or title holds ``text``, for picking what a meeting took up."""
        actor.require(Permission.VIEW_CASES)
        text = normalize_text(text)
        if not text:
            return []
        pattern = f"%{text}%"
        with self.db.read() as session:
            rows = session.execute(
                select(Case.id, Case.number, Case.title, Case.status)
                .where(or_(Case.number.like(pattern), Case.title.like(pattern)))
                .order_by(Case.received_at.desc(), Case.id.desc())
                .limit(limit)
            ).all()
            return [CaseChoice(i, n, t, CaseStatus(s)) for i, n, t, s in rows]

    def classes(self, actor: Actor) -> list[ClassChoice]:
        """The classes (一类事) a meeting may take up, the newest first."""
        actor.require(Permission.VIEW_CASES)
        with self.db.read() as session:
            rows = session.execute(
                select(IssueClass.id, IssueClass.title).order_by(IssueClass.id.desc())
            ).all()
            return [ClassChoice(i, t) for i, t in rows]

    def minutes_content(self, actor: Actor, meeting_id: int) -> MinutesContent:
        actor.require(Permission.VIEW_CASES)
        with self.db.read() as session:
            meeting = _meeting(session, meeting_id)
            detail = _detail(session, meeting)
            site = _site(session)
            office = read_paper_settings(session)
            return MinutesContent(
                number=detail.number,
                issuer=office.issuer(site.name),
                masthead=office.masthead,
                topic=detail.topic,
                held_at=detail.held_at,
                place=detail.place,
                chair=detail.chair,
                attendees=detail.attendees,
                recorder=detail.recorder,
                summary=detail.summary,
                matters=tuple(_matter(item) for item in detail.items),
                issued_at=detail.created_at,
            )

    def minutes_pdf(self, actor: Actor, meeting_id: int, *, out: Path | None = None) -> bytes:
        """The 会议纪要 as a PDF (also written to ``out``)."""
        return render_minutes(self.minutes_content(actor, meeting_id), out=out)

    # Recording ------------------------------------------------------------------------------

    def record(self, actor: Actor, form: MeetingForm) -> tuple[int, Changes]:
        """Record a meeting: numbered minutes, a 联席会议 event on each case, and a draft
        assignment for each decision that names a department (signed later, like any draft)."""
        actor.require(Permission.MANAGE_MEETINGS)
        clean = self._validated(form)
        now = self.clock.now()
        with self.db.write() as session:
            self._check_matters(session, clean.items)
            site = _site(session)
            seq = next_number(session, NUMBER_KIND, now.year)
            prefix = read_paper_settings(session).prefix(site.short_name, site.slip_prefix)
            number = slip_number(prefix, MINUTES_SERIES, now.year, seq)
            meeting = Meeting(
                site_code=site.code,
                year=now.year,
                seq=seq,
                number=number,
                created_at=now,
                updated_at=now,
                **_header(clean),
            )
            session.add(meeting)
            meeting.items.extend(_new_item(item) for item in clean.items)
            session.flush()
            for row in meeting.items:
                if row.case_id is not None:
                    _case_event(session, row, number, actor, now)
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="record_meeting",
                entity="meeting",
                entity_uuid=meeting.uuid,
                after=_snapshot(session, meeting),
            )
            messages = _follow_up(session, actor, meeting, now)
            meeting_id = meeting.id
        return meeting_id, self._changes(meeting_id, messages)

    def update(self, actor: Actor, meeting_id: int, form: MeetingForm) -> Changes:
        """Correct a recorded meeting. The number stays; the audit log keeps what it said
        before. An item whose follow-up assignment exists keeps its department and days."""
        actor.require(Permission.MANAGE_MEETINGS)
        clean = self._validated(form)
        now = self.clock.now()
        with self.db.write() as session:
            meeting = _meeting(session, meeting_id)
            require_made_here(session, meeting, "会议纪要")
            before = _snapshot(session, meeting)
            existing = {item.id: item for item in meeting.items}
            self._check_matters(session, clean.items, existing)
            kept = {i.item_id for i in clean.items if i.item_id is not None}
            for gone in [item for item in meeting.items if item.id not in kept]:
                if gone.assignment_id is not None:
                    raise UserError(
                        f"“{_item_name(session, gone)}”已按会议决定生成交办，不能从纪要中删除"
                    )
                meeting.items.remove(gone)
            old_cases = {i.case_id for i in existing.values()}
            for index, item in enumerate(clean.items, start=1):
                if item.item_id is None:
                    meeting.items.append(_new_item(item))
                    continue
                row = existing.get(item.item_id)
                if row is None:
                    raise NotFound(f"第{index}项不属于这次会议")
                if row.assignment_id is not None and (
                    row.case_id != item.case_id
                    or row.department_id != item.department_id
                    or row.working_days != item.working_days
                ):
                    raise UserError(
                        f"第{index}项已按会议决定生成交办，不能再改事项、承办单位或时限；"
                        "请在事项的“交办”页中处理"
                    )
                row.case_id = item.case_id
                row.issue_class_id = item.issue_class_id
                row.discussion = item.discussion
                row.decision = item.decision
                row.department_id = item.department_id
                row.working_days = item.working_days
            for key, value in _header(clean).items():
                setattr(meeting, key, value)
            session.flush()
            for row in meeting.items:
                if row.case_id is not None and row.case_id not in old_cases:
                    _case_event(session, row, meeting.number, actor, now)
            after = _snapshot(session, meeting)
            if after != before:
                changed_before, changed_after = audit.diff(before, after)
                audit.record(
                    session,
                    at=now,
                    user_name=actor.username,
                    action="update_meeting",
                    entity="meeting",
                    entity_uuid=meeting.uuid,
                    before=changed_before | {"number": meeting.number},
                    after=changed_after,
                )
            messages = _follow_up(session, actor, meeting, now)
            if after == before and not messages:
                return Changes()
            meeting.version += 1
            meeting.updated_at = now
        return self._changes(meeting_id, messages)

    # Inside ---------------------------------------------------------------------------------

    def _validated(self, form: MeetingForm) -> _Clean:
        errors: dict[str, str] = {}
        chair = normalize_text(form.chair)
        topic = normalize_text(form.topic)
        attendees = tuple(dict.fromkeys(a for a in map(normalize_text, form.attendees) if a))
        if not chair:
            errors["chair"] = "请填写会议主持人"
        if not topic:
            errors["topic"] = "请填写会议议题"
        if not attendees:
            errors["attendees"] = "请选择参会单位"
        if form.held_at > self.clock.now():
            errors["held_at"] = "会议时间不能晚于现在：请在会后登记"
        if not form.items:
            errors["items"] = "请至少列入一项会议研究的事项或一类事"
        errors.update(
            length_errors(
                {
                    "chair": (chair, Meeting.chair, "主持人"),
                    "topic": (topic, Meeting.topic, "会议议题"),
                    "place": (form.place, Meeting.place, "会议地点"),
                    "recorder": (form.recorder, Meeting.recorder, "记录人"),
                }
            )
        )
        items: list[ItemForm] = []
        seen: set[tuple[str, int]] = set()
        for index, item in enumerate(form.items, start=1):
            message = _item_problem(item, seen)
            if message:
                errors.setdefault("items", f"第{index}项：{message}")
            items.append(
                ItemForm(
                    case_id=item.case_id,
                    issue_class_id=item.issue_class_id,
                    discussion=item.discussion.strip(),
                    decision=item.decision.strip(),
                    department_id=item.department_id,
                    working_days=item.working_days if item.department_id is not None else None,
                    item_id=item.item_id,
                )
            )
        if errors:
            raise ValidationFailed(errors)
        return _Clean(
            held_at=form.held_at.replace(second=0, microsecond=0),
            chair=chair,
            topic=topic,
            place=normalize_text(form.place),
            attendees=attendees,
            summary=form.summary.strip(),
            recorder=normalize_text(form.recorder),
            items=tuple(items),
        )

    def _check_matters(
        self,
        session: Session,
        items: Sequence[ItemForm],
        existing: dict[int, MeetingItem] | None = None,
    ) -> None:
        """Every case and class exists; every new follow-up can be drafted (checked before
        anything is written, so a refused follow-up leaves no half-recorded meeting)."""
        existing = existing or {}
        for index, item in enumerate(items, start=1):
            if (
                item.issue_class_id is not None
                and session.get(IssueClass, item.issue_class_id) is None
            ):
                raise ValidationFailed({"items": f"第{index}项：一类事不存在"})
            if item.case_id is None:
                continue
            case = editable_case(session, item.case_id)
            row = existing.get(item.item_id) if item.item_id is not None else None
            if item.department_id is None or (row is not None and row.assignment_id is not None):
                continue
            department = session.get(Department, item.department_id)
            if department is None or not department.active:
                raise ValidationFailed({"items": f"第{index}项：会后交办的承办单位不存在或已停用"})
            status = CaseStatus(case.status)
            if status not in _ASSIGNABLE:
                raise ValidationFailed(
                    {"items": f"第{index}项：事项{case.number}{status.label}，不能会后交办"}
                )
            if case.nature is None:
                raise ValidationFailed(
                    {"items": f"第{index}项：事项{case.number}尚未甄别分类，请先甄别分类再会后交办"}
                )

    def _changes(self, meeting_id: int, messages: tuple[str, ...]) -> Changes:
        with self.db.read() as session:
            case_ids = tuple(
                sorted(
                    {
                        i
                        for i in session.scalars(
                            select(MeetingItem.case_id).where(MeetingItem.meeting_id == meeting_id)
                        )
                        if i is not None
                    }
                )
            )
        return Changes(meetings=True, cases=bool(case_ids), case_ids=case_ids, messages=messages)


# --- helpers -------------------------------------------------------------------------------------


def _item_problem(item: ItemForm, seen: set[tuple[str, int]]) -> str:
    if (item.case_id is None) == (item.issue_class_id is None):
        return "请选择一个事项或一类事"
    key = ("case", item.case_id) if item.case_id is not None else ("class", item.issue_class_id)
    assert key[1] is not None
    if (key[0], key[1]) in seen:
        return "同一事项或一类事只列一次"
    seen.add((key[0], key[1]))
    if not item.decision.strip():
        return "请填写会议决定"
    if item.working_days is not None and item.department_id is None:
        return "会后交办请选择承办单位"
    if item.department_id is not None and item.case_id is None:
        return "会后交办只能针对具体事项，请把一类事中的事项逐项列入"
    if item.working_days is not None and not 0 <= item.working_days <= MAX_ASSIGNMENT_DAYS:
        return f"办理时限应在0到{MAX_ASSIGNMENT_DAYS}个工作日之间"
    return ""


def _header(clean: _Clean) -> dict[str, Any]:
    return {
        "held_at": clean.held_at,
        "place": clean.place,
        "chair": clean.chair,
        "attendees": list(clean.attendees),
        "topic": clean.topic,
        "summary": clean.summary,
        "recorder": clean.recorder,
    }


def _new_item(item: ItemForm) -> MeetingItem:
    return MeetingItem(
        case_id=item.case_id,
        issue_class_id=item.issue_class_id,
        discussion=item.discussion,
        decision=item.decision,
        department_id=item.department_id,
        working_days=item.working_days,
    )


def _follow_up(session: Session, actor: Actor, meeting: Meeting, now: datetime) -> tuple[str, ...]:
    """Draft the assignment of each decision that asks for one and has none yet, in the
    meeting's own session (:func:`draft_in`, AssignmentService's drafting): saving a meeting and
    drafting its follow-ups are one unit of work, so a draft refused or failed leaves no meeting
    whose decisions ask for follow-ups that were never drafted (the caller's write rolls back)."""
    pending = [
        (index, item)
        for index, item in enumerate(meeting.items, start=1)
        if item.case_id is not None and item.department_id is not None
        if item.assignment_id is None
    ]
    if not pending:
        return ()
    actor.require(Permission.TRIAGE_CASE)  # as AssignmentService.create asks of a draft
    calendar = calendar_in(session)
    for index, item in pending:
        assert item.case_id is not None and item.department_id is not None
        case = editable_case(session, item.case_id)
        try:
            ids = draft_in(
                session,
                actor,
                case,
                now=now,
                calendar=calendar,
                department_id=item.department_id,
                requirements=f"根据联席会议纪要（{meeting.number}）决定：{item.decision}",
                working_days=item.working_days,
                deadline_note=f"联席会议纪要{meeting.number}确定的时限",
            )
        except UserError as exc:
            problem = f"{case.number}的会后交办不能生成（{exc.message}），会议未保存"
            raise ValidationFailed({"items": f"第{index}项：{problem}"}) from exc
        item.assignment_id = ids[0]
        if item.working_days is None:  # the rule's days, as the draft took them
            item.working_days = session.get_one(Assignment, ids[0]).working_days
        audit.record(
            session,
            at=now,
            user_name=actor.username,
            action="meeting_follow_up",
            entity="meeting",
            entity_uuid=meeting.uuid,
            after={
                "number": meeting.number,
                "case": case.number,
                "assignment": ids[0],
                "department": _department_name(session, item.department_id),
                "working_days": item.working_days,
            },
        )
    return ("已按会议决定生成交办草稿，请值班领导在事项的“交办”页中签发",)


def _case_event(
    session: Session, item: MeetingItem, number: str, actor: Actor, now: datetime
) -> None:
    assert item.case_id is not None
    case = editable_case(session, item.case_id)
    advance(CaseStatus(case.status), EventKind.MEETING)  # allowed in every state; the guard
    summary = f"联席会议研究（会议纪要 {number}）：{item.decision}"
    if item.department_id is not None:
        department = session.get(Department, item.department_id)
        summary += f"；会后交办{department.name if department else ''}"
    add_event(
        session,
        case.id,
        EventKind.MEETING,
        summary,
        user_name=actor.display_name,
        at=now,
        data={"meeting": number},
    )
    case.version += 1
    case.updated_at = now


def _snapshot(session: Session, meeting: Meeting) -> dict[str, Any]:
    """What the audit log keeps of a meeting: enough to read what the minutes said."""
    return {
        "number": meeting.number,
        "held_at": meeting.held_at,
        "place": meeting.place,
        "chair": meeting.chair,
        "attendees": list(meeting.attendees or ()),
        "topic": meeting.topic,
        "summary": meeting.summary,
        "recorder": meeting.recorder,
        "items": [
            {
                "matter": _item_name(session, item),
                "discussion": item.discussion,
                "decision": item.decision,
                "department": _department_name(session, item.department_id),
                "working_days": item.working_days,
            }
            for item in meeting.items
        ],
    }


def _item_name(session: Session, item: MeetingItem) -> str:
    if item.case_id is not None:
        case = session.get(Case, item.case_id)
        return case.number if case else ""
    issue_class = session.get(IssueClass, item.issue_class_id) if item.issue_class_id else None
    return f"一类事：{issue_class.title}" if issue_class else ""


def _department_name(session: Session, department_id: int | None) -> str:
    if department_id is None:
        return ""
    department = session.get(Department, department_id)
    return department.name if department else ""


def _detail(session: Session, meeting: Meeting) -> MeetingDetail:
    assignment_ids = [i.assignment_id for i in meeting.items if i.assignment_id is not None]
    assignments = {
        a.id: a
        for a in session.scalars(select(Assignment).where(Assignment.id.in_(assignment_ids)))
    }
    slips: dict[int, str] = {}
    for assignment_id, number in session.execute(
        select(Slip.assignment_id, func.min(Slip.number))
        .where(Slip.assignment_id.in_(assignment_ids))
        .group_by(Slip.assignment_id)
    ):
        slips[assignment_id] = number
    items: list[MeetingItemInfo] = []
    for item in meeting.items:
        case = session.get(Case, item.case_id) if item.case_id is not None else None
        issue_class = (
            session.get(IssueClass, item.issue_class_id)
            if item.issue_class_id is not None
            else None
        )
        assignment = assignments.get(item.assignment_id) if item.assignment_id else None
        items.append(
            MeetingItemInfo(
                id=item.id,
                case_id=item.case_id,
                case_number=case.number if case else "",
                case_title=case.title if case else "",
                issue_class_id=item.issue_class_id,
                class_title=issue_class.title if issue_class else "",
                discussion=item.discussion,
                decision=item.decision,
                department_id=item.department_id,
                department=_department_name(session, item.department_id),
                working_days=item.working_days,
                assignment_id=item.assignment_id,
                assignment_state=assignment.state if assignment else "",
                due_date=assignment.due_date if assignment else None,
                slip_number=slips.get(item.assignment_id, "") if item.assignment_id else "",
            )
        )
    return MeetingDetail(
        id=meeting.id,
        number=meeting.number,
        held_at=meeting.held_at,
        place=meeting.place,
        chair=meeting.chair,
        attendees=tuple(meeting.attendees or ()),
        topic=meeting.topic,
        summary=meeting.summary,
        recorder=meeting.recorder,
        created_at=meeting.created_at,
        updated_at=meeting.updated_at,
        items=tuple(items),
    )


def _matter(item: MeetingItemInfo) -> MinutesMatter:
    follow_up = ""
    if item.department:
        days = f"{item.working_days}个工作日内" if item.working_days is not None else ""
        follow_up = f"交{item.department}{days}办理"
        if item.slip_number:
            follow_up += f"，交办单 {item.slip_number}"
            if item.due_date is not None:
                follow_up += f"，{chinese_date(item.due_date)}前办结"
        elif item.assignment_id is not None:
            follow_up += "（交办单待签发）"
        else:
            follow_up += "（交办待生成）"
    return MinutesMatter(
        matter=item.matter, discussion=item.discussion, decision=item.decision, follow_up=follow_up
    )


def _meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("会议记录不存在")
    return meeting


def _site(session: Session) -> Site:
    site = session.scalar(select(Site).where(Site.is_local.is_(True)))
    if site is None:
        raise UserError("站点尚未初始化")
    return site
