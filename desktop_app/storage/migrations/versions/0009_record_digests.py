"""audited records carry a keyed digest their service maintains (issue 15 item 7)

The column only: the digest is an HMAC under the data key, which a migration does not have.
Existing rows get theirs when the services first open the upgraded database
(``services/integrity.py``, ``open_site``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('sites', 'users', 'departments', 'complainants', 'cases', 'assignments', 'slips')


def upgrade() -> None:
    # A nullable column is added in place (no copy of 100,000 cases).
    for table in TABLES:
        op.add_column(table, sa.Column('digest', sa.String(64), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('digest')
