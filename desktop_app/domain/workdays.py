"""Chinese working-day arithmetic for statutory deadlines (“N个工作日内”).

A deadline of “N working days from D” is the N-th working day after D; D itself is never
counted. N=0 means D when D is a working day, otherwise the next working day.

Which days are working days:

1. A site override (:class:`HolidayOverride`) wins over everything else: a local typhoon
   closure, or next year's schedule typed in from the State Council notice before the
   ``chinesecalendar`` package knows it.
2. For the years the ``chinesecalendar`` package knows, its data: weekends and statutory
   holidays are off, make-up working days (调休上班) are on.
3. A year whose schedule was imported (``extra_known_years``): its overrides, and Monday–Friday
   on for the days the schedule does not list.
4. Otherwise the law (:mod:`desktop_app.domain.statutory_holidays`): the statutory holidays of
   《全国年节及纪念日放假办法》 and their make-up days (补假) are off, other weekdays on. The result
   is *provisional* (暂定) and carries a warning, because the State Council's swaps (调休) of that
   year are not yet known.

The engine computes the years from the first the package knows (2004) to 2100
(:data:`FIRST_YEAR`, :data:`LAST_YEAR`), plus any imported year; a date outside them is a typing
error more often than not, and is refused with :class:`DateOutOfRange`.

Everything here is pure Python and immutable once built, so a calendar can be shared between
threads and the results can be stored as evidence of how a deadline was computed.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import chinese_calendar  # type: ignore[import-untyped,unused-ignore]
from chinese_calendar import constants as _cc_constants  # type: ignore[import-untyped,unused-ignore]

from desktop_app.domain.statutory_holidays import (
    LAW_FIRST_YEAR,
    LAW_LAST_YEAR,
    LAW_RULES,
    statutory_days,
)
from desktop_app.errors import UserError

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "WEEKDAY_NAMES",
    "DateOutOfRange",
    "DayInfo",
    "Deadline",
    "HolidayOverride",
    "OverrideFormatError",
    "WorkdayCalendar",
    "WorkdayCount",
    "parse_overrides_csv",
    "provisional_warning",
]

WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

SOURCE_PACKAGE = "chinesecalendar"
SOURCE_OVERRIDE = "override"
SOURCE_WEEKDAY = "weekday"
SOURCE_LAW = "law"

REASON_WORKDAY = "工作日"
REASON_WEEKEND = "周末"

# The package names holidays in English (``chinese_calendar.constants.Holiday`` values). Its own
# Chinese labels are abbreviated ("清明", "端午") or very long (the 2015 anniversary), so the
# wording shown to citizens is fixed here instead.
HOLIDAY_NAMES_ZH: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}

_ONE_DAY = timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Typed wrapper around chinese_calendar (the package ships no type information).
# --------------------------------------------------------------------------------------------


def _package_version() -> str:
    return str(getattr(chinese_calendar, "__version__", "unknown"))


def _package_years() -> range:
    """Years the package has data for.

    Derived from its data tables rather than hard-coded, so upgrading the package extends the
    known range without a code change. A contiguous range mirrors the package's own check
    (it accepts every year between the first and the last it has data for).
    """
    holiday_days: Iterable[date] = _cc_constants.holidays.keys()
    workday_days: Iterable[date] = _cc_constants.workdays.keys()
    years = {d.year for d in holiday_days} | {d.year for d in workday_days}
    if not years:
        return range(0)
    return range(min(years), max(years) + 1)


# The years the engine computes: the package's, then the law's. Module constants, so a message
# and a test can name them; an imported year outside them is computed too.
FIRST_YEAR = min(_package_years().start or LAW_FIRST_YEAR, LAW_FIRST_YEAR)
LAST_YEAR = max(_package_years().stop - 1, LAW_LAST_YEAR)


class DateOutOfRange(UserError, ValueError):
    """A date the engine does not compute (year 1, year 9999): a plain Chinese message.

    A :class:`~desktop_app.errors.UserError`, so the window and ``bbcs`` tell it as bad input
    (exit 2), and a ``ValueError`` as the engine's other refusals are.
    """

    def __init__(self, day: date) -> None:
        super().__init__(
            f"日期{day.isoformat()}超出期限引擎的计算范围（{FIRST_YEAR}年至{LAST_YEAR}年），"
            "请检查年份是否输错"
        )
        self.day = day


def _package_day(day: date) -> tuple[bool, str | None]:
    """Return (working, English holiday name or None) from the package, for a known year."""
    working = bool(chinese_calendar.is_workday(day))
    _is_holiday, name = chinese_calendar.get_holiday_detail(day)
    return working, (None if name is None else str(name))


def _holiday_name_zh(english: str) -> str:
    if english in HOLIDAY_NAMES_ZH:
        return HOLIDAY_NAMES_ZH[english]
    # A newer package may add a special holiday we have not mapped yet; its own Chinese label
    # is still better than showing English to a citizen.
    try:
        return str(_cc_constants.Holiday(english).chinese)
    except (ValueError, AttributeError):
        return english


# --------------------------------------------------------------------------------------------
# Value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HolidayOverride:
    """A site-specific decision about one day, which wins over the package data.

    Attributes:
        day: The date concerned.
        working: True if the office works that day (e.g. 调休上班), False if it is closed.
        name: Why, in Chinese, e.g. "台风停工", "春节", "调休上班"; shown in proofs.
    """

    day: date
    working: bool
    name: str


@dataclass(frozen=True, slots=True)
class DayInfo:
    """Whether one day is a working day, and why.

    Attributes:
        day: The date.
        working: True for a working day.
        reason: Chinese explanation: "工作日", "周末", a holiday name such as "国庆节",
            "调休上班（国庆节）", or the override's name.
        source: "chinesecalendar", "override" or "weekday" (plain Monday–Friday rule).
        known: False if the holidays of that year are not known, i.e. the answer is a guess.
    """

    day: date
    working: bool
    reason: str
    source: str
    known: bool


@dataclass(frozen=True, slots=True)
class Deadline:
    """The result of :meth:`WorkdayCalendar.add`, with everything needed to justify it.

    Attributes:
        start: The start date (not counted itself).
        working_days: N.
        due: The N-th working day after ``start`` (for N=0: ``start`` or the next working day).
        counted: The working days counted, in order; ``len(counted) == working_days``.
        skipped: Non-working days passed over before ``due``, in order, with the reason. For
            N>=1 these lie in (start, due); for N=0 the start itself is a candidate, so a
            non-working start is listed too.
        provisional: True if any day looked at lies in a year whose holidays are not known.
        warnings: Chinese warnings for the user (one per unknown year).
        calendar_version: Identifies the data used (package version and overrides hash).
        days: Every day looked at, in order, with its info; used for :meth:`proof_lines`.
            Not part of :meth:`to_json` because ``counted`` and ``skipped`` carry the same facts.
    """

    start: date
    working_days: int
    due: date
    counted: tuple[date, ...]
    skipped: tuple[DayInfo, ...]
    provisional: bool
    warnings: tuple[str, ...]
    calendar_version: str
    days: tuple[DayInfo, ...] = field(default=(), repr=False)

    def proof_lines(self) -> list[str]:
        """Human-readable Chinese proof, one line per day looked at.

        For N>=1 the lines run from the day after ``start`` to ``due``; for N=0 from ``start``
        to ``due``. Example::

            2026-10-07 周三 国庆节 — 不计
            2026-10-08 周四 工作日 — 第1个工作日
            2026-10-10 周六 调休上班（国庆节） — 第3个工作日

        Returns:
            The lines, without trailing newlines.
        """
        days = self.days or self._reconstructed_days()
        lines: list[str] = []
        ordinal = 0
        for info in days:
            if not info.working:
                verdict = "不计"
            elif self.working_days == 0:
                verdict = "期限日"
            else:
                ordinal += 1
                verdict = f"第{ordinal}个工作日"
            lines.append(_proof_line(info, verdict))
        return lines

    def to_json(self) -> dict[str, object]:
        """Return a JSON-safe dict (ISO date strings, lists instead of tuples)."""
        return {
            "start": self.start.isoformat(),
            "working_days": self.working_days,
            "due": self.due.isoformat(),
            "counted": [d.isoformat() for d in self.counted],
            "skipped": [{"day": i.day.isoformat(), "reason": i.reason} for i in self.skipped],
            "provisional": self.provisional,
            "warnings": list(self.warnings),
            "calendar_version": self.calendar_version,
        }

    def _reconstructed_days(self) -> tuple[DayInfo, ...]:
        # A Deadline built elsewhere (e.g. read back from storage) may lack ``days``; rebuild
        # what we can from counted/skipped so the proof is still complete, if less specific.
        counted = [
            DayInfo(d, True, REASON_WORKDAY, SOURCE_WEEKDAY, not self.provisional)
            for d in self.counted
        ]
        if self.working_days == 0:
            counted = [
                DayInfo(self.due, True, REASON_WORKDAY, SOURCE_WEEKDAY, not self.provisional)
            ]
        return tuple(sorted([*counted, *self.skipped], key=lambda i: i.day))


@dataclass(frozen=True, slots=True)
class WorkdayCount:
    """The result of :meth:`WorkdayCalendar.count_between`: a count with its proof.

    Attributes:
        start: The first date given (not counted itself).
        end: The second date given.
        working_days: Working days in (start, end]; negative (minus those in (end, start]) when
            ``end`` lies before ``start``.
        counted: The working days counted, in date order.
        skipped: The non-working days passed over, in date order, with the reason.
        provisional: True if any day looked at lies in a year whose schedule is not known.
        warnings: Chinese warnings for the user (one per such year).
        calendar_version: Identifies the data used, as for a :class:`Deadline`.
        days: Every day looked at, in date order, with its info.
    """

    start: date
    end: date
    working_days: int
    counted: tuple[date, ...]
    skipped: tuple[DayInfo, ...]
    provisional: bool
    warnings: tuple[str, ...]
    calendar_version: str
    days: tuple[DayInfo, ...] = field(default=(), repr=False)

    def proof_lines(self) -> list[str]:
        """Human-readable Chinese proof, one line per day looked at, as for a deadline."""
        lines: list[str] = []
        ordinal = 0
        for info in self.days:
            if info.working:
                ordinal += 1
                verdict = f"第{ordinal}个工作日"
            else:
                verdict = "不计"
            lines.append(_proof_line(info, verdict))
        return lines

    def to_json(self) -> dict[str, object]:
        """Return a JSON-safe dict with the keys of :meth:`Deadline.to_json` where they apply."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "working_days": self.working_days,
            "counted": [d.isoformat() for d in self.counted],
            "skipped": [{"day": i.day.isoformat(), "reason": i.reason} for i in self.skipped],
            "provisional": self.provisional,
            "warnings": list(self.warnings),
            "calendar_version": self.calendar_version,
        }


