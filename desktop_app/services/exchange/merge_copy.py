"""The bulk copy on PostgreSQL: what ``merge_bulk`` does on SQLite, with the records file read
in Python instead of attached.

The rows this site does not have are read from the file, sealed and keyed in Python by the same
``Sealer`` calls the row-by-row merge makes (so the stored values are the ones it would store),
turned into the values SQLAlchemy would bind, and sent with ``COPY`` into a staging table (TEMP,
dropped at commit) whose columns have the target's types, references still UUIDs. One
``INSERT … SELECT`` per table then adds them, references mapped to local ids by their UUIDs in
SQL (``References.owned_id``, the rule the row merge applies too). The rows this site already
has go through the row-by-row merge (``merge_rows``), as on SQLite. Record digests are written
at commit by ``integrity``, as for every bulk write; the search rows are copied the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from sqlalchemy import Boolean, Date, DateTime, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desktop_app.services import integrity
from desktop_app.services.exchange.merge_bulk import (
    BULK_ROWS,
    Added,
    answered_sent_sql,
    find_bad_reference,
    find_duplicate,
    settle_added,
)
from desktop_app.services.exchange.merge_outcomes import Outcomes
from desktop_app.services.exchange.merge_references import (
    References,
    foreign_reference,
)
from desktop_app.services.exchange.merge_rows import RowMerge
from desktop_app.services.exchange.records_file import RecordsFile
from desktop_app.services.exchange.records_tables import (
    SEARCH_TABLE,
    TableSpec,
    python_values,
)
from desktop_app.services.integrity import DIGESTED
from desktop_app.services.sealing import SEALED_TABLES
from desktop_app.storage import search

_SQLITE: Final = sqlite.dialect()
ORDER: Final = "bbcs_order"  # a staging table's column keeping the file's order of rows
# Migration 0020's statement triggers that keep each case's departments_answered: set aside
# while a county's assignments are copied in bulk (a new case has its flag from the file
# already; with the copy's indexes dropped, the trigger's look-ups of 100,000 cases took 51 s),
# and the cases known before settled in one call afterwards.
ANSWERED_TRIGGERS: Final = ("assignments_answered_insert", "assignments_answered_update")
# The pending list a bulk insert of search text gathers in (kB): 128 MB took 25 s for a county
# into a city of 1.4 million, 2 GB (one merge at the end) 32 s, 256 kB (row by row) 60 s.
GATHER_KIB: Final = 128 * 1024
# The fill a table's new pages get while a county's rows are copied into a city that keeps its
# indexes, so that writing their digests afterwards updates each row on its own page (a HOT
# update: no new entry in any of the 34 indexes of cases). 100,000 cases into a city of 1.4
# million: that UPDATE 31 s packed, 12 s at 60 % (two rows in three on their page), 4.2 s at
# 45 % (every row). Put back after: ordinary writes pack their pages again.
DIGEST_ROOM_FILLFACTOR: Final = 45
# Rows of the records file converted and sent with COPY at a time: with 5,000 the preview of a
# county's first upload at the city took the importing process from 86 to 191 MB and left it at
# 155 MB, with a thousand 115 and 106 MB, in the same time (``integrity._ADDED_BATCH`` too).
COPY_CHUNK: Final = 1000
SETTLE_KNOWN: Final = (
    "SELECT bbcs_settle_departments_answered(ARRAY(SELECT DISTINCT case_id FROM assignments "
    "WHERE id > :before AND (:first_new_case = 0 OR case_id < :first_new_case)))"
)


def staging(table: str) -> str:
    """The name of ``table``'s staging table (a TEMP table: it never meets a real one)."""
    return f"bbcs_in_{table}"


