"""Holiday schedules for tests: a year the import takes as complete must list the law's holidays
(services/calendar.py refuses one that would make 国庆节 a working day)."""

from __future__ import annotations

from desktop_app.domain.statutory_holidays import statutory_days

HEADER = "日期,是否上班,名称"


def complete_year(year: int, *lines: str) -> str:
    """A schedule of ``year`` as a CSV text: ``lines`` ("2027-01-04,否,元旦"), then each of the
    law's holidays on a weekday they do not list, as a day off (a schedule never works them)."""
    listed = {line.split(",", 1)[0] for line in lines}
    law = [
        f"{day.isoformat()},否,{held.holiday}"
        for day, held in statutory_days(year).items()
        if not held.make_up and day.weekday() < 5 and day.isoformat() not in listed
    ]
    return "\n".join([HEADER, *lines, *law]) + "\n"
