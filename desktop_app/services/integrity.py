"""Tamper evidence that holds (issue 15 item 7): an anchor and record digests outside reach of
whoever edits ``bbcs.db``.

A plain hash chain with its head in the same file proves nothing against someone who can edit
the file: they delete the newest entries and rewrite the head, or recompute the whole chain.
Three things here close that, all keyed with subkeys of the data key (``keys/data.key``, never
in the database):

- **The audit anchor** (``keys/audit.anchor``): the number of audit entries, the newest one's
  id and hash and where the keyed chain starts, under an HMAC. It is moved forward after every
  commit that wrote audit entries (after, so a power cut between the two leaves the anchor
  behind, never ahead: entries after the anchored head are accepted when they chain keyed from
  it, and the next write catches the anchor up). It never moves over a head it no longer finds.
- **Record digests**: every audited record (``DIGESTED``) carries ``digest``, a keyed hash of
  its columns (all but the digest and the export stamp, so a column added later is covered
  without a change here), in the format the ``record_digest_format`` setting names. The
  ORM's writes are sealed at commit by the session listeners below; bulk writes that bypass
  the ORM call ``watch_new_rows`` / ``note_written`` in their transaction.
- **Case numbers without gaps**: numbers are never reused or skipped (withdrawn and voided
  cases keep their rows), so a missing number is a deleted case.

``open_site`` wires a database to its key at every open, and on the first open after the
upgrade digests every record and anchors the chain. ``reanchor`` does the same after a restore
(``services/backup.py`` calls it). ``MaintenanceService.check`` reports what the checks here find.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import io
import itertools
import json
import logging
import os
import pickle
import re
import sqlite3
import tempfile
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    Table,
    bindparam,
    column,
    delete,
    event,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.expression import ColumnClause

from desktop_app.domain.settings import RECORD_DIGEST_FORMAT
from desktop_app.domain.settings import declared as declared_setting
from desktop_app.errors import EnvironmentProblem, UserError
from desktop_app.services import audit, settings
from desktop_app.services.data_key import DataKey
from desktop_app.storage.database import Database
from desktop_app.storage.models import (
    AuditEntry,
    Base,
    Case,
    CaseEvent,
    DutyStaff,
    Meeting,
    NumberSequence,
    Referral,
    Setting,
    Slip,
    SyncConflict,
    TableSeal,
    User,
)

log = logging.getLogger(__name__)

# The records that carry a digest, and their name on the audit log.
DIGESTED: Final = {
    "sites": "site",
    "users": "user",
    "departments": "department",
    "complainants": "complainant",
    "cases": "case",
    "assignments": "assignment",
    "slips": "slip",
    # Supervision (issue 16)
    "referrals": "referral",
    "issue_classes": "issue_class",
    "meetings": "meeting",
    "meeting_items": "meeting_item",
    # The calendar, the duty roster and the settings (migration 0025): a holiday made by SQL
    # moved deadlines, a leader put on duty by SQL was named on the signing, a rule or the
    # masking of phones changed by SQL, and nothing said so.
    "holiday_overrides": "calendar",
    "calendar_years": "calendar",
    "duty_staff": "duty_staff",
    "duty_shifts": "duty_roster",
    "settings": "settings",
}
# The tables each version of that list added, and the version this release digests: the audit
# anchor records the version a site's rows were digested under (``open_site`` digests the
# tables a newer release added once, at its first open that may write; until then a row of
# theirs without a digest is not reported).
DIGESTED_ADDED: Final[dict[int, tuple[str, ...]]] = {
    2: ("holiday_overrides", "calendar_years", "duty_staff", "duty_shifts", "settings"),
    3: (),  # no new table: version 3 seals the tables of version 2 as wholes (below)
    4: (),  # nor version 4: each case's 办理记录 hashed into the case (below)
}
DIGESTED_VERSION: Final = 4
# Version 3 (migration 0026): a row's digest shows it changed, not that a row beside it was
# deleted — a holiday taken out by SQL moved deadlines back, a deadline rule deleted fell back
# to its default, and bbcs check passed. These small tables are sealed as wholes as well
# (``TableSeal``: a keyed hash over each row's key and digest, and the keys), rewritten at every
# commit that writes them. Of the settings, the site's rules only (those a permission guards):
# the program's bookkeeping is written at every audited commit and guarded otherwise (the audit
# head by the anchor), and a user's preferences guard nothing.
SEALED_SETS: Final = DIGESTED_ADDED[2]
# What the window acts on the moment it starts, checked then (a few milliseconds; bbcs check goes
# through every record): the users, the site's settings, the calendar and the roster.
RULE_TABLES: Final = ("users", *SEALED_SETS)
SETS_SINCE: Final = 3
# Version 4 (migration 0027): ``cases.events_hash``, a hash over the case's timeline lines
# (case_events), is kept by the program and covered by the case's digest: a line deleted or
# reworded by SQL no longer passes. A county's cases bring the hash it made; the receiver keeps
# it (bbcs check there compares it with the lines that came).
EVENTS_SINCE: Final = 4
SET_LABELS: Final = {
    "holiday_overrides": "节假日设置",
    "calendar_years": "完整放假安排的年份",
    "duty_staff": "值班人员名单",
    "duty_shifts": "值班安排",
    "settings": "站点设置",
}
# The column that names a row of a sealed table once the row is gone (kept with its key).
_SET_HINTS: Final = {"holiday_overrides": "day", "duty_shifts": "day", "duty_staff": "name"}
_SET_SEAL_PREFIX: Final = b"bbcs-table-seal\x1f"
TABLES_DIGESTED_ACTION: Final = "digest_tables"  # the audit log's entry of that one pass
# The audit log's entry of what a save found changed behind the program before it wrote (a
# holiday deleted by SQL, then another saved): the save seals the table, or the case's lines,
# as they now stand, and the finding stays in the keyed log for bbcs check to name.
TAMPER_FOUND_ACTION: Final = "tamper_found"
# Not covered: the digest itself, the export generation a bulk UPDATE stamps at export, a
# case's departments_answered, which triggers derive from its (signed) assignments (0020), and
# a complainant's name_key, made from the (signed) name (0024).
UNSIGNED_COLUMNS: Final = frozenset({"digest", "change_seq", "departments_answered", "name_key"})
# Columns added to a digested table after the release that first digested records (schema
# 0011, digest format 1): formats 1 and 2 do not cover them — a format-1 digest of a site that
# upgrades was made without them — and format 3 signs them after the others, in this order,
# leaving trailing empty values (None, "") out of the hash, so a row sealed before a column
# existed keeps its digest while the column is empty, and one that gets a value is covered.
# A new column goes at the end of its table's tuple here (tests/test_digest_format.py fails
# until it does).
LATE_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "cases": (
        # issue 16, migration 0012
        "agent_id",
        "agent_relation",
        "respondent_name",
        "respondent_post",
        "respondent_unit",
        "respondent_conduct",
        "campaign",
        "screening_decision",
        "screening_channel",
        "screening_reason",
        "screened_at",
        "basis_received_on",
        "basis_signed_by",
        "basis_waived_reason",
        "basis_waived_by",
        "replied_at",
        "reply_method",
        "visit_attempts",
        "visit_retry_on",
        "visit_reasons",
        "issue_class_id",
        # issue 17, migration 0014
        "original_number",
        # issue 15, migration 0027
        "events_hash",
    )
}
# The late columns each older format covered, sorted in with the others: format 1 (schema 0011)
# none; format 2 (schemas 0012–0014, on development machines only) issue 16's, not 原编号.
_LATE_IN_FORMAT: Final[dict[int, dict[str, tuple[str, ...]]]] = {
    1: {},
    2: {"cases": LATE_COLUMNS["cases"][: LATE_COLUMNS["cases"].index("original_number")]},
}
ANCHOR_FILE: Final = "audit.anchor"
CHAIN_PURPOSE: Final = "audit-anchor"
DIGEST_PURPOSE: Final = "record-digest"
_ANCHOR_FORMAT: Final = 2  # 2: with the version of DIGESTED (1, still read: the first)
_BATCH: Final = 5000
# Rows a bulk write added read back at a time for their digests (``seal_added``). A thousand: at
# 5,000 a county's first upload into a city on PostgreSQL took the importing process ~100 MB past
# where it started (slips' rows are 2–3 KB) and the C library kept most of it; no slower.
_ADDED_BATCH: Final = 1000
# Format 1: HMAC-SHA256 of the values' repr() (issue 15's first release); format 2: keyed
# BLAKE2b of their pickle, at half the cost or less (a first import digests 400,000 rows);
# format 3: format 2 over the columns in ``_signed_names`` order, trailing empty values left
# out, so that a column added later (``LATE_COLUMNS``) leaves older rows' digests as they are.
# Formats 1 and 2 cover the late columns of ``_LATE_IN_FORMAT`` only.
DIGEST_FORMAT: Final = 3
_PICKLE_PROTOCOL: Final = 5
_DIGEST_FUNCTIONS: Final = {
    1: "bbcs_record_digest_1",
    2: "bbcs_record_digest_2",
    3: "bbcs_record_digest_3",
}
_ID_CHUNK: Final = 500
_LISTED: Final = 20  # problems of one kind named one by one; the rest counted

# session.info keys: rows to seal at commit (table -> ids), and the newest id of each table
# before a bulk write (rows after it are sealed at commit).
_PENDING: Final = "bbcs_digest_pending"
_WATCH: Final = "bbcs_digest_watch"
_TRUSTED: Final = "bbcs_digest_trusted"  # a pass that signs what it finds (a restore, an upgrade)
_SETS: Final = "bbcs_sets_written"  # the sealed tables this transaction wrote or deleted from
_EVENTS: Final = "bbcs_events_written"  # cases whose timeline lines this transaction changed
_NEW_LINES: Final = "bbcs_new_lines"  # ids of the timeline lines this transaction added
_VERSIONED: Final = "bbcs_versioned_cases"  # cases this transaction made or gave a new version
_SETS_CHECKED: Final = "bbcs_sets_checked"  # sealed tables checked before this transaction's write
_FOUND: Final = "bbcs_tamper_found"  # what a save found changed before it wrote: to the log
_SEALING: Final = "bbcs_sealing"  # the commit's own digests and seals are being written


@dataclass(frozen=True)
class Anchor:
    entries: int
    head_id: int
    head_hash: str
    keyed_from: int
    tables: int = 1  # the version of DIGESTED the rows are digested under (format 1: the first)


class AnchorDamaged(Exception):
    """The anchor file is unreadable or its HMAC does not match."""


@dataclass
class SiteIntegrity:
    """The keys and anchor of one open database."""

    digest_key: bytes
    chain: audit.ChainKey
    anchor_path: Path
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The format of the digests in the database (older until ``_upgrade_digests`` has run).
    digest_format: int = DIGEST_FORMAT
    # The version of ``DIGESTED`` its rows are digested under (the anchor's; older until
    # ``_digest_added_tables`` has run).
    tables: int = DIGESTED_VERSION

    def digested(self) -> list[str]:
        """The tables whose rows carry digests here, to keep and to check."""
        added = {
            t for version, names in DIGESTED_ADDED.items() if version > self.tables for t in names
        }
        return [name for name in DIGESTED if name not in added]


# By engine, weakly: a closed database's keys go with its engine (a long-lived process, the
# tests above all, opens thousands).
_SITES: weakref.WeakKeyDictionary[Engine, SiteIntegrity] = weakref.WeakKeyDictionary()


def site_of(engine: Engine) -> SiteIntegrity | None:
    """The integrity keys ``engine``'s database was opened with (None: opened without)."""
    return _SITES.get(engine)


