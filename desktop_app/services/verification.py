"""核验: what a QR code on a paper someone brings says, told so a person can act on it.

The signature says a site issued the number with that content; this module adds what the
signature cannot know: that the paper was voided (作废) since, that the signing site's key was
revoked (吊销), and the facts recorded at issue that the person compares with the paper in hand
(a genuine code on a paper whose deadline was altered by hand is caught only by that look).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.documents.slip_content import SlipContent
from desktop_app.domain.vocabulary import chinese_date
from desktop_app.services import receipts
from desktop_app.services.exchange.sites import REVOKED, TRUSTED
from desktop_app.services.keys import SlipCheck, verify_slip_payload
from desktop_app.storage.models import AuditEntry, Case, Site, Slip

COMPARE_HINT = "请与纸面核对以下内容，如有不符，以本核验结果为准："


def check_paper(session: Session, payload: str, local: Site, local_keys: list[str]) -> SlipCheck:
    """Check a scanned or typed QR payload; never raises for a bad one."""
    trusted, revoked = _peer_keys(session)
    keys = trusted | {local.code: local_keys}
    parts = payload.split("|") if isinstance(payload, str) else []
    site_code, number = (parts[1], parts[2]) if len(parts) == 5 else ("", "")
    if site_code in revoked and site_code not in keys:
        return _revoked(session, payload, revoked[site_code])
    if receipts.is_receipt_number(number):
        return _check_receipt(session, payload, keys, number, own=site_code == local.code)
    slip = session.scalar(
        select(Slip).where(
            Slip.number == number,
            Slip.site_code == ("" if site_code == local.code else site_code),
        )
    )
    check = verify_slip_payload(payload, keys, slip.content_hash if slip is not None else None)
    if not check.valid or slip is None:
        return check
    content = SlipContent.from_json(slip.content)
    facts = _slip_facts(content)
    if slip.voided:
        when = chinese_date(slip.voided_at) if slip.voided_at is not None else "日期未记录"
        reason = slip.void_reason or "未填写"
        return replace(
            check,
            valid=False,
            message=(
                f"已作废：{number} 于{when}作废，理由：{reason}。"
                "此单已不再有效，不能据此办理；签名本身无误。"
            ),
            facts=facts,
            voided=True,
            void_reason=slip.void_reason,
        )
    return replace(check, message=f"{check.message}。{COMPARE_HINT}", facts=facts)


def _slip_facts(content: SlipContent) -> tuple[tuple[str, str], ...]:
    due = chinese_date(content.due_date)
    if content.due_provisional:
        due += "（暂定）"
    facts = [("承办单位", content.lead_department)]
    if content.assisting_departments:
        facts.append(("协办单位", "、".join(content.assisting_departments)))
    facts += [
        ("办理时限", f"{due}（{content.working_days}个工作日）"),
        ("签发日期", chinese_date(content.issued_at)),
        ("签发人", content.signer),
    ]
    return tuple(facts)


def _check_receipt(
    session: Session, payload: str, keys: dict[str, list[str]], number: str, *, own: bool
) -> SlipCheck:
    """A 受理回执's code: checked against each receipt this site recorded for the case."""
    case_number = number.removeprefix(receipts.RECEIPT_PREFIX)
    case = session.scalar(select(Case).where(Case.number == case_number)) if own else None
    records = receipts.issued(session, case) if case is not None else []
    check = verify_slip_payload(payload, keys)
    if not check.valid or not own:
        return check
    matching = [
        r for r in records if str(r.get("content_hash", ""))[:32] == check.content_hash_prefix
    ]
    if not matching:
        return replace(check, valid=False, message="受理回执内容与本站点出具时的记录不一致")
    record = matching[-1]
    facts = (
        ("事项编号", case_number),
        ("反映人", str(record.get("complainant", ""))),
        ("受理时间", str(record.get("received_at", ""))),
        ("答复时间", str(record.get("reply", ""))),
    )
    return replace(
        check,
        message=f"核验通过：{number} 由本站点出具，内容未被改动。{COMPARE_HINT}",
        facts=facts,
    )


def _revoked(session: Session, payload: str, site: Site) -> SlipCheck:
    """A code claiming a site whose key was revoked: say so if the signature is that key's."""
    keys = [site.signing_public_key, *_previous(site)]
    check = verify_slip_payload(payload, {site.code: keys})
    if not check.valid:
        return check  # a forgery in a revoked site's name is still just a forgery
    when = chinese_date(site.revoked_at) if site.revoked_at is not None else "日期未记录"
    reason = session.scalar(
        select(AuditEntry.after)
        .where(
            AuditEntry.entity == "site",
            AuditEntry.entity_uuid == site.code,
            AuditEntry.action == "revoke_site",
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    why = str(reason.get("reason", "")) if isinstance(reason, dict) else ""
    return replace(
        check,
        valid=False,
        message=(
            f"签名密钥已吊销：{check.slip_number} 的签名出自站点“{site.name}”（{site.code}），"
            f"本站点已于{when}吊销该站点的密钥"
            + (f"（理由：{why}）" if why else "")
            + "，此单不能作为有效凭证，请与对方站点电话核实。"
        ),
    )


def _peer_keys(session: Session) -> tuple[dict[str, list[str]], dict[str, Site]]:
    """Trusted peers' signing keys, newest first (a slip signed before a key change still
    checks), and the revoked peers."""
    trusted: dict[str, list[str]] = {}
    revoked: dict[str, Site] = {}
    for peer in session.scalars(
        select(Site).where(Site.is_local.is_(False), Site.signing_public_key != "")
    ):
        if peer.trust_state == TRUSTED:
            trusted[peer.code] = [peer.signing_public_key, *reversed(_previous(peer))]
        elif peer.trust_state == REVOKED:
            revoked[peer.code] = peer
    return trusted, revoked


def _previous(site: Site) -> list[str]:
    keys: list[Any] = site.previous_keys or []
    return [str(k.get("signing_public_key", "")) for k in keys if isinstance(k, dict)]
