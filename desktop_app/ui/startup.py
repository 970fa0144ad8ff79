"""First start (站点设置) and log-in dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app import APP_TITLE
from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import FieldError, TaskRunner, heading, show_error
from desktop_app.ui.operations import Query


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
        self.password.setPlaceholderText("至少8位，含字母和数字")
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

            demo = QLabel(
                "演示站点账号：管理员 admin / Admin12345；"
                f"受理员 clerk1、带班领导 leader1、纪检审计 auditor，密码均为 {DEMO_PASSWORD}"
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