def _engine_of(session: Session) -> Engine:
    return audit.base_engine(session)


def _site_of_session(session: Session) -> SiteIntegrity | None:
    return site_of(_engine_of(session))


def _register(db: Database, site: SiteIntegrity) -> None:
    _SITES[db.engine] = site
    audit.use_chain_key(db.engine, site.chain)
    if db.is_sqlite:
        digesters = {fmt: digester(site.digest_key, fmt) for fmt in _DIGEST_FUNCTIONS}

        def add_digest_function(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            for fmt, name in _DIGEST_FUNCTIONS.items():
                dbapi_connection.create_function(name, -1, digesters[fmt], deterministic=True)

        event.listen(db.engine, "connect", add_digest_function)
        db.engine.dispose()  # connections made before this one get it when opened again


# Opening, and after a restore -------------------------------------------------------------------


def open_site(db: Database, data_key: DataKey, keys_dir: Path, *, first_time: bool = False) -> None:
    """Key ``db``'s audit chain and record digests with ``data_key`` from now on.

    ``first_time``: the data key was made in this same open (the first open after the upgrade),
    so every record is digested and the chain anchored as it stands. Only then: with a key that
    already existed, a missing or damaged anchor is left for ``bbcs check`` to report, never
    rebuilt — otherwise wiping every digest and deleting the anchor would have the next open
    sign whatever the file holds (a role set by SQL, a chain recomputed in plain SHA-256).

    The one window this leaves: a crash after the key was written and before the anchor was
    (``first_time`` then is not set at the next open). ``bbcs check`` then reports the anchor
    missing; the administrator restores the backup made before the upgrade (the restore
    re-anchors it)."""
    site = _new_site(db, data_key, keys_dir)
    try:
        anchor: Anchor | None = read_anchor(site.anchor_path, site.chain.key)
        damaged = False
    except AnchorDamaged:
        anchor, damaged = None, True
    if anchor is not None:
        site.chain.keyed_from = anchor.keyed_from
        site.tables = anchor.tables
        _register(db, site)
        _upgrade_digests(db, site)
        _digest_added_tables(db, site)
        return
    if damaged or not first_time:
        with db.read() as session:
            site.chain.keyed_from = _first_keyed_entry(session, site.chain.key)
            # Unknown without the anchor (which check reports): the added tables are checked
            # where any of their rows has a digest.
            site.tables = _tables_in_use(session)
        _register(db, site)
        _upgrade_digests(db, site)
        log.warning("audit anchor %s is missing or damaged; left for bbcs check", site.anchor_path)
        return
    _register(db, site)
    try:
        _establish(db, site)
    except (EnvironmentProblem, SQLAlchemyError, OSError) as exc:  # e.g. a read-only database
        log.warning("could not digest the records and anchor the audit log: %s", exc)


def reanchor(
    db: Database, data_key: DataKey, keys_dir: Path, *, restored: bool = True
) -> list[str]:
    """After a restore: anchor the chain of the database now in place, and key ``db`` with it.

    The restored chain is checked first (the keyed part under ``data_key``); what is wrong with
    it is returned (in Chinese) and anchored as it is, so that ``bbcs check`` keeps reporting
    it. A backup from before record digests gets them here."""
    site = _new_site(db, data_key, keys_dir)
    with db.read() as session:
        site.chain.keyed_from = _first_keyed_entry(session, site.chain.key)
        problems = audit.walk_chain(session, site.chain).problems
        digested = _any_digest(session)
    _register(db, site)
    if digested:
        _upgrade_digests(db, site)
        # A backup from before the tables a newer release digests: their rows get digests here
        # (the restored file is trusted, as its chain is anchored as it stands). A seat that
        # joins a shared database trusts nothing it finds: it takes what the audit log says.
        if restored:
            site.tables = _tables_in_use_after_restore(db, site)
        else:
            with db.read() as session:
                site.tables = max(_tables_digested_version(session), _tables_in_use(session))
        _write_anchor_from_database(db, site)
    else:
        _establish(db, site, keyed_from=site.chain.keyed_from)
    return problems


def rewrite_anchor(db: Database) -> None:
    """Anchor the chain as it now stands, after a trusted rewrite of it (masking numbers in a
    restored backup's history, ``sealing._scrub_history_once``, which first checked the log
    against the old anchor)."""
    site = site_of(db.engine)
    if site is not None:
        _write_anchor_from_database(db, site)


def _new_site(db: Database, data_key: DataKey, keys_dir: Path) -> SiteIntegrity:
    return SiteIntegrity(
        digest_key=data_key.subkey(DIGEST_PURPOSE),
        chain=audit.ChainKey(key=data_key.subkey(CHAIN_PURPOSE), keyed_from=1),
        anchor_path=keys_dir / ANCHOR_FILE,
    )


def _establish(db: Database, site: SiteIntegrity, *, keyed_from: int | None = None) -> None:
    """Digest every record and anchor the chain as it stands (trusted: the first open after
    the upgrade, or a restored backup)."""
    with db.write() as session:
        session.info[_TRUSTED] = True
        last_id, _hash = _last_entry(session)
        site.chain.keyed_from = keyed_from if keyed_from is not None else last_id + 1
        site.digest_format = DIGEST_FORMAT
        site.tables = DIGESTED_VERSION
        refresh_events_hashes(session)
        for name in DIGESTED:
            _seal(session, site, _table(name), true())
        _seal_sets(session, site)
        settings.store(session, RECORD_DIGEST_FORMAT, DIGEST_FORMAT)
    _write_anchor_from_database(db, site)


def _upgrade_digests(db: Database, site: SiteIntegrity) -> None:
    """Bring the digests of a database (or a restored backup) made before ``DIGEST_FORMAT`` up
    to it, in one transaction: a row is digested anew only if its digest verifies under the
    old format, so a record changed behind the program's back keeps failing and ``bbcs check``
    still names it. Until this has run (a read-only database), the old format is used."""
    with db.read() as session:
        site.digest_format = settings.read(session, RECORD_DIGEST_FORMAT)
    if site.digest_format not in _DIGEST_FUNCTIONS:
        # Not a newer release's (its schema is refused before this): the setting was edited.
        # The digests are checked as this release writes them; a wrong one is reported.
        log.warning(
            "record digest format %d is unknown; format %d used", site.digest_format, DIGEST_FORMAT
        )
        site.digest_format = DIGEST_FORMAT
    if site.digest_format == DIGEST_FORMAT or db.writes_refused is not None:
        return
    old = site.digest_format
    try:
        with db.write() as session:
            session.info[_TRUSTED] = True
            rewritten = sum(_redigest(session, site, _table(name), old) for name in site.digested())
            # What this transaction writes besides (the setting below) is digested at its
            # commit, in the new format.
            site.digest_format = DIGEST_FORMAT
            settings.store(session, RECORD_DIGEST_FORMAT, DIGEST_FORMAT)
    except (EnvironmentProblem, SQLAlchemyError, OSError) as exc:
        site.digest_format = old
        log.warning("could not bring the record digests up to format %d: %s", DIGEST_FORMAT, exc)
        return
    log.info("record digests of %d rows brought up to format %d", rewritten, DIGEST_FORMAT)


def _digest_added_tables(db: Database, site: SiteIntegrity) -> None:
    """Digest, once for the database, every row of the tables this release digests that the
    anchor does not yet record as digested (``DIGESTED_ADDED``): at the first open that may
    write after the upgrade. That one pass is an entry of the keyed audit log
    (``digest_tables``): a seat of the same PostgreSQL database opening after it (each seat
    keeps its own anchor) adopts the version and digests nothing again — otherwise an edit made
    in between would have been signed by every later seat's first open. The anchor then
    records the version, so from then on a row of theirs without a digest, or with a wrong one,
    is reported; turning a setting back brings no second pass (the version is in the keyed
    anchor, not in the database)."""
    if site.tables >= DIGESTED_VERSION or db.writes_refused is not None:
        return
    added = [
        name
        for version, names in sorted(DIGESTED_ADDED.items())
        if version > site.tables
        for name in names
    ]
    try:
        with db.write() as session:
            if _tables_digested_version(session) < DIGESTED_VERSION:
                sealed = sum(_seal(session, site, _table(name), true()) for name in added)
                _seal_sets(session, site)
                refresh_events_hashes(session)  # the cases it fills are sealed at commit
                _record_tables_digested(session, added, rows=sealed)
                log.info("digested %d rows of %s, newly kept with digests", sealed, added)
        with site.lock:
            anchor = read_anchor(site.anchor_path, site.chain.key)
            if anchor is None:
                return
            newer = dataclasses.replace(anchor, tables=DIGESTED_VERSION)
            write_anchor(site.anchor_path, site.chain.key, newer)
    except (AnchorDamaged, EnvironmentProblem, SQLAlchemyError, OSError) as exc:
        log.warning("could not digest the rows of %s: %s", ", ".join(added), exc)
        return
    site.tables = DIGESTED_VERSION


def _record_tables_digested(session: Session, tables: list[str], *, rows: int) -> None:
    """The audit log's entry that ``tables`` carry digests from now on (``DIGESTED_VERSION``)."""
    audit.record(
        session,
        at=datetime.now().replace(microsecond=0),
        user_name="bbcs",
        action=TABLES_DIGESTED_ACTION,
        entity="settings",
        entity_uuid="record_digests",
        after={"version": DIGESTED_VERSION, "tables": tables, "rows": rows},
    )


def _tables_digested_version(session: Session) -> int:
    """The newest version of ``DIGESTED`` whose one-time pass the audit log records (1: none).
    The entry is in the keyed chain: forging or deleting it is what bbcs check reports."""
    version = 1
    for after in session.scalars(
        select(AuditEntry.after).where(AuditEntry.action == TABLES_DIGESTED_ACTION)
    ):
        if isinstance(after, dict) and isinstance(after.get("version"), int):
            version = max(version, after["version"])
    return version


def _tables_in_use(session: Session) -> int:
    """Without an anchor to say: the newest version of ``DIGESTED`` some row of whose added
    tables carries a digest, or whose tables are sealed as wholes (1 if none)."""
    own = select(Case.id).where(Case.origin_site == "").limit(1)
    if session.scalar(own.where(Case.events_hash.is_not(None))) is not None:
        return EVENTS_SINCE
    if session.scalar(select(TableSeal.name).limit(1)) is not None:
        # Sealed as wholes; of version 4 too when no case of its own is there to hash (a seat
        # joining a site just made: each case it registers is hashed from the first).
        return SETS_SINCE if session.scalar(own) is not None else EVENTS_SINCE
    version = 1
    for number, names in sorted(DIGESTED_ADDED.items()):
        for name in names:
            t = _table(name)
            if session.scalar(select(_key(t)).where(t.c.digest.is_not(None)).limit(1)) is not None:
                version = number
                break
    return version


def _tables_in_use_after_restore(db: Database, site: SiteIntegrity) -> int:
    """After a restore (trusted): the rows of the tables added since the backup was made
    without their digests get them. The version now in force."""
    if db.writes_refused is not None:
        with db.read() as session:
            return _tables_in_use(session)
    with db.write() as session:
        session.info[_TRUSTED] = True
        for names in DIGESTED_ADDED.values():
            for name in names:
                t = _table(name)
                _seal(session, site, t, t.c.digest.is_(None))
        _seal_sets(session, site)
        refresh_events_hashes(session)
    return DIGESTED_VERSION


def _redigest(session: Session, site: SiteIntegrity, t: Table, old: int) -> int:
    """Digest in the current format each row of ``t`` whose digest verifies in format ``old``."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        statement = (
            update(t)
            .where(t.c.digest.is_not(None), t.c.digest == digest_sql(t, old))
            .values(digest=digest_sql(t))
        )
        return int(connection.execute(statement).rowcount)
    before, now = digester(site.digest_key, old), digester(site.digest_key)
    # Where each of the old format's columns is in a row read in the current format's order.
    current = _signed_names(t)
    places = [1 + current.index(name) for name in _signed_names(t, old)]
    statement = update(t).where(_key(t) == bindparam("b_id")).values(digest=bindparam("b_digest"))
    last_id = _start(t)
    rewritten = 0
    while True:
        rows = _raw_rows(session, t, true(), after=last_id, limit=_BATCH)
        if not rows:
            return rewritten
        verified = [
            {"b_id": row[0], "b_digest": _digest_of(now, t.name, row)}
            for row in rows
            if row[-1] is not None
            and hmac.compare_digest(row[-1], before(t.name, *(row[i] for i in places)))
        ]
        if verified:
            connection.execute(statement, verified)
        rewritten += len(verified)
        last_id = rows[-1][0]


def _write_anchor_from_database(db: Database, site: SiteIntegrity) -> None:
    with db.read() as session:
        last_id, last_hash = _last_entry(session)
        count = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    with site.lock:
        write_anchor(
            site.anchor_path,
            site.chain.key,
            Anchor(count, last_id, last_hash, site.chain.keyed_from, site.tables),
        )


def _last_entry(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row is not None else (0, audit.GENESIS)


def _any_digest(session: Session) -> bool:
    """Whether the database was digested at all (a backup from before digests was not): the
    first tables tell, those every digesting release kept."""
    added = {name for names in DIGESTED_ADDED.values() for name in names}
    for name in (n for n in DIGESTED if n not in added):
        t = _table(name)
        if session.scalar(select(_key(t)).where(t.c.digest.is_not(None)).limit(1)) is not None:
            return True
    return False


def _first_keyed_entry(session: Session, key: bytes) -> int:
    """The id of the first entry hashed with ``key`` (after the last one if none is)."""
    last_id = 0
    while True:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(_BATCH)
        ).all()
        if not entries:
            return last_id + 1
        for entry in entries:
            keyed = audit.entry_hash(
                entry.prev_hash,
                entry.at,
                entry.user_name,
                entry.action,
                entry.entity,
                entry.entity_uuid,
                entry.before,
                entry.after,
                key,
            )
            if hmac.compare_digest(keyed, entry.hash):
                return entry.id
            last_id = entry.id
        session.expunge_all()


# The anchor file ------------------------------------------------------------------------------


def _anchor_mac(key: bytes, anchor: Anchor, fmt: int = _ANCHOR_FORMAT) -> str:
    fields: list[Any] = [fmt, anchor.entries, anchor.head_id, anchor.head_hash, anchor.keyed_from]
    if fmt >= 2:
        fields.append(anchor.tables)
    body = json.dumps(fields)
    return hmac.new(key, body.encode("ascii"), hashlib.sha256).hexdigest()


def read_anchor(path: Path, key: bytes) -> Anchor | None:
    """The anchor, None if there is no file; AnchorDamaged if it does not verify."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        fmt = document.get("format")
        anchor = Anchor(
            entries=int(document["entries"]),
            head_id=int(document["head_id"]),
            head_hash=str(document["head_hash"]),
            keyed_from=int(document["keyed_from"]),
            tables=int(document["tables"]) if fmt != 1 else 1,
        )
        mac = str(document["mac"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AnchorDamaged(str(exc)) from exc
    if fmt not in (1, _ANCHOR_FORMAT) or not hmac.compare_digest(
        mac, _anchor_mac(key, anchor, fmt)
    ):
        raise AnchorDamaged("mac")
    return anchor


def write_anchor(path: Path, key: bytes, anchor: Anchor) -> None:
    """Replace the anchor file atomically (a crash leaves the old one or the new one)."""
    document = {
        "format": _ANCHOR_FORMAT,
        "entries": anchor.entries,
        "head_id": anchor.head_id,
        "head_hash": anchor.head_hash,
        "keyed_from": anchor.keyed_from,
        "tables": anchor.tables,
        "mac": _anchor_mac(key, anchor),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".audit-anchor-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        with suppress(OSError):
            os.unlink(temp)


def _advance_anchor(site: SiteIntegrity, engine: Engine) -> None:
    """Move the anchor to the newest entry, if the entry it names is still as anchored."""
    with site.lock:
        try:
            anchor = read_anchor(site.anchor_path, site.chain.key)
        except AnchorDamaged:
            return  # left for bbcs check
        if anchor is None:
            return
        with engine.connect() as connection:
            if anchor.head_id:
                found = connection.scalar(
                    select(AuditEntry.hash).where(AuditEntry.id == anchor.head_id)
                )
                if found != anchor.head_hash:
                    return  # entries deleted or changed under us: keep the evidence
            newer, last_id = connection.execute(
                select(func.count(), func.max(AuditEntry.id)).where(AuditEntry.id > anchor.head_id)
            ).one()
            if not newer:
                return
            last_hash = connection.scalar(select(AuditEntry.hash).where(AuditEntry.id == last_id))
        write_anchor(
            site.anchor_path,
            site.chain.key,
            Anchor(
                anchor.entries + int(newer),
                int(last_id),
                str(last_hash),
                anchor.keyed_from,
                anchor.tables,
            ),
        )


def verify_anchor(session: Session, site: SiteIntegrity) -> list[str]:
    """The audit log against its anchor: the newest entries or all of them deleted, or the
    chain recomputed. Entries after the anchored head are checked by the chain walk."""
    path = site.anchor_path
    try:
        anchor = read_anchor(path, site.chain.key)
    except AnchorDamaged:
        return [
            f"审计日志的锚点文件 {path} 已被改动或损坏，无法确认审计日志是否完整。"
            "请用最近的备份恢复，或联系维护人员。"
        ]
    if anchor is None:
        return [
            f"找不到审计日志的锚点文件 {path}（可能被删除），无法确认审计日志是否完整。"
            "请用最近的备份恢复，或联系维护人员。"
        ]
    total = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    if total == 0 and anchor.entries:
        return [f"审计日志的全部记录（{anchor.entries} 条）已被删除"]
    up_to_head = int(
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.id <= anchor.head_id)
        )
        or 0
    )
    if anchor.head_id:
        found = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == anchor.head_id))
        if found is None:
            last = int(
                session.scalar(
                    select(func.max(AuditEntry.id)).where(AuditEntry.id <= anchor.head_id)
                )
                or 0
            )
            # Entries written since take the freed numbers (an id is max + 1), so the gap is
            # a lower bound: each later log-in made it one smaller.
            return [
                f"审计日志最新的记录已被删除：锚点记载共 {anchor.entries} 条、最新为第 "
                f"{anchor.head_id} 条，现在找不到第 {last + 1} 条至第 {anchor.head_id} 条"
                f"（至少 {anchor.entries - up_to_head} 条被删除；删除之后写入的记录会占用"
                "被删记录的编号）"
            ]
        if found != anchor.head_hash:
            return [
                f"审计日志第 {anchor.head_id} 条与锚点记载的不符："
                "审计日志被改动、整条链被重新计算，或最新的记录被删除后又写入了新的"
            ]
    if up_to_head != anchor.entries:
        return [
            f"审计日志有 {anchor.entries - up_to_head} 条记录被删除（锚点记载 "
            f"{anchor.entries} 条，现有 {up_to_head} 条）"
        ]
    return []


