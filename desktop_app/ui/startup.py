"""First start (站点设置), log-in dialogs, and the database check once the window is up."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_app import APP_TITLE
from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.auth import PASSWORD_RULE
from desktop_app.services.backup import BackupResult, RestoreResult, restore
from desktop_app.services.context import Actor
from desktop_app.services.health import HealthReport
from desktop_app.ui.common import FieldError, TaskRunner, UiContext, heading, show_error
from desktop_app.ui.elided_label import ElidedLabel
from desktop_app.ui.operations import Action, Query

log = logging.getLogger(__name__)

# How long "数据库快速检查正常" stays in the status bar.
CHECK_PASSED_SHOWN_MS = 15_000


class SetupDialog(QDialog):
    """Asks for the site code, name, level and the administrator's password on first start."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.setWindowTitle(f"{APP_TITLE} — 首次设置")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("设置本站点"))
        hint = QLabel(
            "首次使用需要设置本窗口所在的站点和管理员密码。设置后可在“系统设置”中添加人员。"
        )
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        layout.addWidget(hint)
        form = QFormLayout()
        self.code = QLineEdit()
        self.code.setPlaceholderText("6位行政区划代码，如 410221")
        self.code.setMaxLength(6)
        self.name = QLineEdit()
        self.name.setPlaceholderText("如 杞县办不成事监督窗口")
        self.short_name = QLineEdit()
        self.short_name.setPlaceholderText("用于事项编号，如 杞县")
        self.level = QComboBox()
        for level in SiteLevel:
            self.level.addItem(level.label, level.value)
        self.window_phone = QLineEdit()
        self.window_phone.setPlaceholderText("窗口咨询电话，印在交办单和回执上（可不填）")
        self.admin_user = QLineEdit("admin")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(PASSWORD_RULE)  # the rule the password is held to
        self.password_again = QLineEdit()
        self.password_again.setEchoMode(QLineEdit.EchoMode.Password)
        self.errors: dict[str, FieldError] = {}
        for key, label, widget in [
            ("code", "站点代码", self.code),
            ("name", "站点名称", self.name),
            ("short_name", "站点简称", self.short_name),
            ("level", "级别", self.level),
            ("window_phone", "窗口电话", self.window_phone),
            ("admin_user", "管理员用户名", self.admin_user),
            ("admin_password", "管理员密码", self.password),
            ("password_again", "再输入一次", self.password_again),
        ]:
            form.addRow(label, widget)
            error = FieldError()
            form.addRow("", error)
            self.errors[key] = error
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("完成设置")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> None:
        for error in self.errors.values():
            error.set_message(None)
        if self.password.text() != self.password_again.text():
            self.errors["password_again"].set_message("两次输入的密码不一致")
            return
        try:
            self._services.site.init_site(
                code=self.code.text(),
                name=self.name.text(),
                short_name=self.short_name.text(),
                level=SiteLevel(self.level.currentData()),
                admin_password=self.password.text(),
                admin_username=self.admin_user.text().strip() or "admin",
                window_phone=self.window_phone.text(),
            )
        except ValidationFailed as exc:
            for key, message in exc.errors.items():
                self.errors.get(key, self.errors["name"]).set_message(message)
            return
        except UserError as exc:
            show_error(self, exc)
            return
        self.accept()


