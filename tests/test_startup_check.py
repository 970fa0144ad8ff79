"""The start-up check of the database file (issue 15 item 3): quick at every start, thorough
after an unclean shutdown and weekly; a damaged file opens read-only, says so plainly and offers
the newest good backup; ``bbcs check`` on a damaged file reports the damage (exit 2)."""

from __future__ import annotations

import os
import random
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from desktop_app.domain.permissions import Permission
from desktop_app.errors import EnvironmentProblem
from desktop_app.paths import DataLayout
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.backup import write_mac
from desktop_app.services.context import FixedClock
from desktop_app.services.health import DatabaseHealth, check_file
from desktop_app.storage.database import InstanceLock
from tests.helpers.cli import run_bbcs
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401


def _damage_a_table(path: Path, table: str = "case_events") -> None:
    """Random bytes over one page of ``table`` in the middle of the file, as a bad sector or a
    half-written page does."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = connection.execute("PRAGMA page_size").fetchone()[0]
        pages = [
            row[0]
            for row in connection.execute(
                "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'", (table,)
            )
        ]
    finally:
        connection.close()
    assert pages, f"{table} has no leaf page"
    page = pages[len(pages) // 2]
    with path.open("r+b") as file:
        file.seek((page - 1) * size)
        file.write(random.Random(15).randbytes(size))


def mac(services: AppServices, backup: Path) -> None:
    """A copy made with the primitive, given the MAC every backup of the program carries."""
    write_mac(backup, services.data_key)


def _with_cases(services: AppServices, clerk: object, count: int = 30) -> None:
    for _ in range(count):
        services.intake.register(clerk, person_form())  # type: ignore[arg-type]


def test_a_sound_database_passes_the_quick_check(services: AppServices) -> None:
    report = services.health.check(thorough=False)
    assert report.ok and not report.thorough
    assert "正常" in report.summary()
    assert services.db.writes_refused is None


def test_a_damaged_database_is_found_and_then_only_read(
    services: AppServices, clerk: object, data_dir: Path
) -> None:
    _with_cases(services, clerk)
    services.db.dispose()
    _damage_a_table(data_dir / "bbcs.db")

    report = services.health.check(thorough=False)

    assert not report.ok
    assert "已损坏" in report.summary() and "只能查看" in report.summary()
    explanation = services.health.explanation(report)
    assert "备份" in explanation and str(data_dir / "backups") in explanation
    # Reading goes on; every write is refused with the plain message, and nothing is saved.
    assert services.site.info().code == "410221"
    with pytest.raises(EnvironmentProblem, match="只能查看"):
        services.intake.register(clerk, person_form())  # type: ignore[arg-type]


def test_after_the_damage_is_found_the_administrator_still_logs_in_to_restore(
    services: AppServices, clerk: object, data_dir: Path
) -> None:
    """A walk: a clerk logged in, the check found the damage, and then 切换用户 to the
    administrator (who restores) was refused — a log-in writes, and nothing may be written.
    Now it is checked as any log-in, recorded in the log file only."""
    from desktop_app.errors import UserError
    from tests.helpers.factories import ADMIN_PASSWORD

    _with_cases(services, clerk)
    services.db.dispose()
    _damage_a_table(data_dir / "bbcs.db")
    assert not services.health.check(thorough=False).ok
    assert services.db.writes_refused is not None

    admin = services.auth.login("admin", ADMIN_PASSWORD)
    assert admin.username == "admin" and admin.can(Permission.BACKUP_DATA)
    with pytest.raises(UserError, match="用户名或密码不正确"):
        services.auth.login("admin", "Wrong12345")


def test_the_newest_good_backup_is_offered(
    services: AppServices, clerk: object, data_dir: Path
) -> None:
    _with_cases(services, clerk, 5)
    older = services.db.backup_to(data_dir / "backups" / "bbcs-manual-20260101-080000.db")
    newer = services.db.backup_to(data_dir / "backups" / "bbcs-manual-20260102-080000.db")
    write_mac(older, services.data_key)
    write_mac(newer, services.data_key)
    os.utime(older, (1_700_000_000, 1_700_000_000))
    _damage_a_table(newer)  # the newest copy is itself damaged: the older one is offered

    assert services.health.newest_good_backup() == older
    # Looking left nothing beside the backups (a walk found -wal and -shm files there).
    assert sorted(p.suffix for p in (data_dir / "backups").iterdir() if "-" in p.suffix) == []


def test_an_unclean_shutdown_asks_for_the_thorough_check_until_one_passes(
    data_dir: Path, clock: FixedClock
) -> None:
    layout = DataLayout(data_dir)
    with InstanceLock(layout):
        open_services(data_dir, clock=clock).close()
    assert not layout.open_marker.exists()  # a clean close leaves no marker

    with InstanceLock(layout):
        crashed = open_services(data_dir, clock=clock)
        assert layout.open_marker.exists()
        crashed.db.dispose()  # the process dies here: close() never runs

    with InstanceLock(layout):
        command = open_services(data_dir, clock=clock)  # a writing command, no check
        assert command.health.unclean_shutdown
        command.close()
    assert layout.open_marker.exists()  # still owed

    with InstanceLock(layout):
        window = open_services(data_dir, clock=clock)
        assert window.health.thorough_check_due()
        report = window.health.startup_check()
        assert report.ok and report.thorough
        window.close()
    assert not layout.open_marker.exists()


def test_the_thorough_check_comes_back_weekly(data_dir: Path, clock: FixedClock) -> None:
    services = open_services(data_dir, clock=clock)
    try:
        assert services.health.thorough_check_due()  # never done
        assert services.health.startup_check().thorough
        assert not services.health.thorough_check_due()
        assert not services.health.startup_check().thorough
        later = FixedClock(clock.now() + timedelta(days=7))
        again = DatabaseHealth(services.db, services.layout, later)
        assert again.thorough_check_due()
    finally:
        services.close()


def test_check_reports_a_file_that_is_not_a_database(data_dir: Path) -> None:
    open_services(data_dir).close()
    (data_dir / "bbcs.db").write_bytes(random.Random(3).randbytes(200_000))

    result = run_bbcs("check", data_dir=data_dir)

    assert result.returncode == 2, result.stderr
    output = result.stdout + result.stderr
    assert "不是有效的数据库文件" in output
    assert "程序内部错误" not in output and "Traceback" not in output


def test_check_reports_damaged_pages(services: AppServices, clerk: object, data_dir: Path) -> None:
    _with_cases(services, clerk)
    services.close()
    _damage_a_table(data_dir / "bbcs.db")

    result = run_bbcs("check", data_dir=data_dir)

    assert result.returncode == 2, result.stderr
    output = result.stdout + result.stderr
    assert "损坏" in output
    assert "程序内部错误" not in output and "Traceback" not in output
    assert not check_file(data_dir / "bbcs.db").ok


def test_the_window_checks_after_it_opens_and_explains_a_damaged_file(
    qtbot, services: AppServices, clerk: object, data_dir: Path, message_boxes: object
) -> None:
    from PySide6.QtCore import Qt

    from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
    from desktop_app.ui.main_window import MainWindow

    _with_cases(services, clerk)
    mac(services, services.db.backup_to(data_dir / "backups" / "bbcs-daily-20260101-080000.db"))
    services.db.dispose()
    _damage_a_table(data_dir / "bbcs.db")
    runner = TaskRunner()
    window = MainWindow(UiContext(services, clerk, ChangeHub(), runner))  # type: ignore[arg-type]
    qtbot.addWidget(window)
    # The check is held until the status bar has been seen saying it runs (a fast machine
    # would otherwise finish before anyone could read it).
    release = threading.Event()
    real_check = services.health.startup_check

    def held_check() -> object:
        release.wait(timeout=30)
        return real_check()

    services.health.startup_check = held_check  # type: ignore[method-assign]
    window.show()
    check = window.database_check
    qtbot.waitUntil(lambda: check.label.text().startswith("正在检查数据库"))
    release.set()

    qtbot.waitUntil(lambda: check.notice is not None and check.notice.isVisible(), timeout=10_000)
    assert "只能查看" in check.label.text()
    assert check.notice is not None and "已损坏" in check.notice.text()
    qtbot.mouseClick(check.find_backup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: check.offer is not None and check.offer.isVisible(), timeout=10_000)
    assert check.offer is not None
    assert "bbcs-daily-20260101-080000.db" in check.offer.text()
    assert "bbcs restore" in check.offer.text()
    check.offer.close()
    runner.wait()
    check.wait()


def _window(services: AppServices, actor: object) -> tuple[object, object]:
    from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
    from desktop_app.ui.main_window import MainWindow

    runner = TaskRunner()
    window = MainWindow(UiContext(services, actor, ChangeHub(), runner))  # type: ignore[arg-type]
    return window, runner


def test_a_sound_start_makes_the_days_backup_after_the_check(
    qtbot, services: AppServices, clerk: object, data_dir: Path
) -> None:
    from desktop_app.services.backup import list_backups

    _with_cases(services, clerk)
    window, runner = _window(services, clerk)
    qtbot.addWidget(window)
    window.show()  # type: ignore[attr-defined]
    check = window.database_check  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: check.backup is not None, timeout=20_000)
    assert "已自动备份" in check.label.text()
    assert check.tampered == []
    daily = [b for b in list_backups(data_dir / "backups") if b.kind == "daily"]
    assert len(daily) == 1 and daily[0].path == check.backup.backup.path
    runner.wait()  # type: ignore[attr-defined]
    check.wait()


def test_a_rule_changed_behind_the_program_is_told_at_the_start_and_stays_told(
    qtbot, services: AppServices, clerk: object, data_dir: Path
) -> None:
    """A deadline rule lengthened by SQL was used by every window until someone ran bbcs
    check: the window's start now reads the settings, calendar, roster and users against their
    digests, tells it in a box and in red in the status bar (each record in its tooltip), and
    keeps saying so after the day's backup."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    _with_cases(services, clerk, 3)
    _changed_by_sql(
        data_dir, "INSERT INTO settings (key, value) VALUES ('deadline_rule.hard', '30')"
    )
    runner, check = _started(qtbot, services, clerk)
    qtbot.waitUntil(lambda: check.backup is not None, timeout=20_000)
    assert check.tampered and len(check.tampered) == 1
    assert "被绕过程序改动" in check.label.text()
    named = "设置项“很难办（工作日）”（deadline_rule.hard） 没有校验值"
    assert named in check.label.toolTip() and "bbcs check" in check.label.toolTip()
    notice = check.tamper_notice
    assert notice is not None and notice.isVisible()
    assert named in notice.text() and "请告知纪检审计人员运行 bbcs check" in notice.text()
    qtbot.mouseClick(notice.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not notice.isVisible())
    assert check.label.isVisible() and "被绕过程序改动" in check.label.text()
    runner.wait()  # type: ignore[attr-defined]
    check.wait()


