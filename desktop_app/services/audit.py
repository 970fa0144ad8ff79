"""The audit log: every change, who made it, before and after, in the same transaction.

Entries are hash-chained (each hash covers the previous one), so ``bbcs check`` notices an entry
that was edited or deleted behind the application's back. Since issue 15 the chain is keyed: each
hash is an HMAC under a subkey of the data key (kept outside the database), so whoever edits the
file cannot recompute the chain; entries written before the upgrade keep their plain SHA-256
(``ChainKey.keyed_from``). The chain's head is anchored outside the database too
(``services/integrity.py``), so deleting the newest entries, or all of them, shows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.engine.base import OptionEngine
from sqlalchemy.orm import Session

from desktop_app.domain.settings import AUDIT_HEAD, Declared
from desktop_app.services import settings
from desktop_app.services.context import Actor
from desktop_app.storage.models import AuditEntry

GENESIS = "0" * 64
# session.info key: the session wrote audit entries (the anchor follows after its commit).
WROTE_ENTRIES = "bbcs_audit_wrote"


@dataclass
class ChainKey:
    """The key that chains this database's audit entries, and from which entry on it does."""

    key: bytes
    keyed_from: int  # entries with this id or later are HMACs; older ones plain SHA-256


# The chain key of each open database, by its engine, weakly: a closed database's key goes with
# its engine (found from any execution-options copy of it, see ``base_engine``).
_CHAIN_KEYS: weakref.WeakKeyDictionary[Engine, ChainKey] = weakref.WeakKeyDictionary()


def use_chain_key(engine: Engine, chain: ChainKey) -> None:
    """From now on entries written to ``engine``'s database are keyed with ``chain``."""
    _CHAIN_KEYS[engine] = chain


def chain_key(session: Session) -> ChainKey | None:
    """The chain key of the database ``session`` works on (None: not opened with a data key)."""
    return _CHAIN_KEYS.get(base_engine(session))


def base_engine(session: Session) -> Engine:
    """The engine ``session`` works on, under any execution-options copy of it (the writer's
    sessions are bound to one)."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    while isinstance(engine, OptionEngine):
        engine = engine._proxied
    return engine


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
    key: bytes | None = None,
) -> str:
    """The entry's hash: HMAC-SHA256 under ``key``, plain SHA-256 for entries from before it."""
    payload = json.dumps(
        [prev_hash, at.isoformat(), user_name, action, entity, entity_uuid, before, after],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


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
    """Append an entry; call inside the write transaction that makes the change.

    Reading the newest entry and appending after it is one step only while no other writer can
    append in between: SQLite has one writer at a time; on PostgreSQL, where several seats
    write, every ``Database.write`` transaction holds the writer lock first (storage/database),
    and a transaction without it is refused here rather than let it fork the chain."""
    if session.get_bind().dialect.name == "postgresql" and not (
        session.connection().get_execution_options().get("bbcs_write")
    ):
        raise RuntimeError("audit entries on PostgreSQL are written under Database.write()")
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    prev_hash = prev or GENESIS
    chain = chain_key(session)
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
            prev_hash,
            at,
            user_name,
            action,
            entity,
            entity_uuid,
            before_plain,
            after_plain,
            chain.key if chain is not None else None,
        ),
    )
    session.add(entry)
    session.flush()
    session.info[WROTE_ENTRIES] = True
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


@dataclass
class ChainWalk:
    """What walking the chain from its start found."""

    problems: list[str]
    entries: int = 0
    last_id: int = 0
    last_hash: str = GENESIS


def walk_chain(
    session: Session,
    chain: ChainKey | None,
    *,
    after_id: int = 0,
    after_hash: str = GENESIS,
    batch: int = 5000,
) -> ChainWalk:
    """Check every entry after ``after_id`` (whose hash is ``after_hash``) links to the one
    before it and hashes to what it says: keyed from ``chain.keyed_from`` on."""
    walk = ChainWalk(problems=[], last_id=after_id, last_hash=after_hash)
    while True:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.id > walk.last_id)
            .order_by(AuditEntry.id)
            .limit(batch)
        ).all()
        if not entries:
            break
        for entry in entries:
            if entry.prev_hash != walk.last_hash:
                walk.problems.append(f"审计日志第 {entry.id} 条之前的记录缺失或被改动")
            keyed = chain is not None and entry.id >= chain.keyed_from
            expected = entry_hash(
                entry.prev_hash,
                entry.at,
                entry.user_name,
                entry.action,
                entry.entity,
                entry.entity_uuid,
                entry.before,
                entry.after,
                chain.key if keyed and chain is not None else None,
            )
            if not hmac.compare_digest(expected, entry.hash):
                walk.problems.append(f"审计日志第 {entry.id} 条内容被改动")
            walk.last_hash = entry.hash
            walk.last_id = entry.id
            walk.entries += 1
        session.expunge_all()
    return walk


def verify_chain(
    session: Session, batch: int = 5000, *, chain: ChainKey | None = None
) -> list[str]:
    """Problems found in the chain, in Chinese; empty if the chain is intact.

    ``chain``: the key to check keyed entries with (default: the one the database was opened
    with). The anchor outside the database is checked by ``integrity.verify_anchor``.
    """
    walk = walk_chain(session, chain or chain_key(session), batch=batch)
    problems = walk.problems
    last_id, prev_hash = walk.last_id, walk.last_hash
    head = settings.read(session, AUDIT_HEAD)
    if not head:
        if last_id:
            problems.append("审计日志的链尾记录缺失")
    elif head != f"{last_id}:{prev_hash}":
        head_id = head.split(":", 1)[0]
        problems.append(f"审计日志最新的记录（第 {head_id} 条及之前）被删除或改动")
    return problems


def write_settings(
    session: Session,
    actor: Actor,
    values: Mapping[Declared[Any], Any],
    *,
    at: datetime,
    action: str,
    entity_uuid: str,
) -> bool:
    """Store ``values`` (each checked against its declaration and the actor's right) and record
    what changed, before and after; nothing changed, nothing recorded. True if anything did."""
    before = settings.stored_text(session, values)
    for setting, value in values.items():
        settings.write(session, actor, setting, value)
    after = settings.stored_text(session, values)
    old = {k: v for k, v in before.items() if after.get(k) != v}
    new = {k: v for k, v in after.items() if before.get(k) != v}
    if not new:
        return False
    record(
        session,
        at=at,
        user_name=actor.username,
        action=action,
        entity="settings",
        entity_uuid=entity_uuid,
        before=old or None,
        after=new,
    )
    return True
