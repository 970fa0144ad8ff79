"""The bulk copy (SQLite, the records file attached as ``rec``): the rows this site does not have
are added with one ``INSERT … SELECT`` per table, references mapped to local ids by their UUIDs
in SQL, and the sender's search text copied the same way; none of them pass through Python.

The rows this site already has are sorted out in SQL first (older, or the same again); those
that may change something go to the row-by-row merge (``merge_rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import UniqueConstraint, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.services.exchange.merge_outcomes import Outcomes
from desktop_app.services.exchange.merge_references import (
    References,
    foreign_reference,
    missing_reference,
)
from desktop_app.services.exchange.merge_rows import RowMerge
from desktop_app.services.exchange.records_tables import (
    ATTACHED,
    ROW_CHUNK,
    SEARCH_TABLE,
    TABLE_LABELS,
    TableSpec,
    python_values,
)
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.services.sealing import (
    SEALED_TABLES,
    derived_sql,
    opened_sql,
    register_functions,
    sealed_sql,
)

FTS_SETTING: Final = "INSERT INTO case_search(case_search, rank) VALUES('{}', {})"
# FTS5's defaults, and what a bulk insert of search text uses instead: no merging of the index's
# segments meanwhile, and terms gathered in memory 16 times as long before a segment is written
# (a quarter faster for 100,000 cases).
FTS_DEFAULTS: Final = {"automerge": 4, "hashsize": 1024 * 1024}
FTS_BULK: Final = {"automerge": 0, "hashsize": 16 * 1024 * 1024}
BULK_ROWS: Final = 10_000  # from this many new rows a table's indexes are rebuilt, not updated
# Row triggers that a bulk copy replaces by one statement over the rows it added: migration
# 0020's keep each case's departments_answered as its assignments say (in force from the
# copy's end; per row they cost seconds for a county and scan without the dropped indexes).
_RESPONDED: Final = f"'{AssignmentState.RESPONDED.value}'"
_UNFINISHED: Final = ", ".join(
    f"'{s.value}'"
    for s in (AssignmentState.DRAFT, AssignmentState.ISSUED, AssignmentState.RECEIVED)
)
# The rule, over one case's assignments: one has answered and none is still under way (SQLite
# SQL, 0/1). The same aggregate settles a known case from all its assignments here and gives a
# new case its flag from the file's.
_ANSWERED_OF_ROWS: Final = f"max(state = {_RESPONDED}) AND NOT max(state IN ({_UNFINISHED}))"
_ANSWERED: Final = (
    f"coalesce((SELECT {_ANSWERED_OF_ROWS} FROM main.assignments a WHERE a.case_id = cases.id), 0)"
)
SETTLED_IN_BULK: Final = {
    "assignments": (
        f"UPDATE main.cases SET departments_answered = {_ANSWERED} "
        "WHERE id IN (SELECT case_id FROM main.assignments WHERE id > :before) "
        # The cases this copy added have theirs already (``_ANSWERED_SENT``).
        "AND (:first_new_case = 0 OR id < :first_new_case) "
        f"AND departments_answered IS NOT {_ANSWERED}"
    ),
}


def answered_sent_sql(assignments: str) -> str:
    """Per case UUID, whether its departments have answered, as the ``assignments`` of a
    records file say (SQLite SQL; 0/1)."""
    return (
        f"SELECT case_id, {_ANSWERED_OF_ROWS} "
        f"FROM {assignments} WHERE case_id IS NOT NULL GROUP BY case_id"
    )


# A new case's departments_answered as its assignments in the file say, written with the case
# (every assignment of a case new here is new too): setting it after the copy rewrote 90 % of
# a county's cases, 0.7 s of a first import. Per case UUID, from one pass over the file.
_ANSWERED_SENT: Final = (
    "CREATE TEMP TABLE bbcs_answered (case_uuid TEXT PRIMARY KEY, answered INTEGER) WITHOUT ROWID",
    f"INSERT INTO temp.bbcs_answered {answered_sent_sql(f'{ATTACHED}.assignments')}",
)


class BulkCopy:
    """One table at a time: ``note_known``, ``copy_new_rows``, then (once every value has been
    checked) ``merge_known_rows`` and ``forget_known``."""

    def __init__(
        self,
        session: Session,
        owner: str,
        references: References,
        outcomes: Outcomes,
        rows: RowMerge,
    ) -> None:
        self.session = session
        self.owner = owner
        self.references = references
        self.outcomes = outcomes
        self.rows = rows

    def note_known(self, spec: TableSpec, columns: list[str]) -> bool:
        """Note the file's rows this site already has (temp.bbcs_known_<table>), and sort out
        in SQL those with nothing to do: older than here, or the same version with the same
        content (a county that sends everything again). False when the table here is empty
        (a first import: nothing to note)."""
        name = spec.name
        if self.session.scalar(select(spec.table.c.id).limit(1)) is None:
            return False
        if name in SEALED_TABLES:  # sealed here, in clear in the file: compared opened
            register_functions(self.session, self.rows.sealer)

        def here(c: str) -> str:
            return opened_sql(name, c, 'm."' + c + '"')

        same = " AND ".join(
            (
                f'r."{c}" IS (SELECT x.uuid FROM main."{spec.refs[c]}" x WHERE x.id = m."{c}")'
                if c in spec.refs
                else f'r."{c}" IS {here(c)}'
            )
            for c in columns
            if c != spec.owner_column
        )
        self.session.execute(text(f"DROP TABLE IF EXISTS temp.bbcs_known_{name}"))
        self.session.execute(
            text(
                f"CREATE TEMP TABLE bbcs_known_{name} AS SELECT r.uuid AS uuid, "
                "CASE WHEN m.origin_site != :owner OR r.uuid IN (SELECT c.entity_uuid FROM "
                "main.sync_conflicts c WHERE c.entity = :table AND c.resolved_at IS NULL) "
                "THEN 'check' WHEN r.version < m.version THEN 'older' "
                f"WHEN r.version = m.version AND {same} THEN 'same' ELSE 'check' END AS verdict "
                f'FROM {ATTACHED}."{name}" r CROSS JOIN main."{name}" m ON m.uuid = r.uuid'
            ),
            {"owner": self.owner, "table": name},
        )
        for verdict, count in self.session.execute(
            text(
                f"SELECT verdict, count(*) FROM temp.bbcs_known_{name} "
                "WHERE verdict != 'check' GROUP BY verdict"
            )
        ):
            reason = "本站点已有更新的版本" if verdict == "older" else "已是最新"
            self.outcomes.ignore(name, reason, count)
        return True

    def merge_known_rows(self, spec: TableSpec, columns: list[str]) -> None:
        """The rows this site already has that may change something go through the checks one
        by one (a weekly bundle: a few hundred)."""
        converters = python_values(spec, columns)
        names = ", ".join(f'r."{c}"' for c in columns)
        result = self.session.execute(
            text(
                f'SELECT {names} FROM {ATTACHED}."{spec.name}" r '
                f"WHERE r.uuid IN (SELECT uuid FROM temp.bbcs_known_{spec.name} "
                "WHERE verdict = 'check') ORDER BY r.rowid"
            )
        )
        try:  # an open statement on the file would keep it from being detached
            for chunk in result.partitions(ROW_CHUNK):
                rows = [[f(v) for f, v in zip(converters, row, strict=True)] for row in chunk]
                self.rows.merge_rows(spec, columns, rows)
        finally:
            result.close()

    def forget_known(self, spec: TableSpec) -> None:
        self.session.execute(text(f"DROP TABLE temp.bbcs_known_{spec.name}"))

    def copy_new_rows(
        self,
        spec: TableSpec,
        columns: list[str],
        checked: Callable[[], None],
        *,
        skip_known: bool,
    ) -> None:
        """Insert the rows this site does not have with one INSERT … SELECT.

        References are found here by UUID, and only among the sender's own cases, assignments
        and complainants: a reference that finds nothing (missing, or another site's) breaks a
        NOT NULL column, or leaves fewer references in a nullable one than were sent; either
        refuses the bundle. The records file has no indexes: every statement walks it once
        (CROSS JOIN keeps it the outer loop) and finds rows here by their indexed UUIDs.
        """
        t = spec.table
        name = spec.name
        source = f'{ATTACHED}."{name}"'
        new = f"r.uuid NOT IN (SELECT uuid FROM temp.bbcs_known_{name})" if skip_known else "1"
        refs = [(c, target) for c, target in spec.refs.items() if c in columns]
        nullable = [(c, target) for c, target in refs if t.c[c].nullable]
        sent: tuple[int, ...] = ()
        if nullable:
            sent = tuple(
                self.session.execute(
                    text(
                        "SELECT "
                        + ", ".join(f'count(r."{c}")' for c, _t in nullable)
                        + f" FROM {source} r WHERE {new}"
                    )
                ).one()
            )
        if self.session.scalar(text(f"SELECT 1 FROM {source} LIMIT 1")) is None:
            return
        # The file's tables are only ever appended to: the last rowid is the number of rows.
        sent_rows = self.session.scalar(text(f"SELECT max(rowid) FROM {source}")) or 0
        before = self.session.scalar(select(func.max(t.c.id))) or 0
        # Sealed on the way in, under this site's key (the sender opened its own seal).
        if name in SEALED_TABLES:
            register_functions(self.session, self.rows.sealer)
        derived = derived_sql(name, "r") + self._answered_sent(name)
        names = ", ".join(f'"{c}"' for c in [*columns, *(c for c, _sql in derived)])
        # A first import of a county is most of the table: its secondary indexes are built
        # once afterwards, in order, instead of updated row by row (half the time).
        triggers = self._drop_triggers(name) if name in SETTLED_IN_BULK else []
        rebuilt = self._drop_indexes(name) if sent_rows >= BULK_ROWS and sent_rows > before else []
        try:
            result = self.session.execute(
                text(
                    f'INSERT INTO main."{name}" ({names}, origin_site, change_seq) '
                    f"SELECT {', '.join(self._selected(spec, columns, derived))}, :owner, NULL "
                    f"FROM {source} r WHERE {new} ORDER BY r.rowid"
                ),
                {"owner": self.owner},
            )
        except IntegrityError:
            checked()  # a value of the wrong type explains it better than the database can
            self._find_bad_reference(spec, refs, new)
            find_duplicate(self.session, spec, source, schema="main.", new=new)
            raise
        if derived and name == "cases":
            self.session.execute(text("DROP TABLE IF EXISTS temp.bbcs_answered"))
        for sql in rebuilt:
            self.session.execute(text(sql))
        if triggers:
            for sql in triggers:
                self.session.execute(text(sql))
            self.session.execute(
                text(SETTLED_IN_BULK[name]),
                {"before": before, "first_new_case": self.outcomes.first_new_case},
            )
        incoming = max(result.rowcount, 0)  # type: ignore[attr-defined]
        if not incoming:
            return
        found = settle_added(
            self.session,
            self.owner,
            self.references,
            self.outcomes,
            Added(name, f'main."{name}"', source, before, incoming),
            refs,
            nullable,
            sent,
        )
        if not found:
            self._find_bad_reference(spec, refs, new)
            raise foreign_reference()

    def copy_search_text(self, checked: Callable[[], None]) -> int:
        """Index the bulk-added cases with the search text the sender shipped; returns how many
        it indexed (a case whose text did not come is indexed from its rows here)."""
        first = {"first": self.outcomes.first_new_case}
        self.session.execute(text("DELETE FROM case_search WHERE rowid >= :first"), first)
        bulk = self.outcomes.new_cases >= BULK_ROWS
        if bulk:
            for setting, value in FTS_BULK.items():
                self.session.execute(text(FTS_SETTING.format(setting, value)))
        try:
            result = self.session.execute(
                text(
                    "INSERT INTO case_search(rowid, body) SELECT c.id, s.body "
                    f"FROM {ATTACHED}.{SEARCH_TABLE} s CROSS JOIN main.cases c "
                    "ON c.uuid = s.uuid WHERE c.id >= :first"
                ),
                first,
            )
        except IntegrityError:
            checked()  # e.g. a case's search text sent twice
            raise
        indexed: int = max(result.rowcount, 0)  # type: ignore[attr-defined]
        if bulk:
            for setting, value in FTS_DEFAULTS.items():
                self.session.execute(text(FTS_SETTING.format(setting, value)))
        return indexed

    def _selected(
        self, spec: TableSpec, columns: list[str], derived: list[tuple[str, str]]
    ) -> list[str]:
        """Per column, the SQL that reads it from the file row ``r`` as it is stored here; then
        the ``derived`` columns'."""
        values: list[str] = []
        for column in columns:
            points_at = spec.refs.get(column)
            if points_at == spec.name:
                values.append("NULL")  # pointed at after every row is in
            elif points_at is not None:
                values.append(f"({self.references.owned_id(points_at, f'r.{column}')})")
            elif column == spec.owner_column:
                values.append(":owner")
            else:
                values.append(sealed_sql(spec.name, column, f'r."{column}"'))
        return values + [sql for _column, sql in derived]

    def _answered_sent(self, table: str) -> list[tuple[str, str]]:
        """For the cases: their departments_answered from the file's assignments (none sent:
        false, as migration 0020's default)."""
        if table != "cases":
            return []
        self.session.execute(text("DROP TABLE IF EXISTS temp.bbcs_answered"))
        sent = self.session.scalar(
            text(
                f"SELECT 1 FROM {ATTACHED}.sqlite_master "
                "WHERE type = 'table' AND name = 'assignments'"
            )
        )
        if not sent:
            return []
        for sql in _ANSWERED_SENT:
            self.session.execute(text(sql))
        return [
            (
                "departments_answered",
                "coalesce((SELECT a.answered FROM temp.bbcs_answered a "
                "WHERE a.case_uuid = r.uuid), 0)",
            )
        ]

    def _drop_triggers(self, table: str) -> list[str]:
        """Drop ``table``'s triggers for the copy (``SETTLED_IN_BULK``); the SQL to make them
        again."""
        return self._drop("trigger", table)

    def _drop_indexes(self, table: str) -> list[str]:
        """Drop ``table``'s own (non-constraint) indexes; returns the SQL that makes them again.
        None for a table with triggers: they run for each row added and may look the table up
        (those of migration 0020 read a case's assignments), which without its indexes is a
        scan per row."""
        if self.session.scalar(
            text("SELECT 1 FROM main.sqlite_master WHERE type = 'trigger' AND tbl_name = :table"),
            {"table": table},
        ):
            return []
        return self._drop("index", table)

    def _drop(self, kind: str, table: str) -> list[str]:
        """Drop ``table``'s objects of ``kind`` (SQL-made: not a constraint's index); the SQL
        that makes them again."""
        found = self.session.execute(
            text(
                "SELECT name, sql FROM main.sqlite_master "
                "WHERE type = :kind AND tbl_name = :table AND sql IS NOT NULL"
            ),
            {"kind": kind, "table": table},
        ).all()
        for name, _sql in found:
            self.session.execute(text(f'DROP {kind.upper()} main."{name}"'))
        return [sql for _name, sql in found]

    def _find_bad_reference(self, spec: TableSpec, refs: list[tuple[str, str]], new: str) -> None:
        """Refuse with the first reference of the new rows that points at nothing here, or at
        another site's record."""
        find_bad_reference(
            self.session,
            self.owner,
            self.references,
            f'{ATTACHED}."{spec.name}"',
            refs,
            schema="main.",
            new=new,
        )


def find_bad_reference(
    session: Session,
    owner: str,
    references: References,
    source: str,
    refs: Sequence[tuple[str, str]],
    *,
    schema: str = "",
    new: str = "TRUE",
) -> None:
    """Raise for the first row of ``source`` (those that are ``new``) whose reference points at
    nothing in this database (``schema``: SQLite's main., "" on PostgreSQL), or at a record of
    another site than the sender's; on either engine's bulk path."""
    for column, target in refs:
        missing = session.scalar(
            text(
                f'SELECT r."{column}" FROM {source} r WHERE {new} AND r."{column}" IS NOT NULL '
                f'AND NOT EXISTS (SELECT 1 FROM {schema}"{target}" x WHERE x.uuid = r."{column}") '
                "LIMIT 1"
            )
        )
        if missing is not None:
            raise missing_reference(target, missing)
        if session.scalar(
            text(
                f'SELECT 1 FROM {source} r WHERE {new} AND r."{column}" IS NOT NULL '
                f"AND ({references.owned_id(target, f'r.{column}')}) IS NULL LIMIT 1"
            ),
            {"owner": owner},
        ):
            raise foreign_reference()


def find_duplicate(
    session: Session, spec: TableSpec, source: str, *, schema: str = "", new: str = "TRUE"
) -> None:
    """Raise for the first row of ``source`` (those that are ``new``) that another record here,
    or another row sent with it, already holds the number or name of (a unique constraint but
    the UUID's): a county that reinstalled the program without its backup and made its units
    or numbers again. On either engine's bulk path, after the INSERT was refused."""
    t = spec.table
    keys = [
        [c.name for c in constraint.columns]
        for constraint in t.constraints
        if isinstance(constraint, UniqueConstraint)
    ] + [[c.name] for c in t.columns if c.unique]
    for columns in (k for k in keys if k and k != ["uuid"]):
        if any(c == "uuid" or c in spec.refs for c in columns):
            continue  # a reference is a UUID in the file and an id here: not comparable
        picked = ", ".join(f'r."{c}"' for c in columns)
        same = " AND ".join(f'm."{c}" = r."{c}"' for c in columns)
        found = session.execute(
            text(
                f"SELECT {picked} FROM {source} r WHERE {new} AND EXISTS (SELECT 1 FROM "
                f'{schema}"{spec.name}" m WHERE {same} AND m.uuid != r.uuid) LIMIT 1'
            )
        ).first()
        if found is None:  # two rows of the file itself
            found = session.execute(
                text(
                    f"SELECT {picked} FROM {source} r WHERE {new} "
                    f"GROUP BY {picked} HAVING count(*) > 1 LIMIT 1"
                )
            ).first()
        if found is not None:
            raise duplicate_record(spec.name, dict(zip(columns, found, strict=True)))


def duplicate_record(table: str, values: dict[str, object]) -> BundleRefused:
    """The refusal of a record whose number or name another one already holds."""
    label = TABLE_LABELS.get(table, table)
    shown = next((values[c] for c in ("number", "name", "title") if c in values), None)
    what = f"“{shown}”" if shown is not None else "（" + "、".join(map(str, values.values())) + "）"
    return BundleRefused(
        RefusalCode.BAD_CONTENT,
        f"数据包中的{label}{what}与本站点已有的另一条记录编号或名称相同、标识不同，整包未导入。"
        "发送方可能重新安装过程序、没有用备份恢复就重新建立了数据；请与发送方核对："
        "用原来的备份恢复后再导出，或请维护人员处理。",
    )


@dataclass(frozen=True)
class Added:
    """The rows a bulk ``INSERT … SELECT`` just added to a table."""

    name: str  # the table
    table: str  # as SQL names it (main."cases" on SQLite, "cases" on PostgreSQL)
    source: str  # the rows it took them from (the records file's table, or a staging table)
    before: int  # the table's highest id before: the new rows are those after it
    incoming: int


def settle_added(
    session: Session,
    owner: str,
    references: References,
    outcomes: Outcomes,
    added: Added,
    refs: Sequence[tuple[str, str]],
    nullable: Sequence[tuple[str, str]],
    sent: tuple[int, ...],
) -> bool:
    """After a bulk insert, on either engine: the new rows counted in the report, their
    references to their own table (linked cases, parent assignments) set now that every row
    is in, and whether each nullable reference that was sent found its row (False: the caller
    names the bad one and refuses)."""
    name = added.name
    if added.incoming:
        outcomes.report.added[name] += added.incoming
        if name == "cases":
            outcomes.first_new_case = added.before + 1
            outcomes.new_cases = added.incoming
    for column, target in refs:
        if target == name:
            session.execute(
                text(
                    f'UPDATE {added.table} AS m SET "{column}" = '
                    f"({references.owned_id(name, f'r.{column}')}) FROM {added.source} AS r "
                    f'WHERE r."{column}" IS NOT NULL AND m.uuid = r.uuid AND m.id > :before'
                ),
                {"before": added.before, "owner": owner},
            )
    if not nullable:
        return True
    counted = ", ".join(f'count("{c}")' for c, _t in nullable)
    found = session.execute(
        text(f"SELECT {counted} FROM {added.table} WHERE id > :before"), {"before": added.before}
    ).one()
    return sent == tuple(found)