def test_a_damaged_file_is_not_backed_up_and_the_administrator_restores_from_the_offer(
    qtbot,
    services: AppServices,
    clerk: object,
    admin: object,
    data_dir: Path,
    message_boxes: object,
) -> None:
    from PySide6.QtCore import Qt

    from desktop_app.services.backup import list_backups

    _with_cases(services, clerk)
    good = data_dir / "backups" / "bbcs-daily-20260101-080000.db"
    mac(services, services.db.backup_to(good))
    services.db.dispose()
    _damage_a_table(data_dir / "bbcs.db")
    window, runner = _window(services, admin)
    qtbot.addWidget(window)
    window.show()  # type: ignore[attr-defined]
    check = window.database_check  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: check.notice is not None and check.notice.isVisible(), timeout=20_000)
    assert check.backup is None  # a damaged file never replaces a good backup
    assert [b.path for b in list_backups(data_dir / "backups") if b.kind == "daily"] == [good]

    qtbot.mouseClick(check.find_backup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: check.offer is not None and check.offer.isVisible(), timeout=20_000)
    assert check.restore_button is not None and "恢复此备份" in check.offer.text()
    message_boxes.allow("information")  # type: ignore[attr-defined]
    qtbot.mouseClick(check.restore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: check.restored is not None, timeout=30_000)

    assert check_file(data_dir / "bbcs.db").ok
    assert "已从" in message_boxes.texts("information")[-1]  # type: ignore[attr-defined]
    kinds = [b.kind for b in list_backups(data_dir / "backups")]
    assert "pre-restore" in kinds  # the damaged file is kept, not thrown away
    runner.wait()  # type: ignore[attr-defined]
    check.wait()


