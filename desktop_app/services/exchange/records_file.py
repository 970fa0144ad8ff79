"""A received records file, opened read-only: its schema held to plain tables of the expected
names, and every value's type checked in SQL before one is read into Python."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String, Text

from desktop_app.services.exchange.records_tables import (
    DATA_TABLES,
    ROW_CHUNK,
    SEARCH_TABLE,
    SPECS,
    TABLE_LABELS,
    TableSpec,
    python_values,
)
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode

# A table exactly as records_tables.records_table_sql makes it.
_RECORDS_TABLE = re.compile(r'CREATE TABLE "([a-z_]+)" \("[a-z0-9_]+"(?:, "[a-z0-9_]+")*\)')


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

    def reader(self) -> sqlite3.Connection:
        """Another read-only connection to the file, for reading rows on this thread while
        ``check_values`` runs on another (one connection runs one statement at a time). The
        caller closes it."""
        connection = sqlite3.connect(f"{_file_uri(self.path)}?mode=ro", uri=True)
        connection.execute("PRAGMA trusted_schema = OFF")
        return connection

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
        # the bundle (merge_references.missing_reference says whether it was not a UUID at all).
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
