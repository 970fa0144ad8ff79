"""Records in bundles: how each table travels and how incoming rows are merged (DESIGN.md §6).

A bundle carries its records as one SQLite file with a table per synced table, rows as they
travel: references as UUIDs, times, dates, flags and JSON in the form SQLite stores them, plus the
cases' search text. ``write_records`` builds it; on SQLite with ``INSERT … SELECT`` into the file
attached to the database (a first upload of 100,000 cases is close to a million rows: none of
them pass through Python). ``RecordsFile`` opens a received one and checks every value's type in
SQL. ``RecordMerger`` merges it by UUID and version: new rows are added (on SQLite with one
``INSERT … SELECT`` per table, references mapped to local ids by their UUIDs), newer versions
update, older or equal ones are ignored, and a record that arrives with its local version but
other content goes to the conflict queue. Only the site a record came from (``origin_site``) may
send it again, and records may only hang off the sender's own cases.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    bindparam,
    case,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.sql import column as sql_column
from sqlalchemy.sql import table as sql_table

from desktop_app.errors import NotFound
from desktop_app.services.exchange.bundle_file import UUID_PATTERN
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.storage import search
from desktop_app.storage.models import Base, Case, Complainant, SyncConflict

log = logging.getLogger(__name__)

ID_CHUNK: Final = 2000
ROW_CHUNK: Final = 5000
SEARCH_TABLE: Final = "case_search"  # in a records file: (uuid, body) of the cases it carries
ATTACHED: Final = "rec"  # the schema name of a records file attached to a SQLite database
FTS_SETTING: Final = "INSERT INTO case_search(case_search, rank) VALUES('{}', {})"
# FTS5's defaults, and what a bulk insert of search text uses instead: no merging of the index's
# segments meanwhile, and terms gathered in memory 16 times as long before a segment is written
# (a quarter faster for 100,000 cases).
FTS_DEFAULTS: Final = {"automerge": 4, "hashsize": 1024 * 1024}
FTS_BULK: Final = {"automerge": 0, "hashsize": 16 * 1024 * 1024}
BULK_ROWS: Final = 10_000  # from this many new rows a table's indexes are rebuilt, not updated


@dataclass(frozen=True)
class TableSpec:
    """How one table travels: references (as UUIDs) and the column that names the owner site."""

    name: str
    refs: dict[str, str] = field(default_factory=dict)
    # The column naming the owning site: set to the sender on import, checked on update.
    owner_column: str = ""
    blank_is_local: bool = True  # "" in owner_column means "this site" (departments, slips)
    dropped: tuple[str, ...] = ()

    @property
    def table(self) -> Table:
        return Base.metadata.tables[self.name]

    def columns(self) -> list[str]:
        skip = {"id", "change_seq", "origin_site", *self.dropped}
        return [c.name for c in self.table.columns if c.name not in skip]


DATA_TABLES: Final = (
    TableSpec("departments", owner_column="site_code"),
    TableSpec("complainants"),
    TableSpec(
        "cases",
        refs={
            "complainant_id": "complainants",
            "stuck_department_id": "departments",
            "linked_case_id": "cases",
        },
        owner_column="site_code",
        blank_is_local=False,
        dropped=("created_by_id",),
    ),
    TableSpec("case_events", refs={"case_id": "cases"}),
    TableSpec("attachments", refs={"case_id": "cases"}),
    TableSpec(
        "assignments",
        refs={"case_id": "cases", "department_id": "departments", "parent_id": "assignments"},
    ),
    TableSpec("slips", refs={"assignment_id": "assignments"}, owner_column="site_code"),
)
SPECS: Final = {spec.name: spec for spec in DATA_TABLES}
TABLE_LABELS: Final = {
    "departments": "部门",
    "complainants": "反映人",
    "cases": "事项",
    "case_events": "办理记录",
    "attachments": "材料",
    "assignments": "交办",
    "slips": "交办单",
    "areas": "领域",
    "holiday_overrides": "节假日调整",
    "rules": "期限规则",
}


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do). ``refused`` carries the reason."""

    path: str
    kind: str = ""
    bundle_id: str = ""
    from_site: str = ""
    from_name: str = ""
    created_at: str = ""
    dry_run: bool = False
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    ignored: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    refused: bool = False
    code: str = ""
    reason: str = ""
    ack_path: str = ""
    notes: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        return {
            "added": sum(self.added.values()),
            "updated": sum(self.updated.values()),
            "ignored": sum(self.ignored.values()),
            "conflicts": sum(self.conflicts.values()),
        }

    def to_json(self) -> dict[str, Any]:
        totals = self.totals()
        return {
            "path": self.path,
            "kind": self.kind,
            "bundle_id": self.bundle_id,
            "from_site": self.from_site,
            "from_name": self.from_name,
            "created_at": self.created_at,
            "dry_run": self.dry_run,
            **totals,
            "refused": self.refused,
            "code": self.code,
            "reason": self.reason,
            "by_table": {
                name: {
                    "added": self.added[name],
                    "updated": self.updated[name],
                    "ignored": self.ignored[name],
                    "conflicts": self.conflicts[name],
                }
                for name in sorted(
                    set(self.added) | set(self.updated) | set(self.ignored) | set(self.conflicts)
                )
            },
            "ignored_reasons": dict(self.reasons),
            "ack_path": self.ack_path,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """One line in Chinese for the screen and the console."""
        if self.refused:
            return f"拒绝导入：{self.reason}"
        if self.kind == "ack":
            if self.updated:
                return f"{self.from_name}已确认收到数据包，下次导出将从此之后的变化开始"
            return f"{self.from_name}的这份回执已导入过，未做更改"
        t = self.totals()
        verb = "预检（未导入）" if self.dry_run else "已导入"
        who = f"{self.from_name or self.from_site}" if self.from_site else ""
        text = (
            f"{verb}{who}：新增 {t['added']} 条，更新 {t['updated']} 条，"
            f"忽略 {t['ignored']} 条，冲突 {t['conflicts']} 条"
        )
        if self.reasons:
            text += (
                "（忽略原因：" + "；".join(f"{r} {n} 条" for r, n in self.reasons.items()) + "）"
            )
        return text


# Writing a records file ---------------------------------------------------------------------


def travel_select(spec: TableSpec, local_code: str) -> Select[Any]:
    """A table's rows as they travel: references as UUIDs, this site's blank owner filled in."""
    t = spec.table
    selected: list[Any] = []
    joins = []
    for name in spec.columns():
        target = spec.refs.get(name)
        if target is not None:
            alias = Base.metadata.tables[target].alias(f"ref_{name}")
            joins.append((alias, t.c[name] == alias.c.id))
            selected.append(alias.c.uuid.label(name))
        elif name == spec.owner_column and spec.blank_is_local:
            selected.append(case((t.c[name] == "", local_code), else_=t.c[name]).label(name))
        else:
            selected.append(t.c[name])
    query = select(*selected).select_from(t)
    for alias, condition in joins:
        query = query.outerjoin(alias, condition)
    return query


def write_records(
    session: Session,
    path: Path,
    tables: Sequence[tuple[TableSpec, ColumnElement[bool] | None]],
    local_code: str,
    *,
    attached: bool,
    search_bodies: bool = False,
) -> dict[str, int]:
    """Write each table's own rows matching its condition (all of them for None) to the records
    file ``path``; returns the count per table.

    ``attached``: ``path`` is attached to ``session``'s SQLite connection as ``rec`` and the
    database copies the rows itself, with the cases' search text when ``search_bodies``;
    otherwise (PostgreSQL) the rows go through Python.
    """
    queries = []
    for spec, condition in tables:
        query = travel_select(spec, local_code).where(owned_here(spec))
        queries.append((spec, query if condition is None else query.where(condition)))
    if not attached:
        return _write_records_through_python(session, path, queries)
    counts: dict[str, int] = {}
    for spec, query in queries:
        columns = spec.columns()
        session.execute(text(records_table_sql(spec.name, columns, ATTACHED)))
        target = Table(spec.name, MetaData(), *(Column(c) for c in columns), schema=ATTACHED)
        result = session.execute(insert(target).from_select(columns, query))
        counts[spec.name] = max(result.rowcount, 0)  # type: ignore[attr-defined]
    if search_bodies:
        cases = next((c for spec, c in tables if spec.name == "cases"), None)
        index = sql_table("case_search", sql_column("rowid"), sql_column("body"))
        bodies = (
            select(Case.uuid, index.c.body)
            .join(index, index.c.rowid == Case.id)
            .where(owned_here(SPECS["cases"]))
        )
        if cases is not None:
            bodies = bodies.where(cases)
        target = Table(SEARCH_TABLE, MetaData(), Column("uuid"), Column("body"), schema=ATTACHED)
        session.execute(text(records_table_sql(SEARCH_TABLE, ["uuid", "body"], ATTACHED)))
        session.execute(insert(target).from_select(["uuid", "body"], bodies))
    return counts


def _write_records_through_python(
    session: Session, path: Path, queries: list[tuple[TableSpec, Select[Any]]]
) -> dict[str, int]:
    counts: dict[str, int] = {}
    with contextlib.closing(sqlite3.connect(path)) as own:
        for spec, query in queries:
            columns = spec.columns()
            own.execute(records_table_sql(spec.name, columns))
            converters = [stored_form(spec.table.c[c].type) for c in columns]
            marks = ", ".join("?" * len(columns))
            count = 0
            for rows in session.execute(query).partitions(ROW_CHUNK):
                own.executemany(
                    f'INSERT INTO "{spec.name}" VALUES ({marks})',
                    ([f(v) for f, v in zip(converters, row, strict=True)] for row in rows),
                )
                count += len(rows)
            counts[spec.name] = count
        own.commit()
    return counts


def records_table_sql(name: str, columns: Sequence[str], schema: str = "") -> str:
    """How a records file's table is made: named columns without types, so every value keeps
    the storage class it was sent with. SQLite keeps this text, minus the schema, in
    sqlite_master: a received file is held to exactly this form."""
    where = f"{schema}." if schema else ""
    return f'CREATE TABLE {where}"{name}" (' + ", ".join(f'"{c}"' for c in columns) + ")"


_RECORDS_TABLE = re.compile(r'CREATE TABLE "([a-z_]+)" \("[a-z0-9_]+"(?:, "[a-z0-9_]+")*\)')


# Reading a records file ---------------------------------------------------------------------


class RecordsFile:
    """A received records file, opened read-only; ``check_values`` refuses any value of the
    wrong type.

    The file is signed by a registered site and checked against its manifest before it is
    opened; its schema is still held to plain tables of the expected names.
    """

    def __init__(self, path: Path, bundle_name: str) -> None:
        self.path = path
        self.bundle_name = bundle_name
        self.connection = sqlite3.connect(
            f"{_file_uri(path)}?mode=ro", uri=True, check_same_thread=False
        )
        self.columns: dict[str, list[str]] = {}
        try:
            self.connection.execute("PRAGMA trusted_schema = OFF")
            objects = self.connection.execute(
                "SELECT type, name, sql FROM sqlite_master"
            ).fetchall()
            allowed = {*SPECS, SEARCH_TABLE}
            for kind, name, sql in objects:
                # Only tables exactly as records_table_sql makes them: no views, triggers,
                # indexes, virtual, WITHOUT ROWID or generated columns, no constraints.
                made = _RECORDS_TABLE.fullmatch(sql) if isinstance(sql, str) else None
                if kind != "table" or name not in allowed or made is None or made[1] != name:
                    raise self._bad("中有不应有的内容")
                self.columns[name] = [
                    row[1] for row in self.connection.execute(f'PRAGMA table_info("{name}")')
                ]
        except sqlite3.DatabaseError:
            self.close()
            raise self._bad("无法读取") from None
        except BundleRefused:
            self.close()
            raise

    def close(self) -> None:
        self.connection.close()

    def interrupt(self) -> None:
        """Stop a check running on another thread (the import has failed anyway)."""
        self.connection.interrupt()

    def tables(self) -> list[TableSpec]:
        return [spec for spec in DATA_TABLES if spec.name in self.columns]

    def has_search_text(self) -> bool:
        return SEARCH_TABLE in self.columns

    def count(self, spec: TableSpec) -> int:
        if spec.name not in self.columns:
            return 0
        return int(self.connection.execute(f'SELECT count(*) FROM "{spec.name}"').fetchone()[0])

    def known_columns(self) -> dict[str, list[str]]:
        """Per table sent, the columns this site knows (a newer sender's extra ones are left)."""
        out: dict[str, list[str]] = {}
        for spec in self.tables():
            sent = self.columns[spec.name]
            if "uuid" not in sent or "version" not in sent or len(set(sent)) != len(sent):
                raise self._bad(f"中“{TABLE_LABELS[spec.name]}”缺少必需的列")
            known = set(spec.columns())
            out[spec.name] = [c for c in sent if c in known]
        if SEARCH_TABLE in self.columns and self.columns[SEARCH_TABLE] != ["uuid", "body"]:
            raise self._bad("中的检索内容格式不正确")
        return out

    def check_values(self, columns: dict[str, list[str]]) -> None:
        """Refuse the bundle at the first value of the wrong type or form: one SQL pass over
        each table. Safe to run on another thread while the rows are being copied."""
        try:
            for spec in self.tables():
                if self.connection.execute(
                    f'SELECT 1 FROM "{spec.name}" GROUP BY uuid HAVING count(*) > 1 LIMIT 1'
                ).fetchone():
                    label = TABLE_LABELS[spec.name]
                    raise self._bad(f"中同一条“{label}”记录出现了不止一次")
                checks = {c: _check_sql(spec, c) for c in columns[spec.name]}
                bad = self.connection.execute(
                    f'SELECT rowid FROM "{spec.name}" '
                    f"WHERE NOT coalesce({' AND '.join(checks.values())}, 0) LIMIT 1"
                ).fetchone()
                if bad is None:
                    continue
                for column, check in checks.items():
                    ok = self.connection.execute(
                        f'SELECT coalesce({check}, 0) FROM "{spec.name}" WHERE rowid = ?', bad
                    ).fetchone()
                    if ok is None:  # the row the first pass found is gone: a damaged file
                        raise self.damaged()
                    if not ok[0]:
                        label = TABLE_LABELS[spec.name]
                        raise self._bad(f"中“{label}”的“{column}”格式不正确")
                # Every column passes on its own, though the row failed: the file reads
                # differently each time, i.e. it is damaged.
                raise self.damaged()
            if SEARCH_TABLE in self.columns and (
                self.connection.execute(
                    f"SELECT 1 FROM {SEARCH_TABLE} WHERE typeof(uuid) != 'text' "
                    "OR typeof(body) != 'text' LIMIT 1"
                ).fetchone()
                or self.connection.execute(
                    f"SELECT 1 FROM {SEARCH_TABLE} GROUP BY uuid HAVING count(*) > 1 LIMIT 1"
                ).fetchone()
            ):
                raise self._bad("中的检索内容格式不正确")
        except sqlite3.DatabaseError:
            raise self._bad("无法读取") from None

    def rows(self, spec: TableSpec, columns: list[str]) -> Iterator[list[list[Any]]]:
        """The rows of a table, typed for SQLAlchemy, a chunk at a time."""
        converters = python_values(spec, columns)
        names = ", ".join(f'"{c}"' for c in columns)
        cursor = self.connection.execute(f'SELECT {names} FROM "{spec.name}" ORDER BY rowid')
        while chunk := cursor.fetchmany(ROW_CHUNK):
            yield [[f(v) for f, v in zip(converters, row, strict=True)] for row in chunk]

    def damaged(self) -> BundleRefused:
        return self._bad("已损坏（无法读取）")

    def _bad(self, what: str) -> BundleRefused:
        return BundleRefused(
            RefusalCode.BAD_CONTENT, f"数据包“{self.bundle_name}”的记录{what}，拒绝导入。"
        )


_SIX_DIGITS: Final = "[0-9]" * 6
_HEX: Final = "[0-9a-f]"
_UUID_GLOB: Final = "-".join(_HEX * n for n in (8, 4, 4, 4, 12))


def _file_uri(path: Path) -> str:
    """An SQLite URI for a local path, a drive path or a UNC path (``//server/share/…`` needs
    four slashes: SQLite refuses a URI authority)."""
    posix = quote(path.absolute().as_posix(), safe="/:")
    if posix.startswith("//"):
        return f"file://{posix}"
    return f"file:{'' if posix.startswith('/') else '/'}{posix}"


def _check_sql(spec: TableSpec, name: str) -> str:
    """An SQL condition that holds when a value of column ``name`` is of the right type."""
    column = spec.table.c[name]
    c = f'"{name}"'
    if name == "uuid":
        return f"typeof({c}) = 'text' AND {c} GLOB '{_UUID_GLOB}'"
    if name in spec.refs:
        # Only its type: a reference is looked up by UUID, and one that finds nothing refuses
        # the bundle (_missing_reference says whether it was not a UUID at all).
        return f"({c} IS NULL OR typeof({c}) = 'text')"
    if name == "version":
        return f"(typeof({c}) = 'integer' AND {c} >= 1)"
    kind = column.type
    if isinstance(kind, DateTime):
        # As SQLAlchemy stores it, with or without microseconds. The round trip through
        # julianday() turns 02-30 into 03-02, so only real days and times pass.
        ok = (
            f"typeof({c}) = 'text' "
            f"AND substr({c}, 1, 19) = datetime(julianday(substr({c}, 1, 19))) "
            f"AND (length({c}) = 19 OR {c} GLOB '????-??-?? ??:??:??.{_SIX_DIGITS}')"
        )
    elif isinstance(kind, Date):
        ok = f"typeof({c}) = 'text' AND {c} = date(julianday({c}))"
    elif isinstance(kind, Boolean):
        ok = f"typeof({c}) = 'integer' AND {c} IN (0, 1)"
    elif isinstance(kind, JSON):
        ok = f"typeof({c}) = 'text' AND json_valid({c})"
    elif isinstance(kind, Integer):
        ok = f"typeof({c}) = 'integer'"
    elif isinstance(kind, String | Text):
        limit = getattr(kind, "length", None)
        ok = f"typeof({c}) = 'text'" + (f" AND length({c}) <= {int(limit)}" if limit else "")
    else:
        ok = "1"
    if column.nullable:
        return f"({c} IS NULL OR ({ok}))"
    return f"({c} IS NOT NULL AND {ok})"


def python_values(spec: TableSpec, columns: list[str]) -> list[Callable[[Any], Any]]:
    """Per column, a stored (SQLite) value to the Python value SQLAlchemy takes; references
    stay UUIDs."""
    t = spec.table
    return [_same if name in spec.refs else python_form(t.c[name].type) for name in columns]


def stored_form(column_type: Any) -> Callable[[Any], Any]:
    """A Python value in the form SQLite stores it, the form records travel in (SQLAlchemy's own
    SQLite conversion: ``2026-11-25 09:30:00.000000``, 0/1, JSON text)."""
    convert = column_type.dialect_impl(_SQLITE).bind_processor(_SQLITE)
    return convert or _same


def python_form(column_type: Any) -> Callable[[Any], Any]:
    """The other way: a stored value to the Python value (SQLAlchemy's SQLite conversion)."""
    convert = column_type.dialect_impl(_SQLITE).result_processor(_SQLITE, None)
    return convert or _same


_SQLITE: Final = sqlite_dialect.dialect()


def _same(value: Any) -> Any:
    return value


# Merging ------------------------------------------------------------------------------------


class RecordMerger:
    """Merges a records file into the database by UUID and version, within one transaction.

    ``attached``: the file is attached to the session's SQLite connection as ``rec`` and new
    rows are copied by the database; otherwise (PostgreSQL) every row goes through Python.
    """

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
    ) -> None:
        self.session = session
        self.owner = owner
        self.bundle_id = bundle_id
        self.now = now
        self.report = report
        self.local_code = local_code
        self.attached = attached
        self.ids: dict[str, dict[str, int]] = {}
        self.touched_cases: set[int] = set()
        self.touched_complainants: set[int] = set()
        self.first_new_case = 0  # bulk-added cases have ids from here on (0: none)
        self.new_cases = 0
        self._held: dict[str, set[str]] = {}  # by table: UUIDs with an open conflict
        # By table: (row UUID, column, target UUID) of references to rows of the same table,
        # set once the whole table is in (the target may come in a later chunk).
        self._self_refs: dict[str, list[tuple[str, str, str]]] = {}

    def merge_file(
        self, records: RecordsFile, columns: dict[str, list[str]], checked: Callable[[], None]
    ) -> None:
        """Add, update, ignore or queue every row of ``records``.

        ``checked`` returns once every value in the file passed ``RecordsFile.check_values``
        (and raises if one did not); it is called before any value is read into Python. On
        SQLite the new rows are copied by the database meanwhile, so the caller must call it
        too before committing (a first import never reads a value here).
        """
        tables = records.tables()
        if not self.attached:
            checked()
            for spec in tables:
                for rows in records.rows(spec, columns[spec.name]):
                    self.merge_rows(spec, columns[spec.name], rows)
                self.finish_table(spec)
            return
        known: dict[str, bool] = {}
        try:
            for spec in tables:
                known[spec.name] = self._note_known(spec, columns[spec.name])
                self._copy_new_rows(spec, columns[spec.name], checked, skip_known=known[spec.name])
        except (IntegrityError, OperationalError, ProgrammingError):
            raise
        except DatabaseError as exc:  # SQLite could not read the file: a damaged page
            checked()  # names the first bad value, if the damage shows there
            raise records.damaged() from exc
        if any(known.values()):
            checked()
        for spec in tables:
            if known[spec.name]:
                self._merge_known_rows(spec, columns[spec.name])
                self.finish_table(spec)
                self.session.execute(text(f"DROP TABLE temp.bbcs_known_{spec.name}"))

    def _note_known(self, spec: TableSpec, columns: list[str]) -> bool:
        """Note the file's rows this site already has (temp.bbcs_known_<table>), and sort out
        in SQL those with nothing to do: older than here, or the same version with the same
        content (a county that sends everything again). False when the table here is empty
        (a first import: nothing to note)."""
        name = spec.name
        if self.session.scalar(select(spec.table.c.id).limit(1)) is None:
            return False
        same = " AND ".join(
            (
                f'r."{c}" IS (SELECT x.uuid FROM main."{spec.refs[c]}" x WHERE x.id = m."{c}")'
                if c in spec.refs
                else f'r."{c}" IS m."{c}"'
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
            self.report.ignored[name] += count
            self.report.reasons[reason] += count
        return True

    def _merge_known_rows(self, spec: TableSpec, columns: list[str]) -> None:
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
                self.merge_rows(spec, columns, rows)
        finally:
            result.close()

    def _copy_new_rows(
        self,
        spec: TableSpec,
        columns: list[str],
        checked: Callable[[], None],
        *,
        skip_known: bool,
    ) -> None:
        """Insert the rows this site does not have with one INSERT … SELECT (SQLite).

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
        values: list[str] = []
        for column in columns:
            points_at = spec.refs.get(column)
            if points_at == name:
                values.append("NULL")  # pointed at after every row is in
            elif points_at is not None:
                values.append(f"({self._owned_id(points_at, f'r.{column}')})")
            elif column == spec.owner_column:
                values.append(":owner")
            else:
                values.append(f'r."{column}"')
        names = ", ".join(f'"{c}"' for c in columns)
        # A first import of a county is most of the table: its secondary indexes are built
        # once afterwards, in order, instead of updated row by row (half the time).
        rebuilt = self._drop_indexes(name) if sent_rows >= BULK_ROWS and sent_rows > before else []
        try:
            result = self.session.execute(
                text(
                    f'INSERT INTO main."{name}" ({names}, origin_site, change_seq) '
                    f"SELECT {', '.join(values)}, :owner, NULL FROM {source} r WHERE {new} "
                    "ORDER BY r.rowid"
                ),
                {"owner": self.owner},
            )
        except IntegrityError:
            checked()  # a value of the wrong type explains it better than the database can
            self._find_bad_reference(spec, refs, new)
            raise
        for sql in rebuilt:
            self.session.execute(text(sql))
        incoming = max(result.rowcount, 0)  # type: ignore[attr-defined]
        if not incoming:
            return
        self.report.added[name] += incoming
        if name == "cases":
            self.first_new_case = before + 1
            self.new_cases = incoming
        for column, target in refs:
            if target == name:
                self.session.execute(
                    text(
                        f'UPDATE main."{name}" AS m SET "{column}" = '
                        f"({self._owned_id(name, f'r.{column}')}) FROM {source} AS r "
                        f'WHERE r."{column}" IS NOT NULL AND m.uuid = r.uuid AND m.id > :before'
                    ),
                    {"before": before, "owner": self.owner},
                )
        if nullable:
            counted = ", ".join(f'count("{c}")' for c, _t in nullable)
            found = self.session.execute(
                text(f'SELECT {counted} FROM main."{name}" WHERE id > :before'),
                {"before": before},
            ).one()
            if sent != tuple(found):
                self._find_bad_reference(spec, refs, new)
                raise _foreign_reference()

    def _owned_id(self, table: str, uuid_sql: str) -> str:
        """SQL: the id of the ``table`` row with UUID ``uuid_sql`` if records of the sender may
        point at it (NULL otherwise): the sender's own cases, their assignments, and the
        complainants it sent; any department. The one place this rule is written, for the bulk
        copy and for the row-by-row merge alike."""
        here = "main." if self.attached else ""
        if table == "cases":
            return (
                f"SELECT x.id FROM {here}cases x WHERE x.uuid = {uuid_sql} AND x.site_code = :owner"
            )
        if table == "complainants":
            return (
                f"SELECT x.id FROM {here}complainants x WHERE x.uuid = {uuid_sql} "
                "AND x.origin_site = :owner"
            )
        if table == "assignments":
            return (
                f"SELECT x.id FROM {here}assignments x CROSS JOIN {here}cases c "
                f"ON c.id = x.case_id WHERE x.uuid = {uuid_sql} AND c.site_code = :owner"
            )
        return f'SELECT x.id FROM {here}"{table}" x WHERE x.uuid = {uuid_sql}'

    def _drop_indexes(self, table: str) -> list[str]:
        """Drop ``table``'s own (non-constraint) indexes; returns the SQL that makes them again."""
        found = self.session.execute(
            text(
                "SELECT name, sql FROM main.sqlite_master "
                "WHERE type = 'index' AND tbl_name = :table AND sql IS NOT NULL"
            ),
            {"table": table},
        ).all()
        for index_name, _sql in found:
            self.session.execute(text(f'DROP INDEX main."{index_name}"'))
        return [sql for _name, sql in found]

    def _find_bad_reference(self, spec: TableSpec, refs: list[tuple[str, str]], new: str) -> None:
        """Refuse with the first reference of the new rows that points at nothing here, or at
        another site's record."""
        source = f'{ATTACHED}."{spec.name}"'
        for column, target in refs:
            missing = self.session.scalar(
                text(
                    f'SELECT r."{column}" FROM {source} r WHERE {new} AND r."{column}" IS NOT NULL '
                    f'AND NOT EXISTS (SELECT 1 FROM main."{target}" x WHERE x.uuid = r."{column}") '
                    "LIMIT 1"
                )
            )
            if missing is not None:
                raise _missing_reference(target, missing)
            if self.session.scalar(
                text(
                    f'SELECT 1 FROM {source} r WHERE {new} AND r."{column}" IS NOT NULL '
                    f"AND ({self._owned_id(target, f'r.{column}')}) IS NULL LIMIT 1"
                ),
                {"owner": self.owner},
            ):
                raise _foreign_reference()

    def merge_rows(self, spec: TableSpec, columns: list[str], rows: list[list[Any]]) -> None:
        """The row-by-row merge: rows typed for SQLAlchemy, compared with what is here."""
        if not rows:
            return
        t = spec.table
        name = spec.name
        position = {c: i for i, c in enumerate(columns)}
        uuid_at, version_at = position["uuid"], position["version"]
        for column, target in spec.refs.items():  # the file's check saw only their type
            if column in position:
                at = position[column]
                for row in rows:
                    ref = row[at]
                    if ref is not None and not (
                        isinstance(ref, str) and UUID_PATTERN.fullmatch(ref)
                    ):
                        raise _missing_reference(target, ref)
        uuids = [row[uuid_at] for row in rows]
        existing = self._existing(t, uuids)
        local_rows = self._travelling(spec, columns, [u for u in uuids if u in existing])
        held = self._held_uuids(name)
        owner_at = position.get(spec.owner_column) if spec.owner_column else None
        new_rows: list[list[Any]] = []
        updates: list[dict[str, Any]] = []
        self_refs = self._self_refs.setdefault(name, [])
        seen: set[str] = set()
        for row in rows:
            the_uuid = row[uuid_at]
            if the_uuid in seen:
                raise BundleRefused(
                    RefusalCode.BAD_CONTENT, f"数据包中同一条记录出现了两次（{name}）。"
                )
            seen.add(the_uuid)
            if owner_at is not None:
                row[owner_at] = self.owner
            local = existing.get(the_uuid)
            if local is None:
                new_rows.append(row)
                continue
            local_id, local_version, origin = local
            incoming_version = row[version_at]
            same = local_rows.get(the_uuid) == row
            reason = ""
            if origin != self.owner:
                reason = "与本站点或其他站点的记录标识相同"
            elif the_uuid in held and not same:
                reason = "该记录有未处理的冲突，新收到的版本一并留待处理"
            elif incoming_version == local_version and not same:
                reason = "同一版本的内容不同（对方可能恢复过备份后重新修改）"
            if reason:
                values = dict(zip(columns, row, strict=True))
                self._conflict(spec, the_uuid, local_version, incoming_version, values, reason)
            elif incoming_version < local_version:
                self._ignore(name, "本站点已有更新的版本")
            elif incoming_version == local_version:
                self._ignore(name, "已是最新")
            else:
                values = dict(zip(columns, row, strict=True))
                db_values = self._db_values(spec, values, self_refs, the_uuid)
                db_values["origin_site"] = self.owner
                db_values["change_seq"] = None
                db_values["b_id"] = local_id
                updates.append(db_values)
                self.report.updated[name] += 1
        mapping = self.ids.setdefault(name, {})
        # Only the sender's own rows may be pointed at without asking (see _lookup).
        mapping.update({u: v[0] for u, v in existing.items() if v[2] == self.owner})
        if new_rows:
            self.report.added[name] += len(new_rows)
            dicts = [
                self._db_values(spec, dict(zip(columns, row, strict=True)), self_refs, row[uuid_at])
                | {"origin_site": self.owner, "change_seq": None}
                for row in new_rows
            ]
            for chunk in chunks(dicts, ROW_CHUNK):
                result = self.session.execute(insert(t).returning(t.c.uuid, t.c.id), chunk)
                mapping.update({u: i for u, i in result.all()})
        if updates:
            columns_set = [k for k in updates[0] if k != "b_id"]
            statement = (
                update(t)
                .where(t.c.id == bindparam("b_id"))
                .values({c: bindparam(c) for c in columns_set})
            )
            self.session.connection().execute(statement, updates)
        touched = {mapping[row[uuid_at]] for row in new_rows} | {u["b_id"] for u in updates}
        if name == "cases":
            self.touched_cases.update(touched)
        if name == "complainants":
            self.touched_complainants.update(touched)

    def finish_table(self, spec: TableSpec) -> None:
        """Point the table's rows at rows of the same table, now that all of them are in."""
        pending = self._self_refs.pop(spec.name, [])
        t = spec.table
        for column in {column for _uuid, column, _target in pending}:
            self.session.connection().execute(
                update(t)
                .where(t.c.uuid == bindparam("b_uuid"))
                .values({column: bindparam("b_id")}),
                [
                    {"b_uuid": row_uuid, "b_id": self._lookup(spec.name, target)}
                    for row_uuid, c, target in pending
                    if c == column
                ],
            )

    def overwrite(self, spec: TableSpec, the_uuid: str, values: dict[str, Any]) -> None:
        """Apply one stored incoming record over the local one (conflict resolution)."""
        t = spec.table
        local_id = self.session.scalar(select(t.c.id).where(t.c.uuid == the_uuid))
        if local_id is None:
            raise NotFound("本地记录已不存在。")
        columns = [c for c in values if c in t.c]
        row = [f(values[c]) for f, c in zip(python_values(spec, columns), columns, strict=True)]
        self_refs: list[tuple[str, str, str]] = []
        db_values = self._db_values(spec, dict(zip(columns, row, strict=True)), self_refs, the_uuid)
        for _row_uuid, column, target_uuid in self_refs:
            db_values[column] = self._lookup(spec.name, target_uuid)
        db_values["origin_site"] = self.owner
        db_values["change_seq"] = None
        self.session.execute(update(t).where(t.c.id == local_id).values(db_values))
        if spec.name == "cases":
            self.touched_cases.add(local_id)
        if spec.name == "complainants":
            self.touched_complainants.add(local_id)

    def reindex(
        self, *, shipped_search: bool = False, checked: Callable[[], None] = lambda: None
    ) -> None:
        """Search rows for the cases this import added or changed: the sender's own search
        text for bulk-added cases where it came with them (and was made the same way), the
        text built here for the rest (FTS5 on SQLite, a plain table on PostgreSQL).

        ``checked``: as for ``merge_file``, called before a value is read into Python (the
        text built here) and to explain a bulk insert the database refuses.
        """
        ids = set(self.touched_cases)
        if self.touched_complainants:
            for chunk in chunks(sorted(self.touched_complainants), ID_CHUNK):
                ids.update(
                    self.session.scalars(select(Case.id).where(Case.complainant_id.in_(chunk)))
                )
        if self.first_new_case:
            first = {"first": self.first_new_case}
            ids = {i for i in ids if i < self.first_new_case}  # the new ones follow
            indexed = 0
            if shipped_search and self.attached:
                self.session.execute(text("DELETE FROM case_search WHERE rowid >= :first"), first)
                bulk = self.new_cases >= BULK_ROWS
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
                indexed = max(result.rowcount, 0)  # type: ignore[attr-defined]
                if bulk:
                    for setting, value in FTS_DEFAULTS.items():
                        self.session.execute(text(FTS_SETTING.format(setting, value)))
            if indexed != self.new_cases:
                ids.update(
                    self.session.scalars(
                        text(
                            "SELECT id FROM main.cases WHERE id >= :first AND id NOT IN "
                            "(SELECT rowid FROM case_search WHERE rowid >= :first)"
                        ),
                        first,
                    )
                )
        if not ids:
            return
        checked()
        for chunk in chunks(sorted(ids), ID_CHUNK):
            rows = self.session.execute(
                select(
                    Case.id,
                    Case.number,
                    Complainant.name,
                    Case.title,
                    Case.description,
                    Case.stuck_at,
                    Complainant.phone,
                )
                .join(Complainant, Case.complainant_id == Complainant.id)
                .where(Case.id.in_(chunk))
            ).all()
            self.session.execute(
                text(f"DELETE FROM case_search WHERE rowid IN ({','.join(map(str, chunk))})")
            )
            self.session.execute(
                text("INSERT INTO case_search(rowid, body) VALUES (:id, :body)"),
                [
                    {
                        "id": r[0],
                        "body": search.index_text(search.case_fields(*r[1:])),
                    }
                    for r in rows
                ],
            )

    def _db_values(
        self,
        spec: TableSpec,
        values: dict[str, Any],
        self_refs: list[tuple[str, str, str]],
        row_uuid: str,
    ) -> dict[str, Any]:
        out = dict(values)
        for column, target in spec.refs.items():
            ref = out.get(column)
            if ref is None:
                continue
            if target == spec.name:
                self_refs.append((row_uuid, column, ref))
                out[column] = None
                continue
            out[column] = self._lookup(target, ref)
        return out

    def _lookup(self, table: str, the_uuid: str) -> int:
        """The local id of a row the incoming records may point at; refuses the bundle for a
        row that is not here or not the sender's to point at (``_owned_id``)."""
        mapping = self.ids.setdefault(table, {})
        found = mapping.get(the_uuid)
        if found is None:
            found = self.session.scalar(
                text(self._owned_id(table, ":uuid")), {"uuid": the_uuid, "owner": self.owner}
            )
            if found is None:
                t = Base.metadata.tables[table]
                if self.session.scalar(select(t.c.id).where(t.c.uuid == the_uuid)) is None:
                    raise _missing_reference(table, the_uuid)
                raise _foreign_reference()
            mapping[the_uuid] = found
        return found

    def _existing(self, t: Table, uuids: Sequence[str]) -> dict[str, tuple[int, int, str]]:
        """(id, version, origin site) of the rows this site already has, by UUID."""
        found: dict[str, tuple[int, int, str]] = {}
        if self.session.scalar(select(t.c.id).limit(1)) is None:
            return found  # a first import: nothing to look up
        for chunk in chunks(list(uuids), ID_CHUNK):
            query = select(t.c.uuid, t.c.id, t.c.version, t.c.origin_site).where(
                t.c.uuid.in_(chunk)
            )
            for row in self.session.execute(query):
                found[row[0]] = (row[1], row[2], row[3])
        return found

    def _travelling(
        self, spec: TableSpec, columns: list[str], uuids: Sequence[str]
    ) -> dict[str, list[Any]]:
        """The local rows as they would travel, to compare with what arrived."""
        out: dict[str, list[Any]] = {}
        if not uuids:
            return out
        query = travel_select(spec, self.local_code)
        picked = [c for c in query.selected_columns if c.key in columns]
        order = {c.key: c for c in picked}
        for chunk in chunks(list(uuids), ID_CHUNK):
            rows = self.session.execute(
                query.with_only_columns(*(order[c] for c in columns)).where(
                    spec.table.c.uuid.in_(chunk)
                )
            )
            for row in rows:
                values = list(row)
                out[values[columns.index("uuid")]] = values
        return out

    def _held_uuids(self, name: str) -> set[str]:
        held = self._held.get(name)
        if held is None:
            held = set(
                self.session.scalars(
                    select(SyncConflict.entity_uuid).where(
                        SyncConflict.entity == name, SyncConflict.resolved_at.is_(None)
                    )
                )
            )
            self._held[name] = held
        return held

    def _ignore(self, table: str, reason: str) -> None:
        self.report.ignored[table] += 1
        self.report.reasons[reason] += 1

    def _conflict(
        self,
        spec: TableSpec,
        the_uuid: str,
        local_version: int,
        incoming_version: int,
        values: dict[str, Any],
        reason: str,
    ) -> None:
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


def incompatible(exc: Exception) -> BundleRefused:
    log.warning("bundle rows do not fit the database: %s", exc)
    return BundleRefused(
        RefusalCode.BAD_CONTENT,
        "数据包中的记录与本站点已有的记录冲突（例如编号重复）或缺少必需的内容，整包未导入。"
        "请把此数据包和日志交维护人员处理。",
    )


def _foreign_reference() -> BundleRefused:
    return BundleRefused(
        RefusalCode.BAD_CONTENT,
        "数据包中的记录指向其他站点的事项，不属于发出数据包的站点，拒绝导入。",
    )


def _missing_reference(table: str, the_uuid: object) -> BundleRefused:
    label = TABLE_LABELS.get(table, table)
    if not (isinstance(the_uuid, str) and UUID_PATTERN.fullmatch(the_uuid)):
        shown = repr(the_uuid)
        shown = shown if len(shown) <= 40 else f"{shown[:40]}…"
        return BundleRefused(
            RefusalCode.BAD_CONTENT,
            f"数据包中的记录引用{label}的标识格式不正确（{shown}），拒绝导入。",
        )
    return BundleRefused(
        RefusalCode.BAD_CONTENT,
        f"数据包中的记录引用了不存在的{label}（{the_uuid}），"
        "可能缺少更早的数据包。请让县区重新导出后再导入。",
    )


def owned_here(spec: TableSpec) -> Any:
    """Only this site's own rows travel (never what another site sent here)."""
    t = spec.table
    if spec.owner_column and spec.blank_is_local:
        return t.c[spec.owner_column] == ""
    return t.c.origin_site == ""


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
