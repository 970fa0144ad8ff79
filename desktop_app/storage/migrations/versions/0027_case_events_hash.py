"""A hash over each case's 办理记录, signed with the case (issue 15 item 7)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

A case's timeline lines (``case_events``) carried no digest: a 催办 deleted or a 回访's words
changed by SQL passed ``bbcs check`` (each step is also in the audit log, but nothing compared
them). Digesting every line would add half a million digests to each county's first upload;
instead ``cases.events_hash`` holds a hash over its lines, and the case's keyed digest covers it
(a late column: a case sealed before keeps its digest while the column is empty). The program
fills it for every case once, at the first open that may write, and keeps it at every commit
that adds a line.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("events_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("events_hash")
