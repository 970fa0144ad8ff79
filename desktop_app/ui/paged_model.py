"""The shape every long list takes: a table model that holds the ids of the current query and
reads rows a page at a time, only when the view is about to paint them (DESIGN.md §9).

At 100,000 rows the ids are a few hundred kilobytes; a bounded number of pages is kept. A list
that may match a million records (the city's ledger) is given a first window of ids and asks for
the next (``more_wanted``) when the view reaches its end, as Qt's ``fetchMore`` intends.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Signal,
)

_Index = QModelIndex | QPersistentModelIndex


class PagedIdsModel(QAbstractTableModel):
    """Rows by id, fetched with ``fetch(ids)`` (rows with an ``id``) a page at a time."""

    PAGE_SIZE = 200
    MAX_PAGES = 25
    # The view reached the last id held and more match: the owner loads the next window (off
    # the UI thread) and hands it to ``append_ids``.
    more_wanted = Signal()

    def __init__(
        self,
        fetch: Callable[[Sequence[int]], Iterable[Any]],
        column_count: int,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._column_count = column_count
        self._ids: list[int] = []
        self._pages: OrderedDict[int, dict[int, Any]] = OrderedDict()
        self._more = False  # more records match than the ids held
        self._asked = False  # more_wanted was emitted and its window has not come yet

    def set_ids(self, ids: Sequence[int], more: bool = False) -> None:
        """The ids of a new query; ``more`` when they are its first window only."""
        self.beginResetModel()
        self._ids = list(ids)
        self._pages.clear()
        self._more = more
        self._asked = False
        self.endResetModel()

    def append_ids(self, ids: Sequence[int], more: bool) -> None:
        """The next window of the same query (ids already held are left out)."""
        held = set(self._ids)
        new = [record_id for record_id in ids if record_id not in held]
        if new:
            self.beginInsertRows(QModelIndex(), len(self._ids), len(self._ids) + len(new) - 1)
            self._ids.extend(new)
            self.endInsertRows()
        self._more = more
        self._asked = False

    @property
    def has_more(self) -> bool:
        return self._more

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more and not self._asked

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._asked = True
            self.more_wanted.emit()

    def invalidate_rows(self) -> None:
        """Cached rows are stale (a record changed): repaint from the database."""
        self._pages.clear()
        if self._ids:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._ids) - 1, self._column_count - 1)
            )

    def id_at(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, record_id: int) -> int:
        """The row showing ``record_id``, or -1."""
        try:
            return self._ids.index(record_id)
        except ValueError:
            return -1

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._column_count

    def _row(self, row: int) -> Any:
        """The record on ``row``, reading its page if it is not cached (None if it is gone)."""
        page_number = row // self.PAGE_SIZE
        page = self._pages.get(page_number)
        if page is None:
            start = page_number * self.PAGE_SIZE
            ids = self._ids[start : start + self.PAGE_SIZE]
            page = {r.id: r for r in self._fetch(ids)}
            self._pages[page_number] = page
            while len(self._pages) > self.MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_number)
        return page.get(self._ids[row])

    @property
    def cached_pages(self) -> int:
        return len(self._pages)
