"""系统设置 → 备份与恢复: the backups kept, 立即备份, restore, the retention settings and the
recovery key. Every piece of work runs on the worker (``ui/operations``).

Restoring from the window: the window holds the data dir's writer lock, so no other bbcs can
open the database meanwhile. The worker closes every pooled connection (``Database.dispose``),
runs the same restore as ``bbcs restore`` (the current database kept first, its log folded in
and removed, the checked copy swapped in) and the page then emits ``restored``: the window
closes and the program is started again, so no service keeps anything read from the replaced
database. Reopening the services in place was rejected: caches (the calendar, the site, the
deadline board) and open models would go on showing the old data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain import settings as declared
from desktop_app.domain.permissions import Permission
from desktop_app.errors import ValidationFailed
from desktop_app.services.backup import (
    BackupInfo,
    BackupResult,
    BackupSettings,
    RecoveryKey,
    RestoreResult,
    restore,
)
from desktop_app.services.context import Changes
from desktop_app.ui.common import UiContext
from desktop_app.ui.operations import Action, Query

COLUMNS = ("时间", "类型", "大小", "文件")


class BackupTab(QWidget):
    """The 备份与恢复 tab."""

    restored = Signal()  # the database was replaced: the window must close and start again

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._services = context.services
        self._can_backup = context.actor.can(Permission.BACKUP_DATA)
        self._backups: list[BackupInfo] = []

        column = QVBoxLayout(self)
        if not self._can_backup:
            hint = QLabel("只有管理员可以备份、恢复和导出恢复密钥。")
            hint.setObjectName("hint")
            column.addWidget(hint)
        folder = QLabel(
            "自动备份：每天第一次启动时、每次导入前、每次升级前，"
            f"放在 {self._services.layout.backups}。"
            "数据目录以外的备份（U盘、第二份）都加密，只有本站点密钥或恢复密钥能打开。"
        )
        folder.setWordWrap(True)
        folder.setObjectName("hint")
        column.addWidget(folder)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for section in (0, 1, 2):  # the whole time, kind and size; the file name takes the rest
            header.setSectionResizeMode(section, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        column.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.backup_button = QPushButton("立即备份")
        # The encrypted copy for a stick was the command line's only (bbcs backup --to).
        self.stick_button = QPushButton("备份到U盘…")
        self.stick_button.setToolTip(
            "选U盘或另一块硬盘上已有的文件夹，写一份加密备份（只有本站点密钥或恢复密钥能打开）"
        )
        self.restore_button = QPushButton("恢复所选备份…")
        self.recovery_button = QPushButton("导出恢复密钥…")
        for button in (
            self.backup_button,
            self.stick_button,
            self.restore_button,
            self.recovery_button,
        ):
            button.setEnabled(self._can_backup)
            buttons.addWidget(button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        self.status = QLabel()
        self.status.setWordWrap(True)
        # Three lines' room, always the same: the buttons above moved as a line came and went
        # (a walk's clicks missed). The whole text is its tooltip too.
        self.status.setFixedHeight(3 * self.status.fontMetrics().lineSpacing() + 4)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        column.addWidget(self.status)

        box = QGroupBox("保留规则")
        form = QFormLayout(box)
        self.keep_daily = _spin(declared.BACKUP_KEEP_DAILY)
        self.keep_weekly = _spin(declared.BACKUP_KEEP_WEEKLY)
        self.keep_monthly = _spin(declared.BACKUP_KEEP_MONTHLY)
        self.size_cap = _spin(declared.BACKUP_SIZE_CAP_MB)
        self.second_folder = QLineEdit()
        self.second_folder.setPlaceholderText("另一个磁盘上的文件夹，如 D:\\bbcs备份；留空不另存")
        self.browse_button = QPushButton("浏览…")
        self.browse_button.clicked.connect(self._choose_second_folder)
        second = QHBoxLayout()
        second.setContentsMargins(0, 0, 0, 0)
        second.addWidget(self.second_folder, 1)
        second.addWidget(self.browse_button)
        second_row = QWidget()
        second_row.setLayout(second)
        for setting, field in (
            (declared.BACKUP_KEEP_DAILY, self.keep_daily),
            (declared.BACKUP_KEEP_WEEKLY, self.keep_weekly),
            (declared.BACKUP_KEEP_MONTHLY, self.keep_monthly),
            (declared.BACKUP_SIZE_CAP_MB, self.size_cap),
            (declared.BACKUP_SECOND_FOLDER, second_row),
        ):
            field.setEnabled(self._can_backup)
            form.addRow(setting.label, field)
        self.save_button = QPushButton("保存设置")
        self.save_button.setEnabled(self._can_backup)
        form.addRow("", self.save_button)
        column.addWidget(box)

        self.backup_button.clicked.connect(self.back_up_now)
        self.stick_button.clicked.connect(self.back_up_to_stick)
        self.restore_button.clicked.connect(self.restore_selected)
        self.recovery_button.clicked.connect(self.export_recovery_key)
        self.save_button.clicked.connect(self.save_settings)
        self.reload()

    def reload(self) -> None:
        Query(self._context.runner, self, self._services.backups.existing, self._show).run()
        if self._can_backup:
            Query(
                self._context.runner, self, self._services.backups.settings, self._show_settings
            ).run()

    def _show(self, backups: list[BackupInfo]) -> None:
        self._backups = backups
        self.table.setRowCount(len(backups))
        for row, backup in enumerate(backups):
            cells = (
                backup.at.strftime("%Y-%m-%d %H:%M:%S"),
                backup.kind_label,
                backup.size_label,
                backup.path.name,
            )
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))

    def _show_settings(self, chosen: BackupSettings) -> None:
        self.keep_daily.setValue(chosen.keep_daily)
        self.keep_weekly.setValue(chosen.keep_weekly)
        self.keep_monthly.setValue(chosen.keep_monthly)
        self.size_cap.setValue(chosen.size_cap_mb)
        self.second_folder.setText(chosen.second_folder)

    def back_up_now(self) -> None:
        self.backup_button.setEnabled(False)
        self.status.setText("正在备份……")
        actor = self._context.actor
        Action(self._context, self, lambda: self._services.backups.backup(actor)).success(
            self._backed_up
        ).finished(lambda: self.backup_button.setEnabled(True)).run()

    def back_up_to_stick(self) -> None:
        """An encrypted backup into a folder chosen on a stick or another disk (one that is
        there: the service refuses to make it, or one inside the data dir)."""
        folder = QFileDialog.getExistingDirectory(self, "选择U盘或另一块硬盘上的文件夹")
        if not folder:
            return
        self.stick_button.setEnabled(False)
        self.status.setText("正在备份到所选文件夹……")
        actor, target = self._context.actor, Path(folder)
        Action(
            self._context, self, lambda: self._services.backups.backup(actor, to=target)
        ).success(self._backed_up).failure(lambda _exc: self.status.setText("")).finished(
            lambda: self.stick_button.setEnabled(True)
        ).run()

    def _choose_second_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "选择第二份备份的文件夹（另一个磁盘）", self.second_folder.text()
        )
        if folder:
            self.second_folder.setText(folder)

    def _backed_up(self, result: BackupResult) -> None:
        self.status.setText(result.summary())
        self.reload()

    def _selected(self) -> BackupInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self._backups[rows[0].row()] if rows else None

    def restore_selected(self) -> None:
        chosen = self._selected()
        if chosen is None:
            QMessageBox.information(self, "恢复", "请先在列表中选中要恢复的备份。")
            return
        layout = self._services.layout
        answer = QMessageBox.question(
            self,
            "恢复备份",
            f"用 {chosen.at:%Y-%m-%d %H:%M:%S} 的{chosen.kind_label}备份（{chosen.path.name}）"
            f"替换当前数据库 {layout.database}？\n\n"
            "此后登记、办理的记录都将不在恢复后的数据库中，人员、密码、锁定和设置也回到备份时的样子"
            "（此后改过密码的人要用原密码登录），此后的审计记录只留在“恢复前”备份中"
            "（恢复记录会写明条数）；当前数据库会先另存为“恢复前”备份。"
            "恢复后程序将关闭，请重新打开并登录。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        actor = self._context.actor
        clock = self._services.clock
        database = self._services.db

        def work() -> RestoreResult:
            database.dispose()  # no pooled connection may read the file being replaced
            return restore(layout, chosen.path, actor=actor, clock=clock)

        self.restore_button.setEnabled(False)
        self.status.setText("正在恢复……")
        Action(self._context, self, work).success(self._restored).finished(
            lambda: self.restore_button.setEnabled(True)
        ).run()

    def _restored(self, result: RestoreResult) -> None:
        kept = result.pre_restore_backup.name if result.pre_restore_backup else "（无）"
        text = (
            f"已从 {result.source.name} 恢复（事项 {result.facts.cases} 件）。"
            f"恢复前的数据库另存为 {kept}。程序将关闭，请重新打开并登录。"
        )
        self.status.setText(text)
        QMessageBox.information(self, "已恢复", text)
        self.restored.emit()

    def save_settings(self) -> None:
        chosen = BackupSettings(
            keep_daily=self.keep_daily.value(),
            keep_weekly=self.keep_weekly.value(),
            keep_monthly=self.keep_monthly.value(),
            size_cap_mb=self.size_cap.value(),
            second_folder=self.second_folder.text(),
        )
        actor = self._context.actor
        Action(
            self._context, self, lambda: self._services.backups.save_settings(actor, chosen)
        ).success(self._saved).on_invalid(self._invalid).run()

    def _saved(self, _changes: Changes) -> None:
        self.status.setText("备份设置已保存。")

    def _invalid(self, exc: ValidationFailed) -> None:
        self.status.setText("；".join(exc.errors.values()))

    def export_recovery_key(self) -> None:
        export_recovery_key(self._context, self, self.status.setText)


def export_recovery_key(context: UiContext, parent: QWidget, tell: Callable[[str], None]) -> None:
    """Ask where (a stick), write the recovery key file and its printable sheet beside it."""
    name, _filter = QFileDialog.getSaveFileName(
        parent, "导出恢复密钥（存到U盘）", "bbcs恢复密钥.json", "恢复密钥 (*.json)"
    )
    if not name:
        return
    out = Path(name)
    sheet = out.with_suffix(".pdf")
    actor = context.actor
    backups = context.services.backups

    def work() -> RecoveryKey:
        return backups.export_recovery_key(actor, out, sheet)

    Action(context, parent, work).success(
        lambda _key: tell(
            f"已导出恢复密钥 {out} 和可打印的恢复密钥纸 {sheet.name}。"
            "请打印后锁进保密柜，U盘另行保管，不要留在本机上。"
        )
    ).run()


class RecoveryKeyBanner(QFrame):
    """Until someone has exported the site's recovery key, a band above the administrator's
    pages asks for it (first of all right after the first-start setup): the data key that seals
    ID and phone numbers lives only on this PC, and a dead disk would take them with it. A band,
    not a dialog: nothing else is held up, and it stays until the key is out."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self.setObjectName("recoveryKeyBanner")
        self.setStyleSheet(
            "#recoveryKeyBanner { background: #fff4ce; border-bottom: 1px solid #e0c060; }"
        )
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 6)
        self.text = QLabel(
            "本站点还没有导出恢复密钥：身份证号、电话在数据库中加密保存，密钥只在这台电脑上，"
            "硬盘损坏或重装系统后没有恢复密钥就无法打开。请插入U盘导出，并打印恢复密钥纸锁进保密柜。"
        )
        self.text.setWordWrap(True)
        row.addWidget(self.text, 1)
        self.export_button = QPushButton("现在导出…")
        self.export_button.clicked.connect(self.export)
        row.addWidget(self.export_button)
        self.hide()
        if context.actor.can(Permission.BACKUP_DATA):
            backups = context.services.backups
            Query(context.runner, self, backups.recovery_key_exported, self._answered).run()

    def _answered(self, exported: bool) -> None:
        self.setVisible(not exported)

    def export(self) -> None:
        export_recovery_key(self._context, self, self._exported)

    def _exported(self, text: str) -> None:
        self.hide()
        QMessageBox.information(self.window(), "已导出恢复密钥", text)


def _spin(setting: declared.IntSetting) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(setting.minimum or 0, setting.maximum or 1_000_000)
    spin.setValue(setting.default)
    return spin
