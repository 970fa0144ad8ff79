"""PostgreSQL: a GIN index of each search body's characters and character pairs

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

Without it a search on PostgreSQL read every body (``strpos``): 150 ms at 100,000 cases, seconds
at a city of 1.5 million. The index holds, for each ``case_search`` body (one character per
token, see storage/search.py), its tokens and each token joined with the next; a query asks for
its character or its neighbouring pairs, and ``strpos`` confirms on what is left. An index on
an expression, so the existing bodies are indexed by CREATE INDEX (in bulk, in the server) and
every later writer keeps it without knowing of it. SQLite's FTS5 index (0001) needs nothing.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PL/pgSQL, not SQL: measured on 10,000 bodies (~230 characters), this loop took 0.1 ms a body,
# unnest/lead() or array subscripts in SQL 0.9–12 ms and regexp_replace 0.7 ms. The pairs that
# span the field separator ("zz") give three-character keys no query asks for, harmless. COST
# is high so the planner never prefers computing it for every row over the index.
GRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION bbcs_search_grams(body text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
DECLARE
  tokens text[] := string_to_array(body, ' ');
  grams text[] := tokens;
  previous text := '';
  token text;
BEGIN
  FOREACH token IN ARRAY tokens LOOP
    grams := grams || (previous || token);
    previous := token;
  END LOOP;
  RETURN grams;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(GRAMS_FUNCTION)
    # The GIN build sorts its keys in this memory: 256 MB builds 1.5 million bodies in one pass.
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.execute(
        "CREATE INDEX ix_case_search_grams ON case_search USING gin (bbcs_search_grams(body))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP INDEX IF EXISTS ix_case_search_grams")
    op.execute("DROP FUNCTION IF EXISTS bbcs_search_grams(text)")
