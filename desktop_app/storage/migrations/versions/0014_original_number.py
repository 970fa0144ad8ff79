"""a case brought in from the old Excel 台账 keeps its number there (原编号, issue 17)

Existing cases get "" (the server default). The column is one of the record digests' late
columns (services.integrity.LATE_COLUMNS): signed after the others in digest format 3, left out
while empty, so the cases sealed before it keep their digests. The old number is also kept on
the import's audit entry and on the case's 历史导入 entry, both under the audit chain.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("original_number", sa.String(length=60), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("original_number")
