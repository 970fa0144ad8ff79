"""ID and phone numbers sealed at rest, found by keyed hash (issue 15 item 11)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the issue 15 work on this item


def downgrade() -> None:
    pass
