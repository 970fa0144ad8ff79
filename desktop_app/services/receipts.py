"""The 受理回执: what the complainant takes home, and the record that lets its QR code be checked.

A receipt is not a numbered paper (it takes no number from a series: the case number is on it),
but it carries a signed QR code like one, so the window can tell a genuine receipt from a copy
with a hand-written date. Each distinct receipt issued for a case is written to the audit log with
its content hash and the facts printed on it; 核验 (services.verification) compares with those.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.documents.slip_content import ReceiptContent
from desktop_app.domain.deadlines import DeadlineRules, RuleKey
from desktop_app.domain.vocabulary import chinese_date
from desktop_app.services import audit
from desktop_app.services.context import Actor
from desktop_app.services.keys import SiteKeys, sign_slip
from desktop_app.storage.models import AuditEntry, Case, Site, User

RECEIPT_PREFIX = "受理回执 "
"""The number a receipt's QR code signs: this prefix and the case number (受理回执 杞县-2026-0012),
never the number of a numbered paper, which has no space."""

ISSUE_ACTION = "issue_receipt"

NEXT_STEPS = (
    "您反映的事项已登记。窗口将在甄别后当场办理、解释答复，或按规定交办相关"
    "部门限时办理，并将办理结果告知您；办结后将电话回访。"
    "查询进度请提供事项编号。"
)


def receipt_number(case_number: str) -> str:
    return RECEIPT_PREFIX + case_number


def is_receipt_number(number: str) -> bool:
    return number.startswith(RECEIPT_PREFIX)


def reply_line(case: Case, rules: DeadlineRules) -> str:
    """When the complainant will hear back, as the receipt prints it.

    A triaged case has its deadline (暂定 while the year's holidays are not known). Before triage
    the window does not yet know which rule applies, so it says 甄别后告知 with each rule's
    number of working days, read from the rules the administrator set.
    """
    if case.due_date is not None:
        provisional = "（暂定：以当年放假安排为准）" if case.due_provisional else ""
        if not case.due_working_days:
            return f"{chinese_date(case.due_date)}当日答复您{provisional}"
        return (
            f"{chinese_date(case.due_date)}前答复您（{case.due_working_days}个工作日）{provisional}"
        )
    return (
        "甄别后告知：窗口甄别后告知您办理方式和时限。很难办的事项"
        f"{rules.working_days(RuleKey.HARD)}个工作日内、不给办的事项"
        f"{rules.working_days(RuleKey.WONT)}个工作日内办结答复；办不了的当日答复，"
        f"并于{rules.working_days(RuleKey.CANT_BASIS)}个工作日内出具书面依据。"
    )


def issue_receipt(
    session: Session,
    keys: SiteKeys,
    case: Case,
    site: Site,
    *,
    rules: DeadlineRules,
    window_phone: str,
    actor: Actor | None,
    now: datetime,
) -> ReceiptContent:
    """The case's receipt as of now, signed; recorded in the audit log unless the same receipt
    was issued before (a reprint of it checks against that record)."""
    clerk = ""
    if case.created_by_id is not None:
        user = session.get(User, case.created_by_id)
        clerk = user.display_name if user else ""
    content = ReceiptContent(
        issuer=site.name,
        case_number=case.number,
        complainant=case.complainant.name,
        matter_title=case.title,
        received_at=case.received_at,
        clerk=clerk,
        window_phone=window_phone,
        next_steps=NEXT_STEPS,
        reply=reply_line(case, rules),
    )
    number = receipt_number(case.number)
    content_hash = content.content_hash()
    if not any(entry.get("content_hash") == content_hash for entry in issued(session, case)):
        audit.record(
            session,
            at=now,
            user_name=actor.username if actor is not None else "",
            action=ISSUE_ACTION,
            entity="case",
            entity_uuid=case.uuid,
            after={
                "number": number,
                "content_hash": content_hash,
                "received_at": chinese_date(case.received_at, parts="date_time"),
                "complainant": content.complainant,
                "reply": content.reply,
            },
        )
    return replace(content, qr_payload=sign_slip(keys, site.code, number, content_hash))


def issued(session: Session, case: Case) -> list[dict[str, Any]]:
    """The receipts issued for ``case`` (what the audit log recorded of each), oldest first."""
    return [
        entry
        for entry in session.scalars(
            select(AuditEntry.after)
            .where(
                AuditEntry.entity == "case",
                AuditEntry.entity_uuid == case.uuid,
                AuditEntry.action == ISSUE_ACTION,
            )
            .order_by(AuditEntry.id)
        )
        if isinstance(entry, dict)
    ]
