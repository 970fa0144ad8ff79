"""indexes for the 交办单 screen: every slip newest first, searched by number, case and department

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The list's order (issued_at, id) with every column its filters read: the screen scans
    # this narrow index, never the slips' stored content (most of the table).
    op.create_index(
        'ix_slips_register', 'slips',
        ['issued_at', 'id', 'kind', 'voided', 'print_count', 'number', 'assignment_id'],
        unique=False,
    )
    # The slips of the assignments a search found, with their date: sorted without reading
    # the wide slips table.
    op.create_index(
        'ix_slips_assignment_issued', 'slips', ['assignment_id', 'issued_at'], unique=False
    )
    # A search by case number or title reads these two columns, not the wide cases table.
    op.create_index('ix_cases_number_title', 'cases', ['number', 'title'], unique=False)
    # A search by department: its assignments (and so its slips) without scanning them all.
    op.create_index('ix_assignments_department', 'assignments', ['department_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_assignments_department', table_name='assignments')
    op.drop_index('ix_cases_number_title', table_name='cases')
    op.drop_index('ix_slips_assignment_issued', table_name='slips')
    op.drop_index('ix_slips_register', table_name='slips')
