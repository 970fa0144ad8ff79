"""Writing a records file: each table's own rows as they travel (``records_tables``).

On SQLite the file is attached to the database and filled with ``INSERT … SELECT`` (a first
upload of 100,000 cases is close to a million rows: none of them pass through Python); on
PostgreSQL the rows go through Python.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Column, ColumnElement, MetaData, Select, Table, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import column as sql_column
from sqlalchemy.sql import table as sql_table

from desktop_app.services.exchange.records_tables import (
    ATTACHED,
    ROW_CHUNK,
    SEARCH_TABLE,
    SPECS,
    TableSpec,
    owned_here,
    records_table_sql,
    stored_form,
    travel_select,
)
from desktop_app.services.sealing import (
    PREFIX,
    SEALED_COLUMNS,
    Sealer,
    opened_sql,
    register_functions,
    register_on,
)
from desktop_app.storage.models import Case


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


def open_sealed_numbers(session: Session, path: Path, sealer: Sealer, *, attached: bool) -> None:
    """The complainants' ID and phone and the papers' personal fields in the records file
    opened from this site's seal: the bundle is encrypted to its receiver, which seals them
    again under its own data key. In SQL, with the opening done by a registered function."""
    schema = f"{ATTACHED}." if attached else ""
    numbers = ", ".join(
        f'"{c}" = ' + opened_sql("complainants", c, f'"{c}"') for c in SEALED_COLUMNS
    )
    paper = opened_sql("slips", "content", "content")
    statements = [
        f"UPDATE {schema}complainants SET {numbers}",
        f"UPDATE {schema}slips SET content = {paper} WHERE content LIKE '%\"{PREFIX}%'",
    ]
    if attached:
        register_functions(session, sealer)
        for statement in statements:
            session.execute(text(statement))
        return
    with contextlib.closing(sqlite3.connect(path)) as own:
        register_on(own, sealer)
        for statement in statements:
            own.execute(statement)
        own.commit()
