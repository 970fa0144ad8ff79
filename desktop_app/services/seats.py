"""Several seats on one PostgreSQL database: one site, whatever the number of PCs (issue 18).

A hall's window with three clerks, or the city office, runs bbcs on several PCs against one
PostgreSQL server (``--db-url``). Each PC keeps its own data dir (its log, the data key, a
cached copy of the signing keys, its audit anchor) but the *site* is one: one site code, one
set of keys, one audit chain, one numbering. Where each part lives:

- **Records, numbering, the audit chain**: in the database. Every write transaction (one user
  action) takes the same advisory lock (``storage/database.py``), so case and slip numbers stay
  gap-free and each audit entry chains to the one before it whichever seat wrote that one. A
  schema upgrade runs alone: every open seat holds ``SEATS_LOCK_KEY`` shared, the upgrade takes
  it exclusively or refuses.
- **The data key** (``keys/data.key``, issue 15): the one secret a seat holds. It is the same on
  every seat and never in the database, so a copied database (or ``pg_dump``) alone reveals no
  ID or phone number and cannot be re-chained or re-digested. A seat receives it once, when it
  is enrolled from a seat already in: ``bbcs seat enroll --to FILE`` writes it age-encrypted
  (scrypt) under a one-time passphrase shown on screen; ``bbcs --db-url … seat join FILE`` on
  the new PC installs it (wrapped by DPAPI on Windows, like any data key) and records the
  enrollment as used, so the same file cannot enroll a second PC.
- **The signing and encryption keys** (Ed25519, X25519): in the database, AES-256-GCM sealed
  under a subkey of the data key (the ``site_keys_sealed`` setting). The first seat publishes
  its keys at open; a seat that has none installs them from there; ``bbcs keys rotate`` on any
  seat publishes the new set, and every other seat takes it at its next open, keeping the old
  one under ``keys/retired/`` as a rotation does. The PEM files under each seat's ``keys/`` are
  that copy, cached.
- **The audit anchor**: each seat keeps its own ``keys/audit.anchor`` (``services/integrity``),
  HMAC'd under the shared data key. It is moved forward after each of this seat's writes and
  accepts entries written after it by other seats when they chain under the key. An anchor in
  the database could be rolled back together with the entries by whoever restores an older
  dump; one on every seat cannot: deleting the newest entries shows on the seat that wrote
  them (and on any seat that wrote after). A joining seat anchors the chain as it finds it,
  after checking it under the key.
- **Materials (attachments)**: in the database, ``material_chunks`` (``services/attachments``):
  1 MiB pieces AES-GCM sealed under a data-key subkey (a copied database shows no scan), written
  in the transaction that saves the ``attachments`` row. Each seat's ``attachments/`` folder is
  a cache, filled the first time a material is opened there; ``bbcs check`` opens every piece.

Changes made on another seat reach this one's views through :class:`ChangeWatcher`: the audit
log is the change counter (every change is audited in its own transaction), polled off the UI
thread, turned into the same ``Changes`` the local services return.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from desktop_app.domain.settings import TextSetting
from desktop_app.errors import UserError
from desktop_app.files import write_atomically
from desktop_app.services import audit, settings
from desktop_app.services.context import Actor, Changes
from desktop_app.services.data_key import DataKey
from desktop_app.services.keys import SiteKeys
from desktop_app.storage.database import Database
from desktop_app.storage.models import Assignment, AuditEntry, Case, Referral, Slip

log = logging.getLogger(__name__)

# The site's signing and encryption keys, sealed under the data key (never readable without it).
SITE_KEYS_SEALED = TextSetting(
    key="site_keys_sealed", default="", label="站点密钥（加密保存）", internal=True
)
_PURPOSE: Final = "site-keys"
_AAD: Final = b"bbcs site keys v1"
_FORMAT: Final = 1
ENROLLMENT_KIND: Final = "bbcs-seat-enrollment"
# The passphrase's letters: no 0/O, 1/I/L to misread when it is read out or typed.
_ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_GROUPS: Final = 6
# More new audit entries than this in one poll: every view refreshes rather than each case.
_POLL_LIMIT: Final = 500


# The signing keys, sealed in the database ----------------------------------------------------


@dataclass(frozen=True)
class KeySet:
    """The PEM files of a site's private keys and their ``keys.json``."""

    signing_pem: bytes
    encryption_pem: bytes
    meta: bytes

    @classmethod
    def of(cls, keys: SiteKeys) -> KeySet:
        return cls(
            keys.signing_key_path.read_bytes(),
            keys.encryption_key_path.read_bytes(),
            keys.meta_path.read_bytes() if keys.meta_path.is_file() else b"{}",
        )

    def public_key(self) -> bytes:
        key = serialization.load_pem_private_key(self.signing_pem, None)
        if not isinstance(key, Ed25519PrivateKey):
            raise UserError("数据库中保存的站点签名密钥已损坏。")
        return key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def seal(self, data_key: DataKey) -> str:
        body = json.dumps(
            {
                "format": _FORMAT,
                "signing": self.signing_pem.decode("ascii"),
                "encryption": self.encryption_pem.decode("ascii"),
                "meta": self.meta.decode("utf-8"),
            }
        ).encode("utf-8")
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(data_key.subkey(_PURPOSE)).encrypt(nonce, body, _AAD)
        return base64.b64encode(nonce + sealed).decode("ascii")

    @classmethod
    def unseal(cls, text: str, data_key: DataKey) -> KeySet:
        try:
            blob = base64.b64decode(text, validate=True)
            body = AESGCM(data_key.subkey(_PURPOSE)).decrypt(blob[:12], blob[12:], _AAD)
            document = json.loads(body)
            return cls(
                str(document["signing"]).encode("ascii"),
                str(document["encryption"]).encode("ascii"),
                str(document["meta"]).encode("utf-8"),
            )
        except (ValueError, KeyError, TypeError, InvalidTag) as exc:
            raise UserError(
                "数据库中保存的站点密钥无法用本机的数据密钥打开（已损坏，或本机的数据密钥属于"
                "另一个站点）。请用 bbcs seat join 从已在用的电脑重新加入。"
            ) from exc

    def install(self, keys: SiteKeys) -> None:
        """Write the key files of a seat that has none (the signing key last: complete)."""
        keys.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for path, data in (
            (keys.meta_path, self.meta),
            (keys.encryption_key_path, self.encryption_pem),
            (keys.signing_key_path, self.signing_pem),
        ):
            _write_secret(path, data)


