"""系统设置 → 人员 → 登录规则: the lock-out after wrong passwords and the idle lock.

Read through :meth:`AuthService.login_rules` and saved through :meth:`AuthService.save_login_rules`,
which checks the values against their declarations, the actor's permission, and audits the change;
the box only shows the service's messages beside the fields.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import (
    IDLE_LOCK_MINUTES,
    LOGIN_LOCK_MINUTES,
    LOGIN_MAX_FAILURES,
    IntSetting,
)
from desktop_app.errors import ValidationFailed
from desktop_app.services.auth import LoginRules
from desktop_app.services.context import Changes
from desktop_app.ui.common import FieldError, UiContext
from desktop_app.ui.operations import Action, Query

SAVED = "已保存。输错锁定的新规则即时生效；自动锁屏的新时长在下次登录后生效。"


class RuleSpinBox(QSpinBox):
    """A spin box over one declared setting that keeps what was typed when Qt throws it away.

    Out of range or empty, a QSpinBox silently puts its previous value back as focus leaves it
    (a click on 保存 does that). Kept here, 保存 hands it to the service, which refuses it with
    its message, instead of quietly saving the old value.
    """

    def __init__(self, setting: IntSetting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setting = setting
        self.setRange(
            setting.minimum if setting.minimum is not None else 0,
            setting.maximum if setting.maximum is not None else 1_000_000,
        )
        self.setValue(setting.default)
        self.setToolTip(f"{setting.minimum}～{setting.maximum}")
        self._rejected: str | None = None
        self.lineEdit().textEdited.connect(self._edited)

    def typed(self) -> str:
        """The number as typed: what is shown, unless Qt has just replaced a value it refused."""
        if not self.hasAcceptableInput():
            return self.cleanText().strip()
        return self._rejected if self._rejected is not None else str(self.value())

    def forget_typed(self) -> None:
        """After a refused save the field shows a good value again; that is what counts now."""
        self._rejected = None

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._keep_rejected()
        super().focusOutEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._keep_rejected()
        super().keyPressEvent(event)

    def _keep_rejected(self) -> None:
        if not self.hasAcceptableInput():
            self._rejected = self.cleanText().strip()

    def _edited(self, _text: str) -> None:
        self._rejected = None


class LoginRulesBox(QGroupBox):
    """Three numbers and 保存; disabled for a role that does not manage users."""

    def __init__(self, context: UiContext, width: int, parent: QWidget | None = None) -> None:
        super().__init__("登录规则", parent)
        self._context = context
        self._can_manage = context.actor.can(Permission.MANAGE_USERS)
        self.setFixedWidth(width)
        form = QFormLayout(self)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(8)
        form.setContentsMargins(12, 14, 12, 12)

        self.max_failures = RuleSpinBox(LOGIN_MAX_FAILURES)
        self.lock_minutes = RuleSpinBox(LOGIN_LOCK_MINUTES)
        self.idle_minutes = RuleSpinBox(IDLE_LOCK_MINUTES)
        self.spins = (self.max_failures, self.lock_minutes, self.idle_minutes)
        self.errors: dict[str, FieldError] = {}
        for label, spin in zip(
            ("连续输错几次锁定账户", "锁定多少分钟", "无操作多少分钟自动锁屏"),
            self.spins,
            strict=True,
        ):
            error = FieldError()
            self.errors[spin.setting.key] = error
            form.addRow(label, spin)
            form.addRow("", error)
            spin.lineEdit().textEdited.connect(lambda _text, e=error: e.set_message(None))
        self.save_button = QPushButton("保存登录规则")
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 4, 0, 0)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        form.addRow("", buttons)
        form.addRow(self.status)
        self.setEnabled(self._can_manage)
        if not self._can_manage:
            self.setToolTip("只有管理员可以修改登录规则。")

        self.save_button.clicked.connect(self.save)
        for spin in self.spins:
            spin.lineEdit().returnPressed.connect(self.save)
        context.hub.changed.connect(self._on_changed)
        self.reload()

    def reload(self) -> None:
        auth = self._context.services.auth
        Query(self._context.runner, self, auth.login_rules, self._show).run()

    def _show(self, rules: LoginRules) -> None:
        self.max_failures.setValue(rules.max_failures)
        self.lock_minutes.setValue(rules.lock_minutes)
        self.idle_minutes.setValue(rules.idle_minutes)
        for spin in self.spins:
            spin.forget_typed()

    def save(self) -> None:
        if not self._can_manage:
            return
        self.status.setText("")
        for error in self.errors.values():
            error.set_message(None)
        numbers: dict[str, int] = {}
        blank: dict[str, str] = {}
        for spin in self.spins:
            text = spin.typed()
            spin.forget_typed()
            if text.isdigit():
                numbers[spin.setting.key] = int(text)
            else:
                low, high = spin.setting.minimum, spin.setting.maximum
                blank[spin.setting.key] = f"请填写{low}到{high}之间的整数"
        if blank:
            self._invalid(ValidationFailed(blank))
            return
        rules = LoginRules(
            max_failures=numbers[LOGIN_MAX_FAILURES.key],
            lock_minutes=numbers[LOGIN_LOCK_MINUTES.key],
            idle_minutes=numbers[IDLE_LOCK_MINUTES.key],
        )
        auth, actor = self._context.services.auth, self._context.actor
        Action(self._context, self, lambda: auth.save_login_rules(actor, rules)).success(
            lambda _changes: self.status.setText(SAVED)
        ).on_invalid(self._invalid).run()

    def _invalid(self, exc: ValidationFailed) -> None:
        for key, message in exc.errors.items():
            error = self.errors.get(key)
            if error is not None:
                error.set_message(message)
            else:
                self.status.setText(message)
        self.status.setText(self.status.text() or "登录规则没有保存，请按提示改正后再保存。")

    def _on_changed(self, changes: Changes) -> None:
        if changes.settings:
            self.reload()
