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

_RENAMED = (('id_number', 'id_number_sealed', 18), ('phone', 'phone_sealed', 30))
_ADDED = (('id_lookup', 64), ('phone_lookup', 64), ('phone_last4', 4))


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # The plaintext indexes and the table copy dropped here, and the rows sealed later,
        # must not leave the numbers in freed pages of the file.
        op.execute('PRAGMA secure_delete = ON')
    op.drop_index('ix_complainants_id_number', table_name='complainants')
    op.drop_index('ix_complainants_phone', table_name='complainants')
    with op.batch_alter_table('complainants') as batch:
        for old, new, length in _RENAMED:
            batch.alter_column(
                old,
                new_column_name=new,
                type_=sa.Text(),
                existing_type=sa.String(length),
                existing_nullable=False,
            )
        for name, length in _ADDED:
            batch.add_column(sa.Column(name, sa.String(length), server_default='', nullable=False))
        batch.create_index('ix_complainants_id_lookup', ['id_lookup'])
        batch.create_index('ix_complainants_phone_lookup', ['phone_lookup'])
        batch.create_index('ix_complainants_phone_last4', ['phone_last4'])


def downgrade() -> None:
    with op.batch_alter_table('complainants') as batch:
        for name in ('phone_last4', 'phone_lookup', 'id_lookup'):
            batch.drop_index(f'ix_complainants_{name}')
            batch.drop_column(name)
        for old, new, length in _RENAMED:
            batch.alter_column(
                new, new_column_name=old, type_=sa.String(length), existing_nullable=False
            )
    # Schema only: numbers sealed since stay sealed (the key is needed to open them).
    op.create_index('ix_complainants_id_number', 'complainants', ['id_number'])
    op.create_index('ix_complainants_phone', 'complainants', ['phone'])
