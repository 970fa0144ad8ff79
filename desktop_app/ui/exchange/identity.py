"""本站身份: this site's name and key fingerprint, its identity file, and registering other sites.

It listens to the change hub itself: only a change of sites (keys registered, replaced or
revoked) concerns its fingerprint. Its message line also tells what the other sections did
(a period saved, a site revoked), through ``tell``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.services.context import Changes
from desktop_app.services.exchange import TrustedSite
from desktop_app.services.keys import PublicIdentity
from desktop_app.services.site import SiteInfo
from desktop_app.ui.common import Card, UiContext
from desktop_app.ui.exchange.data import IDENTITY_FILTER, load_fingerprint, read_identity_to_trust
from desktop_app.ui.exchange.dialogs import trust_prompt
from desktop_app.ui.exchange.widgets import (
    Busy,
    FileDialogs,
    Section,
    log_failure,
    message_label,
    show_message,
)
from desktop_app.ui.operations import Action, Query


class IdentityCard(Section):
    """The 本站身份 card: who this site is, and the way other sites' keys come in."""

    def __init__(
        self,
        context: UiContext,
        page: QWidget,
        busy: Busy,
        site: SiteInfo,
        dialogs: FileDialogs,
    ) -> None:
        super().__init__(context, page, busy)
        self.site = site
        self.is_city = site.level is SiteLevel.CITY
        self.dialogs = dialogs
        self._can_trust = self._actor.can(Permission.TRUST_SITES)
        self.fingerprint = ""
        self.trust_prompt: QMessageBox | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        card = Card("本站身份")
        outer.addWidget(card)
        row = QHBoxLayout()
        text = QVBoxLayout()
        self.identity_label = QLabel(f"{site.name}（{site.code}，{site.level.label}）")
        self.identity_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.identity_label)
        self.fingerprint_label = QLabel("指纹：…")
        self.fingerprint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint_label.setToolTip("登记对方站点时，请电话逐组核对双方的指纹")
        text.addWidget(self.fingerprint_label)
        row.addLayout(text, 1)
        self.export_identity_button = QPushButton("导出本站身份文件…")
        self.export_identity_button.setToolTip(
            "把本站公钥存为文件，交给"
            + ("各县区" if self.is_city else "市级")
            + "窗口登记（不含私钥，可以放心传递）"
        )
        self.export_identity_button.clicked.connect(self.export_identity)
        row.addWidget(self.export_identity_button)
        self.trust_button = QPushButton("登记站点…")
        self.trust_button.setToolTip(
            "导入" + ("县区" if self.is_city else "市级") + "站点的身份文件"
            if self._can_trust
            else "只有管理员可以登记站点"
        )
        self.trust_button.clicked.connect(self.trust_site)
        row.addWidget(self.trust_button)
        card.body.addLayout(row)
        self.identity_message = message_label()
        card.body.addWidget(self.identity_message)
        self.update_buttons()

    def concerns(self, changes: Changes) -> bool:
        return changes.site

    def _load(self) -> None:
        services = self._services
        Query(self._context.runner, self, lambda: load_fingerprint(services), self._show).failure(
            log_failure("the fingerprint")
        ).finished(self._load_finished).run()

    def _show(self, fingerprint: str) -> None:
        self._loaded = True
        self.fingerprint = fingerprint
        self.fingerprint_label.setText(f"指纹：{fingerprint}　（电话核对时逐组念出）")

    def update_buttons(self) -> None:
        busy = self._busy.active
        self.trust_button.setEnabled(self._can_trust and not busy)
        self.export_identity_button.setEnabled(not busy)

    def tell(self, text: str) -> None:
        """Something done on the page, said under the identity (in green)."""
        show_message(self.identity_message, True, text)

    # Identity file ----------------------------------------------------------------------------

    def export_identity(self) -> None:
        site = self.site
        suggested = f"{site.code}-{site.name}-身份.json"
        path = self.dialogs.save_file(self, "导出本站身份文件", suggested, IDENTITY_FILTER)
        if not path:
            return
        services = self._services

        def done(identity: PublicIdentity) -> None:
            self.tell(
                f"已导出本站身份文件 {path}（指纹 {identity.fingerprint()}）。"
                "对方登记时，请电话核对这个指纹。"
            )

        Action(self._context, self, lambda: services.sync.write_identity(Path(path))).success(
            done
        ).run()

    # Registering a site -----------------------------------------------------------------------

    def trust_site(self) -> None:
        path = self.dialogs.open_file(
            self,
            "选择" + ("县区" if self.is_city else "市级") + "站点的身份文件",
            IDENTITY_FILTER,
        )
        if not path:
            return
        services = self._services
        Query(
            self._context.runner,
            self,
            lambda: read_identity_to_trust(services, Path(path)),
            lambda outcome: self._ask_to_trust(*outcome),
        ).run()

    def _ask_to_trust(self, identity: PublicIdentity, known: TrustedSite | None) -> None:
        new = identity.fingerprint()
        replace = known is not None and (known.fingerprint != new or known.state == "revoked")
        if known is not None and not replace:
            who = f"“{identity.site_name}”（{identity.site_code}）"
            self.tell(f"{who}已登记，公钥相同，无需更改。")
            return
        box, confirm = trust_prompt(self, identity, known, replace)
        self.trust_prompt = box

        def answered(_result: int) -> None:
            self.trust_prompt = None
            if box.clickedButton() is confirm:
                self._trust(identity, replace)

        box.finished.connect(answered)
        box.open()

    def _trust(self, identity: PublicIdentity, replace: bool) -> None:
        services, actor = self._services, self._actor
        # Its sentence shows under the identity; the sites' list reloads from the hub.
        Action(
            self._context,
            self,
            lambda: (services.sync.trust(actor, identity, replace=replace), Changes(site=True)),
        ).success(lambda outcome: self.tell(outcome[0])).run()
