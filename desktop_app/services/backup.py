"""Backups, retention, restore and the recovery key (issue 15 items 1, 2, 12).

A backup is a consistent copy of the live SQLite database (the sqlite3 backup API), written under
a temporary ``.part`` name in the folder it ends up in and given its final name only when it is
complete: a failed backup leaves nothing behind, and a name already taken (two backups in the
same second) is never overwritten (``os.link`` refuses an existing name).

Backups inside the data dir (``backups/``) stay plain SQLite: the data dir is the protection.
A backup anywhere else (``bbcs backup --to E:\\``, the optional second copy) holds personal data
on a stick or a share, so it is encrypted with :mod:`desktop_app.services.stream_crypto` to the
site's own X25519 key; a restore opens it with the site's keys or a recovery key.

Every backup this program writes carries a keyed MAC in a sidecar ``<backup name>.mac``
(HMAC-SHA256 with the data key's ``backup-mac`` subkey over the SHA-256 of the *database bytes*,
i.e. the plain SQLite file; for a ``.bbcsbak`` the bytes it decrypts to). The sidecar is placed
before the backup, so no backup of ours is ever visible without it. Restore refuses a backup
whose MAC is missing or wrong unless told ``unverified``: a backup edited with sqlite3, or one
forged by encrypting to the site's *public* key, would otherwise have its chain re-anchored and
the tampering laundered. The MAC is over the plain bytes, not the ciphertext, so one rule covers
both kinds and restore checks exactly what it is about to swap in (it decrypts into a temporary
copy anyway); age's own authentication already covers the ciphertext.

Backup names carry the site code (``bbcs-410221-daily-20261206-080000.db``; older names without
it are still read), so several sites sharing one second folder never prune each other's.

Automatic backups (at the first start of each day, before an import) are pruned by the
retention rule (7 daily, 4 weekly, 12 monthly by default) and a size cap that removes the oldest
first; the newest backup is never pruned, and neither is any ``manual``, ``pre-restore`` (the
only copy of what a restore replaced) or ``before-upgrade`` backup.

Restore never opens the database being replaced through the application: the current database
is kept as a ``pre-restore`` backup, its write-ahead log is folded in and removed (a stale
``-wal`` left by a crash would otherwise be replayed onto the restored file), and the checked
copy is swapped in with ``os.replace`` from the same folder. It runs under the data dir's writer
lock; the window restores by closing its own session first (``ui/backup_page.py``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from desktop_app.domain import settings as declared
from desktop_app.domain.permissions import Permission
from desktop_app.errors import EnvironmentProblem, UserError
from desktop_app.files import fsync_dir, size_text
from desktop_app.paths import DataLayout
from desktop_app.services import audit, integrity, settings
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.data_key import DataKey
from desktop_app.services.keys import SiteKeys
from desktop_app.storage.database import SCHEMA_HEAD, Database

if TYPE_CHECKING:
    from desktop_app.services.data_key import KeyProtector

log = logging.getLogger(__name__)

PLAIN_SUFFIX: Final = "db"
ENCRYPTED_SUFFIX: Final = "bbcsbak"
SQLITE_MAGIC: Final = b"SQLite format 3\x00"
MAC_SUFFIX: Final = "mac"
MAC_FORMAT: Final = 1
MAC_PURPOSE: Final = "backup-mac"
UNVERIFIED_REFUSAL: Final = "备份没有本站点的校验值（或校验值不符），可能被改动过，未恢复"
# Kinds never pruned automatically: someone asked for it, or it is the only copy of what a
# restore replaced or of the schema before an upgrade.
KEPT_KINDS: Final = frozenset({"manual", "pre-restore", "before-upgrade"})
# bbcs-[<site>-]<kind>[-<schema>]-<YYYYmmdd-HHMMSS>[-<n>].<db|bbcsbak>; names written before
# the site code was in them, and the migration's own (bbcs-before-upgrade-0007-…), read with it.
_NAME = re.compile(
    r"^bbcs-(?:(?P<site>\d{6})-)?(?P<kind>[a-z]+(?:-[a-z]+)*)-(?:(?P<schema>\d{4})-)?"
    r"(?P<stamp>\d{8}-\d{6})(?:-(?P<n>\d+))?\.(?P<ext>db|bbcsbak)$"
)
KIND_LABELS: Final = {
    "daily": "每日自动",
    "manual": "手动",
    "import": "导入前",
    "before-upgrade": "升级前",
    "pre-restore": "恢复前",
}
_COPY_BLOCK = 1024 * 1024


# What a backup is ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupInfo:
    """One backup file, as its name and size tell it."""

    path: Path
    kind: str
    at: datetime
    size: int
    encrypted: bool
    site_code: str | None = None  # None: a name written before the site code was in it

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def size_label(self) -> str:
        return size_text(self.size)


@dataclass(frozen=True)
class BackupResult:
    """A backup written: where, how long it took, and what retention removed."""

    backup: BackupInfo
    seconds: float
    pruned: tuple[Path, ...] = ()
    second_copy: Path | None = None
    warnings: tuple[str, ...] = ()
    changes: Changes = field(default_factory=Changes)

    def summary(self) -> str:
        lines = [
            f"已备份到 {self.backup.path}（{self.backup.size_label}，备份用时 {self.seconds:.1f} 秒"
            + ("，已加密" if self.backup.encrypted else "")
            + "）"
        ]
        if self.second_copy is not None:
            lines.append(f"另存一份到 {self.second_copy}")
        if self.pruned:
            lines.append(f"按保留规则删除了 {len(self.pruned)} 份旧备份")
        lines += [f"注意：{w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass(frozen=True)
class BackupSettings:
    keep_daily: int
    keep_weekly: int
    keep_monthly: int
    size_cap_mb: int
    second_folder: str


def parse_name(path: Path) -> tuple[str, datetime] | None:
    match = _NAME.match(path.name)
    if match is None:
        return None
    try:
        at = datetime.strptime(match["stamp"], "%Y%m%d-%H%M%S")
    except ValueError:
        return None
    return match["kind"], at


def list_backups(folder: Path) -> list[BackupInfo]:
    """The backups in ``folder``, newest first (files named otherwise are not ours)."""
    found: list[BackupInfo] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for path in entries:
        parsed = parse_name(path)
        if parsed is None:
            continue
        try:
            size = path.stat().st_size
        except OSError:
            continue
        kind, at = parsed
        match = _NAME.match(path.name)
        site = match["site"] if match else None
        found.append(BackupInfo(path, kind, at, size, path.suffix == f".{ENCRYPTED_SUFFIX}", site))
    found.sort(key=lambda b: (b.at, _sequence(b.path)), reverse=True)
    return found


def _sequence(path: Path) -> int:
    match = _NAME.match(path.name)
    return int(match["n"]) if match and match["n"] else 1


# Retention ----------------------------------------------------------------------------------


def to_prune(
    backups: Sequence[BackupInfo],
    *,
    daily: int,
    weekly: int,
    monthly: int,
    size_cap: int | None = None,
) -> list[BackupInfo]:
    """What the retention rule removes from ``backups`` (newest first).

    Kept: the newest backup of each of the last ``daily`` days that have one, of the last
    ``weekly`` ISO weeks and of the last ``monthly`` months (the rule of restic's ``forget``),
    and the newest of each kind (the last one before an import). Then, while the kept ones
    together exceed ``size_cap`` bytes, the oldest go — never the newest. Backups of the
    :data:`KEPT_KINDS` are never returned (manual, pre-restore, before-upgrade): they stay until
    someone deletes them.
    """
    ordered = sorted(
        (b for b in backups if b.kind not in KEPT_KINDS),
        key=lambda b: (b.at, _sequence(b.path)),
        reverse=True,
    )
    if not ordered:
        return []
    keep: set[Path] = {ordered[0].path}
    for kind in {b.kind for b in ordered}:  # e.g. the last one before an import, a restore
        keep.add(next(b.path for b in ordered if b.kind == kind))
    buckets: tuple[tuple[int, Any], ...] = (
        (daily, lambda at: at.date()),
        (weekly, lambda at: at.isocalendar()[:2]),
        (monthly, lambda at: (at.year, at.month)),
    )
    for count, bucket in buckets:
        seen: set[object] = set()
        for backup in ordered:
            if len(seen) >= count:
                break
            key = bucket(backup.at)
            if key not in seen:
                seen.add(key)
                keep.add(backup.path)
    kept = [b for b in ordered if b.path in keep]
    if size_cap is not None and size_cap > 0:
        total = sum(b.size for b in kept)
        for backup in reversed(kept[1:]):  # oldest first, never the newest
            if total <= size_cap:
                break
            keep.discard(backup.path)
            total -= backup.size
    return [b for b in ordered if b.path not in keep]


# Writing a backup ---------------------------------------------------------------------------


def _snapshot(db: Database, dest: Path) -> None:
    """A consistent copy of the live database into ``dest`` (a new, empty file)."""
    raw = db.engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        raw.close()


def _copy_sqlite_file(source: Path, dest: Path) -> None:
    """Copy a database file that is not open anywhere (its own WAL, if any, folded in)."""
    origin = sqlite3.connect(f"file:{source.as_posix()}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(dest)
        try:
            origin.backup(target)
        finally:
            target.close()
    finally:
        origin.close()


def scratch_file(folder: Path) -> Path:
    """A new empty ``.part`` file in ``folder`` (removed by whoever asked for it)."""
    return _part_file(folder)


def _part_file(folder: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=".bbcs-", suffix=".part", dir=folder)
    os.close(handle)
    return Path(name)


def backup_name(site_code: str | None, kind: str, at: datetime, n: int, suffix: str) -> str:
    site = f"{site_code}-" if site_code else ""
    return f"bbcs-{site}{kind}-{at:%Y%m%d-%H%M%S}{'' if n == 1 else f'-{n}'}.{suffix}"


def _claim(temp: Path, target: Path) -> None:
    """``temp`` given the name ``target``, which must not exist: FileExistsError if it does.

    A hard link refuses a taken name atomically. Where there are none (FAT on a stick, some
    shares), the name is first reserved with an exclusive create, and only our own empty
    reservation is then replaced: a rename alone would silently overwrite on POSIX.
    """
    try:
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError:
        handle = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(handle)
        os.replace(temp, target)
        return
    os.unlink(temp)


def _place(
    temp: Path,
    folder: Path,
    kind: str,
    at: datetime,
    suffix: str,
    *,
    site_code: str | None,
    mac: bytes | None,
) -> Path:
    """Give a finished ``temp`` its backup name, never taking one that exists; its MAC sidecar
    (``mac``, the sidecar's content) is placed first, so the backup never appears without it."""
    for n in range(1, 1000):
        target = folder / backup_name(site_code, kind, at, n, suffix)
        sidecar = mac_path(target)
        if target.exists() or sidecar.exists():
            continue
        if mac is not None:
            mac_part = _part_file(folder)
            try:
                _write_synced(mac_part, mac)
                try:
                    _claim(mac_part, sidecar)
                except FileExistsError:
                    continue
            finally:
                with contextlib.suppress(OSError):
                    mac_part.unlink()
        try:
            _claim(temp, target)
        except FileExistsError:
            if mac is not None:
                with contextlib.suppress(OSError):
                    sidecar.unlink()
            continue
        fsync_dir(folder)
        return target
    raise EnvironmentProblem(f"备份文件夹 {folder} 中同一秒的备份过多，请稍后再试。")


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


# The backup's MAC -----------------------------------------------------------------------------


def mac_path(backup: Path) -> Path:
    """The sidecar holding ``backup``'s MAC."""
    return backup.with_name(f"{backup.name}.{MAC_SUFFIX}")


def _file_digest(path: Path) -> bytes:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").digest()


def mac_body(database: Path, data_key: DataKey) -> bytes:
    """The sidecar content for a backup whose database bytes are those of ``database``."""
    digest = _file_digest(database)
    tag = hmac.new(data_key.subkey(MAC_PURPOSE), digest, hashlib.sha256).hexdigest()
    body = {"format": MAC_FORMAT, "sha256": digest.hex(), "mac": tag}
    return json.dumps(body, sort_keys=True).encode("ascii")


def write_mac(backup: Path, data_key: DataKey, *, database: Path | None = None) -> Path:
    """Give an existing ``backup`` its sidecar (over ``database``'s bytes, by default the
    backup's own): for backups this program made at a trusted moment without the key at hand."""
    sidecar = mac_path(backup)
    part = _part_file(backup.parent)
    try:
        _write_synced(part, mac_body(database or backup, data_key))
        os.replace(part, sidecar)
    finally:
        with contextlib.suppress(OSError):
            part.unlink()
    fsync_dir(backup.parent)
    return sidecar


def mac_verified(backup: Path, database: Path, data_key: DataKey | None) -> bool:
    """Whether ``backup``'s sidecar holds this site's MAC of ``database``'s bytes (the backup's
    database as restore would swap it in). False when either is missing or unreadable."""
    if data_key is None:
        return False
    try:
        body = json.loads(mac_path(backup).read_bytes())
        key = data_key.subkey(MAC_PURPOSE)
    except (OSError, ValueError, UserError):
        return False
    if not isinstance(body, dict) or body.get("format") != MAC_FORMAT:
        return False
    digest = _file_digest(database)
    expected = hmac.new(key, digest, hashlib.sha256).hexdigest()
    return hmac.compare_digest(str(body.get("mac", "")), expected) and hmac.compare_digest(
        str(body.get("sha256", "")), digest.hex()
    )


def remove_backup(path: Path) -> None:
    """A backup and its sidecar (OSError if the backup itself cannot be removed)."""
    path.unlink()
    with contextlib.suppress(OSError):
        mac_path(path).unlink()


def _write_problem(exc: BaseException, folder: Path) -> EnvironmentProblem:
    """A failed write told so that the person can act on it."""
    number = getattr(exc, "errno", None)
    code = getattr(exc, "sqlite_errorcode", None)
    if number in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or (
        code is not None and code & 0xFF == sqlite3.SQLITE_FULL
    ):
        return EnvironmentProblem(
            f"{folder} 所在的磁盘空间不足（或文件超过了该磁盘格式允许的大小），备份没有完成，"
            "也没有留下不完整的文件。"
            "请换一个空间足够的磁盘或U盘（U盘请用 exFAT 或 NTFS 格式）再试。"
        )
    if number in (errno.EROFS, errno.EACCES, errno.EPERM) or (
        code is not None and code & 0xFF in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM)
    ):
        return EnvironmentProblem(
            f"{folder} 是只读的或没有写入权限，备份没有完成。"
            "请检查U盘的写保护开关，或换一个可以写入的文件夹再试。"
        )
    if number in (errno.ENOTDIR, errno.EEXIST):
        return EnvironmentProblem(
            f"{folder} 不是文件夹（是一个文件），备份没有完成。--to 请写要放备份的文件夹。"
        )
    if number == errno.ENOENT:
        return EnvironmentProblem(f"找不到 {folder}，备份没有完成。请确认U盘已插好、路径写对。")
    reason = getattr(exc, "strerror", None) or str(exc)
    return EnvironmentProblem(
        f"无法把备份写到 {folder}（{reason}），备份没有完成。请换一个文件夹再试。"
    )


def _outside_folder(to: Path, root: Path) -> None:
    """A backup asked to go elsewhere (a stick, another disk) goes into a folder that exists,
    outside the data dir: one not found is not made (a stick that did not mount would have had
    the "U盘" backup on this PC's disk), and one inside the data dir is refused (the automatic
    backups are in ``backups``; anything else there would lie unencrypted beside them)."""
    if is_inside(to, root):
        raise UserError(
            f"{to} 在数据文件夹之内。备份到U盘或另一块硬盘时请选数据文件夹以外的位置；"
            "数据文件夹里的备份由程序自动保存在 backups 中。未做备份。"
        )
    if to.exists() and not to.is_dir():
        raise _write_problem(OSError(errno.ENOTDIR, "Not a directory"), to)
    if not to.is_dir():
        raise UserError(
            f"找不到文件夹 {to}，未做备份：请确认U盘已插好、路径写对（程序不会新建这个文件夹，"
            "以免U盘没插好时备份落在本机上）。"
        )


def _ready_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise _write_problem(OSError(errno.ENOTDIR, "Not a directory"), folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_problem(exc, folder) from exc


def is_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _public_raw(keys: SiteKeys) -> bytes:
    return (
        keys.encryption_private_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def _encrypt_file(plain: Path, dest: BinaryIO, recipient: bytes) -> None:
    from desktop_app.services.stream_crypto import encrypt_stream

    with plain.open("rb") as source:
        encrypt_stream(source, dest, [recipient])


def encrypt_plain_backups(folder: Path, keys: SiteKeys, data_key: DataKey | None = None) -> bool:
    """Every plain backup in ``folder`` encrypted to the site's own key, as ``backup --to``
    writes one, under the same name ending ``.bbcsbak`` (issue 15 item 11): run once, when a
    database written before sealing has just been sealed, so the backups made before it no
    longer hold numbers in clear. Each is written beside it (``.part``, fsync), renamed into
    place, and only then is the plain file removed; a crash in between leaves both, and the
    next run replaces the encrypted one and removes the plain one.

    With ``data_key``, each also gets its MAC sidecar (over its plain bytes) before it is
    placed: this is the first open after the upgrade, the trusted moment for backups made
    before MACs existed (the migration's own pre-upgrade copy among them).

    Returns False (logged) if one could not be encrypted: the caller tries again next open.
    """
    plain = [b for b in list_backups(folder) if not b.encrypted]
    if not plain:
        return True
    try:
        recipient = _public_raw(keys)
    except (UserError, OSError) as exc:
        log.warning("old backups not encrypted, the site's key cannot be read: %s", exc)
        return False
    done = True
    for backup in plain:
        if Path(f"{backup.path}-wal").exists():
            # A damaged database kept with its log (a pre-restore copy): only the two together
            # are what was kept, and nothing opens an encrypted pair.
            log.warning("backup %s kept with its -wal: left as it is", backup.path)
            continue
        started = time.perf_counter()
        target = backup.path.with_suffix(f".{ENCRYPTED_SUFFIX}")
        part: Path | None = None
        try:
            part = _part_file(folder)
            with part.open("wb") as out:
                _encrypt_file(backup.path, out, recipient)
                out.flush()
                os.fsync(out.fileno())
            if data_key is not None:
                write_mac(target, data_key, database=backup.path)
            os.replace(part, target)
            fsync_dir(folder)
            remove_backup(backup.path)
            fsync_dir(folder)
        except (OSError, UserError) as exc:
            log.warning("could not encrypt backup %s: %s", backup.path, exc)
            done = False
            continue
        finally:
            if part is not None:
                with contextlib.suppress(OSError):
                    part.unlink()
        log.info(
            "backup %s encrypted to %s in %.1f s",
            backup.path.name,
            target.name,
            time.perf_counter() - started,
        )
    return done


# The service --------------------------------------------------------------------------------


class BackupService:
    """Backups of one data dir's SQLite database, with its retention and the recovery key."""

    def __init__(
        self, db: Database, clock: Clock, layout: DataLayout, keys: SiteKeys, data_key: DataKey
    ) -> None:
        self._db = db
        self._clock = clock
        self._layout = layout
        self._keys = keys
        self._data_key = data_key
        self._site_code: str | None = None

    # Listing and settings

    def existing(self) -> list[BackupInfo]:
        """The backups in the data dir's ``backups`` folder, newest first."""
        return list_backups(self._layout.backups)

    def settings(self) -> BackupSettings:
        with self._db.read() as session:
            values = settings.read_all(session, declared.BACKUP_SETTINGS)
        return BackupSettings(
            keep_daily=values[declared.BACKUP_KEEP_DAILY.key],
            keep_weekly=values[declared.BACKUP_KEEP_WEEKLY.key],
            keep_monthly=values[declared.BACKUP_KEEP_MONTHLY.key],
            size_cap_mb=values[declared.BACKUP_SIZE_CAP_MB.key],
            second_folder=values[declared.BACKUP_SECOND_FOLDER.key],
        )

    def save_settings(self, actor: Actor, chosen: BackupSettings) -> Changes:
        values: dict[declared.Declared[Any], Any] = {
            declared.BACKUP_KEEP_DAILY: chosen.keep_daily,
            declared.BACKUP_KEEP_WEEKLY: chosen.keep_weekly,
            declared.BACKUP_KEEP_MONTHLY: chosen.keep_monthly,
            declared.BACKUP_SIZE_CAP_MB: chosen.size_cap_mb,
            declared.BACKUP_SECOND_FOLDER: chosen.second_folder.strip(),
        }
        second = chosen.second_folder.strip()
        if second and is_inside(Path(second), self._layout.root):
            from desktop_app.errors import ValidationFailed

            raise ValidationFailed(
                {declared.BACKUP_SECOND_FOLDER.key: "第二份备份应放在数据目录以外（另一个磁盘）"}
            )
        if second and not Path(second).is_dir():
            from desktop_app.errors import ValidationFailed

            raise ValidationFailed(
                {
                    declared.BACKUP_SECOND_FOLDER.key: f"找不到文件夹 {second}：请先建好这个文件夹"
                    "（或插好那块硬盘），再填写"
                }
            )
        with self._db.write() as session:
            before = settings.stored_text(session, values)
            for setting, value in values.items():
                settings.write(session, actor, setting, value)
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="set_backup_settings",
                entity="settings",
                entity_uuid="backup",
                before=before or None,
                after={s.key: s.text(v) for s, v in values.items()},
            )
        return Changes(settings=True)

    # Backups

    def backup(self, actor: Actor, to: Path | None = None) -> BackupResult:
        """A backup someone asked for (``bbcs backup``, 立即备份), audited: into the data
        dir's ``backups`` folder, or encrypted into ``to`` outside the data dir."""
        actor.require(Permission.BACKUP_DATA)
        if to is not None and self._db.is_sqlite:  # PostgreSQL's answer is pg_dump (below)
            _outside_folder(to, self._layout.root)
        folder = to if to is not None else self._layout.backups
        result = self._write(folder, "manual")
        with self._db.write() as session:
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="backup",
                entity="database",
                entity_uuid=result.backup.path.name,
                after={
                    "path": str(result.backup.path),
                    "encrypted": result.backup.encrypted,
                    "size": result.backup.size,
                },
            )
        if to is None:
            return self._after_automatic(result)
        return result

    def automatic(self, kind: str) -> BackupResult:
        """An automatic backup (``daily``, ``import``) into ``backups``, its second copy, and the
        retention rule applied."""
        return self._after_automatic(self._write(self._layout.backups, kind))

    def daily_if_due(self) -> BackupResult | None:
        """The day's first start backs up (None if today's is there already)."""
        if not self._db.is_sqlite:
            return None
        today = self._clock.now().date()
        if any(b.kind == "daily" and b.at.date() == today for b in self.existing()):
            return None
        return self.automatic("daily")

    def before_import(self) -> BackupResult | None:
        """The backup every import makes first (its time is reported apart from the import's)."""
        if not self._db.is_sqlite:
            return None
        return self.automatic("import")

    def _after_automatic(self, result: BackupResult) -> BackupResult:
        chosen = self.settings()
        cap = chosen.size_cap_mb * 1024 * 1024 if chosen.size_cap_mb else None
        rule = {
            "daily": chosen.keep_daily,
            "weekly": chosen.keep_weekly,
            "monthly": chosen.keep_monthly,
        }
        pruned = self._prune(self._layout.backups, cap, rule)
        warnings: list[str] = []
        second: Path | None = None
        if chosen.second_folder:
            folder = Path(chosen.second_folder)
            try:
                second = self._encrypted_copy(result.backup, folder)
                pruned += self._prune(folder, cap, rule)
            except UserError as exc:
                log.warning("second backup copy to %s failed: %s", folder, exc.message)
                warnings.append(f"第二份备份没有写成：{exc.message}")
        return BackupResult(
            backup=result.backup,
            seconds=result.seconds,
            pruned=tuple(pruned),
            second_copy=second,
            warnings=tuple(warnings),
        )

    def _prune(self, folder: Path, cap: int | None, rule: dict[str, int]) -> list[Path]:
        """Retention in ``folder``, over this site's backups only: a second folder may be
        shared by several sites (names without a site code there could be anyone's)."""
        removed: list[Path] = []
        own_folder = folder == self._layout.backups
        site = self._local_site_code()
        automatic = [
            b
            for b in list_backups(folder)
            if b.site_code == site or (b.site_code is None and own_folder)
        ]
        for old in to_prune(
            automatic,
            daily=rule["daily"],
            weekly=rule["weekly"],
            monthly=rule["monthly"],
            size_cap=cap,
        ):
            try:
                remove_backup(old.path)
            except OSError as exc:
                log.warning("could not remove old backup %s: %s", old.path, exc)
                continue
            removed.append(old.path)
        return removed

    def _write(self, folder: Path, kind: str) -> BackupResult:
        if not self._db.is_sqlite:
            self._db.backup_to(folder / "unused")  # says how a server's database is backed up
        started = time.perf_counter()
        at = self._clock.now()
        inside = is_inside(folder, self._layout.root)
        if inside:
            _ready_folder(folder)
            part = self._new_part(folder)
            try:
                _snapshot(self._db, part)
                path = _place(
                    part,
                    folder,
                    kind,
                    at,
                    PLAIN_SUFFIX,
                    site_code=self._local_site_code(),
                    mac=mac_body(part, self._data_key),
                )
            except (OSError, sqlite3.Error) as exc:
                raise _write_problem(exc, folder) from exc
            finally:
                with contextlib.suppress(OSError):
                    part.unlink()
        else:
            # The plain copy stays in the data dir; only ciphertext goes outside it.
            _ready_folder(self._layout.backups)
            plain = self._new_part(self._layout.backups)
            try:
                try:
                    _snapshot(self._db, plain)
                except (OSError, sqlite3.Error) as exc:
                    raise _write_problem(exc, self._layout.backups) from exc
                path = self._encrypt_into(plain, folder, kind, at)
            finally:
                with contextlib.suppress(OSError):
                    plain.unlink()
        elapsed = time.perf_counter() - started
        size = path.stat().st_size
        info = BackupInfo(path, kind, at, size, not inside, self._local_site_code())
        log.info("backup %s written in %.2f s (%d bytes)", path, elapsed, size)
        return BackupResult(backup=info, seconds=elapsed)

    def _new_part(self, folder: Path) -> Path:
        try:
            return _part_file(folder)
        except OSError as exc:
            raise _write_problem(exc, folder) from exc

    def _encrypt_into(self, plain: Path, folder: Path, kind: str, at: datetime) -> Path:
        _ready_folder(folder)
        recipient = _public_raw(self._keys)
        part = self._new_part(folder)
        try:
            mac = mac_body(plain, self._data_key)
            with part.open("wb") as out:
                _encrypt_file(plain, out, recipient)
                out.flush()
                os.fsync(out.fileno())
            return _place(
                part,
                folder,
                kind,
                at,
                ENCRYPTED_SUFFIX,
                site_code=self._local_site_code(),
                mac=mac,
            )
        except OSError as exc:
            raise _write_problem(exc, folder) from exc
        finally:
            with contextlib.suppress(OSError):
                part.unlink()

    def _encrypted_copy(self, backup: BackupInfo, folder: Path) -> Path:
        return self._encrypt_into(backup.path, folder, backup.kind, backup.at)

    # Recovery key

    def export_recovery_key(self, actor: Actor, out: Path, pdf: Path | None = None) -> RecoveryKey:
        """Write the recovery key file (and its printable sheet); audited, administrators only."""
        actor.require(Permission.BACKUP_DATA)
        site = self._site()
        key = RecoveryKey.of_site(
            site_code=site[0],
            site_name=site[1],
            data_key=self._data_key,
            keys=self._keys,
            created_at=self._clock.now(),
        )
        try:
            _write_private(out, key.to_json_bytes())
            if pdf is not None:
                from desktop_app.documents.recovery_sheet import recovery_sheet_pdf

                sheet = key.sheet()
                content = recovery_sheet_pdf(
                    site_code=sheet.site_code,
                    site_name=sheet.site_name,
                    created_at=sheet.created_at,
                    text=sheet.text,
                    groups=sheet.groups,
                )
                _write_private(pdf, content)
        except OSError as exc:
            for path in (out, pdf):
                if path is not None:
                    with contextlib.suppress(OSError):
                        path.unlink()
            raise EnvironmentProblem(
                f"无法写入恢复密钥（{exc.strerror or exc}）：{exc.filename or out}。"
                "请换一个可以写入的位置（例如插好的U盘）再试。"
            ) from exc
        with self._db.write() as session:
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="export_recovery_key",
                entity="site",
                entity_uuid=site[0],
                after={"file": out.name, "sheet": pdf.name if pdf else None},
            )
        return key

    def recovery_key_exported(self) -> bool:
        """Whether anyone ever exported this site's recovery key (the window reminds the
        administrator until someone has: without it a dead disk loses every sealed field)."""
        from sqlalchemy import select

        from desktop_app.storage.models import AuditEntry

        site_code = self._site()[0]
        with self._db.read() as session:
            found = session.scalar(
                select(AuditEntry.id)
                .where(
                    AuditEntry.entity == "site",
                    AuditEntry.entity_uuid == site_code,
                    AuditEntry.action == "export_recovery_key",
                )
                .limit(1)
            )
        return found is not None

    def _local_site_code(self) -> str | None:
        """This site's code, for backup names (None before the site exists)."""
        if self._site_code is None:
            with contextlib.suppress(UserError):
                self._site_code = self._site()[0]
        return self._site_code

    def _site(self) -> tuple[str, str]:
        from desktop_app.storage.models import Site

        with self._db.read() as session:
            from sqlalchemy import select

            row = session.execute(
                select(Site.code, Site.name).where(Site.is_local.is_(True))
            ).first()
        if row is None:
            raise UserError("站点尚未初始化，无法导出恢复密钥。")
        return str(row[0]), str(row[1])


