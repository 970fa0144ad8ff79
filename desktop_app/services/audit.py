"""The audit log: every change, who made it, before and after, in the same transaction.

Entries are hash-chained (each hash covers the previous one), so ``bbcs check`` notices an entry
that was edited or deleted behind the application's back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.domain.settings import AUDIT_HEAD
from desktop_app.services import settings
from desktop_app.storage.models import AuditEntry

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def entry_hash(
    prev_hash: str,
    at: datetime,
    user_name: str,
    action: str,
    entity: str,
    entity_uuid: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> str:
    payload = json.dumps(
        [prev_hash, at.isoformat(), user_name, action, entity, entity_uuid, before, after],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    at: datetime,
    user_name: str,
    action: str,
    entity: str,
    entity_uuid: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry; call inside the write transaction that makes the change."""
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    prev_hash = prev or GENESIS
    before_plain = _plain(before) if before is not None else None
    after_plain = _plain(after) if after is not None else None
    entry = AuditEntry(
        at=at,
        user_name=user_name,
        action=action,
        entity=entity,
        entity_uuid=entity_uuid,
        before=before_plain,
        after=after_plain,
        prev_hash=prev_hash,
        hash=entry_hash(
            prev_hash, at, user_name, action, entity, entity_uuid, before_plain, after_plain
        ),
    )
    session.add(entry)
    session.flush()
    # The newest entry's id and hash, written with every entry: otherwise deleting the newest
    # entries would leave a chain that still verifies.
    settings.store(session, AUDIT_HEAD, f"{entry.id}:{entry.hash}")
    return entry


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def verify_chain(session: Session, batch: int = 5000) -> list[str]:
    """Problems found in the chain, in Chinese; empty if the chain is intact."""
    problems: list[str] = []
    prev_hash = GENESIS
    last_id = 0
    while True:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not entries:
            break
        for entry in entries:
            if entry.prev_hash != prev_hash:
                problems.append(f"审计日志第 {entry.id} 条之前的记录缺失或被改动")
            expected = entry_hash(
                entry.prev_hash,
                entry.at,
                entry.user_name,
                entry.action,
                entry.entity,
                entry.entity_uuid,
                entry.before,
                entry.after,
            )
            if expected != entry.hash:
                problems.append(f"审计日志第 {entry.id} 条内容被改动")
            prev_hash = entry.hash
            last_id = entry.id
        session.expunge_all()
    head = settings.read(session, AUDIT_HEAD)
    if not head:
        if last_id:
            problems.append("审计日志的链尾记录缺失")
    elif head != f"{last_id}:{prev_hash}":
        head_id = head.split(":", 1)[0]
        problems.append(f"审计日志最新的记录（第 {head_id} 条及之前）被删除或改动")
    return problems
