"""核验: what a QR code on a paper someone brings says, told so a person can act on it.

The signature says a site issued the number with that content; this module adds what the
signature cannot know: that the paper was voided (作废) since, that the signing site's key was
revoked (吊销), and the facts recorded at issue that the person compares with the paper in hand
(a genuine code on a paper whose deadline was altered by hand is caught only by that look).

A key retired by revocation (a lost PC) never verifies again, even after the site registered new
keys; a key retired by an ordinary rotation still verifies the papers signed before it. A code in
this site's own name must match a paper this site recorded: a key that left on a lost PC can sign
any number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.documents.slip_content import PaperKind, SlipContent
from desktop_app.domain.vocabulary import chinese_date
from desktop_app.services import receipts
from desktop_app.services.exchange.sites import REVOKED, TRUSTED
from desktop_app.services.exchange.trust import revocation_reason
from desktop_app.services.keys import PublicIdentity, SlipCheck, verify_slip_payload
from desktop_app.storage.models import AuditEntry, Case, Site, Slip

COMPARE_HINT = "请与纸面核对以下内容，如有不符，以本核验结果为准："


@dataclass(frozen=True)
class _Revoked:
    """A peer's signing key that a revocation retired, with when and why."""

    key: str
    at: datetime | None
    reason: str


def check_paper(session: Session, payload: str, local: Site, local_keys: list[str]) -> SlipCheck:
    """Check a scanned or typed QR payload; never raises for a bad one."""
    trusted, revoked = _peer_keys(session)
    keys = trusted | {local.code: local_keys}
    parts = payload.split("|") if isinstance(payload, str) else []
    site_code, number = (parts[1], parts[2]) if len(parts) == 5 else ("", "")
    own = site_code == local.code
    if site_code in revoked and not own:
        site, retired = revoked[site_code]
        hit = _revoked_key(payload, site_code, retired)
        if hit is not None:
            return _revoked(payload, hit, site)
        if site_code not in keys:  # a forgery in a revoked site's name is still just a forgery
            return verify_slip_payload(payload, {site_code: [r.key for r in retired]})
    if receipts.is_receipt_number(number):
        return _check_receipt(session, payload, keys, number, own=own)
    slip = session.scalar(
        select(Slip).where(Slip.number == number, Slip.site_code == ("" if own else site_code))
    )
    check = verify_slip_payload(payload, keys, slip.content_hash if slip is not None else None)
    if check.valid and slip is None and own:
        return _never_issued(check)
    if not check.valid or slip is None:
        return check
    content = SlipContent.from_json(slip.content)
    facts = _slip_facts(content) + _adjusted(session, slip, content)
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


def _never_issued(check: SlipCheck) -> SlipCheck:
    """A code in this site's name that matches no paper it recorded: a key that went with a
    lost PC signs any number, so the signature alone proves nothing here."""
    return replace(
        check,
        valid=False,
        message=(
            f"本站点没有签发过编号{check.slip_number}的纸面，此码不可信"
            "（签名虽出自本站点的密钥，但本站点没有这份纸面的记录），请勿据此办理。"
        ),
    )


def _deadline_label(kind: PaperKind) -> str:
    """The deadline's label as the paper prints it (documents.slip_pdf)."""
    if kind is PaperKind.URGE:
        return "反馈时限"  # the date the notice asks feedback by
    if kind is PaperKind.BASIS_REQUEST:
        return "提交时限"
    return "办理时限"


def _slip_facts(content: SlipContent) -> tuple[tuple[str, str], ...]:
    due = chinese_date(content.due_date)
    if content.due_provisional:
        due += "（暂定）"
    facts = [("承办单位", content.lead_department)]
    if content.assisting_departments:
        facts.append(("协办单位", "、".join(content.assisting_departments)))
    facts += [
        (_deadline_label(content.kind), f"{due}（{content.working_days}个工作日）"),
        ("签发日期", chinese_date(content.issued_at)),
        ("签发人", content.signer),
    ]
    return tuple(facts)


def _adjusted(session: Session, slip: Slip, content: SlipContent) -> tuple[tuple[str, str], ...]:
    """The newest 时限调整通知 issued after this paper for its assignment: the paper in hand
    shows a deadline that no longer holds, so say which notice replaced it, and with what."""
    if content.kind in (PaperKind.URGE, PaperKind.ADJUST):
        return ()
    notice = session.scalar(
        select(Slip)
        .where(
            Slip.assignment_id == slip.assignment_id,
            Slip.site_code == slip.site_code,
            Slip.kind == PaperKind.ADJUST.value,
            Slip.voided.is_(False),
            Slip.id > slip.id,
        )
        .order_by(Slip.id.desc())
        .limit(1)
    )
    if notice is None:
        return ()
    adjusted = SlipContent.from_json(notice.content)
    due = chinese_date(adjusted.due_date) + ("（暂定）" if adjusted.due_provisional else "")
    label = _deadline_label(content.kind)
    return (
        (
            "时限调整",
            f"此单{label}已由{notice.number}时限调整通知调整为{due}"
            f"（{adjusted.working_days}个工作日），以调整通知为准",
        ),
    )


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
    if not records:
        return _never_issued(check)
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


