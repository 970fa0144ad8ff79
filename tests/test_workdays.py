"""Tests for desktop_app.domain.workdays.

The calendar facts asserted here were checked against chinesecalendar 1.11.0 (the package's
own ``is_workday``/``get_holiday_detail``) and match the State Council notices.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.domain.statutory_holidays import statutory_days
from desktop_app.domain.workdays import (
    FIRST_YEAR,
    HOLIDAY_NAMES_ZH,
    LAST_YEAR,
    WEEKDAY_NAMES,
    DateOutOfRange,
    DayInfo,
    Deadline,
    HolidayOverride,
    OverrideFormatError,
    WorkdayCalendar,
    parse_overrides_csv,
)
from desktop_app.errors import UserError

D = date
CAL = WorkdayCalendar()
PROVISIONAL_2027 = (
    "2027年的法定节假日安排尚未录入，期限暂定：按《全国年节及纪念日放假办法》推算"
    "（法定假日和周末补假，不含调休），仅供参考"
)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# ---------------------------------------------------------------- package facts and day_info


def test_package_facts_the_tests_rely_on() -> None:
    # Guard: if the package data ever changes, fail here rather than in a confusing place.
    off = [
        *_days(D(2024, 2, 10), D(2024, 2, 17)),
        *_days(D(2025, 10, 1), D(2025, 10, 8)),
        *_days(D(2026, 2, 15), D(2026, 2, 23)),
        *_days(D(2026, 10, 1), D(2026, 10, 7)),
        D(2026, 1, 1),
        D(2026, 1, 2),
    ]
    on = [
        D(2024, 2, 4),
        D(2024, 2, 18),
        D(2025, 9, 28),
        D(2025, 10, 11),
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 9, 20),
        D(2026, 10, 10),
    ]
    assert not any(chinese_calendar.is_workday(d) for d in off)
    assert all(chinese_calendar.is_workday(d) for d in on)


def test_every_package_holiday_name_has_a_chinese_name() -> None:
    for holiday in chinese_calendar.constants.Holiday:
        assert holiday.value in HOLIDAY_NAMES_ZH


def test_2024_spring_festival() -> None:
    for d in _days(D(2024, 2, 10), D(2024, 2, 17)):
        info = CAL.day_info(d)
        assert info == DayInfo(d, False, "春节", "chinesecalendar", True)
    # Sunday 4 Feb and Sunday 18 Feb 2024 were make-up working days.
    for d in (D(2024, 2, 4), D(2024, 2, 18)):
        assert d.weekday() == 6
        assert CAL.day_info(d) == DayInfo(d, True, "调休上班（春节）", "chinesecalendar", True)
    assert CAL.day_info(D(2024, 2, 19)).reason == "工作日"
    assert CAL.day_info(D(2024, 2, 3)).reason == "周末"


def test_2025_national_day() -> None:
    for d in _days(D(2025, 10, 1), D(2025, 10, 8)):
        assert not CAL.is_working_day(d)
    # 2025 Mid-Autumn fell inside the National Day week; the package names 6 Oct after it.
    assert CAL.day_info(D(2025, 10, 6)).reason == "中秋节"
    assert CAL.day_info(D(2025, 10, 1)).reason == "国庆节"
    assert CAL.day_info(D(2025, 9, 28)).reason == "调休上班（国庆节）"  # Sunday
    assert CAL.day_info(D(2025, 10, 11)).reason == "调休上班（国庆节）"  # Saturday
    # 30 Sep + 1 working day skips the whole holiday.
    deadline = CAL.add(D(2025, 9, 30), 1)
    assert deadline.due == D(2025, 10, 9)
    assert [i.day for i in deadline.skipped] == _days(D(2025, 10, 1), D(2025, 10, 8))


def test_2026_spring_festival() -> None:
    # Holiday 15–23 Feb 2026; make-up Saturdays 14 and 28 Feb.
    assert [d for d in _days(D(2026, 2, 1), D(2026, 2, 28)) if not CAL.is_working_day(d)] == [
        D(2026, 2, 1),
        D(2026, 2, 7),
        D(2026, 2, 8),
        *_days(D(2026, 2, 15), D(2026, 2, 23)),
    ]
    assert CAL.day_info(D(2026, 2, 14)).reason == "调休上班（春节）"
    assert CAL.day_info(D(2026, 2, 28)).reason == "调休上班（春节）"
    # Friday 13 Feb + 2: Saturday 14 (make-up) is the first, Tuesday 24 the second.
    deadline = CAL.add(D(2026, 2, 13), 2)
    assert deadline.counted == (D(2026, 2, 14), D(2026, 2, 24))
    assert deadline.due == D(2026, 2, 24)


def test_2026_national_day_deadline_and_proof() -> None:
    deadline = CAL.add(D(2026, 9, 30), 3)
    # 1–7 Oct off, Thu 8 and Fri 9 work, Sat 10 is a make-up working day.
    assert deadline.due == D(2026, 10, 10)
    assert deadline.counted == (D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10))
    assert [i.day for i in deadline.skipped] == _days(D(2026, 10, 1), D(2026, 10, 7))
    assert {i.reason for i in deadline.skipped} == {"国庆节"}
    assert not deadline.provisional
    assert deadline.warnings == ()
    lines = deadline.proof_lines()
    assert len(lines) == 10
    assert lines[0] == "2026-10-01 周四 国庆节 — 不计"
    assert lines[7] == "2026-10-08 周四 工作日 — 第1个工作日"
    assert lines[-1] == "2026-10-10 周六 调休上班（国庆节） — 第3个工作日"


def test_weekday_names() -> None:
    assert WEEKDAY_NAMES[D(2026, 10, 1).weekday()] == "周四"
    assert len(WEEKDAY_NAMES) == 7


def test_day_info_accepts_datetime() -> None:
    assert CAL.day_info(datetime(2026, 10, 1, 9, 30)) == CAL.day_info(D(2026, 10, 1))


def test_known_years() -> None:
    years = CAL.known_years()
    assert set(range(2004, 2027)) <= years
    assert 2027 not in years
    assert CAL.is_known(D(2026, 12, 31))
    assert not CAL.is_known(D(2027, 1, 1))
    assert WorkdayCalendar(extra_known_years=[2027]).is_known(D(2027, 1, 1))


def test_unknown_year_follows_the_law() -> None:
    # 2027 has no State Council schedule here: its days come from the law, and stay guesses.
    assert CAL.day_info(D(2027, 1, 1)) == DayInfo(D(2027, 1, 1), False, "元旦", "law", False)
    assert CAL.day_info(D(2027, 1, 2)) == DayInfo(D(2027, 1, 2), False, "周末", "law", False)
    assert CAL.day_info(D(2027, 1, 4)) == DayInfo(D(2027, 1, 4), True, "工作日", "law", False)
    assert CAL.day_info(D(2027, 2, 9)) == DayInfo(
        D(2027, 2, 9), False, "补假（春节）", "law", False
    )


def test_new_years_day_2027_is_not_a_working_day() -> None:
    # 1 January 2027 is a Friday: a one-day deadline from New Year's Eve runs to Monday 4 January.
    assert CAL.add(D(2026, 12, 31), 1).due == D(2027, 1, 4)
    assert not CAL.is_working_day(D(2027, 1, 1))


def test_working_days_in_month() -> None:
    october = CAL.working_days_in_month(2026, 10)
    assert [i.day for i in october] == _days(D(2026, 10, 1), D(2026, 10, 31))
    assert sum(i.working for i in october) == 18  # 22 weekdays - 5 holidays + 1 make-up Sat
    assert len(CAL.working_days_in_month(2024, 2)) == 29
    with pytest.raises(ValueError):
        CAL.working_days_in_month(2026, 13)


# ---------------------------------------------------------------------------------- add


def test_zero_days_on_a_working_day_is_the_day_itself() -> None:
    deadline = CAL.add(D(2026, 9, 30), 0)
    assert deadline.due == D(2026, 9, 30)
    assert deadline.counted == ()
    assert deadline.skipped == ()
    assert deadline.proof_lines() == ["2026-09-30 周三 工作日 — 期限日"]


def test_zero_days_on_a_holiday_is_the_next_working_day() -> None:
    deadline = CAL.add(D(2026, 10, 1), 0)
    assert deadline.due == D(2026, 10, 8)
    assert deadline.counted == ()
    assert [i.day for i in deadline.skipped] == _days(D(2026, 10, 1), D(2026, 10, 7))
    assert deadline.proof_lines()[-1] == "2026-10-08 周四 工作日 — 期限日"


def test_start_day_is_not_counted() -> None:
    assert CAL.add(D(2026, 9, 29), 1).due == D(2026, 9, 30)
    # A holiday start is not counted either; the count begins the next day.
    assert CAL.add(D(2026, 10, 1), 1).due == D(2026, 10, 8)


def test_across_year_end() -> None:
    deadline = CAL.add(D(2025, 12, 30), 5)
    # 31 Dec; 1–3 Jan 元旦 off; Sun 4 Jan 2026 make-up; then 5, 6, 7 Jan.
    assert deadline.counted == (
        D(2025, 12, 31),
        D(2026, 1, 4),
        D(2026, 1, 5),
        D(2026, 1, 6),
        D(2026, 1, 7),
    )
    assert deadline.due == D(2026, 1, 7)
    assert [(i.day, i.reason) for i in deadline.skipped] == [
        (D(2026, 1, 1), "元旦"),
        (D(2026, 1, 2), "元旦"),
        (D(2026, 1, 3), "元旦"),
    ]
    assert "2026-01-04 周日 调休上班（元旦） — 第2个工作日" in deadline.proof_lines()


def test_into_unknown_year_is_provisional() -> None:
    deadline = CAL.add(D(2026, 12, 28), 10)
    # The law in 2027: 29–31 Dec, 元旦 Fri 1 Jan off, 4–8 Jan, 11–12 Jan.
    assert deadline.due == D(2027, 1, 12)
    assert deadline.provisional
    assert deadline.warnings == (PROVISIONAL_2027,)
    assert "推算" in deadline.proof_lines()[-1]


def test_imported_schedule_makes_the_year_known() -> None:
    overrides = [HolidayOverride(D(2027, 1, 1), False, "元旦")]
    calendar = WorkdayCalendar(overrides, extra_known_years={2027})
    deadline = calendar.add(D(2026, 12, 28), 10)
    assert deadline.due == D(2027, 1, 12)
    assert not deadline.provisional
    assert deadline.warnings == ()
    assert deadline.skipped[0] == DayInfo(D(2027, 1, 1), False, "元旦", "override", True)


def test_single_override_does_not_make_a_year_known() -> None:
    calendar = WorkdayCalendar([HolidayOverride(D(2027, 1, 1), False, "元旦")])
    deadline = calendar.add(D(2026, 12, 28), 10)
    assert deadline.due == D(2027, 1, 12)
    assert deadline.provisional


def test_typhoon_closure_on_a_wednesday_shifts_by_one_day() -> None:
    start = D(2025, 7, 14)  # Monday
    assert CAL.add(start, 5).due == D(2025, 7, 21)
    typhoon = HolidayOverride(D(2025, 7, 16), False, "台风停工")
    assert typhoon.day.weekday() == 2
    calendar = WorkdayCalendar([typhoon])
    deadline = calendar.add(start, 5)
    assert deadline.due == D(2025, 7, 22)
    assert deadline.skipped[0] == DayInfo(typhoon.day, False, "台风停工", "override", True)
    assert "2025-07-16 周三 台风停工 — 不计" in deadline.proof_lines()


def test_make_up_saturday_override_counts() -> None:
    saturday = HolidayOverride(D(2025, 7, 19), True, "调休上班")
    calendar = WorkdayCalendar([saturday])
    deadline = calendar.add(D(2025, 7, 17), 2)  # Thursday
    assert deadline.counted == (D(2025, 7, 18), D(2025, 7, 19))
    assert deadline.proof_lines()[-1] == "2025-07-19 周六 调休上班 — 第2个工作日"


def test_override_wins_over_package() -> None:
    # Even a statutory make-up day can be cancelled locally.
    calendar = WorkdayCalendar([HolidayOverride(D(2026, 10, 10), False, "台风停工")])
    assert calendar.add(D(2026, 9, 30), 3).due == D(2026, 10, 12)


def test_negative_days_raise() -> None:
    with pytest.raises(ValueError, match="负数"):
        CAL.add(D(2026, 1, 5), -1)


def test_conflicting_overrides_raise() -> None:
    with pytest.raises(ValueError, match="矛盾"):
        WorkdayCalendar(
            [
                HolidayOverride(D(2027, 1, 1), False, "元旦"),
                HolidayOverride(D(2027, 1, 1), True, "调休上班"),
            ]
        )


def test_to_json_is_json_safe() -> None:
    deadline = CAL.add(D(2026, 12, 30), 3)
    data = deadline.to_json()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["start"] == "2026-12-30"
    assert data["due"] == "2027-01-05"
    assert data["counted"] == ["2026-12-31", "2027-01-04", "2027-01-05"]
    assert data["skipped"] == [
        {"day": "2027-01-01", "reason": "元旦"},
        {"day": "2027-01-02", "reason": "周末"},
        {"day": "2027-01-03", "reason": "周末"},
    ]
    assert data["provisional"] is True
    assert data["warnings"] == [PROVISIONAL_2027]
    assert data["calendar_version"] == CAL.version


def test_proof_without_days_field_is_rebuilt() -> None:
    full = CAL.add(D(2026, 9, 30), 3)
    bare = Deadline(
        full.start,
        full.working_days,
        full.due,
        full.counted,
        full.skipped,
        full.provisional,
        full.warnings,
        full.calendar_version,
    )
    assert len(bare.proof_lines()) == len(full.proof_lines())
    assert bare.proof_lines()[0] == full.proof_lines()[0]


def test_version_is_stable_and_tracks_overrides() -> None:
    a = HolidayOverride(D(2027, 1, 1), False, "元旦")
    b = HolidayOverride(D(2027, 2, 6), True, "调休上班")
    v1 = WorkdayCalendar([a, b]).version
    assert v1 == WorkdayCalendar([b, a]).version
    assert v1.startswith(f"chinesecalendar-{chinese_calendar.__version__}+overrides-")
    assert len(v1.rsplit("-", 1)[1]) == 8
    assert v1 != WorkdayCalendar([a]).version
    assert WorkdayCalendar().version == CAL.version
    assert CAL.add(D(2026, 1, 5), 1).calendar_version == CAL.version


# ------------------------------------------- the law, for years without a State Council schedule


def _law_off_days(year: int) -> set[date]:
    return set(statutory_days(year))


def _off_days(calendar: WorkdayCalendar, year: int) -> set[date]:
    return {d for d in _days(D(year, 1, 1), D(year, 12, 31)) if not calendar.is_working_day(d)}


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_law_gives_every_day_off_of_the_state_council_notices(year: int) -> None:
    # The package holds the notices of 2025 and 2026 (国办发明电〔2024〕12号, 〔2025〕7号).
    # The law cannot know the 调休 swaps, so: every day the law gives off is off in the notice,
    # and every other weekday the notice gives off is paid for by one weekend working day.
    notice_off = _off_days(CAL, year)
    law_off = _law_off_days(year)
    assert law_off <= notice_off, sorted(law_off - notice_off)
    swapped_off = {d for d in notice_off - law_off if d.weekday() < 5}
    weekend_work = {
        d
        for d in _days(D(year, 1, 1), D(year, 12, 31))
        if d.weekday() >= 5 and CAL.is_working_day(d)
    }
    assert len(swapped_off) == len(weekend_work)
    # The holiday named by the law is the one the notice names, day by day.
    for day, statutory in statutory_days(year).items():
        if not statutory.make_up:
            assert statutory.holiday in CAL.day_info(day).reason, day


def test_the_law_computes_the_2025_and_2026_make_up_days() -> None:
    make_up = {
        d: s.holiday for y in (2025, 2026) for d, s in statutory_days(y).items() if s.make_up
    }
    assert make_up == {
        D(2025, 6, 2): "端午节",  # 端午 on Saturday 31 May
        D(2026, 4, 6): "清明节",  # 清明 on Sunday 5 April
        D(2026, 5, 4): "劳动节",  # 2 May is a Saturday
        D(2026, 10, 5): "国庆节",  # 3 October is a Saturday
    }


def test_statutory_days_of_2027() -> None:
    days = {d: (s.holiday, s.make_up) for d, s in statutory_days(2027).items()}
    assert days == {
        D(2027, 1, 1): ("元旦", False),  # Friday
        D(2027, 2, 5): ("春节", False),  # 除夕, Friday
        D(2027, 2, 6): ("春节", False),  # 正月初一
        D(2027, 2, 7): ("春节", False),
        D(2027, 2, 8): ("春节", False),  # 正月初三
        D(2027, 2, 9): ("春节", True),  # for 初一 on Saturday
        D(2027, 2, 10): ("春节", True),  # for 初二 on Sunday
        D(2027, 4, 5): ("清明节", False),  # the solar term, Monday
        D(2027, 5, 1): ("劳动节", False),  # Saturday
        D(2027, 5, 2): ("劳动节", False),  # Sunday
        D(2027, 5, 3): ("劳动节", True),
        D(2027, 5, 4): ("劳动节", True),
        D(2027, 6, 9): ("端午节", False),  # 五月初五
        D(2027, 9, 15): ("中秋节", False),  # 八月十五
        D(2027, 10, 1): ("国庆节", False),  # Friday
        D(2027, 10, 2): ("国庆节", False),
        D(2027, 10, 3): ("国庆节", False),
        D(2027, 10, 4): ("国庆节", True),
        D(2027, 10, 5): ("国庆节", True),
    }
    assert _off_days(CAL, 2027) == _law_off_days(2027) | {
        d for d in _days(D(2027, 1, 1), D(2027, 12, 31)) if d.weekday() >= 5
    }


def test_a_lunar_holiday_on_a_statutory_day_is_made_up_too() -> None:
    # 2028: 中秋 falls on 3 October and 1 October is a Sunday. As in 2020 (中秋 on 1 October),
    # the day that serves two holidays is made up once more.
    days = {d: (s.holiday, s.make_up) for d, s in statutory_days(2028).items() if d.month == 10}
    assert days == {
        D(2028, 10, 1): ("国庆节", False),
        D(2028, 10, 2): ("国庆节", False),
        D(2028, 10, 3): ("国庆节、中秋节", False),
        D(2028, 10, 4): ("国庆节", True),
        D(2028, 10, 5): ("中秋节", True),
    }
    assert CAL.day_info(D(2028, 10, 5)).reason == "补假（中秋节）"


def test_an_imported_year_uses_its_schedule_not_the_law() -> None:
    calendar = WorkdayCalendar([HolidayOverride(D(2027, 1, 1), False, "元旦")], {2027})
    assert calendar.is_working_day(D(2027, 2, 5))  # 除夕: the imported notice did not list it
    assert calendar.day_info(D(2027, 2, 5)).known


def test_the_law_moves_the_calendar_version() -> None:
    # The version is stored with each deadline as evidence: it must name the law's rules too.
    assert CAL.version.startswith(f"chinesecalendar-{chinese_calendar.__version__}+overrides-")
    assert WorkdayCalendar().version == CAL.version


# ------------------------------------------------------------------------- the engine's range


@pytest.mark.parametrize(
    ("start", "days"),
    [(D(1, 1, 1), 1), (D(9999, 12, 31), 1), (D(9999, 12, 30), 5), (D(2003, 12, 31), 0)],
)
def test_dates_outside_the_range_are_refused_plainly(start: date, days: int) -> None:
    with pytest.raises(DateOutOfRange) as caught:
        CAL.add(start, days)
    assert isinstance(caught.value, UserError) and isinstance(caught.value, ValueError)
    assert f"{FIRST_YEAR}年至{LAST_YEAR}年" in caught.value.message
    assert start.isoformat() in caught.value.message


def test_a_deadline_running_past_the_range_is_refused() -> None:
    with pytest.raises(DateOutOfRange, match="2101-01-01"):
        CAL.add(D(LAST_YEAR, 12, 30), 5)
    assert CAL.add(D(LAST_YEAR, 12, 1), 5).due.year == LAST_YEAR


def test_between_and_months_outside_the_range_are_refused() -> None:
    assert (FIRST_YEAR, LAST_YEAR) == (2004, 2100)
    with pytest.raises(DateOutOfRange):
        CAL.between(D(1, 1, 1), D(1, 1, 10))
    with pytest.raises(DateOutOfRange):
        CAL.between(D(9999, 12, 20), D(9999, 12, 31))
    with pytest.raises(DateOutOfRange):
        CAL.working_days_in_month(9999, 12)
    assert WorkdayCalendar(extra_known_years=[2101]).is_working_day(D(2101, 1, 3))  # imported


# ------------------------------------------------------------------------------ count_between


def test_count_between_carries_the_proof_and_says_provisional() -> None:
    span = CAL.count_between(D(2026, 12, 30), D(2027, 1, 5))
    assert span.working_days == 3 == CAL.between(D(2026, 12, 30), D(2027, 1, 5))
    assert span.counted == (D(2026, 12, 31), D(2027, 1, 4), D(2027, 1, 5))
    assert [(i.day, i.reason) for i in span.skipped] == [
        (D(2027, 1, 1), "元旦"),
        (D(2027, 1, 2), "周末"),
        (D(2027, 1, 3), "周末"),
    ]
    assert span.provisional and span.warnings == (PROVISIONAL_2027,)
    assert span.proof_lines()[0] == "2026-12-31 周四 工作日 — 第1个工作日"
    assert span.proof_lines()[1].startswith("2027-01-01 周五 元旦 — 不计（暂定")
    data = span.to_json()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["working_days"] == 3 and data["provisional"] is True
    assert data["start"] == "2026-12-30" and data["end"] == "2027-01-05"
    assert data["calendar_version"] == CAL.version


def test_count_between_in_a_known_year_and_backwards() -> None:
    span = CAL.count_between(D(2026, 10, 10), D(2026, 9, 30))
    assert span.working_days == -3 == CAL.between(D(2026, 10, 10), D(2026, 9, 30))
    assert not span.provisional and span.warnings == ()
    assert span.counted == (D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10))
    assert len(span.proof_lines()) == 10
    assert CAL.count_between(D(2026, 9, 30), D(2026, 9, 30)).proof_lines() == []


# ------------------------------------------------------------------------------ between


def test_between() -> None:
    assert CAL.between(D(2026, 9, 30), D(2026, 9, 30)) == 0
    assert CAL.between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert CAL.between(D(2026, 10, 10), D(2026, 9, 30)) == -3
    assert CAL.between(D(2026, 10, 1), D(2026, 10, 7)) == 0
    assert CAL.between(D(2025, 12, 30), D(2026, 1, 7)) == 5


def test_between_is_inverse_of_add() -> None:
    for start in _days(D(2026, 9, 15), D(2026, 10, 15)):
        for n in range(1, 15):
            assert CAL.between(start, CAL.add(start, n).due) == n


# ------------------------------------------------------------------------------------ CSV


def test_parse_csv_chinese_header() -> None:
    text = (
        "\ufeff日期,是否上班,名称\n"
        "# 2027年安排（国务院办公厅通知）\n"
        "\n"
        "2027-01-01,否,元旦\n"
        "2027/2/6,上班,调休上班\n"
        "2027/2/7,是,调休上班\n"
        "2027-07-16,休息,台风停工\n"
        "2027-07-17,1,\n"
        '2027-07-18,0,"停电, 全楼停工"\n'
    )
    assert parse_overrides_csv(text) == [
        HolidayOverride(D(2027, 1, 1), False, "元旦"),
        HolidayOverride(D(2027, 2, 6), True, "调休上班"),
        HolidayOverride(D(2027, 2, 7), True, "调休上班"),
        HolidayOverride(D(2027, 7, 16), False, "台风停工"),
        HolidayOverride(D(2027, 7, 17), True, "调休上班"),
        HolidayOverride(D(2027, 7, 18), False, "停电, 全楼停工"),
    ]


def test_parse_csv_english_header_and_full_width_commas() -> None:
    assert parse_overrides_csv("date,working,name\n2027-10-09,TRUE,调休上班\n") == [
        HolidayOverride(D(2027, 10, 9), True, "调休上班")
    ]
    assert parse_overrides_csv("日期，是否上班，名称\n2027-10-01，false，国庆节") == [
        HolidayOverride(D(2027, 10, 1), False, "国庆节")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "日期,是否上班,名称\n2027-01-01,否,元旦\n2027-02-30,否,春节",
            "第3行：日期“2027-02-30”无效",
        ),
        ("日期,是否上班,名称\n2027.13.01,否,元旦", "第2行：日期“2027.13.01”无效"),
        ("日期,是否上班,名称\n明年元旦,否,元旦", "第2行：日期“明年元旦”无法识别"),
        ("日期,是否上班,名称\n2027-01-01,也许,元旦", "第2行：是否上班“也许”无法识别"),
        ("日期,是否上班,名称\n2027-01-01", "第2行：缺少内容"),
        ("日期,是否上班,名称\n2027-01-01,否,元旦,多余", "第2行：列数过多"),
        (
            "日期,是否上班,名称\n2027-01-01,否,元旦\n\n2027-1-1,否,元旦",
            "第4行：日期2027-01-01与第2行重复",
        ),
        ("年月日,上班否\n2027-01-01,否", "第1行：表头应为"),
    ],
)
def test_parse_csv_bad_lines(text: str, message: str) -> None:
    with pytest.raises(OverrideFormatError) as excinfo:
        parse_overrides_csv(text)
    assert str(excinfo.value).startswith(message)
    assert isinstance(excinfo.value, ValueError)


def test_parse_csv_feeds_the_calendar() -> None:
    overrides = parse_overrides_csv("日期,是否上班,名称\n2027-01-01,否,元旦\n")
    calendar = WorkdayCalendar(overrides, extra_known_years={2027})
    assert calendar.day_info(D(2027, 1, 1)).reason == "元旦"


# --------------------------------------------------------------------- properties and speed


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=D(2020, 1, 1), max_value=D(2026, 12, 31)),
    n=st.integers(min_value=0, max_value=60),
)
def test_add_properties(start: date, n: int) -> None:
    deadline = CAL.add(start, n)
    assert CAL.is_working_day(deadline.due)
    assert len(deadline.counted) == n
    assert all(CAL.is_working_day(d) for d in deadline.counted)
    assert not {i.day for i in deadline.skipped} & set(deadline.counted)
    assert all(not i.working for i in deadline.skipped)
    assert list(deadline.counted) == sorted(deadline.counted)
    if n >= 1:
        assert CAL.between(start, deadline.due) == n
        assert deadline.counted[-1] == deadline.due
        assert start < deadline.due
        # Every day in (start, due] is either counted or skipped, exactly once.
        assert len(deadline.counted) + len(deadline.skipped) == (deadline.due - start).days
        assert len(deadline.proof_lines()) == (deadline.due - start).days
    else:
        assert deadline.due >= start
        assert deadline.due == start or not CAL.is_working_day(start)
        assert CAL.between(start, deadline.due) == (0 if deadline.due == start else 1)
    assert deadline.provisional == (deadline.due.year > 2026)


# The speed of ``add`` (10,000 deadlines) is measured by ``python tasks.py bench``:
# workdays_add_10000_ms.
