"""ID and phone numbers sealed at rest, found by keyed hash (issue 15 item 11)

The columns that held them in clear are renamed to hold the sealed text; a keyed hash of each
(for exact-match lookups) and a phone's last four digits are added. The migration has no key,
so the numbers already stored are sealed at the first open after it
(``services/sealing.seal_existing``); until then they read as they were.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RENAMED = (('id_number', 'id_number_sealed'), ('phone', 'phone_sealed'))
_ADDED = (('id_lookup', 64), ('phone_lookup', 64), ('phone_last4', 4))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        # The plaintext indexes dropped here, and the rows sealed later, must not leave the
        # numbers in freed pages of the file.
        op.execute('PRAGMA secure_delete = ON')
    op.drop_index('ix_complainants_id_number', table_name='complainants')
    op.drop_index('ix_complainants_phone', table_name='complainants')
    for old, new in _RENAMED:
        if sqlite:
            op.execute(f'ALTER TABLE complainants RENAME COLUMN {old} TO {new}')
        else:
            op.alter_column('complainants', old, new_column_name=new, type_=sa.Text())
    for name, length in _ADDED:
        op.add_column(
            'complainants',
            sa.Column(name, sa.String(length), server_default='', nullable=False),
        )
    op.create_index('ix_complainants_id_lookup', 'complainants', ['id_lookup'])
    op.create_index('ix_complainants_phone_lookup', 'complainants', ['phone_lookup'])
    op.create_index('ix_complainants_phone_last4', 'complainants', ['phone_last4'])


def downgrade() -> None:
    for name in ('phone_last4', 'phone_lookup', 'id_lookup'):
        op.drop_index(f'ix_complainants_{name}', table_name='complainants')
        op.drop_column('complainants', name)
    for old, new in _RENAMED:
        op.alter_column('complainants', new, new_column_name=old)
    op.create_index('ix_complainants_id_number', 'complainants', ['id_number'])
    op.create_index('ix_complainants_phone', 'complainants', ['phone'])
