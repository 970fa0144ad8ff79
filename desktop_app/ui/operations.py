"""The one way a screen runs service work: on the worker, with its result back on the UI thread.

Modelled on Anki's ``aqt/operations`` (``CollectionOp`` for a change, ``QueryOp`` for a read):

- ``Action`` runs a use case that changes records. It publishes the ``Changes`` the service
  returns (see ``changes_of``) on the hub after the success callback,
  so every open view refreshes even when the widget that asked has been closed meanwhile.
- ``Query`` runs a read. Its result is dropped when the widget that asked is gone.

Both show a failure the same way everywhere: a ``ValidationFailed`` goes to the form's
``on_invalid`` when the screen gave one, any other ``UserError`` is a plain Chinese message, a bug
is logged with its traceback and reported (``common.show_error``). A widget deleted while the
worker was busy never receives a callback: a result for it would touch a dead C++ object.

    Action(self._context, self, lambda: services.auth.set_active(actor, user_id, False)) \\
        .success(lambda _changes: self.status.setText("已停用")) \\
        .run()

Nothing else in ``ui/`` calls ``TaskRunner.run``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, Protocol, Self, TypeVar

import shiboken6
from PySide6.QtWidgets import QWidget

from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services.context import Changes
from desktop_app.ui.common import TaskRunner, UiContext, show_error

log = logging.getLogger(__name__)

T = TypeVar("T")


class HasChanges(Protocol):
    @property
    def changes(self) -> Changes: ...


def changes_of(result: object) -> Changes | None:
    """What a service result says it changed. Services answer in one of three shapes: a
    ``Changes``, a ``(value, Changes)`` pair, or a result object with a ``.changes``."""
    if isinstance(result, Changes):
        return result
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Changes):
        return result[1]
    changes = getattr(result, "changes", None)
    return changes if isinstance(changes, Changes) else None


def alive(widget: QWidget | None) -> bool:
    """Whether the widget's C++ object still exists (a closed dialog with WA_DeleteOnClose, a
    page rebuilt after 切换用户, … are gone)."""
    return widget is not None and shiboken6.isValid(widget)


class _Op(Generic[T]):
    def __init__(self, runner: TaskRunner, parent: QWidget | None, work: Callable[[], T]) -> None:
        self._runner = runner
        self._parent = parent
        self._work = work
        self._on_success: Callable[[T], None] | None = None
        self._on_invalid: Callable[[ValidationFailed], None] | None = None
        self._on_failure: Callable[[Exception], None] | None = None
        self._on_finished: Callable[[], None] | None = None

    def success(self, on_success: Callable[[T], None]) -> Self:
        """Called with the result on the UI thread, if the widget still exists."""
        self._on_success = on_success
        return self

    def on_invalid(self, on_invalid: Callable[[ValidationFailed], None]) -> Self:
        """Form errors go here (e.g. red messages beside the fields) instead of a message box."""
        self._on_invalid = on_invalid
        return self

    def failure(self, on_failure: Callable[[Exception], None]) -> Self:
        """Takes over every failure while the widget exists (the default shows it)."""
        self._on_failure = on_failure
        return self

    def finished(self, on_finished: Callable[[], None]) -> Self:
        """Called after success or failure, if the widget still exists: re-enable a button."""
        self._on_finished = on_finished
        return self

    def run(self) -> None:
        self._runner.run(self._work, self._succeeded, self._failed)

    def _succeeded(self, result: T) -> None:
        try:
            if self._on_success is not None and self._parent_alive():
                self._on_success(result)
        finally:
            self._after(result)
            self._finish()

    def _failed(self, exc: Exception) -> None:
        try:
            if not self._parent_alive():
                self._failed_without_parent(exc)
            elif isinstance(exc, ValidationFailed) and self._on_invalid is not None:
                self._on_invalid(exc)
            elif self._on_failure is not None:
                self._on_failure(exc)
            else:
                show_error(self._parent, exc)
        finally:
            self._finish()

    def _finish(self) -> None:
        if self._on_finished is not None and self._parent_alive():
            self._on_finished()

    def _parent_alive(self) -> bool:
        return self._parent is None or alive(self._parent)

    def _after(self, result: T) -> None:
        """What happens after the success callback whatever became of the widget."""

    def _failed_without_parent(self, exc: Exception) -> None:
        show_error(None, exc)


class Action(_Op[T]):
    """A use case that changes records; its ``Changes`` are published when it succeeds."""

    def __init__(self, context: UiContext, parent: QWidget | None, work: Callable[[], T]) -> None:
        super().__init__(context.runner, parent, work)
        self._context = context

    def _after(self, result: T) -> None:
        changes = changes_of(result)
        if changes is not None:
            self._context.hub.publish(changes)


class Query(_Op[T]):
    """A read for a widget; dropped when the widget is gone before the answer arrives."""

    def __init__(
        self,
        runner: TaskRunner,
        parent: QWidget | None,
        work: Callable[[], T],
        on_success: Callable[[T], None] | None = None,
    ) -> None:
        super().__init__(runner, parent, work)
        self._on_success = on_success

    def _failed_without_parent(self, exc: Exception) -> None:
        # Nobody is waiting for the answer any more: a user error is no news, a bug is logged.
        if not isinstance(exc, UserError):
            log.error("a read for a closed window failed", exc_info=exc)
