"""slips remember when they were voided (作废), so 核验 can say so with the date

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('slips', sa.Column('voided_at', sa.DateTime(), nullable=True))
    # A slip voided before this column existed: the time of its assignment's 作废 in the audit
    # log (this site's own slips; a received one keeps NULL, shown as 日期未记录).
    op.execute(
        "UPDATE slips SET voided_at = ("
        " SELECT max(a.at) FROM audit_log a JOIN assignments s ON s.uuid = a.entity_uuid"
        " WHERE s.id = slips.assignment_id AND a.action = 'void' AND a.entity = 'assignment'"
        ") WHERE voided"
    )


def downgrade() -> None:
    op.drop_column('slips', 'voided_at')
