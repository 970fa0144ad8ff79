"""Causes with stable codes (issue 16): what the first release stored, read as today's codes.

The list itself is reference data (table ``cause_codes``, sent down by the city); a new site
starts with ``vocabulary.DEFAULT_CAUSE_CODES``. Stored cases keep whatever code they were saved
with: a case saved before the codes carries one of the six ``vocabulary.Cause`` values, read
here as its code, so statistics count old and new alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from desktop_app.domain.vocabulary import CAUSE_CODE_OF, DEFAULT_CAUSE_CODES, Cause

DEFAULT_LABELS: dict[str, str] = dict(DEFAULT_CAUSE_CODES)


def cause_code(stored: str) -> str:
    """The cause code of a stored cause: an old ``Cause`` value mapped, a code as it is."""
    try:
        return CAUSE_CODE_OF[Cause(stored)]
    except ValueError:
        return stored


def cause_codes(stored: Iterable[str]) -> list[str]:
    """Each stored cause as its code, in order, without repeats."""
    out: list[str] = []
    for value in stored:
        code = cause_code(value)
        if code not in out:
            out.append(code)
    return out


def cause_label(code: str, labels: dict[str, str] | None = None) -> str:
    """The Chinese label of a code (``labels``: the site's list; the defaults otherwise)."""
    code = cause_code(code)
    return (labels or DEFAULT_LABELS).get(code) or DEFAULT_LABELS.get(code, code)
