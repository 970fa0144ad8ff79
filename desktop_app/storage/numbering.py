"""Gap-free numbers (case numbers, slip numbers), one counter per kind and year."""

from __future__ import annotations

from sqlalchemy.orm import Session

from desktop_app.storage.models import NumberSequence


def next_number(session: Session, kind: str, year: int) -> int:
    """Take the next number in the write transaction that uses it: a crash loses both."""
    row = session.get(NumberSequence, (kind, year))
    if row is None:
        row = NumberSequence(kind=kind, year=year, last_value=0)
        session.add(row)
    row.last_value += 1
    session.flush()
    return row.last_value
