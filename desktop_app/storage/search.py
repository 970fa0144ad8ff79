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
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

FIELD_SEPARATOR = "zz"  # two letters: no single-character query token can equal it


def _characters(value: str) -> list[str]:
    normalized = unicodedata.normalize("NFKC", value).lower()
    return [ch for ch in normalized if not ch.isspace() and not (ch.isascii() and not ch.isalnum())]


def index_text(fields: Iterable[str]) -> str:
    """The FTS body for a case: its fields' characters, space-separated, fields kept apart."""
    parts = [" ".join(_characters(field)) for field in fields if field]
    return f" {FIELD_SEPARATOR} ".join(part for part in parts if part)


def match_expression(query: str) -> str | None:
    """The FTS5 MATCH string for a substring query, or None if the query has nothing to find."""
    chars = _characters(query)
    if not chars:
        return None
    # Inside a double-quoted FTS5 string only '"' is special; _characters drops ASCII
    # punctuation, so no quote can reach here.
    return '"' + " ".join(chars) + '"'


def number_search_tail(number: str, short_name: str) -> str:
    """The part of a case number worth indexing (``2026-0012`` of ``杞县-2026-0012``).

    The site prefix is on every case, so indexing it would only make every query slower.
    """
    prefix = f"{short_name}-"
    return number[len(prefix) :] if number.startswith(prefix) else number


def strip_site_prefix(query: str, short_name: str) -> str:
    query = query.strip()
    prefix = f"{short_name}-"
    if short_name and query.startswith(prefix):
        return query[len(prefix) :]
    return query


def reindex_case(session: Session, case_id: int, fields: Iterable[str]) -> None:
    """Replace a case's row in the search index (SQLite only; other engines use ILIKE)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(text("DELETE FROM case_search WHERE rowid = :id"), {"id": case_id})
    session.execute(
        text("INSERT INTO case_search(rowid, body) VALUES (:id, :body)"),
        {"id": case_id, "body": index_text(fields)},
    )
