"""Whether a bundle is let in, decided before anything is decrypted: from its clear header, this
site and the sender as the database holds them. Pure: the importer reads that state, asks
``admit`` and acts on the verdict, so every rule here is tested with plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.services.exchange.sites import TRUSTED, SiteView


class Fate(StrEnum):
    IMPORT = "import"
    ALREADY_IMPORTED = "already_imported"  # changes nothing; its acknowledgement is written again
    REFUSE = "refuse"


@dataclass(frozen=True)
class PreviousImport:
    """This bundle, imported before: when, and what it held (its acknowledgement among it)."""

    processed_at: datetime | None
    counts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalState:
    """This site as the importer read it."""

    code: str
    level: str
    previous: PreviousImport | None = None


@dataclass(frozen=True)
class Admission:
    """A bundle's fate. A bundle let in (``IMPORT`` or ``ALREADY_IMPORTED``) is acted on only
    once its signature verifies with ``signing_key``: a forged copy of an imported bundle is
    refused, not taken for a repeat."""

    fate: Fate
    from_name: str = ""  # the sender's name once it is known to be registered
    signing_key: bytes = b""
    code: RefusalCode | None = None
    message: str = ""
    previous: PreviousImport | None = None

    def refusal(self) -> BundleRefused:
        """The error a refused bundle is reported with."""
        if self.code is None:
            raise ValueError(f"a bundle to {self.fate} is not refused")
        return BundleRefused(self.code, self.message)


def admit(
    header: bf.Header, local: LocalState, sender: SiteView | None, *, file_name: str
) -> Admission:
    """Decide from what was read whether the bundle named ``file_name`` may be imported here."""

    def refuse(code: RefusalCode, message: str, from_name: str = "") -> Admission:
        return Admission(Fate.REFUSE, from_name=from_name, code=code, message=message)

    if header.kind == "data":
        if local.level != SiteLevel.CITY.value:
            return refuse(
                RefusalCode.WRONG_KIND, "这是县区上报的数据包，应在市级站点导入；本站点是县区级。"
            )
        if header.to_site != local.code:
            return refuse(
                RefusalCode.NOT_ADDRESSED,
                f"数据包是发给站点 {header.to_site} 的，不是本站点（{local.code}），拒绝导入。",
            )
    else:
        if local.level != SiteLevel.COUNTY.value:
            return refuse(RefusalCode.WRONG_KIND, "这是市级下发的基础数据包，应在县区站点导入。")
        if header.to_site != "*":
            return refuse(RefusalCode.TAMPERED, f"数据包“{file_name}”的文件头已损坏。")
    if sender is None or not sender.signing_public_key:
        return refuse(
            RefusalCode.UNKNOWN_SITE,
            f"数据包来自未登记的站点 {header.from_site}：请先登记该站点的身份文件"
            "（bbcs keys trust），并电话核对指纹。",
        )
    name = sender.name
    if sender.trust_state != TRUSTED:
        return refuse(
            RefusalCode.REVOKED_SITE,
            f"站点“{sender.name}”（{sender.code}）的密钥已被吊销，拒绝导入它的数据包。",
            name,
        )
    if header.kind == "data" and sender.level != SiteLevel.COUNTY.value:
        return refuse(RefusalCode.WRONG_KIND, "只接收县区站点上报的数据包。", name)
    if header.kind == "reference" and sender.level != SiteLevel.CITY.value:
        return refuse(RefusalCode.WRONG_KIND, "只接收市级站点下发的基础数据包。", name)
    if header.kind == "data" and header.encryption.get("algorithm") != bf.ENCRYPTION_ALGORITHM:
        return refuse(RefusalCode.TAMPERED, f"数据包“{file_name}”未加密，拒绝导入。", name)
    signing_key = bf.b64decode(sender.signing_public_key)
    if signing_key is None:
        return refuse(
            RefusalCode.UNKNOWN_SITE, f"站点 {sender.code} 登记的公钥无效，请重新登记该站点。", name
        )
    if local.previous is not None:
        return Admission(
            Fate.ALREADY_IMPORTED, from_name=name, signing_key=signing_key, previous=local.previous
        )
    return Admission(Fate.IMPORT, from_name=name, signing_key=signing_key)
