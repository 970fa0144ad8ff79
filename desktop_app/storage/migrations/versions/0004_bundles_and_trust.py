"""bundles, trusted sites' keys and conflict queue

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPORTED = ['departments', 'complainants', 'cases', 'case_events', 'attachments', 'assignments',
            'slips']

# SQLite's reflected copy of an unnamed UNIQUE(name) gets this name, so batch mode can drop it.
NAMING = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signing_public_key', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('encryption_public_key', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('keys_created_at', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('trust_state', sa.String(length=10), server_default='', nullable=False))
        batch_op.add_column(sa.Column('trusted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('previous_keys', sa.JSON(), server_default='[]', nullable=False))

    for table in EXPORTED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('change_seq', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('sync_hash', sa.String(length=32), server_default='', nullable=False))
            batch_op.create_index(f'ix_{table}_change_seq', ['change_seq'], unique=False)
        # Everything recorded before this release goes with the first export.
        op.execute(sa.text(f'UPDATE {table} SET change_seq = 1'))

    if dialect == 'sqlite':
        with op.batch_alter_table('departments', schema=None, naming_convention=NAMING) as batch_op:
            batch_op.add_column(sa.Column('site_code', sa.String(length=6), server_default='', nullable=False))
            batch_op.drop_constraint('uq_departments_name', type_='unique')
            batch_op.create_unique_constraint('uq_departments_site_name', ['site_code', 'name'])
    else:
        op.add_column('departments', sa.Column('site_code', sa.String(length=6), server_default='', nullable=False))
        op.drop_constraint('departments_name_key', 'departments', type_='unique')
        op.create_unique_constraint('uq_departments_site_name', 'departments', ['site_code', 'name'])

    # Slip numbers are unique per issuing site (two counties may share a prefix character).
    slip_number_key = 'uq_slips_number' if dialect == 'sqlite' else 'slips_number_key'
    with op.batch_alter_table('slips', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.add_column(sa.Column('site_code', sa.String(length=6), server_default='', nullable=False))
        batch_op.drop_constraint('uq_slips_kind_year_seq', type_='unique')
        batch_op.drop_constraint(slip_number_key, type_='unique')
        batch_op.create_unique_constraint('uq_slips_site_kind_year_seq', ['site_code', 'kind', 'year', 'seq'])
        batch_op.create_unique_constraint('uq_slips_site_number', ['site_code', 'number'])

    op.create_table('bundles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bundle_id', sa.String(length=36), nullable=False),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('peer_code', sa.String(length=6), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('base_generation', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('acked_at', sa.DateTime(), nullable=True),
    sa.Column('user_name', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('direction', 'bundle_id', name='uq_bundles_direction_id')
    )
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.create_index('ix_bundles_peer', ['peer_code', 'created_at'], unique=False)

    op.create_table('sync_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('bundle_id', sa.String(length=36), nullable=False),
    sa.Column('site_code', sa.String(length=6), nullable=False),
    sa.Column('entity', sa.String(length=30), nullable=False),
    sa.Column('entity_uuid', sa.String(length=36), nullable=False),
    sa.Column('local_version', sa.Integer(), nullable=False),
    sa.Column('incoming_version', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('incoming', sa.JSON(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=40), nullable=False),
    sa.Column('resolution', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.create_index('ix_sync_conflicts_open', ['resolved_at'], unique=False)


def downgrade() -> None:
    op.drop_table('sync_conflicts')
    op.drop_table('bundles')
    with op.batch_alter_table('slips', schema=None) as batch_op:
        batch_op.drop_constraint('uq_slips_site_kind_year_seq', type_='unique')
        batch_op.drop_constraint('uq_slips_site_number', type_='unique')
        batch_op.create_unique_constraint('uq_slips_kind_year_seq', ['kind', 'year', 'seq'])
        batch_op.create_unique_constraint('uq_slips_number', ['number'])
        batch_op.drop_column('site_code')
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_departments_site_name', type_='unique')
        batch_op.create_unique_constraint('uq_departments_name', ['name'])
        batch_op.drop_column('site_code')
    for table in reversed(EXPORTED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_change_seq')
            batch_op.drop_column('sync_hash')
            batch_op.drop_column('change_seq')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        for column in ('previous_keys', 'revoked_at', 'trusted_at', 'trust_state',
                       'keys_created_at', 'encryption_public_key', 'signing_public_key'):
            batch_op.drop_column(column)
