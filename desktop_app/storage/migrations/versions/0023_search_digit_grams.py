"""PostgreSQL: the search index also keeps runs of digits and ASCII letters by threes and fours

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

0015's index holds each body's characters and pairs of neighbouring characters. Pairs of
Chinese characters are many and each is rare, but there are only a hundred pairs of digits and
every body holds several (its case number, a phone's last four digits): a search for ``1111``
asked the index for the pair ``11``, which 125,000 of a city's 1.5 million bodies hold, and read
each of them for its 600 matches (400 ms). So a run of single-character tokens that are ASCII
digits or lower-case letters (the index folds case) also gives its triples and quadruples:
``1111`` now asks for ``1111``, which 600 bodies hold, and ``2025-0012`` for ``0012`` beside
the rarest of its others. About twenty more keys a body (its number gives eleven), against
~450 before. The field separator ``zz`` is one two-letter token, so no run crosses two fields.

The existing bodies' keys are made again (REINDEX, in the server) and the table analysed, so
the planner's statistics (storage/search.py ``GramStatistics``) know the new keys. SQLite's FTS5
index needs nothing.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0015's loop, plus ``run``: the digits and letters just before the token (at most three). The
# test is on the code point (``ascii()`` is the first character's), not a collation's order, so
# it is the one storage/search.py ``query_grams`` makes in Python; a Chinese token (code 123 and
# up) costs one test. 60–75 µs a body against 0015's 40–55 (a first form that tested every
# token in full: 75–90; a regular expression over the body: no faster).
GRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION bbcs_search_grams(body text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
DECLARE
  tokens text[] := string_to_array(body, ' ');
  grams text[] := tokens;
  previous text := '';
  run text := '';
  token text;
  code int;
BEGIN
  FOREACH token IN ARRAY tokens LOOP
    grams := grams || (previous || token);
    previous := token;
    code := ascii(token);
    IF code < 123 THEN
      IF (code BETWEEN 48 AND 57 OR code >= 97) AND length(token) = 1 THEN
        run := right(run, 3) || token;
        IF length(run) >= 3 THEN
          grams := grams || right(run, 3);
          IF length(run) = 4 THEN
            grams := grams || run;
          END IF;
        END IF;
      ELSE
        run := '';
      END IF;
    ELSIF run <> '' THEN
      run := '';
    END IF;
  END LOOP;
  RETURN grams;
END
$$
"""

# 0015's function, for a downgrade.
PAIRS_FUNCTION = r"""
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


def _rebuild(function: str) -> None:
    op.execute(function)
    # The GIN build sorts its keys in this memory: 256 MB builds 1.5 million bodies in one pass.
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.execute("REINDEX INDEX ix_case_search_grams")
    op.execute("ANALYZE case_search")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    _rebuild(GRAMS_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    _rebuild(PAIRS_FUNCTION)