def test_a_clerk_is_told_to_ask_the_administrator(
    qtbot, services: AppServices, clerk: object, data_dir: Path, message_boxes: object
) -> None:
    from PySide6.QtCore import Qt

    _with_cases(services, clerk)
    mac(services, services.db.backup_to(data_dir / "backups" / "bbcs-daily-20260101-080000.db"))
    services.db.dispose()
    _damage_a_table(data_dir / "bbcs.db")
    window, runner = _window(services, clerk)
    qtbot.addWidget(window)
    window.show()  # type: ignore[attr-defined]
    check = window.database_check  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: check.notice is not None and check.notice.isVisible(), timeout=20_000)
    qtbot.mouseClick(check.find_backup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: check.offer is not None and check.offer.isVisible(), timeout=20_000)
    assert check.restore_button is None
    assert "请管理员登录后恢复" in check.offer.text()
    check.offer.close()
    runner.wait()  # type: ignore[attr-defined]
    check.wait()


def test_an_encrypted_backup_is_offered_when_it_is_the_newest_good_one(
    services: AppServices, clerk: object, admin: object, data_dir: Path
) -> None:
    """After the upgrade every old backup is a .bbcsbak: a damaged database is still offered one
    (decrypted with the site's keys, its MAC verified, quick_check passed)."""
    from desktop_app.services.backup import encrypt_plain_backups

    _with_cases(services, clerk, 5)
    written = services.backups.backup(admin).backup.path  # type: ignore[arg-type]
    assert encrypt_plain_backups(services.layout.backups, services.keys, services.data_key)
    encrypted = written.with_suffix(".bbcsbak")
    assert encrypted.exists() and not written.exists()
    services.db.dispose()
    _damage_a_table(data_dir / "bbcs.db")

    assert services.health.newest_good_backup() == encrypted


