"""Idle lock (issue 15 item 9): after N minutes without a key or a click the window is covered
by a lock screen; the same user's password opens it again with everything as it was (a
half-typed 受理登记 form, an open case), anyone else goes through 切换用户 and the unsaved work
is thrown away first — they never see it.

Idle means no keyboard or mouse input in any of the program's windows. The input is watched
with an event filter on each top-level *window* (``QWindow``: every key and click reaches one
before any widget), not on the whole application: a Python filter there wraps every event of
every object, some half-destroyed, and crashed PySide now and then (see baa93d7).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.settings import IDLE_LOCK_MINUTES
from desktop_app.errors import UserError
from desktop_app.services.context import Actor
from desktop_app.ui.common import FieldError, UiContext, heading, show_error
from desktop_app.ui.operations import Query
from desktop_app.ui.window_filter import WindowFilter

_INPUT = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.InputMethod,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class IdleWatcher(WindowFilter):
    """Says ``idle`` when no key or mouse input reached a window of the program for
    ``interval_ms``."""

    idle = Signal()

    def __init__(self, interval_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.idle)

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def set_interval(self, interval_ms: int) -> None:
        self._timer.setInterval(interval_ms)
        if self._timer.isActive():
            self._timer.start()

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT and self._timer.isActive():
            self._timer.start()  # from now again
        return False


class LockScreen(QDialog):
    """Covers the main window; the user's password opens it, 切换用户 leaves it.

    Not a child of the main window: the window gives its own dialogs the 切换用户 keys, and
    those would ask to *save* the locked user's work for whoever is at the keyboard.
    """

    unlocked = Signal()
    switch_requested = Signal()

    def __init__(self, context: UiContext, covering: QWidget) -> None:
        super().__init__(None)
        self._context = context
        self._covering = covering
        self._checking = False
        self._done = False
        actor = context.actor
        self.setWindowTitle("已锁定")
        self.setObjectName("lockScreen")
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.setStyleSheet(
            "QDialog#lockScreen { background: #eef2f6; }"
            " QFrame#lockCard { background: white; border: 1px solid #c8d0d8;"
            " border-radius: 8px; }"
        )
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        row = QHBoxLayout()
        row.addStretch(1)
        card = QFrame()
        card.setObjectName("lockCard")
        card.setMinimumWidth(420)
        card.setMaximumWidth(520)
        body = QVBoxLayout(card)
        body.setContentsMargins(28, 22, 28, 22)
        body.setSpacing(10)
        body.addWidget(heading("工作台已锁定"))
        self.who = QLabel(f"当前用户：{actor.display_name}（{actor.role.label}）")
        body.addWidget(self.who)
        explain = QLabel(
            "长时间无操作，已自动锁定。未保存的内容仍然保留，"
            f"请{actor.display_name}本人输入密码继续工作。"
        )
        explain.setWordWrap(True)
        explain.setObjectName("hint")
        body.addWidget(explain)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("密码")
        body.addWidget(self.password)
        self.error = FieldError()
        body.addWidget(self.error)
        buttons = QHBoxLayout()
        self.unlock_button = QPushButton("解锁")
        self.switch_button = QPushButton("切换用户")
        # Enter is handled in keyPressEvent, never by QDialog's default-button search: while the
        # password is being checked 解锁 is disabled, and the same key press must not fall
        # through to 切换用户 (which offers to throw the half-typed form away).
        for button in (self.unlock_button, self.switch_button):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.switch_button.setToolTip("不是本人：放弃上一位用户未保存的内容，回到登录窗口")
        buttons.addWidget(self.switch_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        body.addLayout(buttons)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)

        self.unlock_button.clicked.connect(self.try_unlock)
        self.password.returnPressed.connect(self.try_unlock)
        self.switch_button.clicked.connect(self.switch_requested)

    def cover(self) -> None:
        """Lie over the main window (its frame included) and take the keyboard."""
        self.setGeometry(self._covering.frameGeometry())
        self.show()
        self.raise_()
        self.activateWindow()
        self.password.setFocus()

    @property
    def is_checking(self) -> bool:
        return self._checking

    def try_unlock(self) -> None:
        """The password is checked on the worker, as a log-in (wrong ones count towards the
        account's lock-out, and each attempt is audited)."""
        if self._checking:
            return
        password = self.password.text()
        if not password:
            self.error.set_message("请输入密码")
            return
        self._checking = True
        self.error.set_message(None)
        self.unlock_button.setEnabled(False)
        self.unlock_button.setText("正在验证…")
        auth, actor = self._context.services.auth, self._context.actor
        Query(
            self._context.runner, self, lambda: auth.login(actor.username, password), self._checked
        ).failure(self._failed).run()

    def finish(self) -> None:
        """Unlocked or left: the only ways the lock screen goes away."""
        self._done = True
        self.done(QDialog.DialogCode.Accepted)

    def reject(self) -> None:
        """Esc, or closing the window, does not open the lock."""
        if self._done:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._done:
            super().closeEvent(event)
        else:
            event.ignore()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc does nothing. Enter unlocks (the password box says so itself), or switches
        from 切换用户 when that button has the focus; it is never passed on to another button."""
        if event.key() == Qt.Key.Key_Escape:
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            if self.focusWidget() is self.switch_button:
                self.switch_button.click()
            elif self.focusWidget() is not self.password:
                self.try_unlock()
            return
        super().keyPressEvent(event)

    def _checked(self, actor: Actor) -> None:
        self._checking = False
        self._restore_button()
        if actor.user_id != self._context.actor.user_id:  # cannot happen: same user name
            self.error.set_message("只有锁定前的用户本人可以解锁")
            return
        self.password.clear()
        self.unlocked.emit()

    def _failed(self, exc: Exception) -> None:
        self._checking = False
        self._restore_button()
        if not isinstance(exc, UserError):
            show_error(self, exc)
            return
        self.error.set_message(exc.message)
        self.password.selectAll()
        self.password.setFocus()

    def _restore_button(self) -> None:
        self.unlock_button.setEnabled(True)
        self.unlock_button.setText("解锁")


class ScreenLock(QObject):
    """Watches for idleness and covers ``window`` with a :class:`LockScreen`.

    ``context`` gives the current user's context; ``can_lock`` says whether someone is working
    (not while the log-in dialog is up); ``unsaved_work`` lists what 切换用户 would give up, and
    ``leave`` gives it up and asks for the next log-in. ``interval_ms`` overrides the setting
    (tests pass milliseconds); otherwise the setting is read on the worker at each ``start``.
    """

    locked = Signal()
    unlocked = Signal()

    def __init__(
        self,
        window: QWidget,
        context: Callable[[], UiContext],
        *,
        can_lock: Callable[[], bool],
        unsaved_work: Callable[[], list[str]],
        leave: Callable[[], None],
        interval_ms: int | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._context = context
        self._can_lock = can_lock
        self._unsaved_work = unsaved_work
        self._leave = leave
        self._fixed = interval_ms
        self.screen: LockScreen | None = None
        self.question: QMessageBox | None = None
        self.watcher = IdleWatcher(interval_ms or IDLE_LOCK_MINUTES.default * 60_000, self)
        self.watcher.idle.connect(self.lock)
        window.installEventFilter(self)  # its QWindow exists once it is shown

    @property
    def is_locked(self) -> bool:
        return self.screen is not None

    def start(self) -> None:
        """Begin (again) counting idle time, with the current setting."""
        self.watcher.watch(self._window.windowHandle())  # None until the window is shown
        self.watcher.start()
        if self._fixed is not None:
            return
        context = self._context()
        Query(
            context.runner,
            self._window,
            context.services.auth.idle_lock_minutes,
            lambda minutes: self.watcher.set_interval(minutes * 60_000),
        ).run()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Show:
            self.watcher.watch(self._window.windowHandle())
        return False

    def lock(self) -> None:
        """Cover the window now (unless it is already covered, or nobody is logged in)."""
        window = self._window
        if self.screen is not None or not self._can_lock():
            if self.screen is None:
                self.watcher.start()  # try again later
            return
        self.watcher.stop()
        self.watcher.watch(window.windowHandle())
        screen = LockScreen(self._context(), window)
        screen.unlocked.connect(self._unlock)
        screen.switch_requested.connect(self._ask_switch)
        self.screen = screen
        screen.cover()
        self.watcher.watch(screen.windowHandle())
        self.locked.emit()

    def _unlock(self) -> None:
        if self.screen is not None:
            self.screen.finish()
            self.screen.deleteLater()
            self.screen = None
        self.watcher.start()
        self.unlocked.emit()

    def _ask_switch(self) -> None:
        """切换用户 from the lock: whoever is at the keyboard has not proven to be the user, so
        nothing is saved for them — the user's unsaved work is given up, after asking."""
        screen = self.screen
        if screen is None or self.question is not None:
            return
        unsaved = self._unsaved_work()
        if not unsaved:
            self._switch()
            return
        name = self._context().actor.display_name
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "切换用户",
            f"{name}还有未保存的内容：\n\n"
            + "\n".join(f"· {line}" for line in unsaved)
            + f"\n\n切换用户将放弃这些内容，不会保存。{name}本人请点“取消”，输入密码解锁。",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            screen,
        )
        box.button(QMessageBox.StandardButton.Discard).setText("放弃并切换")
        box.button(QMessageBox.StandardButton.Cancel).setText("取消")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setWindowModality(Qt.WindowModality.ApplicationModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.question = box

        def answered(_result: int) -> None:
            self.question = None
            button = box.clickedButton()
            choice = box.standardButton(button) if button is not None else None
            if choice == QMessageBox.StandardButton.Discard:
                self._switch()
            elif self.screen is not None:
                self.screen.password.setFocus()

        box.finished.connect(answered)
        box.show()

    def _switch(self) -> None:
        if self.screen is not None:
            self.screen.finish()
            self.screen.deleteLater()
            self.screen = None
        self._leave()
