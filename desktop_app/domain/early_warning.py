"""苗头性、倾向性问题: when matters of one department × area × cause rise significantly.

The rule is a one-sided Poisson test. For each key, the previous ``months`` months give a rate
λ (their mean, floored at ``min_rate`` so that a key never seen before does not fire on two
matters); this month's count ``k`` is surprising when P(X ≥ k | λ) is below ``p_threshold``.
A warning also needs ``k`` at least ``min_volume`` and above the baseline: a person decides what
to make of it, so every number the decision rests on is kept (:class:`Warning`).

Two cautions keep it honest. A month still running is compared with the same share of the
earlier months (``share``: by the 10th of a 30-day month, a third of their mean), not with whole
months. And only months the site was keeping records count as history (``since``): months before
its first matter are not zeros, and with fewer than ``MIN_HISTORY_MONTHS`` of them nothing is
judged (a new site would otherwise fire on any five matters).

Pure: no storage, no Qt. The service counts the cases; this module only judges the counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_HISTORY_MONTHS = 6
DEFAULT_P_PER_MILLE = 10  # p < 0.01
DEFAULT_MIN_VOLUME = 5
# A key with no history still has some chance of a matter a month: without a floor, λ = 0 would
# make any count "impossible" and fire.
DEFAULT_MIN_RATE = 0.5
# Fewer months of records than this: too little history to call anything a rise.
MIN_HISTORY_MONTHS = 3


@dataclass(frozen=True)
class WarningKey:
    """What is counted together: one department (None: none known), one area, one cause code."""

    department_id: int | None
    area: str
    cause: str


@dataclass(frozen=True)
class Thresholds:
    history_months: int = DEFAULT_HISTORY_MONTHS
    p_threshold: float = DEFAULT_P_PER_MILLE / 1000
    min_volume: int = DEFAULT_MIN_VOLUME
    min_rate: float = DEFAULT_MIN_RATE


@dataclass(frozen=True)
class Warning:
    """A rise, with the numbers that show why: this month's count, the expected count λ the test
    used (the earlier months' mean, floored at the minimum rate, times the share of the month
    gone by), how many months that mean used, and P(X ≥ count | λ), so the P shown can be
    checked from the numbers beside it."""

    key: WarningKey
    month: str
    count: int
    baseline: float
    months: int
    p_value: float


def poisson_upper_tail(k: int, rate: float) -> float:
    """P(X ≥ k) for X ~ Poisson(rate).

    Summed as 1 − P(X ≤ k − 1) when that is not close to 1, otherwise directly over the upper
    terms (so a tiny tail keeps its precision); each term is computed in logs, exp(−λ) λ^i / i!,
    so a large rate does not overflow.
    """
    if k <= 0:
        return 1.0
    if rate <= 0:
        return 0.0
    log_rate = math.log(rate)

    def term(i: int) -> float:
        return math.exp(i * log_rate - rate - math.lgamma(i + 1))

    if k <= rate:
        # The lower part is the smaller: 1 − Σ_{i<k}.
        lower = math.fsum(term(i) for i in range(k))
        return max(0.0, min(1.0, 1.0 - lower))
    # Terms fall from i = k on (i > λ): sum until they no longer count.
    terms: list[float] = []
    i = k
    while True:
        t = term(i)
        terms.append(t)
        if t < 1e-17 * max(terms[0], 1e-300) or i > k + 10_000:
            break
        i += 1
    return min(1.0, math.fsum(terms))


def judge(
    key: WarningKey,
    month: str,
    count: int,
    history: Iterable[int],
    thresholds: Thresholds,
    *,
    share: float = 1.0,
) -> Warning | None:
    """The warning for ``key`` this month, or None when the count is not a significant rise.

    ``history``: the counts of the previous months the site kept records in (a month with no
    matter counts as 0); fewer than ``MIN_HISTORY_MONTHS`` judge nothing. ``share``: how much
    of ``month`` has gone by (1 for a whole month).
    """
    earlier = list(history)
    months = len(earlier)
    if months < MIN_HISTORY_MONTHS:
        return None
    mean = sum(earlier) / months
    baseline = max(mean, thresholds.min_rate) * share
    if count < thresholds.min_volume or count <= baseline:
        return None
    p_value = poisson_upper_tail(count, baseline)
    if p_value >= thresholds.p_threshold:
        return None
    return Warning(
        key=key, month=month, count=count, baseline=baseline, months=months, p_value=p_value
    )


def scan(
    counts: Mapping[WarningKey, Mapping[str, int]],
    month: str,
    thresholds: Thresholds,
    *,
    share: float = 1.0,
    since: str | None = None,
) -> list[Warning]:
    """Every warning for ``month``, strongest first.

    ``counts``: per key, the number of matters by month ("2026-12"); months missing count 0.
    ``since``: the first month the site kept records in (earlier months are not history).
    ``share``: how much of ``month`` has gone by.
    """
    earlier = [
        m for m in previous_months(month, thresholds.history_months) if since is None or m >= since
    ]
    warnings: list[Warning] = []
    for key, by_month in counts.items():
        count = by_month.get(month, 0)
        found = judge(
            key, month, count, (by_month.get(m, 0) for m in earlier), thresholds, share=share
        )
        if found is not None:
            warnings.append(found)
    warnings.sort(key=lambda w: (w.p_value, -w.count))
    return warnings


def month_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def previous_months(month: str, n: int) -> list[str]:
    """The ``n`` months before ``month`` ("2026-12"), oldest first."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1
    return [month_of(i // 12, i % 12 + 1) for i in range(index - n, index)]


def explain(warning: Warning) -> str:
    """Why it fired, as the page shows it: 本月 6 件，前6个月同期平均 1.2 件，P=0.0036 (同期: the
    same share of each earlier month as has gone by of this one)."""
    return (
        f"本月 {warning.count} 件，前{warning.months}个月同期平均 {warning.baseline:.1f} 件，"
        f"P{format_p(warning.p_value)}"
    )


def format_p(p_value: float) -> str:
    """ "=0.0045", or "<0.0001" for a smaller P (more digits would say nothing more)."""
    if p_value < 0.0001:
        return "<0.0001"
    return f"={p_value:.4f}"
