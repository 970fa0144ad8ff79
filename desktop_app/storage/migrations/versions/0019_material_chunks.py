"""Materials shared by every seat on PostgreSQL: their bytes, sealed, in ``material_chunks``

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

Several seats (PCs) of one site open the same materials, so on PostgreSQL a material's bytes go
into the database in 1 MiB pieces, each AES-256-GCM sealed under a subkey of the data key
(services/attachments.py); each seat's ``attachments/`` folder becomes a cache. The table is
made on SQLite too (one schema for both engines) and stays empty there: the folder is the store.

The pieces are sealed, so they do not compress: PostgreSQL is told not to try (``STORAGE
EXTERNAL``: out of line, uncompressed). Materials added on PostgreSQL before this revision
exist only in the folder of the seat that added them; ``bbcs check`` names them as missing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "material_chunks",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "seq"),
    )
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER TABLE material_chunks ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("material_chunks")
