"""The window's watch on other seats (ui/seat_watch.py): a case registered by another seat of
the same database reaches this window's change hub within the poll interval, on each engine."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.services.app import AppServices, open_services
from desktop_app.services.context import Changes, FixedClock
from desktop_app.ui.common import ChangeHub, TaskRunner
from desktop_app.ui.seat_watch import SeatWatch
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.speed import CHEAP_HASHER


@pytest.fixture
def other_seat(
    site_on_engine: AppServices, db_url: str | None, clock: FixedClock, tmp_path: Path
) -> Iterator[AppServices]:
    """A second seat on the same database: on PostgreSQL a data dir of its own with the site's
    keys, on SQLite the same data dir (one PC, two windows' worth of services)."""
    data_dir = site_on_engine.layout.root
    if db_url is not None:
        data_dir = tmp_path / "第二席"
        shutil.copytree(
            site_on_engine.layout.keys, data_dir / "keys", ignore=shutil.ignore_patterns("*.anchor")
        )
    services = open_services(data_dir, clock=clock, db_url=db_url, hasher=CHEAP_HASHER)
    yield services
    services.close()


def test_a_case_registered_on_another_seat_reaches_this_windows_hub(
    qtbot: QtBot, site_on_engine: AppServices, other_seat: AppServices
) -> None:
    hub = ChangeHub()
    runner = TaskRunner()
    told: list[Changes] = []
    hub.changed.connect(told.append)
    watch = SeatWatch(site_on_engine.change_watcher, runner, hub.publish, interval_ms=100)
    qtbot.waitUntil(runner.idle)  # the starting point is taken
    clerk = other_seat.auth.login("clerk1", USER_PASSWORD)
    result = other_seat.intake.register(clerk, person_form())
    qtbot.waitUntil(lambda: any(c.cases for c in told), timeout=3000)
    assert result.case_id in [i for c in told for i in c.case_ids]
    watch.stop()
    runner.wait()


def test_a_windows_ledger_shows_a_case_registered_on_another_seat(
    qtbot: QtBot, site_on_engine: AppServices, other_seat: AppServices
) -> None:
    """Two seats of one site: this window's ledger lists the other seat's new case within
    seconds, with nobody clicking 刷新 (wired as ui/app.py wires a window on PostgreSQL)."""
    from desktop_app.ui.common import UiContext
    from desktop_app.ui.main_window import MainWindow

    clerk = site_on_engine.auth.login("clerk1", USER_PASSWORD)
    runner = TaskRunner()
    window = MainWindow(UiContext(site_on_engine, clerk, ChangeHub(), runner))
    qtbot.addWidget(window)
    watch = SeatWatch(
        site_on_engine.change_watcher,
        runner,
        lambda c: window.context.hub.publish(c),
        window,
        interval_ms=200,
    )
    window.show()
    window.go_to("事项台账")
    qtbot.waitUntil(runner.idle)
    before = window.ledger.model.rowCount()
    other_clerk = other_seat.auth.login("clerk1", USER_PASSWORD)
    other_seat.intake.register(other_clerk, person_form(title="另一席位登记的事项"))
    qtbot.waitUntil(lambda: window.ledger.model.rowCount() == before + 1, timeout=5000)
    # No poll may start after this (it would hold a connection of a database being closed).
    watch.stop()
    runner.wait()


def test_an_open_case_window_says_when_another_seat_changed_the_case(
    qtbot: QtBot, site_on_engine: AppServices, other_seat: AppServices
) -> None:
    """The case is open here; the other seat triages it and drafts its assignment. The window
    says it is no longer current (it kept showing the old state, and a save then went over the
    other seat's) and reads it again on 刷新; its own saves raise no such banner."""
    from PySide6.QtCore import Qt

    from desktop_app.domain.vocabulary import Approach, Cause, Nature
    from desktop_app.services.cases import Triage
    from desktop_app.ui.case_detail import CaseDetailDialog
    from desktop_app.ui.common import UiContext

    clerk = site_on_engine.auth.login("clerk1", USER_PASSWORD)
    case_id = site_on_engine.intake.register(clerk, person_form()).case_id
    hub, runner = ChangeHub(), TaskRunner()
    dialog = CaseDetailDialog(UiContext(site_on_engine, clerk, hub, runner), case_id)
    qtbot.addWidget(dialog)
    watch = SeatWatch(site_on_engine.change_watcher, runner, hub.publish, dialog, interval_ms=100)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.is_loading and runner.idle())

    other_clerk = other_seat.auth.login("clerk1", USER_PASSWORD)
    triage = Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    other_seat.cases.triage(other_clerk, case_id, triage)
    qtbot.waitUntil(dialog.stale_banner.isVisible, timeout=5000)
    assert dialog.nature.currentIndex() == -1  # still what it read: nothing typed is lost
    qtbot.mouseClick(dialog.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.nature.currentData() == Nature.HARD.value)
    assert not dialog.stale_banner.isVisible()

    department = other_seat.site.departments()[0].id
    other_seat.assignments.create(
        other_clerk, case_id, department_id=department, assisting_ids=[], requirements="请办理。"
    )
    qtbot.waitUntil(dialog.stale_banner.isVisible, timeout=5000)  # an assignment's entry
    qtbot.mouseClick(dialog.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_loading and not dialog.stale_banner.isVisible())

    dialog.triage_note.setText("本窗口补充说明")
    qtbot.mouseClick(dialog.triage_button, Qt.MouseButton.LeftButton)  # its own save
    qtbot.waitUntil(lambda: dialog.triage_saved.text() != "")
    # The watch has come round to this seat's own entry (and told the dialog of it).
    from sqlalchemy import func, select

    from desktop_app.storage.models import AuditEntry

    with site_on_engine.db.read() as session:
        newest = session.scalar(select(func.max(AuditEntry.id))) or 0
    qtbot.waitUntil(lambda: watch._watcher is not None and watch._watcher._seen >= newest)
    qtbot.waitUntil(lambda: not dialog.is_loading and runner.idle())
    assert not dialog.stale_banner.isVisible()
    watch.stop()
    runner.wait()