# Record digests -------------------------------------------------------------------------------


def _key(t: Table) -> Column[Any]:
    """The column a digested table's rows are found by: its id, or its one primary key
    (a setting's name, a calendar year)."""
    if "id" in t.c:
        return t.c.id
    (key,) = t.primary_key.columns
    return key


def _start(t: Table) -> Any:
    """Where reading ``t`` in key order starts: before its first row, whatever its key (None:
    no lower bound — an id of 0 or below, which both engines accept, was never read, so a user
    inserted by SQL with id -5 and an administrator's role logged in and passed bbcs check)."""
    return None


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def _json_default(value: Any) -> Any:
    """What ``_canonical`` makes of a value JSON has no form for (a time, a date, bytes)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"{type(value).__name__} is not hashed")


def record_digest(key: bytes, table: str, values: Iterable[Any], fmt: int = DIGEST_FORMAT) -> str:
    """The keyed hash of a record's signed columns, in ``_signed_names`` order, as the database
    driver returns them (no SQLAlchemy type processing: parsing every stored date would make a
    check of 100,000 cases several times slower, and the raw form is what an edit changes)."""
    return digester(key, fmt)(table, *values)


def digester(key: bytes, fmt: int = DIGEST_FORMAT) -> Callable[..., str]:
    """``record_digest`` under ``key`` as a function of (table, *values), keyed once: SQLite
    calls it for every row a bulk write adds."""
    if fmt == 1:

        def digest_1(table: str, *values: Any) -> str:
            payload = "\x1f".join([table, *map(repr, values)])
            return hmac.digest(key, payload.encode("utf-8", "surrogatepass"), "sha256").hex()

        return digest_1
    if fmt not in (2, 3):
        raise ValueError(f"record digest format {fmt} is not known")
    trim = fmt == 3
    keyed = hashlib.blake2b(key=key, digest_size=32)  # 64 hex digits, as the column holds
    # One pickler per thread, reused (a fifth of the cost): SQLite calls this on the thread of
    # the statement, and a check may run on another meanwhile.
    local = threading.local()

    def digest_2(table: str, *values: Any) -> str:
        try:
            buffer, pickler = local.pickler
        except AttributeError:
            buffer = io.BytesIO()
            pickler = pickle.Pickler(buffer, protocol=_PICKLE_PROTOCOL)
            # Pickle tells apart 1 and '1' and None and 'None', as repr did, in C. No memo
            # (``fast``): the bytes must not depend on which equal values the driver handed
            # over as one object, nor on the rows pickled before.
            pickler.fast = True
            local.pickler = buffer, pickler
        buffer.seek(0)
        buffer.truncate()
        if trim:
            end = len(values)
            while end and (values[end - 1] is None or values[end - 1] == ""):
                end -= 1
            values = values[:end]
        # str(): a Table's name is SQLAlchemy's quoted_name, which pickles as that class.
        pickler.dump((str(table), *values))
        digest = keyed.copy()
        digest.update(buffer.getbuffer())
        return digest.hexdigest()

    return digest_2


def _signed_names(t: Table, fmt: int = DIGEST_FORMAT) -> list[str]:
    """The columns a digest of format ``fmt`` covers, in order: format 3 every column but the
    unsigned ones, sorted, then the table's ``LATE_COLUMNS`` in their order; the older formats
    all their columns sorted, of the late ones only those they knew (``_LATE_IN_FORMAT``)."""
    late = LATE_COLUMNS.get(t.name, ())
    early = [c.name for c in t.c if c.name not in UNSIGNED_COLUMNS and c.name not in late]
    if fmt >= 3:
        return sorted(early) + [n for n in late if n in t.c]
    known = _LATE_IN_FORMAT[fmt].get(t.name, ())
    return sorted(early + [n for n in known if n in t.c])


def _raw_rows(
    session: Session,
    t: Table,
    where: ColumnElement[bool],
    *,
    after: Any,
    limit: int,
    fmt: int = DIGEST_FORMAT,
) -> list[Any]:
    """Rows of ``t`` (id first, then the signed columns of format ``fmt``, then the digest) as
    the driver gives them; untyped ``column()``s skip SQLAlchemy's result processing."""
    names = _signed_names(t, fmt)
    key = _key(t)
    columns: list[ColumnClause[Any]] = [
        column(key.name),
        *(column(n) for n in names),
        column("digest"),
    ]
    after_last = key > after if after is not None else true()
    statement = select(*columns).select_from(t).where(where, after_last).order_by(key).limit(limit)
    return list(session.connection().execute(statement).all())


