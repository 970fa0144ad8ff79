"""Records in bundles: how each table travels and how incoming rows are merged (DESIGN.md §6).

A table's rows travel as JSON Lines with references carried as UUIDs (``TableSpec``). At the
receiving site ``RecordMerger`` matches each row by UUID and version — new rows are added (on
SQLite through the driver's executemany: a first upload is close to a million rows), newer
versions update, older or equal ones are ignored, and a record changed on both sides goes to the
conflict queue — and maps references back to local ids, refusing rows that hang off another
site's cases. ``parse_records`` turns a member into typed rows and one digest per row as sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from desktop_app.errors import NotFound
from desktop_app.services import bundle_file as bf
from desktop_app.services.bundle_file import BundleRefused
from desktop_app.storage import search
from desktop_app.storage.models import Assignment, Base, Case, Complainant, SyncConflict

log = logging.getLogger(__name__)

ID_CHUNK: Final = 2000
SYNC_HASH_FIELD: Final = "__sync_hash"  # kept with a conflict's incoming record


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
        skip = {"id", "change_seq", "sync_hash", *self.dropped}
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


# Import machinery ---------------------------------------------------------------------------


class RecordMerger:
    """Merges parsed rows into the database by UUID and version, within one transaction."""

    def __init__(
        self, session: Session, owner: str, bundle_id: str, now: datetime, report: ImportReport
    ) -> None:
        self.session = session
        self.owner = owner
        self.bundle_id = bundle_id
        self.now = now
        self.report = report
        self.ids: dict[str, dict[str, int]] = {}
        self.touched_cases: set[int] = set()
        self.touched_complainants: set[int] = set()
        self.referenced: dict[str, set[int]] = {}

    def merge(
        self, spec: TableSpec, columns: list[str], rows: list[list[Any]], hashes: list[str]
    ) -> None:
        """Add, update, ignore or queue each incoming row of one table (see the module doc)."""
        if not rows:
            return
        t = spec.table
        name = spec.name
        position = {c: i for i, c in enumerate(columns)}
        uuid_at, version_at = position["uuid"], position["version"]
        existing = self._existing(t, [row[uuid_at] for row in rows])
        held = set(
            self.session.scalars(
                select(SyncConflict.entity_uuid).where(
                    SyncConflict.entity == name, SyncConflict.resolved_at.is_(None)
                )
            )
        )
        owner_at = position.get(spec.owner_column) if spec.owner_column else None
        refs = [(position[c], target) for c, target in spec.refs.items() if c in position]
        new_rows: list[list[Any]] = []
        new_hashes: list[str] = []
        updates: list[dict[str, Any]] = []
        self_refs: list[tuple[str, str, str]] = []  # (row uuid, column, target uuid)
        seen: set[str] = set()
        for row, digest in zip(rows, hashes, strict=True):
            the_uuid = row[uuid_at]
            if the_uuid in seen:
                raise BundleRefused("bad_content", f"数据包中同一条记录出现了两次（{name}）。")
            seen.add(the_uuid)
            if owner_at is not None:
                row[owner_at] = self.owner
            local = existing.get(the_uuid)
            if local is None:
                new_rows.append(row)
                new_hashes.append(digest)
                continue
            _local_id, local_version, local_hash, local_owner = local
            incoming_version = row[version_at]
            reason = ""
            if local_hash == "" or (local_owner is not None and local_owner != self.owner):
                reason = "与本站点或其他站点的记录标识相同"
            elif the_uuid in held and digest != local_hash:
                reason = "该记录有未处理的冲突，新收到的版本一并留待处理"
            elif incoming_version == local_version and digest != local_hash:
                reason = "同一版本的内容不同（对方可能恢复过备份后重新修改）"
            if reason:
                values = dict(zip(columns, row, strict=True))
                self._conflict(
                    spec, the_uuid, local_version, incoming_version, values, reason, digest
                )
            elif incoming_version < local_version:
                self._ignore(name, "本站点已有更新的版本")
            elif incoming_version == local_version:
                self._ignore(name, "已是最新")
            else:
                values = _python_values(spec, dict(zip(columns, row, strict=True)))
                db_values = self._db_values(spec, values, self_refs, the_uuid)
                db_values["sync_hash"] = digest
                db_values["change_seq"] = None
                db_values["b_id"] = local[0]
                updates.append(db_values)
                self.report.updated[name] += 1
        mapping = self.ids.setdefault(name, {})
        mapping.update({u: v[0] for u, v in existing.items()})
        if new_rows:
            self.report.added[name] += len(new_rows)
            for index, target in refs:
                if target == name:
                    for row in new_rows:
                        if row[index] is not None:
                            self_refs.append((row[uuid_at], columns[index], row[index]))
                            row[index] = None
                    continue
                for row in new_rows:
                    if row[index] is not None:
                        row[index] = self._lookup(target, row[index])
            if self.session.get_bind().dialect.name == "sqlite":
                self._insert_sqlite(t, columns, new_rows, new_hashes, mapping, uuid_at)
            else:
                dicts = [
                    _python_values(spec, dict(zip(columns, row, strict=True)))
                    | {"sync_hash": h, "change_seq": None}
                    for row, h in zip(new_rows, new_hashes, strict=True)
                ]
                for chunk in chunks(dicts, 5000):
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
        for row_uuid, column, target_uuid in self_refs:
            target_id = mapping.get(target_uuid) or self._lookup(name, target_uuid)
            self.session.execute(update(t).where(t.c.uuid == row_uuid).values({column: target_id}))
        if name == "cases":
            self.touched_cases.update(mapping[r[uuid_at]] for r in rows if r[uuid_at] in mapping)
        if name == "complainants":
            self.touched_complainants.update(
                mapping[r[uuid_at]] for r in rows if r[uuid_at] in mapping
            )

    def _insert_sqlite(
        self,
        t: Table,
        columns: list[str],
        rows: list[list[Any]],
        hashes: list[str],
        mapping: dict[str, int],
        uuid_at: int,
    ) -> None:
        """New rows through the driver's executemany, with ids taken under the write lock.

        A first import is close to a million rows; SQLAlchemy's per-row work would take most of
        the time. Values go in the storage formats SQLAlchemy itself uses for SQLite.
        """
        formats = [
            (i, _sqlite_json) for i, c in enumerate(columns) if isinstance(t.c[c].type, JSON)
        ]
        first = (self.session.scalar(select(func.max(t.c.id))) or 0) + 1
        names = ", ".join(["id", *columns, "sync_hash", "change_seq"])
        marks = ", ".join("?" * (len(columns) + 3))
        data = []
        for offset, (row, digest) in enumerate(zip(rows, hashes, strict=True)):
            for i, convert in formats:
                row[i] = convert(row[i])
            mapping[row[uuid_at]] = first + offset
            data.append((first + offset, *row, digest, None))
        self.session.connection().exec_driver_sql(
            f"INSERT INTO {t.name} ({names}) VALUES ({marks})", data
        )

    def overwrite(self, spec: TableSpec, the_uuid: str, values: dict[str, Any]) -> None:
        """Apply one stored incoming record over the local one (conflict resolution)."""
        t = spec.table
        local_id = self.session.scalar(select(t.c.id).where(t.c.uuid == the_uuid))
        if local_id is None:
            raise NotFound("本地记录已不存在。")
        values = dict(values)
        digest = str(values.pop(SYNC_HASH_FIELD, ""))
        columns = list(values)
        row = _typed_row(spec, columns, [values[c] for c in columns], "冲突记录")
        self_refs: list[tuple[str, str, str]] = []
        db_values = self._db_values(spec, dict(zip(columns, row, strict=True)), self_refs, the_uuid)
        for _row_uuid, column, target_uuid in self_refs:
            db_values[column] = self._lookup(spec.name, target_uuid)
        db_values["sync_hash"] = digest
        db_values["change_seq"] = None
        self.session.execute(update(t).where(t.c.id == local_id).values(db_values))
        if spec.name == "cases":
            self.touched_cases.add(local_id)

    def reindex(self) -> None:
        """Rebuild the search rows of the cases this import touched (FTS5 or PG's plain table)."""
        ids = set(self.touched_cases)
        if self.touched_complainants:
            for chunk in chunks(sorted(self.touched_complainants), ID_CHUNK):
                ids.update(
                    self.session.scalars(select(Case.id).where(Case.complainant_id.in_(chunk)))
                )
        if not ids:
            return
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
                [{"id": r[0], "body": search.index_text([r[1], *r[2:]])} for r in rows],
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
        found = self._resolve(table, the_uuid)
        self.referenced.setdefault(table, set()).add(found)
        return found

    def check_ownership(self) -> None:
        """Records may only hang off the sender's own cases (and their assignments)."""
        for chunk in chunks(sorted(self.referenced.get("cases", set())), ID_CHUNK):
            if self.session.scalar(
                select(func.count()).where(Case.id.in_(chunk), Case.site_code != self.owner)
            ):
                raise _foreign_reference()
        for chunk in chunks(sorted(self.referenced.get("assignments", set())), ID_CHUNK):
            if self.session.scalar(
                select(func.count())
                .select_from(Assignment)
                .join(Case, Assignment.case_id == Case.id)
                .where(Assignment.id.in_(chunk), Case.site_code != self.owner)
            ):
                raise _foreign_reference()

    def _resolve(self, table: str, the_uuid: str) -> int:
        mapping = self.ids.setdefault(table, {})
        found = mapping.get(the_uuid)
        if found is None:
            t = Base.metadata.tables[table]
            found = self.session.scalar(select(t.c.id).where(t.c.uuid == the_uuid))
            if found is None:
                raise BundleRefused(
                    "bad_content",
                    f"数据包中的记录引用了不存在的{TABLE_LABELS.get(table, table)}（{the_uuid}），"
                    "可能缺少更早的数据包。请让县区重新导出后再导入。",
                )
            mapping[the_uuid] = found
        return found

    def _existing(
        self, t: Table, uuids: Sequence[str]
    ) -> dict[str, tuple[int, int, str, str | None]]:
        owner_column = t.c.site_code if "site_code" in t.c else None
        found: dict[str, tuple[int, int, str, str | None]] = {}
        if self.session.scalar(select(t.c.id).limit(1)) is None:
            return found  # a first import: nothing to look up
        for chunk in chunks(list(uuids), ID_CHUNK):
            columns: list[Any] = [t.c.uuid, t.c.id, t.c.version, t.c.sync_hash]
            if owner_column is not None:
                columns.append(owner_column)
            for row in self.session.execute(select(*columns).where(t.c.uuid.in_(chunk))):
                owner = row[4] if owner_column is not None else None
                found[row[0]] = (row[1], row[2], row[3], owner)
        return found

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
        digest: str,
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
                incoming={k: to_json_value(spec.table.c[k].type)(v) for k, v in values.items()}
                | {SYNC_HASH_FIELD: digest},
            )
        )


