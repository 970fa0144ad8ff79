"""Merging a received records file into the database by UUID and version (DESIGN.md §6).

New rows are added with one ``INSERT … SELECT`` per table (on SQLite from the attached file,
``merge_bulk``; on PostgreSQL from staging tables filled by COPY, ``merge_copy``), newer
versions update, older or equal ones are ignored, and a record that arrives with its local version
but other content goes to the conflict queue (``merge_rows``, ``merge_outcomes``). Only the site a
record came from (``origin_site``) may send it again, and records may only hang off the sender's
own cases (``merge_references``). Afterwards the cases the import changed are indexed for search.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from desktop_app.services import integrity
from desktop_app.services.exchange.import_report import ImportReport
from desktop_app.services.exchange.merge_bulk import BulkCopy
from desktop_app.services.exchange.merge_copy import CopyBulk
from desktop_app.services.exchange.merge_outcomes import Outcomes
from desktop_app.services.exchange.merge_references import References
from desktop_app.services.exchange.merge_rows import RowMerge
from desktop_app.services.exchange.records_file import RecordsFile
from desktop_app.services.exchange.records_tables import ID_CHUNK, TableSpec, chunks
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.services.sealing import Sealer
from desktop_app.storage import search
from desktop_app.storage.models import Case, Complainant

log = logging.getLogger(__name__)


class RecordMerger:
    """Merges a records file into the database by UUID and version, within one transaction.

    ``attached``: the file is attached to the session's SQLite connection as ``rec`` and new
    rows are copied by the database; otherwise (PostgreSQL) they are read in Python and sent
    with COPY (``merge_copy``), or, with ``postgres_bulk`` off, every row is merged one by one.
    """

    # The tests turn it off to compare the bulk copy on PostgreSQL with the row-by-row merge.
    postgres_bulk = True

    def __init__(
        self,
        session: Session,
        owner: str,
        bundle_id: str,
        now: datetime,
        report: ImportReport,
        *,
        local_code: str = "",
        attached: bool = False,
        sealer: Sealer | None = None,  # needed where complainants come (not reference data)
        dry_run: bool = False,  # a preview, rolled back: no digests are made
    ) -> None:
        self.session = session
        self.attached = attached
        integrity.watch_new_rows(session)  # rows added bypass the ORM: digested at commit
        self.outcomes = Outcomes(session, report, owner=owner, bundle_id=bundle_id, now=now)
        self.references = References(session, owner, attached=attached)
        self.rows = RowMerge(session, owner, local_code, self.references, self.outcomes, sealer)
        self.bulk = BulkCopy(session, owner, self.references, self.outcomes, self.rows)
        self.copy = (
            CopyBulk(session, owner, self.references, self.outcomes, self.rows, digests=not dry_run)
            if not attached
            and self.postgres_bulk
            and session.get_bind().dialect.name == "postgresql"
            else None
        )

    def merge_file(
        self,
        records: RecordsFile,
        columns: dict[str, list[str]],
        checked: Callable[[], None],
        merging: Callable[[TableSpec], None] = lambda _spec: None,
    ) -> None:
        """Add, update, ignore or queue every row of ``records``.

        ``checked`` returns once every value in the file passed ``RecordsFile.check_values``
        (and raises if one did not); it is called before any value is read into Python. On
        SQLite the new rows are copied by the database meanwhile, so the caller must call it
        too before committing (a first import never reads a value here). ``merging`` is told
        of each table as its rows start to go in (the import's progress).
        """
        tables = records.tables()
        if self.copy is not None:
            self.copy.merge_file(records, columns, checked, merging)
            return
        if not self.attached:
            checked()
            for spec in tables:
                merging(spec)
                for rows in records.rows(spec, columns[spec.name]):
                    self.rows.merge_rows(spec, columns[spec.name], rows)
                self.rows.finish_table(spec)
            return
        known: dict[str, bool] = {}
        try:
            for spec in tables:
                merging(spec)
                known[spec.name] = self.bulk.note_known(spec, columns[spec.name])
                self.bulk.copy_new_rows(
                    spec, columns[spec.name], checked, skip_known=known[spec.name]
                )
        except (IntegrityError, OperationalError, ProgrammingError):
            raise
        except DatabaseError as exc:  # SQLite could not read the file: a damaged page
            checked()  # names the first bad value, if the damage shows there
            raise records.damaged() from exc
        if any(known.values()):
            checked()
        for spec in tables:
            if known[spec.name]:
                self.bulk.merge_known_rows(spec, columns[spec.name])
                self.rows.finish_table(spec)
                self.bulk.forget_known(spec)

    def overwrite(self, spec: TableSpec, the_uuid: str, values: dict[str, Any]) -> None:
        """Apply one stored incoming record over the local one (conflict resolution)."""
        self.rows.overwrite(spec, the_uuid, values)

    def reindex(
        self, *, shipped_search: bool = False, checked: Callable[[], None] = lambda: None
    ) -> None:
        """Search rows for the cases this import added or changed: the sender's own search
        text for bulk-added cases where it came with them (and was made the same way), the
        text built here for the rest (FTS5 on SQLite, a plain table on PostgreSQL).

        ``checked``: as for ``merge_file``, called before a value is read into Python (the
        text built here) and to explain a bulk insert the database refuses.
        """
        outcomes = self.outcomes
        ids = set(outcomes.touched_cases)
        if outcomes.touched_complainants:
            for chunk in chunks(sorted(outcomes.touched_complainants), ID_CHUNK):
                ids.update(
                    self.session.scalars(select(Case.id).where(Case.complainant_id.in_(chunk)))
                )
        if outcomes.first_new_case:
            ids = {i for i in ids if i < outcomes.first_new_case}  # the new ones follow
            indexed = 0
            if shipped_search and self.attached:
                indexed = self.bulk.copy_search_text(checked)
            elif shipped_search and self.copy is not None:
                indexed = self.copy.copy_search_text()
            if indexed != outcomes.new_cases:
                here = "main." if self.attached else ""
                ids.update(
                    self.session.scalars(
                        text(
                            f"SELECT id FROM {here}cases WHERE id >= :first AND id NOT IN "
                            "(SELECT rowid FROM case_search WHERE rowid >= :first)"
                        ),
                        {"first": outcomes.first_new_case},
                    )
                )
        if not ids:
            return
        checked()
        _index_here(self.session, ids)


def _index_here(session: Session, ids: set[int]) -> None:
    """Make the search text of cases ``ids`` from their rows here."""
    for chunk in chunks(sorted(ids), ID_CHUNK):
        rows = session.execute(
            select(
                Case.id,
                Case.number,
                Complainant.name,
                Case.title,
                Case.description,
                Case.stuck_at,
                Complainant.phone_last4,
                Case.original_number,
            )
            .join(Complainant, Case.complainant_id == Complainant.id)
            .where(Case.id.in_(chunk))
        ).all()
        session.execute(
            text(f"DELETE FROM case_search WHERE rowid IN ({','.join(map(str, chunk))})")
        )
        session.execute(
            text("INSERT INTO case_search(rowid, body) VALUES (:id, :body)"),
            [
                {
                    "id": r[0],
                    "body": search.index_text(search.case_fields(*r[1:])),
                }
                for r in rows
            ],
        )


def incompatible(exc: Exception) -> BundleRefused:
    log.warning("bundle rows do not fit the database: %s", exc)
    return BundleRefused(
        RefusalCode.BAD_CONTENT,
        "数据包中的记录与本站点已有的记录冲突（例如编号重复）或缺少必需的内容，整包未导入。"
        "请把此数据包和日志交维护人员处理。",
    )
