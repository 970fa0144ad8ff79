"""Incoming references, sent as UUIDs, made local ids again: only at rows the sender may point
at (its own cases, their assignments, the complainants it sent, any department), and a bundle
that points elsewhere or at nothing is refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from desktop_app.services.exchange.bundle_file import UUID_PATTERN
from desktop_app.services.exchange.records_tables import TABLE_LABELS, TableSpec
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.storage.models import Base


class References:
    """Local ids by table and UUID, found once and remembered for the rest of the merge."""

    def __init__(self, session: Session, owner: str, *, attached: bool) -> None:
        self.session = session
        self.owner = owner
        self.attached = attached
        self.ids: dict[str, dict[str, int]] = {}

    def known(self, table: str) -> dict[str, int]:
        """The ids of ``table`` found so far by UUID; the merge adds the rows it writes."""
        return self.ids.setdefault(table, {})

    def owned_id(self, table: str, uuid_sql: str) -> str:
        """SQL: the id of the ``table`` row with UUID ``uuid_sql`` if records of the sender may
        point at it (NULL otherwise): the sender's own cases, classes and meetings, their
        assignments, and the complainants it sent; any department. The one place this rule is
        written, for the bulk copy and for the row-by-row merge alike."""
        here = "main." if self.attached else ""
        # CROSS JOIN … ON: SQLite's way to keep the join order; PostgreSQL knows only JOIN.
        join = "CROSS JOIN" if self.attached else "JOIN"
        # The owner is tested on the row found by its UUID, not beside the UUID in WHERE:
        # PostgreSQL's statistics know no rows of a county's first upload, so with both in
        # WHERE it walked the county's (site_code, …) index for every reference (the first
        # upload into a city of 1.4 million ran for hours); one UUID finds one row anyway.
        if table == "cases":
            return (
                f"SELECT CASE WHEN x.site_code = :owner THEN x.id END FROM {here}cases x "
                f"WHERE x.uuid = {uuid_sql}"
            )
        if table == "complainants":
            return (
                f"SELECT CASE WHEN x.origin_site = :owner THEN x.id END FROM {here}complainants x "
                f"WHERE x.uuid = {uuid_sql}"
            )
        if table == "assignments":
            return (
                f"SELECT CASE WHEN c.site_code = :owner THEN x.id END FROM {here}assignments x "
                f"{join} {here}cases c ON c.id = x.case_id WHERE x.uuid = {uuid_sql}"
            )
        if table in ("issue_classes", "meetings"):
            return (
                f"SELECT CASE WHEN x.site_code = :owner THEN x.id END FROM {here}{table} x "
                f"WHERE x.uuid = {uuid_sql}"
            )
        return f'SELECT x.id FROM {here}"{table}" x WHERE x.uuid = {uuid_sql}'

    def db_values(
        self,
        spec: TableSpec,
        values: dict[str, Any],
        self_refs: list[tuple[str, str, str]],
        row_uuid: str,
    ) -> dict[str, Any]:
        """A travelling row's values with local ids for its references; references to rows of
        the same table go to ``self_refs`` (set once the whole table is in) and stay NULL."""
        out = dict(values)
        for column, target in spec.refs.items():
            ref = out.get(column)
            if ref is None:
                continue
            if target == spec.name:
                self_refs.append((row_uuid, column, ref))
                out[column] = None
                continue
            out[column] = self.lookup(target, ref)
        return out

    def lookup(self, table: str, the_uuid: str) -> int:
        """The local id of a row the incoming records may point at; refuses the bundle for a
        row that is not here or not the sender's to point at (``owned_id``)."""
        mapping = self.known(table)
        found = mapping.get(the_uuid)
        if found is None:
            found = self.session.scalar(
                text(self.owned_id(table, ":uuid")), {"uuid": the_uuid, "owner": self.owner}
            )
            if found is None:
                t = Base.metadata.tables[table]
                if self.session.scalar(select(t.c.id).where(t.c.uuid == the_uuid)) is None:
                    raise missing_reference(table, the_uuid)
                raise foreign_reference()
            mapping[the_uuid] = found
        return found


def foreign_reference() -> BundleRefused:
    return BundleRefused(
        RefusalCode.BAD_CONTENT,
        "数据包中的记录指向其他站点的事项，不属于发出数据包的站点，拒绝导入。",
    )


def missing_reference(table: str, the_uuid: object) -> BundleRefused:
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
