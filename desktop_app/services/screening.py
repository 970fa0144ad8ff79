"""Screening out (甄别不予受理 / 转办, issue 16): a matter outside what the window handles ends at
the door, with a printed notice for the person.

Only a registered case nothing was assigned from may end so: a matter sent to a department is in
scope. The case moves to ``screened_out`` (never counted as concluded), its screening columns say
what was decided, and the notice is numbered in the window's own series (杞纪窗告〔2026〕1号) and
frozen on the timeline, so a reprint is the paper the person was given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_app.documents.screening_notice import (
    CHANNEL_GUIDANCE,
    ScreeningNotice,
    ensure_printable,
    render_notice,
)
from desktop_app.domain.assignment_flow import slip_number
from desktop_app.domain.case_flow import EventKind, advance
from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import WINDOW_PHONE
from desktop_app.domain.validation import mask_phone, normalize_text, text_problem
from desktop_app.domain.vocabulary import CaseStatus, ProperChannel, ScreeningDecision
from desktop_app.errors import NotFound, UserError, ValidationFailed
from desktop_app.files import write_atomically
from desktop_app.services import audit, settings
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.ownership import editable_case, read_only_reason
from desktop_app.services.sealing import Sealer
from desktop_app.services.site import read_paper_settings
from desktop_app.services.timeline import add_event
from desktop_app.storage.database import Database
from desktop_app.storage.models import Assignment, AuditEntry, Case, CaseEvent, Site
from desktop_app.storage.numbering import next_number

NUMBER_SERIES = "告"  # 杞纪窗告〔2026〕1号
SEQUENCE_KIND = "screening_notice"
NOTICE_OUTPUTS = ("print_notice", "reprint_notice")  # the audit actions of a notice's copies
DRAFT_NUMBER = "〔编号在确认后生成〕"
MAX_REASON = 500
MAX_GUIDANCE = 500


@dataclass(frozen=True)
class ScreeningResult:
    notice: ScreeningNotice
    changes: Changes


def check(reason: str, guidance: str) -> tuple[str, str, dict[str, str]]:
    """The cleaned reason and guidance, and their errors (field → Chinese message)."""
    reason, guidance = normalize_text(reason), normalize_text(guidance)
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = "请写明不属于受理范围的理由，告知书上会印出"
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"理由最多{MAX_REASON}字"
    if len(guidance) > MAX_GUIDANCE:
        errors["guidance"] = f"办理途径说明最多{MAX_GUIDANCE}字"
    for name, value in (("reason", reason), ("guidance", guidance)):
        problem = text_problem(value)
        if problem:
            errors[name] = problem
    return reason, guidance, errors


class ScreeningService:
    def __init__(self, db: Database, clock: Clock, sealer: Sealer) -> None:
        self._db = db
        self._clock = clock
        self._sealer = sealer

    def preview(
        self,
        case_id: int,
        decision: ScreeningDecision,
        channel: ProperChannel,
        reason: str,
        guidance: str = "",
    ) -> ScreeningNotice:
        """The notice as it would be issued now, with its number still to come (nothing saved)."""
        reason, guidance, _errors = check(reason, guidance)
        with self._db.read() as session:
            case = _case(session, case_id)
            return self._notice(
                session, case, DRAFT_NUMBER, decision, channel, reason, guidance, self._clock.now()
            )

    def screen_out(
        self,
        actor: Actor,
        case_id: int,
        decision: ScreeningDecision,
        channel: ProperChannel,
        reason: str,
        *,
        guidance: str = "",
    ) -> ScreeningResult:
        """End a registered, never-assigned case at screening and issue its notice. Raises
        ValidationFailed (nothing saved) for a missing reason, UserError for a case that may
        not end so."""
        actor.require(Permission.TRIAGE_CASE)
        decision, channel = ScreeningDecision(decision), ProperChannel(channel)
        reason, guidance, errors = check(reason, guidance)
        if errors:
            raise ValidationFailed(errors)
        now = self._clock.now()
        with self._db.write() as session:
            case = editable_case(session, case_id)
            status = CaseStatus(case.status)
            if status is not CaseStatus.REGISTERED:
                raise UserError(
                    f"事项当前为“{status.label}”：只有尚未交办的新登记事项才能不予受理或转办"
                )
            if session.scalar(select(Assignment.id).where(Assignment.case_id == case.id)):
                raise UserError("该事项已有交办单：已交办的事项属于受理范围，不能不予受理或转办")
            # Checked before a number is taken: a notice that cannot print uses none up.
            draft = self._notice(
                session, case, DRAFT_NUMBER, decision, channel, reason, guidance, now
            )
            ensure_printable(draft)
            site = _site(session)
            prefix = read_paper_settings(session).prefix(site.short_name, site.slip_prefix)
            seq = next_number(session, SEQUENCE_KIND, now.year)
            number = slip_number(prefix, NUMBER_SERIES, now.year, seq)
            notice = self._notice(session, case, number, decision, channel, reason, guidance, now)
            before = _snapshot(case)
            case.status = advance(status, EventKind.SCREENED_OUT).value
            case.screening_decision = decision.value
            case.screening_channel = channel.value
            case.screening_reason = reason
            case.screened_at = now
            case.version += 1
            case.updated_at = now
            add_event(
                session,
                case.id,
                EventKind.SCREENED_OUT,
                f"{decision.label}（{channel.label}）：{reason}；告知书 {number}",
                user_name=actor.display_name,
                at=now,
                data={"notice": _stored(notice)},
            )
            session.flush()
            old, new = audit.diff(before, _snapshot(case))
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="screen_out",
                entity="case",
                entity_uuid=case.uuid,
                before=old,
                after=new | {"notice": number, "content_hash": notice.content_hash()},
            )
        return ScreeningResult(notice, Changes(cases=True, case_ids=(case_id,)))

    def notice(self, case_id: int) -> ScreeningNotice:
        """The notice as it was issued (for a reprint: the same paper)."""
        with self._db.read() as session:
            return _issued(session, _case(session, case_id))

    def notice_pdf(self, case_id: int, *, out: Path | None = None) -> bytes:
        return render_notice(self.notice(case_id), out=out)

    def record_notice_output(
        self,
        actor: Actor,
        case_id: int,
        *,
        out: Path | None = None,
        deliver: Callable[[bytes], None] | None = None,
    ) -> bytes:
        """The notice goes to paper or a file: audited in one transaction (打印告知书, then
        补打告知书 for every later copy, which is marked 补打 as slips are); a failed write or
        print raises and records nothing. A county's notice seen at the city is always a 补打."""
        actor.require(Permission.PRINT_PAPERS)
        now = self._clock.now()
        with self._db.write() as session:
            case = _case(session, case_id)
            notice = _issued(session, case)
            printed = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.entity == "case",
                    AuditEntry.entity_uuid == case.uuid,
                    AuditEntry.action.in_(NOTICE_OUTPUTS),
                )
            )
            reprint = bool(printed) or bool(read_only_reason(session, case))
            data = render_notice(notice, reprint=reprint)
            if out is not None:
                try:
                    write_atomically(out, data)
                except OSError as exc:
                    raise UserError(f"无法保存到 {out}：{exc.strerror or exc}") from exc
            if deliver is not None:
                deliver(data)
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action=NOTICE_OUTPUTS[1] if reprint else NOTICE_OUTPUTS[0],
                entity="case",
                entity_uuid=case.uuid,
                after={
                    "notice": notice.number,
                    "copy": (printed or 0) + 1,
                    "output": "file" if out is not None else "printer",
                },
            )
        return data

    def preview_pdf(
        self,
        case_id: int,
        decision: ScreeningDecision,
        channel: ProperChannel,
        reason: str,
        guidance: str = "",
    ) -> bytes:
        return render_notice(self.preview(case_id, decision, channel, reason, guidance))

    def _notice(
        self,
        session: Session,
        case: Case,
        number: str,
        decision: ScreeningDecision,
        channel: ProperChannel,
        reason: str,
        guidance: str,
        now: datetime,
    ) -> ScreeningNotice:
        site = _site(session)
        paper = read_paper_settings(session)
        phone = self._sealer.phone(case.complainant)
        return ScreeningNotice(
            number=number,
            decision=ScreeningDecision(decision),
            channel=ProperChannel(channel),
            issuer=paper.issuer(site.name),
            masthead=paper.masthead,
            case_number=case.number,
            person=case.complainant.name,
            phone_masked=mask_phone(phone) if phone else "",
            received_at=case.received_at,
            matter_title=case.title,
            reason=reason,
            guidance=guidance or CHANNEL_GUIDANCE[ProperChannel(channel)],
            window_phone=settings.read(session, WINDOW_PHONE),
            issued_at=now,
        )


