"""联席会议 (issue 16): joint meetings, their minutes, and the follow-up assignments made from
their decisions (signed like any slip)."""

from __future__ import annotations

from desktop_app.services.assignments import AssignmentService
from desktop_app.services.context import Clock
from desktop_app.storage.database import Database


class MeetingService:
    def __init__(self, db: Database, clock: Clock, assignments: AssignmentService) -> None:
        self.db = db
        self.clock = clock
        self.assignments = assignments
