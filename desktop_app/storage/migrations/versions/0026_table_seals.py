"""Seals over the calendar, the roster and the settings as a whole (issue 15 item 7)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

Migration 0025 gave each of their rows a keyed digest: a row changed or added by SQL is named by
``bbcs check``, but a row deleted by SQL left nothing to check (a holiday taken out moved every
deadline across it; a deadline rule deleted fell back to its default). ``table_seals`` keeps,
per table, a keyed hash over all its rows' keys and digests and the list of keys. The program
writes them at the first open that may write (an entry of the keyed audit log) and at every
commit that writes those tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "table_seals",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("seal", sa.String(64), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("table_seals")
