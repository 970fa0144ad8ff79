"""the auditor's search finds entries by user, action and date without reading the whole log

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_user', 'audit_log', ['user_name', 'id'])
    op.create_index('ix_audit_action', 'audit_log', ['action', 'id'])
    op.create_index('ix_audit_at', 'audit_log', ['at'])


def downgrade() -> None:
    op.drop_index('ix_audit_at', table_name='audit_log')
    op.drop_index('ix_audit_action', table_name='audit_log')
    op.drop_index('ix_audit_user', table_name='audit_log')
