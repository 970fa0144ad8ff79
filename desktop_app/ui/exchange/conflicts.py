"""数据冲突 (city): records changed both at a county and here, settled by hand.

It listens to the change hub itself: an import or a settled conflict (cases) and a change of
sites (the counties' names) concern it. The page shows its count in the tab's title.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from desktop_app.domain.permissions import Permission
from desktop_app.services.context import Changes
from desktop_app.ui.common import UiContext
from desktop_app.ui.exchange.data import (
    CONFLICT_COLUMNS,
    ConflictsData,
    conflict_values,
    load_conflicts,
)
from desktop_app.ui.exchange.widgets import (
    Busy,
    Section,
    hint,
    log_failure,
    selected_key,
    set_row,
    table,
)
from desktop_app.ui.operations import Action, Query


class ConflictsTab(Section):
    """The open conflicts, and 采用县区版本 / 保留本地 for the selected one."""

    counted = Signal(int)  # how many conflicts are open, for the tab's title

    def __init__(self, context: UiContext, page: QWidget, busy: Busy) -> None:
        super().__init__(context, page, busy)
        self._can_exchange = self._actor.can(Permission.EXCHANGE_DATA)
        self.data: ConflictsData | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint(
                "同一条记录在县区和市级都被修改过时，县区的版本不会直接覆盖，而是放在这里由人工"
                "决定：采用县区版本，或保留本地版本。两种版本都留在记录中。"
            )
        )
        self.conflicts_table = table(CONFLICT_COLUMNS, 5)
        self.conflicts_table.itemSelectionChanged.connect(self.update_buttons)
        layout.addWidget(self.conflicts_table, 1)
        row = QHBoxLayout()
        self.take_incoming_button = QPushButton("采用县区版本")
        self.take_incoming_button.clicked.connect(lambda: self.resolve_selected(True))
        self.keep_local_button = QPushButton("保留本地")
        self.keep_local_button.clicked.connect(lambda: self.resolve_selected(False))
        row.addWidget(self.take_incoming_button)
        row.addWidget(self.keep_local_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.update_buttons()

    def concerns(self, changes: Changes) -> bool:
        return changes.cases or changes.site

    def _load(self) -> None:
        services = self._services
        Query(self._context.runner, self, lambda: load_conflicts(services), self._show).failure(
            log_failure("the conflicts")
        ).finished(self._load_finished).run()

    def _show(self, data: ConflictsData) -> None:
        self._loaded = True
        self.data = data
        widget = self.conflicts_table
        widget.setRowCount(len(data.conflicts))
        for row, conflict in enumerate(data.conflicts):
            set_row(widget, row, conflict_values(conflict, data.site_names), conflict.id)
        self.update_buttons()
        self.counted.emit(len(data.conflicts))

    def update_buttons(self) -> None:
        enabled = (
            self._can_exchange and not self._busy.active and self.selected_conflict() is not None
        )
        self.take_incoming_button.setEnabled(enabled)
        self.keep_local_button.setEnabled(enabled)

    def selected_conflict(self) -> int | None:
        key = selected_key(self.conflicts_table)
        return None if key is None else int(str(key))

    def resolve_selected(self, take_incoming: bool) -> None:
        conflict_id = self.selected_conflict()
        if conflict_id is None or self._busy.active:
            return
        services, actor = self._services, self._actor
        self._busy.set(True)
        # The Changes it returns (cases) reload this list and the page's figures from the hub.
        Action(
            self._context,
            self,
            lambda: services.sync.resolve_conflict(actor, conflict_id, take_incoming=take_incoming),
        ).finished(lambda: self._busy.set(False)).run()
