"""修改密码: each user changes their own password (issue 15 item 9), proving the old one first.

The policy is the service's (``AuthService.change_own_password``): its messages come back as
``ValidationFailed`` and are shown beside the field they are about.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app.errors import ValidationFailed
from desktop_app.services.auth import PASSWORD_RULE
from desktop_app.services.context import Changes
from desktop_app.ui.common import FieldError, UiContext, heading
from desktop_app.ui.operations import Action


class PasswordDialog(QDialog):
    """Old password, new password, the new one again; 确定 saves on the worker."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._saving = False
        actor = context.actor
        self.setWindowTitle("修改密码")
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("修改本人密码", 13))
        who = QLabel(f"用户：{actor.display_name}（{actor.username}）")
        who.setObjectName("hint")
        layout.addWidget(who)
        rule = QLabel(f"新密码{PASSWORD_RULE}。")
        rule.setWordWrap(True)
        rule.setObjectName("hint")
        layout.addWidget(rule)
        form = QFormLayout()
        self.old_password = _password_field("当前使用的密码")
        self.new_password = _password_field("新密码")
        self.new_again = _password_field("再输入一次新密码")
        self.errors: dict[str, FieldError] = {}
        for key, label, field in (
            ("old_password", "原密码", self.old_password),
            ("new_password", "新密码", self.new_password),
            ("new_again", "确认新密码", self.new_again),
        ):
            form.addRow(label, field)
            error = FieldError()
            form.addRow("", error)
            self.errors[key] = error
        layout.addLayout(form)
        self.general_error = FieldError()
        layout.addWidget(self.general_error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.save_button.setText("确定")
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText("取消")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.old_password.setFocus()

    @property
    def busy(self) -> bool:
        return self._saving

    def save(self) -> None:
        if self._saving:
            return
        for error in (*self.errors.values(), self.general_error):
            error.set_message(None)
        old, new = self.old_password.text(), self.new_password.text()
        if not old:
            self.errors["old_password"].set_message("请输入原密码")
            self.old_password.setFocus()
            return
        if new != self.new_again.text():
            self.errors["new_again"].set_message("两次输入的新密码不一致")
            self.new_again.selectAll()
            self.new_again.setFocus()
            return
        self._saving = True
        self.save_button.setEnabled(False)
        self.save_button.setText("正在保存…")
        auth, actor = self._context.services.auth, self._context.actor
        Action(self._context, self, lambda: auth.change_own_password(actor, old, new)).success(
            self._saved
        ).on_invalid(self._invalid).finished(self._finished).run()

    def _saved(self, _changes: Changes) -> None:
        self.accept()

    def _invalid(self, exc: ValidationFailed) -> None:
        shown = False
        for key, message in exc.errors.items():
            error = self.errors.get(key)
            if error is not None:
                error.set_message(message)
                shown = True
        if not shown:
            self.general_error.set_message(exc.message)
        field = self.old_password if "old_password" in exc.errors else self.new_password
        field.selectAll()
        field.setFocus()

    def _finished(self) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        self.save_button.setText("确定")


def _password_field(placeholder: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field
