"""问责 (issue 16): referrals of officials for accountability, proposed by the window, sent as a
numbered 问题线索移交函 by the duty leader, decided by discipline staff.

A referral moves 拟移交 → 已移交 → 已处理, or 拟移交 → 不予移交 (dropped, with a reason). Sending
numbers it gap-free (杞纪窗移〔2026〕1号, the slips' prefix with 移) and freezes what the letter
says: the evidence assembled from the record (the timeline, missed deadlines, 催办 and 督办
papers, refused extensions, the return visit) and the letter's content. Each step is audited and
written on the case's timeline; 不给办 at triage proposes one by itself (:func:`on_wont`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from desktop_app.domain.assignment_flow import (
    AssignmentKind,
    AssignmentState,
    ExtensionState,
    slip_number,
)
from desktop_app.domain.case_flow import EVENT_LABELS, EventKind, advance
from desktop_app.domain.papers import PaperKind
from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import WINDOW_PHONE
from desktop_app.domain.validation import mask_phone, normalize_text
from desktop_app.domain.vocabulary import (
    CaseStatus,
    Conduct,
    Measure,
    Nature,
    ReferralRecipient,
    ReferralState,
    VisitGrade,
    chinese_date,
)
from desktop_app.errors import NotFound, UserError, ValidationFailed
from desktop_app.services import audit, settings
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.limits import length_errors
from desktop_app.services.ownership import editable_case, require_made_here
from desktop_app.services.sealing import Sealer
from desktop_app.services.site import read_paper_settings
from desktop_app.services.timeline import add_event
from desktop_app.storage.database import Database
from desktop_app.storage.models import Assignment, Case, CaseEvent, Referral, Site, Slip
from desktop_app.storage.numbering import next_number

SERIES = "移"  # the character of a letter's number: 杞纪窗移〔2026〕3号
SEQUENCE = "referral"  # its NumberSequence kind

# What each kind of evidence is called on the screen and in the letter.
EVIDENCE_LABELS = {
    "timeline": "办理记录",
    "overdue": "超期未办结",
    "paper": "催办督办",
    "extension_refused": "延期未获批准",
    "visit": "回访结果",
}
# Timeline entries that say nothing about the official's conduct.
_NOT_EVIDENCE = {EventKind.REFERRAL.value, EventKind.ATTACHMENT_ADDED.value}


@dataclass(frozen=True)
class Proposal:
    """What the window proposes: who, what they did, the facts; from a case (and an
    assignment)."""

    case_id: int
    person_name: str
    person_post: str = ""
    person_unit: str = ""
    conduct: tuple[Conduct, ...] = ()
    facts: str = ""
    assignment_id: int | None = None


# Waiting for someone: the leader (to send or drop) or discipline staff (to decide). The
# dashboard's 问责线索待处理 and the register's 待处理 are both this.
PENDING_STATES: Final = (ReferralState.PROPOSED, ReferralState.SENT)


@dataclass(frozen=True)
class ReferralFilter:
    text: str = ""  # number, person, unit, case number or title
    state: ReferralState | None = None
    pending: bool = False  # PENDING_STATES
    measure: Measure | None = None
    unit: str = ""  # the person's unit (a department's name, typically)
    proposed_from: date | None = None
    proposed_to: date | None = None


@dataclass(frozen=True)
class ReferralRow:
    id: int
    number: str
    case_id: int
    case_number: str
    case_title: str
    person_name: str
    person_post: str
    person_unit: str
    conduct: tuple[Conduct, ...]
    state: ReferralState
    measure: Measure | None
    recipient: ReferralRecipient | None
    recipient_name: str
    proposed_at: datetime
    proposed_by: str
    sent_at: datetime | None
    signer_name: str
    decided_at: datetime | None
    decided_by: str
    print_count: int

    @property
    def conduct_label(self) -> str:
        return "、".join(c.label for c in self.conduct)

    def as_json(self) -> dict[str, Any]:
        """For ``bbcs referrals --json``: codes and labels, dates as ISO text."""
        return {
            "number": self.number,
            "case": self.case_number,
            "case_title": self.case_title,
            "person": self.person_name,
            "post": self.person_post,
            "unit": self.person_unit,
            "conduct": [c.value for c in self.conduct],
            "conduct_label": self.conduct_label,
            "state": self.state.value,
            "state_label": self.state.label,
            "measure": self.measure.value if self.measure else "",
            "measure_label": self.measure.label if self.measure else "",
            "recipient": self.recipient.value if self.recipient else "",
            "recipient_name": self.recipient_name,
            "proposed_at": self.proposed_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "decided_by": self.decided_by,
        }


@dataclass(frozen=True)
class ReferralDetail:
    row: ReferralRow
    facts: str
    evidence: tuple[dict[str, Any], ...]  # frozen when sent; assembled afresh before
    decision_note: str
    dropped_reason: str
    content: dict[str, Any] = field(default_factory=dict)


class ReferralService:
    def __init__(self, db: Database, clock: Clock, sealer: Sealer) -> None:
        self.db = db
        self.clock = clock
        self.sealer = sealer

    # Reading ------------------------------------------------------------------------------

    def prefill(self, actor: Actor, case_id: int) -> Proposal:
        """A proposal as the case suggests it: the official complained about and their conduct
        (不给办 when the case was triaged so), the matter as the facts."""
        actor.require(Permission.VIEW_REFERRALS)
        with self.db.read() as session:
            case = _case(session, case_id)
            return _prefilled(case)

    def ids(self, actor: Actor, referral_filter: ReferralFilter = ReferralFilter()) -> list[int]:
        """The matching referrals, newest proposal first."""
        actor.require(Permission.VIEW_REFERRALS)
        with self.db.read() as session:
            query = _filtered(select(Referral.id), referral_filter)
            query = query.order_by(Referral.proposed_at.desc(), Referral.id.desc())
            return list(session.scalars(query))

    def rows(self, ids: Sequence[int]) -> list[ReferralRow]:
        """The rows for ``ids`` in the same order (for the register's lazy model)."""
        if not ids:
            return []
        with self.db.read() as session:
            found = session.execute(
                select(Referral, Case.number, Case.title)
                .join(Case, Referral.case_id == Case.id)
                .where(Referral.id.in_(list(ids)))
            ).all()
            by_id = {r.id: _row(r, number, title) for r, number, title in found}
        return [by_id[i] for i in ids if i in by_id]

    def register(
        self, actor: Actor, referral_filter: ReferralFilter = ReferralFilter()
    ) -> list[ReferralRow]:
        """Every matching referral's row (the CLI; the page reads rows a page at a time)."""
        return self.rows(self.ids(actor, referral_filter))

    def detail(self, actor: Actor, referral_id: int) -> ReferralDetail:
        actor.require(Permission.VIEW_REFERRALS)
        with self.db.read() as session:
            referral = _referral(session, referral_id)
            case = referral.case
            evidence = referral.evidence if referral.sent_at else self._evidence(session, case)
            return ReferralDetail(
                row=_row(referral, case.number, case.title),
                facts=referral.facts,
                evidence=tuple(evidence),
                decision_note=referral.decision_note,
                dropped_reason=referral.dropped_reason,
                content=dict(referral.content),
            )

    def for_case(self, actor: Actor, case_id: int) -> list[ReferralRow]:
        actor.require(Permission.VIEW_REFERRALS)
        with self.db.read() as session:
            ids = list(
                session.scalars(
                    select(Referral.id).where(Referral.case_id == case_id).order_by(Referral.id)
                )
            )
        return self.rows(ids)

    def evidence(self, actor: Actor, case_id: int) -> list[dict[str, Any]]:
        """What the record shows against the official, as the letter would list it now."""
        actor.require(Permission.VIEW_REFERRALS)
        with self.db.read() as session:
            return self._evidence(session, _case(session, case_id))

    def next_number(self) -> str:
        """The number sending a letter now would take (the leader confirms it)."""
        now = self.clock.now()
        with self.db.read() as session:
            last = session.scalar(
                select(func.max(Referral.seq)).where(
                    Referral.site_code == "", Referral.year == now.year
                )
            )
            return slip_number(_prefix(session), SERIES, now.year, (last or 0) + 1)

    # Steps --------------------------------------------------------------------------------

    def propose(self, actor: Actor, proposal: Proposal) -> tuple[int, Changes]:
        """提出问责: a proposal (拟移交) on the register and the case's timeline."""
        actor.require(Permission.PROPOSE_REFERRAL)
        errors: dict[str, str] = {}
        if not proposal.person_name.strip():
            errors["person_name"] = "请填写被反映人姓名"
        if not proposal.conduct:
            errors["conduct"] = "请至少选择一项问题表现"
        if not proposal.facts.strip():
            errors["facts"] = "请填写主要问题事实"
        errors.update(
            length_errors(
                {
                    "person_name": (proposal.person_name, Referral.person_name, "被反映人姓名"),
                    "person_post": (proposal.person_post, Referral.person_post, "职务"),
                    "person_unit": (proposal.person_unit, Referral.person_unit, "单位"),
                }
            )
        )
        if errors:
            raise ValidationFailed(errors)
        now = self.clock.now()
        with self.db.write() as session:
            case = editable_case(session, proposal.case_id)
            if proposal.assignment_id is not None:
                assignment = session.get(Assignment, proposal.assignment_id)
                if assignment is None or assignment.case_id != case.id:
                    raise NotFound("交办记录不存在或不属于本事项")
            referral = _add_proposal(session, actor, case, proposal, now)
        return referral.id, Changes(cases=True, case_ids=(proposal.case_id,), referrals=True)

    def send(
        self,
        actor: Actor,
        referral_id: int,
        *,
        recipient: ReferralRecipient,
        recipient_name: str,
        expected_number: str | None = None,
    ) -> tuple[str, Changes]:
        """签发移交函: number it, freeze the evidence and the letter, 已移交.

        ``expected_number``: the number the leader confirmed (:meth:`next_number`); if another
        letter took it meanwhile, nothing is sent.
        """
        actor.require(Permission.SEND_REFERRAL)
        name = normalize_text(recipient_name)
        if not name:
            raise ValidationFailed({"recipient_name": "请填写接收机关或单位的名称"})
        too_long = length_errors(
            {"recipient_name": (name, Referral.recipient_name, "接收机关或单位的名称")}
        )
        if too_long:
            raise ValidationFailed(too_long)
        now = self.clock.now()
        with self.db.write() as session:
            referral, case = _proposal(session, referral_id, "只有拟移交的线索才能签发移交函")
            seq = next_number(session, SEQUENCE, now.year)
            number = slip_number(_prefix(session), SERIES, now.year, seq)
            if expected_number is not None and number != expected_number:
                raise UserError(
                    f"编号{expected_number}已被另一份移交函占用，本次将是{number}。"
                    "未签发，请重新确认。"
                )
            referral.recipient = recipient.value
            referral.recipient_name = name
            referral.year, referral.seq, referral.number = now.year, seq, number
            referral.sent_at = now
            referral.signer_name = actor.display_name
            referral.evidence = self._evidence(session, case)
            referral.content = self._content(session, referral, case)
            # Every character must print before the number is taken: a refusal rolls it back.
            from desktop_app.documents.referral_letter import LetterContent, render_letter

            render_letter(LetterContent.from_json(referral.content))
            _step(
                session,
                actor,
                referral,
                case,
                now,
                ReferralState.SENT,
                "send_referral",
                f"签发问题线索移交函 {number}，移交{name}（{recipient.label}）；签发人"
                f"{actor.display_name}",
                {"recipient": recipient.value, "recipient_name": name, "number": number},
            )
        return number, Changes(cases=True, case_ids=(case.id,), referrals=True)

    def drop(self, actor: Actor, referral_id: int, reason: str) -> Changes:
        """不予移交: the leader decides a proposal is not sent, and says why."""
        actor.require(Permission.SEND_REFERRAL)
        why = normalize_text(reason)
        if not why:
            raise ValidationFailed({"reason": "请填写不予移交的理由"})
        too_long = length_errors({"reason": (why, Referral.dropped_reason, "不予移交的理由")})
        if too_long:
            raise ValidationFailed(too_long)
        now = self.clock.now()
        with self.db.write() as session:
            referral, case = _proposal(session, referral_id, "只有拟移交的线索才能不予移交")
            referral.dropped_reason = why
            _step(
                session,
                actor,
                referral,
                case,
                now,
                ReferralState.DROPPED,
                "drop_referral",
                f"问责线索（{referral.person_name}）不予移交：{why}",
                {"reason": why},
            )
        return Changes(cases=True, case_ids=(case.id,), referrals=True)

    def decide(
        self,
        actor: Actor,
        referral_id: int,
        *,
        measure: Measure,
        decided_on: date | None = None,
        decided_by: str = "",
        note: str = "",
    ) -> Changes:
        """登记处理结果 (纪检监察 only): the measure, or an outcome that protects the cadre."""
        actor.require(Permission.DECIDE_REFERRAL)
        now = self.clock.now()
        day = decided_on or now.date()
        errors: dict[str, str] = {}
        if day > now.date():
            errors["decided_on"] = "处理日期不能晚于今天"
        if measure.protects and not note.strip():
            errors["note"] = f"“{measure.label}”请写明核查情况"
        errors.update(
            length_errors({"decided_by": (decided_by, Referral.decided_by, "处理机关或人员")})
        )
        if errors:
            raise ValidationFailed(errors)
        with self.db.write() as session:
            referral = _referral(session, referral_id)
            require_made_here(session, referral, "问责线索")
            _require_state(referral, ReferralState.SENT, "只有已移交的线索才能登记处理结果")
            assert referral.sent_at is not None
            if day < referral.sent_at.date():
                raise ValidationFailed({"decided_on": "处理日期不能早于移交日期"})
            case = referral.case
            referral.decided_at = now if day == now.date() else datetime.combine(day, time())
            referral.decided_by = normalize_text(decided_by) or actor.display_name
            referral.measure = measure.value
            referral.decision_note = normalize_text(note)
            summary = (
                f"问责线索 {referral.number}（{referral.person_name}）处理结果：{measure.label}"
                f"（{chinese_date(day)}，{referral.decided_by}）"
            )
            if referral.decision_note:
                summary += f"；{referral.decision_note}"
            _step(
                session,
                actor,
                referral,
                case,
                now,
                ReferralState.DECIDED,
                "decide_referral",
                summary,
                {"measure": measure.value, "decided_on": day.isoformat()},
            )
        return Changes(cases=True, case_ids=(case.id,), referrals=True)

    # The letter ---------------------------------------------------------------------------

    def letter_pdf(self, actor: Actor, referral_id: int) -> bytes:
        """The 移交函 as sent (marked 补打 when a copy was already printed), to look at."""
        from desktop_app.documents.referral_letter import LetterContent, render_letter

        actor.require(Permission.VIEW_REFERRALS)
        with self.db.read() as session:
            referral = _sent(session, referral_id)
            content = LetterContent.from_json(referral.content)
            reprint = referral.print_count > 0
        return render_letter(content, reprint=reprint)

    def record_letter_output(
        self,
        actor: Actor,
        referral_id: int,
        *,
        out: Path | None = None,
        deliver: Callable[[bytes], None] | None = None,
    ) -> bytes:
        """The letter goes to paper or a file: counted and audited in one transaction; a failed
        write or print raises and counts nothing (as slips do)."""
        from desktop_app.documents.referral_letter import LetterContent, render_letter

        actor.require(Permission.PRINT_PAPERS)
        now = self.clock.now()
        with self.db.write() as session:
            referral = _sent(session, referral_id)
            # Another site's letter (a county's, at the city) is a copy: marked 补打, and its
            # count is the sender's to keep (changing it here would fork the record).
            received = bool(referral.origin_site)
            reprint = referral.print_count > 0 or received
            data = render_letter(LetterContent.from_json(referral.content), reprint=reprint)
            if out is not None:
                from desktop_app.files import write_atomically

                try:
                    write_atomically(out, data)
                except OSError as exc:
                    raise UserError(f"无法保存到 {out}：{exc.strerror or exc}") from exc
            if deliver is not None:
                deliver(data)
            if not received:
                referral.print_count += 1
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="reprint_referral" if reprint else "print_referral",
                entity="referral",
                entity_uuid=referral.uuid,
                after={
                    "number": referral.number,
                    "print_count": referral.print_count,
                    "output": "file" if out is not None else "printer",
                },
            )
        return data

    # Helpers ------------------------------------------------------------------------------

    def _evidence(self, session: Session, case: Case) -> list[dict[str, Any]]:
        return assemble_evidence(session, case, self.clock.now().date())

    def _content(self, session: Session, referral: Referral, case: Case) -> dict[str, Any]:
        site = _site(session)
        paper = read_paper_settings(session)
        complainant = case.complainant
        phone = self.sealer.phone(complainant)
        return {
            "number": referral.number,
            "issuer": paper.issuer(site.name),
            "masthead": paper.masthead,
            "recipient": ReferralRecipient(referral.recipient).label,
            "recipient_name": referral.recipient_name,
            "case_number": case.number,
            "case_title": case.title,
            "received_on": case.received_at.date().isoformat(),
            "complainant": complainant.name,
            "complainant_phone": mask_phone(phone) if phone else "",
            "person_name": referral.person_name,
            "person_post": referral.person_post,
            "person_unit": referral.person_unit,
            "conduct": [Conduct(c).label for c in referral.conduct],
            "facts": referral.facts,
            "evidence": [
                {
                    "kind": EVIDENCE_LABELS.get(e["kind"], e["kind"]),
                    "date": e["date"],
                    "text": e["text"],
                    "ref": e["ref"],
                }
                for e in referral.evidence
            ],
            "window_name": site.name,
            "window_phone": str(settings.read(session, WINDOW_PHONE)),
            "signer": referral.signer_name,
            "sent_on": referral.sent_at.date().isoformat() if referral.sent_at else "",
        }


