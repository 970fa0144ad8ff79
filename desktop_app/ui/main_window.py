"""The main window only assembles the screens: navigation on the left, pages on the right."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QWindow
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from desktop_app import __version__
from desktop_app.domain.permissions import Permission
from desktop_app.services.context import Actor, Changes
from desktop_app.services.ledger import CaseFilter
from desktop_app.services.roster import ShiftInfo
from desktop_app.ui.backup_page import RecoveryKeyBanner
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext, heading, show_error
from desktop_app.ui.dashboard_page import DashboardPage
from desktop_app.ui.elided_label import ElidedLabel
from desktop_app.ui.intake_page import IntakePage
from desktop_app.ui.ledger_page import LedgerPage
from desktop_app.ui.lock_screen import ScreenLock
from desktop_app.ui.operations import Query
from desktop_app.ui.screen import available_area, size_to_screen
from desktop_app.ui.startup import DatabaseCheck, LoginDialog

if TYPE_CHECKING:
    from desktop_app.ui.audit_page import AuditPage
    from desktop_app.ui.calendar import CalendarPage
    from desktop_app.ui.case_detail import CaseDetailDialog
    from desktop_app.ui.exchange import ExchangePage
    from desktop_app.ui.settings_page import SettingsPage
    from desktop_app.ui.slips_page import SlipsPage

# Work anywhere in the window, a case dialog or a step dialog included (_add_switch_keys).
SWITCH_USER_KEYS = QKeySequence("Ctrl+L")
LOG_OUT_KEYS = QKeySequence("Ctrl+Shift+L")
_SWITCH_KEYS_ADDED = "bbcsSwitchKeys"  # a dialog's property once it has the two shortcuts
# The window's preferred size; a smaller screen gets its whole available area.
PREFERRED_WIDTH = 1440
PREFERRED_HEIGHT = 900

PLANNED: dict[str, str] = {}

# Each screen's own key, the same whatever the role: Ctrl+3 is 事项台账 for everyone, and a
# screen a role does not see simply has no key for it (counting a role's own list made Ctrl+3
# 期限日历 for the auditor). The ten most used take the digits; settings has the usual Ctrl+,.
PAGE_KEYS: dict[str, str] = {
    "工作台": "Ctrl+1",
    "受理登记": "Ctrl+2",
    "事项台账": "Ctrl+3",
    "期限日历": "Ctrl+4",
    "交办单": "Ctrl+5",
    "问责线索": "Ctrl+6",
    "一类事与预警": "Ctrl+7",
    "联席会议": "Ctrl+8",
    "统计通报": "Ctrl+9",
    "数据交换": "Ctrl+0",
    "系统设置": "Ctrl+,",
    "审计日志": "Ctrl+Shift+A",
}


class PlannedPage(QWidget):
    """A screen that a later release fills in; says what it will do."""

    def __init__(self, title: str, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(heading(title))
        text = QLabel(f"{description}\n\n本功能将在后续版本中提供。")
        text.setWordWrap(True)
        text.setObjectName("hint")
        layout.addWidget(text)
        layout.addStretch(1)


class MainWindow(QMainWindow):
    """Navigation, pages and the status bar (site, user, duty leader, 切换用户 / 注销).

    Switching user rebuilds the pages with a new ``UiContext`` for the new actor, so nothing the
    last user typed or opened stays, and every button follows the new role.
    """

    user_changed = Signal(object)  # Actor: the pages now show this user's work
    logged_out = Signal()  # 注销 and the log-in was cancelled: the window closes

    def __init__(self, context: UiContext, *, idle_lock_ms: int | None = None) -> None:
        """``idle_lock_ms``: lock after this many idle milliseconds instead of the setting's
        minutes (tests)."""
        super().__init__()
        self.context = context
        site = context.services.site.info()
        self._site_name = site.name
        self._title_for(context.actor)
        # Never wider or taller than the screen it opens on (1366×768 laptops); pages wider than
        # the window scroll inside it instead of growing it (see _build_pages).
        size_to_screen(self, PREFERRED_WIDTH, PREFERRED_HEIGHT, share=0.96)
        self.login_dialog: LoginDialog | None = None
        self.unsaved_question: QMessageBox | None = None
        # Figures nothing waits on are read on a second worker, the window's (it outlives the
        # pages a change of user rebuilds): the dashboard's charts (this year's take 2.2 s at a
        # city) and the ledger's count, so that neither holds up the lists and forms.
        self.figures_runner = TaskRunner(self)
        self._leaving = False
        self._saved_note = ""  # what 保存 saved before the log-in dialog, shown in it

        status = self.statusBar()
        # At 1366×768 and 125 % the bar has 1,093 logical pixels: the site's long name gives way
        # first (cut with …, whole in its tooltip); who is logged in and today's leader stay
        # whole while they fit, and are cut the same way when even they do not.
        # (No "站点：" before it: the name says what it is, and more of it shows when cut.)
        self.site_label = ElidedLabel(f"{site.name}（{site.code}，{site.level.label}）")
        self.user_label = ElidedLabel("")
        self.duty_label = ElidedLabel("")
        # Its whole width is not asked for: it takes what the others leave.
        self.site_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        for label, stretch in ((self.site_label, 1), (self.user_label, 0), (self.duty_label, 0)):
            label.setContentsMargins(8, 0, 8, 0)
            status.addWidget(label, stretch)
        self.site_label.setMinimumWidth(self.site_label.minimumSizeHint().width())
        self.site_label.setMaximumWidth(self.site_label.sizeHint().width())  # no gap after it
        self.database_check = DatabaseCheck(self, context)  # once the window is up
        self.switch_button = QPushButton("切换用户")
        self.switch_button.setToolTip(
            f"换另一位用户登录（{SWITCH_USER_KEYS.toString(QKeySequence.SequenceFormat.NativeText)}）"
        )
        self.switch_button.clicked.connect(lambda: self.switch_user())
        self.logout_button = QPushButton("注销")
        self.logout_button.setToolTip(
            "退出当前用户，回到登录窗口"
            f"（{LOG_OUT_KEYS.toString(QKeySequence.SequenceFormat.NativeText)}）"
        )
        self.logout_button.clicked.connect(lambda: self.log_out())
        self.password_button = QPushButton("修改密码")
        self.password_button.setToolTip("修改本人的登录密码")
        self.password_button.clicked.connect(lambda: self.change_password())
        for button in (self.password_button, self.switch_button, self.logout_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab stays in the forms
            status.addPermanentWidget(button)
        status.addPermanentWidget(QLabel(f"bbcs {__version__}"))

        self.navigation = QListWidget()
        self.pages = QStackedWidget()
        self._page_names: list[str] = []
        self._built: dict[str, QWidget] = {}
        self._build_pages()

        for title, keys in PAGE_KEYS.items():
            QShortcut(QKeySequence(keys), self).activated.connect(
                lambda title=title: self.go_to(title)
            )
        QShortcut(QKeySequence.StandardKey.New, self).activated.connect(
            lambda: self.go_to("受理登记")
        )
        QShortcut(QKeySequence.StandardKey.Find, self).activated.connect(self._find)
        self._add_switch_keys(self)
        # The case dialog and the step dialogs are modal: the window's own shortcuts do not
        # reach them, so each of this window's dialogs gets its own when it becomes active.
        # (A Python event filter on the whole application would do it too, but wrapping every
        # event of every object, some of them half-destroyed, crashed PySide now and then.)
        app = QApplication.instance()
        self._watching_focus = isinstance(app, QApplication)
        if isinstance(app, QApplication):
            app.focusWindowChanged.connect(self._focus_window_changed)
        # Idle lock (issue 15 item 9): see ui/lock_screen.py.
        self.screen_lock = ScreenLock(
            self,
            lambda: self.context,
            can_lock=lambda: (
                self.isVisible()
                and self.isEnabled()
                and self.login_dialog is None
                and not self._leaving
            ),
            unsaved_work=self.unsaved_work,
            leave=self.leave_locked,
            interval_ms=idle_lock_ms,
        )
        self.user_changed.connect(lambda _actor: self.screen_lock.start())
        self.screen_lock.start()

    def _build_pages(self) -> None:
        """The navigation and every page, for ``self.context``'s user."""
        context = self.context
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        side = QVBoxLayout()
        side.setSpacing(0)
        brand = QLabel("办不成事\n监督窗口工作台")
        brand.setObjectName("brand")
        side.addWidget(brand)
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setFixedWidth(170)
        side.addWidget(self.navigation, 1)
        row.addLayout(side)
        self.pages = QStackedWidget()
        self.pages.setObjectName("pageArea")
        # A page wider or taller than the screen scrolls here instead of growing the window
        # past the screen's edge (as 数据交换 did: 1,640 px).
        scroller = QScrollArea()
        scroller.setObjectName("pageScroller")
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setWidgetResizable(True)
        scroller.setWidget(self.pages)
        right = QVBoxLayout()
        right.setSpacing(0)
        self.recovery_banner = RecoveryKeyBanner(context)
        right.addWidget(self.recovery_banner)
        right.addWidget(scroller, 1)
        row.addLayout(right, 1)
        self.setCentralWidget(central)  # the previous user's pages are deleted with theirs

        self.dashboard = DashboardPage(context, figures_runner=self.figures_runner)
        self.intake = IntakePage(context)
        self.ledger = LedgerPage(context, figures_runner=self.figures_runner)
        self._page_names = []
        # Screens not needed at start are built (and their modules imported) when first shown:
        # start-up stays under a second at 100,000 cases.
        self._builders: dict[str, Callable[[], QWidget]] = {
            "期限日历": self._build_calendar,
            "交办单": self._build_slips,
            "问责线索": self._build_referrals,
            "一类事与预警": self._build_classes,
            "联席会议": self._build_meetings,
            "统计通报": self._build_reports,
            "数据交换": self._build_exchange,
            "系统设置": self._build_settings,
            "审计日志": self._build_audit,
        }
        self._built = {}
        self._add_page("工作台", self.dashboard)
        # A role that may not register (审计, 纪检监察) is not shown the form it could not save.
        if context.actor.can(Permission.REGISTER_CASE):
            self._add_page("受理登记", self.intake)
        self._add_page("事项台账", self.ledger)
        self._add_page("期限日历", QWidget())
        self._add_page("交办单", QWidget())
        if context.actor.can(Permission.VIEW_REFERRALS):
            self._add_page("问责线索", QWidget())
        if context.actor.can(Permission.MANAGE_CLASSES):
            self._add_page("一类事与预警", QWidget())
        if context.actor.can(Permission.MANAGE_MEETINGS):
            self._add_page("联席会议", QWidget())
        self._add_page("统计通报", QWidget())
        for title, description in PLANNED.items():
            self._add_page(title, PlannedPage(title, description))
        # 数据交换 for those who send and receive, and for the auditor, who checks what went
        # where; 纪检监察 has no business there.
        if context.actor.can(Permission.EXCHANGE_DATA) or context.actor.can(Permission.VIEW_AUDIT):
            self._add_page("数据交换", QWidget())
        self._add_page("系统设置", QWidget())
        if context.actor.can(Permission.VIEW_AUDIT):  # the auditor's screen (issue 15 item 10)
            self._add_page("审计日志", QWidget())
        self.navigation.currentRowChanged.connect(self._page_selected)

        self.dashboard.show_ledger.connect(self.show_ledger)
        self.dashboard.new_intake.connect(lambda: self.go_to("受理登记"))
        self.dashboard.show_page.connect(self._show_figure_page)  # referrals, warnings
        self.dashboard.show_exchange.connect(lambda: self.go_to("数据交换"))
        for page in (self.dashboard, self.intake, self.ledger):
            page.open_case.connect(self.open_case)

        actor = context.actor
        self.user_label.setText(f"当前用户：{actor.display_name}（{actor.role.label}）")
        context.hub.changed.connect(self._on_changed)
        self.show_duty_leader()
        self.navigation.setCurrentRow(0)
        self.ledger.reload()
        self.dashboard.refresh()

    @property
    def starts_maximized(self) -> bool:
        """On a screen smaller than the preferred size (a 1366×768 laptop) the window opens
        maximized; app.py shows it so."""
        area = available_area(self)
        return area.width() < PREFERRED_WIDTH or area.height() < PREFERRED_HEIGHT

    def show_duty_leader(self) -> None:
        """Today's 带班领导 from the roster (read on the worker): the default signer of today's
        slips."""
        services = self.context.services
        Query(
            self.context.runner,
            self,
            lambda: services.roster.leader_on(services.clock.now().date()),
            self._show_duty_leader,
        ).run()

    def _show_duty_leader(self, shift: ShiftInfo | None) -> None:
        if shift is None:
            self.duty_label.setText("今日带班领导：未排班")
        else:
            title = f"（{shift.staff_title}）" if shift.staff_title else ""
            self.duty_label.setText(f"今日带班领导：{shift.staff_name}{title}")

    def _on_changed(self, changes: Changes) -> None:
        if changes.settings:
            self.show_duty_leader()
            self.screen_lock.start()  # the idle minutes may have changed

    def _add_page(self, title: str, widget: QWidget) -> None:
        item = QListWidgetItem(title)
        keys = PAGE_KEYS.get(title)
        if keys is not None:
            native = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
            item.setToolTip(f"{title}（{native}）")
        self.navigation.addItem(item)
        self.pages.addWidget(widget)
        self._page_names.append(title)

    # Screens built on first use ----------------------------------------------------------

    def page(self, title: str) -> QWidget:
        """The screen called ``title``, built now if it has not been shown yet."""
        index = self._page_names.index(title)
        builder = self._builders.get(title)
        if builder is not None and title not in self._built:
            widget = builder()
            placeholder = self.pages.widget(index)
            assert placeholder is not None
            current = self.pages.currentIndex()
            self.pages.removeWidget(placeholder)
            self.pages.insertWidget(index, widget)
            placeholder.deleteLater()
            self.pages.setCurrentIndex(current)
            self._built[title] = widget
        page = self.pages.widget(index)
        assert page is not None
        return page

    @property
    def calendar(self) -> CalendarPage:
        from desktop_app.ui.calendar import CalendarPage

        page = self.page("期限日历")
        assert isinstance(page, CalendarPage)
        return page

    @property
    def slips(self) -> SlipsPage:
        from desktop_app.ui.slips_page import SlipsPage

        page = self.page("交办单")
        assert isinstance(page, SlipsPage)
        return page

    @property
    def settings(self) -> SettingsPage:
        from desktop_app.ui.settings_page import SettingsPage

        page = self.page("系统设置")
        assert isinstance(page, SettingsPage)
        return page

    @property
    def exchange(self) -> ExchangePage:
        from desktop_app.ui.exchange import ExchangePage

        page = self.page("数据交换")
        assert isinstance(page, ExchangePage)
        return page

    @property
    def audit(self) -> AuditPage:
        from desktop_app.ui.audit_page import AuditPage

        page = self.page("审计日志")
        assert isinstance(page, AuditPage)
        return page

    def _build_audit(self) -> QWidget:
        from desktop_app.ui.audit_page import AuditPage

        return AuditPage(self.context)

    def _build_calendar(self) -> QWidget:
        from desktop_app.ui.calendar import CalendarPage

        page = CalendarPage(self.context)
        page.open_case.connect(self.open_case)
        return page

    def _build_slips(self) -> QWidget:
        from desktop_app.ui.slips_page import SlipsPage

        page = SlipsPage(self.context)
        page.open_case.connect(self.open_case)
        return page

    def _show_figure_page(self, title: str) -> None:
        """A dashboard figure that is not cases opens its page showing what it counted."""
        self.go_to(title)
        if title == "问责线索":
            from desktop_app.ui.referrals_page import ReferralsPage

            page = self.page(title)
            assert isinstance(page, ReferralsPage)
            page.show_pending()

    def _build_referrals(self) -> QWidget:
        from desktop_app.ui.referrals_page import ReferralsPage

        page = ReferralsPage(self.context)
        page.open_case.connect(self.open_case)
        return page

    def _build_classes(self) -> QWidget:
        from desktop_app.ui.classes_page import ClassesPage

        page = ClassesPage(self.context)
        page.open_case.connect(self.open_case)
        return page

    def _build_meetings(self) -> QWidget:
        from desktop_app.ui.meetings_page import MeetingsPage

        page = MeetingsPage(self.context)
        page.open_case.connect(self.open_case)
        return page

    def _build_reports(self) -> QWidget:
        from desktop_app.ui.reports_page import ReportsPage

        return ReportsPage(self.context)

    def _build_exchange(self) -> QWidget:
        from desktop_app.ui.exchange import ExchangePage

        return ExchangePage(self.context)

    def _build_settings(self) -> QWidget:
        from desktop_app.ui.settings_page import SettingsPage

        return SettingsPage(self.context)

    def _page_selected(self, row: int) -> None:
        self.page(self._page_names[row])
        self.pages.setCurrentIndex(row)
        if self.pages.currentWidget() is self.intake:
            self.intake.name.setFocus()

    def go_to(self, title: str) -> None:
        """Shows the screen ``title``; nothing happens if this user's window has no such screen
        (Ctrl+N for a role that may not register)."""
        if title in self._page_names:
            self.navigation.setCurrentRow(self._page_names.index(title))

    def show_ledger(self, case_filter: CaseFilter) -> None:
        self.go_to("事项台账")
        self.ledger.show_filter(case_filter)

    def _find(self) -> None:
        self.go_to("事项台账")
        self.ledger.focus_search()

    def open_case(self, case_id: int) -> CaseDetailDialog | None:
        from desktop_app.ui.case_detail import CaseDetailDialog

        try:
            dialog = CaseDetailDialog(self.context, case_id, self)
        except Exception as exc:
            show_error(self, exc)
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # 修改密码, the idle lock --------------------------------------------------------------

    def change_password(self) -> QDialog:
        """The user's own password (ui/password_dialog.py)."""
        from desktop_app.ui.password_dialog import PasswordDialog

        dialog = PasswordDialog(self.context, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.statusBar().showMessage("密码已修改", 8000))
        dialog.open()
        return dialog

    def unsaved_work(self) -> list[str]:
        """What the user has typed or opened and not saved, as 切换用户 would list it."""
        lines = ["受理登记表单已填写，尚未保存"] if self.intake.has_unsaved_input() else []
        return lines + [f"打开的窗口：{d.windowTitle()}" for d in self.open_dialogs()]

    def leave_locked(self) -> None:
        """切换用户 from the lock screen: nothing is saved for whoever is at the keyboard — the
        locked user's unsaved work is given up, the pages go, and the log-in asks who is next
        (cancelling it closes the program, as after 注销)."""
        self._leaving = True
        self._discard(self.open_dialogs())
        self._ask_login(log_out=True)

    # 切换用户 / 注销 ---------------------------------------------------------------------

    def switch_user(self) -> None:
        """Ask what to do with unsaved work, then the log-in dialog; cancelling it keeps the
        current user."""
        self._leave(log_out=False)

    def log_out(self) -> None:
        """注销: the same, but the window hides while the log-in dialog waits, and cancelling
        it closes the program."""
        self._leave(log_out=True)

    def open_dialogs(self) -> list[QDialog]:
        """This window's open dialogs (case dialogs, step dialogs, previews), outermost first."""
        found = [
            dialog
            for dialog in self.findChildren(QDialog)
            if dialog.isVisible()
            and dialog is not self.login_dialog
            and dialog is not self.unsaved_question
        ]
        return sorted(found, key=_depth)

    def _leave(self, *, log_out: bool) -> None:
        if self._leaving:
            return
        self._leaving = True
        dialogs = self.open_dialogs()
        unsaved_form = self.intake.has_unsaved_input()
        if not dialogs and not unsaved_form:
            self._ask_login(log_out)
            return
        action = "注销" if log_out else "切换用户"
        lines = []
        if unsaved_form:
            lines.append("· 受理登记表单已填写，尚未保存")
        for dialog in dialogs:
            if not _savable(dialog):
                note = "将关闭，不会保存"
            elif _has_input(dialog):
                note = "保存时一并提交"
            else:
                note = "未填写内容，将关闭"
            lines.append(f"· 打开的窗口：{dialog.windowTitle()}（{note}）")
        box = QMessageBox(
            QMessageBox.Icon.Question,
            action,
            f"{action}前，请先处理尚未完成的内容，下一位用户不会看到它们：\n\n"
            + "\n".join(lines)
            + "\n\n保存：保存表单和可保存的窗口（如上所注）后再"
            + action
            + "\n放弃：不保存，清空表单、关闭这些窗口"
            + "\n取消：回到原来的工作",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Save).setText("保存")
        box.button(QMessageBox.StandardButton.Discard).setText("放弃")
        box.button(QMessageBox.StandardButton.Cancel).setText("取消")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # Application-modal: the open case and step dialogs wait behind it too (open() would
        # make it modal to the main window only).
        box.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.unsaved_question = box

        def answered(_result: int) -> None:
            # Closed by its title bar or Esc, no button was clicked: as 取消.
            self.unsaved_question = None
            button = box.clickedButton()
            choice = box.standardButton(button) if button is not None else None
            if choice == QMessageBox.StandardButton.Discard:
                self._discard(self.open_dialogs())
                self._ask_login(log_out)
            elif choice == QMessageBox.StandardButton.Save:
                self._save_then(self.open_dialogs(), lambda: self._ask_login(log_out))
            else:
                self._leaving = False

        box.finished.connect(answered)
        box.show()

    def _discard(self, dialogs: list[QDialog]) -> None:
        for dialog in reversed(dialogs):  # step dialogs before the case dialogs under them
            if isValid(dialog) and dialog.isVisible():
                dialog.reject()
        self.intake.clear()

    def _save_then(self, dialogs: list[QDialog], proceed: Callable[[], None]) -> None:
        """Save the intake form and submit each open dialog that can be saved and has input
        (its 确定 / 保存更正) on the worker; when all are done, close what is left and
        ``proceed``. A save that fails stops the switch: its form shows the errors and the
        current user stays."""
        steps = [d for d in dialogs if _savable(d) and _has_input(d)]
        intake_pending = self.intake.has_unsaved_input()
        if intake_pending:
            self.intake.save()
        for dialog in steps:
            dialog.submit()  # type: ignore[attr-defined]

        def open_step(dialog: QDialog) -> bool:
            return isValid(dialog) and dialog.isVisible()

        def finished() -> bool:
            return not self.intake.is_saving and not any(_busy(d) for d in self.open_dialogs())

        timer = QTimer(self)
        timer.setInterval(30)

        def check() -> None:
            if not finished():
                return
            timer.stop()
            timer.deleteLater()
            failed_steps = [d for d in steps if open_step(d)]
            if (intake_pending and self.intake.has_unsaved_input()) or failed_steps:
                self._leaving = False
                if intake_pending and self.intake.has_unsaved_input():
                    self.go_to("受理登记")
                QMessageBox.warning(
                    failed_steps[0] if failed_steps else self,
                    "未能保存",
                    "有内容没有保存成功，请按提示改正后再保存，或选择“放弃”。",
                )
                return
            for dialog in reversed(self.open_dialogs()):
                dialog.reject()
            saved = self.intake.last_result if intake_pending else None
            if saved is not None:  # the banner that names it goes with the pages
                self._saved_note = f"已保存：事项 {saved.number}"
            proceed()

        timer.timeout.connect(check)
        timer.start()

    def _ask_login(self, log_out: bool) -> None:
        """Work the last user started finishes, and its results reach their pages, before those
        pages go: a no-op queued on the worker (one thread, first in first out) reports after
        every earlier task has. A dialog still busy (a preview recording its output) is waited
        for the same way, then the dialogs left open close. Meanwhile the window takes no input
        and the event loop runs."""
        self.setEnabled(False)
        self.statusBar().showMessage("正在完成…")
        runner = self.context.runner

        def ready(_result: object) -> None:
            if not self.isVisible():  # the window was closed meanwhile: no log-in over nothing
                self.statusBar().clearMessage()
                self.setEnabled(True)
                self._leaving = False
                return
            if any(_busy(d) for d in self.open_dialogs()):
                QTimer.singleShot(50, self, lambda: Query(runner, self, lambda: None, ready).run())
                return
            for dialog in reversed(self.open_dialogs()):
                dialog.reject()
            self.statusBar().clearMessage()
            self.setEnabled(True)
            self._open_login(log_out)

        Query(runner, self, lambda: None, ready).run()

    def _open_login(self, log_out: bool) -> None:
        purpose = "注销后登录" if log_out else "切换用户"
        dialog = LoginDialog(
            self.context.services,
            self,
            purpose=purpose,
            previous=self.context.actor,
            note=self._saved_note,
            runner=self.context.runner,
        )
        self._saved_note = ""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.login_dialog = dialog
        if log_out:
            self._tear_down()  # nothing of the last user's stays on screen behind the log-in
            self.hide()

        def finished(result: int) -> None:
            self.login_dialog = None
            self._leaving = False
            actor = dialog.actor
            if result == QDialog.DialogCode.Accepted and actor is not None:
                self._become(actor)
                if log_out:
                    self.show()
            elif log_out:
                self.logged_out.emit()
                self.close()

        dialog.finished.connect(finished)
        dialog.open()

    def _tear_down(self) -> None:
        """The last user's pages go (deleted with the central widget they are in)."""
        self.setCentralWidget(QWidget())
        self.navigation = QListWidget()
        self.pages = QStackedWidget()

    def _become(self, actor: Actor) -> None:
        """Rebuild every page for ``actor``: a new context, a new change hub, the same worker."""
        self.context.hub.changed.disconnect(self._on_changed)
        old = self.context
        self.context = UiContext(old.services, actor, ChangeHub(), old.runner)
        self._title_for(actor)
        self._build_pages()
        self.user_changed.emit(actor)

    def _title_for(self, actor: Actor) -> None:
        """The site and who works in it: Qt adds the application's name after it (it showed
        twice), and two seats' windows on a taskbar tell apart by the user."""
        self.setWindowTitle(f"{self._site_name}（{actor.display_name}）")

    def _add_switch_keys(self, window: QWidget) -> None:
        for keys, log_out in ((SWITCH_USER_KEYS, False), (LOG_OUT_KEYS, True)):
            shortcut = QShortcut(keys, window)
            shortcut.activated.connect(lambda log_out=log_out: self._switch_keys(log_out))
        window.setProperty(_SWITCH_KEYS_ADDED, True)

    def _switch_keys(self, log_out: bool) -> None:
        if not self._leaving and self.isVisible():
            self._leave(log_out=log_out)

    def _focus_window_changed(self, focused: QWindow | None) -> None:
        if focused is None:
            return
        for window in QApplication.topLevelWidgets():
            if (
                window.windowHandle() is focused
                and isinstance(window, QDialog)
                and not window.property(_SWITCH_KEYS_ADDED)
                and window is not self.login_dialog
                and window is not self.unsaved_question
                and self._owns(window)
            ):
                self._add_switch_keys(window)

    def _owns(self, window: QWidget) -> bool:
        """Whether ``window`` is one of this window's dialogs (at any depth)."""
        widget: QWidget | None = window
        while widget is not None:
            if widget is self:
                return True
            widget = widget.parentWidget()
        return False

    def wait_for_workers(self, msecs: int = 10_000) -> None:
        """Until the screens' worker and the figures' worker have finished."""
        self.context.runner.wait(msecs)
        self.figures_runner.wait(msecs)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.wait_for_workers()
        app = QApplication.instance()
        if isinstance(app, QApplication) and self._watching_focus:
            app.focusWindowChanged.disconnect(self._focus_window_changed)
            self._watching_focus = False
        super().closeEvent(event)


def _savable(dialog: QDialog) -> bool:
    """A dialog 保存 can submit: a step dialog (确定) or a correction (保存更正)."""
    return hasattr(dialog, "submit") and hasattr(dialog, "busy")


def _has_input(dialog: QDialog) -> bool:
    unsaved = getattr(dialog, "has_unsaved_input", None)
    return True if unsaved is None else bool(unsaved())


def _busy(dialog: QDialog) -> bool:
    return isValid(dialog) and dialog.isVisible() and bool(getattr(dialog, "busy", False))


def _depth(widget: QWidget) -> int:
    depth = 0
    parent = widget.parentWidget()
    while parent is not None:
        depth += 1
        parent = parent.parentWidget()
    return depth