def _digest_of(digest: Callable[..., str], table: str, row: Any) -> str:
    return digest(table, *row[1:-1])


def digest_sql(t: Table, fmt: int = DIGEST_FORMAT) -> ColumnElement[str]:
    """SQL for the digest of ``t``'s row (SQLite, a registered engine): a function SQLite calls
    with the row's stored values — the very values (and Python types) a SELECT hands back."""
    values = (t.c[n] for n in _signed_names(t, fmt))
    return getattr(func, _DIGEST_FUNCTIONS[fmt])(literal(t.name), *values)  # type: ignore[no-any-return]


def _seal(session: Session, site: SiteIntegrity, t: Table, where: ColumnElement[bool]) -> int:
    """Write the digest of every row of ``t`` matching ``where``; the number sealed."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # In one UPDATE, without passing the rows through SQLAlchemy (~3× faster). The
        # function is on every connection of a registered engine (``_register``).
        digest = digest_sql(t, site.digest_format)
        return int(connection.execute(update(t).where(where).values(digest=digest)).rowcount)
    digester_now = digester(site.digest_key, site.digest_format)
    statement = update(t).where(_key(t) == bindparam("b_id")).values(digest=bindparam("b_digest"))
    last_id = _start(t)
    sealed = 0
    while True:
        rows = _raw_rows(session, t, where, after=last_id, limit=_BATCH, fmt=site.digest_format)
        if not rows:
            return sealed
        connection.execute(
            statement,
            [{"b_id": row[0], "b_digest": _digest_of(digester_now, t.name, row)} for row in rows],
        )
        sealed += len(rows)
        last_id = rows[-1][0]


def watch_new_rows(session: Session) -> None:
    """For a bulk write that bypasses the ORM (the demo, a bundle's merge): every digested row
    added in this transaction from now on is sealed at its commit."""
    if _site_of_session(session) is None or _WATCH in session.info:
        return
    marks: dict[str, int] = {}
    for name in DIGESTED:
        t = _table(name)
        if "id" in t.c:  # a bulk write adds cases, papers, …: never settings
            marks[name] = int(session.scalar(select(func.max(t.c.id))) or 0)
    session.info[_WATCH] = marks


def seal_added(session: Session, table: str) -> None:
    """Digest now the rows of ``table`` added since ``watch_new_rows`` (PostgreSQL: the
    digests sent with COPY and set by one UPDATE), and leave them out of the commit's sealing.
    For a bulk copy, before it builds the table's indexes again (the UPDATE then updates no
    secondary index); row by row, 400,000 new rows took half a minute there."""
    site = _site_of_session(session)
    marks: dict[str, int] | None = session.info.get(_WATCH)
    if site is None or marks is None or table not in marks:
        return
    connection = session.connection()
    t = _table(table)
    if connection.dialect.name == "sqlite":
        _seal(session, site, t, t.c.id > marks[table])
    else:
        raw = connection.connection.driver_connection
        digest = digester(site.digest_key, site.digest_format)
        connection.exec_driver_sql(
            "CREATE TEMP TABLE bbcs_digests (id bigint, digest text) ON COMMIT DROP"
        )
        last_id = marks[table]
        while rows := _raw_rows(
            session, t, true(), after=last_id, limit=_ADDED_BATCH, fmt=site.digest_format
        ):
            with raw.cursor() as cursor, cursor.copy("COPY bbcs_digests FROM STDIN") as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row((row[0], _digest_of(digest, t.name, row)))
            last_id = rows[-1][0]
        connection.exec_driver_sql(
            f'UPDATE "{table}" AS t SET digest = d.digest FROM bbcs_digests d WHERE t.id = d.id'
        )
        connection.exec_driver_sql("DROP TABLE bbcs_digests")
    marks[table] = int(session.scalar(select(func.max(t.c.id))) or 0)


def note_written(session: Session, table: str, ids: Iterable[Any]) -> None:
    """Rows of ``table`` changed in this transaction without the ORM: sealed at its commit."""
    if table in DIGESTED:
        ids = list(ids)
        pending: dict[str, set[Any]] = session.info.setdefault(_PENDING, defaultdict(set))
        pending[table].update(ids)
        _note_set_written(session, table, ids)


def _note_set_written(session: Session, table: str, keys: Iterable[Any] | None = None) -> None:
    """``table``'s seal as a whole is made again at this transaction's commit, if it is a sealed
    one and (settings) a row of the site's rules was among ``keys`` (None: unknown, any)."""
    if table in SEALED_SETS and (keys is None or any(_in_set(table, k) for k in keys)):
        session.info.setdefault(_SETS, set()).add(table)


