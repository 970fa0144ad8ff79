"""The ledger's filters, the calendar and the dashboard from indexes on a SQLite city too

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

At 1.5 million cases on SQLite (tests/bench_city_sqlite.py) a filtered first page read every
match's row and sorted them all by date (区域 195,885 cases: 340–520 ms, 渠道 380–690 ms), the
sort by 事由 read every title (no index led by it: 250–300 ms), and the calendar, the worklists
and the dashboard read each open or concluded case's row to learn its deadline or its
registering user (calendar month 215–290 ms, dashboard 280–550 ms). SQLite runs no ANALYZE
here, so its planner takes the index whose leading columns the query pins down the furthest.

- 回访期限 and 重拨日 are only ever asked for with the case's status (concluded), so their
  single-column indexes become (status, date) on both engines: replaced, not added. The visit's
  holds the received date too, so 今日到期 and 已超期 list their concluded cases in the ledger's
  order from index entries alone (services/ledger.py ``_by_deadline_groups``); on PostgreSQL it
  replaces 0017's ix_ledger_status_visit_due (status, visit_due_date) as well.
- SQLite gets what PostgreSQL has had since 0016/0017 under the same names: the title's index,
  (status, due_date) — here with the received date, as the visit's —, (created_by_id, status)
  for 我登记的 and 待答复's terms (departments_answered, 0020, where PostgreSQL has the id), so
  those counts and the calendar's read index entries, not the open cases' rows.
- And, SQLite only, (column, received_at) for the 区域, 渠道 and 部门 filters: their cases read
  newest first from the index, the page stopping at its window. Beside the single-column
  indexes, not instead of them: the sort by that column orders ties by id (the rowid that ends
  every SQLite index), which (column, received_at) would not give without sorting each value's
  cases. PostgreSQL plans these filters from its statistics and meets the budget without them.

Without statistics SQLite takes the newest of two indexes it costs alike, so the two the ledger
walked before are made again last and keep winning those ties: (status, received_at) — a
status's cases read in the order they came in, whose rows lie near each other, and whose
first page stops early (已登记+办理中: 1 against 41 ms at the city through (status, due_date,
received_at); 待答复 counted in 26 against 83 ms) — and the department's, through which the
sort by 部门 reads each name's departments (one per county at a city) in id order.

Each costs a county's import one more index to keep (README, issue 18).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (old name, old column, new name, new columns): declared in storage/models.py, on both engines.
REPLACED = (
    (
        "ix_cases_visit_due_date",
        "visit_due_date",
        "ix_cases_status_visit_due",
        "status, visit_due_date, received_at",
    ),
    (
        "ix_cases_visit_retry_on",
        "visit_retry_on",
        "ix_cases_status_visit_retry",
        "status, visit_retry_on",
    ),
)
POSTGRES_VISIT_INDEX = ("ix_ledger_status_visit_due", "cases (status, visit_due_date)")  # 0017
SQLITE_ONLY = (
    # As on PostgreSQL since 0016 and 0017 (there the title's is on ``title COLLATE "C"``).
    ("ix_ledger_title", "title"),
    ("ix_ledger_status_due", "status, due_date, received_at"),
    ("ix_ledger_creator_status", "created_by_id, status"),
    ("ix_ledger_reply", "status, replied_at, nature, departments_answered"),
    # The filters' first pages.
    ("ix_ledger_area_received", "area, received_at"),
    ("ix_ledger_channel_received", "channel, received_at"),
    ("ix_ledger_department_received", "stuck_department_id, received_at"),
)
# Made again, last (see above).
WALKED = (
    ("ix_cases_status_received", "status, received_at"),
    ("ix_cases_stuck_department", "stuck_department_id"),
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")  # each build sorts in one pass
        op.execute(f"DROP INDEX IF EXISTS {POSTGRES_VISIT_INDEX[0]}")
    for old, _column, new, columns in REPLACED:
        op.execute(f"DROP INDEX IF EXISTS {old}")
        op.execute(f"CREATE INDEX {new} ON cases ({columns})")
    if sqlite:
        for name, columns in SQLITE_ONLY:
            op.execute(f"CREATE INDEX {name} ON cases ({columns})")
        for name, columns in WALKED:
            op.execute(f"DROP INDEX {name}")
            op.execute(f"CREATE INDEX {name} ON cases ({columns})")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name, _columns in SQLITE_ONLY:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    else:
        name, definition = POSTGRES_VISIT_INDEX
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    for old, column, new, _columns in REPLACED:
        op.execute(f"DROP INDEX IF EXISTS {new}")
        op.execute(f"CREATE INDEX {old} ON cases ({column})")