# 不给办 at triage ----------------------------------------------------------------------------

_TriageStep = tuple[EventKind, str, Callable[[Session, Case, datetime], dict[str, Any]]]


def on_wont(db: Database, actor: Actor, case_id: int, nature: Nature) -> list[_TriageStep]:
    """The step CaseService.triage adds when a case is first triaged 不给办: a referral
    proposed in the same transaction (DESIGN §3: 不给办 = 5 working days plus 问责). The
    respondent fields prefill it; a re-triage that keeps 不给办 proposes nothing again."""
    if nature is not Nature.WONT:
        return []
    with db.read() as session:
        before = session.scalar(select(Case.nature).where(Case.id == case_id))
    if before == Nature.WONT.value:
        return []

    def apply(session: Session, case: Case, now: datetime) -> dict[str, Any]:
        proposal = _prefilled(case)
        referral = _new_referral(session, actor, case, proposal, now)
        return {
            "summary": _proposal_summary(referral) + "（不给办，系统自动提出）",
            "data": {"state": ReferralState.PROPOSED.value, "number": "", "automatic": True},
        }

    return [(EventKind.REFERRAL, "propose_referral", apply)]


# Module helpers ---------------------------------------------------------------------------


def assemble_evidence(session: Session, case: Case, today: date) -> list[dict[str, Any]]:
    """The record's evidence, oldest first: each {kind, date, text, ref}."""
    items: list[dict[str, Any]] = []
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    for event in events:
        if event.kind in _NOT_EVIDENCE:
            continue
        # Listed below as what they are: the 催办 notice, the refused extension.
        if event.kind == EventKind.URGED.value or (
            event.kind == EventKind.EXTENSION.value and "未批准" in event.summary
        ):
            continue
        label = (
            EVENT_LABELS[EventKind(event.kind)]
            if event.kind in EventKind._value2member_map_
            else event.kind
        )
        ref = str((event.data or {}).get("slip", ""))
        items.append(_item("timeline", event.at.date(), f"{label}：{event.summary}", ref))
    assignments = session.scalars(
        select(Assignment).where(Assignment.case_id == case.id).order_by(Assignment.id)
    ).all()
    for a in assignments:
        state = AssignmentState(a.state)
        if state in (AssignmentState.DRAFT, AssignmentState.VOIDED):
            continue
        kind = AssignmentKind(a.kind).label
        promised = chinese_date(a.original_due_date)
        moved = f"（延至{chinese_date(a.due_date)}）" if a.due_date != a.original_due_date else ""
        still_owed = state in (AssignmentState.ISSUED, AssignmentState.RECEIVED)
        if a.responded_at is None and still_owed and a.due_date < today:
            # Only an assignment still with the department is "not answered": one returned as
            # not theirs, or closed with the case, says nothing of the kind.
            late = (today - a.due_date).days
            items.append(
                _item(
                    "overdue",
                    a.due_date,
                    f"{a.department.name}（{kind}）办理时限{promised}{moved}，"
                    f"至今未反馈，已超期{late}天",
                    "",
                )
            )
        elif a.responded_at is not None and a.responded_at.date() > a.due_date:
            items.append(
                _item(
                    "overdue",
                    a.responded_at.date(),
                    f"{a.department.name}（{kind}）办理时限{promised}{moved}，"
                    f"实际于{chinese_date(a.responded_at.date())}反馈，超期"
                    f"{(a.responded_at.date() - a.due_date).days}天",
                    "",
                )
            )
        if ExtensionState(a.extension_state) is ExtensionState.REFUSED:
            refused_on = next(
                (
                    e.at.date()
                    for e in reversed(events)
                    if e.kind == EventKind.EXTENSION.value
                    and a.department.name in e.summary
                    and "未批准" in e.summary
                ),
                a.due_date,
            )
            items.append(
                _item(
                    "extension_refused",
                    refused_on,
                    f"{a.department.name}申请延期{a.extension_days or 0}个工作日"
                    f"（理由：{a.extension_reason or '未说明'}），未获批准",
                    "",
                )
            )
    papers = session.execute(
        select(Slip.kind, Slip.number, Slip.issued_at, Assignment.department_id)
        .join(Assignment, Slip.assignment_id == Assignment.id)
        .where(
            Assignment.case_id == case.id,
            Slip.voided.is_(False),
            Slip.kind.in_([PaperKind.URGE.value, PaperKind.SUPERVISE.value]),
        )
        .order_by(Slip.issued_at, Slip.id)
    ).all()
    names = {a.department_id: a.department.name for a in assignments}
    for kind_value, number, issued_at, department_id in papers:
        paper = PaperKind(kind_value)
        items.append(
            _item(
                "paper",
                issued_at.date(),
                f"向{names.get(department_id, '')}发出{paper.label}{number}",
                number,
            )
        )
    if case.visit_grade:
        grade = VisitGrade(case.visit_grade)
        visited = next(
            (e.at.date() for e in reversed(events) if e.kind == EventKind.VISITED.value),
            today,
        )
        items.append(_item("visit", visited, f"回访评价：{grade.label}", ""))
    items.sort(key=lambda i: str(i["date"]))  # stable: the timeline's order within a day
    return items


