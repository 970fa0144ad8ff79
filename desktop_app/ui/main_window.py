"""The main window only assembles the screens: navigation on the left, pages on the right."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app import APP_TITLE, __version__
from desktop_app.services.context import Changes
from desktop_app.services.ledger import CaseFilter
from desktop_app.ui.common import UiContext, heading, show_error
from desktop_app.ui.dashboard_page import DashboardPage
from desktop_app.ui.intake_page import IntakePage
from desktop_app.ui.ledger_page import LedgerPage

if TYPE_CHECKING:
    from desktop_app.ui.calendar_page import CalendarPage
    from desktop_app.ui.case_detail import CaseDetailDialog
    from desktop_app.ui.exchange_page import ExchangePage
    from desktop_app.ui.settings_page import SettingsPage
    from desktop_app.ui.slips_page import SlipsPage

PLANNED = {
    "统计通报": "部门办理情况、按期办结率、满意度和编号的分析通报。",
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
    def __init__(self, context: UiContext) -> None:
        super().__init__()
        self.context = context
        site = context.services.site.info()
        self.setWindowTitle(f"{APP_TITLE} — {site.name}")
        self.resize(1280, 800)

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
        row.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.dashboard = DashboardPage(context)
        self.intake = IntakePage(context)
        self.ledger = LedgerPage(context)
        self._page_names: list[str] = []
        # Screens not needed at start are built (and their modules imported) when first shown:
        # start-up stays under a second at 100,000 cases.
        self._builders: dict[str, Callable[[], QWidget]] = {
            "期限日历": self._build_calendar,
            "交办单": self._build_slips,
            "数据交换": self._build_exchange,
            "系统设置": self._build_settings,
        }
        self._built: dict[str, QWidget] = {}
        self._add_page("工作台", self.dashboard)
        self._add_page("受理登记", self.intake)
        self._add_page("事项台账", self.ledger)
        self._add_page("期限日历", QWidget())
        self._add_page("交办单", QWidget())
        for title, description in PLANNED.items():
            self._add_page(title, PlannedPage(title, description))
        self._add_page("数据交换", QWidget())
        self._add_page("系统设置", QWidget())
        self.navigation.currentRowChanged.connect(self._page_selected)

        self.dashboard.show_ledger.connect(self.show_ledger)
        self.dashboard.new_intake.connect(lambda: self.go_to("受理登记"))
        self.dashboard.show_deadlines.connect(self.show_deadlines)
        self.dashboard.show_exchange.connect(lambda: self.go_to("数据交换"))
        for page in (self.dashboard, self.intake, self.ledger):
            page.open_case.connect(self.open_case)

        for number in range(1, len(self._page_names) + 1):
            QShortcut(
                QKeySequence(f"Ctrl+{number}"),
                self,
                activated=lambda n=number: self.navigation.setCurrentRow(n - 1),
            )
        QShortcut(QKeySequence.StandardKey.New, self, activated=lambda: self.go_to("受理登记"))
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self._find)

        status = self.statusBar()
        self.site_label = QLabel(f"站点：{site.name}（{site.code}，{site.level.label}）")
        actor = context.actor
        self.user_label = QLabel(f"当前用户：{actor.display_name}（{actor.role.label}）")
        self.duty_label = QLabel("")
        for label in (self.site_label, self.user_label, self.duty_label):
            label.setContentsMargins(8, 0, 8, 0)
            status.addWidget(label)
        status.addPermanentWidget(QLabel(f"bbcs {__version__}"))

        context.hub.changed.connect(self._on_changed)
        self.show_duty_leader()
        self.navigation.setCurrentRow(0)
        self.ledger.reload()
        self.dashboard.refresh()

    def show_duty_leader(self) -> None:
        """Today's 带班领导 from the roster: the default signer of today's slips."""
        today = self.context.services.clock.now().date()
        shift = self.context.services.roster.leader_on(today)
        if shift is None:
            self.duty_label.setText("今日带班领导：未排班")
        else:
            title = f"（{shift.staff_title}）" if shift.staff_title else ""
            self.duty_label.setText(f"今日带班领导：{shift.staff_name}{title}")

    def _on_changed(self, changes: Changes) -> None:
        if changes.settings:
            self.show_duty_leader()

    def _add_page(self, title: str, widget: QWidget) -> None:
        self.navigation.addItem(QListWidgetItem(title))
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
            current = self.pages.currentIndex()
            self.pages.removeWidget(placeholder)
            self.pages.insertWidget(index, widget)
            placeholder.deleteLater()
            self.pages.setCurrentIndex(current)
            self._built[title] = widget
        return self.pages.widget(index)

    @property
    def calendar(self) -> CalendarPage:
        from desktop_app.ui.calendar_page import CalendarPage

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
        from desktop_app.ui.exchange_page import ExchangePage

        page = self.page("数据交换")
        assert isinstance(page, ExchangePage)
        return page

    def _build_calendar(self) -> QWidget:
        from desktop_app.ui.calendar_page import CalendarPage

        page = CalendarPage(self.context)
        page.open_case.connect(self.open_case)
        return page

    def _build_slips(self) -> QWidget:
        from desktop_app.ui.slips_page import SlipsPage

        page = SlipsPage(self.context)
        page.open_case.connect(self.open_case)
        return page

    def _build_exchange(self) -> QWidget:
        from desktop_app.ui.exchange_page import ExchangePage

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
        self.navigation.setCurrentRow(self._page_names.index(title))

    def show_ledger(self, case_filter: CaseFilter) -> None:
        self.go_to("事项台账")
        self.ledger.show_filter(case_filter)

    def show_deadlines(self, which: str) -> None:
        """A dashboard deadline figure: the calendar with that list beside the month."""
        from desktop_app.ui.calendar_page import PANEL_DUE_SOON, PANEL_DUE_TODAY, PANEL_OVERDUE

        self.go_to("期限日历")
        mode = {"today": PANEL_DUE_TODAY, "overdue": PANEL_OVERDUE, "soon": PANEL_DUE_SOON}
        self.calendar.show_list(mode[which])

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

    def closeEvent(self, event: QCloseEvent) -> None:
        self.context.runner.wait(10_000)
        super().closeEvent(event)
