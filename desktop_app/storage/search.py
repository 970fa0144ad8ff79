"""Substring search over cases that works for one- and two-character Chinese queries.

SQLite's FTS5 ``trigram`` tokenizer cannot find substrings shorter than three characters, yet
two-character names and terms (王芳, 医保) are the most common searches at a window. So the index
stores *one token per character* (``王 芳 医 保 …``) with positions, and a query becomes an FTS5
phrase of its characters: a phrase matches exactly when those characters stand next to each other,
i.e. when the query is a substring. Fields are separated by a token no query can produce, so a
match never spans two fields.

The ``ascii`` tokenizer is used because it treats every non-ASCII code point — CJK, extension B
characters such as 𠀀, emoji — as part of a token; ASCII letters and digits are indexed one by one
the same way and ASCII punctuation is dropped on both sides.

PostgreSQL has no FTS5, so there ``case_search`` is a plain table holding the same body, and a
query looks for its characters between spaces in it (:func:`body_needle`): a match again means
the characters stand next to each other inside one field, so both engines find the same cases.
Reading every body that way costs ~1.2 µs a case (150 ms at 100,000, seconds at a city of 1.5
million), so a GIN index narrows the bodies first (:func:`postgres_condition`): it holds each
body's characters and pairs of adjacent characters (``bbcs_search_grams``, migration 0015), and a
query asks for the bodies holding all its pairs (its character, when it has one). Pairs, not
pg_trgm's trigrams, because one- and two-character queries are the common ones; only a run of
ASCII digits or letters, whose pairs are few and common, is kept by threes and fours as well
(migration 0023). It is an index on an expression, not a column: every writer of
``case_search`` (intake, corrections, the demo, a county's bundle merged in bulk) keeps it
without knowing of it, and no body is stored twice.

The index serves rare terms. A common one (县 is in 95 % of the bodies) would have the index
hand over a million candidates, each read before the first page; the ledger then walks its own
order instead and checks bodies until its window is full (``services/ledger.py``
``_walk_search``), and so it tries for a single character the statistics do not list (芳, 2 %).
Both choices read the planner's statistics of the index (``GramStatistics``): which terms are
common, and which of a term's pairs are worth asking the index for.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Text, and_, bindparam, func, literal, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

# Bumped whenever index_text changes: a bundle carries its cases' search text with this number,
# and text made another way is rebuilt by the receiving site.
INDEX_VERSION = 1
FIELD_SEPARATOR = "zz"  # two letters: no single-character query token can equal it


# Whitespace and ASCII punctuation; every other character is a token (a regex, because a
# per-character Python loop dominates indexing 100,000 imported cases at the city).
_NOT_A_TOKEN = re.compile(r"[\s\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+")


def _characters(value: str) -> list[str]:
    normalized = unicodedata.normalize("NFKC", value).lower()
    return list(_NOT_A_TOKEN.sub("", normalized))


def index_text(fields: Iterable[str]) -> str:
    """The FTS body for a case: its fields' characters, space-separated, fields kept apart.

    The same characters as :func:`_characters` gives, found with ``str.translate`` and one NFKC
    check per field: a loop over every character in Python cost seconds at 100,000 cases (a
    city indexing a county's cases, the demo).
    """
    drop, predrop, drop_all = _drop_tables()
    parts: list[str] = []
    for value in fields:
        if not value:
            continue
        kept = value.translate(drop_all)
        if unicodedata.is_normalized("NFKC", kept):
            chars = kept.lower()  # nothing for NFKC to change; lower() yields nothing dropped
        else:
            chars = unicodedata.normalize("NFKC", value.translate(predrop)).lower()
            chars = chars.translate(drop)
        if chars:
            parts.append(" ".join(chars))
    return f" {FIELD_SEPARATOR} ".join(parts)


def _dropped(character: str) -> bool:
    """Whether the index drops ``character``: whitespace and ASCII punctuation (_NOT_A_TOKEN)."""
    return character.isspace() or (character.isascii() and not character.isalnum())


@functools.cache
def _drop_tables() -> tuple[dict[int, None], dict[int, None], dict[int, None]]:
    """``str.translate`` tables: what the index drops (no whitespace lies beyond U+3000); the
    full-width and CJK punctuation whose NFKC form it drops anyway (，：（）…), removed first
    so that most fields are already in NFKC and skip the costly normalization; both. Made on
    first use, not at start-up."""
    drop: dict[int, None] = {cp: None for cp in range(0x3001) if _dropped(chr(cp))}
    predrop: dict[int, None] = {
        cp: None
        for start, end in ((0x2000, 0x2070), (0x3000, 0x3040), (0xFE10, 0xFE70), (0xFF00, 0xFFF0))
        for cp in range(start, end)
        if (folded := unicodedata.normalize("NFKC", chr(cp))) and all(map(_dropped, folded))
    }
    return drop, predrop, drop | predrop


def match_expression(query: str) -> str | None:
    """The FTS5 MATCH string for a substring query, or None if the query has nothing to find."""
    chars = _characters(query)
    if not chars:
        return None
    # Inside a double-quoted FTS5 string only '"' is special; _characters drops ASCII
    # punctuation, so no quote can reach here.
    return '"' + " ".join(chars) + '"'


def body_needle(query: str) -> str | None:
    """What to look for in ``' ' || body || ' '`` (PostgreSQL), or None if nothing to find.

    The query's characters between spaces: found exactly where the FTS5 phrase would match, the
    spaces keeping a lone ``z`` from matching half of the field separator. Searched with
    ``strpos``, which takes it literally (no wildcards to escape) and at 100,000 cases ran faster
    than LIKE.
    """
    chars = _characters(query)
    if not chars:
        return None
    return " " + " ".join(chars) + " "


# The PostgreSQL function behind the GIN index of migrations 0015 and 0023: a body's grams (its
# tokens, each token joined with the next, and a run of ASCII digits and letters by threes and
# fours). query_grams must ask for keys it makes.
GRAMS_FUNCTION = "bbcs_search_grams"


def query_grams(query: str) -> list[str] | None:
    """The index keys every body containing ``query`` holds, or None if nothing to find: its
    character when it has one, else each pair of neighbouring characters (a pair implies its
    characters), and each three or four neighbouring ASCII digits or letters (``1111``: its one
    pair ``11`` is in a twelfth of a city's bodies, ``1111`` in 600 of 1.5 million). The exact
    match (:func:`body_needle`) then drops bodies that hold the keys apart, so the keys only
    have to be a necessary condition."""
    chars = _characters(query)
    if not chars:
        return None
    if len(chars) == 1:
        return chars
    grams = {first + second for first, second in itertools.pairwise(chars)}
    for run in _ascii_runs(chars):
        # The fours imply the threes inside them; a run of three has only its three.
        width = min(len(run), 4)
        grams.update("".join(run[i : i + width]) for i in range(len(run) - width + 1))
    return sorted(grams)


def _ascii_runs(chars: Sequence[str]) -> list[list[str]]:
    """The runs of three or more neighbouring ASCII digits or lower-case letters (what the
    index makes threes and fours of: migration 0023 tests the same code points)."""
    runs: list[list[str]] = [[]]
    for char in chars:
        if "0" <= char <= "9" or "a" <= char <= "z":
            runs[-1].append(char)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= 3]


# What ANALYZE knows of the search index's expression: its most common grams (~1,000, each in
# more than ~1–3 % of the bodies) with the share of bodies holding each, the smallest such share
# (any other gram is rarer), and how many bodies there are. No rows before a first ANALYZE.
_GRAM_STATISTICS = text(
    """
    SELECT CAST(CAST(stats.most_common_elems AS text) AS text[]), stats.most_common_elem_freqs,
        (SELECT reltuples FROM pg_class WHERE oid = to_regclass('case_search'))
    FROM pg_stats AS stats
    WHERE stats.schemaname = current_schema() AND stats.tablename = :index
        AND stats.most_common_elems IS NOT NULL
    """
)
SEARCH_INDEX = "ix_case_search_grams"
# A body read and checked costs about as much as this many index entries (PostgreSQL; measured
# at 1.5 million cases: a gram in every body, 1.5 million entries, ~30 ms).
_BODY_PER_ENTRIES = 30


@dataclass(frozen=True)
class GramStatistics:
    """The planner's statistics of the search index (PostgreSQL), for choosing how to search."""

    shares: Mapping[str, float]  # a common gram → the share of bodies holding it
    floor: float  # every gram not in ``shares`` is in fewer bodies than this share
    bodies: float

    def share(self, query: str) -> float:
        """An upper bound on the share of bodies holding ``query``: its rarest gram's share;
        0 when a gram is not a common one (or there are no statistics)."""
        grams = query_grams(query)
        return min((self.shares.get(gram, 0.0) for gram in grams), default=0.0) if grams else 0.0

    def bound(self, query: str) -> float:
        """An upper bound on the share of bodies holding ``query`` where one is known: its
        :meth:`share`, or for a single character the statistics do not list, their ``floor``
        (芳 is in 2 % of a city's cases, below the ~3 % of the rarest listed gram); 0 for a
        longer term none of whose grams is listed — a name such as 王芳, rare."""
        grams = query_grams(query)
        if not grams:
            return 0.0
        share = self.share(query)
        return share if share > 0 or len(grams) > 1 or len(grams[0]) > 1 else self.floor

    def listed(self, query: str) -> float | None:
        """The share of bodies holding ``query`` itself where the statistics list it: a term
        that is one index key (a character, or two side by side) whose key is a common one;
        None otherwise (for a longer term its keys' shares only bound its own)."""
        grams = query_grams(query)
        if not grams or len(grams) > 1:
            return None
        return self.shares.get(grams[0])

    def selective(self, grams: Sequence[str]) -> list[str]:
        """The grams worth asking the index for: the rarest first, then each next one while
        reading its entries costs less than the bodies it would spare (a body read and checked
        costs ~``_BODY_PER_ENTRIES`` entries). ``2025-0012``'s pairs 20 and 02 are in every
        body: asking for them read 3 million entries to spare no body."""
        if not self.shares or len(grams) < 2:
            return list(grams)
        ordered = sorted(grams, key=lambda gram: (self.shares.get(gram, self.floor / 2), gram))
        chosen = ordered[:1]
        candidates = self.bodies * self.shares.get(ordered[0], self.floor / 2)
        for gram in ordered[1:]:
            share = self.shares.get(gram, self.floor / 2)
            if share * self.bodies >= _BODY_PER_ENTRIES * candidates * (1 - share):
                break
            chosen.append(gram)
            candidates *= share
        return sorted(chosen)


NO_STATISTICS = GramStatistics({}, 0.0, 0.0)


def postgres_gram_statistics(session: Session) -> GramStatistics:
    """The search index's statistics (one small read of the catalogue); NO_STATISTICS before
    the first ANALYZE of the search table."""
    row = session.execute(_GRAM_STATISTICS, {"index": SEARCH_INDEX}).first()
    if row is None or not row[0] or row[2] is None or row[2] <= 0:
        return NO_STATISTICS
    elements, shares, bodies = row
    # The shares end with three more numbers: their least, their greatest and the NULL share.
    return GramStatistics(
        dict(zip(elements, map(float, shares[: len(elements)]), strict=True)),
        float(shares[len(elements)]),
        float(bodies),
    )


def postgres_condition(
    body: ColumnElement[str], query: str, statistics: GramStatistics = NO_STATISTICS
) -> ColumnElement[bool] | None:
    """Whether ``body`` (``case_search.body``) contains ``query``, on PostgreSQL; None if the
    query has nothing to find. The GIN index answers the first term (for the grams
    ``statistics`` say are worth it); ``strpos`` confirms on the few bodies it leaves, so the
    result is exactly FTS5's on SQLite."""
    needle = body_needle(query)
    grams = query_grams(query)
    if needle is None or grams is None:
        return None
    grams = statistics.selective(grams)
    indexed: ColumnElement[list[str]] = getattr(func, GRAMS_FUNCTION)(body, type_=ARRAY(Text))
    padded = literal(" ", Text) + body + literal(" ", Text)
    return and_(indexed.contains(literal(grams, ARRAY(Text))), func.strpos(padded, needle) > 0)


def postgres_exact(body: ColumnElement[str], query: str) -> ColumnElement[bool] | None:
    """The exact half of :func:`postgres_condition` alone: what a walk in the ledger's order
    checks on each body it reaches (computing a body's grams costs far more than ``strpos``)."""
    needle = body_needle(query)
    if needle is None:
        return None
    padded = literal(" ", Text) + body + literal(" ", Text)
    return func.strpos(padded, needle) > 0


def case_fields(
    number: str,
    name: str,
    title: str,
    description: str,
    stuck_at: str,
    phone: str,
    original_number: str = "",
) -> list[str]:
    """What a case's search text is made of (for :func:`index_text`): wherever it is built
    (intake, the demo, a city importing a county's cases, a rebuild) it must be built the same
    way. The 原编号 of a case from an old 台账 comes last, and only when there is one, so the
    text of every other case is as it was."""
    fields = [number_search_tail(number), name, title, description, stuck_at, phone]
    return [*fields, original_number] if original_number else fields


def number_search_tail(number: str) -> str:
    """The part of a case number worth indexing (``2026-0012`` of ``杞县-2026-0012``): the
    site prefix is on every case of a site, so indexing it would only make every query slower.
    """
    prefix, rest = split_number_prefix(number)
    return rest if prefix else number


_NUMBER_PREFIX = re.compile(r"([^\s\-\d][^\s\-]{0,19})-([\d\-]*)")


def split_number_prefix(query: str) -> tuple[str, str]:
    """(site prefix, the rest) of what looks like (the start of) a case number: ``杞县-2026-00``
    gives ``("杞县", "2026-00")``; anything else gives ``("", query)``."""
    found = _NUMBER_PREFIX.fullmatch(query.strip())
    return (found[1], found[2]) if found else ("", query)


def strip_site_prefix(query: str, short_name: str) -> str:
    query = query.strip()
    prefix = f"{short_name}-"
    if short_name and query.startswith(prefix):
        return query[len(prefix) :]
    return query


def reindex_case(session: Session, case_id: int, fields: Iterable[str]) -> None:
    """Replace a case's row in the search index (FTS5 on SQLite, a plain table elsewhere)."""
    reindex_cases(session, [(case_id, fields)])


REINDEX_CHUNK = 500  # cases per statement (well under SQLite's limit on bound values)
_DELETE_ROWS = text("DELETE FROM case_search WHERE rowid IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


def reindex_cases(session: Session, cases: Iterable[tuple[int, Iterable[str]]]) -> None:
    """Replace the rows of several cases (id, fields) in the search index, a statement for
    each chunk of them rather than two for each case (a complainant with fifty cases gives a
    new phone number: every one of their cases is indexed again within the save)."""
    rows = iter(cases)
    while chunk := list(itertools.islice(rows, REINDEX_CHUNK)):
        session.execute(_DELETE_ROWS, {"ids": [case_id for case_id, _fields in chunk]})
        session.execute(
            text("INSERT INTO case_search(rowid, body) VALUES (:id, :body)"),
            [{"id": case_id, "body": index_text(fields)} for case_id, fields in chunk],
        )