def _item(kind: str, day: date, text: str, ref: str) -> dict[str, Any]:
    return {"kind": kind, "date": day.isoformat(), "text": text, "ref": ref}


def _prefilled(case: Case) -> Proposal:
    conduct = [Conduct(c) for c in case.respondent_conduct if c in Conduct._value2member_map_]
    if case.nature == Nature.WONT.value and Conduct.WONT not in conduct:
        conduct.insert(0, Conduct.WONT)
    unit = case.respondent_unit or (case.stuck_department.name if case.stuck_department else "")
    return Proposal(
        case_id=case.id,
        person_name=case.respondent_name,
        person_post=case.respondent_post,
        person_unit=unit,
        conduct=tuple(conduct),
        facts=f"{case.title}。{case.description}".strip("。") + "。",
    )


def _add_proposal(
    session: Session, actor: Actor, case: Case, proposal: Proposal, now: datetime
) -> Referral:
    referral = _new_referral(session, actor, case, proposal, now)
    advance(CaseStatus(case.status), EventKind.REFERRAL)
    add_event(
        session,
        case.id,
        EventKind.REFERRAL,
        _proposal_summary(referral),
        user_name=actor.display_name,
        at=now,
        data={"state": ReferralState.PROPOSED.value, "number": ""},
    )
    case.version += 1
    case.updated_at = now
    return referral


