"""What other seats changed, brought into this window's views (several seats on PostgreSQL).

Every few seconds the worker asks ``services.seats.ChangeWatcher`` what was written since it
last looked; what it finds is published on the change hub as if this window had done it, so
the ledger, the calendar and the dashboard refresh by the same path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from desktop_app.services.context import Changes
from desktop_app.services.seats import ChangeWatcher
from desktop_app.ui.common import TaskRunner

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 3000


class SeatWatch(QObject):
    """Polls on the worker, publishes on the UI thread; one poll at a time. ``start`` makes
    the watcher (``AppServices.change_watcher``), on the worker: it reads the database."""

    def __init__(
        self,
        start: Callable[[], ChangeWatcher],
        runner: TaskRunner,
        publish: Callable[[Changes], None],
        parent: QObject | None = None,
        *,
        interval_ms: int = POLL_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self._start = start
        self._runner = runner
        self._publish = publish
        self._watcher: ChangeWatcher | None = None
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._tick()  # the starting point is read on the worker too

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        if self._busy:
            return
        self._busy = True
        self._runner.run(self._poll, self._delivered, self._failed)

    def _poll(self) -> Changes | None:
        if self._watcher is None:
            self._watcher = self._start()  # from now on
            return None
        return self._watcher.poll()

    def _delivered(self, changes: Changes | None) -> None:
        self._busy = False
        if changes is not None:
            self._publish(changes)

    def _failed(self, exc: Exception) -> None:
        # The server away for a moment: the next tick tries again; nothing to tell the clerk
        # here (the next save says it plainly).
        self._busy = False
        log.warning("could not ask the database what other seats changed: %s", exc)
