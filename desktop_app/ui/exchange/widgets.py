"""Pieces the 数据交换 sections share: tables, message lines, the page's one long job at a time,
the file choosers tests replace, and long work with a progress dialog."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QLabel,
    QProgressDialog,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from desktop_app.errors import UserError
from desktop_app.services.context import Changes
from desktop_app.ui.common import UiContext, show_error
from desktop_app.ui.exchange.data import Progress
from desktop_app.ui.operations import Action, alive
from desktop_app.ui.theme import GREEN, RED, YELLOW

log = logging.getLogger(__name__)

T = TypeVar("T")

ROW_ROLE = Qt.ItemDataRole.UserRole
RED_BRUSH = QBrush(QColor(RED))
AMBER_BRUSH = QBrush(QColor(YELLOW))
GREEN_BRUSH = QBrush(QColor(GREEN))


# Small widgets --------------------------------------------------------------------------------


def table(columns: Sequence[str], stretch: int, *, wrap: bool = False) -> QTableWidget:
    widget = QTableWidget(0, len(columns))
    widget.setHorizontalHeaderLabels(list(columns))
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setAlternatingRowColors(True)
    widget.verticalHeader().setVisible(False)
    widget.setWordWrap(False)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    if wrap:  # long texts (a refusal's reason) are read in full, not elided
        widget.setWordWrap(True)
        header.sectionResized.connect(lambda *_args: widget.resizeRowsToContents())
    return widget


def set_row(widget: QTableWidget, row: int, values: Sequence[str], key: object = None) -> None:
    for column, value in enumerate(values):
        item = QTableWidgetItem(value)
        item.setData(ROW_ROLE, key)
        item.setToolTip(value)
        widget.setItem(row, column, item)


def cell(widget: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    """A cell ``set_row`` filled (so it exists)."""
    item = widget.item(row, column)
    assert item is not None
    return item


def selected_key(widget: QTableWidget) -> object:
    """The key of the selected row (what ``set_row`` stored), None when nothing is selected."""
    rows = widget.selectionModel().selectedRows()
    if not rows:
        return None
    return cell(widget, rows[0].row(), 0).data(ROW_ROLE)


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def message_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(False)
    return label


def show_message(label: QLabel, ok: bool, text: str) -> None:
    colour = GREEN if ok else RED
    label.setStyleSheet(f"color: {colour};")
    label.setText(text)
    label.setVisible(bool(text))


# The page's shared state ----------------------------------------------------------------------


class Busy(QObject):
    """The page's one long job at a time (an export, an import, settling a conflict): while it
    runs every section greys the buttons that would start another."""

    changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._active = False

    @property
    def active(self) -> bool:
        return self._active

    def set(self, active: bool) -> None:
        self._active = active
        self.changed.emit(active)


class Section(QWidget):
    """A part of the page that reads its own data and listens to the change hub itself.

    A change that concerns it reloads it at once while the page is on screen, else when the page
    is next shown. It does not wait to be looked at: a tab's title and the page's figures come
    from tabs not shown.
    """

    def __init__(self, context: UiContext, page: QWidget, busy: Busy) -> None:
        super().__init__()
        self._context = context
        self._services = context.services
        self._actor = context.actor
        self._page = page
        self._busy = busy
        self._loading = False
        self._loaded = False
        self._stale = True
        busy.changed.connect(self._busy_changed)
        context.hub.changed.connect(self._on_changed)

    @property
    def is_loading(self) -> bool:
        return self._loading

    @property
    def stale(self) -> bool:
        """Something it shows changed since it was last read (or it was never read)."""
        return self._stale

    @property
    def loaded(self) -> bool:
        """Whether a first answer has been shown."""
        return self._loaded

    def concerns(self, changes: Changes) -> bool:
        """Whether the section shows what ``changes`` changed."""
        return False

    def refresh(self) -> None:
        """Read the section's data again on the worker (once at a time)."""
        if self._loading:
            return
        self._loading = True
        self._stale = False
        self._load()

    def update_buttons(self) -> None:
        """Enable what the user may do now (the page may be busy, a row selected or not)."""

    def _load(self) -> None:
        """Start the read (a ``Query`` whose ``finished`` calls ``_load_finished``)."""
        self._load_finished()

    def _load_finished(self) -> None:
        self._loading = False

    def _busy_changed(self, _active: bool) -> None:
        self.update_buttons()

    def _on_changed(self, changes: Changes) -> None:
        if not self.concerns(changes):
            return
        self._stale = True
        if self._page.isVisible():
            self.refresh()


