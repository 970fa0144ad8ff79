"""一类事 (issue 16): classes of matters with their systemic fixes, and early warnings of
matters rising in one department × area × cause."""

from __future__ import annotations

from desktop_app.services.context import Clock
from desktop_app.storage.database import Database


class ClassService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
