"""数据交换: this site's keys, the sites it trusts, and bundles carried by USB stick or share.

A county exports data bundles for its city and imports the city's acknowledgements and reference
data; a city imports the counties' bundles (one by one, a folder, or its shared inbox), settles
conflicts and sends reference data down. Every import is a dry run first, shown in a dialog,
and only then the real import. All reading and writing of sticks and shares runs on the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.errors import UserError
from desktop_app.files import size_text
from desktop_app.services.context import Changes
from desktop_app.services.exchange import (
    TABLE_LABELS,
    BundleRecord,
    ConflictInfo,
    ExportResult,
    ImportReport,
    SyncStatus,
    TrustedSite,
)
from desktop_app.services.keys import PublicIdentity
from desktop_app.services.site import SiteInfo
from desktop_app.ui.common import Card, UiContext, heading, show_error
from desktop_app.ui.screen import size_to_screen
from desktop_app.ui.scrolling import VerticalScrollArea
from desktop_app.ui.theme import GREEN, RED, YELLOW

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200
HISTORY_COLUMNS = ("时间", "方向", "类型", "对方站点", "文件", "大小", "记录数", "确认/导入")
RESULT_COLUMNS = ("文件", "来自", "类型", "新增", "更新", "忽略", "冲突", "结果")
SITE_COLUMNS = ("站点代码", "站点名称", "级别", "指纹", "状态", "登记时间", "最近数据包")
CONFLICT_COLUMNS = ("发现时间", "县区", "记录", "本地版本", "县区版本", "原因")
DIRECTION_LABELS = {"out": "发出", "in": "收到"}
KIND_LABELS = {"data": "上报数据", "reference": "基础数据", "ack": "回执"}
BUNDLE_FILTER = "数据包和回执 (*.bbcs *.bbcsack);;所有文件 (*)"
IDENTITY_FILTER = "站点身份文件 (*.json);;所有文件 (*)"
INBOX_RESCAN_MS = 800
# The scrolled body never asks for more height than this; taller content scrolls.
BODY_MIN_HEIGHT = 300
_ROW_ROLE = Qt.ItemDataRole.UserRole
_RED_BRUSH = QBrush(QColor(RED))
_AMBER_BRUSH = QBrush(QColor(YELLOW))
_GREEN_BRUSH = QBrush(QColor(GREEN))


# Data read on the worker ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExchangeData:
    """Everything the page shows, read in one go on the worker."""

    site: SiteInfo
    fingerprint: str
    status: SyncStatus
    history: list[BundleRecord]
    sites: list[TrustedSite]
    conflicts: list[ConflictInfo]


def load_exchange_data(context: UiContext) -> ExchangeData:
    services = context.services
    site = services.site.info()
    identity = services.keys.identity(site.code, site.name, site.level.value)
    return ExchangeData(
        site=site,
        fingerprint=identity.fingerprint(),
        status=services.sync.status(),
        history=services.sync.history(HISTORY_LIMIT),
        sites=services.sync.trusted_sites(),
        conflicts=services.sync.conflicts(),
    )


@dataclass(frozen=True)
class Target:
    """A place a bundle can be written: a detected drive or a folder the user chose."""

    text: str
    path: str
    tooltip: str = ""


def detected_targets() -> list[Target]:
    """U盘 and network drives, in that order (on the worker: a sleeping share can take
    seconds to answer)."""
    from desktop_app.system import drives

    order = {"removable": 0, "network": 1, "fixed": 2}
    targets = []
    for drive in sorted(drives.list_removable_drives(), key=lambda d: order.get(d.kind, 3)):
        free = drive.free_bytes
        tooltip = f"{drive.path}，可用 {size_text(free)}" if free is not None else drive.path
        targets.append(Target(drive.describe(), drive.path, tooltip))
    return targets


def describe_target(path: str) -> str:
    """Where ``path`` is, e.g. "U盘 KINGSTON (E:)\\报送"; "" when it cannot be told."""
    from desktop_app.system import drives

    try:
        return drives.describe_target(path)
    except Exception:  # a description is a nicety; never fail a finished export over it
        log.warning("could not describe %s", path, exc_info=True)
        return ""


def _time(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else ""


def _record_count(counts: dict[str, Any]) -> int:
    return sum(n for n in counts.values() if isinstance(n, int) and not isinstance(n, bool))


# Collaborators tests replace ------------------------------------------------------------------


class FileDialogs:
    """The file choosers the page opens; tests pass a stand-in that returns chosen paths."""

    def open_files(self, parent: QWidget, caption: str, name_filter: str) -> list[str]:
        files, _ = QFileDialog.getOpenFileNames(parent, caption, "", name_filter)
        return list(files)

    def open_file(self, parent: QWidget, caption: str, name_filter: str) -> str:
        file, _ = QFileDialog.getOpenFileName(parent, caption, "", name_filter)
        return str(file)

    def directory(self, parent: QWidget, caption: str) -> str:
        # The dialog accepts a typed \\server\share path as well as a browsed folder.
        return str(QFileDialog.getExistingDirectory(parent, caption, ""))

    def save_file(self, parent: QWidget, caption: str, suggested: str, name_filter: str) -> str:
        file, _ = QFileDialog.getSaveFileName(parent, caption, suggested, name_filter)
        return str(file)


class ProgressRelay(QObject):
    """Carries a service's progress callback from the worker to the UI thread."""

    progress = Signal(str, int, int)

    def report(self, what: str, done: int, total: int) -> None:
        self.progress.emit(what, done, total)  # queued: the receiver lives on the UI thread