def incompatible(exc: Exception) -> BundleRefused:
    log.warning("bundle rows do not fit the database: %s", exc)
    return BundleRefused(
        "bad_content",
        "数据包中的记录与本站点已有的记录冲突（例如编号重复）或缺少必需的内容，整包未导入。"
        "请把此数据包和日志交维护人员处理。",
    )


def _foreign_reference() -> BundleRefused:
    return BundleRefused(
        "bad_content", "数据包中的记录指向其他站点的事项，不属于发出数据包的站点，拒绝导入。"
    )


def owned_here(spec: TableSpec) -> Any:
    """Only this site's own rows travel up (never what another site sent here)."""
    t = spec.table
    if spec.owner_column and spec.blank_is_local:
        return t.c[spec.owner_column] == ""
    return t.c.sync_hash == ""


def to_json_value(column_type: Any) -> Callable[[Any], Any]:
    if isinstance(column_type, DateTime | Date):
        return lambda v: v.isoformat() if isinstance(v, datetime | date) else v
    return lambda v: v


def _from_json_value(column_type: Any, column: str, where: str) -> Callable[[Any], Any]:
    def bad() -> BundleRefused:
        return BundleRefused("bad_content", f"数据包中“{where}”的“{column}”格式不正确。")

    if isinstance(column_type, DateTime | Date):
        parse = datetime.fromisoformat if isinstance(column_type, DateTime) else date.fromisoformat

        def to_time(v: Any) -> Any:
            if v is None:
                return None
            try:
                return parse(v)
            except (TypeError, ValueError):
                raise bad() from None

        return to_time
    if isinstance(column_type, Boolean):

        def to_bool(v: Any) -> Any:
            # SQLite's json_array writes booleans as 0 and 1.
            if v is None or isinstance(v, bool):
                return v
            if v in (0, 1) and type(v) is int:
                return bool(v)
            raise bad()

        return to_bool
    if isinstance(column_type, Integer):

        def to_int(v: Any) -> Any:
            if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                raise bad()
            return v

        return to_int
    if isinstance(column_type, String | Text) and not isinstance(column_type, JSON):
        limit = getattr(column_type, "length", None)

        def to_text(v: Any) -> Any:
            if v is None:
                return None
            if not isinstance(v, str) or (limit is not None and len(v) > limit):
                raise bad()
            return v

        return to_text
    return lambda v: v


