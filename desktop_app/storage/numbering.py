"""Gap-free numbers (case numbers, slip numbers), one counter per kind and year."""

from __future__ import annotations

from sqlalchemy.orm import Session

from desktop_app.storage.models import NumberSequence


def next_number(session: Session, kind: str, year: int) -> int:
    """Take the next number in the write transaction that uses it: a crash loses both.

    SQLite writers are already one at a time (BEGIN IMMEDIATE). On PostgreSQL the counter row is
    created race-free and read FOR UPDATE, so concurrent writers queue on it and each sees the
    value the previous one committed — even a writer that did not take the global write lock.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # Imported here: the PostgreSQL dialect pulls in asyncio (~40 ms at every start).
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        session.execute(
            postgresql_insert(NumberSequence)
            .values(kind=kind, year=year, last_value=0)
            .on_conflict_do_nothing(index_elements=["kind", "year"])
        )
    row = session.get(NumberSequence, (kind, year), with_for_update=True if postgresql else None)
    if row is None:
        row = NumberSequence(kind=kind, year=year, last_value=0)
        session.add(row)
    row.last_value += 1
    session.flush()
    return row.last_value
