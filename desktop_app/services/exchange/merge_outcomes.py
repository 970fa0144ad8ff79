"""What a merge did with each incoming row: counted in the import report, queued as a
conflict, and the cases and complainants it changed noted for the search index."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.services import integrity
from desktop_app.services.exchange.import_report import ImportReport
from desktop_app.services.exchange.records_tables import TableSpec, stored_form
from desktop_app.storage.models import SyncConflict


class Outcomes:
    """The tally of one merge, shared by the bulk copy and the row-by-row merge."""

    def __init__(
        self, session: Session, report: ImportReport, *, owner: str, bundle_id: str, now: datetime
    ) -> None:
        self.session = session
        self.report = report
        self.owner = owner
        self.bundle_id = bundle_id
        self.now = now
        self.touched_cases: set[int] = set()
        self.touched_complainants: set[int] = set()
        self.first_new_case = 0  # bulk-added cases have ids from here on (0: none)
        self.new_cases = 0
        self._held: dict[str, set[str]] = {}  # by table: UUIDs with an open conflict

    def touched(self, table: str, ids: Iterable[int]) -> None:
        """Note rows whose search text may have changed (cases, and complainants' cases), and
        every changed row for its digest (integrity.py)."""
        ids = list(ids)
        integrity.note_written(self.session, table, ids)
        if table == "cases":
            self.touched_cases.update(ids)
        if table == "complainants":
            self.touched_complainants.update(ids)

    def ignore(self, table: str, reason: str, count: int = 1) -> None:
        self.report.ignored[table] += count
        self.report.reasons[reason] += count

    def held(self, table: str) -> set[str]:
        """The UUIDs of ``table`` with an open conflict: what arrives for them waits too."""
        held = self._held.get(table)
        if held is None:
            held = set(
                self.session.scalars(
                    select(SyncConflict.entity_uuid).where(
                        SyncConflict.entity == table, SyncConflict.resolved_at.is_(None)
                    )
                )
            )
            self._held[table] = held
        return held

    def conflict(
        self,
        spec: TableSpec,
        the_uuid: str,
        local_version: int,
        incoming_version: int,
        values: dict[str, Any],
        reason: str,
    ) -> None:
        """Queue an incoming record for a person to decide, as it travelled."""
        self.report.conflicts[spec.name] += 1
        self.session.add(
            SyncConflict(
                created_at=self.now,
                bundle_id=self.bundle_id,
                site_code=self.owner,
                entity=spec.name,
                entity_uuid=the_uuid,
                local_version=local_version,
                incoming_version=incoming_version,
                reason=reason,
                # As the record travelled (plain JSON: text, numbers, null).
                incoming={
                    k: v if k in spec.refs else stored_form(spec.table.c[k].type)(v)
                    for k, v in values.items()
                },
            )
        )