def _typed_row(spec: TableSpec, columns: list[str], row: list[Any], where: str) -> list[Any]:
    t = spec.table
    return [
        _from_json_value(t.c[c].type, c, where)(v) if c not in spec.refs else v
        for c, v in zip(columns, row, strict=True)
    ]


def parse_records(
    data: bytes, spec: TableSpec, bundle_name: str
) -> tuple[list[str], list[list[Any]], list[str]]:
    """Columns, rows (typed) and each row's digest (over its line as sent) of a records member.

    Dates and times are parsed (a malformed one refuses the bundle); text and numbers are kept
    as sent: the content is signed by a registered site and only the shape is checked here.
    """
    member = f"records/{spec.name}.jsonl"

    def bad(what: str) -> BundleRefused:
        return BundleRefused("bad_content", f"数据包“{bundle_name}”中“{member}”{what}。")

    raw_lines = [line for line in data.split(b"\n") if line.strip()]
    try:
        head = bf.loads(raw_lines[0]) if raw_lines else None
    except ValueError:
        raise bad("的格式不正确") from None
    if (
        not isinstance(head, dict)
        or head.get("table") != spec.name
        or not isinstance(head.get("columns"), list)
        or not all(isinstance(c, str) for c in head["columns"])
    ):
        raise bad("的格式不正确")
    columns: list[str] = head["columns"]
    if "uuid" not in columns or "version" not in columns or len(set(columns)) != len(columns):
        raise bad("缺少必需的列")
    known = set(spec.columns())
    keep = [i for i, c in enumerate(columns) if c in known]
    kept_columns = [columns[i] for i in keep]
    every_column = len(keep) == len(columns)
    t = spec.table
    typed = [
        (i, _canonical(t.c[c].type, c, member))
        for i, c in enumerate(kept_columns)
        if c not in spec.refs and isinstance(t.c[c].type, DateTime | Date | Boolean)
    ]
    ids = [i for i, c in enumerate(kept_columns) if c == "uuid" or c in spec.refs]
    version_at = kept_columns.index("version")
    width = len(columns)
    body = raw_lines[1:]
    sha256 = hashlib.sha256
    hashes = [sha256(raw).hexdigest()[:32] for raw in body]
    try:  # one parse for the whole member: per-line calls cost more than the parsing itself
        lines = bf.loads(b"[" + b",".join(body) + b"]")
    except ValueError:
        raise bad("的格式不正确") from None
    if type(lines) is not list or len(lines) != len(body):  # one row per line, no more
        raise bad("的格式不正确")
    rows: list[list[Any]] = []
    for line in lines:
        if type(line) is not list or len(line) != width:
            raise bad("的格式不正确")
        values = line if every_column else [line[i] for i in keep]
        for i, convert in typed:
            values[i] = convert(values[i])
        for i in ids:
            v = values[i]
            if v is not None and (type(v) is not str or len(v) != 36):
                raise bad("的标识不正确")
        version = values[version_at]
        if type(version) is not int or version < 1:
            raise bad("的版本号不正确")
        rows.append(values)
    return kept_columns, rows, hashes


