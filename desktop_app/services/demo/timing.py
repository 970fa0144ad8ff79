"""Demo working time: office hours (08:30–12:00, 13:30–17:30) on the working days around the
demo period, and random moments in them."""

from __future__ import annotations

import bisect
import random
from datetime import date, datetime, time, timedelta

from desktop_app.domain.workdays import WorkdayCalendar

WORK_START = 8 * 3600 + 30 * 60  # 08:30
MORNING_END = 12 * 3600  # 12:00
AFTERNOON_START = 13 * 3600 + 30 * 60  # 13:30
WORK_END = 17 * 3600 + 30 * 60  # 17:30
MORNING = MORNING_END - WORK_START
WORKING_SECONDS = MORNING + (WORK_END - AFTERNOON_START)
DAY_END = time(17, 30)


class WorkTime:
    """Working days around the demo period and random office-hour times on them."""

    def __init__(self, rng: random.Random, first: date, last: date) -> None:
        calendar = WorkdayCalendar()
        self._rng = rng
        days: list[date] = []
        day = first
        while day <= last:
            if calendar.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        self.days = days

    def nth_after(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (n >= 1); n = 0: ``day`` or the next working day."""
        if n == 0:
            index = bisect.bisect_left(self.days, day)
        else:
            index = bisect.bisect_right(self.days, day) + n - 1
        return self.days[min(index, len(self.days) - 1)]

    def at(self, day: date, offset: int) -> datetime:
        """``offset`` seconds into the working hours of ``day`` (lunch break skipped)."""
        second = WORK_START + offset if offset < MORNING else AFTERNOON_START + offset - MORNING
        hour, minute = divmod(second // 60, 60)
        return datetime(day.year, day.month, day.day, hour, minute, second % 60)

    def random_on(self, day: date) -> datetime:
        return self.at(day, self._rng.randrange(WORKING_SECONDS))

    def workdays_later(self, moment: datetime, n: int) -> datetime:
        return self.random_on(self.nth_after(moment.date(), n))

    def soon(self, moment: datetime, lo: int, hi: int, p_next_day: float) -> datetime:
        """Some minutes later the same day, or (if that runs past 17:30) the next working day."""
        if self._rng.random() >= p_next_day:
            candidate = moment + timedelta(seconds=self._rng.randint(lo * 60, hi * 60))
            if candidate.date() == moment.date() and candidate.time() <= DAY_END:
                return candidate
        return self.workdays_later(moment, 1)


def working_seconds_before(moment: datetime) -> int:
    """How many seconds of ``moment``'s working hours lie before it."""
    second = moment.hour * 3600 + moment.minute * 60 + moment.second
    if second <= WORK_START:
        return 0
    if second <= MORNING_END:
        return second - WORK_START
    if second <= AFTERNOON_START:
        return MORNING
    return MORNING + min(second, WORK_END) - AFTERNOON_START


def fit(now: datetime, times: list[datetime]) -> list[datetime]:
    """Squeeze a timeline that would run past ``now`` into [first event, now] (order kept)."""
    if times[-1] <= now:
        return times
    start = times[0]
    limit = now - timedelta(minutes=1) if now - start > timedelta(minutes=5) else now
    scale = (limit - start) / (times[-1] - start)
    return [start + timedelta(seconds=int((t - start).total_seconds() * scale)) for t in times]