class CopyBulk:
    """``merge_file`` (new rows copied, known rows merged one by one), then ``copy_search_text``."""

    def __init__(
        self,
        session: Session,
        owner: str,
        references: References,
        outcomes: Outcomes,
        rows: RowMerge,
        *,
        digests: bool = True,
    ) -> None:
        self.session = session
        self.owner = owner
        self.references = references
        self.outcomes = outcomes
        self.rows = rows
        # False for a preview, which is rolled back: the digests of a county's first upload
        # are a quarter of its time at the city (read back, made here, written by an UPDATE
        # whose rolled-back row versions then slow the import that follows).
        self.digests = digests
        self.records: RecordsFile | None = None

    def merge_file(
        self,
        records: RecordsFile,
        columns: dict[str, list[str]],
        checked: Callable[[], None],
        merging: Callable[[TableSpec], None],
    ) -> None:
        """Add every row of ``records`` this site does not have, then merge the others
        (``merging``: told of each table as its rows start to go in).

        The copy runs while ``checked`` (every value of the file has the right type) is still
        checking on its thread, as on SQLite: a value of the wrong type that breaks a
        conversion here or the COPY is then told by the check, and nothing is committed
        before the check has passed (the caller waits for it). The rows this site has are
        compared one by one only after it.
        """
        self.records = records
        known: dict[str, set[str]] = {}
        tables = records.tables()
        try:
            for spec in tables:
                merging(spec)
                known[spec.name] = self._copy_new_rows(records, spec, columns[spec.name])
        except Exception:
            checked()  # a value of the wrong form explains it better
            raise
        if any(known.values()):
            checked()
        for spec in tables:
            if known[spec.name]:
                self._merge_known_rows(records, spec, columns[spec.name], known[spec.name])

    def _merge_known_rows(
        self, records: RecordsFile, spec: TableSpec, columns: list[str], uuids: set[str]
    ) -> None:
        """The rows this site already has, read again a chunk at a time (a county that sends
        everything again: hundreds of thousands, not all held at once), compared one by one."""
        uuid_at = columns.index("uuid")
        for chunk in records.rows(spec, columns):
            mine = [row for row in chunk if row[uuid_at] in uuids]
            if mine:
                self.rows.merge_rows(spec, columns, mine)
        self.rows.finish_table(spec)

    def copy_search_text(self) -> int:
        """Index the bulk-added cases with the search text the sender shipped (made by the same
        ``search.index_text``, the manifest says which version); returns how many it indexed."""
        records = self.records
        if records is None or not records.has_search_text():
            return 0
        first = {"first": self.outcomes.first_new_case}
        self.session.execute(text("DELETE FROM case_search WHERE rowid >= :first"), first)
        new = self.outcomes.new_cases
        bulk = new >= BULK_ROWS
        # Counted only for a bulk insert and only as far as the choice needs (a city's 1.5
        # million search rows took 90 ms to count, for each weekly bundle too).
        here = (
            self.session.scalar(
                text("SELECT count(*) FROM (SELECT 1 FROM case_search LIMIT :new) s"),
                {"new": new},
            )
            if bulk
            else 0
        )
        rebuilt = self._drop_indexes(SEARCH_TABLE) if bulk and new > (here or 0) else []
        # Into a city's search index that stays: the new entries gathered in the index's
        # pending list and merged in once, instead of one by one (100,000 cases into a city of
        # 1.4 million: 60 s → 25 s).
        gathered = self._gather_pending(search.SEARCH_INDEX) if bulk and not rebuilt else None
        name = staging(SEARCH_TABLE)
        self.session.execute(
            text(f"CREATE TEMP TABLE {name} (uuid text, body text) ON COMMIT DROP")
        )
        with contextlib.closing(records.reader()) as reader:
            self._copy(
                name, ["uuid", "body"], reader.execute(f"SELECT uuid, body FROM {SEARCH_TABLE}")
            )
        result = self.session.execute(
            text(
                f"INSERT INTO case_search(rowid, body) SELECT c.id, s.body FROM {name} s "
                "JOIN cases c ON c.uuid = s.uuid WHERE c.id >= :first ORDER BY c.id"
            ),
            first,
        )
        indexed: int = max(result.rowcount, 0)  # type: ignore[attr-defined]
        if gathered is not None:
            self._merge_pending(search.SEARCH_INDEX, gathered)
        self._build_indexes(rebuilt)
        return indexed

    def _gather_pending(self, index: str) -> str:
        """Let GIN ``index`` gather what is inserted next in its pending list (up to
        ``GATHER_KIB``); returns its own limit, to be put back (``_merge_pending``)."""
        limit = self._option(index, "gin_pending_list_limit")
        self.session.execute(
            text(f"ALTER INDEX {index} SET (gin_pending_list_limit = {GATHER_KIB})")
        )
        return limit

    def _merge_pending(self, index: str, limit: str) -> None:
        """Merge ``index``'s pending list into it and put its own limit back: searches read
        the whole pending list (migration 0018 keeps it small)."""
        self.session.execute(
            text("SELECT gin_clean_pending_list(to_regclass(:index))"), {"index": index}
        )
        self._set_option(index, "gin_pending_list_limit", limit, kind="INDEX")

    def _make_room(self, table: str) -> str:
        """Leave room on the pages ``table``'s new rows fill (DIGEST_ROOM_FILLFACTOR) for their
        digests' update; returns the table's own fill, to be put back (``_set_option``)."""
        fill = self._option(table, "fillfactor")
        self.session.execute(
            text(f'ALTER TABLE "{table}" SET (fillfactor = {DIGEST_ROOM_FILLFACTOR})')
        )
        return fill

    def _option(self, relation: str, option: str) -> str:
        """A table's or index's own storage option (``reloptions``), or "" for the default."""
        value = self.session.scalar(
            text(
                "SELECT option_value FROM pg_options_to_table((SELECT reloptions FROM pg_class "
                "WHERE oid = to_regclass(:relation))) WHERE option_name = :option"
            ),
            {"relation": f'"{relation}"', "option": option},
        )
        return str(value or "")

    def _set_option(self, relation: str, option: str, value: str, kind: str = "TABLE") -> None:
        """Put ``option`` of ``relation`` back to ``value`` ("" : the default)."""
        if value:
            self.session.execute(text(f'ALTER {kind} "{relation}" SET ({option} = {int(value)})'))
        else:
            self.session.execute(text(f'ALTER {kind} "{relation}" RESET ({option})'))

    # One table ------------------------------------------------------------------------------

    def _copy_new_rows(self, records: RecordsFile, spec: TableSpec, columns: list[str]) -> set[str]:
        """COPY the rows of ``spec`` this site does not have into staging and add them with
        one INSERT … SELECT; returns the UUIDs of the others (to merge one by one)."""
        t = spec.table
        name = spec.name
        uuid_at = columns.index("uuid")
        owner_at = columns.index(spec.owner_column) if spec.owner_column in columns else None
        here = self.session.scalar(select(t.c.id).limit(1)) is not None
        answers = _answers_sent(records) if name == "cases" else None
        extra = _derived_columns(name, columns) + (["departments_answered"] if answers else [])
        stored = [*columns, *extra]
        to_python = python_values(spec, columns)  # for sealing, as the row merge has them
        bind = _bind_processors(self.session, spec, stored)
        sealed = name in SEALED_TABLES
        direct = _copy_converters(self.session, spec, columns)
        known: set[str] = set()
        self._make_staging(spec, stored)
        order = 0
        names = ", ".join(f'"{c}"' for c in columns)
        with contextlib.closing(records.reader()) as reader:
            cursor = reader.execute(f'SELECT {names} FROM "{name}" ORDER BY rowid')
            while chunk := cursor.fetchmany(COPY_CHUNK):
                # Looked up between two COPYs: the connection runs nothing else during one.
                uuids = [raw[uuid_at] for raw in chunk]
                present = self._present(spec, uuids) if here else set()
                new: list[list[Any]] = []
                for raw in chunk:
                    if raw[uuid_at] in present:
                        known.add(raw[uuid_at])
                        continue
                    order += 1
                    if sealed:  # sealed on the way in, as the row merge does
                        values = dict(zip(columns, map(_apply, to_python, raw), strict=True))
                        if owner_at is not None:
                            values[spec.owner_column] = self.owner
                        values = self.rows.sealer.sealed_values(name, values)
                        row = [
                            order,
                            *(
                                f(values[c]) if f else values[c]
                                for f, c in zip(bind, stored, strict=True)
                            ),
                        ]
                    else:
                        row = [order, *(f(v) if f else v for f, v in zip(direct, raw, strict=True))]
                        if owner_at is not None:
                            row[owner_at + 1] = self.owner
                        if answers:
                            row.append(bool(answers.get(raw[uuid_at])))
                    new.append(row)
                self._copy(staging(name), [ORDER, *stored], new)
        # A TEMP table is never analysed by itself: without its statistics the planner took
        # the staged rows for one and joined them to the city's cases by a scan per row (the
        # linked cases of a county's first upload into 1.4 million: 175 s).
        self.session.execute(text(f"ANALYZE {staging(name)}"))
        self._insert(spec, stored, order)
        return known

    def _present(self, spec: TableSpec, uuids: Sequence[str]) -> set[str]:
        """Which of ``uuids`` this site already has (a weekly bundle: most of them are new).

        Sent as one array: a list of bound values costs more to build and send than the look-up
        (a county's first upload into a city asks for ~900,000 UUIDs: 3–4 s of this process)."""
        return set(
            self.session.scalars(
                text(f'SELECT uuid FROM "{spec.name}" WHERE uuid = ANY(:uuids)'),
                {"uuids": list(uuids)},
            )
        )

    def _make_staging(self, spec: TableSpec, stored: list[str]) -> None:
        """A TEMP table with the target's column types (references as text: UUIDs)."""
        selected = ", ".join(f'NULL::text AS "{c}"' if c in spec.refs else f'"{c}"' for c in stored)
        self.session.execute(
            text(
                f"CREATE TEMP TABLE {staging(spec.name)} ON COMMIT DROP AS "
                f'SELECT 0::bigint AS {ORDER}, {selected} FROM "{spec.name}" WITH NO DATA'
            )
        )

    def _copy(self, table: str, columns: list[str], rows: Iterable[Sequence[Any]]) -> None:
        """Send ``rows`` into ``table`` with COPY on the session's own connection (its
        transaction)."""
        raw = self.session.connection().connection.driver_connection
        if raw is None:
            raise RuntimeError("no database connection to COPY on")
        names = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _insert(self, spec: TableSpec, stored: list[str], staged: int) -> None:
        """Add the staged rows, references found here by UUID (``References.owned_id``); a
        reference that finds nothing (missing, or another site's) breaks a NOT NULL column or
        leaves fewer references in a nullable one than were sent: either refuses the bundle."""
        t = spec.table
        name = spec.name
        source = staging(name)
        refs = [(c, target) for c, target in spec.refs.items() if c in stored]
        nullable = [(c, target) for c, target in refs if t.c[c].nullable]
        sent: tuple[int, ...] = ()
        if nullable:
            sent = tuple(
                self.session.execute(
                    text(
                        "SELECT "
                        + ", ".join(f'count(r."{c}")' for c, _t in nullable)
                        + f" FROM {source} r"
                    )
                ).one()
            )
        before = self.session.scalar(select(func.max(t.c.id))) or 0
        values: list[str] = []
        for column in stored:
            points_at = spec.refs.get(column)
            if points_at == name:
                values.append("NULL")  # pointed at after every row is in
            elif points_at is not None:
                values.append(f"({self.references.owned_id(points_at, f'r.{column}')})")
            else:
                values.append(f'r."{column}"')
        names = ", ".join(f'"{c}"' for c in stored)
        # A first import of a county is most of the table: its secondary indexes are built
        # once afterwards, after the digests are written, instead of updated row by row.
        rebuilt = self._drop_indexes(name) if staged >= BULK_ROWS and staged > before else []
        roomy = (
            self._make_room(name)
            if self.digests and staged >= BULK_ROWS and not rebuilt and name in DIGESTED
            else None
        )
        answers_after = name == "assignments" and staged >= BULK_ROWS
        if answers_after:
            for trigger in ANSWERED_TRIGGERS:
                self.session.execute(text(f'ALTER TABLE "{name}" DISABLE TRIGGER {trigger}'))
        # A savepoint, so that a refused INSERT leaves the staged rows readable to say why. In
        # SQL, not Session.begin_nested(): its commit would run the session's commit hooks
        # (integrity's digests) in the middle of the merge.
        self.session.execute(text("SAVEPOINT bbcs_copy"))
        try:
            result = self.session.execute(
                text(
                    f'INSERT INTO "{name}" ({names}, origin_site, change_seq) '
                    f"SELECT {', '.join(values)}, :owner, NULL FROM {source} r ORDER BY r.{ORDER}"
                ),
                {"owner": self.owner},
            )
        except IntegrityError:
            self.session.execute(text("ROLLBACK TO SAVEPOINT bbcs_copy"))
            self._find_bad_reference(spec, refs)
            find_duplicate(self.session, spec, source)
            raise
        self.session.execute(text("RELEASE SAVEPOINT bbcs_copy"))
        incoming = max(result.rowcount, 0)  # type: ignore[attr-defined]
        found = settle_added(
            self.session,
            self.owner,
            self.references,
            self.outcomes,
            Added(name, f'"{name}"', source, before, incoming),
            refs,
            nullable,
            sent,
        )
        if not found:
            self._find_bad_reference(spec, refs)
            raise foreign_reference()
        if self.digests:
            integrity.seal_added(self.session, name)
        if roomy is not None:
            self._set_option(name, "fillfactor", roomy)
        self._build_indexes(rebuilt)
        if answers_after:
            self.session.execute(
                text(SETTLE_KNOWN),
                {"before": before, "first_new_case": self.outcomes.first_new_case},
            )
            for trigger in ANSWERED_TRIGGERS:
                self.session.execute(text(f'ALTER TABLE "{name}" ENABLE TRIGGER {trigger}'))

    def _drop_indexes(self, table: str) -> list[str]:
        """Drop ``table``'s secondary indexes but those on its UUIDs (the merge finds rows by
        them meanwhile) and those behind constraints; returns the SQL that makes them again."""
        found = self.session.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = :table "
                "AND i.indexdef NOT LIKE '%(uuid)%' AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conindid = to_regclass(quote_ident(i.schemaname) || '.' || "
                "quote_ident(i.indexname)))"
            ),
            {"table": table},
        ).all()
        for index_name, _sql in found:
            self.session.execute(text(f'DROP INDEX "{index_name}"'))
        return [sql for _name, sql in found]

    def _build_indexes(self, made_as: list[str]) -> None:
        if made_as:
            # As migration 0015 builds the search grams' GIN index: in one pass.
            self.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for sql in made_as:
            self.session.execute(text(sql))

    def _find_bad_reference(self, spec: TableSpec, refs: list[tuple[str, str]]) -> None:
        """Refuse with the first staged reference that points at nothing here, or at another
        site's record."""
        find_bad_reference(self.session, self.owner, self.references, staging(spec.name), refs)


