"""Sites that exchange bundles: counties and a city in temp dirs, and crafted bundles.

Everything is real: each site has its own data dir, database, keys and attachment store; trust
is registered from the identity each site exports, exactly as ``bbcs keys trust`` does.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tempfile
import warnings
import zipfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import zstandard
from argon2 import PasswordHasher
from sqlalchemy import text

from desktop_app.domain.vocabulary import Role, SiteLevel
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.exchange import bundle_file as bf
from tests.helpers.factories import ADMIN_PASSWORD
from tests.helpers.speed import CHEAP_HASHER

CITY = ("410200", "开封市办不成事监督窗口", "开封", SiteLevel.CITY)
QIXIAN = ("410221", "杞县办不成事监督窗口", "杞县", SiteLevel.COUNTY)
TONGXU = ("410222", "通许县办不成事监督窗口", "通许", SiteLevel.COUNTY)
WEISHI = ("410223", "尉氏县办不成事监督窗口", "尉氏", SiteLevel.COUNTY)

# An administrator of every site (services check the role and audit the name).
ADMIN = Actor(None, "admin", "管理员", Role.ADMIN)
# Signing stays with the duty leaders (三员分立): the administrator does not sign slips.
LEADER = Actor(None, "leader1", "潘险峰", Role.DUTY_LEADER)


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
    hasher: PasswordHasher = CHEAP_HASHER,
) -> Iterator[Site]:
    code, name, short, level = spec
    data_dir = root / (folder or f"{short} 数据")
    services = open_services(data_dir, clock=clock, db_url=db_url, hasher=hasher)
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
        "referrals",
        "issue_classes",
        "meetings",
        "meeting_items",
        "cause_codes",
        "bundles",
        "sync_conflicts",
        "audit_log",
    )
    with site.services.db.read() as session:
        return {t: int(session.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in tables}


BUNDLE_ID = "6f1c0a52-1d2b-4c1e-9a55-0b6f3c2d1e00"

# A member as ``craft_bundle`` takes it: (name, bytes) or (name, bytes, extra manifest fields),
# the latter e.g. the ``unpacked_size``/``packing`` that ``records_member`` returns.
Member = tuple[str, bytes] | tuple[str, bytes, dict[str, Any]]


def craft_bundle(
    path: Path,
    sender: Site,
    recipient: Site,
    members: Sequence[Member],
    *,
    manifest: dict[str, Any] | None = None,
    declared: dict[str, dict[str, Any]] | None = None,
    header: dict[str, Any] | None = None,
    sign_with: Site | None = None,
    bundle_id: str = BUNDLE_ID,
    stored: Collection[str] = (bf.RECORDS_MEMBER,),
) -> Path:
    """A data bundle built by hand: ``members`` go into the ZIP as given (any names, even
    duplicates), the manifest lists them with their size and SHA-256 plus a member's extra fields
    (``declared`` then overrides any of a member's entry) and is signed by ``sign_with`` (default:
    the sender), then encrypted to the recipient like a real one.

    Members named in ``stored`` go into the ZIP uncompressed, as export stores the packed records
    file; the rest are deflated. ``bundle_id`` goes into the manifest and the header: a bundle the
    city has imported once is only ever "already imported" after that."""
    listed = []
    entries: list[tuple[str, bytes]] = []
    for member in members:
        name, data = member[0], member[1]
        entry = {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        if len(member) == 3:
            entry.update(member[2])
        entry.update((declared or {}).get(name, {}))
        listed.append(entry)
        entries.append((name, data))
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
            for name, data in entries:
                method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
                archive.writestr(name, data, compress_type=method)
            archive.writestr(bf.MANIFEST, manifest_bytes)
            archive.writestr(bf.SIGNATURE, signer.services.keys.sign(manifest_bytes))
    return seal(
        path,
        sender,
        recipient,
        buffer.getvalue(),
        header={"bundle_id": bundle_id} | (header or {}),
        sign_with=sign_with,
    )


def seal(
    path: Path,
    sender: Site,
    recipient: Site,
    archive: bytes,
    *,
    header: dict[str, Any] | None = None,
    sign_with: Site | None = None,
) -> Path:
    """Encrypt a (possibly broken) payload archive to the recipient and sign the file exactly
    as export does (with the sender's keys unless ``sign_with``)."""
    buffer = io.BytesIO(archive)
    head = {
        "kind": "data",
        "bundle_id": BUNDLE_ID,
        "from_site": sender.code,
        "to_site": recipient.code,
        "created_at": "2026-11-25T09:30:00",
    }
    head.update(header or {})
    key = bf.b64decode(recipient.services.keys.encryption_public_key())
    assert key is not None
    signer = (sign_with or sender).services.keys
    sealed = bf.seal_payload(head, buffer, bf.Recipient(recipient.code, key), signer)
    try:
        with path.open("wb") as out:
            bf.write_container(out, sealed)
    finally:
        sealed.close()
    return path


# Records files -------------------------------------------------------------------------------

# Per table: (columns, rows), values in SQLite storage form as a bundle carries them.
Tables = dict[str, tuple[list[str], list[list[Any]]]]


def _stored(value: Any) -> Any:
    """dict/list as JSON text and datetimes as SQLAlchemy stores them on SQLite; the rest as is
    (so a test can still put any text, e.g. broken JSON or a "T" datetime, into a column)."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}"
    return value


def write_records_file(
    path: Path,
    tables: Tables,
    *,
    search: Sequence[tuple[str, str]] | None = None,
    extra_sql: Sequence[str] = (),
) -> Path:
    """A records file as export writes it: one table per synced table, created without declared
    types, rows in order; ``search`` adds the ``case_search(uuid, body)`` table and ``extra_sql``
    runs last (views, triggers, indexes, changed values...)."""
    with closing(sqlite3.connect(path)) as db:
        for name, (columns, rows) in tables.items():
            names = ", ".join(f'"{c}"' for c in columns)
            db.execute(f'CREATE TABLE "{name}" ({names})')
            marks = ", ".join("?" * len(columns))
            db.executemany(
                f'INSERT INTO "{name}" VALUES ({marks})', [[_stored(v) for v in r] for r in rows]
            )
        if search is not None:
            db.execute('CREATE TABLE "case_search" ("uuid", "body")')
            db.executemany("INSERT INTO case_search VALUES (?, ?)", list(search))
        for statement in extra_sql:
            db.execute(statement)
        db.commit()
    return path


def pack(data: bytes) -> tuple[bytes, dict[str, Any]]:
    """Zstandard-pack ``data``; returns the packed bytes and the manifest fields that go with
    them (``unpacked_size``, ``packing``)."""
    return zstandard.ZstdCompressor().compress(data), {
        "unpacked_size": len(data),
        "packing": "zstd",
    }


def records_member(
    tables: Tables,
    *,
    search: Sequence[tuple[str, str]] | None = None,
    extra_sql: Sequence[str] = (),
) -> tuple[bytes, dict[str, Any]]:
    """The packed records member (``records/data.sqlite.zst``) holding ``tables`` and the extra
    manifest entry fields for it: ``craft_bundle(..., [(bf.RECORDS_MEMBER, *records_member(t))])``.
    """
    with tempfile.TemporaryDirectory(prefix="bbcs-test-") as scratch:
        path = write_records_file(
            Path(scratch) / "records.sqlite", tables, search=search, extra_sql=extra_sql
        )
        return pack(path.read_bytes())


@dataclass
class Records:
    """What a real bundle carries, read back: its signed manifest, the tables of its records
    file (columns and rows in storage form), the search text if any, and the other members
    (the attachment files) as (name, bytes)."""

    manifest: dict[str, Any]
    tables: Tables = field(default_factory=dict)
    search: list[tuple[str, str]] | None = None
    files: list[tuple[str, bytes]] = field(default_factory=list)
    page_size: int = 0  # of the records file as sent

    def rows(self, table: str) -> list[dict[str, Any]]:
        columns, rows = self.tables[table]
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def member(self, **changes: Any) -> tuple[bytes, dict[str, Any]]:
        """The records member again (``records_member``), e.g. after changing ``tables``."""
        return records_member(self.tables, search=self.search, **changes)


def read_records(bundle: Path, recipient: Site) -> Records:
    """Decrypt a real data bundle with the recipient's keys and read its records file."""
    header = bf.read_header(bundle)
    with (
        open_signed_payload(bundle, header, recipient) as plain,
        zipfile.ZipFile(plain) as archive,
    ):
        manifest = json.loads(archive.read(bf.MANIFEST))
        packed = archive.read(bf.RECORDS_MEMBER)
        files = [
            (name, archive.read(name))
            for name in archive.namelist()
            if name not in (bf.MANIFEST, bf.SIGNATURE, bf.RECORDS_MEMBER)
        ]
    raw = zstandard.ZstdDecompressor().decompressobj().decompress(packed)
    # SQLite's header keeps the page size at offset 16, big-endian; 1 stands for 65536.
    page_size = int.from_bytes(raw[16:18])
    records = Records(manifest, files=files, page_size=65536 if page_size == 1 else page_size)
    with tempfile.TemporaryDirectory(prefix="bbcs-test-") as scratch:
        path = Path(scratch) / "records.sqlite"
        path.write_bytes(raw)
        with closing(sqlite3.connect(path)) as db:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master ORDER BY rowid")]
            for name in names:
                columns = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
                rows = [list(r) for r in db.execute(f'SELECT * FROM "{name}" ORDER BY rowid')]
                if name == "case_search":
                    records.search = [(u, b) for u, b in rows]
                else:
                    records.tables[name] = (columns, rows)
    return records


def open_signed_payload(
    bundle: Path, header: bf.Header, recipient: Site
) -> AbstractContextManager[IO[bytes]]:
    """The decrypted payload of a bundle, checked against the signing key its header names
    (a test knows who made it; the importer checks the registered key instead)."""
    signer = bf.b64decode(header.data.get("signer"))
    assert signer is not None
    return bf.open_payload(bundle, header, signer, recipient.services.keys.decryption_keys())


def rewrite_header(path: Path, **changes: Any) -> None:
    """Change fields of a bundle's plain header in place (signature and body left as they
    were)."""
    header = bf.read_header(path)
    data = path.read_bytes()
    new = json.dumps(header.data | changes, ensure_ascii=False, sort_keys=True).encode("utf-8")
    rest = data[header.body_offset - bf.SIGNATURE_BYTES :]
    path.write_bytes(bf.MAGIC + len(new).to_bytes(4, "big") + new + rest)
