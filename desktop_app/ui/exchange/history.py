"""往来记录: the bundles and acknowledgements sent and received, newest first.

It listens to the change hub itself: an import (cases) or a change of sites (their names)
concerns it; an export reloads it through the page.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop_app.services.context import Changes
from desktop_app.services.exchange import BundleRecord
from desktop_app.ui.common import UiContext
from desktop_app.ui.exchange.data import (
    HISTORY_COLUMNS,
    HISTORY_LIMIT,
    counts_text,
    history_summary,
    history_values,
)
from desktop_app.ui.exchange.widgets import (
    AMBER_BRUSH,
    GREEN_BRUSH,
    Busy,
    Section,
    cell,
    hint,
    log_failure,
    set_row,
    table,
)
from desktop_app.ui.operations import Query


class HistoryTab(Section):
    """The 往来记录 tab: one row per bundle, its acknowledgement or import beside it."""

    def __init__(self, context: UiContext, page: QWidget, busy: Busy) -> None:
        super().__init__(context, page, busy)
        self.history: list[BundleRecord] = []
        layout = QVBoxLayout(self)
        self.history_table = table(HISTORY_COLUMNS, 4)
        layout.addWidget(self.history_table, 1)
        self.history_label = hint("")
        layout.addWidget(self.history_label)

    def concerns(self, changes: Changes) -> bool:
        return changes.cases or changes.site

    def _load(self) -> None:
        sync = self._services.sync
        Query(self._context.runner, self, lambda: sync.history(HISTORY_LIMIT), self._show).failure(
            log_failure("the exchange history")
        ).finished(self._load_finished).run()

    def _show(self, history: list[BundleRecord]) -> None:
        self._loaded = True
        self.history = history
        widget = self.history_table
        widget.setRowCount(len(history))
        for row, record in enumerate(history):
            values = history_values(record)
            set_row(widget, row, values, record.bundle_id)
            cell(widget, row, 4).setToolTip(str(Path(record.location) / record.file_name))
            cell(widget, row, 6).setToolTip(counts_text(record))
            done = values[7]
            if done == "待确认":
                cell(widget, row, 7).setForeground(AMBER_BRUSH)
            elif done.startswith("已确认"):
                cell(widget, row, 7).setForeground(GREEN_BRUSH)
        self.history_label.setText(history_summary(history))
