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
import hashlib
import hmac
import logging
import os
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import Session

from desktop_app.domain.validation import mask_id_number, mask_phone, normalize_id_number
from desktop_app.errors import UserError
from desktop_app.services.data_key import DataKey
from desktop_app.storage import search
from desktop_app.storage.database import Database
from desktop_app.storage.models import Case, Complainant

log = logging.getLogger(__name__)

PREFIX: Final = "s1:"
_NONCE_BYTES: Final = 12
_NOT_DIGIT: Final = re.compile(r"[^0-9]+")
SEAL_BATCH: Final = 2000

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
    return _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", value))


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
        normal = normalize_id_number(value) if kind == "id" else normalized_phone(value)
        if not normal:
            return ""
        if self._lookup_key is None:
            self._lookup_key = self._data_key.subkey("lookup")
        message = f"{kind}:{normal}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()

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


# The fields of a paper's content (documents.slip_content) that carry an ID or phone number.
PAPER_PERSONAL_FIELDS: Final = ("complainant_contact", "complainant_id_masked")


_ID_LIKE: Final = re.compile(r"\d{15}|\d{17}[\dX]")


def number_lookups(sealer: Sealer, typed: str) -> list[str]:
    """The keyed hashes a search for ``typed`` should look up: as an ID if it has an ID's
    shape, as a phone if it has seven digits or more (a shorter one is matched by its last
    four in the search text)."""
    found: list[str] = []
    as_id = normalize_id_number(typed)
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
    return found is not None


def _unsealed_condition() -> Any:
    return or_(
        (Complainant.id_number_sealed != "") & ~Complainant.id_number_sealed.startswith(PREFIX),
        (Complainant.phone_sealed != "") & ~Complainant.phone_sealed.startswith(PREFIX),
    )


def needs_sealing(db: Database) -> bool:
    with db.read() as session:
        return (
            session.scalar(select(Complainant.id).where(_unsealed_condition()).limit(1)) is not None
        )


def seal_existing(db: Database, sealer: Sealer, *, batch: int = SEAL_BATCH) -> int:
    """Seal the numbers a database held in clear before the upgrade (migration 0010 has no key,
    so this runs at the first open after it); returns how many complainants were sealed.

    One transaction per batch, each idempotent, so an interrupted run resumes where it stopped.
    """
    done = 0
    while True:
        with db.write() as session:
            if db.is_sqlite:
                # The clear numbers replaced here must not stay behind in freed page space.
                session.execute(text("PRAGMA secure_delete = ON"))
            rows = session.execute(
                select(Complainant.id, Complainant.id_number_sealed, Complainant.phone_sealed)
                .where(_unsealed_condition())
                .order_by(Complainant.id)
                .limit(batch)
            ).all()
            if not rows:
                return done
            values = []
            for row_id, id_number, phone in rows:
                clear_id = sealer.open(id_number, ID_COLUMN)
                clear_phone = sealer.open(phone, PHONE_COLUMN)
                values.append({"id": row_id, **sealer.complainant_columns(clear_id, clear_phone)})
            session.execute(update(Complainant), values)
            _reindex_cases(session, [row_id for row_id, _, phone in rows if phone])
            done += len(rows)
        log.info("sealed the personal numbers of %d complainants", done)


def seal_received(session: Session, sealer: Sealer) -> int:
    """Seal under this site's key the numbers a bundle brought in clear (re-keying: the
    sender opened its own seal for the journey), in the import's transaction, so duplicate
    checks find the same person across sites."""
    rows = session.execute(
        select(Complainant.id, Complainant.id_number_sealed, Complainant.phone_sealed).where(
            _unsealed_condition()
        )
    ).all()
    if rows:
        session.execute(
            update(Complainant),
            [{"id": row_id, **sealer.complainant_columns(i, p)} for row_id, i, p in rows],
        )
    return len(rows)


def _reindex_cases(session: Session, complainant_ids: list[int]) -> None:
    """The search text of these complainants' cases, rebuilt without the phone in clear."""
    if not complainant_ids:
        return
    rows = session.execute(
        select(
            Case.id,
            Case.number,
            Complainant.name,
            Case.title,
            Case.description,
            Case.stuck_at,
            Complainant.phone_last4,
        )
        .join(Complainant, Case.complainant_id == Complainant.id)
        .where(Case.complainant_id.in_(complainant_ids))
    ).all()
    for case_id, *fields in rows:
        search.reindex_case(session, case_id, search.case_fields(*fields))


def open_sealer(db: Database, data_key: DataKey) -> Sealer:
    """The site's sealer, after making sure its key and its data agree.

    A data dir without a key gets one only while nothing is sealed yet: a missing key next to
    sealed data is lost data (the recovery key brings it back), never a reason for a new key.
    Numbers stored before the upgrade are sealed here, once.
    """
    if not data_key.exists():
        with db.read() as session:
            sealed = has_sealed_data(session)
        if sealed:
            data_key.secret()  # raises the message that says how to put the key back
        data_key.create()
    sealer = Sealer(data_key)
    if db.writes_refused is None and needs_sealing(db):
        started = time.perf_counter()
        count = seal_existing(db, sealer)
        log.info("sealed %d complainants in %.1f s", count, time.perf_counter() - started)
    return sealer