# Small widgets --------------------------------------------------------------------------------


def _table(columns: Sequence[str], stretch: int, *, wrap: bool = False) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    if wrap:  # long texts (a refusal's reason) are read in full, not elided
        table.setWordWrap(True)
        header.sectionResized.connect(lambda *_args: table.resizeRowsToContents())
    return table


def _set_row(table: QTableWidget, row: int, values: Sequence[str], key: object = None) -> None:
    for column, value in enumerate(values):
        item = QTableWidgetItem(value)
        item.setData(_ROW_ROLE, key)
        item.setToolTip(value)
        table.setItem(row, column, item)


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def _message_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(False)
    return label


def _show_message(label: QLabel, ok: bool, text: str) -> None:
    colour = GREEN if ok else RED
    label.setStyleSheet(f"color: {colour};")
    label.setText(text)
    label.setVisible(bool(text))


def fill_results(table: QTableWidget, reports: Sequence[ImportReport]) -> None:
    """One row per bundle or acknowledgement; a refusal's reason in red."""
    table.setRowCount(len(reports))
    for row, report in enumerate(reports):
        totals = report.totals()
        if report.refused:
            outcome = f"拒绝：{report.reason}"
        elif report.dry_run:
            outcome = "；".join(["可以导入", *report.notes])
        elif report.kind == "ack":
            outcome = "市级已确认收到" if totals["updated"] else "回执已导入过，未做更改"
        else:
            outcome = "；".join(["已导入", *report.notes])
            if report.ack_path:
                outcome += f"；回执：{report.ack_path}"
        if report.reasons and not report.refused and report.kind != "ack":
            outcome += "（" + "；".join(f"{r} {n} 条" for r, n in report.reasons.items()) + "）"
        values = [
            Path(report.path).name,
            report.from_name or report.from_site,
            KIND_LABELS.get(report.kind, report.kind),
            *(str(totals[k]) for k in ("added", "updated", "ignored", "conflicts")),
            outcome,
        ]
        _set_row(table, row, values, row)
        if report.refused:
            table.item(row, 7).setForeground(_RED_BRUSH)
        elif totals["conflicts"]:
            table.item(row, 6).setForeground(_AMBER_BRUSH)
    table.resizeRowsToContents()


class ImportPreviewDialog(QDialog):
    """The dry run's findings, with 确认导入 / 取消; nothing is imported until confirmed."""

    def __init__(self, reports: Sequence[ImportReport], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("导入预检")
        size_to_screen(self, 1000, 420)
        self.reports = list(reports)
        importable = [r for r in self.reports if not r.refused]
        refused = len(self.reports) - len(importable)
        layout = QVBoxLayout(self)
        totals = {k: 0 for k in ("added", "updated", "ignored", "conflicts")}
        for report in importable:
            for key, value in report.totals().items():
                totals[key] += value
        text = (
            f"预检了 {len(self.reports)} 个文件（尚未导入任何数据）：可导入 {len(importable)} 个，"
            f"将新增 {totals['added']} 条、更新 {totals['updated']} 条、"
            f"忽略 {totals['ignored']} 条、冲突 {totals['conflicts']} 条。"
        )
        if refused:
            text += f"\n有 {refused} 个文件被拒绝，不会导入（原因见“结果”列）。"
        if totals["conflicts"]:
            text += "\n冲突的记录不会覆盖本地数据，将放入“数据冲突”由人工处理。"
        self.summary = QLabel(text)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = _table(RESULT_COLUMNS, 7, wrap=True)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        fill_results(self.table, self.reports)
        layout.addWidget(self.table, 1)
        self.buttons = QDialogButtonBox()
        self.confirm_button = self.buttons.addButton(
            "确认导入", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.confirm_button.setObjectName("primary")
        self.cancel_button = self.buttons.addButton(
            "取消" if importable else "关闭", QDialogButtonBox.ButtonRole.RejectRole
        )
        self.confirm_button.setEnabled(bool(importable))
        self.confirm_button.setVisible(bool(importable))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        (self.confirm_button if importable else self.cancel_button).setDefault(True)

    def importable_paths(self) -> list[Path]:
        return [Path(r.path) for r in self.reports if not r.refused]


class TargetChooser(QWidget):
    """Where a bundle goes: a detected U盘 or network drive, a chosen folder, or a typed share."""

    def __init__(
        self, context: UiContext, dialogs: FileDialogs, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._dialogs = dialogs
        self._chosen: list[Target] = []
        self._loading = False
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("保存到"))
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumWidth(320)
        self.combo.lineEdit().setPlaceholderText(
            r"插入U盘后点“刷新”，或选择文件夹，或输入共享路径 \\服务器\共享\文件夹"
        )
        row.addWidget(self.combo, 1)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.setToolTip("重新检测U盘和网络驱动器")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.refresh_button)
        self.browse_button = QPushButton("选择文件夹…")
        self.browse_button.clicked.connect(self.browse)
        row.addWidget(self.browse_button)

    @property
    def is_loading(self) -> bool:
        return self._loading

    def refresh(self) -> None:
        if self._loading:
            return
        self._loading = True
        self.refresh_button.setEnabled(False)
        self._context.runner.run(detected_targets, self._detected, self._detection_failed)

    def _detected(self, drives: list[Target]) -> None:
        if not isValid(self):
            return
        self._loading = False
        self.refresh_button.setEnabled(True)
        current = self.target()
        self.combo.clear()
        for target in [*drives, *self._chosen]:
            self.combo.addItem(target.text, target.path)
            self.combo.setItemData(
                self.combo.count() - 1, target.tooltip or target.path, Qt.ItemDataRole.ToolTipRole
            )
        index = self.combo.findData(current) if current else -1
        if index >= 0:
            self.combo.setCurrentIndex(index)
        elif current:
            self.combo.setEditText(current)
        elif self.combo.count():
            self.combo.setCurrentIndex(0)

    def _detection_failed(self, exc: Exception) -> None:
        if not isValid(self):
            return
        self._loading = False
        self.refresh_button.setEnabled(True)
        log.warning("drive detection failed: %s", exc)

    def browse(self) -> None:
        folder = self._dialogs.directory(
            self, "选择保存数据包的文件夹（U盘、共享文件夹或本地文件夹）"
        )
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str) -> None:
        index = self.combo.findData(folder)
        if index < 0:
            self._chosen = [t for t in self._chosen if t.path != folder]
            self._chosen.append(Target(folder, folder))
            self.combo.addItem(folder, folder)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)

    def target(self) -> str:
        """The chosen place as a path, or "" when nothing is chosen."""
        index = self.combo.currentIndex()
        text = self.combo.currentText().strip()
        if index >= 0 and text == self.combo.itemText(index):
            return str(self.combo.itemData(index))
        return text