def _check_set_before_write(
    session: Session, table: str, keys: Iterable[Any] | None = None
) -> None:
    """Before this transaction first writes to ``table`` (a sealed one), whether the table
    still matches its seal: if not (a holiday deleted by SQL), what is wrong goes into the
    audit log at commit (``_record_findings``) — the commit seals the table as it then stands,
    which without the entry would have signed the deletion in."""
    if table not in SEALED_SETS or session.info.get(_SEALING) or session.info.get(_TRUSTED):
        return
    if keys is not None and not any(_in_set(table, k) for k in keys):
        return
    checked: set[str] = session.info.setdefault(_SETS_CHECKED, set())
    if table in checked:
        return
    checked.add(table)
    site = _site_of_session(session)
    if site is None or site.tables < SETS_SINCE:
        return
    stored = session.execute(
        select(TableSeal.seal, TableSeal.keys).where(TableSeal.name == table)
    ).one_or_none()
    problems = _set_problems(session, site, table, tuple(stored) if stored else None)
    if problems:
        session.info.setdefault(_FOUND, []).append(("settings", f"table:{table}", problems))


@event.listens_for(Session, "before_flush")
def _check_sets_before_flush(session: Session, _context: object, _instances: object) -> None:
    for obj in [*session.new, *session.dirty, *session.deleted]:
        table = getattr(type(obj), "__tablename__", "")
        if table in SEALED_SETS:
            _check_set_before_write(session, table, [getattr(obj, _key(_table(table)).name)])


def _in_set(table: str, key: Any) -> bool:
    """Whether the row of ``table`` with ``key`` is covered by the table's seal as a whole."""
    if table != "settings":
        return True
    setting = declared_setting(str(key))
    return setting is not None and setting.permission is not None


class ChangedAccount(UserError):
    """A write to a user's record whose digest no longer holds."""


class ChangedSetting(UserError):
    """A write over a setting whose stored row no longer matches its digest."""


@event.listens_for(Session, "before_flush")
def _refuse_resealing_a_changed_setting(
    session: Session, _context: object, _instances: object
) -> None:
    """A site setting changed behind the program's back (a deadline rule lengthened by SQL) is
    not written over: the form's 保存 would have signed the changed value with the rest, and bbcs
    check then passed. Checked once per row and transaction, before its first write; the
    program's own trusted passes (a restore, an upgrade) are let through (``_TRUSTED``)."""
    site = _site_of_session(session)
    if site is None or "settings" not in site.digested() or session.info.get(_TRUSTED):
        return
    written = session.info.get(_PENDING, {}).get("settings", set())
    for obj in list(session.dirty):
        if not isinstance(obj, Setting) or obj.key in written or not session.is_modified(obj):
            continue
        setting = declared_setting(obj.key)
        if setting is None or setting.permission is None:
            # The program's bookkeeping (the audit head, the calendar's revision) and a user's
            # preferences: written as they go; one changed by SQL is what check names.
            continue
        if not _row_intact(session, site, "settings", obj.key):
            name = setting.label
            raise ChangedSetting(
                f"设置“{name}”在数据库中被绕过程序改动过（校验值不符），不能在此基础上修改。"
                "请纪检审计运行 bbcs check 查看，并用改动之前的备份恢复。"
            )


@event.listens_for(Session, "before_flush")
def _refuse_resealing_a_changed_user(
    session: Session, _context: object, _instances: object
) -> None:
    """A user's record changed behind the program's back is not written, so never sealed
    again: not only its log-in (``auth``) but an unlock, a new password or a deactivation would
    otherwise digest the SQL-given role with the rest, and bbcs check then passed. Checked once
    per row and transaction, before its first write (after that its digest waits for the
    commit)."""
    if _site_of_session(session) is None:
        return
    written = session.info.get(_PENDING, {}).get("users", set())
    for obj in list(session.dirty):
        if not isinstance(obj, User) or obj.id in written or not session.is_modified(obj):
            continue
        if not user_intact(session, obj.id):
            raise ChangedAccount(
                f"用户 {obj.username} 的账户记录被绕过程序改动过（校验值不符），不能修改"
                "（解锁、重设密码、停用等）。请用改动之前的备份恢复。"
            )


@event.listens_for(Session, "after_flush")
def _note_flushed(session: Session, _context: object) -> None:
    if _site_of_session(session) is None:
        return
    for obj in [*session.new, *session.dirty]:
        table = getattr(type(obj), "__tablename__", "")
        if table in DIGESTED and (obj in session.new or session.is_modified(obj)):
            note_written(session, table, [getattr(obj, _key(_table(table)).name)])
    for obj in session.deleted:
        table = getattr(type(obj), "__tablename__", "")
        if table in SEALED_SETS:
            _note_set_written(session, table, [getattr(obj, _key(_table(table)).name)])
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, CaseEvent) and obj.case_id is not None:
            session.info.setdefault(_EVENTS, set()).add(obj.case_id)
            if obj in session.new:
                session.info.setdefault(_NEW_LINES, set()).add(obj.id)
            else:  # changed or removed through the program: what it was is not known here
                session.info.setdefault(_NEW_LINES, set()).add(None)
        elif isinstance(obj, Case) and obj.id is not None and obj not in session.deleted:
            session.info.setdefault(_VERSIONED, set()).add(obj.id)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state: ORMExecuteState) -> None:
    """ORM bulk statements skip the flush: an INSERT of digested rows (the demo's) is watched,
    an UPDATE by primary key (sealing old numbers, migration 0010's step) noted, a DELETE
    from a table sealed as a whole (a holiday taken out, a shift cleared) has its seal made
    again."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", "")
    if name not in DIGESTED or _site_of_session(state.session) is None:
        return
    _check_set_before_write(state.session, name)  # before the statement runs
    if state.is_delete:
        _note_set_written(state.session, name)
        return
    if state.is_insert:
        watch_new_rows(state.session)
        return
    params = state.parameters
    if isinstance(params, list | tuple):
        key = _key(_table(name)).name
        note_written(state.session, name, [p[key] for p in params if key in p])


@event.listens_for(Session, "before_commit")
def _seal_at_commit(session: Session) -> None:
    site = _site_of_session(session)
    if site is None:
        return
    # Flushed first: a record changed after the transaction's last flush (a case's version
    # bumped at the end of a use case) is noted by that flush, not yet when this hook begins.
    session.flush()
    session.info[_SEALING] = True  # its own writes below are not a first write to check
    try:
        _seal_noted(session, site)
    finally:
        for key in (_SEALING, _NEW_LINES, _VERSIONED, _SETS_CHECKED, _FOUND):
            session.info.pop(key, None)


def _seal_noted(session: Session, site: SiteIntegrity) -> None:
    """What this transaction wrote, digested and sealed (``_seal_at_commit``)."""
    if not any(k in session.info for k in (_PENDING, _WATCH, _SETS, _EVENTS)):
        return
    events: set[int] = session.info.pop(_EVENTS, set())
    new_lines: set[int | None] = session.info.get(_NEW_LINES, set())
    versioned: set[int] = session.info.get(_VERSIONED, set())
    if events and site.tables >= EVENTS_SINCE:
        # Before the digests below: the cases whose hash changes are noted here.
        _keep_events_hashes(session, events, new_lines, versioned)
    found: list[tuple[str, str, list[str]]] = session.info.pop(_FOUND, [])
    if found:
        _record_findings(session, found)
        session.flush()  # the audit head's setting is noted for its digest below
    pending: dict[str, set[Any]] = session.info.pop(_PENDING, {})
    marks: dict[str, int] = session.info.pop(_WATCH, {})
    sets: set[str] = session.info.pop(_SETS, set())
    for name, mark in marks.items():
        t = _table(name)
        if _seal(session, site, t, t.c.id > mark) and name in SEALED_SETS:
            sets.add(name)
    for name, ids in pending.items():
        t = _table(name)
        # Rows after a bulk write's mark were sealed just above.
        ordered = sorted(i for i in ids if i is not None and i <= marks.get(name, i))
        for start in range(0, len(ordered), _ID_CHUNK):
            _seal(session, site, t, _key(t).in_(ordered[start : start + _ID_CHUNK]))
    if site.tables >= SETS_SINCE:
        for name in sorted(sets):
            _write_set_seal(session, site, name)


def _record_findings(session: Session, found: list[tuple[str, str, list[str]]]) -> None:
    """Each finding of this transaction (entity, its key, the problems) as an entry of the
    keyed audit log, under the name of the user whose save found it."""
    entries = [o for o in session.identity_map.values() if isinstance(o, AuditEntry)]
    user = max(entries, key=lambda e: e.id or 0).user_name if entries else "bbcs"
    for entity, key, problems in found:
        log.warning("found changed behind the program before this save: %s", problems)
        audit.record(
            session,
            at=datetime.now().replace(microsecond=0),
            user_name=user,
            action=TAMPER_FOUND_ACTION,
            entity=entity,
            entity_uuid=key,
            after={"problems": problems},
        )


def recorded_findings(session: Session) -> list[str]:
    """What saves found changed behind the program before they wrote (``TAMPER_FOUND_ACTION``),
    in words: the save sealed what it found, the keyed audit log keeps the finding."""
    problems: list[str] = []
    for at, user, after in session.execute(
        select(AuditEntry.at, AuditEntry.user_name, AuditEntry.after)
        .where(AuditEntry.action == TAMPER_FOUND_ACTION)
        .order_by(AuditEntry.id)
    ):
        found = after.get("problems", []) if isinstance(after, dict) else []
        problems.extend(f"{at:%Y-%m-%d %H:%M} {user} 保存时发现：{problem}" for problem in found)
    return problems


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session: Session) -> None:
    if not session.info.pop(audit.WROTE_ENTRIES, False):
        return
    engine = _engine_of(session)
    site = site_of(engine)
    if site is None:
        return
    try:
        _advance_anchor(site, engine)
    except (OSError, SQLAlchemyError) as exc:
        # The save is committed; the anchor catches up at the next one (check accepts a tail
        # that chains from it meanwhile).
        log.warning("could not move the audit anchor forward: %s", exc)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_WATCH, None)
    for key in (_SETS, _EVENTS, _NEW_LINES, _VERSIONED, _SETS_CHECKED, _FOUND):
        session.info.pop(key, None)
    session.info.pop(audit.WROTE_ENTRIES, None)


# A case's 办理记录 (version 4) -------------------------------------------------------------------

# A timeline line as hashed: what a line says and who wrote it when, not where it is stored
# (its id and its case's id are each site's own). Read as Core columns: the ORM's loading of
# 515,615 lines took half the upgrade's pass.
_LINES: Final = Base.metadata.tables["case_events"]
_LINE_COLUMNS: Final = tuple(
    _LINES.c[name] for name in ("uuid", "at", "kind", "summary", "data", "user_name")
)
_LINES_BATCH: Final = 20_000


def events_hash(lines: Iterable[Sequence[Any]]) -> str:
    """SHA-256 over a case's timeline lines (``_LINE_COLUMNS``' values as SQLAlchemy reads them,
    the same on both engines and after a bundle's trip), in the order of their text (their
    UUIDs first). Not keyed: the case's keyed digest covers it."""
    texts = sorted(
        json.dumps(
            list(line),
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
            default=_json_default,  # as _canonical makes them, without walking every value
        )
        for line in lines
    )
    hashed = hashlib.sha256()
    for line_text in texts:
        hashed.update(line_text.encode("utf-8", "surrogatepass"))
        hashed.update(b"\x1e")
    return hashed.hexdigest()


