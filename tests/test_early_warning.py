"""The early-warning rule (苗头性、倾向性问题) on hand-built counts; the Poisson tail it uses."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import pytest

from desktop_app.domain.early_warning import (
    Thresholds,
    WarningKey,
    explain,
    judge,
    poisson_upper_tail,
    previous_months,
    scan,
)

KEY = WarningKey(department_id=3, area="住房保障", cause="process")


def exact_upper_tail(k: int, rate: str) -> float:
    """P(X ≥ k) summed in 60-digit decimals, as 1 − Σ_{i<k} e^−λ λ^i / i!: the oracle."""
    getcontext().prec = 60
    lam = Decimal(rate)
    total = Decimal(0)
    term = (-lam).exp()
    for i in range(k):
        total += term
        term = term * lam / (i + 1)
    return float(1 - total)


@pytest.mark.parametrize(
    ("k", "rate", "expected"),
    [
        (0, 3.0, 1.0),
        (1, 1.0, 1 - math.exp(-1)),
        (2, 2.0, 1 - 3 * math.exp(-2)),
        # 1 − e^−1 (1 + 1 + 1/2 + 1/6 + 1/24)
        (5, 1.0, 1 - math.exp(-1) * (1 + 1 + 1 / 2 + 1 / 6 + 1 / 24)),
    ],
)
def test_poisson_tail_closed_forms(k: int, rate: float, expected: float) -> None:
    assert poisson_upper_tail(k, rate) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("k", "rate"),
    [(3, "0.5"), (10, "2"), (12, "5"), (5, "5"), (40, "30"), (100, "50"), (30, "1.2")],
)
def test_poisson_tail_against_exact_sums(k: int, rate: str) -> None:
    assert poisson_upper_tail(k, float(rate)) == pytest.approx(exact_upper_tail(k, rate), rel=1e-9)


def test_poisson_tail_at_a_large_rate_does_not_overflow() -> None:
    # Mean 1000: 1000 or more is a little under a half; 1200 or more is vanishingly rare.
    assert 0.49 < poisson_upper_tail(1000, 1000.0) < 0.51
    assert 0 < poisson_upper_tail(1200, 1000.0) < 1e-9


def test_a_sharp_rise_fires_and_keeps_its_numbers() -> None:
    # About one a month for half a year, then eight.
    warning = judge(KEY, "2026-12", 8, [1, 0, 2, 1, 1, 1], Thresholds())
    assert warning is not None
    assert warning.count == 8
    assert warning.baseline == pytest.approx(1.0)
    assert warning.months == 6
    assert warning.p_value == pytest.approx(exact_upper_tail(8, "1"), rel=1e-9)
    assert warning.p_value < 0.01
    assert explain(warning) == "本月 8 件，前6个月同期平均 1.0 件，P<0.0001"
    assert explain(judge(KEY, "2026-12", 6, [1] * 6, Thresholds())) == (  # type: ignore[arg-type]
        "本月 6 件，前6个月同期平均 1.0 件，P=0.0006"
    )


def test_low_volume_does_not_fire_however_unusual() -> None:
    # Three against nothing at all is P ≈ 0.014 at the floor rate, but below the minimum volume
    # of five a person would only be bothered.
    assert judge(KEY, "2026-12", 3, [0] * 6, Thresholds(p_threshold=0.05)) is None
    assert judge(KEY, "2026-12", 4, [0] * 6, Thresholds()) is None


def test_a_usual_month_does_not_fire() -> None:
    # A busy key: about seven a month, seven this month.
    assert judge(KEY, "2026-12", 7, [6, 8, 7, 5, 9, 7], Thresholds()) is None
    # Above the mean but within what such a key does.
    assert judge(KEY, "2026-12", 10, [6, 8, 7, 5, 9, 7], Thresholds()) is None


def test_a_count_at_the_baseline_never_fires() -> None:
    assert judge(KEY, "2026-12", 5, [5] * 6, Thresholds(p_threshold=0.99)) is None


def test_the_floor_keeps_a_new_key_from_firing_on_a_handful() -> None:
    # Never seen before: λ is the floor 0.5, not 0, so five matters give P ≈ 1.7e-4, not 0.
    warning = judge(KEY, "2026-12", 5, [0] * 6, Thresholds())
    assert warning is not None
    assert warning.baseline == 0.5
    assert warning.p_value == pytest.approx(exact_upper_tail(5, "0.5"), rel=1e-9)


def test_thresholds_are_honoured() -> None:
    history = [2, 2, 2, 2, 2, 2]
    # P(X ≥ 7 | 2) ≈ 0.0045: fires at 0.01, not at 0.001; not with a minimum volume of 8.
    assert judge(KEY, "2026-12", 7, history, Thresholds(p_threshold=0.01)) is not None
    assert judge(KEY, "2026-12", 7, history, Thresholds(p_threshold=0.001)) is None
    assert judge(KEY, "2026-12", 7, history, Thresholds(min_volume=8)) is None


def test_scan_uses_the_months_before_and_missing_months_count_zero() -> None:
    rising = WarningKey(department_id=1, area="不动产登记", cause="style")
    steady = WarningKey(department_id=2, area="社会保障", cause="policy")
    counts = {
        # Only two months on record (the others are zero), then nine this month.
        rising: {"2026-07": 1, "2026-09": 1, "2026-12": 9},
        steady: {m: 6 for m in previous_months("2026-12", 6)} | {"2026-12": 7},
    }
    warnings = scan(counts, "2026-12", Thresholds())
    assert [w.key for w in warnings] == [rising]
    # The mean, 2/6, is below the floor: the test (and the number shown) uses the floor.
    assert warnings[0].baseline == 0.5
    assert warnings[0].months == 6


def test_previous_months_cross_the_year() -> None:
    assert previous_months("2026-02", 3) == ["2025-11", "2025-12", "2026-01"]


def test_a_month_still_running_is_compared_with_the_same_share_of_earlier_months() -> None:
    """Ten days into a month, six matters against a usual twelve a month is not a rise; at the
    month's end it would be well below; but twelve in the first ten days is."""
    usual = {m: 12 for m in previous_months("2026-12", 6)}
    early_quiet = scan({KEY: usual | {"2026-12": 6}}, "2026-12", Thresholds(), share=10 / 31)
    assert early_quiet == []
    early_rise = scan({KEY: usual | {"2026-12": 12}}, "2026-12", Thresholds(), share=10 / 31)
    assert [w.count for w in early_rise] == [12]
    assert early_rise[0].baseline == pytest.approx(12 * 10 / 31)
    # Judged against whole months, the same twelve would be nothing at all.
    assert scan({KEY: usual | {"2026-12": 12}}, "2026-12", Thresholds()) == []


def test_months_before_the_sites_first_matter_are_not_history() -> None:
    """A new site: five matters in its second month must not fire against four "empty" months
    it never kept; with three months of its own records, a real rise does."""
    new_site = {KEY: {"2026-11": 1, "2026-12": 5}}
    assert scan(new_site, "2026-12", Thresholds()) != []  # what counting zeros would say
    assert scan(new_site, "2026-12", Thresholds(), since="2026-11") == []
    kept = {KEY: {"2026-09": 1, "2026-10": 0, "2026-11": 1, "2026-12": 6}}
    [warning] = scan(kept, "2026-12", Thresholds(), since="2026-09")
    assert warning.months == 3
