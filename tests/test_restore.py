"""Restore (issue 15 item 1): checked, the current database kept first, a stale -wal never
replayed onto the backup, swapped in whole, audited, refused while another bbcs holds the dir."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from desktop_app.errors import UserError
from desktop_app.paths import DataLayout
from desktop_app.services.app import AppServices
from desktop_app.services.backup import UNVERIFIED_REFUSAL, list_backups, restore
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.keys import SiteKeys
from desktop_app.services.stream_crypto import encrypt_stream
from desktop_app.storage.database import InstanceLock
from tests.helpers.cli import run_bbcs
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

# A process that writes through SQLite in WAL mode, commits (durable in the -wal only) and is
# killed before any checkpoint: what a power cut or a crash of the window leaves behind.
CRASH_AFTER_COMMIT = """
import os, signal, sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA journal_mode=WAL")
connection.execute("PRAGMA wal_autocheckpoint=0")
connection.execute("BEGIN IMMEDIATE")
connection.execute("UPDATE cases SET title = 'written after the backup'")
connection.execute("COMMIT")
os.kill(os.getpid(), signal.SIGKILL)
"""


def rows(path: Path, query: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
    try:
        return list(connection.execute(query))
    finally:
        connection.close()


def crash_with_newer_pages_in_the_log(database: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_COMMIT, str(database)], check=False, timeout=60
    )
    assert done.returncode != 0  # killed
    wal = Path(f"{database}-wal")
    assert wal.exists() and wal.stat().st_size > 0


@pytest.fixture
def backed_up(services: AppServices, admin: Actor, clerk: Actor) -> tuple[Path, Path]:
    """Two cases, a backup, a third case; the services closed. (backup, data dir)."""
    services.intake.register(clerk, person_form(name="王芳", title="备份前的事项一"))
    services.intake.register(clerk, person_form(name="李娜", title="备份前的事项二"))
    backup = services.backups.backup(admin).backup.path
    services.intake.register(clerk, person_form(name="赵强", title="备份后的事项"))
    services.close()
    return backup, services.layout.root


def test_restore_after_a_crash_is_exactly_the_backup_not_the_stale_log(
    backed_up: tuple[Path, Path], admin: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    backup, data_dir = backed_up
    layout = DataLayout(data_dir)
    crash_with_newer_pages_in_the_log(layout.database)
    query = "SELECT number, title FROM cases ORDER BY id"
    expected = rows(backup, query)
    assert [title for _n, title in expected] == ["备份前的事项一", "备份前的事项二"]

    # The manual restore the issue warns about: the stale log is replayed onto the backup.
    manual = tmp_path / "manual"
    manual.mkdir()
    shutil.copyfile(backup, manual / "bbcs.db")
    shutil.copyfile(f"{layout.database}-wal", manual / "bbcs.db-wal")
    assert rows(manual / "bbcs.db", query) != expected

    result = restore(layout, backup, actor=admin, clock=clock)

    assert rows(layout.database, query) == expected
    assert rows(layout.database, "PRAGMA integrity_check") == [("ok",)]
    # Nothing was lost: the database replaced, its log folded in, is kept beside the backups.
    assert result.pre_restore_backup is not None
    kept = rows(result.pre_restore_backup, query)
    assert len(kept) == 3 and {title for _n, title in kept} == {"written after the backup"}
    (entry,) = rows(
        layout.database,
        "SELECT user_name, entity_uuid, after FROM audit_log WHERE action = 'restore'",
    )
    assert entry[0] == admin.username and entry[1] == backup.name
    after = json.loads(str(entry[2]))
    assert after["from"] == str(backup)
    assert after["pre_restore_backup"] == result.pre_restore_backup.name
    assert not [p for p in data_dir.rglob("*.part")]


def test_restore_command_restores_and_keeps_the_current_database(
    backed_up: tuple[Path, Path],
) -> None:
    backup, data_dir = backed_up
    done = run_bbcs("restore", str(backup), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "已从" in done.stdout and "恢复前的数据库已另存为" in done.stdout
    assert len(rows(DataLayout(data_dir).database, "SELECT id FROM cases")) == 2
    kinds = [b.kind for b in list_backups(DataLayout(data_dir).backups)]
    assert "pre-restore" in kinds


def test_restore_is_refused_while_another_bbcs_holds_the_data_dir(
    backed_up: tuple[Path, Path],
) -> None:
    backup, data_dir = backed_up
    before = DataLayout(data_dir).database.read_bytes()
    with InstanceLock(DataLayout(data_dir)):
        done = run_bbcs("restore", str(backup), data_dir=data_dir)
    assert done.returncode == 2
    assert "已在使用这个数据目录" in done.stderr
    assert DataLayout(data_dir).database.read_bytes() == before


def test_a_backup_of_a_newer_version_is_refused_and_nothing_changes(
    backed_up: tuple[Path, Path], admin: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    backup, data_dir = backed_up
    newer = tmp_path / "bbcs-manual-20300101-120000.db"
    shutil.copyfile(backup, newer)
    connection = sqlite3.connect(newer)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    layout = DataLayout(data_dir)
    before = layout.database.read_bytes()
    with pytest.raises(UserError, match=r"比本程序.*更新"):
        restore(layout, newer, actor=admin, clock=clock)
    assert layout.database.read_bytes() == before
    assert not [p for p in data_dir.rglob("*.part")]


def test_a_damaged_backup_is_refused(
    backed_up: tuple[Path, Path], admin: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    backup, data_dir = backed_up
    damaged = tmp_path / "damaged.db"
    data = bytearray(backup.read_bytes())
    for offset in range(4096 * 2, len(data), 997):
        data[offset] ^= 0x5A
    damaged.write_bytes(bytes(data))
    layout = DataLayout(data_dir)
    before = layout.database.read_bytes()
    with pytest.raises(UserError, match=r"损坏|不是 bbcs"):
        restore(layout, damaged, actor=admin, clock=clock)
    assert layout.database.read_bytes() == before


def test_another_sites_backup_needs_other_site(
    backed_up: tuple[Path, Path], admin: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    backup, data_dir = backed_up
    other = tmp_path / "other.db"
    shutil.copyfile(backup, other)
    connection = sqlite3.connect(other)
    connection.execute("UPDATE sites SET code = '410222' WHERE is_local = 1")
    connection.commit()
    connection.close()
    layout = DataLayout(data_dir)
    with pytest.raises(UserError, match="--other-site"):
        restore(layout, other, actor=admin, clock=clock)
    # Edited with sqlite3 here, so it no longer matches its MAC: restored unverified.
    restore(layout, other, actor=admin, clock=clock, other_site=True, unverified=True)
    assert rows(layout.database, "SELECT code FROM sites WHERE is_local = 1") == [("410222",)]


def test_a_clerk_cannot_restore(
    backed_up: tuple[Path, Path], clerk: Actor, clock: FixedClock
) -> None:
    backup, data_dir = backed_up
    with pytest.raises(UserError, match="无权"):
        restore(DataLayout(data_dir), backup, actor=clerk, clock=clock)


def test_an_encrypted_backup_outside_the_data_dir_restores(
    services: AppServices, admin: Actor, clerk: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    services.intake.register(clerk, person_form(name="王芳", title="加密备份中的事项"))
    stick = tmp_path / "U盘"
    stick.mkdir()
    written = services.backups.backup(admin, to=stick).backup
    assert written.encrypted and written.path.parent == stick
    assert not written.path.read_bytes().startswith(b"SQLite format 3")
    services.intake.register(clerk, person_form(name="李娜", title="之后的事项"))
    services.close()
    result = restore(services.layout, written.path, actor=admin, clock=clock)
    titles = [t for (t,) in rows(services.layout.database, "SELECT title FROM cases")]
    assert titles == ["加密备份中的事项"]
    assert result.facts.cases == 1


def test_a_restored_database_passes_check_and_its_restore_entry_is_anchored(
    backed_up: tuple[Path, Path],
) -> None:
    """The audit anchor (outside the database) follows the restored log, so ``check`` does
    not take the older backup's shorter log for deleted entries; later saves keep it so."""
    backup, data_dir = backed_up
    assert run_bbcs("restore", str(backup), data_dir=data_dir).returncode == 0
    done = run_bbcs("check", data_dir=data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "检查通过" in done.stdout


def test_the_restore_entry_counts_the_entries_the_restored_log_lacks(
    backed_up: tuple[Path, Path],
) -> None:
    """A walk restored an 18:00 backup: the 28 entries after it (log-ins, an export, a password
    changed) were gone from the log without a trace in it. The restore entry now says how many,
    and the last one's id and hash (they are in the pre-restore copy)."""
    backup, data_dir = backed_up
    before = rows(data_dir / "bbcs.db", "SELECT max(id) FROM audit_log")[0][0]
    kept = rows(backup, "SELECT max(id) FROM audit_log")[0][0]
    assert run_bbcs("restore", str(backup), data_dir=data_dir).returncode == 0
    ((after,),) = rows(data_dir / "bbcs.db", "SELECT after FROM audit_log WHERE action = 'restore'")
    told = json.loads(after)
    copy = data_dir / "backups" / told["pre_restore_backup"]
    ((last, count),) = rows(copy, f"SELECT max(id), count(*) FROM audit_log WHERE id > {kept}")
    assert told["entries_not_restored"] == count >= before - kept > 0  # the restorer's log-in too
    assert told["last_entry_before_restore"]["id"] == last


# Backups are authenticated (review of issue 15 items 1, 2, 7) -----------------------------------


def edit_titles(path: Path, title: str) -> None:
    connection = sqlite3.connect(path)
    connection.execute("UPDATE cases SET title = ?", (title,))
    connection.commit()
    connection.close()


def test_a_backup_edited_with_sqlite3_is_refused_and_nothing_changes(
    backed_up: tuple[Path, Path], admin: Actor, clock: FixedClock
) -> None:
    backup, data_dir = backed_up
    assert backup.with_name(f"{backup.name}.mac").exists()
    edit_titles(backup, "改过的标题")
    layout = DataLayout(data_dir)
    before = layout.database.read_bytes()
    with pytest.raises(UserError, match=re.escape(UNVERIFIED_REFUSAL)):
        restore(layout, backup, actor=admin, clock=clock)
    assert layout.database.read_bytes() == before
    done = run_bbcs("restore", str(backup), data_dir=data_dir)
    assert done.returncode == 2 and UNVERIFIED_REFUSAL in done.stderr
    # (the command's log-in may write to the database; what it holds is unchanged)
    titles = {t for (t,) in rows(layout.database, "SELECT title FROM cases")}
    assert titles == {"备份前的事项一", "备份前的事项二", "备份后的事项"}
    assert not [b for b in list_backups(layout.backups) if b.kind == "pre-restore"]


def test_a_backup_without_its_mac_is_refused(
    backed_up: tuple[Path, Path], admin: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    backup, data_dir = backed_up
    copy = tmp_path / backup.name
    shutil.copyfile(backup, copy)  # the backup alone, untouched, without its sidecar
    with pytest.raises(UserError, match=re.escape(UNVERIFIED_REFUSAL)) as caught:
        restore(DataLayout(data_dir), copy, actor=admin, clock=clock)
    # What to do, whole: the sidecar, or the command as it must be typed (a walk's retry failed
    # on 此命令需要登录, and on a new PC it needs the recovery key too).
    assert ".mac" in caught.value.message and "--user" in caught.value.message
    assert "--recovery-key" in caught.value.message


def test_a_forged_encrypted_backup_to_the_sites_public_key_is_refused(
    backed_up: tuple[Path, Path], admin: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    """Anyone holding the site's public key (every site it exchanges with) can encrypt to it."""
    backup, data_dir = backed_up
    plain = tmp_path / "plain.db"
    shutil.copyfile(backup, plain)
    edit_titles(plain, "伪造的标题")
    layout = DataLayout(data_dir)
    public = (
        SiteKeys(layout.keys)
        .encryption_private_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    forged = tmp_path / "bbcs-410221-manual-20261206-080000.bbcsbak"
    with plain.open("rb") as source, forged.open("wb") as out:
        encrypt_stream(source, out, [public])
    # Even a sidecar copied from a genuine backup does not fit it.
    shutil.copyfile(backup.with_name(f"{backup.name}.mac"), forged.with_name(f"{forged.name}.mac"))
    before = layout.database.read_bytes()
    with pytest.raises(UserError, match=re.escape(UNVERIFIED_REFUSAL)):
        restore(layout, forged, actor=admin, clock=clock)
    assert layout.database.read_bytes() == before


def test_unverified_restores_an_edited_backup_with_a_warning_and_the_audit_says_so(
    backed_up: tuple[Path, Path],
) -> None:
    backup, data_dir = backed_up
    edit_titles(backup, "改过的标题")
    done = run_bbcs("restore", str(backup), "--unverified", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "警告" in done.stderr and "--unverified" in done.stderr
    database = DataLayout(data_dir).database
    assert {t for (t,) in rows(database, "SELECT title FROM cases")} == {"改过的标题"}
    (entry,) = rows(database, "SELECT after FROM audit_log WHERE action = 'restore'")
    assert json.loads(str(entry[0]))["mac_verified"] is False


def test_an_untouched_backup_is_verified_and_the_pre_restore_copy_restores_in_turn(
    backed_up: tuple[Path, Path], admin: Actor, clock: FixedClock
) -> None:
    backup, data_dir = backed_up
    layout = DataLayout(data_dir)
    result = restore(layout, backup, actor=admin, clock=clock)
    assert result.verified
    (entry,) = rows(layout.database, "SELECT after FROM audit_log WHERE action = 'restore'")
    assert json.loads(str(entry[0]))["mac_verified"] is True
    assert result.pre_restore_backup is not None
    assert result.pre_restore_backup.name.startswith("bbcs-410221-pre-restore-")
    again = restore(layout, result.pre_restore_backup, actor=admin, clock=clock)
    assert again.verified and again.facts.cases == 3
