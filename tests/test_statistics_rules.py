"""The report formulas on hand-computed cases (issue 17)."""

from __future__ import annotations

from datetime import date

import pytest

from desktop_app.domain.statistics import Rate, Round, on_time_rate, percentile, ranked

TODAY = date(2026, 11, 25)


def test_open_matters_past_their_deadline_count_against_the_rate() -> None:
    rounds = [
        Round(date(2026, 11, 10), date(2026, 11, 10), date(2026, 11, 9)),  # on time
        Round(date(2026, 11, 10), date(2026, 11, 10), date(2026, 11, 12)),  # late
        Round(date(2026, 11, 20), date(2026, 11, 20), None),  # open, already overdue
        Round(date(2026, 11, 30), date(2026, 11, 30), None),  # open, not yet due: not counted
    ]
    assert on_time_rate(rounds, TODAY) == Rate(1, 3)
    assert on_time_rate(rounds, TODAY).text() == "33.3%（1/3）"


def test_an_extension_counts_against_the_deadline_in_force_and_the_original_is_kept() -> None:
    extended = [Round(date(2026, 11, 20), date(2026, 11, 13), date(2026, 11, 18))]
    assert on_time_rate(extended, TODAY) == Rate(1, 1)
    assert on_time_rate(extended, TODAY, original=True) == Rate(0, 1)


def test_rounds_grouped_by_their_dates_count_as_many_as_they_stand_for() -> None:
    """The database hands rounds grouped by (deadline, original, finished): a group of three
    is three rounds, exactly as three single ones."""
    single = [
        Round(date(2026, 11, 10), date(2026, 11, 10), date(2026, 11, 12)),  # late
        Round(date(2026, 11, 10), date(2026, 11, 10), date(2026, 11, 9)),  # on time
        Round(date(2026, 11, 10), date(2026, 11, 10), date(2026, 11, 9)),
        Round(date(2026, 11, 10), date(2026, 11, 10), date(2026, 11, 9)),
        Round(date(2026, 11, 20), date(2026, 11, 20), None),  # open, overdue
        Round(date(2026, 11, 20), date(2026, 11, 20), None),
    ]
    grouped = [
        Round(date(2026, 11, 10), date(2026, 11, 10), date(2026, 11, 12)),
        Round(date(2026, 11, 10), date(2026, 11, 10), date(2026, 11, 9), count=3),
        Round(date(2026, 11, 20), date(2026, 11, 20), None, count=2),
    ]
    assert on_time_rate(grouped, TODAY) == on_time_rate(single, TODAY) == Rate(3, 6)


def test_nothing_counted_is_not_a_percentage() -> None:
    assert on_time_rate([], TODAY).value is None
    assert Rate(0, 0).text() == "—（0/0）"


def test_percentiles_name_a_value_that_occurred() -> None:
    days = [1, 2, 3, 4, 5, 6, 7, 8, 9, 20]
    assert percentile(days, 50) == 5
    assert percentile(days, 90) == 9
    assert percentile(days, 100) == 20
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(days, 101)


def test_rankings_leave_out_tiny_departments() -> None:
    volumes = {"医保局": 20, "不动产中心": 12, "小单位": 2}
    scores: dict[str, float | None] = {"医保局": 0.8, "不动产中心": 0.95, "小单位": 1.0}
    assert ranked(volumes, scores, minimum=5) == ["不动产中心", "医保局"]