def test_many_changes_are_listed_a_few_in_the_box_and_all_in_its_details(
    qtbot, services: AppServices, clerk: object, admin: object, data_dir: Path
) -> None:
    """A walk found the box 860 pixels tall at 125 % once fifteen shifts and a holiday were
    deleted: it lists a few now, each cut short, and all under 显示详细信息."""
    from datetime import date

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from desktop_app.services.roster import DutyRole
    from desktop_app.ui import startup

    services.calendar.save_override(admin, date(2026, 12, 30), working=False, name="县城停电")  # type: ignore[arg-type]
    leader, _ = services.roster.save_staff(admin, name="韩国栋", duty_role=DutyRole.LEADER)  # type: ignore[arg-type]
    services.roster.set_shift(admin, date(2026, 12, 1), DutyRole.LEADER, leader.id)  # type: ignore[arg-type]
    _changed_by_sql(
        data_dir,
        "DELETE FROM holiday_overrides",
        "DELETE FROM duty_shifts",
        "UPDATE duty_staff SET name = '王某某'",
        "INSERT INTO settings (key, value) VALUES ('deadline_rule.hard', '30')",
        "INSERT INTO settings (key, value) VALUES ('deadline_rule.wont', '9')",
        "UPDATE users SET display_name = '张三' WHERE username = 'clerk1'",
    )
    runner, check = _started(qtbot, services, clerk)
    qtbot.waitUntil(lambda: check.tamper_notice is not None, timeout=20_000)
    notice = check.tamper_notice
    shown = startup.TAMPER_SHOWN
    assert check.tampered is not None and len(check.tampered) > shown
    assert notice.text().count("· ") == shown
    assert f"另有 {len(check.tampered) - shown} 处" in notice.text()
    for problem in check.tampered:
        assert problem in notice.detailedText()
    qtbot.mouseClick(notice.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    runner.wait()  # type: ignore[attr-defined]
    check.wait()


def _changed_by_sql(data_dir: Path, *statements: str) -> None:
    """The database changed behind the program (a plain sqlite3 connection, autocommit)."""
    from tests.helpers.db import raw_connect

    connection = raw_connect(data_dir)
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def _started(qtbot: object, services: AppServices, actor: object) -> tuple[object, object]:
    """The main window shown for ``actor``: its task runner and its start-up check."""
    window, runner = _window(services, actor)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()  # type: ignore[attr-defined]
    return runner, window.database_check  # type: ignore[attr-defined]
