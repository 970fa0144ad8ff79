"""已登记站点: the sites whose bundles this site accepts, and revoking one.

It listens to the change hub itself: only a change of sites (registered, replaced, revoked, a
bundle received from one) concerns it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QPushButton, QVBoxLayout, QWidget

from desktop_app.domain.permissions import Permission
from desktop_app.services.context import Changes
from desktop_app.services.exchange import TrustedSite
from desktop_app.ui.common import UiContext
from desktop_app.ui.exchange.data import SITE_COLUMNS, site_values
from desktop_app.ui.exchange.widgets import (
    RED_BRUSH,
    Busy,
    Section,
    cell,
    hint,
    log_failure,
    selected_key,
    set_row,
    table,
)
from desktop_app.ui.operations import Action, Query


class SitesTab(Section):
    """The 已登记站点 tab: code, name, fingerprint and state of each registered site."""

    told = Signal(str)  # what was done, for the page's message line

    def __init__(self, context: UiContext, page: QWidget, busy: Busy) -> None:
        super().__init__(context, page, busy)
        self._can_trust = self._actor.can(Permission.TRUST_SITES)
        self.sites: list[TrustedSite] = []
        layout = QVBoxLayout(self)
        self.sites_table = table(SITE_COLUMNS, 1)
        self.sites_table.itemSelectionChanged.connect(self.update_buttons)
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
        row.addWidget(hint("登记新站点或对方更换密钥：点上方“登记站点…”，并电话核对指纹。"), 1)
        layout.addLayout(row)
        self.update_buttons()

    def concerns(self, changes: Changes) -> bool:
        return changes.site

    def _load(self) -> None:
        sync = self._services.sync
        Query(self._context.runner, self, sync.trusted_sites, self._show).failure(
            log_failure("the registered sites")
        ).finished(self._load_finished).run()

    def _show(self, sites: list[TrustedSite]) -> None:
        self._loaded = True
        self.sites = sites
        widget = self.sites_table
        widget.setRowCount(len(sites))
        for row, site in enumerate(sites):
            set_row(widget, row, site_values(site), site.code)
            if site.state == "revoked":
                cell(widget, row, 4).setForeground(RED_BRUSH)
        self.update_buttons()

    def update_buttons(self) -> None:
        self.revoke_button.setEnabled(
            self._can_trust and not self._busy.active and self.selected_site() is not None
        )

    def selected_site(self) -> TrustedSite | None:
        code = selected_key(self.sites_table)
        if code is None:
            return None
        return next((s for s in self.sites if s.code == code), None)

    def revoke_selected(self) -> None:
        site = self.selected_site()
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
        # Its sentence shows under the identity; this list reloads from the hub.
        Action(
            self._context,
            self,
            lambda: (services.sync.revoke(actor, site.code, reason.strip()), Changes(site=True)),
        ).success(lambda outcome: self.told.emit(outcome[0])).run()
