"""The ledger, the dashboard and intake fit the smallest office screen (issue 12 item 3).

Each page's minimum size fits what the main window leaves a page on a 1280×680 screen area
(``SMALLEST_SCREEN``: 1920×1080 at 150 % less the taskbar; it covers 1366×768 too), and what a
clerk needs stays reachable there: the ledger's search and status, the dashboard's figures, the
intake form's buttons.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QWidget

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.dashboard_page import DashboardPage
from desktop_app.ui.intake_page import IntakePage
from desktop_app.ui.ledger_page import LedgerPage
from desktop_app.ui.screen import SMALLEST_SCREEN
from tests.helpers.speed import fast_password_hashing  # noqa: F401

# What the main window leaves a page: less its navigation column (170 px and margins), the
# window's title bar and its status bar.
PAGE_AREA = QSize(SMALLEST_SCREEN.width() - 200, SMALLEST_SCREEN.height() - 80)
# A 1366×768 laptop's page area, with the taskbar, title bar and navigation taken.
LAPTOP_PAGE = QSize(1366 - 200, 768 - 40 - 80)


@pytest.fixture
def context(services: AppServices, clerk: Actor) -> Iterator[UiContext]:
    from desktop_app.ui.app import make_application

    make_application()  # the application's fonts and style sheet: they decide the sizes
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


def fits(size: QSize, area: QSize = PAGE_AREA) -> bool:
    return size.width() <= area.width() and size.height() <= area.height()


def shown(qtbot, page: QWidget, size: QSize) -> QWidget:
    qtbot.addWidget(page)
    page.resize(size)
    with qtbot.waitExposed(page):
        page.show()
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    return page


def visible_on_page(page: QWidget, widget: QWidget) -> bool:
    """The whole of ``widget`` is inside the page and not clipped by a scroll area."""
    on_page = QRect(widget.mapTo(page, QPoint(0, 0)), widget.size())
    return (
        widget.isVisible()
        and widget.visibleRegion().boundingRect().size() == widget.size()
        and page.rect().contains(on_page)
    )


def test_ledger_fits_with_its_filters_folded_and_unfolded(qtbot, context: UiContext) -> None:
    page = shown(qtbot, LedgerPage(context), PAGE_AREA)
    qtbot.waitUntil(lambda: not page.is_loading)
    assert fits(page.minimumSizeHint()), page.minimumSizeHint()
    assert page.search.isVisible() and page.status.isVisible()
    assert not page.area.isVisible()

    qtbot.mouseClick(page.more_button, Qt.MouseButton.LeftButton)
    assert page.area.isVisible() and page.date_to.isVisible()
    assert fits(page.minimumSizeHint()), page.minimumSizeHint()
    assert visible_on_page(page, page.date_to)


def test_dashboard_fits_and_shows_every_figure_on_a_laptop(qtbot, context: UiContext) -> None:
    page = DashboardPage(context)
    assert fits(page.minimumSizeHint()), page.minimumSizeHint()
    shown(qtbot, page, LAPTOP_PAGE)
    tiles = [button for button, _filter in page.figures.values()]
    assert len(tiles) == 15  # every supervision figure (issue 16) and the day's case figures
    assert all(visible_on_page(page, tile) for tile in tiles)
    assert visible_on_page(page, page.new_button)

    # Narrower: fewer columns, nothing cut off at the right.
    page.resize(PAGE_AREA.width() // 2 + 60, PAGE_AREA.height())
    qtbot.waitUntil(lambda: page.tile_columns == 2)
    for tile in tiles:
        right = tile.mapTo(page, tile.rect().topRight()).x()
        assert right < page.width()


def test_intake_fits_and_its_buttons_stay_visible(qtbot, context: UiContext) -> None:
    page = IntakePage(context)
    assert fits(page.minimumSizeHint()), page.minimumSizeHint()
    shown(qtbot, page, PAGE_AREA)
    assert visible_on_page(page, page.save_button)
    assert visible_on_page(page, page.clear_button)
    # Shift+Tab from 保存 to the form's last field: the form scrolls it into view.
    assert not visible_on_page(page, page.remove_file_button)
    page.save_button.setFocus()
    qtbot.keyClick(page.save_button, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert page.remove_file_button.hasFocus()
    qtbot.waitUntil(lambda: visible_on_page(page, page.remove_file_button))
    assert visible_on_page(page, page.save_button)


def test_the_audit_log_fits_and_its_buttons_stay_on_the_page(
    qtbot, services: AppServices, auditor: Actor, context: UiContext
) -> None:
    """At 125 % on a 1366×768 laptop, 查询, 清除条件 and 导出CSV lay past the page's right edge
    (a walk scrolled sideways to them): the filters take two rows."""
    from desktop_app.ui.audit_page import AuditPage

    auditing = UiContext(services, auditor, context.hub, context.runner)
    page = AuditPage(auditing)
    laptop_at_125 = QSize(int(1366 / 1.25) - 200, int((768 - 40) / 1.25) - 80)
    assert fits(page.minimumSizeHint(), laptop_at_125), page.minimumSizeHint()
    shown(qtbot, page, laptop_at_125)
    for button in (page.search_button, page.reset_button, page.export_button):
        assert visible_on_page(page, button), button.text()