# The page -------------------------------------------------------------------------------------


class ExchangePage(QWidget):
    """The 数据交换 screen; what it offers depends on whether this site is a county or a city."""

    show_settings = Signal()

    def __init__(
        self,
        context: UiContext,
        parent: QWidget | None = None,
        *,
        dialogs: FileDialogs | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._services = context.services
        self._actor = context.actor
        self.dialogs = dialogs or FileDialogs()
        self.site = context.services.site.info()
        self.is_city = self.site.level is SiteLevel.CITY
        self._can_trust = self._actor.can(Permission.TRUST_SITES)
        self._can_exchange = self._actor.can(Permission.EXCHANGE_DATA)
        self._can_set_period = self._actor.can(Permission.MANAGE_REFERENCE)
        self.data: ExchangeData | None = None
        self.results: list[ImportReport] = []
        self.last_export: ExportResult | None = None
        self.inbox_pending: list[Path] = []
        self.import_preview: ImportPreviewDialog | None = None
        self.trust_prompt: QMessageBox | None = None
        self.progress: QProgressDialog | None = None
        self._loading = False
        self._stale = True
        self._busy = False
        self._scanning = False
        self._watched_inbox = ""

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(8)
        title_row = QHBoxLayout()
        title_row.addWidget(heading("数据交换"))
        title_row.addStretch(1)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self.reload)
        title_row.addWidget(self.refresh_button)
        layout.addLayout(title_row)
        # Below the title everything scrolls up and down: on a 1366×768 laptop (or 1920×1080 at
        # 150 %) the cards and the tabs together are taller than the window.
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.setSpacing(8)
        self.body_scroll = VerticalScrollArea(body, min_height=BODY_MIN_HEIGHT)
        layout.addWidget(self.body_scroll, 1)
        body_layout.addWidget(
            _hint(
                "各县区通过U盘或共享文件夹向市级上报数据包，市级导入后生成回执，由县区导入确认。"
                "数据包经本站签名并加密，只有登记过的站点能打开。"
                if not self.is_city
                else "接收各县区上报的数据包（U盘、共享文件夹或收件箱），导入后生成回执文件；"
                "向各县区下发部门、领域、节假日调整和期限规则。"
            )
        )
        body_layout.addWidget(self._build_identity_card())
        body_layout.addWidget(self._build_status_card())

        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_exchange_tab(), "报送与接收" if self.is_city else "上报")
        if self.is_city:
            self.tabs.addTab(self._build_conflicts_tab(), "数据冲突")
        self.tabs.addTab(self._build_history_tab(), "往来记录")
        self.tabs.addTab(self._build_sites_tab(), "已登记站点")
        body_layout.addWidget(self.tabs, 1)

        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(lambda _path: self._inbox_timer.start())
        self._inbox_timer = QTimer(self)
        self._inbox_timer.setSingleShot(True)
        self._inbox_timer.setInterval(INBOX_RESCAN_MS)
        self._inbox_timer.timeout.connect(self.scan_inbox)
        context.hub.changed.connect(self._on_changed)
        self._update_buttons()

    # Building -------------------------------------------------------------------------------

    def _build_identity_card(self) -> Card:
        card = Card("本站身份")
        row = QHBoxLayout()
        text = QVBoxLayout()
        site = self.site
        self.identity_label = QLabel(f"{site.name}（{site.code}，{site.level.label}）")
        self.identity_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.identity_label)
        self.fingerprint_label = QLabel("指纹：…")
        self.fingerprint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint_label.setToolTip("登记对方站点时，请电话逐组核对双方的指纹")
        text.addWidget(self.fingerprint_label)
        row.addLayout(text, 1)
        self.export_identity_button = QPushButton("导出本站身份文件…")
        self.export_identity_button.setToolTip(
            "把本站公钥存为文件，交给"
            + ("各县区" if self.is_city else "市级")
            + "窗口登记（不含私钥，可以放心传递）"
        )
        self.export_identity_button.clicked.connect(self.export_identity)
        row.addWidget(self.export_identity_button)
        self.trust_button = QPushButton("登记站点…")
        self.trust_button.setToolTip(
            "导入" + ("县区" if self.is_city else "市级") + "站点的身份文件"
            if self._can_trust
            else "只有管理员可以登记站点"
        )
        self.trust_button.clicked.connect(self.trust_site)
        row.addWidget(self.trust_button)
        card.body.addLayout(row)
        self.identity_message = _message_label()
        card.body.addWidget(self.identity_message)
        return card

    def _build_status_card(self) -> Card:
        card = Card("汇总情况" if self.is_city else "上报情况")
        row = QHBoxLayout()
        self.status_label = QLabel("正在读取…")
        self.status_label.setWordWrap(True)
        row.addWidget(self.status_label, 1)
        self.period_label = QLabel("上报周期（天）")
        self.period = QSpinBox()
        self.period.setRange(1, 90)
        self.period.setValue(7)
        self.period.setToolTip("超过这么多天没有收到市级回执时，工作台会提醒上报")
        self.period_button = QPushButton("保存周期")
        self.period_button.clicked.connect(self.save_period)
        for widget in (self.period_label, self.period, self.period_button):
            row.addWidget(widget)
            widget.setVisible(not self.is_city)
            widget.setEnabled(self._can_set_period)
        if not self._can_set_period:
            self.period.setToolTip("只有管理员可以修改上报周期")
        card.body.addLayout(row)
        self.reminder_label = QLabel("")
        self.reminder_label.setWordWrap(True)
        self.reminder_label.setVisible(False)
        card.body.addWidget(self.reminder_label)
        return card

    def _build_exchange_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(8, 8, 8, 8)

        send = Card("下发基础数据" if self.is_city else "导出数据包（上报市级）")
        send.body.addWidget(
            _hint(
                "把本级的部门、领域、节假日调整和期限规则写成签名的数据包，交各县区导入。"
                if self.is_city
                else "数据包包含市级上次确认以来的全部变化（丢失U盘也不会漏报），"
                "经签名并加密，只有市级站点能打开。"
            )
        )
        self.target = TargetChooser(self._context, self.dialogs)
        self.export_button = QPushButton(
            "导出基础数据（下发各县区）" if self.is_city else "导出数据包"
        )
        self.export_button.setObjectName("primary")
        self.export_button.clicked.connect(self.export_bundle)
        self.target.layout().addSpacing(12)
        self.target.layout().addWidget(self.export_button)
        send.body.addWidget(self.target)
        self.export_message = _message_label()
        send.body.addWidget(self.export_message)

        receive = Card("接收县区数据包" if self.is_city else "导入回执 / 基础数据")
        buttons = QHBoxLayout()
        if self.is_city:
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
        if self.is_city:
            buttons.addWidget(self.import_folder_button)
        buttons.addWidget(_hint("先预检，显示将新增、更新、忽略的记录，确认后才导入。"), 1)
        receive.body.addLayout(buttons)
        if self.is_city:
            receive.body.addLayout(self._build_inbox_row())
            self.inbox_list = QListWidget()
            self.inbox_list.setMaximumHeight(52)
            self.inbox_list.setVisible(False)
            receive.body.addWidget(self.inbox_list)
        self.import_message = _message_label()
        receive.body.addWidget(self.import_message)
        self.results_table = _table(RESULT_COLUMNS, 7, wrap=True)
        self.results_table.setMinimumHeight(110)
        receive.body.addWidget(self.results_table, 1)

        if self.is_city:
            layout.addWidget(receive, 1)
            layout.addWidget(send)
        else:
            layout.addWidget(send)
            layout.addWidget(receive, 1)
        return tab

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

    def _build_conflicts_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(
            _hint(
                "同一条记录在县区和市级都被修改过时，县区的版本不会直接覆盖，而是放在这里由人工"
                "决定：采用县区版本，或保留本地版本。两种版本都留在记录中。"
            )
        )
        self.conflicts_table = _table(CONFLICT_COLUMNS, 5)
        self.conflicts_table.itemSelectionChanged.connect(self._update_buttons)
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
        return tab

    def _build_history_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        self.history_table = _table(HISTORY_COLUMNS, 4)
        layout.addWidget(self.history_table, 1)
        self.history_label = _hint("")
        layout.addWidget(self.history_label)
        return tab

    def _build_sites_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        self.sites_table = _table(SITE_COLUMNS, 1)
        self.sites_table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.sites_table, 1)
        row = QHBoxLayout()
        self.revoke_button = QPushButton("吊销…")
        self.revoke_button.setToolTip(
            "密钥丢失或泄露时吊销：此后不再接受该站点的数据包"
            if self._can_trust
            else "只有管理员可以吊销站点"
        )
        self.revoke_button.clicked.connect(self.revoke_selected)
        row.addWidget(self.revoke_button)
        row.addWidget(_hint("登记新站点或对方更换密钥：点上方“登记站点…”，并电话核对指纹。"), 1)
        layout.addLayout(row)
        return tab

    # Loading --------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._loading

    @property
    def is_busy(self) -> bool:
        """An export, import or scan is running on the worker."""
        return self._busy or self._scanning or self._loading or self.target.is_loading

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()
            self.target.refresh()

    def _on_changed(self, changes: Changes) -> None:
        if not (changes.cases or changes.settings or changes.site or changes.departments):
            return
        self._stale = True
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        if self._loading:
            return
        self._loading = True
        self._stale = False
        context = self._context
        self._context.runner.run(lambda: load_exchange_data(context), self._loaded, self._failed)

    def _failed(self, exc: Exception) -> None:
        if not isValid(self):
            return
        self._loading = False
        self.status_label.setText("数据交换情况读取失败")
        show_error(self, exc)

    def _loaded(self, data: ExchangeData) -> None:
        if not isValid(self):  # closed while the worker was busy
            return
        self._loading = False
        self.data = data
        self.fingerprint_label.setText(f"指纹：{data.fingerprint}　（电话核对时逐组念出）")
        self._show_status(data.status, data)
        self._fill_history(data.history)
        self._fill_sites(data.sites)
        if self.is_city:
            self._fill_conflicts(data.conflicts)
            self.tabs.setTabText(
                1, f"数据冲突（{len(data.conflicts)}）" if data.conflicts else "数据冲突"
            )
            inbox = data.status.inbox
            if self.inbox_path.text() != inbox:
                self.inbox_path.setText(inbox)
                self._watch_inbox("")
                if inbox:
                    self.scan_inbox()
        self._update_buttons()

    def _show_status(self, status: SyncStatus, data: ExchangeData) -> None:
        if not self.period.hasFocus():
            self.period.setValue(status.period_days)
        if self.is_city:
            counties = [s for s in data.sites if s.level is SiteLevel.COUNTY]
            active = [s for s in counties if s.state != "revoked"]
            received = [b for b in data.history if b.direction == "in" and b.kind == "data"]
            parts = [
                f"已登记县区 {len(active)} 个",
                f"已收到数据包 {len(received)} 个"
                + (f"（最近 {_time(received[0].created_at)}）" if received else ""),
                f"待处理冲突 {status.open_conflicts} 条",
            ]
            self.status_label.setText("；".join(parts))
        else:
            city = status.city
            parts = [
                f"上级：{city.name}（{city.code}）" if city else "上级：尚未登记市级站点",
                f"上次导出：{_time(status.last_export_at) or '从未导出'}",
                f"市级已确认到：{_time(status.last_acked_at) or '尚无回执'}",
                f"待上报记录 {status.pending_records:,} 条",
            ]
            self.status_label.setText("；".join(parts))
        reminder = status.reminder()
        if reminder:
            overdue = status.overdue_days > 0 or (self.is_city and status.open_conflicts > 0)
            colour = RED if overdue else YELLOW
            self.reminder_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
            self.reminder_label.setText(("⚠ " if overdue else "") + reminder)
        self.reminder_label.setVisible(bool(reminder))

    def _fill_history(self, history: list[BundleRecord]) -> None:
        table = self.history_table
        table.setRowCount(len(history))
        for row, record in enumerate(history):
            if record.direction == "out":
                if record.kind == "reference":
                    done = "（下发，无回执）"
                else:
                    done = f"已确认 {_time(record.acked_at)}" if record.acked_at else "待确认"
            else:
                done = f"已导入 {_time(record.processed_at)}" if record.processed_at else ""
            peer = record.peer_name or record.peer_code
            if record.peer_code not in ("", "*") and record.peer_name:
                peer = f"{record.peer_name}（{record.peer_code}）"
            values = [
                _time(record.created_at),
                DIRECTION_LABELS.get(record.direction, record.direction),
                KIND_LABELS.get(record.kind, record.kind),
                peer,
                record.file_name,
                size_text(record.size),
                f"{_record_count(record.counts):,}",
                done,
            ]
            _set_row(table, row, values, record.bundle_id)
            table.item(row, 4).setToolTip(str(Path(record.location) / record.file_name))
            table.item(row, 6).setToolTip(
                "；".join(
                    f"{TABLE_LABELS.get(k, k)} {n}"
                    for k, n in record.counts.items()
                    if isinstance(n, int) and n
                )
            )
            if done == "待确认":
                table.item(row, 7).setForeground(_AMBER_BRUSH)
            elif done.startswith("已确认"):
                table.item(row, 7).setForeground(_GREEN_BRUSH)
        sent = sum(1 for r in history if r.direction == "out")
        self.history_label.setText(
            f"发出 {sent} 个，收到 {len(history) - sent} 个"
            + (f"（只显示最近 {HISTORY_LIMIT} 个）" if len(history) >= HISTORY_LIMIT else "")
            + "。把鼠标停在文件名上可看到保存位置。"
        )

    def _fill_sites(self, sites: list[TrustedSite]) -> None:
        table = self.sites_table
        table.setRowCount(len(sites))
        for row, site in enumerate(sites):
            revoked = site.state == "revoked"
            values = [
                site.code,
                site.name,
                site.level.label,
                site.fingerprint,
                f"已吊销 {_time(site.revoked_at)}" if revoked else "已登记",
                _time(site.trusted_at),
                _time(site.last_bundle_at) or "—",
            ]
            _set_row(table, row, values, site.code)
            if revoked:
                table.item(row, 4).setForeground(_RED_BRUSH)

    def _fill_conflicts(self, conflicts: list[ConflictInfo]) -> None:
        table = self.conflicts_table
        table.setRowCount(len(conflicts))
        names = {s.code: s.name for s in self.data.sites} if self.data else {}
        for row, conflict in enumerate(conflicts):
            entity = TABLE_LABELS.get(conflict.entity, conflict.entity)
            values = [
                _time(conflict.created_at),
                names.get(conflict.site_code, conflict.site_code),
                f"{entity} {conflict.title}".strip(),
                str(conflict.local_version),
                str(conflict.incoming_version),
                conflict.reason,
            ]
            _set_row(table, row, values, conflict.id)

    def _update_buttons(self) -> None:
        busy = self._busy
        exchange = self._can_exchange and not busy
        self.export_button.setEnabled(exchange)
        self.import_button.setEnabled(exchange)
        self.trust_button.setEnabled(self._can_trust and not busy)
        self.export_identity_button.setEnabled(not busy)
        self.revoke_button.setEnabled(
            self._can_trust and not busy and self._selected_site() is not None
        )
        if self.is_city:
            self.import_folder_button.setEnabled(exchange)
            self.inbox_button.setEnabled(exchange)
            self.scan_button.setEnabled(bool(self.inbox_path.text()) and not self._scanning)
            self.import_inbox_button.setEnabled(exchange and bool(self.inbox_pending))
            selected = self._selected_conflict() is not None
            self.take_incoming_button.setEnabled(exchange and selected)
            self.keep_local_button.setEnabled(exchange and selected)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    # Long work with a progress dialog -------------------------------------------------------

    def _run_with_progress(
        self,
        title: str,
        work: Callable[[ProgressRelay], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[Exception], None],
    ) -> None:
        """Runs ``work`` on the worker; progress shows in a dialog (no 取消: the service's
        writes are atomic but not interruptible, so a cancel button would be a lie)."""
        self._set_busy(True)
        relay = ProgressRelay(self)
        dialog = QProgressDialog(title, "", 0, 0, self)
        dialog.setWindowTitle("数据交换")
        dialog.setCancelButton(None)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumWidth(420)
        self.progress = dialog

        def update(what: str, done: int, total: int) -> None:
            if isValid(dialog):
                dialog.setMaximum(max(total, 1))
                dialog.setValue(min(done, max(total, 1)))
                dialog.setLabelText(f"{title}\n{what}（{done}/{total}）")

        relay.progress.connect(update)

        def finish() -> bool:
            relay.deleteLater()
            if isValid(dialog):
                dialog.close()
                dialog.deleteLater()
            self.progress = None
            if not isValid(self):
                return False
            self._set_busy(False)
            return True

        def succeeded(result: Any) -> None:
            if finish():
                on_success(result)

        def failed(exc: Exception) -> None:
            if finish():
                on_failure(exc)

        self._context.runner.run(lambda: work(relay), succeeded, failed)

    # Export ---------------------------------------------------------------------------------

    def export_bundle(self) -> None:
        if self._busy:
            return
        target = self.target.target()
        if not target:
            _show_message(
                self.export_message,
                False,
                "请先选择保存位置：插入U盘后点“刷新”，或点“选择文件夹…”。",
            )
            return
        services, actor = self._services, self._actor
        _show_message(self.export_message, True, "")
        what = "基础数据包" if self.is_city else "数据包"

        def work(relay: ProgressRelay) -> tuple[ExportResult, str]:
            result = services.sync.export(actor, Path(target), progress=relay.report)
            return result, describe_target(target)

        def done(outcome: tuple[ExportResult, str]) -> None:
            result, place = outcome
            self.last_export = result
            where = place or str(result.path.parent)
            then = (
                "请将数据包交各县区导入。"
                if self.is_city
                else "请把数据包交市级窗口导入，并把生成的回执文件（.bbcsack）带回导入。"
            )
            _show_message(
                self.export_message,
                True,
                f"{result.summary()}\n保存在 {where}。{then}",
            )
            self.reload()

        def failed(exc: Exception) -> None:
            message = exc.message if isinstance(exc, UserError) else f"{what}未能导出"
            _show_message(self.export_message, False, message)
            show_error(self, exc)

        self._run_with_progress(f"正在导出{what}到 {target} …", work, done, failed)

    # Import: dry run, confirm, import --------------------------------------------------------

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
        if self._busy:
            return
        services, actor = self._services, self._actor
        chosen = list(paths)
        _show_message(self.import_message, True, "")

        def work(relay: ProgressRelay) -> list[ImportReport]:
            files: list[Path] = []
            for path in chosen:
                if path.is_dir():
                    files.extend(services.sync.pending_in_folder(path))
                elif not path.exists():
                    raise UserError(f"找不到文件：{path}（U盘是否已拔出？）")
                else:
                    files.append(path)
            reports = []
            for number, file in enumerate(files, 1):
                relay.report(f"预检 {file.name}", number - 1, len(files))
                reports.append(services.sync.import_file(actor, file, dry_run=True))
            return reports

        self._run_with_progress(
            "正在预检（不会改动数据）…", work, self._dry_run_done, self._import_failed
        )

    def _dry_run_done(self, reports: list[ImportReport]) -> None:
        if not reports:
            _show_message(self.import_message, True, "没有找到尚未导入的数据包或回执。")
            return
        self.show_results(reports)
        _show_message(
            self.import_message,
            not all(r.refused for r in reports),
            "预检完成，尚未导入：请在弹出的窗口中确认。"
            if not all(r.refused for r in reports)
            else "所选文件都被拒绝，没有导入任何数据（原因见下表）。",
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
            _show_message(self.import_message, False, "已取消导入，没有改动任何数据。")

    def _import_confirmed(self, paths: list[Path], refused: list[ImportReport]) -> None:
        self.import_preview = None
        if not paths:
            return
        services, actor = self._services, self._actor

        def work(relay: ProgressRelay) -> list[ImportReport]:
            reports = []
            for number, path in enumerate(paths, 1):

                def report(
                    what: str, done: int, total: int, n: int = number, name: str = path.name
                ) -> None:
                    relay.report(f"{n}/{len(paths)} {name}：{what}", done, total)

                reports.append(services.sync.import_file(actor, path, progress=report))
            return reports

        self._run_with_progress(
            "正在导入…",
            work,
            lambda reports: self._imported(reports + refused),
            self._import_failed,
        )

    def _imported(self, reports: list[ImportReport]) -> None:
        self.show_results(reports)
        done = [r for r in reports if not r.refused]
        refused = len(reports) - len(done)
        parts = [f"导入完成：{len(done)} 个文件已导入"]
        if refused:
            parts.append(f"{refused} 个被拒绝")
        acks = [r.ack_path for r in done if r.ack_path]
        if acks:
            parts.append(f"已生成 {len(acks)} 个回执文件（{Path(acks[0]).parent}），请交还县区导入")
        conflicts = sum(r.totals()["conflicts"] for r in done)
        if conflicts:
            parts.append(f"{conflicts} 条冲突待人工处理（见“数据冲突”）")
        _show_message(self.import_message, not refused, "；".join(parts) + "。")
        if done:
            self._context.hub.publish(
                Changes(cases=True, departments=True, settings=True, site=True)
            )
        self.reload()
        if self.is_city and self.inbox_path.text():
            self.scan_inbox()
        if done:
            # A first upload leaves hundreds of MB in the write-ahead log: settled now, after the
            # screens have reloaded, not by the next save.
            self._context.runner.run(self._services.sync.settle_imports, _ignore, _ignore)

    def _import_failed(self, exc: Exception) -> None:
        message = exc.message if isinstance(exc, UserError) else "导入未完成"
        _show_message(self.import_message, False, message)
        show_error(self, exc)

    def show_results(self, reports: list[ImportReport]) -> None:
        self.results = list(reports)
        fill_results(self.results_table, self.results)

    # Inbox (city) ---------------------------------------------------------------------------

    def choose_inbox(self) -> None:
        folder = self.dialogs.directory(self, "选择共享收件箱（各县区放数据包的文件夹）")
        if not folder:
            return
        services, actor = self._services, self._actor

        def saved(_changes: Changes) -> None:
            if not isValid(self):
                return
            self.reload()

        self._context.runner.run(
            lambda: services.sync.set_inbox(actor, folder), saved, lambda exc: show_error(self, exc)
        )

    def scan_inbox(self) -> None:
        """List the inbox's bundles not imported yet; never imports by itself."""
        inbox = self.inbox_path.text() if self.is_city else ""
        if not inbox or self._scanning:
            return
        self._scanning = True
        self._update_buttons()
        services = self._services
        self.inbox_label.setText("正在扫描…")

        def done(pending: list[Path]) -> None:
            if not isValid(self):
                return
            self._scanning = False
            self.inbox_pending = pending
            self.inbox_label.setText(
                f"收件箱有 {len(pending)} 个待导入的数据包"
                if pending
                else "收件箱没有待导入的数据包"
            )
            self.inbox_label.setStyleSheet(
                f"color: {YELLOW}; font-weight: bold;" if pending else ""
            )
            self.inbox_list.clear()
            self.inbox_list.addItems([p.name for p in pending])
            self.inbox_list.setVisible(bool(pending))
            self._watch_inbox(inbox)  # reachable just now, so watching will not hang
            self._update_buttons()

        def failed(exc: Exception) -> None:
            if not isValid(self):
                return
            self._scanning = False
            self.inbox_pending = []
            self.inbox_list.setVisible(False)
            message = exc.message if isinstance(exc, UserError) else "收件箱无法读取"
            self.inbox_label.setText(message)
            self.inbox_label.setStyleSheet(f"color: {RED};")
            self._update_buttons()

        self._context.runner.run(lambda: services.sync.pending_in_folder(Path(inbox)), done, failed)

    def _watch_inbox(self, folder: str) -> None:
        if folder == self._watched_inbox:
            return
        if self.watcher.directories():
            self.watcher.removePaths(self.watcher.directories())
        self._watched_inbox = ""
        if folder and self.watcher.addPath(folder):
            self._watched_inbox = folder

    # Conflicts (city) -----------------------------------------------------------------------

    def _selected_conflict(self) -> int | None:
        rows = self.conflicts_table.selectionModel().selectedRows()
        if not rows:
            return None
        return int(self.conflicts_table.item(rows[0].row(), 0).data(_ROW_ROLE))

    def resolve_selected(self, take_incoming: bool) -> None:
        conflict_id = self._selected_conflict()
        if conflict_id is None or self._busy:
            return
        services, actor = self._services, self._actor
        self._set_busy(True)

        def done(changes: Changes) -> None:
            if not isValid(self):
                return
            self._set_busy(False)
            self._context.hub.publish(changes)
            self.reload()

        def failed(exc: Exception) -> None:
            if not isValid(self):
                return
            self._set_busy(False)
            show_error(self, exc)

        self._context.runner.run(
            lambda: services.sync.resolve_conflict(actor, conflict_id, take_incoming=take_incoming),
            done,
            failed,
        )

    # Period (county) ------------------------------------------------------------------------

    def save_period(self) -> None:
        services, actor, days = self._services, self._actor, self.period.value()

        def done(changes: Changes) -> None:
            if not isValid(self):
                return
            _show_message(self.identity_message, True, f"上报周期已改为 {days} 天。")
            self._context.hub.publish(changes)

        self._context.runner.run(
            lambda: services.sync.set_period_days(actor, days), done, lambda e: show_error(self, e)
        )

    # Keys and trust -------------------------------------------------------------------------

    def export_identity(self) -> None:
        site = self.site
        suggested = f"{site.code}-{site.name}-身份.json"
        path = self.dialogs.save_file(self, "导出本站身份文件", suggested, IDENTITY_FILTER)
        if not path:
            return
        services = self._services

        def work() -> PublicIdentity:
            return services.sync.write_identity(Path(path))

        def done(identity: PublicIdentity) -> None:
            if not isValid(self):
                return
            _show_message(
                self.identity_message,
                True,
                f"已导出本站身份文件 {path}（指纹 {identity.fingerprint()}）。"
                "对方登记时，请电话核对这个指纹。",
            )

        self._context.runner.run(work, done, lambda exc: show_error(self, exc))

    def trust_site(self) -> None:
        path = self.dialogs.open_file(
            self,
            "选择" + ("县区" if self.is_city else "市级") + "站点的身份文件",
            IDENTITY_FILTER,
        )
        if not path:
            return
        services = self._services

        def work() -> tuple[PublicIdentity, TrustedSite | None]:
            identity = services.sync.read_identity(Path(path))
            known = {s.code: s for s in services.sync.trusted_sites()}
            return identity, known.get(identity.site_code)

        def read(outcome: tuple[PublicIdentity, TrustedSite | None]) -> None:
            if isValid(self):
                self._ask_to_trust(*outcome)

        self._context.runner.run(work, read, lambda exc: show_error(self, exc))

    def _ask_to_trust(self, identity: PublicIdentity, known: TrustedSite | None) -> None:
        new = identity.fingerprint()
        who = f"“{identity.site_name}”（{identity.site_code}）"
        replace = known is not None and (known.fingerprint != new or known.state == "revoked")
        if known is not None and not replace:
            _show_message(self.identity_message, True, f"{who}已登记，公钥相同，无需更改。")
            return
        box = QMessageBox(self)
        box.setWindowTitle("更换站点密钥" if replace else "登记站点")
        if replace and known is not None:
            box.setIcon(QMessageBox.Icon.Warning)
            state = "（已吊销）" if known.state == "revoked" else ""
            box.setText(
                f"站点{who}已登记过，但这个文件里的密钥不同。\n\n"
                f"原指纹{state}：{known.fingerprint}\n新指纹：{new}\n\n"
                "请先打电话给对方窗口，请对方念出新指纹并逐组核对，确认对方确实更换了密钥"
                "（而不是别人冒充）后再替换。替换后，用旧密钥签名的数据包将不再被接受。"
            )
            confirm = box.addButton("核对无误，替换", QMessageBox.ButtonRole.AcceptRole)
        else:
            box.setIcon(QMessageBox.Icon.Question)
            box.setText(
                f"登记{SiteLevel(identity.level).label}站点{who}\n\n指纹：{new}\n\n"
                "请打电话给对方窗口，请对方念出本站点页面上显示的指纹，逐组核对一致后再登记。"
            )
            confirm = box.addButton("核对无误，登记", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.trust_prompt = box

        def answered(_result: int) -> None:
            self.trust_prompt = None
            if box.clickedButton() is confirm:
                self._trust(identity, replace)

        box.finished.connect(answered)
        box.open()

    def _trust(self, identity: PublicIdentity, replace: bool) -> None:
        services, actor = self._services, self._actor
        self._change_sites(lambda: services.sync.trust(actor, identity, replace=replace))

    def _change_sites(self, work: Callable[[], str]) -> None:
        """Register or revoke a site on the worker; its sentence shows under the identity."""

        def done(message: str) -> None:
            if not isValid(self):
                return
            _show_message(self.identity_message, True, message)
            self._context.hub.publish(Changes(site=True))
            self.reload()

        self._context.runner.run(work, done, lambda exc: show_error(self, exc))

    def _selected_site(self) -> TrustedSite | None:
        rows = self.sites_table.selectionModel().selectedRows()
        if not rows or self.data is None:
            return None
        code = self.sites_table.item(rows[0].row(), 0).data(_ROW_ROLE)
        return next((s for s in self.data.sites if s.code == code), None)

    def revoke_selected(self) -> None:
        site = self._selected_site()
        if site is None or not self._can_trust:
            return
        reason, ok = QInputDialog.getText(
            self,
            "吊销站点",
            f"吊销“{site.name}”（{site.code}，指纹 {site.fingerprint}）后，"
            "本站不再接受它的数据包和回执。\n请填写吊销原因（如：电脑丢失、密钥泄露）：",
        )
        if not ok:
            return
        services, actor = self._services, self._actor
        self._change_sites(lambda: services.sync.revoke(actor, site.code, reason.strip()))


def _ignore(_result: object) -> None:
    """A background task whose outcome nobody waits for (a failed checkpoint is retried by
    SQLite at the next commit)."""
