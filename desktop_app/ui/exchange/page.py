"""数据交换 page: the sections under one heading, and the one state they share (busy).

Each section reads its own data and listens to the change hub itself; this class assembles them,
passes their sentences to the message line under the identity, and reloads them all after an
export or an import (those write bundles the hub has no word for).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.ui.common import UiContext, heading
from desktop_app.ui.exchange.conflicts import ConflictsTab
from desktop_app.ui.exchange.history import HistoryTab
from desktop_app.ui.exchange.identity import IdentityCard
from desktop_app.ui.exchange.receive import ReceiveCard
from desktop_app.ui.exchange.send import SendCard
from desktop_app.ui.exchange.sites import SitesTab
from desktop_app.ui.exchange.status import StatusCard
from desktop_app.ui.exchange.widgets import Busy, FileDialogs, Section, hint
from desktop_app.ui.scrolling import VerticalScrollArea

# The scrolled body never asks for more height than this; taller content scrolls.
BODY_MIN_HEIGHT = 300


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
        self.dialogs = dialogs or FileDialogs()
        # Which screen to build (a county's or a city's): one small read, as the window's title.
        self.site = context.services.site.info()
        self.is_city = self.site.level is SiteLevel.CITY
        self.busy = Busy(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(8)
        title_row = QHBoxLayout()
        title_row.addWidget(heading("数据交换"))
        title_row.addStretch(1)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self.refresh)
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
            hint(
                "各县区通过U盘或共享文件夹向市级上报数据包，市级导入后生成回执，由县区导入确认。"
                "数据包经本站签名并加密，只有登记过的站点能打开。"
                if not self.is_city
                else "接收各县区上报的数据包（U盘、共享文件夹或收件箱），导入后生成回执文件；"
                "向各县区下发部门、领域、节假日调整和期限规则。"
            )
        )
        busy = self.busy
        self.identity = IdentityCard(context, self, busy, self.site, self.dialogs)
        self.status = StatusCard(context, self, busy, self.is_city)
        body_layout.addWidget(self.identity)
        body_layout.addWidget(self.status)

        self.send = SendCard(context, busy, self.is_city, self.dialogs)
        self.receive = ReceiveCard(context, self, busy, self.is_city, self.dialogs)
        self.conflicts = ConflictsTab(context, self, busy) if self.is_city else None
        self.history = HistoryTab(context, self, busy)
        self.sites = SitesTab(context, self, busy)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._transfer_tab(), "报送与接收" if self.is_city else "上报")
        if self.conflicts is not None:
            self.tabs.addTab(self.conflicts, "数据冲突")
            self.conflicts.counted.connect(self._show_conflict_count)
        self.tabs.addTab(self.history, "往来记录")
        self.tabs.addTab(self.sites, "已登记站点")
        body_layout.addWidget(self.tabs, 1)

        self.status.told.connect(self.identity.tell)
        self.sites.told.connect(self.identity.tell)
        self.send.exchanged.connect(self.refresh)
        self.receive.exchanged.connect(self.refresh)

    def _transfer_tab(self) -> QWidget:
        """The city receives first and sends reference data second; a county the other way."""
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(8, 8, 8, 8)
        if self.is_city:
            layout.addWidget(self.receive, 1)
            layout.addWidget(self.send)
        else:
            layout.addWidget(self.send)
            layout.addWidget(self.receive, 1)
        return tab

    @property
    def sections(self) -> list[Section]:
        """The parts that read their own data."""
        parts: list[Section] = [self.identity, self.status, self.receive, self.history, self.sites]
        if self.conflicts is not None:
            parts.append(self.conflicts)
        return parts

    @property
    def is_loading(self) -> bool:
        return any(section.is_loading for section in self.sections)

    @property
    def loaded(self) -> bool:
        """Every section has shown its first answer."""
        return all(section.loaded for section in self.sections)

    @property
    def is_busy(self) -> bool:
        """An export, import, scan or read is running on the worker."""
        return (
            self.busy.active
            or self.is_loading
            or self.receive.is_busy
            or self.send.target.is_loading
        )

    def refresh(self) -> None:
        """Read every section again on the worker (the drives are looked for on 刷新 beside
        them, or when the page is shown after a change)."""
        for section in self.sections:
            section.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        stale = [section for section in self.sections if section.stale]
        for section in stale:
            section.refresh()
        if stale:
            self.send.target.refresh()

    def _show_conflict_count(self, count: int) -> None:
        assert self.conflicts is not None
        index = self.tabs.indexOf(self.conflicts)
        self.tabs.setTabText(index, f"数据冲突（{count}）" if count else "数据冲突")