def _new_referral(
    session: Session, actor: Actor, case: Case, proposal: Proposal, now: datetime
) -> Referral:
    """The proposal's row and its audit entry (the caller writes the timeline)."""
    referral = Referral(
        site_code="",
        case_id=case.id,
        assignment_id=proposal.assignment_id,
        person_name=normalize_text(proposal.person_name) or "（待核实）",
        person_post=normalize_text(proposal.person_post),
        person_unit=normalize_text(proposal.person_unit),
        conduct=[c.value for c in proposal.conduct],
        facts=proposal.facts.strip(),
        state=ReferralState.PROPOSED.value,
        proposed_at=now,
        proposed_by=actor.display_name,
        updated_at=now,
    )
    session.add(referral)
    session.flush()
    audit.record(
        session,
        at=now,
        user_name=actor.username,
        action="propose_referral",
        entity="referral",
        entity_uuid=referral.uuid,
        after={
            "case": case.number,
            "person_name": referral.person_name,
            "person_unit": referral.person_unit,
            "conduct": list(referral.conduct),
            "assignment_id": referral.assignment_id,
        },
    )
    return referral


def _proposal_summary(referral: Referral) -> str:
    who = "，".join(x for x in (referral.person_unit, referral.person_post) if x)
    conduct = "、".join(Conduct(c).label for c in referral.conduct) or "待核实"
    return (
        f"提出问责线索（拟移交）：{referral.person_name}"
        + (f"（{who}）" if who else "")
        + f"，问题表现：{conduct}"
    )