class LoginDialog(QDialog):
    """User name and password. A demo site shows its demo logins.

    Also asked by 切换用户 and 注销 in the main window: ``purpose`` names the action in the title
    and ``previous`` says who is signed in now; ``note`` what was saved on the way. With a
    ``runner`` the password is checked on that worker.
    """

    def __init__(
        self,
        services: AppServices,
        parent: QWidget | None = None,
        *,
        purpose: str = "登录",
        previous: Actor | None = None,
        note: str = "",
        runner: TaskRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._runner = runner
        self._logging_in = False
        self.actor: Actor | None = None
        site = services.site.info()
        self.setWindowTitle(f"{APP_TITLE} — {purpose}")
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(site.name))
        sub = QLabel(f"{site.level.label} · 站点代码 {site.code}")
        sub.setObjectName("hint")
        layout.addWidget(sub)
        if previous is not None:
            who = QLabel(
                f"当前用户：{previous.display_name}（{previous.role.label}）。"
                "请下一位用户输入用户名和密码。"
            )
            who.setWordWrap(True)
            who.setObjectName("hint")
            layout.addWidget(who)
        if note:
            saved = QLabel(note)
            saved.setWordWrap(True)
            saved.setObjectName("hint")
            layout.addWidget(saved)
        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setPlaceholderText("用户名")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("密码")
        form.addRow("用户名", self.username)
        form.addRow("密码", self.password)
        layout.addLayout(form)
        self.error = FieldError()
        layout.addWidget(self.error)
        if site.is_demo:
            from desktop_app.services.demo import DEMO_PASSWORD

            # The administrator's password is whoever set the site up's (python tasks.py run
            # sets Admin12345, as the README says), not the demo's to state here.
            demo = QLabel(
                f"演示站点账号：受理员 clerk1、带班领导 leader1、纪检审计 auditor，密码均为 "
                f"{DEMO_PASSWORD}；管理员 admin 的密码是初始化站点时设置的"
            )
            demo.setWordWrap(True)
            demo.setObjectName("hint")
            layout.addWidget(demo)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.login_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.login_button.setText("登录")
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText("取消")
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.username.setFocus()

    @property
    def is_logging_in(self) -> bool:
        return self._logging_in

    def try_login(self) -> None:
        """Check the password: on the worker when the dialog has one (argon2 takes 0.1–1 s, the
        window stays responsive), else here."""
        if self._logging_in:
            return
        username, password = self.username.text(), self.password.text()
        self.error.set_message(None)
        if self._runner is None:
            try:
                actor = self._services.auth.login(username, password)
            except UserError as exc:
                self._failed(exc)
                return
            self._logged_in(actor)
            return
        self._logging_in = True
        self.login_button.setEnabled(False)
        self.login_button.setText("正在登录…")
        auth = self._services.auth
        Query(self._runner, self, lambda: auth.login(username, password), self._logged_in).failure(
            self._failed
        ).run()

    def _logged_in(self, actor: Actor) -> None:
        self._logging_in = False
        self.actor = actor
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self._logging_in = False
        self.login_button.setEnabled(True)
        self.login_button.setText("登录")
        if not isinstance(exc, UserError):
            show_error(self, exc)
            return
        self.error.set_message(exc.message)
        self.password.selectAll()
        self.password.setFocus()


# The changes the start's box lists (the rest under its 显示详细信息), each cut to this many
# characters.
TAMPER_SHOWN = 3
TAMPER_CHARS = 70


def _shortened(problem: str) -> str:
    return problem if len(problem) <= TAMPER_CHARS else problem[: TAMPER_CHARS - 1] + "…"