def _issued(session: Session, case: Case) -> ScreeningNotice:
    event = session.scalar(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.SCREENED_OUT.value)
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    if event is None or not (event.data or {}).get("notice"):
        raise NotFound("该事项没有不予受理/转办告知书")
    return _loaded(event.data["notice"])


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("事项不存在")
    return case


def _site(session: Session) -> Site:
    site = session.scalar(select(Site).where(Site.is_local.is_(True)))
    if site is None:
        raise UserError("站点尚未初始化")
    return site


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "screening_decision": case.screening_decision,
        "screening_channel": case.screening_channel,
        "screening_reason": case.screening_reason,
    }


def _stored(notice: ScreeningNotice) -> dict[str, Any]:
    """The notice as the timeline keeps it (JSON: times as ISO text)."""
    values: dict[str, Any] = {}
    for f in fields(notice):
        value = getattr(notice, f.name)
        values[f.name] = value.isoformat() if isinstance(value, datetime) else str(value)
    return values


def _loaded(values: dict[str, Any]) -> ScreeningNotice:
    return ScreeningNotice(
        number=values["number"],
        decision=ScreeningDecision(values["decision"]),
        channel=ProperChannel(values["channel"]),
        issuer=values["issuer"],
        masthead=values["masthead"],
        case_number=values["case_number"],
        person=values["person"],
        phone_masked=values["phone_masked"],
        received_at=datetime.fromisoformat(values["received_at"]),
        matter_title=values["matter_title"],
        reason=values["reason"],
        guidance=values["guidance"],
        window_phone=values["window_phone"],
        issued_at=datetime.fromisoformat(values["issued_at"]),
    )