def _lines_by_case(
    session: Session, case_ids: Sequence[int] | None = None, *, with_ids: bool = False
) -> Iterator[tuple[int, list[Sequence[Any]]]]:
    """Each case's timeline lines (of ``case_ids``, or every case's), case by case;
    ``with_ids``: each line with its id first."""
    case_id = _LINES.c.case_id
    columns = (_LINES.c.id, *_LINE_COLUMNS) if with_ids else _LINE_COLUMNS
    connection = session.connection()
    batches: Iterator[Any]
    if case_ids is not None:
        batches = (
            select(case_id, *columns)
            .where(case_id.in_(sorted(case_ids[start : start + _ID_CHUNK])))
            .order_by(case_id)
            for start in range(0, len(case_ids), _ID_CHUNK)
        )
    else:
        batches = _all_lines_batches(connection, columns)
    for query in batches:
        rows = connection.execute(query).all()
        for case, group in itertools.groupby(rows, key=lambda row: row[0]):
            yield case, [row[1:] for row in group]


def _all_lines_batches(connection: Any, columns: Sequence[Any]) -> Iterator[Any]:
    """Every case's lines, whole cases a batch at a time (keyset on the case), never the whole
    table at once."""
    case_id = _LINES.c.case_id
    last_case = None
    while True:
        bound = select(case_id).order_by(case_id)
        if last_case is not None:
            bound = bound.where(case_id > last_case)
        upper = connection.scalar(bound.offset(_LINES_BATCH).limit(1))
        query = select(case_id, *columns).order_by(case_id)
        if last_case is not None:
            query = query.where(case_id > last_case)
        if upper is not None:
            query = query.where(case_id <= upper)  # the whole of that case too
        yield query
        if upper is None:
            return
        last_case = upper


def refresh_events_hashes(session: Session, *, only_missing: bool = True) -> int:
    """Hash every case's timeline into it (``only_missing``: the cases without a hash), as it
    stands: a trusted pass (the upgrade, a restore, the demo's bulk rows, the history's scrub).
    The changed cases are sealed at commit; no new version (nothing to send again: the
    receiver's pass makes the same hash of the same lines). Returns how many changed.

    Of the cases received from another site, only ``only_missing=False`` (the lines changed
    here) makes their hash: otherwise it is the sender's to make (a county of an older release
    sends none, and a hash made here would not follow the lines it sends later)."""
    query = select(Case.id, Case.events_hash)
    if only_missing:
        query = query.where(Case.events_hash.is_(None), Case.origin_site == "")
    stored = dict(session.execute(query).all())
    if not stored:
        return 0
    wanted = sorted(stored) if only_missing and len(stored) < _LINES_BATCH else None
    made: dict[int, str] = {}
    for case_id, lines in _lines_by_case(session, wanted):
        if case_id in stored:
            made[case_id] = events_hash(lines)
    empty = events_hash([])
    changes = [
        {"id": case_id, "events_hash": made.get(case_id, empty)}
        for case_id, was in stored.items()
        if made.get(case_id, empty) != was
    ]
    for start in range(0, len(changes), _BATCH):
        chunk = changes[start : start + _BATCH]
        session.execute(update(Case), chunk)  # by primary key: noted for sealing (_note_bulk)
    return len(changes)


def _keep_events_hashes(
    session: Session, case_ids: set[int], new_lines: set[int | None], versioned: set[int]
) -> None:
    """The program added lines to ``case_ids`` (``new_lines``: their ids): each case's hash
    made again. Where its lines without the new ones no longer made the hash it held (a line
    deleted or reworded by SQL before this save), that goes into the audit log at commit
    first (``_record_findings``): hashing the lines now signs them as they stand. A case this
    transaction did not otherwise change becomes a new version to send, through the ORM; one
    it did keeps the version it was given."""
    trusted = None in new_lines  # lines changed through the program: their old form is gone
    query = select(Case.id, Case.events_hash).where(Case.id.in_(case_ids))
    stored: dict[int, str | None] = dict(session.execute(query).all())
    made = dict.fromkeys(case_ids, events_hash([]))
    before = dict(made)
    for case_id, lines in _lines_by_case(session, sorted(case_ids), with_ids=True):
        made[case_id] = events_hash(line[1:] for line in lines)
        before[case_id] = events_hash(line[1:] for line in lines if line[0] not in new_lines)
    for case_id, value in made.items():
        was = stored.get(case_id)
        if was == value:
            continue
        if was is not None and not trusted and not hmac.compare_digest(was, before[case_id]):
            number, the_uuid = session.execute(
                select(Case.number, Case.uuid).where(Case.id == case_id)
            ).one()
            problem = f"事项 {number} 的办理记录与校验值不符：有办理记录被绕过程序删除、增加或改动"
            session.info.setdefault(_FOUND, []).append(("case", the_uuid, [problem]))
        if case_id in versioned:
            cases = _table("cases")
            session.execute(update(cases).where(cases.c.id == case_id).values(events_hash=value))
            case = session.identity_map.get(identity_key(Case, case_id))
            if case is not None:
                set_committed_value(case, "events_hash", value)
            note_written(session, "cases", [case_id])
        else:
            case = session.get(Case, case_id)
            if case is not None:
                case.events_hash = value
    session.flush()


def verify_events(
    session: Session, site: SiteIntegrity, wrong_cases: set[int] | None = None
) -> list[str]:
    """Each case whose timeline lines no longer make the hash its (signed) row holds, and each
    of this site's own cases without one (every one has it once version 4's pass has run).

    A case received from another site holds the sender's hash: a difference may also be the
    sender's doing (its lines changed by SQL there, or a backup restored there after it sent
    them), and is said so; a received case that went to the conflict queue is left out (the
    lines of both sides are kept here)."""
    if site.tables < EVENTS_SINCE:
        return []
    rows = session.execute(select(Case.id, Case.events_hash, Case.origin_site, Case.uuid)).all()
    conflicted = set(
        session.scalars(select(SyncConflict.entity_uuid).where(SyncConflict.entity == "cases"))
    )
    stored = {r[0]: r[1] for r in rows if r[1] is not None and r[3] not in conflicted}
    origin = {r[0]: r[2] for r in rows}
    unhashed = sorted(r[0] for r in rows if r[1] is None and r[2] == "")
    wrong: list[int] = []
    seen: set[int] = set()
    for case_id, lines in _lines_by_case(session):
        seen.add(case_id)
        was = stored.get(case_id)
        if was is not None and not hmac.compare_digest(was, events_hash(lines)):
            wrong.append(case_id)
    empty = events_hash([])
    wrong += [i for i, was in stored.items() if i not in seen and was != empty]
    if wrong_cases is not None:  # the caller's: their histories are no longer the program's
        wrong_cases.update(wrong)
    if not wrong and not unhashed:
        return []
    wrong.sort()
    named = [*wrong[:_LISTED], *unhashed[:_LISTED]]
    numbers: dict[int, str] = dict(
        session.execute(select(Case.id, Case.number).where(Case.id.in_(named))).all()
    )
    problems = [
        (
            f"事项 {numbers.get(case_id, case_id)} 的办理记录与校验值不符："
            "有办理记录被绕过程序删除、增加或改动"
            if not origin.get(case_id)
            else f"事项 {numbers.get(case_id, case_id)}（{origin[case_id]} 上报）的办理记录与"
            "随事项上报的校验值不符：在对方或本机被绕过程序改动过，或对方上报后恢复过较早的备份"
        )
        for case_id in wrong[:_LISTED]
    ]
    if len(wrong) > _LISTED:
        problems.append(f"……另有 {len(wrong) - _LISTED} 件事项的办理记录与校验值不符，未逐条列出")
    problems += [
        f"事项 {numbers.get(case_id, case_id)} 没有办理记录的校验值：可能被绕过程序清除"
        for case_id in unhashed[:_LISTED]
    ]
    if len(unhashed) > _LISTED:
        problems.append(f"……另有 {len(unhashed) - _LISTED} 件事项没有办理记录的校验值")
    return problems