def _step(
    session: Session,
    actor: Actor,
    referral: Referral,
    case: Case,
    now: datetime,
    state: ReferralState,
    action: str,
    summary: str,
    after: dict[str, Any],
) -> None:
    """Move the referral to ``state``: audited, and on the case's timeline."""
    before = {"state": referral.state}
    referral.state = state.value
    referral.version += 1
    referral.updated_at = now
    advance(CaseStatus(case.status), EventKind.REFERRAL)
    add_event(
        session,
        case.id,
        EventKind.REFERRAL,
        summary,
        user_name=actor.display_name,
        at=now,
        data={"state": state.value, "number": referral.number},
    )
    case.version += 1
    case.updated_at = now
    audit.record(
        session,
        at=now,
        user_name=actor.username,
        action=action,
        entity="referral",
        entity_uuid=referral.uuid,
        before=before,
        after={"state": state.value, **after},
    )


def _proposal(session: Session, referral_id: int, message: str) -> tuple[Referral, Case]:
    """A proposal (拟移交) the leader signs or drops, and its case, which must be editable;
    ``message`` says why another state is refused."""
    referral = _referral(session, referral_id)
    _require_state(referral, ReferralState.PROPOSED, message)
    return referral, editable_case(session, referral.case_id)


def _require_state(referral: Referral, state: ReferralState, message: str) -> None:
    if referral.state != state.value:
        raise UserError(f"{message}（当前：{ReferralState(referral.state).label}）")


