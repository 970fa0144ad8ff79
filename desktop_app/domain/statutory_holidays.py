"""The statutory days off of 《全国年节及纪念日放假办法》, for years no schedule covers yet.

The State Council publishes each year's schedule (放假安排) in November or December; until a
year's schedule is known (from the ``chinesecalendar`` package or imported by the administrator)
its working days follow the law as revised in force since 1 January 2025:

- Article 2, the holidays for all citizens: 元旦 1 January; 春节 除夕 to 正月初三 (four days);
  清明节 the day of the 清明 solar term; 劳动节 1–2 May; 端午节 五月初五; 中秋节 八月十五;
  国庆节 1–3 October.
- Article 6: such a day that falls on a Saturday or Sunday is made up (补假) on a working day —
  here the next working day(s) after the holiday, as the State Council has always done.

The law does not say what happens when two holidays fall on one day (中秋 on a 国庆 day); in 2020
(中秋 on 1 October) the State Council gave that day once more, and so does this module. The 调休
swaps of a real schedule (a weekend worked to join a holiday to a weekend) cannot be derived from
the law: a year computed here stays provisional (暂定) until its schedule is entered.

Lunar dates and the solar term come from ``lunar_python`` (pure Python, MIT licence), which
computes them in Beijing time; nothing here is a table typed by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lunar_python import Solar  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "LAW_FIRST_YEAR",
    "LAW_LAST_YEAR",
    "LAW_RULES",
    "StatutoryDay",
    "statutory_days",
]

# The revised law is in force from 2025. The last year is where the engine stops trusting a
# computation: the law may be revised again, and a county office never counts that far ahead.
LAW_FIRST_YEAR = 2025
LAW_LAST_YEAR = 2100

# Names the rules this module implements; part of the calendar version stored with a deadline.
LAW_RULES = "放假办法2025"

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class StatutoryDay:
    """One day off under the law.

    Attributes:
        day: The date.
        holiday: The holiday, e.g. "国庆节"; two names joined by "、" when holidays coincide.
        make_up: True for a day given under article 6 for a holiday day on a weekend (补假).
    """

    day: date
    holiday: str
    make_up: bool

    @property
    def reason(self) -> str:
        """The Chinese reason shown in a proof: "国庆节" or "补假（国庆节）"."""
        return f"补假（{self.holiday}）" if self.make_up else self.holiday


def _solar(solar: Solar) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _lunar_day(year: int, month: int, day: int) -> date:
    """The Gregorian date of a day of the lunar year ``year`` (a non-leap month)."""
    # Imported when a year needs it (its tables take ~40 ms to load, at every start otherwise).
    from lunar_python import Lunar  # type: ignore[import-untyped,unused-ignore]

    return _solar(Lunar.fromYmd(year, month, day).getSolar())


def _qingming(year: int) -> date:
    # The 清明 of the Gregorian year: the table of the lunar year in progress on 15 April holds it.
    from lunar_python import Solar  # type: ignore[import-untyped,unused-ignore]

    return _solar(Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"])


def _holidays(year: int) -> list[tuple[str, list[date]]]:
    """Article 2's holidays of ``year``, each with its days, in the order of the year."""
    spring = _lunar_day(year, 1, 1)
    holidays = [
        ("元旦", [date(year, 1, 1)]),
        ("春节", [spring - _ONE_DAY + timedelta(days=i) for i in range(4)]),  # 除夕 to 初三
        ("清明节", [_qingming(year)]),
        ("劳动节", [date(year, 5, 1), date(year, 5, 2)]),
        ("端午节", [_lunar_day(year, 5, 5)]),
        ("中秋节", [_lunar_day(year, 8, 15)]),
        ("国庆节", [date(year, 10, i) for i in (1, 2, 3)]),
    ]
    holidays.sort(key=lambda item: (item[1][0], item[1][-1]))
    return holidays


@functools.lru_cache(maxsize=64)
def statutory_days(year: int) -> Mapping[date, StatutoryDay]:
    """Every day off the law gives in ``year``: holidays and their make-up days.

    Weekends are not included (they are off anyway) unless a holiday falls on one.

    Args:
        year: A year from :data:`LAW_FIRST_YEAR` to :data:`LAW_LAST_YEAR`.

    Returns:
        A read-only mapping from date to :class:`StatutoryDay`, in date order.

    Raises:
        ValueError: ``year`` lies outside the years the law is computed for.
    """
    if not LAW_FIRST_YEAR <= year <= LAW_LAST_YEAR:
        raise ValueError(
            f"{year}年不在按放假办法推算的范围内（{LAW_FIRST_YEAR}年至{LAW_LAST_YEAR}年）"
        )
    holidays = _holidays(year)
    names: dict[date, list[str]] = {}
    for name, days in holidays:
        for day in days:
            names.setdefault(day, []).append(name)
    result: dict[date, StatutoryDay] = {
        day: StatutoryDay(day, "、".join(held), make_up=False) for day, held in names.items()
    }
    for name, days in holidays:
        # A day of this holiday on a weekend, or already another holiday's (the first holiday
        # named keeps it), is owed: given on the next working days after the holiday.
        owed = sum(1 for day in days if day.weekday() >= 5 or names[day][0] != name)
        day = days[-1]
        while owed:
            day += _ONE_DAY
            if day.weekday() < 5 and day not in result:
                result[day] = StatutoryDay(day, name, make_up=True)
                owed -= 1
    return MappingProxyType(dict(sorted(result.items())))
