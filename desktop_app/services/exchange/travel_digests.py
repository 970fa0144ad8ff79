"""The digests of received records, taken from the records file while the rows are copied.

Every audited record carries a keyed digest (``services/integrity.py``). A record's digest is
normally taken over its row as stored; for 400,000 rows of a county's first upload that is a
pass in Python over every row on the import's own thread, which SQLite cannot share. A record
received in a bundle is instead digested *as it travelled*: its columns as the records file
holds them (references as UUIDs, numbers in clear, the paper's content as canonical JSON) and
the site it came from. Those values are all in the file, so the digests are made on the
checking thread, beside the copy, and written with each row; ``bbcs check`` rebuilds the same
form from the stored row (references joined back to their UUIDs, sealed values opened) and
compares. Such a digest starts with ``integrity.TRAVEL_MARK``; a record changed here later is
digested as stored again, as any other.

The travelled form covers what the county decided; this site's own additions to the row (its
id, the keyed look-up hashes of the numbers) are not in it, and a row whose id is changed
breaks the references of the rows pointing at it, which are.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from desktop_app.services import integrity
from desktop_app.services.exchange.records_tables import SPECS, TableSpec
from desktop_app.services.sealing import (
    PAPER_PERSONAL_FIELDS,
    Sealer,
    opened_sql,
    register_functions,
)

_FUNCTION: Final = "bbcs_travel_digest"
_CHUNK: Final = 500  # stored rows rebuilt per statement when checked
_HEX_DIGITS: Final = integrity.TRAVEL_DIGEST_CHARS - len(integrity.TRAVEL_MARK)
DIGEST_BYTES: Final = 32


@dataclass(frozen=True)
class Digests:
    """One table's digests, by the row of the records file they were taken from; compact (a
    county's 400,000 rows would cost tens of MB as Python strings): each digest's
    ``DIGEST_BYTES`` bytes, the rows numbered ``first``, ``first`` + 1, … as a records file
    numbers them (``rowids`` lists them where a file does not)."""

    first: int
    count: int
    digests: bytes | bytearray
    rowids: array[int] | None = None

    @property
    def numbered(self) -> bool:
        """Whether the digest of row ``n`` is at ``(n - first) * DIGEST_BYTES``."""
        return self.rowids is None and self.count > 0

    @property
    def last(self) -> int:
        return self.first + self.count - 1

    def rows(self) -> Iterator[tuple[int, str]]:
        """(row, digest as stored) of each row."""
        rowids = self.rowids if self.rowids is not None else range(self.first, self.last + 1)
        for i, rowid in enumerate(rowids):
            packed = self.digests[i * DIGEST_BYTES : (i + 1) * DIGEST_BYTES]
            yield rowid, integrity.TRAVEL_MARK + packed.hex()[:_HEX_DIGITS]

    def sql(self, parameter: str, place: str) -> str:
        """SQL for the stored digest of the row at ``place`` (0, 1, …) of the blob bound as
        ``parameter``."""
        return (
            f"'{integrity.TRAVEL_MARK}' || substr(lower(hex(substr(:{parameter}, "
            f"({place}) * {DIGEST_BYTES} + 1, {DIGEST_BYTES}))), 1, {_HEX_DIGITS})"
        )


def travelled_columns(spec: TableSpec) -> list[str]:
    """The columns a travelled digest covers, in its order: the signed columns of the row
    (``integrity.signed_names``: a column added later goes last) that travel, and the site the
    record came from."""
    travels = {*spec.columns(), "origin_site"}
    return [name for name in integrity.signed_names(spec.table) if name in travels]


def digestible(spec: TableSpec, sent: Sequence[str]) -> bool:
    """Whether the rows of a file that sent ``sent`` can be digested as they travelled: an
    audited table, and every column this site keeps for it sent (a sender of an older release
    lacks some, and its rows are digested as stored, at commit)."""
    return spec.name in integrity.DIGESTED and set(spec.columns()) <= set(sent)


def _sent_sql(spec: TableSpec, name: str) -> str:
    """A column of the file's row ``r`` as it is digested: as sent, but a paper's content as
    SQLite writes JSON with its personal fields written from their values, as sealing them
    here writes it and opening them when checked does."""
    if name == "content" and spec.name == "slips":
        fields = ", ".join(
            f"'$.{key}', json_extract(r.\"content\", '$.{key}')" for key in PAPER_PERSONAL_FIELDS
        )
        return f'json_replace(json(r."content"), {fields})'
    return f'r."{name}"'


def _stored_sql(spec: TableSpec, name: str) -> str:
    """A column of the stored row ``m`` as it travelled (sealed values opened)."""
    if name == "content" and spec.name == "slips":
        return opened_sql("slips", "content", 'json(m."content")')
    return opened_sql(spec.name, name, f'm."{name}"')


def file_digests(
    connection: sqlite3.Connection,
    spec: TableSpec,
    owner: str,
    digest: Callable[..., bytes],
) -> Digests:
    """On the records file's own connection (the checking thread): the travelled digest of
    every row of ``spec``'s table, as a sender ``owner``'s record. The owner column is digested
    as this site stores it (the sender's code, whatever the file says)."""
    connection.create_function(_FUNCTION, -1, digest)
    names = travelled_columns(spec)
    owned = ("origin_site", spec.owner_column)
    values = ["?" if name in owned else _sent_sql(spec, name) for name in names]
    owners = [owner for name in names if name in owned]
    digests = bytearray()
    first, count = 0, 0
    rowids: array[int] | None = None
    cursor = connection.execute(
        f'SELECT r.rowid, {_FUNCTION}(?, {", ".join(values)}) FROM "{spec.name}" r',
        [spec.name, *owners],
    )
    for rowid, value in cursor:
        if not count:
            first = rowid
        elif rowids is None and rowid != first + count:  # not numbered 1, 2, …: listed
            rowids = array("q", range(first, first + count))
        if rowids is not None:
            rowids.append(rowid)
        digests += value
        count += 1
    return Digests(first, count, digests, rowids)


def stored_digests(
    session: Session, sealer: Sealer, digest: Callable[..., str], table: str, ids: Sequence[int]
) -> dict[int, str]:
    """The travelled digests of the stored rows ``ids`` of ``table``, rebuilt: references
    joined back to their UUIDs, sealed values opened (SQLite; ``bbcs check``)."""
    spec = SPECS[table]
    connection = session.connection()
    raw = connection.connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):
        return {}  # only SQLite's bulk import digests as travelled
    register_functions(session, sealer)
    raw.create_function(_FUNCTION, -1, digest)
    joins: list[str] = []
    values: list[str] = []
    for name in travelled_columns(spec):
        target = spec.refs.get(name)
        if target is not None:
            joins.append(f'LEFT JOIN "{target}" "ref_{name}" ON "ref_{name}".id = m."{name}"')
            values.append(f'"ref_{name}".uuid')
        else:
            values.append(_stored_sql(spec, name))
    found: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        marks = ", ".join(str(int(i)) for i in chunk)
        result = connection.execute(
            text(
                f'SELECT m.id, {_FUNCTION}(:table, {", ".join(values)}) FROM "{table}" m '
                f"{' '.join(joins)} WHERE m.id IN ({marks})"
            ),
            {"table": table},
        )
        found.update((row_id, value) for row_id, value in result)
    return found