def _filtered(query: Select[Any], f: ReferralFilter) -> Select[Any]:
    if f.state is not None:
        query = query.where(Referral.state == f.state.value)
    if f.pending:
        query = query.where(Referral.state.in_([s.value for s in PENDING_STATES]))
    if f.measure is not None:
        query = query.where(Referral.measure == f.measure.value)
    if f.unit.strip():
        query = query.where(Referral.person_unit.contains(f.unit.strip(), autoescape=True))
    if f.proposed_from is not None:
        query = query.where(Referral.proposed_at >= datetime.combine(f.proposed_from, time()))
    if f.proposed_to is not None:
        query = query.where(Referral.proposed_at < datetime.combine(f.proposed_to, time.max))
    text = " ".join(f.text.split())
    if text:
        cases = select(Case.id).where(
            or_(
                Case.number.contains(text, autoescape=True),
                Case.title.contains(text, autoescape=True),
            )
        )
        query = query.where(
            or_(
                Referral.number.contains(text, autoescape=True),
                Referral.person_name.contains(text, autoescape=True),
                Referral.person_unit.contains(text, autoescape=True),
                Referral.case_id.in_(cases),
            )
        )
    return query


def _row(r: Referral, case_number: str, case_title: str) -> ReferralRow:
    return ReferralRow(
        id=r.id,
        number=r.number,
        case_id=r.case_id,
        case_number=case_number,
        case_title=case_title,
        person_name=r.person_name,
        person_post=r.person_post,
        person_unit=r.person_unit,
        conduct=tuple(Conduct(c) for c in r.conduct if c in Conduct._value2member_map_),
        state=ReferralState(r.state),
        measure=Measure(r.measure) if r.measure else None,
        recipient=ReferralRecipient(r.recipient) if r.recipient else None,
        recipient_name=r.recipient_name,
        proposed_at=r.proposed_at,
        proposed_by=r.proposed_by,
        sent_at=r.sent_at,
        signer_name=r.signer_name,
        decided_at=r.decided_at,
        decided_by=r.decided_by,
        print_count=r.print_count,
    )


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("事项不存在")
    return case


def _referral(session: Session, referral_id: int) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound("问责线索不存在")
    return referral


def _sent(session: Session, referral_id: int) -> Referral:
    referral = _referral(session, referral_id)
    if referral.sent_at is None or not referral.content:
        raise UserError("这条线索尚未签发移交函")
    return referral


def _site(session: Session) -> Site:
    site = session.scalar(select(Site).where(Site.is_local.is_(True)))
    if site is None:
        raise UserError("站点尚未初始化")
    return site


def _prefix(session: Session) -> str:
    """The site's 发文字号 prefix, as slips take it (公文设置 at the time of sending)."""
    site = _site(session)
    return read_paper_settings(session).prefix(site.short_name, site.slip_prefix)
