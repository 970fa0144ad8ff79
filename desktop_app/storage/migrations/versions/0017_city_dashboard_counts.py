"""The calendar's month and the dashboard's figures from indexes, at a city of 1.5 million cases

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

The calendar counts open cases by deadline day, and the dashboard counts each worklist: with
the status beside each deadline (and beside the registering user) those counts are read from the
index alone instead of from every open case's row (calendar month at 1.5 million on PostgreSQL:
~140 → ~30 ms). 待答复 reads the cases in progress from an index and looks up their assignments
by state. 累计受理, every case, is one figure no index makes cheap on PostgreSQL (counting 1.5
million index entries: 160–260 ms), so there the number is kept in ``case_totals``, one row that
statement-level triggers on ``cases`` keep equal to ``count(*)`` (an INSERT of a whole bundle
adds its row count once). PostgreSQL only: SQLite counts 100,000 cases in a few milliseconds and
its calendar and dashboard are within budget already (52 / 7 ms). Named ``ix_ledger_*`` and made
by hand like 0016.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_ledger_status_due", "cases", "status, due_date"),
    ("ix_ledger_status_visit_due", "cases", "status, visit_due_date"),
    ("ix_ledger_creator_status", "cases", "created_by_id, status"),
    ("ix_ledger_assignment_case_state", "assignments", "case_id, state"),
    # 待答复: the cases in progress and not yet replied to, read without their rows.
    ("ix_ledger_reply", "cases", "status, replied_at, nature, id"),
)

# One row, kept by the server whoever writes (the app, a bundle's bulk INSERT … SELECT, psql).
CASE_TOTALS = (
    "CREATE TABLE case_totals (id integer PRIMARY KEY CHECK (id = 1), cases bigint NOT NULL)",
    "INSERT INTO case_totals (id, cases) SELECT 1, count(*) FROM cases",
    """CREATE FUNCTION bbcs_case_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE case_totals SET cases = cases + (SELECT count(*) FROM added_cases) WHERE id = 1;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE case_totals SET cases = cases - (SELECT count(*) FROM removed_cases) WHERE id = 1;
  ELSE
    UPDATE case_totals SET cases = 0 WHERE id = 1;
  END IF;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER case_totals_insert AFTER INSERT ON cases REFERENCING NEW TABLE AS "
    "added_cases FOR EACH STATEMENT EXECUTE FUNCTION bbcs_case_totals()",
    "CREATE TRIGGER case_totals_delete AFTER DELETE ON cases REFERENCING OLD TABLE AS "
    "removed_cases FOR EACH STATEMENT EXECUTE FUNCTION bbcs_case_totals()",
    "CREATE TRIGGER case_totals_truncate AFTER TRUNCATE ON cases "
    "FOR EACH STATEMENT EXECUTE FUNCTION bbcs_case_totals()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # without statistics SQLite would prefer these to its deadline indexes (slower)
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    # Nobody adds a case between the count and the triggers (the migration runs alone).
    op.execute("LOCK TABLE cases IN SHARE MODE")
    for statement in CASE_TOTALS:
        op.execute(statement)
    for name, table, columns in INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for name, _table, _columns in INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        for trigger in ("insert", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS case_totals_{trigger} ON cases")
        op.execute("DROP FUNCTION IF EXISTS bbcs_case_totals()")
        op.execute("DROP TABLE IF EXISTS case_totals")
