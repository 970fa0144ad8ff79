"""接收县区数据包 (city) / 导入回执 / 基础数据 (county): every import is a dry run first, shown
in ``ImportPreviewDialog``, and only then the real import; the results stay in the table.

At the city it also watches the shared inbox (listing bundles not imported yet, never importing
by itself). It listens to the change hub itself: a settings change may move the inbox. After an
import it says ``exchanged`` so the page reloads; what the import changed is published on the hub.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.permissions import Permission
from desktop_app.errors import UserError
from desktop_app.services.context import Changes
from desktop_app.services.exchange import ImportReport
from desktop_app.ui.common import Card, UiContext
from desktop_app.ui.exchange.data import (
    BUNDLE_FILTER,
    RESULT_COLUMNS,
    Imported,
    Progress,
    dry_run,
    import_files,
    import_summary,
    load_inbox,
)
from desktop_app.ui.exchange.dialogs import ImportPreviewDialog, fill_results
from desktop_app.ui.exchange.widgets import (
    Busy,
    FileDialogs,
    Section,
    hint,
    log_failure,
    message_label,
    run_with_progress,
    show_message,
    table,
    tell_failure,
)
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.theme import RED, YELLOW

log = logging.getLogger(__name__)

INBOX_RESCAN_MS = 800


class ReceiveCard(Section):
    """Import buttons (and the city's inbox), the import's message and its results."""

    exchanged = Signal()  # an import ran: the status, the history and the sites show it

    def __init__(
        self,
        context: UiContext,
        page: QWidget,
        busy: Busy,
        is_city: bool,
        dialogs: FileDialogs,
    ) -> None:
        super().__init__(context, page, busy)
        self.is_city = is_city
        self.dialogs = dialogs
        self._can_exchange = self._actor.can(Permission.EXCHANGE_DATA)
        self.results: list[ImportReport] = []
        self.inbox_pending: list[Path] = []
        self.import_preview: ImportPreviewDialog | None = None
        self._scanning = False
        self._watched_inbox = ""

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        card = Card("接收县区数据包" if is_city else "导入回执 / 基础数据")
        outer.addWidget(card)
        buttons = QHBoxLayout()
        if is_city:
            self.import_button = QPushButton("导入数据包…")
            self.import_folder_button = QPushButton("导入文件夹…")
            self.import_folder_button.setToolTip("导入文件夹中所有尚未导入的数据包")
            self.import_folder_button.clicked.connect(self.import_folder)
        else:
            self.import_button = QPushButton("导入回执/基础数据…")
            self.import_button.setToolTip(
                "导入市级生成的回执（.bbcsack）或下发的基础数据包（.bbcs）"
            )
        self.import_button.clicked.connect(self.import_files)
        buttons.addWidget(self.import_button)
        if is_city:
            buttons.addWidget(self.import_folder_button)
        buttons.addWidget(hint("先预检，显示将新增、更新、忽略的记录，确认后才导入。"), 1)
        card.body.addLayout(buttons)
        if is_city:
            card.body.addLayout(self._build_inbox_row())
            self.inbox_list = QListWidget()
            self.inbox_list.setMaximumHeight(52)
            self.inbox_list.setVisible(False)
            card.body.addWidget(self.inbox_list)
        self.import_message = message_label()
        card.body.addWidget(self.import_message)
        self.results_table = table(RESULT_COLUMNS, 7, wrap=True)
        self.results_table.setMinimumHeight(110)
        card.body.addWidget(self.results_table, 1)

        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._inbox_touched)
        self._inbox_timer = QTimer(self)
        self._inbox_timer.setSingleShot(True)
        self._inbox_timer.setInterval(INBOX_RESCAN_MS)
        self._inbox_timer.timeout.connect(self.scan_inbox)
        self.update_buttons()

    def _build_inbox_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("共享收件箱"))
        self.inbox_path = QLineEdit()
        self.inbox_path.setReadOnly(True)
        self.inbox_path.setPlaceholderText(r"未设置（如 \\服务器\bbcs\收件箱）")
        row.addWidget(self.inbox_path, 1)
        self.inbox_button = QPushButton("设置…")
        self.inbox_button.setToolTip("各县区把数据包放到这个共享文件夹，市级在此扫描导入")
        self.inbox_button.clicked.connect(self.choose_inbox)
        row.addWidget(self.inbox_button)
        self.scan_button = QPushButton("扫描收件箱")
        self.scan_button.clicked.connect(self.scan_inbox)
        row.addWidget(self.scan_button)
        self.import_inbox_button = QPushButton("导入收件箱…")
        self.import_inbox_button.clicked.connect(self.import_inbox)
        row.addWidget(self.import_inbox_button)
        self.inbox_label = QLabel("")
        self.inbox_label.setWordWrap(True)  # "收件箱有 12 个待导入的数据包" must not widen the page
        row.addWidget(self.inbox_label)
        return row

    @property
    def is_busy(self) -> bool:
        """Loading the inbox's place or scanning it."""
        return self.is_loading or self._scanning

    # The inbox's place ------------------------------------------------------------------------

    def concerns(self, changes: Changes) -> bool:
        return self.is_city and changes.settings

    def _load(self) -> None:
        if not self.is_city:  # a county has no inbox: nothing to read
            self._loaded = True
            self._load_finished()
            return
        services = self._services
        Query(self._context.runner, self, lambda: load_inbox(services), self._show_inbox).failure(
            log_failure("the inbox's place")
        ).finished(self._load_finished).run()

    def _show_inbox(self, inbox: str) -> None:
        self._loaded = True
        if self.inbox_path.text() != inbox:
            self.inbox_path.setText(inbox)
            self._watch_inbox("")
            if inbox:
                self.scan_inbox()
        self.update_buttons()

    def update_buttons(self) -> None:
        exchange = self._can_exchange and not self._busy.active
        self.import_button.setEnabled(exchange)
        if self.is_city:
            self.import_folder_button.setEnabled(exchange)
            self.inbox_button.setEnabled(exchange)
            self.scan_button.setEnabled(bool(self.inbox_path.text()) and not self._scanning)
            self.import_inbox_button.setEnabled(exchange and bool(self.inbox_pending))

    # Import: dry run, confirm, import ---------------------------------------------------------

    def import_files(self) -> None:
        if self.is_city:
            files = self.dialogs.open_files(self, "选择县区数据包", BUNDLE_FILTER)
        else:
            files = self.dialogs.open_files(self, "选择市级回执或基础数据包", BUNDLE_FILTER)
        if files:
            self.start_import([Path(f) for f in files])

    def import_folder(self) -> None:
        folder = self.dialogs.directory(self, "选择存放数据包的文件夹（U盘或共享文件夹）")
        if folder:
            self.start_import([Path(folder)])

    def import_inbox(self) -> None:
        if self.inbox_pending:
            self.start_import(list(self.inbox_pending))

    def start_import(self, paths: Sequence[Path]) -> None:
        """A dry run of ``paths`` (files, or folders meaning their files not imported yet),
        shown in :class:`ImportPreviewDialog`; the import runs only when it is confirmed."""
        if self._busy.active:
            return
        services, actor = self._services, self._actor
        chosen = list(paths)
        show_message(self.import_message, True, "")

        def work(progress: Progress) -> list[ImportReport]:
            return dry_run(services, actor, chosen, progress)

        run_with_progress(
            self._context,
            self,
            self._busy,
            "正在预检（不会改动数据）…",
            work,
            self._dry_run_done,
            tell_failure(self, self.import_message, "导入未完成"),
        )

    def _dry_run_done(self, reports: list[ImportReport]) -> None:
        if not reports:
            self.show_results([])  # the last import's rows read as this one's
            show_message(
                self.import_message,
                True,
                "没有找到尚未导入的数据包或回执（导入过的，包括它们的副本，不再导入）。",
            )
            return
        self.show_results(reports)
        all_refused = all(r.refused for r in reports)
        show_message(
            self.import_message,
            not all_refused,
            "所选文件都被拒绝，没有导入任何数据（原因见下表）。"
            if all_refused
            else "预检完成，尚未导入：请在弹出的窗口中确认。",
        )
        dialog = ImportPreviewDialog(reports, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        refused = [r for r in reports if r.refused]  # stay in the results beside the imported
        dialog.accepted.connect(lambda: self._import_confirmed(dialog.importable_paths(), refused))
        dialog.rejected.connect(lambda: self._preview_closed(reports))
        self.import_preview = dialog
        dialog.open()

    def _preview_closed(self, reports: list[ImportReport]) -> None:
        self.import_preview = None
        if any(not r.refused for r in reports):
            show_message(self.import_message, False, "已取消导入，没有改动任何数据。")

    def _import_confirmed(self, paths: list[Path], refused: list[ImportReport]) -> None:
        self.import_preview = None
        if not paths:
            return
        services, actor = self._services, self._actor

        def work(progress: Progress) -> Imported:
            return import_files(services, actor, paths, progress)

        run_with_progress(
            self._context,
            self,
            self._busy,
            "正在导入…",
            work,
            lambda imported: self._imported(imported, refused),
            tell_failure(self, self.import_message, "导入未完成"),
        )

    def _imported(self, imported: Imported, refused: list[ImportReport]) -> None:
        """The results; what the import changed is published after this (the Action does)."""
        reports = imported.reports + refused
        self.show_results(reports)
        ok, text = import_summary(reports)
        if imported.backup is not None:
            text += (
                f"导入前已备份数据库（{imported.backup.backup.path.name}，"
                f"备份用时 {imported.backup.seconds:.1f} 秒）。"
            )
        show_message(self.import_message, ok, text)
        self.exchanged.emit()
        if self.is_city and self.inbox_path.text():
            self.scan_inbox()
        if imported.changes is not None:
            # A first upload leaves hundreds of MB in the write-ahead log: settled now, after the
            # screens have reloaded, not by the next save. Queued once this callback is over,
            # so after the reads the published Changes start.
            QTimer.singleShot(0, self, self._settle)

    def _settle(self) -> None:
        # Nobody waits for it: a checkpoint that fails is retried by SQLite at the next commit.
        Action(self._context, None, self._services.sync.settle_imports).failure(
            lambda exc: log.warning("the import's write-ahead log was not settled: %s", exc)
        ).run()

    def show_results(self, reports: list[ImportReport]) -> None:
        self.results = list(reports)
        fill_results(self.results_table, self.results)

    # Inbox (city) -----------------------------------------------------------------------------

    def choose_inbox(self) -> None:
        folder = self.dialogs.directory(self, "选择共享收件箱（各县区放数据包的文件夹）")
        if not folder:
            return
        services, actor = self._services, self._actor
        # Its Changes (settings) reload the inbox's place from the hub, which scans it.
        Action(self._context, self, lambda: services.sync.set_inbox(actor, folder)).run()

    def _inbox_touched(self, _path: str) -> None:
        self._inbox_timer.start()

    def scan_inbox(self) -> None:
        """List the inbox's bundles not imported yet; never imports by itself."""
        inbox = self.inbox_path.text() if self.is_city else ""
        if not inbox or self._scanning:
            return
        self._scanning = True
        self.update_buttons()
        sync = self._services.sync
        self.inbox_label.setText("正在扫描…")
        Query(
            self._context.runner,
            self,
            lambda: sync.pending_in_folder(Path(inbox)),
            lambda pending: self._scanned(inbox, pending),
        ).failure(self._scan_failed).run()

    def _scanned(self, inbox: str, pending: list[Path]) -> None:
        self._scanning = False
        self.inbox_pending = pending
        self.inbox_label.setText(
            f"收件箱有 {len(pending)} 个待导入的数据包" if pending else "收件箱没有待导入的数据包"
        )
        self.inbox_label.setStyleSheet(f"color: {YELLOW}; font-weight: bold;" if pending else "")
        self.inbox_list.clear()
        self.inbox_list.addItems([p.name for p in pending])
        self.inbox_list.setVisible(bool(pending))
        self._watch_inbox(inbox)  # reachable just now, so watching will not hang
        self.update_buttons()

    def _scan_failed(self, exc: Exception) -> None:
        self._scanning = False
        self.inbox_pending = []
        self.inbox_list.setVisible(False)
        message = exc.message if isinstance(exc, UserError) else "收件箱无法读取"
        self.inbox_label.setText(message)
        self.inbox_label.setStyleSheet(f"color: {RED};")
        self.update_buttons()

    def _watch_inbox(self, folder: str) -> None:
        if folder == self._watched_inbox:
            return
        if self.watcher.directories():
            self.watcher.removePaths(self.watcher.directories())
        self._watched_inbox = ""
        if folder and self.watcher.addPath(folder):
            self._watched_inbox = folder
