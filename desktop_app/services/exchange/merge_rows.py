"""The row-by-row merge: incoming rows, typed for SQLAlchemy, compared one by one with what is
here (both engines for the rows this site already has; PostgreSQL for every row).

A new row is added, a newer version updates, an older or equal one is ignored, and a record that
arrives with its local version but other content, that another site owns, or that has an open
conflict goes to the conflict queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from desktop_app.errors import NotFound
from desktop_app.services.exchange.bundle_file import UUID_PATTERN
from desktop_app.services.exchange.merge_outcomes import Outcomes
from desktop_app.services.exchange.merge_references import References, missing_reference
from desktop_app.services.exchange.records_tables import (
    ID_CHUNK,
    ROW_CHUNK,
    TableSpec,
    chunks,
    python_values,
    travel_select,
)
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.services.sealing import SEALED_TABLES, Sealer


class RowMerge:
    """Merges rows a chunk at a time; ``finish_table`` once a table's chunks are all in."""

    def __init__(
        self,
        session: Session,
        owner: str,
        local_code: str,
        references: References,
        outcomes: Outcomes,
        sealer: Sealer | None,
    ) -> None:
        self.session = session
        self.owner = owner
        self.local_code = local_code
        self.references = references
        self.outcomes = outcomes
        self._sealer = sealer
        # By table: (row UUID, column, target UUID) of references to rows of the same table,
        # set once the whole table is in (the target may come in a later chunk).
        self._self_refs: dict[str, list[tuple[str, str, str]]] = {}

    @property
    def sealer(self) -> Sealer:
        """Opens and seals the complainants' numbers (given wherever complainants come)."""
        if self._sealer is None:
            raise RuntimeError("complainants merged without the site's sealer")
        return self._sealer

    def merge_rows(self, spec: TableSpec, columns: list[str], rows: list[list[Any]]) -> None:
        """Add, update, ignore or queue each of ``rows`` (values in the order of ``columns``)."""
        if not rows:
            return
        name = spec.name
        position = {c: i for i, c in enumerate(columns)}
        uuid_at, version_at = position["uuid"], position["version"]
        _check_reference_forms(spec, position, rows)
        uuids = [row[uuid_at] for row in rows]
        existing = self._existing(spec.table, uuids)
        local_rows = self._travelling(spec, columns, [u for u in uuids if u in existing])
        held = self.outcomes.held(name)
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
                if name in SEALED_TABLES:  # queued at rest: sealed like the rows
                    values = self.sealer.seal_travelling(name, values)
                self.outcomes.conflict(
                    spec, the_uuid, local_version, incoming_version, values, reason
                )
            elif incoming_version < local_version:
                self.outcomes.ignore(name, "本站点已有更新的版本")
            elif incoming_version == local_version:
                self.outcomes.ignore(name, "已是最新")
            else:
                values = dict(zip(columns, row, strict=True))
                db_values = self.references.db_values(spec, values, self_refs, the_uuid)
                db_values["origin_site"] = self.owner
                db_values["change_seq"] = None
                db_values["b_id"] = local_id
                updates.append(db_values)
                self.outcomes.report.updated[name] += 1
        mapping = self.references.known(name)
        # Only the sender's own rows may be pointed at without asking (see References.lookup).
        mapping.update({u: v[0] for u, v in existing.items() if v[2] == self.owner})
        self._write(spec, columns, new_rows, updates, self_refs)
        touched = {mapping[row[uuid_at]] for row in new_rows} | {u["b_id"] for u in updates}
        self.outcomes.touched(name, touched)

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
                    {"b_uuid": row_uuid, "b_id": self.references.lookup(spec.name, target)}
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
        db_values = self.references.db_values(
            spec, dict(zip(columns, row, strict=True)), self_refs, the_uuid
        )
        for _row_uuid, column, target_uuid in self_refs:
            db_values[column] = self.references.lookup(spec.name, target_uuid)
        db_values["origin_site"] = self.owner
        db_values["change_seq"] = None
        if spec.name in SEALED_TABLES:  # queued sealed: sealed afresh, with this site's lookups
            db_values = self.sealer.sealed_values(spec.name, db_values)
        self.session.execute(update(t).where(t.c.id == local_id).values(db_values))
        self.outcomes.touched(spec.name, [local_id])

    def _write(
        self,
        spec: TableSpec,
        columns: list[str],
        new_rows: list[list[Any]],
        updates: list[dict[str, Any]],
        self_refs: list[tuple[str, str, str]],
    ) -> None:
        """Insert the new rows (noting their ids) and apply the newer versions."""
        t = spec.table
        name = spec.name
        mapping = self.references.known(name)
        if new_rows:
            self.outcomes.report.added[name] += len(new_rows)
            uuid_at = columns.index("uuid")
            dicts = [
                self.references.db_values(
                    spec, dict(zip(columns, row, strict=True)), self_refs, row[uuid_at]
                )
                | {"origin_site": self.owner, "change_seq": None}
                for row in new_rows
            ]
            if name in SEALED_TABLES:  # sealed on the way in, under this site's key
                dicts = [self.sealer.sealed_values(name, d) for d in dicts]
            for chunk in chunks(dicts, ROW_CHUNK):
                result = self.session.execute(insert(t).returning(t.c.uuid, t.c.id), chunk)
                mapping.update({u: i for u, i in result.all()})
        if updates:
            if name in SEALED_TABLES:
                updates = [self.sealer.sealed_values(name, u) for u in updates]
            columns_set = [k for k in updates[0] if k != "b_id"]
            statement = (
                update(t)
                .where(t.c.id == bindparam("b_id"))
                .values({c: bindparam(c) for c in columns_set})
            )
            self.session.connection().execute(statement, updates)

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
                if spec.name in SEALED_TABLES:  # compared as they travel: opened
                    values = self.sealer.open_row(spec.name, columns, values)
                out[values[columns.index("uuid")]] = values
        return out


def _check_reference_forms(
    spec: TableSpec, position: dict[str, int], rows: list[list[Any]]
) -> None:
    """Refuse a reference that is not a UUID at all: the file's check saw only its type."""
    for column, target in spec.refs.items():
        if column in position:
            at = position[column]
            for row in rows:
                ref = row[at]
                if ref is not None and not (isinstance(ref, str) and UUID_PATTERN.fullmatch(ref)):
                    raise missing_reference(target, ref)