# Tables sealed as wholes (version 3) ------------------------------------------------------------


def _set_rows(session: Session, site: SiteIntegrity, name: str) -> tuple[str, list[list[Any]]]:
    """The seal of ``name`` as it now stands, and its rows' keys (each with the words that name
    the row once it is gone: a holiday's or shift's day, a staff member's name)."""
    t = _table(name)
    key = _key(t)
    hint = t.c[_SET_HINTS[name]] if name in _SET_HINTS else literal(None)
    rows = [
        [_canonical(k), _canonical(h), d]
        for k, h, d in session.execute(select(key, hint, t.c.digest).order_by(key))
        if _in_set(name, k)
    ]
    payload = json.dumps([name, rows], ensure_ascii=False, separators=(",", ":"))
    seal = hmac.new(site.digest_key, _SET_SEAL_PREFIX + payload.encode("utf-8"), "sha256")
    return seal.hexdigest(), [row[:2] for row in rows]


def _write_set_seal(session: Session, site: SiteIntegrity, name: str) -> None:
    seal, keys = _set_rows(session, site, name)
    session.execute(delete(TableSeal).where(TableSeal.name == name))
    session.execute(insert(TableSeal).values(name=name, seal=seal, keys=keys))


def _seal_sets(session: Session, site: SiteIntegrity) -> None:
    """Seal every table of ``SEALED_SETS`` as it stands (trusted: an upgrade, a restore)."""
    for name in SEALED_SETS:
        _write_set_seal(session, site, name)


def verify_sets(session: Session, site: SiteIntegrity) -> list[str]:
    """Each table sealed as a whole whose rows no longer match its seal (``_set_problems``)."""
    if site.tables < SETS_SINCE:
        return []
    stored = {
        name: (seal, keys)
        for name, seal, keys in session.execute(
            select(TableSeal.name, TableSeal.seal, TableSeal.keys)
        )
    }
    return [
        problem
        for name in SEALED_SETS
        for problem in _set_problems(session, site, name, stored.get(name))
    ]


def _set_problems(
    session: Session, site: SiteIntegrity, name: str, stored: tuple[str, Any] | None
) -> list[str]:
    """What is wrong with sealed table ``name`` against its ``stored`` (seal, keys): the rows
    gone, named; rows there that the program did not write; rows put back as they were; or
    the seal itself gone."""
    label = SET_LABELS[name]
    if stored is None:
        return [f"{label}的校验汇总不见了：无法确认其中是否有记录被删除（汇总可能被绕过程序删除）"]
    seal, keys = _set_rows(session, site, name)
    was_seal, was_keys = stored
    if hmac.compare_digest(seal, str(was_seal)):
        return []
    problems: list[str] = []
    was = {_set_key(k[0]): k for k in was_keys or [] if isinstance(k, list) and len(k) == 2}
    now = {_set_key(k[0]) for k in keys}
    gone = [k for key, k in was.items() if key not in now]
    added = [k for k in keys if _set_key(k[0]) not in was]
    if gone:
        named = "、".join(_gone_label(name, key, hint) for key, hint in gone[:_LISTED])
        more = f" 等 {len(gone)} 条" if len(gone) > _LISTED else ""
        problems.append(
            f"{label}中的记录已不在数据库中：{named}{more}。可能被绕过程序删除；"
            "请用删除之前的备份恢复"
        )
    # A row added or changed by SQL fails its own digest (named by verify_records); one that
    # passes was put back with a digest the program once made.
    failing = _failing_keys(session, site, name)
    back = [k for k in added if _set_key(k[0]) not in failing]
    if back:
        named = "、".join(_gone_label(name, key, hint) for key, hint in back[:_LISTED])
        problems.append(f"{label}中有不是经本程序写入的记录：{named}（带着从前的校验值）")
    if not gone and not added and not failing:
        problems.append(
            f"{label}与其校验汇总不符：有记录被换回了从前的内容（带着从前的校验值），"
            "或汇总本身被改动"
        )
    return problems


def _failing_keys(session: Session, site: SiteIntegrity, name: str) -> set[str]:
    """The keys (as ``_set_key``) of ``name``'s rows whose digest is missing or wrong."""
    t = _table(name)
    digest = digester(site.digest_key, site.digest_format)
    failing: set[str] = set()
    last = _start(t)
    while rows := _raw_rows(session, t, true(), after=last, limit=_BATCH, fmt=site.digest_format):
        failing.update(
            _set_key(_canonical(row[0]))
            for row in rows
            if row[-1] is None or not hmac.compare_digest(row[-1], _digest_of(digest, name, row))
        )
        last = rows[-1][0]
    return failing


def _set_key(key: Any) -> str:
    return json.dumps(key, ensure_ascii=False)


def _gone_label(table: str, key: Any, hint: Any) -> str:
    """A row of a sealed table by what its seal kept of it."""
    if table == "settings":
        setting = declared_setting(str(key))
        return f"设置项“{setting.label}”（{key}）" if setting else f"设置项 {key}"
    if table == "calendar_years":
        return f"{key} 年的完整放假安排"
    if table == "holiday_overrides":
        return f"{hint} 的节假日设置"
    if table == "duty_shifts":
        return f"{hint} 的值班安排（内部编号 {key}）"
    return f"值班人员“{hint}”"


def _label(table: str, row: Mapping[str, Any], session: Session | None = None) -> str:
    if table == "cases":
        return f"事项 {row['number']}"
    if table == "complainants":
        return f"反映人“{row['name']}”（内部编号 {row['id']}）"
    if table == "users":
        return f"用户 {row['username']}"
    if table == "departments":
        return f"单位“{row['name']}”"
    if table == "slips":
        return f"公文 {row['number']}"
    if table == "sites":
        return f"站点 {row['code']}"
    if table == "referrals":
        return f"问责线索 {row['number'] or '（未编号）'}（内部编号 {row['id']}）"
    if table == "issue_classes":
        return f"一类事“{row['title']}”"
    if table == "meetings":
        return f"会议纪要 {row['number']}"
    if table == "meeting_items":
        return f"会议议题（内部编号 {row['id']}）"
    if table == "holiday_overrides":
        kind = "上班日" if row["working"] else "放假日"
        return f"节假日设置 {row['day']}（{kind}，{row['name']}）"
    if table == "calendar_years":
        return f"{row['year']} 年的完整放假安排"
    if table == "duty_staff":
        return f"值班人员“{row['name']}”"
    if table == "duty_shifts":
        return f"值班安排 {row['day']} {_shift_words(row, session)}"
    if table == "settings":
        setting = declared_setting(str(row["key"]))
        return f"设置项“{setting.label}”（{row['key']}）" if setting else f"设置项 {row['key']}"
    return f"交办记录（内部编号 {row['id']}）"


def _shift_words(row: Mapping[str, Any], session: Session | None) -> str:
    """A duty shift as a duty leader reads it (带班领导 韩国栋（上午…）), with the name the
    staff has now."""
    from desktop_app.services.roster import DutyRole, Period  # the roster's own words

    role, period = str(row["duty_role"]), str(row["period"])
    role = DutyRole(role).label if role in DutyRole._value2member_map_ else role
    period = Period(period).label if period in Period._value2member_map_ else period
    name = ""
    if session is not None:
        name = session.scalar(select(DutyStaff.name).where(DutyStaff.id == row["staff_id"])) or ""
    return f"{role} {name or '（人员已不在名单中）'}（{period}，内部编号 {row['id']}）"


