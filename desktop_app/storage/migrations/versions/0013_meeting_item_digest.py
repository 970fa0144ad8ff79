"""a joint meeting's items (decisions, follow-ups) carry a record digest like the meeting

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Items written before this (only by development builds: 0012 never shipped without it)
    # have none, and bbcs check names them.
    with op.batch_alter_table("meeting_items") as batch:
        batch.add_column(sa.Column("digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meeting_items") as batch:
        batch.drop_column("digest")
