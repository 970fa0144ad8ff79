"""The one query layer for supervision's numbers (issue 16): the dashboard's counts and the
lists behind them; the reports (issue 17) extend it, so dashboard, scorecards and bulletins
agree."""

from __future__ import annotations

from desktop_app.services.calendar import CalendarService
from desktop_app.services.context import Clock
from desktop_app.storage.database import Database


class SupervisionQueries:
    def __init__(self, db: Database, clock: Clock, calendar: CalendarService) -> None:
        self.db = db
        self.clock = clock
        self.calendar = calendar