def _write_secret(path: Path, data: bytes) -> None:
    """A whole file or none, its owner's alone (POSIX)."""
    write_atomically(path, data)
    with suppress(OSError):
        os.chmod(path, 0o600)


def share_site_keys(db: Database, data_key: DataKey, keys: SiteKeys) -> None:
    """PostgreSQL: make this seat's keys and the database's one set (see the module's text).

    Publishes this seat's keys when the database has none (the first seat) or holds the set
    they replaced (a rotation done here). Installs the database's set on a seat without keys,
    and in place of any other set (another seat rotated), keeping that one under ``retired/``
    as a rotation does, so slips signed with it still verify. The database's copy is trusted
    that far because only a holder of the data key could have sealed it."""
    if db.is_sqlite or not data_key.exists():
        return
    with db.read() as session:
        stored = settings.read(session, SITE_KEYS_SEALED)
    shared = KeySet.unseal(stored, data_key) if stored else None
    if not keys.exists():
        if shared is not None:
            shared.install(keys)
            log.info("site keys installed from the database")
        return
    local = KeySet.of(keys)
    if shared is not None and shared.public_key() == local.public_key():
        return
    if shared is not None and not _succeeds(keys, shared):
        retired = _retire(keys)
        shared.install(keys)
        log.warning("site keys replaced by the newer set in the database; old set in %s", retired)
        return
    publish_site_keys(db, data_key, keys)


def _succeeds(keys: SiteKeys, shared: KeySet) -> bool:
    """Whether this seat's keys replaced ``shared`` (a rotation here keeps it in ``retired/``)."""
    wanted = shared.public_key()
    for old in keys.retired():
        with suppress(OSError, UserError, ValueError):
            if KeySet.of(old).public_key() == wanted:
                return True
    return False


