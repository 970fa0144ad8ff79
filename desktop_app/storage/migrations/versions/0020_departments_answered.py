"""待答复 from a stored "departments answered" flag, kept by triggers on both engines

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

待答复 (services/ledger.py ``_awaiting_reply``) is a case in progress, not yet replied to, that is
办不了 or whose departments have all answered: an assignment 已反馈 and none unsigned, issued or
received. That last part lived in the assignments table, so every count and page of the list
looked up each case in progress's assignments (46–58 ms at 1.5 million cases on PostgreSQL, over
the 50 ms budget, and most of the dashboard's 82 ms). Here it is a column of the case,
``departments_answered``, that triggers on ``assignments`` keep in the same transaction as the
change, whoever makes it (the services, a bundle merged in bulk, psql); the list is then a small
partial index on PostgreSQL (``ix_ledger_reply_owed``: the ~2,000 cases on it, in the ledger's
order), whose entries alone answer the count and the first page.

PostgreSQL: statement-level triggers with transition tables, so a bundle's COPY of 100,000
assignments settles its cases in one UPDATE, not one per row; an UPDATE of assignments settles
only the cases whose assignment changed state or case (the export's bulk stamp changes neither).
SQLite: row-level triggers (it has no others), on INSERT, DELETE and UPDATE OF state, case_id.
The flag is derived, so it is not signed (integrity.UNSIGNED_COLUMNS) and does not travel
(exchange: each site derives it from the assignments it holds). Filled here in one UPDATE.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As services/ledger.py says them (AssignmentState): 已反馈, and not yet finished.
RESPONDED = "'responded'"
UNFINISHED = "('draft', 'issued', 'received')"


def answered(case_id: str) -> str:
    """Whether the departments of the case ``case_id`` (an SQL expression) have answered."""
    return (
        f"(EXISTS (SELECT 1 FROM assignments AS a WHERE a.case_id = {case_id} "
        f"AND a.state = {RESPONDED}) AND NOT EXISTS (SELECT 1 FROM assignments AS a "
        f"WHERE a.case_id = {case_id} AND a.state IN {UNFINISHED}))"
    )


BACKFILL = f"""
UPDATE cases SET departments_answered = true WHERE id IN (
    SELECT case_id FROM assignments GROUP BY case_id
    HAVING sum(CASE WHEN state = {RESPONDED} THEN 1 ELSE 0 END) > 0
        AND sum(CASE WHEN state IN {UNFINISHED} THEN 1 ELSE 0 END) = 0)
"""

POSTGRES = (
    # The cases ``touched`` (assignments added, removed or changed) set as their assignments say.
    f"""CREATE FUNCTION bbcs_settle_departments_answered(touched integer[]) RETURNS void
LANGUAGE sql AS $$
UPDATE cases SET departments_answered = settled.answered
FROM (SELECT ids.case_id, {answered("ids.case_id")} AS answered
      FROM (SELECT DISTINCT unnest(touched) AS case_id) AS ids) AS settled
WHERE cases.id = settled.case_id AND cases.departments_answered <> settled.answered
$$""",
    """CREATE FUNCTION bbcs_departments_answered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM bbcs_settle_departments_answered(ARRAY(SELECT case_id FROM added_assignments));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM bbcs_settle_departments_answered(ARRAY(SELECT case_id FROM removed_assignments));
  ELSE
    PERFORM bbcs_settle_departments_answered(ARRAY(
      SELECT unnest(ARRAY[before.case_id, after.case_id])
      FROM removed_assignments AS before JOIN added_assignments AS after USING (id)
      WHERE before.state IS DISTINCT FROM after.state
         OR before.case_id IS DISTINCT FROM after.case_id));
  END IF;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER assignments_answered_insert AFTER INSERT ON assignments "
    "REFERENCING NEW TABLE AS added_assignments "
    "FOR EACH STATEMENT EXECUTE FUNCTION bbcs_departments_answered()",
    "CREATE TRIGGER assignments_answered_delete AFTER DELETE ON assignments "
    "REFERENCING OLD TABLE AS removed_assignments "
    "FOR EACH STATEMENT EXECUTE FUNCTION bbcs_departments_answered()",
    "CREATE TRIGGER assignments_answered_update AFTER UPDATE ON assignments "
    "REFERENCING OLD TABLE AS removed_assignments NEW TABLE AS added_assignments "
    "FOR EACH STATEMENT EXECUTE FUNCTION bbcs_departments_answered()",
)
POSTGRES_TRIGGERS = ("insert", "delete", "update")


def _sqlite_settle(case_id: str) -> str:
    return (
        f"UPDATE cases SET departments_answered = {answered(case_id)} "
        f"WHERE id = {case_id} AND departments_answered <> {answered(case_id)};"
    )


SQLITE = {
    "insert": f"AFTER INSERT ON assignments BEGIN {_sqlite_settle('NEW.case_id')} END",
    "delete": f"AFTER DELETE ON assignments BEGIN {_sqlite_settle('OLD.case_id')} END",
    "update": (
        "AFTER UPDATE OF state, case_id ON assignments BEGIN "
        f"{_sqlite_settle('NEW.case_id')} {_sqlite_settle('OLD.case_id')} END"
    ),
}

# 待答复 as the ledger asks for it (the same literals, or PostgreSQL would not use it).
OWED_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_ledger_reply_owed ON cases (received_at, id) "
    "WHERE status = 'in_progress' AND replied_at IS NULL "
    "AND (nature = 'cant' OR departments_answered)"
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column(
        "cases",
        sa.Column(
            "departments_answered", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    if not sqlite:
        # No assignment changes between the fill and the triggers (the migration runs alone).
        op.execute("LOCK TABLE assignments IN SHARE MODE")
    op.execute(BACKFILL)
    if sqlite:
        for event, body in SQLITE.items():
            op.execute(f"CREATE TRIGGER assignments_answered_{event} {body}")
        return
    for statement in POSTGRES:
        op.execute(statement)
    op.execute(OWED_INDEX)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for event in POSTGRES_TRIGGERS:
        on = "" if sqlite else " ON assignments"
        op.execute(f"DROP TRIGGER IF EXISTS assignments_answered_{event}{on}")
    if not sqlite:
        op.execute("DROP INDEX IF EXISTS ix_ledger_reply_owed")
        op.execute("DROP FUNCTION IF EXISTS bbcs_departments_answered()")
        op.execute("DROP FUNCTION IF EXISTS bbcs_settle_departments_answered(integer[])")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("departments_answered")
