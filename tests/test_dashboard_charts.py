"""The 工作台's charts (issue 17): the month trend, this month and this year by nature and
approach, and the on-time rate are the bulletin's numbers (``StatisticsService``), a trend
column clicked lists its cases, and the page is saved as a picture for a person to look at."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.navigation import click_page
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.helpers.supervision_cases import build_office


@pytest.fixture
def context(services: AppServices, clerk: Actor) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


@pytest.fixture
def window(
    qtbot,
    context: UiContext,
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    message_boxes: MessageBoxes,
) -> MainWindow:
    from desktop_app.ui.app import make_application

    make_application()  # the application's fonts and style sheet, as a person sees them
    build_office(services, clerk, leader)
    main = _on_the_dashboard(qtbot, context)
    dashboard = main.dashboard
    qtbot.waitUntil(lambda: len(dashboard.period_data) == 2 and bool(dashboard.trend_data))
    return main


def _on_the_dashboard(qtbot, context: UiContext) -> MainWindow:
    """The window on a laptop's screen, showing the 工作台 (its charts asked for)."""
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    main.go_to("工作台")
    return main


def test_the_charts_show_the_bulletins_numbers(
    window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    dashboard = window.dashboard
    statistics = services.statistics
    trend = dashboard.trend_data
    assert len(trend) == 12
    assert trend[-1].period.start.month == services.clock.now().month
    received, concluded = (values for _name, values in dashboard.trend_chart.series)
    for index, month in enumerate(trend):
        bulletin = statistics.period_statistics(clerk, month.period, compare=False)
        assert (month.received, month.concluded) == (
            bulletin.totals.received,
            bulletin.totals.concluded,
        ), month.period.text()
        assert (received[index], concluded[index]) == (month.received, month.concluded)
    assert sum(received) > 0 and sum(concluded) > 0  # the office's cases are in the trend

    for key, period in (
        ("month", services.supervision.this_month()),
        ("year", services.supervision.this_year()),
    ):
        bulletin = statistics.period_statistics(clerk, period, compare=False)
        _card, natures, approaches, on_time = dashboard.period_cards[key]
        assert natures.rows == bulletin.breakdowns["nature"].rows, key
        assert approaches.rows == bulletin.breakdowns["approach"].rows, key
        assert on_time.text() == f"按期办结率 {bulletin.on_time.text()}", key
        assert dashboard.period_data[key].on_time == bulletin.on_time
        assert sum(count for _label, count in natures.rows) == bulletin.totals.received


def test_a_trend_column_clicked_lists_its_cases(qtbot, window: MainWindow) -> None:
    dashboard = window.dashboard
    chart = dashboard.trend_chart
    ledger = window.ledger
    month = len(dashboard.trend_data) - 1  # this month
    for series, expected in (
        (0, dashboard.trend_data[month].received),
        (1, dashboard.trend_data[month].concluded),
    ):
        window.go_to("工作台")
        column = chart.column_rect(month, series)
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=column.center())
        assert window.pages.currentWidget() is ledger
        qtbot.waitUntil(lambda n=expected: ledger.model.rowCount() == n and not ledger.is_loading)
        assert ledger.count_label.text() == f"共 {expected:,} 件"


def test_screenshot_of_the_dashboards_charts(window: MainWindow, tmp_path: Path) -> None:
    """Saved for a person to look at when BBCS_SCREENSHOTS names a folder (run it again with
    QT_SCALE_FACTOR=1.25); the whole window, then the page scrolled to its end."""
    folder = Path(os.environ.get("BBCS_SCREENSHOTS", "") or tmp_path)
    scale = os.environ.get("QT_SCALE_FACTOR", "1")
    suffix = "" if scale in ("", "1") else f"-scale{scale}"
    assert window.grab().save(str(folder / f"19c-dashboard-charts{suffix}.png"))
    dashboard = window.dashboard
    assert dashboard.charts_host.isVisible()
    assert dashboard.charts_host.grab().save(str(folder / f"19d-dashboard-charts-only{suffix}.png"))


def test_the_charts_are_read_when_the_page_is_shown_not_while_hidden(
    qtbot, window: MainWindow, context: UiContext
) -> None:
    """The year's figures cost a few hundred milliseconds at 100,000 cases: a save made on
    another page does not spend them until the 工作台 is looked at again."""
    dashboard = window.dashboard
    window.go_to("事项台账")
    assert not dashboard.isVisible()
    dashboard.period_data.clear()
    dashboard.refresh()  # what a change published by another page does
    qtbot.waitUntil(context.runner.idle)  # the figures read and delivered; no charts asked
    assert dashboard.charts_stale and not dashboard.period_data
    window.go_to("工作台")
    qtbot.waitUntil(lambda: len(dashboard.period_data) == 2)
    assert not dashboard.charts_stale


def test_a_slow_year_does_not_hold_up_the_ledger(
    qtbot,
    context: UiContext,
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    message_boxes: MessageBoxes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At a city of 1.5 million this year's figures take 2.2 s. While they are read, the clerk
    opens 事项台账 and searches: the results do not wait for the chart (they did, on the
    screens' own worker)."""
    build_office(services, clerk, leader)
    year = services.supervision.this_year()
    reading = threading.Event()
    release = threading.Event()
    figures = services.supervision.period_figures

    def slow(actor: Actor, period: Any) -> Any:
        if period == year:
            reading.set()
            release.wait(30)
        return figures(actor, period)

    monkeypatch.setattr(services.supervision, "period_figures", slow)
    main = _on_the_dashboard(qtbot, context)
    qtbot.waitUntil(reading.is_set)  # the year's read has begun, and waits
    try:
        click_page(qtbot, main, "事项台账")
        ledger = main.ledger
        assert main.pages.currentWidget() is ledger
        qtbot.keyClicks(ledger.search, "2026")  # every case number holds the year
        qtbot.keyClick(ledger.search, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not ledger.is_loading and ledger.model.rowCount() > 0)
        assert "year" not in main.dashboard.period_data  # still being read
    finally:
        release.set()
    qtbot.waitUntil(lambda: "year" in main.dashboard.period_data)
