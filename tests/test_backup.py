"""Backups (issue 15 item 2 and item 14's ``backup --to``): named so none is overwritten, no
``.part`` left by a failure, encrypted outside the data dir, pruned by the retention rule and the
size cap, a second copy, the day's first start and every import backed up first."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from desktop_app.errors import EnvironmentProblem, PermissionDenied, UserError, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.backup import (
    BackupInfo,
    BackupSettings,
    list_backups,
    parse_name,
    to_prune,
)
from desktop_app.services.context import Actor, FixedClock
from tests.helpers.cli import REPO_ROOT, run_bbcs, subprocess_env
from tests.helpers.db import audit_count
from tests.helpers.factories import ADMIN_PASSWORD, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

INIT = ("init", "--site-code", "410221", "--site-name", "杞县办不成事监督窗口", "--level", "county")


def parts_under(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*.part")]


def cases_in(path: Path) -> int:
    connection = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM cases").fetchone()[0])
    finally:
        connection.close()


def test_two_backups_in_the_same_second_are_both_kept(
    services: AppServices, admin: Actor, clerk: Actor
) -> None:
    services.intake.register(clerk, person_form())
    first = services.backups.backup(admin).backup.path
    second = services.backups.backup(admin).backup.path
    assert first != second and first.exists() and second.exists()
    assert cases_in(first) == cases_in(second) == 1
    assert not parts_under(services.layout.backups)


def test_a_backup_is_audited_and_needs_the_backup_permission(
    services: AppServices, admin: Actor, clerk: Actor
) -> None:
    with pytest.raises(PermissionDenied):
        services.backups.backup(clerk)
    written = services.backups.backup(admin).backup
    connection = sqlite3.connect(services.layout.database)
    (entry,) = connection.execute(
        "SELECT user_name, entity_uuid FROM audit_log WHERE action = 'backup'"
    ).fetchall()
    connection.close()
    assert entry == ("admin", written.path.name)


def test_a_backup_outside_the_data_dir_is_encrypted_and_holds_no_personal_data(
    services: AppServices, admin: Actor, clerk: Actor, tmp_path: Path
) -> None:
    services.intake.register(clerk, person_form(name="王芳", phone="13812345678"))
    (tmp_path / "U盘").mkdir()
    written = services.backups.backup(admin, to=tmp_path / "U盘").backup
    data = written.path.read_bytes()
    assert written.encrypted and written.path.suffix == ".bbcsbak"
    assert not data.startswith(b"SQLite format 3")
    for secret in ("王芳", "13812345678"):
        assert secret.encode("utf-8") not in data
    # Only ciphertext left the data dir: no plain copy beside it, none left in backups/.
    assert sorted(p.name for p in (tmp_path / "U盘").iterdir()) == [
        written.path.name,
        f"{written.path.name}.mac",  # its MAC sidecar, which holds no personal data
    ]
    assert not parts_under(services.layout.backups, tmp_path / "U盘")


def test_a_backup_to_a_file_path_is_refused_plainly_and_leaves_nothing(
    services: AppServices, admin: Actor, tmp_path: Path
) -> None:
    a_file = tmp_path / "不是文件夹.txt"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(EnvironmentProblem, match="不是文件夹"):
        services.backups.backup(admin, to=a_file)
    assert not parts_under(services.layout.backups, tmp_path)


def test_the_migration_backup_name_is_read_with_the_others() -> None:
    assert parse_name(Path("bbcs-before-upgrade-0007-20260101-120000.db")) == (
        "before-upgrade",
        datetime(2026, 1, 1, 12, 0, 0),
    )
    assert parse_name(Path("bbcs-daily-20260101-120000-2.bbcsbak")) == (
        "daily",
        datetime(2026, 1, 1, 12, 0, 0),
    )
    assert parse_name(Path("notes.db")) is None


def fake(at: datetime, kind: str = "daily", size: int = 100) -> BackupInfo:
    name = f"bbcs-{kind}-{at:%Y%m%d-%H%M%S}.db"
    return BackupInfo(Path(name), kind, at, size, False)


def test_retention_keeps_7_daily_4_weekly_12_monthly() -> None:
    start = datetime(2026, 11, 25, 8, 0)
    backups = [fake(start - timedelta(days=n)) for n in range(400)]
    pruned = {b.path for b in to_prune(backups, daily=7, weekly=4, monthly=12)}
    kept = sorted((b.at for b in backups if b.path not in pruned), reverse=True)
    # The last 7 days, then the newest of each older week (4 weeks in all, the current
    # week counted), then the newest of each month, 12 months in all.
    assert kept[:7] == [start - timedelta(days=n) for n in range(7)]
    months = {(at.year, at.month) for at in kept}
    assert len(months) == 12
    assert len(kept) <= 7 + 4 + 12
    assert min(kept) >= datetime(2025, 12, 1)


def test_the_size_cap_prunes_the_oldest_first_never_the_newest() -> None:
    start = datetime(2026, 11, 25, 8, 0)
    backups = [fake(start - timedelta(days=n), size=600) for n in range(7)]
    pruned = to_prune(backups, daily=7, weekly=0, monthly=0, size_cap=2000)
    assert sorted(b.at for b in pruned) == [start - timedelta(days=n) for n in (6, 5, 4, 3)]
    only = to_prune(backups[:1], daily=7, weekly=0, monthly=0, size_cap=10)
    assert only == []


def test_automatic_backups_follow_the_settings_and_write_a_second_copy(
    services: AppServices, admin: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    second = tmp_path / "另一块硬盘"
    second.mkdir()
    services.backups.save_settings(
        admin,
        BackupSettings(
            keep_daily=2, keep_weekly=0, keep_monthly=0, size_cap_mb=0, second_folder=str(second)
        ),
    )
    start = clock.at
    for day in range(4):
        clock.at = start + timedelta(days=day)
        result = services.backups.daily_if_due()
        assert result is not None and result.second_copy is not None
        assert services.backups.daily_if_due() is None  # once a day
    clock.at = start
    kept = list_backups(services.layout.backups)
    assert [b.at.date() for b in kept] == [(start + timedelta(days=d)).date() for d in (3, 2)]
    copies = list_backups(second)
    assert len(copies) == 2 and all(b.encrypted for b in copies)


def test_the_second_folder_may_not_be_inside_the_data_dir(
    services: AppServices, admin: Actor
) -> None:
    from desktop_app.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.backups.save_settings(
            admin,
            BackupSettings(7, 4, 12, 0, str(services.layout.root / "备份2")),
        )


# The command ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli") / "数据 目录"
    done = run_bbcs(
        *INIT, data_dir=data_dir, env=subprocess_env(BBCS_ADMIN_PASSWORD=ADMIN_PASSWORD)
    )
    assert done.returncode == 0, done.stderr
    return data_dir


def test_backup_command_to_a_file_path_says_so(cli_site: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "备份.db"
    a_file.write_bytes(b"")
    done = run_bbcs("backup", "--to", str(a_file), data_dir=cli_site)
    assert done.returncode == 2, done.stderr
    assert "不是文件夹" in done.stderr and "程序内部错误" not in done.stderr
    assert not parts_under(tmp_path, cli_site)


def _in_small_mount(args: list[str], mount: Path, options: str) -> subprocess.CompletedProcess[str]:
    """``bbcs ARGS`` with ``mount`` a tiny tmpfs (``options``) in a private mount namespace."""
    script = f'mount -t tmpfs -o {options} tmpfs "$1" && shift && exec "$@"'
    command = ["unshare", "-rm", "sh", "-c", script, "sh", str(mount), sys.executable]
    command += ["-m", "desktop_app", *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=subprocess_env(),
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


def _can_mount(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size=64k tmpfs "{probe}"'],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.parametrize(
    ("options", "said"),
    [("size=48k", "磁盘空间不足"), ("size=4m,ro", "只读")],
    ids=["full", "read-only"],
)
def test_backup_command_to_a_full_or_read_only_disk_says_so(
    cli_site: Path, tmp_path: Path, options: str, said: str
) -> None:
    if not _can_mount(tmp_path):
        pytest.skip("no unprivileged mount namespace here")
    stick = tmp_path / "stick"
    stick.mkdir()
    done = _in_small_mount(
        ["--data-dir", str(cli_site), "backup", "--to", str(stick)], stick, options
    )
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "程序内部错误" not in done.stderr
    assert not parts_under(cli_site)
    assert not list(stick.iterdir())  # the mount is gone, and nothing was written beneath it


def test_import_is_preceded_by_a_timed_backup(cli_site: Path, tmp_path: Path) -> None:
    batch = tmp_path / "批量.json"
    row = {
        "complainant_type": "person",
        "name": "王芳",
        "id_number": person_form().id_number,
        "phone": "13812345678",
        "title": "医保结算查不到参保信息",
        "description": "在县人民医院办理医保结算时被告知查不到参保信息。",
        "area": "医保社保",
        "channel": "网上",
        "received_at": "2025-06-01 09:00",
    }
    batch.write_text(json.dumps([row], ensure_ascii=False), encoding="utf-8")
    done = run_bbcs("intake", "--from", str(batch), data_dir=cli_site)
    assert done.returncode == 0, done.stderr
    assert "导入前已备份" in done.stdout and "备份用时" in done.stdout
    kinds = {b.kind for b in list_backups(cli_site / "backups")}
    assert {"import", "daily"} <= kinds


# Retention keeps what must be kept; names carry the site code (review) ----------------------------


def test_pre_restore_and_before_upgrade_backups_are_never_pruned() -> None:
    start = datetime(2026, 11, 25, 8, 0)
    daily = [fake(start - timedelta(days=n), size=600) for n in range(30)]
    kept_kinds = [
        fake(start - timedelta(days=20, hours=1), "pre-restore", size=600),
        fake(start - timedelta(days=10, hours=1), "pre-restore", size=600),
        fake(start - timedelta(days=25, hours=1), "before-upgrade", size=600),
        fake(start - timedelta(days=40), "manual", size=600),
    ]
    pruned = to_prune(daily + kept_kinds, daily=2, weekly=0, monthly=0, size_cap=1000)
    assert pruned and not {b.kind for b in pruned} - {"daily"}


def test_after_two_restores_the_first_pre_restore_copy_is_still_there(
    services: AppServices, admin: Actor, clerk: Actor, clock: FixedClock
) -> None:
    from desktop_app.services.backup import restore

    services.backups.save_settings(admin, BackupSettings(1, 0, 0, 0, ""))
    services.intake.register(clerk, person_form())
    backup = services.backups.backup(admin).backup.path
    services.close()
    first = restore(services.layout, backup, actor=admin, clock=clock).pre_restore_backup
    clock.at += timedelta(days=1)
    second = restore(services.layout, backup, actor=admin, clock=clock).pre_restore_backup
    from desktop_app.services.app import open_services

    reopened = open_services(services.layout.root, clock=clock)
    try:
        for _day in range(2, 5):
            clock.at += timedelta(days=1)
            assert reopened.backups.daily_if_due() is not None
    finally:
        reopened.close()
    assert first is not None and second is not None
    assert first.exists() and second.exists()


def test_backup_names_carry_the_site_code_and_old_names_still_read(
    services: AppServices, admin: Actor
) -> None:
    written = services.backups.backup(admin).backup
    assert written.path.name.startswith("bbcs-410221-manual-")
    assert written.site_code == "410221"
    assert parse_name(Path("bbcs-410221-daily-20261206-080000.db")) == (
        "daily",
        datetime(2026, 12, 6, 8, 0, 0),
    )
    assert list_backups(services.layout.backups)[0].path == written.path
    # The MAC sidecar is not listed as a backup.
    assert written.path.with_name(f"{written.path.name}.mac").exists()
    assert len(list_backups(services.layout.backups)) == 1


def test_a_shared_second_folder_is_pruned_of_this_sites_backups_only(
    services: AppServices, admin: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    shared = tmp_path / "服务器共享"
    shared.mkdir()
    others = [
        shared / "bbcs-410222-daily-20200101-080000.bbcsbak",
        shared / "bbcs-410222-daily-20200102-080000.bbcsbak",
        shared / "bbcs-daily-20200103-080000.bbcsbak",  # an older name: anyone's
    ]
    for path in others:
        path.write_bytes(b"another county's backup")
    services.backups.save_settings(admin, BackupSettings(1, 0, 0, 0, str(shared)))
    start = clock.at
    for day in range(3):
        clock.at = start + timedelta(days=day)
        assert services.backups.daily_if_due() is not None
    assert all(path.exists() for path in others)
    ours = [b for b in list_backups(shared) if b.site_code == "410221"]
    assert len(ours) == 1


def test_without_hard_links_a_taken_name_is_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.services import backup as backup_module

    def no_links(_source: object, _target: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(backup_module.os, "link", no_links)
    at = datetime(2026, 12, 6, 8, 0)
    placed = []
    for content in (b"first", b"second"):
        temp = tmp_path / f"{content.decode()}.part"
        temp.write_bytes(content)
        placed.append(
            backup_module._place(temp, tmp_path, "daily", at, "db", site_code="410221", mac=b"{}")
        )
    assert placed[0] != placed[1]
    assert [p.read_bytes() for p in placed] == [b"first", b"second"]
    # A name taken between the check and the claim is refused, not overwritten.
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"kept")
    temp = tmp_path / "new.part"
    temp.write_bytes(b"new")
    with pytest.raises(FileExistsError):
        backup_module._claim(temp, taken)
    assert taken.read_bytes() == b"kept"


def test_a_backup_to_a_folder_not_there_or_inside_the_data_dir_is_refused(
    services: AppServices, admin: Actor, tmp_path: Path
) -> None:
    """A walk's `backup --to /media/E/备份` (the stick not mounted) made the folder and said
    已备份: the "U盘" backup was on the PC's own disk; `--to county/attachments` wrote an
    unencrypted database beside the materials."""
    before = audit_count(services)
    missing = tmp_path / "media" / "E" / "备份"
    with pytest.raises(UserError, match="找不到文件夹") as caught:
        services.backups.backup(admin, to=missing)
    assert "U盘已插好" in caught.value.message and not (tmp_path / "media").exists()
    with pytest.raises(UserError, match="数据文件夹之内"):
        services.backups.backup(admin, to=services.layout.attachments)
    assert list(services.layout.attachments.rglob("*.db")) == []
    assert audit_count(services) == before
    with pytest.raises(ValidationFailed, match="找不到文件夹"):
        services.backups.save_settings(
            admin, replace(services.backups.settings(), second_folder=str(missing))
        )
