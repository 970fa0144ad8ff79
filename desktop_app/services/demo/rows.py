"""Demo rows as the database stores them: column orders, SQLAlchemy's SQLite formats, uuids."""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import uuid6
from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from desktop_app.domain.name_order import name_key
from desktop_app.storage.models import Base, Case, CaseEvent, Complainant

if TYPE_CHECKING:
    from desktop_app.services.sealing import Sealer


class DemoRandom(random.Random):
    """The demo's seeded generator. Its UUIDs are also keyed by the site (``key_uuids``): two
    counties made with the same seed (the default) share no record's UUID, so one city can take
    both; every other draw, and so the data, stays the seed's.

    Its UUIDs are of version 7, as a site's own (``models.new_uuid``), on a clock of the demo's
    own that steps a millisecond a UUID: each table's rows are in UUID order, as a site's are,
    and the same seed makes the same UUIDs. Generators made ``after`` another share its clock."""

    uuid_key: int = 0

    def __init__(self, seed: int, *, after: DemoRandom | None = None) -> None:
        super().__init__(seed)
        self.uuid_clock: list[int] = after.uuid_clock if after is not None else [_UUID_EPOCH_MS]

    def key_uuids(self, site_code: str) -> None:
        self.uuid_key = int.from_bytes(hashlib.sha256(site_code.encode()).digest()[:16], "big")


# The demo's UUID clock starts at 2015-01-01 00:00 UTC (before any demo record's time).
_UUID_EPOCH_MS: Final = 1_420_070_400_000
_UUID_RANDOM_BITS: Final = 76  # RFC 9562: the 128 bits less the 48 of the time and 4 of version


def new_uuid(rng: random.Random) -> str:
    """A version-7 UUID string from the seeded generator (reproducible, unlike uuid7): the time
    from the generator's UUID clock (``DemoRandom``), the rest drawn."""
    drawn = rng.getrandbits(128) ^ getattr(rng, "uuid_key", 0)  # 128 drawn, as ever: same data
    clock: list[int] = getattr(rng, "uuid_clock", [_UUID_EPOCH_MS])
    clock[0] += 1
    bits = (clock[0] << 80) | (drawn & ((1 << _UUID_RANDOM_BITS) - 1))
    return str(uuid6.UUID(int=bits, version=7))


COMPLAINANT_COLUMNS = (
    "id", "uuid", "version", "kind", "name", "id_number", "credit_code", "contact_person",
    "phone", "address", "id_override_reason",
)  # fmt: skip
# As stored: the ID and phone sealed (services/sealing.py) by RowWriter, the name's sort key.
STORED_COMPLAINANT_COLUMNS = (
    *(c for c in COMPLAINANT_COLUMNS if c not in ("id_number", "phone")),
    "id_number_sealed", "id_lookup", "phone_sealed", "phone_lookup", "phone_last4", "name_key",
)  # fmt: skip
_ID_AT = COMPLAINANT_COLUMNS.index("id_number")
_PHONE_AT = COMPLAINANT_COLUMNS.index("phone")
_NAME_AT = COMPLAINANT_COLUMNS.index("name")
CASE_COLUMNS = (
    "id", "uuid", "version", "site_code", "year", "seq", "number", "complainant_id", "title",
    "description", "area", "channel", "stuck_at", "stuck_department_id", "visits_count",
    "received_at", "status", "nature", "approach", "causes", "triaged_at", "outcome",
    "concluded_at", "visit_grade", "due_date", "linked_case_id", "created_by_id", "updated_at",
)  # fmt: skip
CASE_DATETIMES = tuple(
    CASE_COLUMNS.index(c) for c in ("received_at", "triaged_at", "concluded_at", "updated_at")
)
CASE_DUE = CASE_COLUMNS.index("due_date")
CASE_LINKED = CASE_COLUMNS.index("linked_case_id")
CASE_CAUSES = CASE_COLUMNS.index("causes")
EVENT_COLUMNS = ("uuid", "version", "case_id", "at", "kind", "summary", "data", "user_name")


