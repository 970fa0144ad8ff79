"""Honest numbers (DESIGN.md §3, issue 17): the formulas every report uses, once.

Every rate carries its numerator and denominator, so a screen or a paper can always print
"85.0%（17/20）" and a reader can check it. The on-time rate counts open matters already past
their deadline in the denominator (a window that never concludes late cases would otherwise look
perfect), and is given twice: against the deadline in force (after approved extensions and
holiday moves) and against the original one. A reopened case counts once per round, each round
against its own deadline. Rankings leave out departments below a minimum volume.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """None when nothing was counted: "no matters" is not 0 % and not 100 %."""
        return self.numerator / self.denominator if self.denominator else None

    def text(self) -> str:
        """85.0%（17/20）, or —（0/0） when there was nothing to count."""
        if not self.denominator:
            return "—（0/0）"
        return (
            f"{100 * self.numerator / self.denominator:.1f}%（{self.numerator}/{self.denominator}）"
        )


@dataclass(frozen=True)
class Round:
    """One round of a matter against a deadline: a case's handling round (a reopened case has
    one per round) or one assignment. ``finished_on`` None: still open."""

    deadline: date  # in force: after approved extensions and holiday moves
    original_deadline: date
    finished_on: date | None
    # How many rounds share these three dates: a year's 50,000 rounds come from the database
    # grouped by them, a few thousand rows, and are counted without being expanded.
    count: int = 1


def on_time_rate(rounds: Iterable[Round], today: date, *, original: bool = False) -> Rate:
    """按期办结率 = finished by the deadline ÷ (finished + open and already past the deadline).

    Open rounds not yet due are in neither count: they may still finish on time.
    ``original``: against the original deadline instead of the one in force."""
    on_time = counted = 0
    for r in rounds:
        deadline = r.original_deadline if original else r.deadline
        if r.finished_on is not None:
            counted += r.count
            on_time += r.count if r.finished_on <= deadline else 0
        elif today > deadline:
            counted += r.count
    return Rate(on_time, counted)


def rate(numerator: int, denominator: int) -> Rate:
    return Rate(numerator, denominator)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0–100) by the nearest-rank method, which always names a value that
    occurred (a median of working days is a whole number of days); None for no values."""
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError(p)
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ranked(volumes: dict[str, int], scores: dict[str, float | None], *, minimum: int) -> list[str]:
    """Names ordered by score, best first, leaving out those with fewer than ``minimum``
    matters or no score (a department with 2 cases is not 'the best')."""
    eligible = [n for n, v in volumes.items() if v >= minimum and scores.get(n) is not None]
    return sorted(eligible, key=lambda n: (-(scores[n] or 0.0), n))
