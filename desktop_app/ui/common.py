"""Plumbing shared by every screen: the change signal, the worker, messages, small widgets."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
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
    succeeded = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, work: Callable[[], Any], signals: _TaskSignals) -> None:
        super().__init__()
        self._work = work
        self.signals = signals

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as exc:  # delivered to the UI thread, which decides what to show
            self.signals.failed.emit(exc)
        else:
            self.signals.succeeded.emit(result)


class TaskRunner(QObject):
    """Runs database/PDF/export work on one worker thread; results arrive on the UI thread.

    One thread, so work runs in the order it was asked for and never races itself.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pending: set[_TaskSignals] = set()

    def run(
        self,
        work: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[Exception], None] | None = None,
    ) -> None:
        signals = _TaskSignals()
        self._pending.add(signals)

        def succeeded(result: Any) -> None:
            self._pending.discard(signals)
            on_success(result)

        def failed(exc: Exception) -> None:
            self._pending.discard(signals)
            if on_failure is not None:
                on_failure(exc)
            else:
                show_error(None, exc)

        signals.succeeded.connect(succeeded, Qt.ConnectionType.QueuedConnection)
        signals.failed.connect(failed, Qt.ConnectionType.QueuedConnection)
        self._pool.start(_Task(work, signals))

    def wait(self, msecs: int = 30_000) -> bool:
        return self._pool.waitForDone(msecs)


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
