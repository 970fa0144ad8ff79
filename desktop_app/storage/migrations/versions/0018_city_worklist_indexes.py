"""待答复 and 待回访 from small partial indexes, and a short pending list for the search index

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

待答复 (services/ledger.py ``_awaiting_reply``) is a case in progress, not yet replied to, whose
departments have all answered: PostgreSQL listed every unfinished assignment by reading the
whole ``(case_id, state)`` index (100,000 entries for one county) and walked the cases in
progress through their rows for the ledger's first page (58–98 ms at 1.5 million cases).
Here the unfinished assignments get an index of their own (a few thousand entries), and the
cases in progress without a reply one in the ledger's order holding the nature, so the page
and the dashboard's count read index entries only. 待回访 (concluded here, ``seq > 0``) counted
15,000 rows through their heap pages; its own index answers the count and the page alone.

The search index (0015) keeps new entries in a pending list until it outgrows
``gin_pending_list_limit`` (4 MB) or is vacuumed, and every search reads that whole list: at the
city bench it had grown to 1,900 pages, ~15–20 ms of each search, found or not. The index's own
limit is set to 256 kB (about 30 pages: a few tenths of a millisecond to read; a bundle's rows
flushed every hundred cases or so) and the list is flushed once here.

The predicates repeat the ledger's literals (``_UNFINISHED_ASSIGNMENT``, the statuses), as
PostgreSQL uses a partial index only for a query whose WHERE implies its predicate; a test
(tests/test_pg_worklist_indexes.py) checks the plans use them. PostgreSQL only, like 0017:
SQLite's figures are within budget without them. Named ``ix_ledger_*`` and made by hand.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    (
        "ix_ledger_assignment_unfinished",
        # As pg_indexes gives it back (a county's first upload drops and remakes the index
        # from that text), not as ``state IN (…)``, which comes back in another form.
        "assignments (case_id) WHERE (state)::text = ANY ('{draft,issued,received}'::text[])",
    ),
    (
        "ix_ledger_awaiting_reply",
        "cases (received_at, id) INCLUDE (nature) "
        "WHERE status = 'in_progress' AND replied_at IS NULL",
    ),
    ("ix_ledger_awaiting_visit", "cases (received_at, id) WHERE status = 'concluded' AND seq > 0"),
)


SEARCH_INDEX = "ix_case_search_grams"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for name, definition in INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    op.execute(f"ALTER INDEX {SEARCH_INDEX} SET (gin_pending_list_limit = 256)")
    op.execute(f"SELECT gin_clean_pending_list('{SEARCH_INDEX}')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute(f"ALTER INDEX {SEARCH_INDEX} RESET (gin_pending_list_limit)")
        for name, _definition in INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