def _write_private(out: Path, data: bytes) -> None:
    """A whole file or none, readable by its owner only (it holds secrets)."""
    handle, temp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_dir(out.parent)


# The recovery key ---------------------------------------------------------------------------

RECOVERY_FORMAT: Final = 1
RECOVERY_KIND: Final = "bbcs-recovery-key"
SHEET_PREFIX: Final = "BBCSRK1"
_LOOK_ALIKE: Final = str.maketrans({"0": "O", "1": "I", "8": "B"})


@dataclass(frozen=True)
class RecoverySheet:
    """What the printed sheet shows: the key as text a person can type back in."""

    site_code: str
    site_name: str
    created_at: str
    text: str  # SHEET_PREFIX-<site>-<base32>
    groups: tuple[str, ...]


@dataclass(frozen=True)
class RecoveryKey:
    """The secrets a site cannot be rebuilt without: the data key and the site's private keys."""

    site_code: str
    site_name: str
    created_at: str
    data_key: bytes
    signing: bytes  # Ed25519 raw private key
    encryption: bytes  # X25519 raw private key

    @classmethod
    def of_site(
        cls,
        *,
        site_code: str,
        site_name: str,
        data_key: DataKey,
        keys: SiteKeys,
        created_at: datetime,
    ) -> RecoveryKey:
        signing = serialization.load_pem_private_key(keys.signing_key_path.read_bytes(), None)
        if not isinstance(signing, Ed25519PrivateKey):
            raise UserError(f"签名私钥 {keys.signing_key_path} 已损坏，无法导出恢复密钥。")
        return cls(
            site_code=site_code,
            site_name=site_name,
            created_at=created_at.isoformat(timespec="seconds"),
            data_key=data_key.secret(),
            signing=signing.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            ),
            encryption=keys.encryption_private_key().private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            ),
        )

    def _body(self) -> dict[str, object]:
        return {
            "format": RECOVERY_FORMAT,
            "kind": RECOVERY_KIND,
            "site_code": self.site_code,
            "site_name": self.site_name,
            "created_at": self.created_at,
            "data_key": base64.b64encode(self.data_key).decode("ascii"),
            "signing_ed25519": base64.b64encode(self.signing).decode("ascii"),
            "encryption_x25519": base64.b64encode(self.encryption).decode("ascii"),
        }

    def to_json_bytes(self) -> bytes:
        body = self._body()
        body["checksum"] = _checksum(body)
        return json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")

    def sheet(self) -> RecoverySheet:
        text = self.sheet_text()
        code = text.rsplit("-", 1)[1]
        groups = tuple(code[i : i + 4] for i in range(0, len(code), 4))
        return RecoverySheet(self.site_code, self.site_name, self.created_at, text, groups)

    def sheet_text(self) -> str:
        secret = self.data_key + self.signing + self.encryption
        check = hashlib.sha256(self.site_code.encode() + secret).digest()[:4]
        code = base64.b32encode(secret + check).decode("ascii").rstrip("=")
        return f"{SHEET_PREFIX}-{self.site_code}-{code}"

    def encryption_identity(self) -> X25519PrivateKey:
        return X25519PrivateKey.from_private_bytes(self.encryption)

    @classmethod
    def read(cls, path: Path) -> RecoveryKey:
        """A recovery key file, or the text typed from its sheet; refused if damaged."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UserError(f"无法读取恢复密钥文件 {path}（{exc.strerror}）。") from exc
        text = raw.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
        # Typed in lower case or full-width (an IME's) it is the sheet's text all the same.
        if unicodedata.normalize("NFKC", text).upper().startswith(SHEET_PREFIX):
            return cls.from_sheet_text(text)
        try:
            body = json.loads(text)
            if not isinstance(body, dict) or body.get("kind") != RECOVERY_KIND:
                raise ValueError("kind")
            if body.get("format") != RECOVERY_FORMAT:
                raise UserError(f"恢复密钥文件的格式版本（{body.get('format')}）本程序不认识。")
            checksum = body.pop("checksum", None)
            if checksum != _checksum(body):
                raise ValueError("checksum")
            key = cls(
                site_code=str(body["site_code"]),
                site_name=str(body["site_name"]),
                created_at=str(body["created_at"]),
                data_key=base64.b64decode(body["data_key"], validate=True),
                signing=base64.b64decode(body["signing_ed25519"], validate=True),
                encryption=base64.b64decode(body["encryption_x25519"], validate=True),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise _bad_recovery_key(path) from exc
        key._check()
        return key

    @classmethod
    def from_sheet_text(cls, text: str) -> RecoveryKey:
        cleaned = re.sub(r"[\s]", "", unicodedata.normalize("NFKC", text)).upper()
        parts = cleaned.split("-", 2)
        if len(parts) != 3 or parts[0] != SHEET_PREFIX:
            raise UserError("恢复密钥的文字应以 BBCSRK1- 开头，请对照纸面重新输入。")
        # The groups are base32 (A–Z, 2–7): a 0, 1 or 8 typed from the paper can only be the
        # letter it looks like (a walk read the sheet's O as 0 and was refused).
        site_code, code = parts[1], parts[2].replace("-", "").translate(_LOOK_ALIKE)
        try:
            blob = base64.b32decode(code + "=" * (-len(code) % 8))
        except binascii.Error as exc:
            raise UserError("恢复密钥的文字有误（含有不该有的字符），请对照纸面重新输入。") from exc
        secret, check = blob[:-4], blob[-4:]
        if len(secret) != 96 or hashlib.sha256(site_code.encode() + secret).digest()[:4] != check:
            raise UserError("恢复密钥的文字有误（校验不符），请对照纸面逐组核对后重新输入。")
        key = cls(site_code, "", "", secret[:32], secret[32:64], secret[64:])
        key._check()
        return key

    def _check(self) -> None:
        if len(self.data_key) != 32 or len(self.signing) != 32 or len(self.encryption) != 32:
            raise UserError("恢复密钥中的密钥长度不对：恢复密钥可能已损坏。")

    def install(self, layout: DataLayout, protector: KeyProtector | None = None) -> None:
        """Put the keys back into a data dir that has none (a fresh machine)."""
        DataKey(layout.keys, protector).install(self.data_key)
        keys = SiteKeys(layout.keys)
        signing = Ed25519PrivateKey.from_private_bytes(self.signing)
        encryption = X25519PrivateKey.from_private_bytes(self.encryption)
        if keys.exists():
            if (
                keys.encryption_private_key().private_bytes(
                    serialization.Encoding.Raw,
                    serialization.PrivateFormat.Raw,
                    serialization.NoEncryption(),
                )
                != self.encryption
            ):
                raise UserError(
                    f"本数据目录已有另一套站点密钥（{layout.keys}），与恢复密钥不符，未作改动。"
                )
            return
        pem = {
            keys.meta_path: json.dumps(
                {
                    "format": 1,
                    "created_at": self.created_at or datetime.now().isoformat(timespec="seconds"),
                    "algorithms": {"signature": "Ed25519", "encryption": "X25519+AES-256-GCM"},
                },
                ensure_ascii=False,
            ).encode("utf-8"),
            keys.encryption_key_path: _pkcs8(encryption),
            keys.signing_key_path: _pkcs8(signing),  # last: its presence means complete
        }
        try:
            layout.keys.mkdir(mode=0o700, parents=True, exist_ok=True)
            for path, data in pem.items():
                _write_private(path, data)
                with contextlib.suppress(OSError):
                    path.chmod(0o600)
        except OSError as exc:
            raise EnvironmentProblem(
                f"无法把站点密钥写入 {layout.keys}（{exc.strerror}）。请检查数据目录是否可写。"
            ) from exc


def _pkcs8(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _checksum(body: dict[str, object]) -> str:
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _bad_recovery_key(path: Path) -> UserError:
    return UserError(
        f"{path} 不是有效的恢复密钥文件，或已损坏（校验不符）。"
        "请换用另一份恢复密钥，或按打印的恢复密钥纸逐组输入。"
    )


# Restore ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupFacts:
    """What a backup file holds, checked before anything is replaced."""

    schema: str | None
    site_code: str | None
    site_name: str | None
    cases: int


@dataclass(frozen=True)
class RestoreResult:
    source: Path
    facts: BackupFacts
    pre_restore_backup: Path | None
    seconds: float
    migrated: bool
    verified: bool = True  # False: restored with ``unverified`` and no valid MAC


def read_facts(path: Path) -> BackupFacts:
    """Integrity, schema version and site of a database file; refused if it is not sound."""
    try:
        connection = sqlite3.connect(path)
        try:
            rows = [r[0] for r in connection.execute("PRAGMA integrity_check")]
            if rows != ["ok"]:
                raise UserError(
                    f"备份文件已损坏（{'; '.join(rows[:3])}），不能用来恢复。请换一份较早的备份。"
                )
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
            schema = None
            if "alembic_version" in tables:
                found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
                schema = str(found[0]) if found else None
            site = None
            cases = 0
            if "sites" in tables:
                site = connection.execute(
                    "SELECT code, name FROM sites WHERE is_local = 1"
                ).fetchone()
            if "cases" in tables:
                cases = int(connection.execute("SELECT count(*) FROM cases").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise UserError("这个文件不是 bbcs 的备份（无法作为数据库打开），不能用来恢复。") from exc
    if schema is None or site is None:
        raise UserError("这个文件不是 bbcs 站点的备份（没有站点数据），不能用来恢复。")
    if not schema.isdigit() or int(schema) > int(SCHEMA_HEAD):
        raise UserError(
            f"备份的数据库版本（{schema}）比本程序（支持到 {SCHEMA_HEAD}）更新，"
            "请先安装新版 bbcs 再恢复。"
        )
    return BackupFacts(schema, str(site[0]), str(site[1]), cases)


def _current_site(database: Path) -> str | None:
    """The site code of the database being replaced, if it can be read at all."""
    if not database.exists():
        return None
    try:
        connection = sqlite3.connect(f"file:{database.as_posix()}?mode=ro", uri=True)
        try:
            row = connection.execute("SELECT code FROM sites WHERE is_local = 1").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def open_copy(source: Path, dest: Path, identities: Iterable[X25519PrivateKey]) -> None:
    """``source`` (plain or encrypted) written to ``dest`` byte for byte as the backup holds it."""
    with source.open("rb") as reader:
        head = reader.read(len(SQLITE_MAGIC))
        reader.seek(0)
        with dest.open("wb") as out:
            if head == SQLITE_MAGIC:
                shutil.copyfileobj(reader, out, _COPY_BLOCK)
            else:
                from desktop_app.services.stream_crypto import decrypt_stream

                decrypt_stream(reader, out, list(identities))
            out.flush()
            os.fsync(out.fileno())


def restore(
    layout: DataLayout,
    source: Path,
    *,
    actor: Actor,
    clock: Clock,
    other_site: bool = False,
    recovery: RecoveryKey | None = None,
    protector: KeyProtector | None = None,
    unverified: bool = False,
) -> RestoreResult:
    """Replace the data dir's database with the backup ``source``. The caller holds the data
    dir's writer lock and has no connection open to the database (nothing may be cached).

    ``recovery``: a fresh machine: its keys are installed first (the data key among them, so
    the MAC is checked there too), and the backup must be this site's. ``other_site``: restore
    a backup of another site's code (moving a site). ``unverified``: restore a backup without
    this site's MAC (``bbcs restore --unverified``; the audit entry says so).
    """
    actor.require(Permission.BACKUP_DATA)
    started = time.perf_counter()
    if not source.is_file():
        raise UserError(f"找不到备份文件 {source}。")
    layout.root.mkdir(parents=True, exist_ok=True)
    if recovery is not None:
        recovery.install(layout, protector)
    keys = SiteKeys(layout.keys)
    identities: list[X25519PrivateKey] = []
    if recovery is not None:
        identities.append(recovery.encryption_identity())
    identities.extend(keys.decryption_keys().values())
    database = layout.database
    part = _part_file(layout.root)
    try:
        try:
            open_copy(source, part, identities)
        except OSError as exc:
            raise _write_problem(exc, layout.root) from exc
        facts = read_facts(part)
        current = _current_site(database)
        expected = recovery.site_code if recovery is not None else current
        if expected is not None and facts.site_code != expected and not other_site:
            raise UserError(
                f"备份属于站点 {facts.site_code}（{facts.site_name}），"
                f"本数据目录是站点 {expected}。"
                "确需恢复别的站点的备份时，请加 --other-site。"
            )
        data_key = DataKey(layout.keys, protector)
        verified = mac_verified(source, part, data_key if data_key.exists() else None)
        if not verified and not unverified:
            raise UserError(
                f"{UNVERIFIED_REFUSAL}（{source.name}）。"
                "请把备份旁同名的 .mac 校验文件一并复制过来再恢复；只有确认这份备份可信时，"
                "才可用命令 bbcs --user 管理员用户名 restore 备份文件 --unverified 恢复"
                "（新电脑上再加 --recovery-key 恢复密钥文件）。"
            )
        pre_restore = _keep_current(
            database,
            layout.backups,
            clock.now(),
            site_code=current,
            data_key=data_key if data_key.exists() else None,
        )
        # The current database's log is folded in (or the database is damaged and was copied
        # as it was): a -wal or -shm left now would be replayed onto the restored file.
        for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        os.replace(part, database)
        fsync_dir(layout.root)
    finally:
        with contextlib.suppress(OSError):
            part.unlink()
    migrated = _audit_restore(
        layout, source, facts, pre_restore, actor, clock, protector, verified=verified
    )
    return RestoreResult(
        source, facts, pre_restore, time.perf_counter() - started, migrated, verified
    )


def _keep_current(
    database: Path,
    backups: Path,
    at: datetime,
    *,
    site_code: str | None,
    data_key: DataKey | None,
) -> Path | None:
    """The database about to be replaced, kept as a ``pre-restore`` backup first (with its
    MAC, so that it can be restored in turn, when the data key is there)."""
    if not database.exists():
        return None
    _ready_folder(backups)
    part = _part_file(backups)
    try:
        try:
            connection = sqlite3.connect(database)
            try:
                target = sqlite3.connect(part)
                try:
                    connection.backup(target)
                finally:
                    target.close()
                # Fold the log into the file, so removing it loses nothing.
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
        except sqlite3.DatabaseError:
            log.warning("the database being replaced is damaged: kept as it was on disk")
            shutil.copyfile(database, part)
            wal = Path(f"{database}-wal")
            placed = _place(
                part,
                backups,
                "pre-restore",
                at,
                PLAIN_SUFFIX,
                site_code=site_code,
                mac=_mac_or_none(part, data_key),
            )
            if wal.exists():
                shutil.copyfile(wal, Path(f"{placed}-wal"))
            return placed
        return _place(
            part,
            backups,
            "pre-restore",
            at,
            PLAIN_SUFFIX,
            site_code=site_code,
            mac=_mac_or_none(part, data_key),
        )
    except OSError as exc:
        raise _write_problem(exc, backups) from exc
    finally:
        with contextlib.suppress(OSError):
            part.unlink()


def _mac_or_none(database: Path, data_key: DataKey | None) -> bytes | None:
    if data_key is None:
        return None
    try:
        return mac_body(database, data_key)
    except UserError as exc:  # the key file is damaged: the copy is still kept
        log.warning("pre-restore copy kept without a MAC: %s", exc.message)
        return None


def _entries_after(database: Path, last_kept: int) -> dict[str, object] | None:
    """The audit entries of ``database`` (the pre-restore copy) after id ``last_kept``: their
    number and the last one's id and hash (None if the copy cannot be read: it is not here to
    be read, e.g. encrypted)."""
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            count, last_id = connection.execute(
                "SELECT count(*), max(id) FROM audit_log WHERE id > ?", (last_kept,)
            ).fetchone()
            last_hash = connection.execute(
                "SELECT hash FROM audit_log WHERE id = ?", (last_id,)
            ).fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        log.warning("the pre-restore copy's audit log could not be read: %s", exc)
        return None
    return {
        "entries_not_restored": int(count or 0),
        "last_entry_before_restore": (
            {"id": last_id, "hash": last_hash[0]} if last_id and last_hash else None
        ),
    }


def _audit_restore(
    layout: DataLayout,
    source: Path,
    facts: BackupFacts,
    pre_restore: Path | None,
    actor: Actor,
    clock: Clock,
    protector: KeyProtector | None,
    *,
    verified: bool,
) -> bool:
    """The restored database is brought to this release's schema and says who restored what."""
    db = Database(layout.database_url())
    try:
        migrated = db.migrate(backup_dir=None)
        # The audit anchor and the keyed chain follow the restored log (else ``check`` would
        # take the backup's shorter log for deleted entries); the restore entry is keyed.
        problems = integrity.reanchor(db, DataKey(layout.keys, protector), layout.keys)
        for problem in problems:
            log.warning("the restored audit log: %s", problem)
        from sqlalchemy import func, select

        from desktop_app.storage.models import AuditEntry

        with db.write() as session:
            last_kept = session.scalar(select(func.max(AuditEntry.id))) or 0
            dropped = _entries_after(pre_restore, last_kept) if pre_restore else None
            audit.record(
                session,
                at=clock.now(),
                user_name=actor.username,
                action="restore",
                entity="database",
                entity_uuid=source.name,
                after={
                    "from": str(source),
                    "schema": facts.schema,
                    "site_code": facts.site_code,
                    "pre_restore_backup": pre_restore.name if pre_restore else None,
                    # False: restored with --unverified, without this site's MAC.
                    "mac_verified": verified,
                    # The entries written after the backup (log-ins, exports, a password
                    # changed…) are not in the restored log: how many, and where they are.
                    **(dropped or {}),
                },
            )
    finally:
        db.dispose()
    return migrated