def log_failure(what: str) -> Callable[[Exception], None]:
    """A section's read that failed: logged, a bug with its traceback (the status card tells
    the user: one message box rather than one per section)."""

    def failed(exc: Exception) -> None:
        if isinstance(exc, UserError):
            log.warning("%s could not be read: %s", what, exc.message)
        else:
            log.error("%s could not be read", what, exc_info=exc)

    return failed


# Collaborators tests replace ------------------------------------------------------------------


class FileDialogs:
    """The file choosers the page opens; tests pass a stand-in that returns chosen paths.

    Each opens where the last one chose (the stick, the share), at first in the user's
    documents: they opened in the program's own folder, where a clerk then saved the identity
    file."""

    def __init__(self) -> None:
        documents = QStandardPaths.StandardLocation.DocumentsLocation
        self.last_folder = QStandardPaths.writableLocation(documents) or str(Path.home())

    def _chosen(self, path: str, *, is_folder: bool = False) -> str:
        if path:
            self.last_folder = path if is_folder else str(Path(path).parent)
        return path

    def open_files(self, parent: QWidget, caption: str, name_filter: str) -> list[str]:
        files, _ = QFileDialog.getOpenFileNames(parent, caption, self.last_folder, name_filter)
        if files:
            self._chosen(files[0])
        return list(files)

    def open_file(self, parent: QWidget, caption: str, name_filter: str) -> str:
        file, _ = QFileDialog.getOpenFileName(parent, caption, self.last_folder, name_filter)
        return self._chosen(str(file))

    def directory(self, parent: QWidget, caption: str) -> str:
        # The dialog accepts a typed \\server\share path as well as a browsed folder.
        folder = QFileDialog.getExistingDirectory(parent, caption, self.last_folder)
        return self._chosen(str(folder), is_folder=True)

    def save_file(self, parent: QWidget, caption: str, suggested: str, name_filter: str) -> str:
        start = str(Path(self.last_folder) / suggested)
        file, _ = QFileDialog.getSaveFileName(parent, caption, start, name_filter)
        return self._chosen(str(file))


# Long work with a progress dialog -------------------------------------------------------------


class ProgressRelay(QObject):
    """Carries a service's progress callback from the worker to the UI thread."""

    progress = Signal(str, int, int)

    def report(self, what: str, done: int, total: int) -> None:
        self.progress.emit(what, done, total)  # queued: the receiver lives on the UI thread


def run_with_progress(
    context: UiContext,
    parent: QWidget,
    busy: Busy,
    title: str,
    work: Callable[[Progress], T],
    on_success: Callable[[T], None],
    on_failure: Callable[[Exception], None],
) -> None:
    """Runs ``work`` as an ``Action``; progress shows in a dialog (no 取消: the service's writes
    are atomic but not interruptible, so a cancel button would be a lie). The page is busy until
    it ends; the dialog closes before ``on_success`` or ``on_failure`` is called."""
    busy.set(True)
    relay = ProgressRelay(parent)
    dialog = QProgressDialog(title, "", 0, 0, parent)
    dialog.setWindowTitle("数据交换")
    dialog.setCancelButton(None)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(400)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumWidth(420)

    def update(what: str, done: int, total: int) -> None:
        if alive(dialog):
            # The text first: a modal dialog's setValue() handles pending events, the next
            # step's update among them, and a text set after it showed the step before.
            dialog.setLabelText(f"{title}\n{what}（{done}/{total}）")
            dialog.setMaximum(max(total, 1))
            dialog.setValue(min(done, max(total, 1)))

    relay.progress.connect(update)
    ended = False

    def end() -> None:
        nonlocal ended
        if ended:
            return
        ended = True
        relay.deleteLater()
        dialog.close()
        dialog.deleteLater()
        busy.set(False)

    def succeeded(result: T) -> None:
        end()
        on_success(result)

    def failed(exc: Exception) -> None:
        end()
        on_failure(exc)

    Action(context, parent, lambda: work(relay.report)).success(succeeded).failure(failed).run()


def tell_failure(parent: QWidget, label: QLabel, otherwise: str) -> Callable[[Exception], None]:
    """A long job that failed: its reason on the section's message line and in a message box."""

    def failed(exc: Exception) -> None:
        show_message(label, False, exc.message if isinstance(exc, UserError) else otherwise)
        show_error(parent, exc)

    return failed
