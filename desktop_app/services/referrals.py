"""问责 (issue 16): referrals of officials for accountability, proposed by the window, sent as a
numbered 问题线索移交函 by the duty leader, decided by discipline staff."""

from __future__ import annotations

from desktop_app.services.context import Clock
from desktop_app.services.sealing import Sealer
from desktop_app.storage.database import Database


class ReferralService:
    def __init__(self, db: Database, clock: Clock, sealer: Sealer) -> None:
        self.db = db
        self.clock = clock
        self.sealer = sealer