def _answers_sent(records: RecordsFile) -> dict[str, int]:
    """Per case UUID, whether its departments have answered as the file's assignments say: a
    new case's departments_answered, written with it (every assignment of a new case is new)."""
    if "assignments" not in records.columns:
        return {}
    with contextlib.closing(records.reader()) as reader:
        return dict(reader.execute(answered_sent_sql("assignments")).fetchall())


def _derived_columns(table: str, columns: list[str]) -> list[str]:
    """The columns ``Sealer.sealed_values`` adds to a row of ``table`` (made here, never
    sent: each site keys its own lookups)."""
    if table != "complainants":
        return []
    return [c for c in ("id_lookup", "phone_lookup", "phone_last4", "name_key") if c not in columns]


def _apply(convert: Callable[[Any], Any], value: Any) -> Any:
    return convert(value)


def _copy_converters(
    session: Session, spec: TableSpec, columns: list[str]
) -> list[Callable[[Any], Any] | None]:
    """Per column, a value as a records file stores it to what COPY takes, or None to send
    it as it is: PostgreSQL reads SQLite's times and dates (text of the form the check holds
    them to) and its 0/1 flags as they are, to the same values an INSERT of the Python values
    stores; the rest goes the way of the row merge (SQLAlchemy's conversions, JSON parsed and
    made text again by the engine's serializer). Sending a JSON text as it came saved ~5 s of
    this process's CPU in a county's first upload, but SQLite's check passes texts Python cannot
    read back (nested 1,000 deep, 1e400), which the preview would then pass and the import not."""
    dialect = session.get_bind().dialect
    out: list[Callable[[Any], Any] | None] = []
    for name in columns:
        kind = spec.table.c[name].type
        if name in spec.refs or type(kind) in (DateTime, Date, Boolean):
            out.append(None)
            continue
        load = kind.dialect_impl(_SQLITE).result_processor(_SQLITE, None)
        dump = kind.dialect_impl(dialect).bind_processor(dialect)
        if load is None or dump is None:
            out.append(load or dump)
        else:
            out.append(_composed(load, dump))
    return out


def _composed(load: Callable[[Any], Any], dump: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: dump(load(value))


def _bind_processors(
    session: Session, spec: TableSpec, columns: list[str]
) -> list[Callable[[Any], Any] | None]:
    """Per column, what SQLAlchemy does to a value before the driver sees it on this engine
    (JSON made text by the engine's serializer): COPY then stores what an INSERT would."""
    dialect = session.get_bind().dialect
    t = spec.table
    return [
        None if c in spec.refs else t.c[c].type.dialect_impl(dialect).bind_processor(dialect)
        for c in columns
    ]
