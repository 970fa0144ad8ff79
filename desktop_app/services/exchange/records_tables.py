"""How each synced table travels in a bundle's records file (DESIGN.md §6).

A records file is one SQLite file with a table per synced table, rows as they travel:
references as UUIDs, times, dates, flags and JSON in the form SQLite stores them, plus the cases'
search text. ``TableSpec`` says how one table travels; ``travel_select`` reads a table's rows in
that form, ``stored_form`` and ``python_form`` turn a value into it and back. Writing a records
file is ``records_write``, reading a received one ``records_file``, merging it ``merge``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Select, Table, case, select
from sqlalchemy.dialects import sqlite as sqlite_dialect

from desktop_app.storage.models import Base

ID_CHUNK: Final = 2000
ROW_CHUNK: Final = 5000
SEARCH_TABLE: Final = "case_search"  # in a records file: (uuid, body) of the cases it carries
ATTACHED: Final = "rec"  # the schema name of a records file attached to a SQLite database


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
        # digest: keyed with this site's data key (integrity.py), recomputed where it lands.
        skip = {"id", "change_seq", "origin_site", "digest", *self.dropped}
        return [c.name for c in self.table.columns if c.name not in skip]


DATA_TABLES: Final = (
    TableSpec("departments", owner_column="site_code"),
    # The keyed hashes are the sender's: the receiver makes its own (services/sealing.py), and
    # the name's sort key with them.
    TableSpec("complainants", dropped=("id_lookup", "phone_lookup", "name_key")),
    TableSpec(
        "issue_classes", refs={"owner_department_id": "departments"}, owner_column="site_code"
    ),
    TableSpec(
        "cases",
        refs={
            "complainant_id": "complainants",
            "stuck_department_id": "departments",
            "linked_case_id": "cases",
            "agent_id": "complainants",
            "issue_class_id": "issue_classes",
        },
        owner_column="site_code",
        blank_is_local=False,
        dropped=("created_by_id", "departments_answered"),  # derived where it lands (0020)
    ),
    TableSpec("case_events", refs={"case_id": "cases"}),
    TableSpec("attachments", refs={"case_id": "cases"}),
    TableSpec(
        "assignments",
        refs={"case_id": "cases", "department_id": "departments", "parent_id": "assignments"},
    ),
    TableSpec("slips", refs={"assignment_id": "assignments"}, owner_column="site_code"),
    TableSpec(
        "referrals",
        refs={"case_id": "cases", "assignment_id": "assignments"},
        owner_column="site_code",
    ),
    # A meeting's site_code is its own site's code, as a case's is (its number is per site).
    TableSpec("meetings", owner_column="site_code", blank_is_local=False),
    TableSpec(
        "meeting_items",
        refs={
            "meeting_id": "meetings",
            "case_id": "cases",
            "issue_class_id": "issue_classes",
            "department_id": "departments",
            "assignment_id": "assignments",
        },
    ),
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
    "referrals": "问责线索",
    "issue_classes": "一类事",
    "meetings": "联席会议",
    "meeting_items": "会议议题",
    "cause_codes": "问题成因",
    "areas": "领域",
    "holiday_overrides": "节假日调整",
    "rules": "期限规则",
}


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


def records_table_sql(name: str, columns: Sequence[str], schema: str = "") -> str:
    """How a records file's table is made: named columns without types, so every value keeps
    the storage class it was sent with. SQLite keeps this text, minus the schema, in
    sqlite_master: a received file is held to exactly this form."""
    where = f"{schema}." if schema else ""
    return f'CREATE TABLE {where}"{name}" (' + ", ".join(f'"{c}"' for c in columns) + ")"


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


def owned_here(spec: TableSpec) -> Any:
    """Only this site's own rows travel (never what another site sent here)."""
    t = spec.table
    if spec.owner_column and spec.blank_is_local:
        return t.c[spec.owner_column] == ""
    return t.c.origin_site == ""


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