def _audited_state(session: Session, table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The record as its audit entries left it (each entry's ``after`` in turn)."""
    the_uuid = row.get("uuid")
    if not the_uuid:
        return {}
    state: dict[str, Any] = {}
    for after in session.scalars(
        select(AuditEntry.after)
        .where(AuditEntry.entity == DIGESTED[table], AuditEntry.entity_uuid == the_uuid)
        .order_by(AuditEntry.id)
    ):
        if isinstance(after, dict):
            state.update(after)
    return state


def _mismatch(session: Session, table: str, row: Mapping[str, Any]) -> list[str]:
    audited = _audited_state(session, table, row)
    fields = [
        k
        for k, v in audited.items()
        if k in row and k not in UNSIGNED_COLUMNS and _canonical(row[k]) != _canonical(v)
    ]
    label = _label(table, row, session)
    detail = f"；与审计日志记载不同的字段：{'、'.join(fields)}" if fields else ""
    problems = [f"{label} 的记录被绕过程序直接改动（校验值不符{detail}）"]
    if table == "users" and "role" in audited and audited["role"] != row["role"]:
        problems.append(
            f"用户 {row['username']} 的角色是 {row['role']}，审计日志记载的是 {audited['role']}："
            "角色被直接改动，该用户在恢复前不能签发"
        )
    return problems


def verify_records(
    session: Session, site: SiteIntegrity, tables: Iterable[str] | None = None
) -> list[str]:
    """Each audited record (of ``tables``: every digested one by default) whose digest is
    missing or does not match its columns."""
    problems: list[str] = []
    count = 0
    digest = digester(site.digest_key, site.digest_format)
    wanted = set(tables) if tables is not None else None
    for name in site.digested():
        if wanted is not None and name not in wanted:
            continue
        t = _table(name)
        last_id = _start(t)
        while True:
            rows = _raw_rows(
                session, t, true(), after=last_id, limit=_BATCH, fmt=site.digest_format
            )
            if not rows:
                break
            for row in rows:
                stored = row[-1]
                if stored is not None and hmac.compare_digest(
                    stored, _digest_of(digest, name, row)
                ):
                    continue
                count += 1
                if count > _LISTED:
                    continue
                values = dict(session.execute(select(t).where(_key(t) == row[0])).one()._mapping)
                if stored is None:
                    problems.append(
                        f"{_label(name, values, session)} 没有校验值："
                        "可能是绕过程序直接写入数据库的"
                    )
                else:
                    problems.extend(_mismatch(session, name, values))
            last_id = rows[-1][0]
    if count > _LISTED:
        problems.append(f"……另有 {count - _LISTED} 条记录的校验值不符，未逐条列出")
    return problems


def user_intact(session: Session, user_id: int) -> bool:
    """Whether a user's record still matches its digest (True without a key to check it).
    Asked before anything writes the row: a write would seal it again, role and all."""
    site = _site_of_session(session)
    if site is None:
        return True
    return _row_intact(session, site, "users", user_id)


def _row_intact(session: Session, site: SiteIntegrity, table: str, key: Any) -> bool:
    """Whether the stored row of ``table`` with ``key`` matches its digest (True: no such row)."""
    t = _table(table)
    rows = _raw_rows(session, t, _key(t) == key, after=_start(t), limit=1, fmt=site.digest_format)
    if not rows:
        return True
    stored = rows[0][-1]
    return stored is not None and hmac.compare_digest(
        stored, _digest_of(digester(site.digest_key, site.digest_format), table, rows[0])
    )


def require_intact_user(session: Session, user_id: int) -> None:
    """Refuse to act for a user whose record was changed behind the application's back (a
    clerk made administrator by SQL signs nothing)."""
    if not user_intact(session, user_id):
        username = session.scalar(select(User.username).where(User.id == user_id))
        raise UserError(
            f"用户 {username} 的账户记录被绕过程序改动过（校验值不符），"
            "在管理员核查并恢复之前不能办理此操作。请联系管理员运行 bbcs check。"
        )


# Case numbers ---------------------------------------------------------------------------------


def missing_case_numbers(session: Session) -> list[str]:
    """This site's case numbers missing from their year's sequence: deleted cases. Cases
    received from other sites are numbered by them and are not counted here."""
    seqs: dict[tuple[str, int], set[int]] = defaultdict(set)
    prefix: dict[tuple[str, int], str] = {}
    # Historical cases (导入旧台账) have a series of their own, stored with a negative seq.
    for site_code, year, seq, number in session.execute(
        select(Case.site_code, Case.year, Case.seq, Case.number).where(
            Case.origin_site == "", Case.seq > 0
        )
    ):
        seqs[(site_code, year)].add(seq)
        prefix.setdefault((site_code, year), number.rsplit("-", 1)[0])
    taken = dict(
        session.execute(
            select(NumberSequence.year, NumberSequence.last_value).where(
                NumberSequence.kind == "case"
            )
        ).all()
    )
    problems: list[str] = []
    for (site_code, year), have in sorted(seqs.items()):
        # The counter catches the newest case deleted (no gap below it).
        top = max(max(have), int(taken.get(year, 0)))
        missing = [s for s in range(1, top + 1) if s not in have]
        if not missing:
            continue
        head = prefix[(site_code, year)]
        named = "、".join(f"{head}-{s:04d}" for s in missing[:_LISTED])
        more = f" 等 {len(missing)} 个" if len(missing) > _LISTED else ""
        problems.append(
            f"{year} 年的事项编号不连续，缺少 {named}{more}：这些事项可能被绕过程序从数据库删除"
        )
    return problems


def missing_slip_numbers(session: Session) -> list[str]:
    """This site's slip numbers missing from their series and year (交〔2026〕1号, 2号…):
    deleted papers. A series' counter also catches the newest paper deleted."""
    seqs: dict[tuple[str, int], set[int]] = defaultdict(set)
    head: dict[tuple[str, int], str] = {}
    for year, seq, number in session.execute(
        select(Slip.year, Slip.seq, Slip.number).where(Slip.site_code == "").order_by(Slip.id)
    ):
        before, _sep, _rest = number.partition("〔")
        if not before:
            continue
        key = (before[-1], year)
        seqs[key].add(seq)
        head[key] = before  # the newest paper's prefix
    taken = {
        (kind.removeprefix("slip-"), year): int(value)
        for kind, year, value in session.execute(
            select(NumberSequence.kind, NumberSequence.year, NumberSequence.last_value).where(
                NumberSequence.kind.like("slip-%")
            )
        )
    }
    problems: list[str] = []
    for (series, year), have in sorted(seqs.items()):
        top = max(max(have), taken.get((series, year), 0))
        missing = [s for s in range(1, top + 1) if s not in have]
        if not missing:
            continue
        prefix = head[(series, year)]
        named = "、".join(f"{prefix}〔{year}〕{s}号" for s in missing[:_LISTED])
        more = f" 等 {len(missing)} 个" if len(missing) > _LISTED else ""
        problems.append(
            f"{year} 年的公文编号不连续，缺少 {named}{more}：这些公文可能被绕过程序从数据库删除"
        )
    return problems


def missing_paper_numbers(session: Session) -> list[str]:
    """This site's 移交函, 会议纪要 and 告知书 numbers missing from their year's series: papers
    deleted behind the program's back (as for slips, the counter catches the newest one)."""
    from desktop_app.services import meetings, referrals, screening

    found: dict[str, list[tuple[int, int, str]]] = {
        referrals.SEQUENCE: [
            (year, seq, number)
            for year, seq, number in session.execute(
                select(Referral.year, Referral.seq, Referral.number).where(
                    Referral.origin_site == "", Referral.seq.is_not(None)
                )
            )
            if year is not None and seq is not None
        ],
        meetings.NUMBER_KIND: [
            (year, seq, number)
            for year, seq, number in session.execute(
                select(Meeting.year, Meeting.seq, Meeting.number).where(Meeting.origin_site == "")
            )
        ],
        screening.SEQUENCE_KIND: _notice_numbers(session),
    }
    counters = {
        (kind, year): int(value)
        for kind, year, value in session.execute(
            select(NumberSequence.kind, NumberSequence.year, NumberSequence.last_value).where(
                NumberSequence.kind.in_(list(found))
            )
        )
    }
    problems: list[str] = []
    for kind, papers in found.items():
        seqs: dict[int, set[int]] = defaultdict(set)
        head: dict[int, str] = {}
        for year, seq, number in papers:
            seqs[year].add(seq)
            head[year] = number.partition("〔")[0]
        for year in sorted(set(seqs) | {y for k, y in counters if k == kind}):
            have = seqs.get(year, set())
            top = max(max(have, default=0), counters.get((kind, year), 0))
            missing = [n for n in range(1, top + 1) if n not in have]
            if not missing:
                continue
            prefix = head.get(year, "")
            named = "、".join(f"{prefix}〔{year}〕{n}号" for n in missing[:_LISTED])
            more = f" 等 {len(missing)} 个" if len(missing) > _LISTED else ""
            problems.append(
                f"{year} 年的公文编号不连续，缺少 {named}{more}：这些公文可能被绕过程序从数据库删除"
            )
    return problems


_NOTICE_NUMBER: Final = re.compile(r"〔(\d{4})〕(\d+)号$")


def _notice_numbers(session: Session) -> list[tuple[int, int, str]]:
    """The 告知书 issued here, from their cases' timelines (a notice is frozen there)."""
    numbers: list[tuple[int, int, str]] = []
    for (data,) in session.execute(
        select(CaseEvent.data)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.kind == "screened_out", Case.origin_site == "")
    ):
        number = str(((data or {}).get("notice") or {}).get("number", ""))
        match = _NOTICE_NUMBER.search(number)
        if match:
            numbers.append((int(match[1]), int(match[2]), number))
    return numbers


# Deleted records ------------------------------------------------------------------------------

# The audit actions that create a record of each digested table (services/*.py).
_CREATED_BY: Final = {
    "cases": ("register",),
    "complainants": ("create",),
    "assignments": ("draft_assignment",),
    "slips": ("issue_slip",),
    "departments": ("create",),
    "users": ("create",),
    "referrals": ("propose_referral",),
    "issue_classes": ("create_class",),
    "meetings": ("record_meeting",),
}


def deleted_records(session: Session) -> list[str]:
    """Each record the audit log says was created and the database no longer holds (records
    are never deleted by the program: withdrawn and voided ones keep their rows). One
    anti-join per table, on the audit log's (entity, entity_uuid) index."""
    problems: list[str] = []
    count = 0
    for name, actions in _CREATED_BY.items():
        t = _table(name)
        gone = session.execute(
            select(AuditEntry.entity_uuid, AuditEntry.after)
            .where(
                AuditEntry.entity == DIGESTED[name],
                AuditEntry.action.in_(actions),
                ~select(t.c.id).where(t.c.uuid == AuditEntry.entity_uuid).exists(),
            )
            .order_by(AuditEntry.id)
        ).all()
        seen: set[str] = set()
        for the_uuid, after in gone:
            if the_uuid in seen:
                continue
            seen.add(the_uuid)
            count += 1
            if count <= _LISTED:
                problems.append(
                    f"{_deleted_label(name, the_uuid, after)} 在审计日志中有登记，"
                    "但数据库里已没有这条记录：可能被绕过程序删除"
                )
    if count > _LISTED:
        problems.append(f"……另有 {count - _LISTED} 条被删除的记录，未逐条列出")
    return problems


def _deleted_label(table: str, the_uuid: str, after: Any) -> str:
    values = after if isinstance(after, dict) else {}
    if table == "cases" and values.get("number"):
        return f"事项 {values['number']}"
    if table == "slips" and values.get("number"):
        return f"公文 {values['number']}"
    if table == "users" and values.get("username"):
        return f"用户 {values['username']}"
    if table == "departments" and values.get("name"):
        return f"单位“{values['name']}”"
    if table == "assignments" and values.get("case"):
        return f"事项 {values['case']} 的交办记录（{values.get('department', '')}）"
    if table == "complainants" and values.get("name"):
        return f"反映人“{values['name']}”（标识 {the_uuid}）"
    kind = {"complainants": "反映人", "assignments": "交办记录", "departments": "单位"}
    return f"{kind.get(table, '记录')}（标识 {the_uuid}）"
