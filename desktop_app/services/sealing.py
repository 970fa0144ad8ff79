"""Personal numbers sealed at rest (issue 15 item 11): ID and phone numbers in the database are
AES-256-GCM ciphertext under a subkey of the site's data key (``keys/data.key``, outside the
database), so a copied ``bbcs.db`` or backup alone reveals none of them.

A sealed value is text: ``s1:`` and the base64 of a random 96-bit nonce followed by the
ciphertext and tag; the column's name is the associated data, so a value moved to another column
does not open. Sealing the same number twice gives different text, so an exact-match search or a
duplicate check goes through a keyed hash instead (HMAC-SHA256 under another subkey, of the
normalized number: an ID with an upper-case X, a phone's digits only). A phone's last four digits
stay in clear, so 尾号 search works.

A value without the ``s1:`` prefix is one written before sealing (a database upgraded but not yet
sealed by :func:`seal_existing`): it opens as itself, so nothing ever shows ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import re
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text, cast, or_, select, text, update
from sqlalchemy.orm import Session

from desktop_app.domain.name_order import name_key
from desktop_app.domain.settings import DATA_KEY_FINGERPRINT, SEALED_AT_REST
from desktop_app.domain.validation import mask_id_number, mask_phone, normalize_id_number
from desktop_app.errors import UserError
from desktop_app.services import settings
from desktop_app.services.data_key import DataKey
from desktop_app.storage import search
from desktop_app.storage.database import Database
from desktop_app.storage.models import Case, Complainant, Slip

if TYPE_CHECKING:
    from desktop_app.services.audit import ChainKey

log = logging.getLogger(__name__)

PREFIX: Final = "s1:"
_NONCE_BYTES: Final = 12
_NOT_DIGIT: Final = re.compile(r"[^0-9]+")
SEAL_BATCH: Final = 2000
SEARCH_CHUNK: Final = 5000

LookupKind = Literal["id", "phone"]

# The column each sealed value belongs to (the associated data): one name per meaning, so the
# same number sealed for the complainants table opens wherever that meaning is read.
ID_COLUMN: Final = "complainants.id_number"
PHONE_COLUMN: Final = "complainants.phone"
SLIP_COLUMN: Final = "slips.content"


class SealBroken(UserError):
    """A sealed value that does not open under this site's key: edited, or sealed elsewhere."""


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def normalized_phone(value: str) -> str:
    """A phone's digits only, full-width ones made half-width."""
    return _NOT_DIGIT.sub("", value if value.isascii() else unicodedata.normalize("NFKC", value))


def normalized_id(value: str) -> str:
    """An ID as validation.normalize_id_number makes it; a stored one (ASCII letters and
    digits already) without its per-character pass, which dominated re-keying a bundle."""
    if value.isascii() and value.isalnum():
        return value.replace("x", "X")
    return normalize_id_number(value)


def phone_last4(value: str) -> str:
    digits = normalized_phone(value)
    return digits[-4:] if len(digits) >= 4 else ""