def _retire(keys: SiteKeys) -> Path:
    """Copy the current key set under ``retired/`` (as ``SiteKeys.rotate`` keeps an old one)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target, number = keys.retired_dir / stamp, 1
    while target.exists():
        number += 1
        target = keys.retired_dir / f"{stamp}-{number}"
    target.mkdir(mode=0o700, parents=True)
    for path in (keys.meta_path, keys.encryption_key_path, keys.signing_key_path):
        if path.exists():
            _write_secret(target / path.name, path.read_bytes())
    return target


def publish_site_keys(db: Database, data_key: DataKey, keys: SiteKeys) -> None:
    """Store this seat's keys, sealed, as the site's (first seat, or a newer rotation)."""
    sealed = KeySet.of(keys).seal(data_key)
    with db.write() as session:
        settings.store(session, SITE_KEYS_SEALED, sealed)
    log.info("site keys published to the database for the other seats")


# Enrollment --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrollment:
    """What a new seat receives: the data key, for one site and one use."""

    enrollment_id: str
    site_code: str
    site_name: str
    created_at: str
    data_key: bytes

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "format": _FORMAT,
                "kind": ENROLLMENT_KIND,
                "enrollment_id": self.enrollment_id,
                "site_code": self.site_code,
                "site_name": self.site_name,
                "created_at": self.created_at,
                "data_key": base64.b64encode(self.data_key).decode("ascii"),
            },
            ensure_ascii=False,
        ).encode("utf-8")

    @classmethod
    def read(cls, path: Path, passphrase: str) -> Enrollment:
        import pyrage  # only here and in enroll(): not needed to open a window

        try:
            sealed = path.read_bytes()
        except OSError as exc:
            raise UserError(f"无法读取席位加入文件 {path}（{exc.strerror}）。") from exc
        try:
            body = json.loads(pyrage.passphrase.decrypt(sealed, _normal(passphrase)))
        except (pyrage.DecryptError, ValueError) as exc:
            raise UserError(
                "席位加入文件打不开：口令不对，或文件不是 bbcs seat enroll 生成的。"
                "请核对口令（不分大小写，可不输入横线）后重试。"
            ) from exc
        try:
            if body.get("kind") != ENROLLMENT_KIND or body.get("format") != _FORMAT:
                raise ValueError("kind")
            enrollment = cls(
                str(body["enrollment_id"]),
                str(body["site_code"]),
                str(body["site_name"]),
                str(body["created_at"]),
                base64.b64decode(body["data_key"], validate=True),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UserError(f"{path} 不是有效的席位加入文件。") from exc
        return enrollment


def new_passphrase() -> str:
    """A one-time passphrase to read out or type: six groups of four letters and digits."""
    letters = "".join(secrets.choice(_ALPHABET) for _ in range(4 * _GROUPS))
    return "-".join(letters[i : i + 4] for i in range(0, len(letters), 4))


def _normal(passphrase: str) -> str:
    cleaned = "".join(c for c in passphrase.upper() if c.isalnum())
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


def enroll(
    db: Database,
    data_key: DataKey,
    keys: SiteKeys,
    actor: Actor,
    out: Path,
    *,
    site_code: str,
    site_name: str,
    now: datetime,
) -> str:
    """Write the enrollment file for a new seat; returns its one-time passphrase (shown once,
    never stored). Audited; the keys are published first so the new seat finds them."""
    from desktop_app.domain.permissions import Permission

    actor.require(Permission.BACKUP_DATA)
    if db.is_sqlite:
        raise UserError(
            "本站点的数据库是本机的 SQLite 文件，只能一台电脑使用。多台电脑（多个席位）共用"
            "需要 PostgreSQL 数据库服务器：请用 --db-url 连接服务器上的数据库。"
        )
    share_site_keys(db, data_key, keys)
    passphrase = new_passphrase()
    enrollment = Enrollment(
        secrets.token_hex(16),
        site_code,
        site_name,
        now.isoformat(timespec="seconds"),
        data_key.secret(),
    )
    import pyrage

    sealed = pyrage.passphrase.encrypt(enrollment.to_bytes(), passphrase)
    try:
        _write_secret(out, sealed)
    except OSError as exc:
        raise UserError(f"无法写入席位加入文件 {out}（{exc.strerror}）。") from exc
    with db.write() as session:
        audit.record(
            session,
            at=now,
            user_name=actor.username,
            action="seat_enroll",
            entity="seat",
            entity_uuid=enrollment.enrollment_id,
            after={"file": out.name},
        )
    return passphrase


def install_enrollment(enrollment: Enrollment, data_key: DataKey) -> None:
    """Put the enrollment's data key into a new seat's data dir (before anything opens it)."""
    data_key.install(enrollment.data_key)


def record_join(db: Database, enrollment: Enrollment, actor: Actor, now: datetime) -> None:
    """Mark the enrollment used (a second PC with the same file is refused) and audit it."""
    with db.write() as session:
        used = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.entity == "seat",
                AuditEntry.action == "seat_join",
                AuditEntry.entity_uuid == enrollment.enrollment_id,
            )
        )
        if used:
            raise UserError(
                "这个席位加入文件已经用过（只能用一次）。请在已在用的电脑上重新运行 "
                "bbcs seat enroll 生成新的加入文件。"
            )
        audit.record(
            session,
            at=now,
            user_name=actor.username,
            action="seat_join",
            entity="seat",
            entity_uuid=enrollment.enrollment_id,
            after={"site_code": enrollment.site_code},
        )


# Changes made on other seats -----------------------------------------------------------------

# Audit entities and the views they change (an entity not named changes nothing shown).
_CASE_ENTITIES: Final = frozenset(
    {"case", "complainant", "assignment", "slip", "register", "bundle", "area"}
)
# Audited actions that change nothing a view shows (a log-in on another seat).
_NOTHING_SHOWN: Final = ("login", "login_failed", "change_password")
_FLAGS: Final = {
    "user": "users",
    "department": "departments",
    "duty_roster": "departments",
    "duty_staff": "departments",
    "settings": "settings",
    "calendar": "settings",
    "site": "site",
    "referral": "referrals",
    "issue_class": "classes",
    "early_warning": "classes",
    "meeting": "meetings",
}


def _cases_of(session: Session, rows: Sequence[Any]) -> tuple[int, ...]:
    """The cases the audit entries ``rows`` (id, entity, uuid) are about: a case's own entries,
    and those of its assignments, papers and 问责线索 (an open case window watches for them)."""
    uuids: dict[str, set[str]] = defaultdict(set)
    for _id, entity, the_uuid in rows:
        uuids[entity].add(the_uuid)
    found: set[int] = set()
    lookups: list[Select[Any]] = []
    if uuids["case"]:
        lookups.append(select(Case.id).where(Case.uuid.in_(uuids["case"])))
    if uuids["assignment"]:
        lookups.append(select(Assignment.case_id).where(Assignment.uuid.in_(uuids["assignment"])))
    if uuids["slip"]:
        lookups.append(
            select(Assignment.case_id)
            .join(Slip, Slip.assignment_id == Assignment.id)
            .where(Slip.uuid.in_(uuids["slip"]))
        )
    if uuids["referral"]:
        lookups.append(select(Referral.case_id).where(Referral.uuid.in_(uuids["referral"])))
    for lookup in lookups:
        found.update(session.scalars(lookup))
    return tuple(sorted(found))


class ChangeWatcher:
    """What other seats changed since the last poll, as the local services' ``Changes``.

    The audit log is the change counter: every change writes an entry in its own transaction,
    and on PostgreSQL entries are numbered under the writer lock, so a poll that remembers the
    newest id it saw misses none. Cheap (one indexed query when nothing changed); run it off the
    UI thread every few seconds (``ui/seat_watch.py``).
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        with db.read() as session:
            self._seen = int(session.scalar(select(func.max(AuditEntry.id))) or 0)

    def poll(self) -> Changes | None:
        """The changes written since the last poll (None: nothing new)."""
        with self._db.read() as session:
            rows = session.execute(
                select(AuditEntry.id, AuditEntry.entity, AuditEntry.entity_uuid)
                .where(AuditEntry.id > self._seen, AuditEntry.action.not_in(_NOTHING_SHOWN))
                .order_by(AuditEntry.id)
                .limit(_POLL_LIMIT + 1)
            ).all()
            if not rows:
                return None
            if len(rows) > _POLL_LIMIT:
                self._seen = int(session.scalar(select(func.max(AuditEntry.id))) or 0)
                return Changes(
                    cases=True,
                    users=True,
                    departments=True,
                    settings=True,
                    site=True,
                    referrals=True,
                    classes=True,
                    meetings=True,
                )
            self._seen = int(rows[-1][0])
            case_ids = _cases_of(session, rows)
        entities = {entity for _id, entity, _uuid in rows}
        flags = {_FLAGS[e] for e in entities if e in _FLAGS}
        cases = bool(entities & _CASE_ENTITIES)
        if not cases and not flags:
            return None
        return Changes(
            cases=cases,
            case_ids=case_ids,
            users="users" in flags,
            departments="departments" in flags,
            settings="settings" in flags,
            site="site" in flags,
            referrals="referrals" in flags,
            classes="classes" in flags,
            meetings="meetings" in flags,
        )