class _CheckLabel(ElidedLabel):
    """The check's words in the status bar, there only while it has some: empty, it leaves its
    room to the site's name."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))
        # Ignored in width, it could shrink to nothing: at least its first words show.
        self.setMinimumWidth(self.minimumSizeHint().width())

    def clear(self) -> None:
        """Silent again: its words and what their tooltip added (the backup's summary)."""
        self.set_detail("")
        self.setText("")


class DatabaseCheck(QObject):
    """The start-up check of the database file (:mod:`desktop_app.services.health`), begun once
    the window is up and run on a worker of its own, so the pages' queries do not queue behind
    a cold ``quick_check`` (~4 s at 100,000 cases). The status bar says so while it runs.

    A sound file then gets the day's first automatic backup (after the check, so that a damaged
    file is never copied over the good backups retention keeps). A damaged file leaves the window
    read-only (the database refuses every write), says so in plain words and offers the newest
    good backup: someone who may restore (the administrator) restores it from here, and the
    program closes to be opened afresh on the restored file."""

    def __init__(self, window: QMainWindow, context: UiContext) -> None:
        super().__init__(window)
        self._window = window
        self._context = context
        self._health = context.services.health
        self._runner = TaskRunner(self)
        self.report: HealthReport | None = None
        # The records the window acts on changed behind its back (``tampered_rules``), once read.
        self.tampered: list[str] | None = None
        self.tamper_notice: QMessageBox | None = None  # what was found, told once at the start
        self.backup: BackupResult | None = None  # the day's automatic backup, once written
        self.notice: QMessageBox | None = None  # the damaged-database explanation
        self.offer: QMessageBox | None = None  # the newest good backup, and how to restore it
        self.restore_button: QAbstractButton | None = None
        self._good_backup: Path | None = None
        self.restored: RestoreResult | None = None
        # It says something for a few seconds: it gives way (cut with …, whole in its tooltip)
        # before who is logged in and today's leader do.
        self.label = _CheckLabel("")
        self.label.setObjectName("databaseCheck")
        self.label.setContentsMargins(8, 0, 8, 0)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        window.statusBar().addWidget(self.label, 1)
        self._clear = QTimer(self)
        self._clear.setSingleShot(True)
        self._clear.timeout.connect(self.label.clear)
        QTimer.singleShot(0, self, self.start)  # after the window has been shown

    def start(self) -> None:
        self.label.clear()
        self.label.setText("正在检查数据库文件……（可照常使用）")
        Query(self._runner, self._window, self._health.startup_check, self._checked).failure(
            self._failed
        ).run()

    def is_running(self) -> bool:
        return not self._runner.idle()

    def wait(self) -> None:
        self._runner.wait()

    def _checked(self, report: HealthReport) -> None:
        self.report = report
        self.label.setText(report.summary())
        if report.ok:
            self._clear.start(CHECK_PASSED_SHOWN_MS)
            maintenance = self._context.services.maintenance
            Query(
                self._runner, self._window, maintenance.tampered_rules, self._rules_checked
            ).failure(self._rules_check_failed).run()
            return
        self.label.setStyleSheet("color: #b3261e; font-weight: bold;")
        self.label.set_detail(self._health.explanation(report))
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            f"{APP_TITLE} — 数据库已损坏",
            self._health.explanation(report),
            QMessageBox.StandardButton.NoButton,
            self._window,
        )
        self.find_backup_button = box.addButton(
            "查找最近的完好备份…", QMessageBox.ButtonRole.ActionRole
        )
        box.addButton("知道了", QMessageBox.ButtonRole.AcceptRole)
        box.buttonClicked.connect(self._notice_answered)
        self.notice = box
        box.open()

    def _rules_checked(self, problems: list[str]) -> None:
        """Say so, and keep saying so, when the settings, calendar, roster or users were
        changed behind the program (the staff then tell the discipline inspectors); the day's
        backup follows either way (retention keeps the older ones)."""
        self.tampered = problems
        if problems:
            self._clear.stop()
            explanation = (
                "发现设置、节假日、值班、用户或办理记录被绕过程序直接改动过（校验值不符）。"
                "本窗口仍照常使用这些记录，但它们可能已不是本站原来的样子。"
                "请告知纪检审计人员运行 bbcs check 核查，并由管理员用改动之前的备份恢复。"
            )
            # A few, each cut short: the box must fit a 768-pixel screen at 125 % (a walk
            # found it 860 pixels tall); all of them under 显示详细信息 and in the tooltip.
            shown = [f"· {_shortened(p)}" for p in problems[:TAMPER_SHOWN]]
            if len(problems) > TAMPER_SHOWN:
                shown.append(f"……另有 {len(problems) - TAMPER_SHOWN} 处，见“显示详细信息”")
            full = "\n".join(f"· {p}" for p in problems)
            # Short: the status bar of a 1366-pixel screen shows little more (all in its tooltip).
            self.label.setStyleSheet("color: #b3261e; font-weight: bold;")
            self.label.setText("⚠ 有记录被绕过程序改动")
            self.label.set_detail(f"{explanation}\n{full}")
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                f"{APP_TITLE} — 记录被改动",
                "\n\n".join([explanation, "\n".join(shown)]),
                QMessageBox.StandardButton.Ok,
                self._window,
            )
            box.setDetailedText(full)
            self.tamper_notice = box
            box.open()
        backups = self._context.services.backups
        Query(self._runner, self._window, backups.daily_if_due, self._backed_up).failure(
            self._backup_failed
        ).run()

    def _rules_check_failed(self, exc: Exception) -> None:
        log.error("the start-up check of the settings and roster failed", exc_info=exc)
        self._rules_checked([])

    def _backed_up(self, result: BackupResult | None) -> None:
        if result is None:
            return  # today's is there already
        self.backup = result
        if self.tampered:
            return  # the warning stays; the backup is listed under 系统设置 → 备份与恢复
        # Short: the status bar of a 1366-pixel screen has room for little more (details in
        # the tooltip).
        self.label.setText("数据库检查正常，已自动备份")
        self.label.set_detail(result.summary())
        self._clear.start(CHECK_PASSED_SHOWN_MS)

    def _backup_failed(self, exc: Exception) -> None:
        log.error("the day's automatic backup failed", exc_info=exc)
        text = exc.message if isinstance(exc, UserError) else "详见日志"
        self.label.setStyleSheet("color: #b3261e;")
        self.label.setText(f"今天的自动备份没有完成：{text}")

    def _failed(self, exc: Exception) -> None:
        log.error("the start-up database check failed", exc_info=exc)
        self.label.setText("数据库检查未能完成（详见日志）")

    def _notice_answered(self, button: QAbstractButton) -> None:
        if button is not self.find_backup_button:
            return
        self.label.setText("正在查找最近的完好备份……")
        Query(
            self._runner, self._window, self._health.newest_good_backup, self._offer_restore
        ).failure(self._failed).run()

    def _offer_restore(self, backup: Path | None) -> None:
        """The newest good backup: restored from here by whoever may restore, else how to."""
        self.label.setText(self.report.summary() if self.report else "")
        self._good_backup = backup
        folder = self._health.backups_folder
        may_restore = self._context.actor.can(Permission.BACKUP_DATA)
        if backup is None:
            text = (
                f"备份文件夹 {folder} 中没有完好的备份。请立即联系维护人员，"
                "不要继续登记；数据目录中的其他文件请勿删除。"
            )
        elif may_restore:
            text = (
                f"最近的完好备份：\n{backup}\n\n点“恢复此备份”即用它替换损坏的数据库"
                "（损坏的数据库会先另存一份），然后程序关闭，请重新打开并登录。"
                "恢复后请核对最近登记的事项。\n\n"
                f'也可以关闭本程序后在命令行运行 bbcs restore "{backup}"。'
            )
        else:
            text = (
                f"最近的完好备份：\n{backup}\n\n请管理员登录后恢复（系统设置 → 备份与恢复），"
                f'或关闭本程序后在命令行运行\nbbcs restore "{backup}"\n'
                "恢复前的数据库会先另存一份。恢复后请核对最近登记的事项。"
            )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            f"{APP_TITLE} — 用备份恢复",
            text,
            QMessageBox.StandardButton.NoButton,
            self._window,
        )
        self.restore_button = None
        if backup is not None and may_restore:
            self.restore_button = box.addButton("恢复此备份", QMessageBox.ButtonRole.ActionRole)
        self.open_folder_button = box.addButton("打开备份文件夹", QMessageBox.ButtonRole.ActionRole)
        box.addButton("关闭", QMessageBox.ButtonRole.AcceptRole)
        box.buttonClicked.connect(self._offer_answered)
        self.offer = box
        box.open()

    def _offer_answered(self, button: QAbstractButton) -> None:
        if button is self.restore_button and self._good_backup is not None:
            self._restore(self._good_backup)
        elif button is self.open_folder_button:
            folder = self._health.backups_folder
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _restore(self, backup: Path) -> None:
        """The same restore as 系统设置 → 备份与恢复 and ``bbcs restore``; then the program
        closes (the window's caches hold the damaged file's data), the lock held to the end."""
        services = self._context.services
        layout, actor, clock, database = (
            services.layout,
            self._context.actor,
            services.clock,
            services.db,
        )

        def work() -> RestoreResult:
            database.dispose()  # no pooled connection may read the file being replaced
            return restore(layout, backup, actor=actor, clock=clock)

        self.label.setText("正在用备份恢复……")
        Action(self._context, self._window, work).success(self._restored).run()

    def _restored(self, result: RestoreResult) -> None:
        self.restored = result
        kept = result.pre_restore_backup.name if result.pre_restore_backup else "（无）"
        text = (
            f"已从 {result.source.name} 恢复（事项 {result.facts.cases} 件）。"
            f"损坏的数据库另存为 {kept}。程序将关闭，请重新打开并登录。"
        )
        self.label.setText(text)
        QMessageBox.information(self._window, "已恢复", text)
        QCoreApplication.quit()
