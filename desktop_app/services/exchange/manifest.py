"""What a bundle says about itself: the signed manifest, the clear header made from it, and the
check that the two agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from desktop_app import __version__
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode


def manifest(
    kind: str,
    bundle_id: str,
    now: datetime,
    from_site: dict[str, Any],
    to_site: dict[str, Any],
    **fields: Any,
) -> dict[str, Any]:
    """A bundle's manifest (signed): what every kind starts with, then ``fields``."""
    return {
        "format": bf.FORMAT,
        "kind": kind,
        "bundle_id": bundle_id,
        "app_version": __version__,
        "created_at": now.isoformat(timespec="seconds"),
        "from_site": from_site,
        "to_site": to_site,
        **fields,
    }


def header(manifest: dict[str, Any]) -> dict[str, Any]:
    """The bundle's clear header, made from its manifest: the importer refuses a header that
    does not match the manifest (``check_manifest``)."""
    return {
        "kind": manifest["kind"],
        "bundle_id": manifest["bundle_id"],
        "from_site": manifest["from_site"]["code"],
        "to_site": manifest["to_site"]["code"],
        "created_at": manifest["created_at"],
    }


def check_manifest(manifest: dict[str, Any], header: bf.Header, name: str) -> None:
    site = manifest.get("from_site")
    to = manifest.get("to_site")
    if (
        manifest.get("bundle_id") != header.bundle_id
        or manifest.get("kind") != header.kind
        or not isinstance(site, dict)
        or site.get("code") != header.from_site
        or not isinstance(to, dict)
        or to.get("code") != header.to_site
    ):
        raise BundleRefused(
            RefusalCode.TAMPERED, f"数据包“{name}”的文件头与签名的清单不一致，拒绝导入。"
        )
    version = manifest.get("format")
    if isinstance(version, int) and version > bf.FORMAT:
        raise BundleRefused(RefusalCode.TOO_NEW, f"数据包“{name}”的格式较新，请先升级本软件。")


def audit_head(value: str | None) -> dict[str, Any] | None:
    """The audit chain's newest entry (``id:hash``), so the city can see the chain only grows."""
    if not value or ":" not in value:
        return None
    entry_id, entry_hash = value.split(":", 1)
    return {"id": int(entry_id) if entry_id.isdigit() else entry_id, "hash": entry_hash}


def parse_time(value: object) -> datetime | None:
    """A time as a manifest or an acknowledgement writes it; None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
