"""The ledger's first page in every sort order from an index, at a city of 1.5 million cases

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

The ledger reads the first thousand ids of a query (issue 18), which is cheap only when an index
gives the rows in the order asked: each sort column, then ``cases.id`` (the tie-break). Without
them PostgreSQL sorted all 1.5 million cases for each first page (0.3–4 s). PostgreSQL orders
text ``COLLATE "C"`` (code points, as SQLite does; services/ledger.py ``_order``), so its text
indexes are on that expression, and it keeps the ``id`` in each index (SQLite's indexes end with
the rowid already). Made here by hand, not in the models, like 0015's GIN index: an expression
index does not round-trip through the models' comparison; the names start ``ix_ledger_``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, what is indexed) on each engine.
POSTGRESQL = (
    ("ix_ledger_number", "cases", "year, seq, id"),
    ("ix_ledger_title", "cases", '(title COLLATE "C"), id'),
    ("ix_ledger_status", "cases", '(status COLLATE "C"), id'),
    ("ix_ledger_area", "cases", '(area COLLATE "C"), id'),
    ("ix_ledger_channel", "cases", '(channel COLLATE "C"), id'),
    # NULLS FIRST: ascending puts cases without a deadline first, as SQLite does.
    ("ix_ledger_due", "cases", "due_date NULLS FIRST, id"),
    ("ix_ledger_visits", "cases", "visits_count, id"),
    ("ix_ledger_department", "cases", "stuck_department_id, id"),
    ("ix_ledger_site_received", "cases", "site_code, received_at"),
    ("ix_ledger_complainant_name", "complainants", '(name COLLATE "C"), id'),
)
SQLITE = (
    ("ix_ledger_number", "cases", "year, seq"),
    ("ix_ledger_visits", "cases", "visits_count"),
    ("ix_ledger_site_received", "cases", "site_code, received_at"),
    ("ix_ledger_complainant_name", "complainants", "name"),
)
NAMES = frozenset(name for name, _table, _columns in POSTGRESQL + SQLITE)


def _indexes() -> tuple[tuple[str, str, str], ...]:
    return SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")  # each build sorts in one pass
    for name, table, columns in _indexes():
        op.execute(f"CREATE INDEX {name} ON {table} ({columns})")


def downgrade() -> None:
    for name, _table, _columns in _indexes():
        op.execute(f"DROP INDEX IF EXISTS {name}")
