"""The 工作台's figures (issue 16, Dashboard): each tile clicked shows a list of the same length,
the cases in the ledger, referrals and warnings on their own pages; the page fits a laptop."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.services.supervision import Figure
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.referrals_page import ReferralsPage
from tests.helpers.factories import person_form
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.helpers.supervision_cases import Office, build_office


@pytest.fixture
def context(services: AppServices, clerk: Actor) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


@pytest.fixture
def window(qtbot, context: UiContext, message_boxes: MessageBoxes) -> MainWindow:
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.resize(1366, 728)
    main.show()
    qtbot.waitUntil(lambda: not main.ledger.is_loading)
    return main


def page_title(window: MainWindow) -> str:
    return window._page_names[window.navigation.currentRow()]


def counted(qtbot, window: MainWindow) -> None:
    """Wait for the figures the worker counts (after the office's cases were made)."""
    window.dashboard.data = None
    window.dashboard.refresh()
    qtbot.waitUntil(lambda: window.dashboard.data is not None)


def test_each_tile_opens_a_list_as_long_as_its_number(
    qtbot,
    window: MainWindow,
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    message_boxes: MessageBoxes,
) -> None:
    office: Office = build_office(services, clerk, leader)
    dashboard = window.dashboard
    expected = services.supervision.counts(clerk)
    counted(qtbot, window)
    ledger = window.ledger
    for key, (tile, _filter) in dashboard.figures.items():
        figure = Figure(key)
        number = expected[figure]
        assert tile.number.text() == f"{number:,}", figure.label
        window.go_to("工作台")
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
        if figure is Figure.REFERRALS_PENDING:
            assert page_title(window) == "问责线索"
            register = window.page("问责线索")
            assert isinstance(register, ReferralsPage)
            # The register opens on 待处理: as many rows as the tile's number.
            qtbot.waitUntil(
                lambda n=number, r=register: r.model.rowCount() == n and not r.is_loading
            )
            assert register.current_filter().pending
            continue
        if figure is Figure.WARNINGS_OPEN:
            assert page_title(window) == "一类事与预警"
            continue
        assert window.pages.currentWidget() is ledger, figure.label
        qtbot.waitUntil(lambda n=number: ledger.model.rowCount() == n and not ledger.is_loading)
        assert ledger.count_label.text() == f"共 {number:,} 件", figure.label
        # The ledger's own filter widgets say which list this is, and choosing it there lists
        # the same cases.
        shown_filter = ledger.current_filter()
        assert services.ledger.count(shown_filter) == number, figure.label
    assert len(office.ids) == expected[Figure.TOTAL]
    assert dashboard.figures[Figure.OVERDUE.value][0].number.text() == "4"


def test_the_overdue_tile_lists_the_overdue_case(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor, clock
) -> None:
    today = clock.at
    clock.at = datetime(2026, 11, 2, 9, 0)
    result = services.intake.register(clerk, person_form())
    services.cases.triage(
        clerk, result.case_id, Triage(Nature.WONT, Approach.ORDER, (Cause.ATTITUDE,), "医保社保")
    )
    services.intake.register(clerk, person_form(phone="13900000009"))  # not late
    clock.at = today
    window.context.hub.publish(result.changes)
    overdue = window.dashboard.figures[Figure.OVERDUE.value][0]
    qtbot.waitUntil(lambda: overdue.number.text() == "1")
    qtbot.mouseClick(overdue, Qt.MouseButton.LeftButton)
    ledger = window.ledger
    assert window.pages.currentWidget() is ledger
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1 and not ledger.is_loading)
    assert ledger.status.currentText() == "已超期"
    assert ledger.model.data(ledger.model.index(0, 0)) == result.number


def test_a_clerk_without_the_referral_pages_sees_no_tiles_for_them(
    qtbot, services: AppServices, auditor: Actor
) -> None:
    from desktop_app.ui.dashboard_page import DashboardPage

    runner = TaskRunner()
    page = DashboardPage(UiContext(services, auditor, ChangeHub(), runner))
    qtbot.addWidget(page)
    assert Figure.WARNINGS_OPEN.value not in page.figures  # only who keeps the classes
    assert Figure.REFERRALS_PENDING.value in page.figures  # the auditor reads the register
    runner.wait()


def test_screenshot_of_the_dashboard_at_1366x768(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    """Saved for a person to look at (docs/screenshots/), when BBCS_SCREENSHOTS names a
    folder; otherwise rendered to a temporary file, so the page at least paints."""
    from desktop_app.ui.app import make_application

    make_application()  # the application's fonts and style sheet, as a person sees them
    build_office(services, clerk, leader)
    window.resize(1366, 768)
    window.go_to("工作台")
    counted(qtbot, window)
    folder = Path(os.environ.get("BBCS_SCREENSHOTS", "") or tmp_path)
    image = window.grab()
    assert image.save(str(folder / "19-dashboard-supervision.png"))


def test_every_figure_says_how_it_is_counted(window: MainWindow) -> None:
    """The README promises that the pointer on a number tells what it counts; six tiles only
    repeated their caption (待甄别分类 among them)."""
    for key, (button, _filter) in window.dashboard.figures.items():
        assert button.toolTip() not in ("", button.caption.text()), key
