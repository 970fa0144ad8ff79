"""系统设置 → 备份与恢复, clicked as the administrator (and seen by a clerk)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from desktop_app.services.app import AppServices
from desktop_app.services.backup import BackupSettings
from desktop_app.services.context import Actor
from desktop_app.ui.backup_page import BackupTab
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from tests.helpers.factories import person_form
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401

TabMaker = Callable[[Actor], BackupTab]


@pytest.fixture
def make_tab(
    qtbot: QtBot, services: AppServices, message_boxes: MessageBoxes
) -> Iterator[TabMaker]:
    runners: list[TaskRunner] = []

    def make(actor: Actor) -> BackupTab:
        runner = TaskRunner()
        runners.append(runner)
        tab = BackupTab(UiContext(services, actor, ChangeHub(), runner))
        qtbot.addWidget(tab)
        tab.resize(1000, 700)
        tab.show()
        qtbot.waitUntil(runner.idle, timeout=10_000)
        return tab

    yield make
    for runner in runners:
        runner.wait()


def settle(qtbot: QtBot, tab: BackupTab) -> None:
    qtbot.waitUntil(tab._context.runner.idle, timeout=20_000)


def test_back_up_now_lists_the_backup(qtbot: QtBot, make_tab: TabMaker, admin: Actor) -> None:
    tab = make_tab(admin)
    assert tab.table.rowCount() == 0
    qtbot.mouseClick(tab.backup_button, Qt.MouseButton.LeftButton)
    settle(qtbot, tab)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=10_000)
    assert tab.table.item(0, 1).text() == "手动"
    assert "备份用时" in tab.status.text()


def test_back_up_to_a_stick_writes_an_encrypted_copy_there(
    qtbot: QtBot,
    make_tab: TabMaker,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The copy for a stick was the command line's only (bbcs backup --to); and the second
    folder's field had no 浏览…."""
    stick = tmp_path / "U盘"
    stick.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(stick))
    )
    tab = make_tab(admin)
    top = tab.backup_button.mapToGlobal(QPoint(0, 0))
    qtbot.mouseClick(tab.stick_button, Qt.MouseButton.LeftButton)
    settle(qtbot, tab)
    qtbot.waitUntil(lambda: "备份用时" in tab.status.text(), timeout=10_000)
    (written,) = stick.glob("*.bbcsbak")
    assert not written.read_bytes().startswith(b"SQLite format 3")
    assert tab.backup_button.mapToGlobal(QPoint(0, 0)) == top  # the status line moved nothing
    qtbot.mouseClick(tab.browse_button, Qt.MouseButton.LeftButton)
    assert tab.second_folder.text() == str(stick)


def test_settings_are_saved(
    qtbot: QtBot, make_tab: TabMaker, admin: Actor, services: AppServices
) -> None:
    tab = make_tab(admin)
    assert tab.keep_daily.value() == 7
    tab.keep_daily.selectAll()
    qtbot.keyClicks(tab.keep_daily, "3")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, tab)
    assert tab.status.text() == "备份设置已保存。"
    assert services.backups.settings() == BackupSettings(3, 4, 12, 10240, "")


def test_restore_the_selected_backup_after_confirmation(
    qtbot: QtBot,
    make_tab: TabMaker,
    admin: Actor,
    clerk: Actor,
    services: AppServices,
    message_boxes: MessageBoxes,
) -> None:
    services.intake.register(clerk, person_form(name="王芳", title="备份中的事项"))
    services.backups.backup(admin)
    services.intake.register(clerk, person_form(name="李娜", title="备份后的事项"))
    tab = make_tab(admin)
    assert tab.table.rowCount() == 1
    message_boxes.allow("information")
    message_boxes.answer(QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(
        tab.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=tab.table.visualItemRect(tab.table.item(0, 0)).center(),
    )
    with qtbot.waitSignal(tab.restored, timeout=20_000):
        qtbot.mouseClick(tab.restore_button, Qt.MouseButton.LeftButton)
    question = next(b for b in message_boxes.shown if b.kind == "question")
    assert str(services.layout.database) in question.text and "恢复前" in question.text
    connection = sqlite3.connect(services.layout.database)
    titles = [t for (t,) in connection.execute("SELECT title FROM cases")]
    connection.close()
    assert titles == ["备份中的事项"]


def test_export_recovery_key_writes_the_file_and_the_sheet(
    qtbot: QtBot,
    make_tab: TabMaker,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "恢复密钥.json"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_args, **_kw: (str(out), ""))
    )
    tab = make_tab(admin)
    qtbot.mouseClick(tab.recovery_button, Qt.MouseButton.LeftButton)
    settle(qtbot, tab)
    assert out.exists() and out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert "锁进保密柜" in tab.status.text()


def test_a_clerk_sees_the_buttons_disabled(make_tab: TabMaker, clerk: Actor) -> None:
    tab = make_tab(clerk)
    for button in (
        tab.backup_button,
        tab.stick_button,
        tab.restore_button,
        tab.recovery_button,
        tab.save_button,
    ):
        assert not button.isEnabled()


def test_the_administrator_is_asked_for_the_recovery_key_until_it_is_exported(
    qtbot: QtBot,
    services: AppServices,
    admin: Actor,
    clerk: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    """The band above the pages (from the first log-in after setup on) until someone has
    exported the key; a clerk, who may not export it, never sees it."""
    from desktop_app.ui.main_window import MainWindow

    out = tmp_path / "stick" / "恢复密钥.json"
    out.parent.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_args, **_kw: (str(out), ""))
    )

    def window_for(actor: Actor) -> tuple[MainWindow, TaskRunner]:
        runner = TaskRunner()
        window = MainWindow(UiContext(services, actor, ChangeHub(), runner))
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(runner.idle, timeout=20_000)
        return window, runner

    clerks, clerk_runner = window_for(clerk)
    assert not clerks.recovery_banner.isVisible()
    window, runner = window_for(admin)
    qtbot.waitUntil(window.recovery_banner.isVisible, timeout=10_000)
    assert "还没有导出恢复密钥" in window.recovery_banner.text.text()

    message_boxes.allow("information")
    qtbot.mouseClick(window.recovery_banner.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.recovery_banner.isVisible(), timeout=20_000)
    assert out.exists() and out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert "锁进保密柜" in message_boxes.texts("information")[-1]

    again, again_runner = window_for(admin)
    assert not again.recovery_banner.isVisible()
    for each in (clerk_runner, runner, again_runner):
        each.wait()
    for each in (clerks, window, again):
        each.database_check.wait()
