"""Plumbing shared by every screen: the change signal, the worker, messages, small widgets."""

from __future__ import annotations

import gc
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QFrame, QLabel, QMessageBox, QVBoxLayout, QWidget

from desktop_app.errors import UserError
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor, Changes

log = logging.getLogger(__name__)


class ChangeHub(QObject):
    """Views refresh from this one signal instead of calling each other's reload methods."""

    changed = Signal(object)  # Changes

    def publish(self, changes: Changes) -> None:
        self.changed.emit(changes)


class _TaskSignals(QObject):
    # The number of a finished task: one object for the runner's whole life, made on the UI
    # thread, so no Qt object is ever created or destroyed on the worker.
    finished = Signal(int)


class _Task(QRunnable):
    def __init__(
        self,
        number: int,
        work: Callable[[], Any],
        outcomes: dict[int, tuple[Any, Exception | None]],
        signals: _TaskSignals,
    ) -> None:
        super().__init__()
        self._number = number
        self._work: Callable[[], Any] | None = work
        self._outcomes = outcomes
        self._signals = signals

    def run(self) -> None:
        work, self._work = self._work, None
        assert work is not None
        try:
            outcome: tuple[Any, Exception | None] = (work(), None)
        except Exception as exc:  # delivered to the UI thread, which decides what to show
            outcome = (None, exc)
        # Handed over before the signal: the worker keeps no reference to what it made.
        self._outcomes[self._number] = outcome
        del outcome, work
        self._signals.finished.emit(self._number)


class _UiThreadCollector(QObject):
    """Python's cycle collector runs on whichever thread happens to allocate. On the worker it
    may free a Qt object of the UI thread, whose destructor then waits for the GIL while the UI
    thread, holding it, waits for Qt's lock: the program hangs (seen in a test run). So while
    work runs on a second thread, automatic collection is off and this timer collects on the UI
    thread instead, by the same thresholds."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def collect(self) -> None:
        first, second, third = gc.get_threshold()
        young, middle, old = gc.get_count()
        if old > third:
            gc.collect(2)
        elif middle > second:
            gc.collect(1)
        elif young > first:
            gc.collect(0)


_collector: _UiThreadCollector | None = None


def collect_on_ui_thread() -> None:
    """Turn automatic garbage collection off and collect on the UI thread from now on (once per
    application; needs a QCoreApplication)."""
    global _collector
    gc.disable()
    app = QCoreApplication.instance()
    if _collector is None and app is not None:
        _collector = _UiThreadCollector(app)


class TaskRunner(QObject):
    """Runs database/PDF/export work on one worker thread; results arrive on the UI thread.

    One thread, so work runs in the order it was asked for and never races itself. The runner
    keeps each task's work and callbacks until its result is delivered, so the last reference to
    anything a task holds (a widget in a closure, a result) is dropped on the UI thread: a Qt
    object destroyed on the worker while the UI thread waits for Qt's lock would deadlock.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        collect_on_ui_thread()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _TaskSignals(self)
        self._signals.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._pending: dict[
            int,
            tuple[Callable[[], Any], Callable[[Any], None], Callable[[Exception], None] | None],
        ] = {}
        self._outcomes: dict[int, tuple[Any, Exception | None]] = {}
        self._next = 0

    def run(
        self,
        work: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[Exception], None] | None = None,
    ) -> None:
        self._next += 1
        self._pending[self._next] = (work, on_success, on_failure)
        self._pool.start(_Task(self._next, work, self._outcomes, self._signals))

    def _deliver(self, number: int) -> None:
        entry = self._pending.pop(number, None)
        result, exc = self._outcomes.pop(number, (None, None))
        if entry is None:
            return
        _work, on_success, on_failure = entry
        if exc is None:
            on_success(result)
        elif on_failure is not None:
            on_failure(exc)
        else:
            show_error(None, exc)

    def wait(self, msecs: int = 30_000) -> bool:
        return self._pool.waitForDone(msecs)

    def idle(self) -> bool:
        """Nothing asked for is still running or waiting to be delivered (tests wait for it)."""
        return not self._pending


@dataclass
class UiContext:
    """What every screen gets: the services, who is logged in, the change hub and the worker."""

    services: AppServices
    actor: Actor
    hub: ChangeHub
    runner: TaskRunner


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    """A user error as a plain Chinese message; a bug logged with its traceback."""
    if isinstance(exc, UserError):
        QMessageBox.warning(parent, "无法完成", exc.message)
        return
    log.error("unexpected error: %s", "".join(traceback.format_exception(exc)))
    QMessageBox.critical(
        parent,
        "程序错误",
        "程序遇到了一个意外错误，操作未完成，已保存的数据不受影响。\n"
        "错误详情已写入数据目录下的 logs/bbcs.log，请发给维护人员。\n\n"
        f"{type(exc).__name__}: {exc}",
    )


class FieldError(QLabel):
    """The red message beside a form field; empty and hidden when the field is fine."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldError")
        self.setWordWrap(True)
        self.setVisible(False)

    def set_message(self, message: str | None) -> None:
        self.setText(message or "")
        self.setVisible(bool(message))


def heading(text: str, size: int = 16) -> QLabel:
    label = QLabel(text)
    # A style sheet, not setFont: the application style sheet sets every widget's font size
    # and would override a font set on the label.
    label.setStyleSheet(f"font-size: {size}pt; font-weight: bold;")
    return label


class Card(QFrame):
    """A framed panel with a title, used on the dashboard and detail pages."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(14, 10, 14, 12)
        self.body.setSpacing(6)
        self.title_label = heading(title, 12)
        self.body.addWidget(self.title_label)
