"""Digests for the holiday calendar, the duty roster and the settings (issue 15 item 7)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

A day made a holiday by SQL moved every deadline across it; a duty leader put on the roster by
SQL, or a deadline rule or the masking of phones changed in ``settings``, went unseen by ``bbcs
check``. Their rows get a keyed digest like every audited record (services/integrity.py).
The columns start empty: the program digests the existing rows once, at the first open that
may write, and its audit anchor then records that these tables are digested (a row without a
digest after that is reported).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("holiday_overrides", "calendar_years", "duty_staff", "duty_shifts", "settings")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("digest", sa.String(64), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("digest")