def _canonical(column_type: Any, column: str, where: str) -> Callable[[Any], Any]:
    """Check a date, time or flag as sent and give it in the form SQLite stores it
    (``2026-11-25 09:30:00.000000``, ``2026-11-25``, 0/1); a malformed one refuses the bundle."""
    to_python = _from_json_value(column_type, column, where)
    if isinstance(column_type, DateTime):

        def to_datetime_text(v: Any) -> Any:
            if type(v) is str and len(v) == 26 and v[10] == " " and v[19] == ".":
                to_python(v)  # validates (C speed)
                return v
            value = to_python(v)
            return None if value is None else _sqlite_datetime(value)

        return to_datetime_text
    if isinstance(column_type, Date):

        def to_date_text(v: Any) -> Any:
            value = to_python(v)
            return None if value is None else value.isoformat()

        return to_date_text
    return to_python


def _sqlite_datetime(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}"


def _python_values(spec: TableSpec, values: dict[str, Any]) -> dict[str, Any]:
    """Dates, times and flags as Python objects, for SQLAlchemy (updates, other engines)."""
    t = spec.table
    out = dict(values)
    for column, value in values.items():
        if column in spec.refs or column not in t.c:
            continue
        column_type = t.c[column].type
        if isinstance(column_type, DateTime | Date | Boolean):
            out[column] = _from_json_value(column_type, column, "")(value)
    return out


def _sqlite_json(value: Any) -> str:
    return json.dumps(value)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