class OverrideFormatError(ValueError):
    """An override CSV line could not be understood. The message is Chinese and names the line.

    Attributes:
        line: 1-based line number in the text, or None if the problem is not tied to a line.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _fmt_day(day: date) -> str:
    return f"{day.isoformat()} {WEEKDAY_NAMES[day.weekday()]}"


def _proof_line(info: DayInfo, verdict: str) -> str:
    # Mark guessed days on the line itself, so a printed proof cannot hide them.
    # A day entered by hand or from a partial file is no guess, but its year is still open.
    if info.known:
        guess = ""
    elif info.source == SOURCE_OVERRIDE:
        guess = "（暂定：该年放假安排尚未完整录入）"
    else:
        guess = "（暂定：放假安排未录入，按放假办法推算）"
    return f"{_fmt_day(info.day)} {info.reason} — {verdict}{guess}"


def provisional_warning(year: int) -> str:
    """The 暂定 warning for a deadline that passes through ``year`` (no schedule entered)."""
    return (
        f"{year}年的法定节假日安排尚未录入，期限暂定：按《全国年节及纪念日放假办法》推算"
        "（法定假日和周末补假，不含调休），仅供参考"
    )


def _as_date(day: date) -> date:
    # datetime is a subclass of date but hashes and compares differently; normalise so the
    # cache and the override table see plain dates only.
    if isinstance(day, datetime):
        return day.date()
    return day


# --------------------------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------------------------


class WorkdayCalendar:
    """Working-day calendar: chinesecalendar data plus site overrides.

    Instances are immutable after construction; build a new one when the override table
    changes. ``day_info`` results are cached per day, which keeps :meth:`add` fast when it is
    called for thousands of cases at once.

    Args:
        overrides: Site overrides. Two overrides for the same day must agree.
        extra_known_years: Years whose full holiday schedule has been imported as overrides
            (e.g. next year's State Council notice). Days in these years are not provisional.
            A single override in an otherwise unknown year (say a typhoon closure) does *not*
            make the year known, since the statutory holidays would still be missing.

    Raises:
        ValueError: Two overrides for the same day disagree.
    """

    def __init__(
        self,
        overrides: Iterable[HolidayOverride] = (),
        extra_known_years: Iterable[int] = (),
    ) -> None:
        table: dict[date, HolidayOverride] = {}
        for override in overrides:
            day = _as_date(override.day)
            if day != override.day:
                override = HolidayOverride(day, override.working, override.name)
            previous = table.get(day)
            if previous is not None and previous != override:
                raise ValueError(
                    f"{_fmt_day(day)}有两条相互矛盾的例外设置：“{previous.name}”与“{override.name}”"
                )
            table[day] = override
        self._overrides = table
        self._package_years = _package_years()
        self._known_years = frozenset(self._package_years) | frozenset(extra_known_years)
        self._version = self._compute_version()
        self._cache: dict[date, DayInfo] = {}

    def _compute_version(self) -> str:
        # Canonical, order-independent text, so the same table always yields the same hash
        # whatever order it was loaded in. The extra known years are included because they
        # change which results are provisional.
        rows = [f"{o.day.isoformat()},{int(o.working)},{o.name}" for o in self._overrides.values()]
        extra = sorted(self._known_years - frozenset(self._package_years))
        # The law's rules decide the unknown years, so a change to them is a new version too.
        law = f"law:{LAW_RULES}"
        text = "\n".join([*sorted(rows), "known:" + ",".join(map(str, extra)), law])
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        return f"chinesecalendar-{_package_version()}+overrides-{digest}"

    @property
    def version(self) -> str:
        """Identifier of the data used: ``chinesecalendar-<version>+overrides-<hash8>``."""
        return self._version

    def known_years(self) -> frozenset[int]:
        """Return the years whose holidays are known (package years plus imported years)."""
        return self._known_years

    def is_known(self, day: date) -> bool:
        """Return True if the holidays of ``day``'s year are known (result not provisional)."""
        return day.year in self._known_years

    def day_info(self, day: date) -> DayInfo:
        """Return whether ``day`` is a working day, why, and from which source."""
        day = _as_date(day)
        info = self._cache.get(day)
        if info is None:
            info = self._compute_day_info(day)
            self._cache[day] = info
        return info

    def in_range(self, day: date) -> bool:
        """Return True if the engine computes ``day`` (:data:`FIRST_YEAR`–:data:`LAST_YEAR`,
        or a year whose schedule was imported)."""
        return FIRST_YEAR <= day.year <= LAST_YEAR or day.year in self._known_years

    def _compute_day_info(self, day: date) -> DayInfo:
        if not self.in_range(day):
            raise DateOutOfRange(day)
        known = day.year in self._known_years
        override = self._overrides.get(day)
        if override is not None:
            return DayInfo(day, override.working, override.name, SOURCE_OVERRIDE, known)
        if day.year in self._package_years:
            working, name = _package_day(day)
            if name is None:
                reason = REASON_WORKDAY if working else REASON_WEEKEND
            elif working:
                reason = f"调休上班（{_holiday_name_zh(name)}）"
            else:
                reason = _holiday_name_zh(name)
            return DayInfo(day, working, reason, SOURCE_PACKAGE, known)
        working = day.weekday() < 5
        reason = REASON_WORKDAY if working else REASON_WEEKEND
        if known:
            # An imported schedule lists its holidays and swaps; the other days are plain ones.
            return DayInfo(day, working, reason, SOURCE_WEEKDAY, known)
        statutory = statutory_days(day.year).get(day)
        if statutory is not None:
            return DayInfo(day, False, statutory.reason, SOURCE_LAW, known)
        return DayInfo(day, working, reason, SOURCE_LAW, known)

    def is_working_day(self, day: date) -> bool:
        """Return True if ``day`` is a working day."""
        return self.day_info(day).working

    def add(self, start: date, working_days: int) -> Deadline:
        """Compute the deadline “``working_days`` working days from ``start``”.

        Args:
            start: The start date; it is not counted.
            working_days: N >= 0. N=0 gives ``start`` if it is a working day, else the next one.

        Returns:
            The :class:`Deadline` with the counted and skipped days and any warnings.

        Raises:
            ValueError: ``working_days`` is negative.
            DateOutOfRange: A day to look at lies outside the engine's years.
        """
        start = _as_date(start)
        if working_days < 0:
            raise ValueError(f"工作日数不能为负数（收到 {working_days}）")
        self._check_range(start, start)
        cache = self._cache
        days: list[DayInfo] = []
        counted: list[date] = []
        skipped: list[DayInfo] = []
        try:
            # For N=0 the start itself is the first candidate; otherwise counting begins the
            # day after.
            day = start if working_days == 0 else start + _ONE_DAY
            needed = max(working_days, 1)
            while True:
                info = cache.get(day)  # inlined day_info: this loop is the hot path
                if info is None:
                    info = self.day_info(day)
                days.append(info)
                if info.working:
                    if working_days:
                        counted.append(day)
                    needed -= 1
                    if needed == 0:
                        break
                else:
                    skipped.append(info)
                day += _ONE_DAY
        except OverflowError:
            raise DateOutOfRange(date.max) from None
        unknown_years = dict.fromkeys(i.day.year for i in days if not i.known)
        return Deadline(
            start=start,
            working_days=working_days,
            due=day,
            counted=tuple(counted),
            skipped=tuple(skipped),
            provisional=bool(unknown_years),
            warnings=tuple(provisional_warning(y) for y in unknown_years),
            calendar_version=self._version,
            days=tuple(days),
        )

    def between(self, start: date, end: date) -> int:
        """Count working days in (start, end].

        So ``between(d, add(d, n).due) == n`` for n >= 1, and ``between(d, d) == 0``.

        Returns:
            The count; negative (minus the working days in (end, start]) if ``end < start``.

        Raises:
            DateOutOfRange: A day to look at lies outside the engine's years.
        """
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.between(end, start)
        self._check_range(start, end)
        count = 0
        day = start
        while day < end:
            day += _ONE_DAY
            if self.day_info(day).working:
                count += 1
        return count

    def count_between(self, start: date, end: date) -> WorkdayCount:
        """Count working days as :meth:`between` does, with the proof and any 暂定 warnings.

        Raises:
            DateOutOfRange: A day to look at lies outside the engine's years.
        """
        start, end = _as_date(start), _as_date(end)
        low, high = min(start, end), max(start, end)
        self._check_range(low, high)
        days: list[DayInfo] = []
        day = low
        while day < high:
            day += _ONE_DAY
            days.append(self.day_info(day))
        counted = tuple(i.day for i in days if i.working)
        unknown_years = dict.fromkeys(i.day.year for i in days if not i.known)
        return WorkdayCount(
            start=start,
            end=end,
            working_days=len(counted) if start <= end else -len(counted),
            counted=counted,
            skipped=tuple(i for i in days if not i.working),
            provisional=bool(unknown_years),
            warnings=tuple(provisional_warning(y) for y in unknown_years),
            calendar_version=self._version,
            days=tuple(days),
        )

    def _check_range(self, low: date, high: date) -> None:
        # Refuse at once rather than after walking thousands of days to the first bad one
        # (the days in between would all be asked for).
        for day in (low, high):
            if not self.in_range(day):
                raise DateOutOfRange(day)

    def working_days_in_month(self, year: int, month: int) -> list[DayInfo]:
        """Return the info of every day of the month, in order (for a calendar view).

        Raises:
            ValueError: ``month`` is not 1–12.
        """
        if not 1 <= month <= 12:
            raise ValueError(f"月份应为1到12（收到 {month}）")
        if not self.in_range(date(year, month, 1)):
            raise DateOutOfRange(date(year, month, 1))
        day = date(year, month, 1)
        result: list[DayInfo] = []
        while day.month == month:
            result.append(self.day_info(day))
            try:
                day += _ONE_DAY
            except OverflowError:  # December 9999
                break
        return result


# --------------------------------------------------------------------------------------------
# Override CSV
# --------------------------------------------------------------------------------------------

_HEADER_DATE = {"日期", "date", "day"}
_HEADER_WORKING = {"是否上班", "上班", "working", "workday"}
_HEADER_NAME = {"名称", "原因", "名称/原因", "name", "reason"}

_TRUE_WORDS = {"是", "上班", "班", "工作日", "1", "true", "yes", "y"}
_FALSE_WORDS = {"否", "休息", "休", "放假", "0", "false", "no", "n"}

_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _parse_date_cell(text: str, line: int) -> date:
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise OverrideFormatError(
            f"第{line}行：日期“{text}”无法识别，应写作 2027-01-01 或 2027/1/1", line
        )
    year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise OverrideFormatError(f"第{line}行：日期“{text}”无效", line) from None


def _parse_working_cell(text: str, line: int) -> bool:
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise OverrideFormatError(
        f"第{line}行：是否上班“{text}”无法识别，应填 是/否、上班/休息、1/0 或 true/false", line
    )


def _split_line(raw: str) -> list[str]:
    # Admins typing in a Chinese input method often produce full-width commas; accept them
    # as separators, but only when the line has no ASCII comma (then "，" may be part of a name).
    if "," not in raw and "，" in raw:
        raw = raw.replace("，", ",")
    return [cell.strip() for cell in next(csv.reader([raw]))]


def _header_columns(cells: list[str]) -> tuple[int, int, int | None] | None:
    """Return the (date, working, name) column indexes if ``cells`` is a header row."""
    lowered = [c.lower() for c in cells]
    date_col = next((i for i, c in enumerate(lowered) if c in _HEADER_DATE), None)
    working_col = next((i for i, c in enumerate(lowered) if c in _HEADER_WORKING), None)
    name_col = next((i for i, c in enumerate(lowered) if c in _HEADER_NAME), None)
    if date_col is None or working_col is None:
        return None
    return date_col, working_col, name_col


def parse_overrides_csv(text: str) -> list[HolidayOverride]:
    """Parse the site override table an admin types or imports.

    Format: a header ``日期,是否上班,名称`` (or ``date,working,name``; columns may come in any
    order and the header may be omitted, in which case that order is assumed), then one day
    per line. Dates as ``2027-01-01``, ``2027/1/1`` or ``2027年1月1日``; 是否上班 as
    是/否、上班/休息/放假、1/0、true/false. An empty name defaults to "调休上班" or "放假".
    Blank lines and lines starting with ``#`` are ignored. Values with an ASCII comma must be
    quoted.

    Args:
        text: The CSV text (a leading UTF-8 BOM, as written by Excel, is tolerated).

    Returns:
        The overrides in file order.

    Raises:
        OverrideFormatError: A line is malformed or a date appears twice; the Chinese message
            names the line, e.g. "第3行：日期“2027-02-30”无效".
    """
    text = text.removeprefix("\ufeff")
    columns: tuple[int, int, int | None] | None = None
    seen: dict[date, int] = {}
    result: list[HolidayOverride] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            cells = _split_line(stripped)
        except csv.Error as exc:
            raise OverrideFormatError(f"第{line_no}行：格式错误（{exc}）", line_no) from None
        if columns is None:
            header = _header_columns(cells)
            columns = header or (0, 1, 2)
            if header is not None:
                continue
            if _DATE_RE.fullmatch(cells[0]) is None:
                raise OverrideFormatError(
                    f"第{line_no}行：表头应为“日期,是否上班,名称”（或 date,working,name）", line_no
                )
        date_col, working_col, name_col = columns
        width = max(date_col, working_col, -1 if name_col is None else name_col) + 1
        if len(cells) < max(date_col, working_col) + 1:
            raise OverrideFormatError(f"第{line_no}行：缺少内容，应为“日期,是否上班,名称”", line_no)
        if len(cells) > width and any(cells[width:]):
            raise OverrideFormatError(
                f"第{line_no}行：列数过多（名称中如有英文逗号，请用英文双引号把名称括起来）",
                line_no,
            )
        day = _parse_date_cell(cells[date_col], line_no)
        working = _parse_working_cell(cells[working_col], line_no)
        name = cells[name_col] if name_col is not None and name_col < len(cells) else ""
        if day in seen:
            raise OverrideFormatError(
                f"第{line_no}行：日期{day.isoformat()}与第{seen[day]}行重复", line_no
            )
        seen[day] = line_no
        result.append(HolidayOverride(day, working, name or ("调休上班" if working else "放假")))
    return result