class Sealer:
    """Seals and opens one site's personal numbers; built from its data key."""

    def __init__(self, data_key: DataKey) -> None:
        self._data_key = data_key
        self._aead: AESGCM | None = None
        self._lookup_key: bytes | None = None

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            self._aead = AESGCM(self._data_key.subkey("fields"))
        return self._aead

    def seal(self, value: str, column: str) -> str:
        """``value`` sealed for ``column``; an empty value stays empty (nothing to hide)."""
        if not value:
            return ""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, value.encode("utf-8"), column.encode("utf-8"))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, column: str) -> str:
        """The clear value of what :meth:`seal` made; an unsealed (pre-upgrade) value as is."""
        if not is_sealed(stored):
            return stored
        try:
            raw = base64.b64decode(stored[len(PREFIX) :], validate=True)
            clear = self._cipher().decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], column.encode("utf-8")
            )
            return clear.decode("utf-8")
        except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError) as exc:
            raise SealBroken(
                "一条加密保存的个人信息无法用本站数据密钥打开（数据被改动过，或数据密钥不是"
                "本站原来的那把）。请运行 bbcs check，或用恢复密钥装回原来的数据密钥。"
            ) from exc

    def lookup(self, kind: LookupKind, value: str) -> str:
        """The keyed hash that finds ``value`` by exact match; "" for an empty value."""
        normal = normalized_id(value) if kind == "id" else normalized_phone(value)
        if not normal:
            return ""
        if self._lookup_key is None:
            self._lookup_key = self._data_key.subkey("lookup")
        return hmac.digest(self._lookup_key, f"{kind}:{normal}".encode(), "sha256").hex()

    # Complainants -------------------------------------------------------------------------

    def complainant_columns(self, id_number: str, phone: str) -> dict[str, str]:
        """The stored columns for a complainant's ID and phone (as :class:`Complainant` names
        them), sealed, with their lookups and the phone's last four digits."""
        # In the order of demo.rows.STORED_COMPLAINANT_COLUMNS, which relies on it.
        return {
            "id_number_sealed": self.seal(id_number, ID_COLUMN),
            "id_lookup": self.lookup("id", id_number),
            "phone_sealed": self.seal(phone, PHONE_COLUMN),
            "phone_lookup": self.lookup("phone", phone),
            "phone_last4": phone_last4(phone),
        }

    def id_number(self, person: Complainant) -> str:
        return self.open(person.id_number_sealed, ID_COLUMN)

    def phone(self, person: Complainant) -> str:
        return self.open(person.phone_sealed, PHONE_COLUMN)

    def store(self, person: Complainant, *, id_number: str, phone: str) -> None:
        for name, value in self.complainant_columns(id_number, phone).items():
            setattr(person, name, value)

    # Complainants as they travel in a bundle (in clear: the bundle is encrypted) ------------

    def open_row(self, table: str, columns: Sequence[str], values: list[Any]) -> list[Any]:
        """A row of ``table`` read here (``columns``, Python values), its sealed parts opened:
        a complainant's numbers, a paper's personal fields."""
        out = list(values)
        for at, name in enumerate(columns):
            if table == "complainants" and name in SEALED_COLUMNS and isinstance(out[at], str):
                out[at] = self.open(out[at], SEALED_COLUMNS[name])
            elif table == "slips" and name == "content" and isinstance(out[at], dict):
                out[at] = self.open_content(out[at])
        return out

    def open_travelling(self, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
        opened = self.open_row(table, list(values), list(values.values()))
        return dict(zip(values, opened, strict=True))

    def sealed_values(self, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """A row of ``table`` as it is written here (Python values by column): a complainant's
        numbers sealed under this site's key with their lookups, a paper's personal fields
        sealed. What arrives in clear (a bundle) or sealed here (a queued conflict) alike."""
        out = dict(values)
        if table == "complainants" and {"id_number_sealed", "phone_sealed"} <= out.keys():
            clear_id = self.open(out["id_number_sealed"] or "", ID_COLUMN)
            clear_phone = self.open(out["phone_sealed"] or "", PHONE_COLUMN)
            out.update(self.complainant_columns(clear_id, clear_phone))
        elif table == "slips" and isinstance(out.get("content"), dict):
            out["content"] = self.seal_content(self.open_content(out["content"]))
        if table == "complainants" and isinstance(out.get("name"), str):
            out["name_key"] = name_key(out["name"])  # never sent: made where the row lands
        return out

    def seal_travelling(self, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """A row as it travelled, its personal parts sealed to be kept here (a conflict)."""
        out = dict(values)
        if table == "complainants":
            for name, column in SEALED_COLUMNS.items():
                value = out.get(name)
                if isinstance(value, str) and not is_sealed(value):
                    out[name] = self.seal(value, column)
        elif table == "slips" and isinstance(out.get("content"), dict):
            out["content"] = self.seal_content(out["content"])
        return out

    # Issued papers ------------------------------------------------------------------------

    def seal_content(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """A paper's stored content with its personal fields sealed (the rest stays readable
        for the register's lists)."""
        out = dict(content)
        for key in PAPER_PERSONAL_FIELDS:
            value = out.get(key)
            if isinstance(value, str) and value and not is_sealed(value):
                out[key] = self.seal(value, f"{SLIP_COLUMN}.{key}")
        return out

    def open_content(self, content: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(content)
        for key in PAPER_PERSONAL_FIELDS:
            value = out.get(key)
            if isinstance(value, str):
                out[key] = self.open(value, f"{SLIP_COLUMN}.{key}")
        return out


# The complainants' sealed columns and the name each is sealed under.
SEALED_COLUMNS: Final = {"id_number_sealed": ID_COLUMN, "phone_sealed": PHONE_COLUMN}
# The tables with sealed parts (complainants' numbers, papers' personal fields).
SEALED_TABLES: Final = frozenset({"complainants", "slips"})
_OPEN_FUNCTION: Final = "bbcs_open_sealed"


_SEAL_FUNCTION: Final = "bbcs_seal"
_LOOKUP_FUNCTION: Final = "bbcs_lookup"
_NAME_KEY_FUNCTION: Final = "bbcs_name_key"


def register_functions(session: Session, sealer: Sealer) -> None:
    """Let SQL on this session's SQLite connection open and seal (``opened_sql``,
    ``sealed_sql``): a bundle's rows are compared with the sealed ones here, and sealed on
    their way in, without a pass in Python."""
    raw = session.connection().connection.driver_connection
    if isinstance(raw, sqlite3.Connection):
        register_on(raw, sealer)


def register_on(raw: sqlite3.Connection, sealer: Sealer) -> None:
    """``register_functions`` for a plain SQLite connection (a records file of its own)."""
    raw.create_function(
        _SEAL_FUNCTION,
        2,
        lambda value, column: (
            sealer.seal(value, column) if isinstance(value, str) and not is_sealed(value) else value
        ),
    )
    raw.create_function(
        _LOOKUP_FUNCTION,
        2,
        lambda kind, value: sealer.lookup(kind, value) if isinstance(value, str) else "",
        deterministic=True,
    )
    raw.create_function(
        _OPEN_FUNCTION,
        2,
        lambda value, column: sealer.open(value, column) if isinstance(value, str) else value,
        deterministic=True,
    )
    raw.create_function(
        _NAME_KEY_FUNCTION,
        1,
        lambda name: name_key(name) if isinstance(name, str) else "",
        deterministic=True,
    )


def _paper_sql(expression: str, function: str) -> str:
    """A paper's content (JSON text) with ``function`` applied to its personal fields, in
    SQL: json_replace leaves a field the paper lacks absent, and the rest of the text as is."""
    fields = ", ".join(
        f"'$.{key}', {function}(json_extract({expression}, '$.{key}'), '{SLIP_COLUMN}.{key}')"
        for key in PAPER_PERSONAL_FIELDS
    )
    return f"json_replace({expression}, {fields})"


def sealed_sql(table: str, column: str, expression: str) -> str:
    """``expression`` (a column of ``table`` in clear, as a bundle brings it) as it is stored
    here: sealed where the column is sealed (``register_functions``)."""
    sealed_as = SEALED_COLUMNS.get(column) if table == "complainants" else None
    if sealed_as is not None:
        return f"{_SEAL_FUNCTION}({expression}, '{sealed_as}')"
    if table == "slips" and column == "content":
        return _paper_sql(expression, _SEAL_FUNCTION)
    return expression


def derived_sql(table: str, row: str) -> list[tuple[str, str]]:
    """The columns made here from a bundle's row ``row`` (its alias), with their SQL: the
    keyed hashes of a complainant's numbers (never sent: each site keys its own) and its
    name's sort key (``Sealer.sealed_values`` makes the same in Python)."""
    if table != "complainants":
        return []
    return [
        ("id_lookup", f"{_LOOKUP_FUNCTION}('id', {row}.\"id_number_sealed\")"),
        ("phone_lookup", f"{_LOOKUP_FUNCTION}('phone', {row}.\"phone_sealed\")"),
        ("name_key", f'{_NAME_KEY_FUNCTION}({row}."name")'),
    ]


def opened_sql(table: str, column: str, expression: str) -> str:
    """``expression`` (a column of ``table``), opened if the column is sealed."""
    if table == "slips" and column == "content":
        return _paper_sql(expression, _OPEN_FUNCTION)
    sealed_as = SEALED_COLUMNS.get(column) if table == "complainants" else None
    if sealed_as is None:
        return expression
    return f"{_OPEN_FUNCTION}({expression}, '{sealed_as}')"


# The fields of a paper's content (documents.slip_content) that carry an ID or phone number.
PAPER_PERSONAL_FIELDS: Final = ("complainant_contact", "complainant_id_masked")


_ID_LIKE: Final = re.compile(r"\d{15}|\d{17}[\dX]")


def number_lookups(sealer: Sealer, typed: str) -> list[str]:
    """The keyed hashes a search for ``typed`` should look up: as an ID if it has an ID's
    shape, as a phone if it has seven digits or more (a shorter one is matched by its last
    four in the search text)."""
    found: list[str] = []
    as_id = normalized_id(typed)
    if _ID_LIKE.fullmatch(as_id):
        found.append(sealer.lookup("id", as_id))
    digits = normalized_phone(typed)
    if len(digits) >= 7 and re.fullmatch(r"[0-9\s()+\-]+", unicodedata.normalize("NFKC", typed)):
        found.append(sealer.lookup("phone", digits))
    return found


@dataclass(frozen=True)
class MaskedNumbers:
    """A complainant's numbers as a screen shows them until someone allowed reveals them."""

    id_number: str
    phone: str


def masked(id_number: str, phone: str) -> MaskedNumbers:
    return MaskedNumbers(
        mask_id_number(id_number) if id_number else "", mask_phone(phone) if phone else ""
    )


def audit_form(values: Mapping[str, object]) -> dict[str, object]:
    """``values`` for the audit log: an ID or phone number masked, never in clear."""
    out = dict(values)
    for key, mask in _AUDIT_MASKS.items():
        value = out.get(key)
        if isinstance(value, str) and value:
            out[key] = mask(value)
    return out


_AUDIT_MASKS: Final[dict[str, Callable[[str], str]]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
}


# Upgrading a database written before sealing --------------------------------------------------


def has_sealed_data(session: Session) -> bool:
    """Whether anything in the database was sealed under a data key (so a missing key is lost
    data, never a reason to make a new one)."""
    found = session.scalar(
        select(Complainant.id)
        .where(
            or_(
                Complainant.id_number_sealed.startswith(PREFIX),
                Complainant.phone_sealed.startswith(PREFIX),
            )
        )
        .limit(1)
    )
    paper = session.scalar(
        select(Slip.id).where(cast(Slip.content, Text).contains(f'"{PREFIX}')).limit(1)
    )
    return found is not None or paper is not None


def _unsealed(value: str) -> bool:
    return bool(value) and not is_sealed(value)


def _paper_unsealed(content: Any) -> bool:
    return isinstance(content, dict) and any(
        isinstance(content.get(key), str) and _unsealed(content[key])
        for key in PAPER_PERSONAL_FIELDS
    )


def seal_existing(
    db: Database,
    sealer: Sealer,
    *,
    batch: int = SEAL_BATCH,
    before_done: Callable[[], bool] | None = None,
) -> int:
    """Seal what a database held in clear before the upgrade (migration 0010 has no key, so
    this runs at the first open after it): the complainants' numbers, the papers' personal
    fields, and the search text rebuilt without the phones. Returns how many complainants were
    sealed.

    A batch per transaction, each idempotent; ``SEALED_AT_REST`` is set only at the end, so an
    interrupted run starts again and finds the rest. ``before_done`` runs before it is set (the
    backups made before sealing encrypted); if it returns False the step runs again next open.
    """
    done = 0
    last = 0
    while True:
        with db.write() as session:
            _scrub_freed_pages(db, session)
            rows = session.execute(
                select(Complainant.id, Complainant.id_number_sealed, Complainant.phone_sealed)
                .where(Complainant.id > last)
                .order_by(Complainant.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            last = rows[-1][0]
            values = [
                {
                    "id": row_id,
                    **sealer.complainant_columns(
                        sealer.open(id_number, ID_COLUMN), sealer.open(phone, PHONE_COLUMN)
                    ),
                }
                for row_id, id_number, phone in rows
                if _unsealed(id_number) or _unsealed(phone)
            ]
            if values:
                session.execute(update(Complainant), values)
            done += len(values)
    last = 0
    while True:
        with db.write() as session:
            _scrub_freed_pages(db, session)
            papers = session.execute(
                select(Slip.id, Slip.content).where(Slip.id > last).order_by(Slip.id).limit(batch)
            ).all()
            if not papers:
                break
            last = papers[-1][0]
            sealed = [
                {"id": row_id, "content": sealer.seal_content(content)}
                for row_id, content in papers
                if _paper_unsealed(content)
            ]
            if sealed:
                session.execute(update(Slip), sealed)
    finished = before_done() if before_done is not None else True
    with db.write() as session:
        _scrub_freed_pages(db, session)
        _rebuild_search_text(db, session)
        if finished:
            settings.store(session, SEALED_AT_REST, 1)
    db.checkpoint()
    return done


def _scrub_freed_pages(db: Database, session: Session) -> None:
    """The clear numbers replaced here must not stay behind in freed page space (SQLite)."""
    if db.is_sqlite:
        session.execute(text("PRAGMA secure_delete = ON"))


def _rebuild_search_text(db: Database, session: Session) -> None:
    """Every case's search text made again, with a phone only by its last four digits.

    The index is made anew rather than each row replaced: at 100,000 cases replacing rows one
    by one in FTS5 took a minute, a fresh index a few seconds. Its definition is read from the
    database itself (migration 0001 made it).
    """
    if db.is_sqlite:
        made_as = session.scalar(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'case_search'")
        )
        session.execute(text("DROP TABLE case_search"))
        session.execute(text(str(made_as)))
    else:
        session.execute(text("DELETE FROM case_search"))
    rows = session.execute(
        select(
            Case.id,
            Case.number,
            Complainant.name,
            Case.title,
            Case.description,
            Case.stuck_at,
            Complainant.phone_last4,
            Case.original_number,
        )
        .join(Complainant, Case.complainant_id == Complainant.id)
        .order_by(Case.id)
    )
    insert = text("INSERT INTO case_search(rowid, body) VALUES (:id, :body)")
    for chunk in rows.partitions(SEARCH_CHUNK):
        session.execute(
            insert,
            [
                {"id": case_id, "body": search.index_text(search.case_fields(*fields))}
                for case_id, *fields in chunk
            ],
        )


def open_sealer(
    db: Database, data_key: DataKey, *, after_sealing: Callable[[], bool] | None = None
) -> Sealer:
    """The site's sealer, after making sure its key and its data agree.

    A data dir without a key gets one only while nothing is sealed yet: a missing key next to
    sealed data is lost data (the recovery key brings it back), never a reason for a new key.
    Numbers stored before the upgrade are sealed here, once: the audit log's and the
    timeline's first (before the key exists, so before anything keys the chain), then the
    records', then ``after_sealing`` (the old backups).
    """
    with db.read() as session:
        sealed_before = settings.read(session, SEALED_AT_REST)
        fingerprint = settings.read(session, DATA_KEY_FINGERPRINT)
        if not data_key.exists() and (fingerprint or has_sealed_data(session)):
            # Keyed already (by this PC before a reinstall, or by another seat on a shared
            # server): a new key here would seal what no other seat can open.
            raise UserError(
                f"本机数据目录中没有数据密钥（{data_key.path}），而数据库中的个人信息已用它加密。"
                "多台电脑共用一个数据库时，请在已在用的电脑上运行 bbcs seat enroll 生成加入文件，"
                "再在本机运行 bbcs seat join 该文件；重装系统或换硬盘后，请用管理员保存的"
                "恢复密钥恢复（bbcs restore 备份 --recovery-key 恢复密钥文件）。"
            )
    if fingerprint and fingerprint != data_key.fingerprint():
        raise UserError(
            f"本机的数据密钥（{data_key.path}）与数据库所用的不是同一把：用它无法打开已加密的"
            "个人信息。多台电脑共用一个数据库时，请在已在用的电脑上运行 bbcs seat enroll 生成"
            "加入文件，再在本机运行 bbcs seat join 该文件；或用恢复密钥恢复。"
        )
    if not sealed_before and db.writes_refused is None:
        _scrub_history_once(db)
    data_key.ensure()
    if not fingerprint and db.writes_refused is None:
        with db.write() as session:
            settings.store(session, DATA_KEY_FINGERPRINT, data_key.fingerprint())
    sealer = Sealer(data_key)
    if not sealed_before and db.writes_refused is None:
        started = time.perf_counter()
        count = seal_existing(db, sealer, before_done=after_sealing)
        if count:
            log.info("sealed %d complainants in %.1f s", count, time.perf_counter() - started)
    return sealer


# History written before sealing: the audit log's before/after and the timeline ---------------

HISTORY_BATCH: Final = 5000
# Entities whose "phone" is staff's or the office's, not a complainant's: left as written.
_STAFF_ENTITIES: Final = frozenset({"user", "department", "site", "setting", "settings"})
# Runs of characters a stored ID or phone is made of (0378-1234567转12 included).
_NUMBER_RUN: Final = re.compile(r"[0-9][0-9Xx\-]{5,}[0-9Xx](?:转[0-9]+)?")
# What has a citizen's number's shape even when no record names it any more (a timeline line
# about a number since corrected): an 18-character ID, a mobile.
_NUMBER_SHAPE: Final = re.compile(r"[0-9]{17}[0-9Xx]|1[3-9][0-9]{9}")


@dataclass(frozen=True)
class HistoryScrub:
    """What :func:`scrub_history` changed: audit entries rewritten (from the first one that
    held a number on, the chain recomputed) and timeline entries."""

    audit_entries: int = 0
    first_changed: int | None = None
    events: int = 0
    seconds: float = 0.0
    skipped: str = ""


class _Masker:
    """Masks the numbers known to this database wherever they sit in stored history."""

    def __init__(self, known: dict[str, str]) -> None:
        self.known = known  # clear number -> its mask

    def note(self, value: object, mask: Callable[[str], str]) -> None:
        if isinstance(value, str) and value and "*" not in value and not is_sealed(value):
            self.known.setdefault(value, mask(value))

    def text(self, value: str, *, shapes: bool) -> str:
        if not any(c.isdigit() for c in value):
            return value

        def replace(match: re.Match[str]) -> str:
            found = match.group(0)
            masked_as = self.known.get(found)
            if masked_as is not None:
                return masked_as
            base = found.split("转", 1)[0]
            if base in self.known:
                return self.known[base]
            if shapes and _NUMBER_SHAPE.fullmatch(base):
                return mask_id_number(base) if len(base) == 18 else mask_phone(base)
            return found

        return _NUMBER_RUN.sub(replace, value)

    def value(self, value: Any, *, shapes: bool, keyed: bool) -> Any:
        """``value`` (stored JSON) with every number masked: by key (``id_number``, ``phone``)
        when ``keyed``, and every known number inside any text."""
        if isinstance(value, str):
            return self.text(value, shapes=shapes)
        if isinstance(value, list):
            return [self.value(v, shapes=shapes, keyed=keyed) for v in value]
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                mask = _AUDIT_MASKS.get(key) if keyed else None
                if mask is not None and isinstance(item, str) and item and "*" not in item:
                    out[key] = mask(item)
                else:
                    out[key] = self.value(item, shapes=shapes, keyed=keyed)
            return out
        return value


def scrub_history(
    db: Database, *, batch: int = HISTORY_BATCH, chain: ChainKey | None = None
) -> HistoryScrub:
    """Mask the ID and phone numbers the audit log and the timeline hold from before sealing,
    as the services write them now (``audit_form``), in one transaction.

    The chain is recomputed from the first rewritten entry on and the head setting moved;
    entries before it are not touched. It is plain SHA-256 on the first open after the upgrade
    (no data key has keyed it yet); ``chain`` is the site's key when it has (a backup from
    before sealing restored, and anchored by the restore): entries from ``chain.keyed_from``
    on are then verified and rehashed under it, and the caller moves the anchor. A chain
    already broken is left as it is, for ``bbcs check`` to report: recomputing it would hide
    what was done to it.
    """
    # Imported here: audit's chain helpers, and integrity would import this module's users.
    from desktop_app.domain.settings import AUDIT_HEAD
    from desktop_app.services import audit
    from desktop_app.storage.models import AuditEntry, CaseEvent

    started = time.perf_counter()
    masker = _Masker({})
    with db.write() as session:
        _scrub_freed_pages(db, session)
        for id_number, phone in session.execute(
            select(Complainant.id_number_sealed, Complainant.phone_sealed)
        ):
            masker.note(id_number, mask_id_number)
            masker.note(phone, mask_phone)
        # First pass: the numbers the log names by key (a corrected one is no longer on file).
        last = 0
        while True:
            rows = session.execute(
                select(AuditEntry.id, AuditEntry.entity, AuditEntry.before, AuditEntry.after)
                .where(AuditEntry.id > last)
                .order_by(AuditEntry.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            last = rows[-1][0]
            for _id, entity, before, after in rows:
                if entity in _STAFF_ENTITIES:
                    continue
                for values in (before, after):
                    if isinstance(values, dict):
                        masker.note(values.get("id_number"), mask_id_number)
                        masker.note(values.get("phone"), mask_phone)
        # Second pass: rewrite, and chain again from the first rewritten entry.
        rewritten = 0
        first_changed: int | None = None
        prev_hash = chained_to = audit.GENESIS
        last = 0
        while True:
            rows = session.execute(
                select(
                    AuditEntry.id,
                    AuditEntry.at,
                    AuditEntry.user_name,
                    AuditEntry.action,
                    AuditEntry.entity,
                    AuditEntry.entity_uuid,
                    AuditEntry.before,
                    AuditEntry.after,
                    AuditEntry.prev_hash,
                    AuditEntry.hash,
                )
                .where(AuditEntry.id > last)
                .order_by(AuditEntry.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            last = rows[-1][0]
            changes: list[dict[str, Any]] = []
            for row in rows:
                entry_id, at, user, action, entity, uuid = row[:6]
                before, after, stored_prev, stored = row[6:]
                key = chain.key if chain is not None and entry_id >= chain.keyed_from else None
                if stored_prev != chained_to or not hmac.compare_digest(
                    audit.entry_hash(
                        stored_prev, at, user, action, entity, uuid, before, after, key
                    ),
                    stored,
                ):
                    session.rollback()
                    log.warning(
                        "audit log entry %d does not chain as written before sealing; its "
                        "numbers are left for bbcs check to report with it",
                        entry_id,
                    )
                    return HistoryScrub(skipped="chain broken")
                chained_to = stored
                keyed = entity not in _STAFF_ENTITIES
                new_before = masker.value(before, shapes=False, keyed=keyed)
                new_after = masker.value(after, shapes=False, keyed=keyed)
                if first_changed is None and new_before == before and new_after == after:
                    prev_hash = stored
                    continue
                if first_changed is None:
                    first_changed = entry_id
                new_hash = audit.entry_hash(
                    prev_hash, at, user, action, entity, uuid, new_before, new_after, key
                )
                changes.append(
                    {
                        "id": entry_id,
                        "before": new_before,
                        "after": new_after,
                        "prev_hash": prev_hash,
                        "hash": new_hash,
                    }
                )
                prev_hash = new_hash
            if changes:
                session.execute(update(AuditEntry), changes)
                rewritten += len(changes)
            session.expunge_all()
        if first_changed is not None:
            settings.store(session, AUDIT_HEAD, f"{last}:{prev_hash}")
        # The timeline: its lines and their data, by the same numbers, and any number's shape.
        events = 0
        last = 0
        while True:
            rows = session.execute(
                select(CaseEvent.id, CaseEvent.summary, CaseEvent.data)
                .where(CaseEvent.id > last)
                .order_by(CaseEvent.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            last = rows[-1][0]
            lines = []
            for event_id, summary, data in rows:
                new_summary = masker.text(summary or "", shapes=True)
                new_data = masker.value(data, shapes=True, keyed=True)
                if new_summary != (summary or "") or new_data != data:
                    lines.append({"id": event_id, "summary": new_summary, "data": new_data})
            if lines:
                session.execute(update(CaseEvent), lines)
                events += len(lines)
        if events:
            from desktop_app.services import integrity

            # The lines' hashes in their cases made again over the masked lines (trusted).
            integrity.refresh_events_hashes(session, only_missing=False)
    return HistoryScrub(rewritten, first_changed, events, time.perf_counter() - started)


def _scrub_history_once(db: Database) -> None:
    """:func:`scrub_history`, while the site is not yet sealed (the caller asks).

    With the chain already keyed (a data key existed: a backup from before sealing restored
    and anchored by the restore) the history is scrubbed only if the audit log matches its
    anchor; the keyed chain is then recomputed and the anchor moved to its new head. An anchor
    that does not match is left for ``bbcs check`` to report, the history as it is. A crash
    between the scrub's commit and the new anchor leaves ``bbcs check`` reporting the newest
    entry as not matching the anchor (the numbers are masked by then); the administrator
    restores the backup again."""
    from desktop_app.services import integrity

    site = integrity.site_of(db.engine)
    if site is not None:
        with db.read() as session:
            mismatch = integrity.verify_anchor(session, site)
        if mismatch:
            log.warning("audit log does not match its anchor: history left for bbcs check")
            return
    scrubbed = scrub_history(db, chain=site.chain if site is not None else None)
    if site is not None and scrubbed.first_changed is not None:
        integrity.rewrite_anchor(db)
    if scrubbed.audit_entries or scrubbed.events:
        log.info(
            "masked numbers in %d audit entries (chain recomputed from entry %s) and %d "
            "timeline entries in %.1f s",
            scrubbed.audit_entries,
            scrubbed.first_changed,
            scrubbed.events,
            scrubbed.seconds,
        )
