"""反映人 sorted by pinyin: complainants.name_key and the ledger's index on it

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07

The ledger sorted 反映人 by the name's code points (0016's ``ix_ledger_complainant_name``), which
put 张 before 白 and 陈. Each complainant now keeps a sort key made from its name
(domain/name_order.py: its pinyin, then its GB18030 bytes), set here for the existing rows, and
the ledger's index is on the key (on PostgreSQL with the id, in the C collation, as 0016's).
The rule is imported, not frozen: the key is derived data, and a later change of the rule needs
a migration of its own that makes every key again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from desktop_app.domain.name_order import name_key

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 5000
# (the index, what it holds) on each engine; and 0016's, put back by the downgrade.
_POSTGRESQL = ("ix_ledger_complainant_name_key", '(name_key COLLATE "C"), id')
_SQLITE = ("ix_ledger_complainant_name_key", "name_key")
_OLD_POSTGRESQL = ("ix_ledger_complainant_name", '(name COLLATE "C"), id')
_OLD_SQLITE = ("ix_ledger_complainant_name", "name")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.add_column(
        "complainants", sa.Column("name_key", sa.Text(), nullable=False, server_default="")
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.text("SELECT id, name FROM complainants WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": _CHUNK},
        ).all()
        if not rows:
            break
        keys = [{"i": row_id, "k": name_key(name or "")} for row_id, name in rows]
        if _sqlite():
            connection.execute(sa.text("UPDATE complainants SET name_key = :k WHERE id = :i"), keys)
        else:  # one statement a chunk: 1.4 million single UPDATEs take minutes
            connection.execute(
                sa.text(
                    "UPDATE complainants AS c SET name_key = v.k FROM "
                    "(SELECT unnest(CAST(:ids AS integer[])) AS i, "
                    "unnest(CAST(:keys AS text[])) AS k) AS v WHERE c.id = v.i"
                ),
                {"ids": [k["i"] for k in keys], "keys": [k["k"] for k in keys]},
            )
        last = rows[-1][0]
    name, columns = _SQLITE if _sqlite() else _POSTGRESQL
    op.execute("DROP INDEX IF EXISTS ix_ledger_complainant_name")
    op.execute(f"CREATE INDEX {name} ON complainants ({columns})")


def downgrade() -> None:
    name, columns = _OLD_SQLITE if _sqlite() else _OLD_POSTGRESQL
    op.execute("DROP INDEX IF EXISTS ix_ledger_complainant_name_key")
    op.execute(f"CREATE INDEX {name} ON complainants ({columns})")
    with op.batch_alter_table("complainants") as batch:
        batch.drop_column("name_key")