def _revoked_key(payload: str, site_code: str, retired: list[_Revoked]) -> _Revoked | None:
    """The revoked key that signed ``payload``, if one did."""
    for entry in retired:
        if verify_slip_payload(payload, {site_code: entry.key}).valid:
            return entry
    return None


def _revoked(payload: str, hit: _Revoked, site: Site) -> SlipCheck:
    """A code signed with a revoked key: say so, with the revocation's date and reason."""
    check = verify_slip_payload(payload, {site.code: hit.key})
    when = chinese_date(hit.at) if hit.at is not None else "日期未记录"
    whose = "该站点的密钥" if site.trust_state == REVOKED else "该站点此前使用的这把密钥"
    return replace(
        check,
        valid=False,
        message=(
            f"签名密钥已吊销：{check.slip_number} 的签名出自站点“{site.name}”（{site.code}），"
            f"本站点已于{when}吊销{whose}"
            + (f"（理由：{hit.reason}）" if hit.reason else "")
            + "，此单不能作为有效凭证，请与对方站点电话核实。"
        ),
    )


def _peer_keys(
    session: Session,
) -> tuple[dict[str, list[str]], dict[str, tuple[Site, list[_Revoked]]]]:
    """Trusted peers' signing keys, newest first (a slip signed before a rotation still
    checks), and each peer's revoked keys: all of a revoked peer's, and those a trusted peer
    had when it was revoked before registering new ones."""
    trusted: dict[str, list[str]] = {}
    revoked: dict[str, tuple[Site, list[_Revoked]]] = {}
    for peer in session.scalars(
        select(Site).where(Site.is_local.is_(False), Site.signing_public_key != "")
    ):
        if peer.trust_state not in (TRUSTED, REVOKED):
            continue
        now_revoked = (
            _Revoked(peer.signing_public_key, peer.revoked_at, revocation_reason(session, peer))
            if peer.trust_state == REVOKED
            else None
        )
        keys, retired = [peer.signing_public_key], []
        legacy: dict[str, tuple[datetime, str]] | None = None
        for entry in reversed(_previous(peer)):
            key = str(entry.get("signing_public_key", ""))
            if entry.get("revoked"):
                retired.append(_Revoked(key, _when(entry.get("revoked_at")), _reason(entry)))
                continue
            if now_revoked is not None:
                retired.append(replace(now_revoked, key=key))
                continue
            if legacy is None:
                legacy = _legacy_revocations(session, peer)
            if (found := legacy.get(_fingerprint(peer, entry))) is not None:
                retired.append(_Revoked(key, *found))
            else:
                keys.append(key)
        if now_revoked is not None:
            retired.insert(0, now_revoked)
        else:
            trusted[peer.code] = keys
            # A key the administrator registered again on purpose is the current one.
            retired = [r for r in retired if r.key != peer.signing_public_key]
        retired = [r for r in retired if r.key]
        if retired:
            revoked[peer.code] = (peer, retired)
    return trusted, revoked


def _legacy_revocations(session: Session, site: Site) -> dict[str, tuple[datetime, str]]:
    """Revocations on the audit log by the revoked keys' fingerprint: a key revoked and
    replaced before retired keys kept their revocation (previous_keys) is still found."""
    found: dict[str, tuple[datetime, str]] = {}
    for at, after in session.execute(
        select(AuditEntry.at, AuditEntry.after).where(
            AuditEntry.entity == "site",
            AuditEntry.entity_uuid == site.code,
            AuditEntry.action == "revoke_site",
        )
    ):
        if isinstance(after, dict) and after.get("fingerprint"):
            found[str(after["fingerprint"])] = (at, str(after.get("reason", "")))
    return found


def _fingerprint(site: Site, entry: dict[str, Any]) -> str:
    try:
        return PublicIdentity(
            site.code,
            site.name,
            site.level,
            str(entry.get("signing_public_key", "")),
            str(entry.get("encryption_public_key", "")),
            str(entry.get("keys_created_at", "")),
        ).fingerprint()
    except ValueError:
        return ""


def _when(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _reason(entry: dict[str, Any]) -> str:
    return str(entry.get("revoke_reason", ""))


def _previous(site: Site) -> list[dict[str, Any]]:
    keys: list[Any] = site.previous_keys or []
    return [k for k in keys if isinstance(k, dict)]
