"""Weighted random choice, precomputed: the generator picks millions of times."""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterable
from typing import Any

Weighted = tuple[tuple[Any, ...], tuple[float, ...]]


def cumulative(weights: Iterable[float]) -> list[float]:
    total = 0.0
    result: list[float] = []
    for weight in weights:
        total += weight
        result.append(total)
    return result


def weighted(pairs: Iterable[tuple[Any, float]]) -> Weighted:
    items = list(pairs)
    return tuple(v for v, _ in items), tuple(cumulative(w for _, w in items))


def pick(rng: random.Random, choices: Weighted) -> Any:
    values, totals = choices
    return values[bisect.bisect(totals, rng.random() * totals[-1])]
