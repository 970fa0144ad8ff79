"""Sites that exchange bundles: counties and a city in temp dirs, and crafted bundles.

Everything is real: each site has its own data dir, database, keys and attachment store; trust
is registered from the identity each site exports, exactly as ``bbcs keys trust`` does.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.services import bundle_file as bf
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.context import Actor, FixedClock
from tests.helpers.factories import ADMIN_PASSWORD

CITY = ("410200", "开封市办不成事监督窗口", "开封", SiteLevel.CITY)
QIXIAN = ("410221", "杞县办不成事监督窗口", "杞县", SiteLevel.COUNTY)
TONGXU = ("410222", "通许县办不成事监督窗口", "通许", SiteLevel.COUNTY)
WEISHI = ("410223", "尉氏县办不成事监督窗口", "尉氏", SiteLevel.COUNTY)

ADMIN = Actor.command_line()


@dataclass
class Site:
    services: AppServices
    code: str
    name: str
    data_dir: Path

    @property
    def sync(self) -> Any:
        return self.services.sync


@contextmanager
def open_site(
    root: Path,
    spec: tuple[str, str, str, SiteLevel],
    clock: FixedClock,
    *,
    db_url: str | None = None,
    folder: str | None = None,
) -> Iterator[Site]:
    code, name, short, level = spec
    data_dir = root / (folder or f"{short} 数据")
    services = open_services(data_dir, clock=clock, db_url=db_url)
    try:
        services.site.init_site(
            code=code, name=name, short_name=short, level=level, admin_password=ADMIN_PASSWORD
        )
        if level is SiteLevel.COUNTY:
            admin = services.auth.login("admin", ADMIN_PASSWORD)
            services.site.save_department(
                admin, name=f"{short}医疗保障局", principal_leader="王主任"
            )
        yield Site(services, code, name, data_dir)
    finally:
        services.close()


def identity_file(site: Site, folder: Path) -> Path:
    path = folder / f"{site.code}.json"
    site.sync.write_identity(path)
    return path


def trust_each_other(county: Site, city: Site, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    county.sync.trust(ADMIN, county.sync.read_identity(identity_file(city, folder)))
    city.sync.trust(ADMIN, city.sync.read_identity(identity_file(county, folder)))


def table_counts(site: Site) -> dict[str, int]:
    tables = (
        "cases",
        "complainants",
        "case_events",
        "attachments",
        "assignments",
        "slips",
        "departments",
        "bundles",
        "sync_conflicts",
        "audit_log",
    )
    with site.services.db.read() as session:
        return {t: int(session.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in tables}


def craft_bundle(
    path: Path,
    sender: Site,
    recipient: Site,
    members: list[tuple[str, bytes]],
    *,
    manifest: dict[str, Any] | None = None,
    declared: dict[str, dict[str, Any]] | None = None,
    header: dict[str, Any] | None = None,
    sign_with: Site | None = None,
) -> Path:
    """A data bundle built by hand: ``members`` go into the ZIP as given (any names, even
    duplicates), the manifest lists them (``declared`` overrides a member's entry) and is signed
    by ``sign_with`` (default: the sender), then encrypted to the recipient like a real one."""
    listed = []
    for name, data in members:
        entry = {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        entry.update((declared or {}).get(name, {}))
        listed.append(entry)
    bundle_id = "6f1c0a52-1d2b-4c1e-9a55-0b6f3c2d1e00"
    body = {
        "format": bf.FORMAT,
        "kind": "data",
        "bundle_id": bundle_id,
        "created_at": "2026-11-25T09:30:00",
        "from_site": {"code": sender.code, "name": sender.name, "level": "county"},
        "to_site": {"code": recipient.code, "name": recipient.name},
        "generation": 1,
        "base_generation": 0,
        "members": listed,
    }
    body.update(manifest or {})
    manifest_bytes = json.dumps(body, ensure_ascii=False).encode("utf-8")
    signer = sign_with or sender
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names: that's the point
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members:
                archive.writestr(name, data)
            archive.writestr(bf.MANIFEST, manifest_bytes)
            archive.writestr(bf.SIGNATURE, signer.services.keys.sign(manifest_bytes))
    return seal(path, sender, recipient, buffer.getvalue(), header=header)


def seal(
    path: Path,
    sender: Site,
    recipient: Site,
    archive: bytes,
    *,
    header: dict[str, Any] | None = None,
) -> Path:
    """Encrypt a (possibly broken) payload archive to the recipient exactly as export does."""
    buffer = io.BytesIO(archive)
    bundle_id = "6f1c0a52-1d2b-4c1e-9a55-0b6f3c2d1e00"
    head = {
        "kind": "data",
        "bundle_id": bundle_id,
        "from_site": sender.code,
        "to_site": recipient.code,
        "created_at": "2026-11-25T09:30:00",
    }
    head.update(header or {})
    key = bf.b64decode(recipient.services.keys.encryption_public_key())
    assert key is not None
    with path.open("wb") as out:
        bf.write_container(out, head, buffer, bf.Recipient(recipient.code, key))
    return path


def records_member(table: str, columns: list[str], rows: list[list[Any]]) -> bytes:
    lines = [json.dumps({"table": table, "columns": columns, "refs": {}})]
    lines += [json.dumps(r, ensure_ascii=False) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def rewrite_header(path: Path, **changes: Any) -> None:
    """Change fields of a bundle's plain header in place (the body is left as it was)."""
    header = bf.read_header(path)
    data = path.read_bytes()
    new = json.dumps(header.data | changes, ensure_ascii=False, sort_keys=True).encode("utf-8")
    body = data[header.body_offset :]
    path.write_bytes(bf.MAGIC + len(new).to_bytes(4, "big") + new + body)