def sqlite_datetime(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format (``2026-11-25 09:00:00.000000``)."""
    return value.isoformat(" ", "microseconds")


def sqlite_case(row: tuple[Any, ...]) -> list[Any]:
    values = list(row)
    for index in CASE_DATETIMES:
        if values[index] is not None:
            values[index] = sqlite_datetime(values[index])
    if values[CASE_DUE] is not None:
        values[CASE_DUE] = values[CASE_DUE].isoformat()
    causes = tuple(values[CASE_CAUSES])
    encoded = _CAUSES_JSON.get(causes)
    if encoded is None:
        encoded = _CAUSES_JSON[causes] = json.dumps(values[CASE_CAUSES])
    values[CASE_CAUSES] = encoded
    return values


_CAUSES_JSON: dict[tuple[str, ...], str] = {}
json_str = json.encoder.encode_basestring_ascii  # what json.dumps does to a str


def insert_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def core_table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


@dataclass
class Rows:
    complainants: list[tuple[Any, ...]] = field(default_factory=list)
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    search: list[tuple[int, str]] = field(default_factory=list)


class RowWriter:
    """Writes the generated rows in the session's own transaction.

    SQLite: plain ``executemany`` on the session's own connection, several times faster than
    SQLAlchemy's per-row parameter processing, so values go in SQLAlchemy's storage formats.
    """

    def __init__(self, session: Session, sealer: Sealer | None = None) -> None:
        self._session = session
        self.sealer = sealer  # set before the first write: complainants are stored sealed
        self._json_cache: dict[tuple[Any, ...], str] = {}
        raw = session.connection().connection.driver_connection
        self.raw: sqlite3.Connection | None = raw if isinstance(raw, sqlite3.Connection) else None

    @property
    def sqlite(self) -> bool:
        """Rows go in SQLite's formats (datetimes as text, event data as JSON text)."""
        return self.raw is not None

    def event_json(self, data: dict[str, Any], key: tuple[Any, ...] | None) -> str:
        """``data`` as SQLAlchemy's JSON type stores it (``json.dumps``), but quicker.

        Repeated shapes are cached; the two frequent unique ones are written directly.
        """
        if key is None:
            return json.dumps(data)
        if key == ("assigned",):
            assist = ", ".join(json_str(a) for a in data["assist"])
            return (
                f'{{"kind": {json_str(data["kind"])}, '
                f'"department": {json_str(data["department"])}, '
                f'"department_id": {data["department_id"]}, "assist": [{assist}], '
                f'"working_days": {data["working_days"]}, "due_date": "{data["due_date"]}", '
                f'"signed_by": {json_str(data["signed_by"])}}}'
            )
        if key == ("linked",):
            return f'{{"linked_case": "{data["linked_case"]}"}}'
        cached = self._json_cache.get(key)
        if cached is None:
            cached = self._json_cache[key] = json.dumps(data)
        return cached

    def stored_complainants(self, rows: Rows) -> list[tuple[Any, ...]]:
        """The generated complainants as stored: their ID and phone sealed."""
        if self.sealer is None:
            raise RuntimeError("RowWriter.sealer must be set before writing complainants")
        sealer = self.sealer
        out = []
        for row in rows.complainants:
            kept = tuple(v for i, v in enumerate(row) if i not in (_ID_AT, _PHONE_AT))
            sealed = sealer.complainant_columns(row[_ID_AT], row[_PHONE_AT])
            out.append((*kept, *sealed.values(), name_key(row[_NAME_AT])))
        return out

    def write(self, rows: Rows) -> None:
        complainants = self.stored_complainants(rows)
        if self.raw is not None:
            cursor = self.raw.cursor()
            try:
                cursor.executemany(
                    insert_sql(Complainant.__tablename__, STORED_COMPLAINANT_COLUMNS), complainants
                )
                cursor.executemany(
                    insert_sql(Case.__tablename__, CASE_COLUMNS),
                    [sqlite_case(row) for row in rows.cases],
                )
                cursor.executemany(insert_sql(CaseEvent.__tablename__, EVENT_COLUMNS), rows.events)
                cursor.executemany(
                    "INSERT INTO case_search(rowid, body) VALUES (?, ?)", rows.search
                )
            finally:
                cursor.close()
            return
        # Other databases (a city on PostgreSQL): Core bulk inserts; case_search is a plain table.
        session = self._session
        for model, columns, data in (
            (Complainant, STORED_COMPLAINANT_COLUMNS, complainants),
            (Case, CASE_COLUMNS, rows.cases),
            (CaseEvent, EVENT_COLUMNS, rows.events),
        ):
            if data:
                session.execute(
                    insert(core_table(model)),
                    [dict(zip(columns, row, strict=True)) for row in data],
                )
        if rows.search:
            session.execute(
                text("INSERT INTO case_search(rowid, body) VALUES (:rowid, :body)"),
                [{"rowid": case_id, "body": body} for case_id, body in rows.search],
            )
