"""The dashboard's painted charts (ui/charts.py): they hold the numbers they were given, tell
each bar's value and share on hover, and a trend column clicked names its month and series."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from desktop_app.ui.charts import BarChart, TrendChart

ROWS = (("很难办", 30), ("不给办", 20), ("办不了", 10))


def shown(qtbot, widget: QWidget, width: int = 400, height: int = 220) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(width, height)
    with qtbot.waitExposed(widget):
        widget.show()
    return widget


def test_bars_are_as_long_as_their_counts_and_tell_their_share(qtbot) -> None:
    chart = BarChart()
    chart.set_rows(ROWS)
    shown(qtbot, chart, height=chart.sizeHint().height())
    assert chart.rows == ROWS
    widths = [chart.bar_rect(index).width() for index in range(len(ROWS))]
    assert widths[0] > widths[1] > widths[2] > 0
    assert abs(widths[1] * 3 - widths[0] * 2) <= 3  # proportional, to the pixel
    assert chart.row_at(chart.bar_rect(1).center()) == 1
    assert chart.tip(2) == "办不了：10 件，占16.7%（共 60 件）"
    assert not chart.grab().isNull()


def test_an_empty_bar_chart_paints_a_note(qtbot) -> None:
    chart = BarChart()
    chart.set_rows(())
    shown(qtbot, chart, height=chart.sizeHint().height())
    assert chart.row_at(chart.rect().center()) is None
    assert not chart.grab().isNull()


def test_a_trend_column_clicked_names_its_month_and_series(qtbot) -> None:
    chart = TrendChart()
    chart.set_data(
        ["10月", "11月", "12月"],
        [("受理", [12, 30, 7]), ("其中已办结", [10, 25, 0])],
        ["2026年10月", "2026年11月", "2026年12月"],
    )
    shown(qtbot, chart)
    assert chart.column_rect(1, 0).height() > chart.column_rect(0, 0).height()
    assert chart.column_rect(2, 1).height() == 0  # nothing concluded yet: no column
    assert chart.tip(1) == "2026年11月：受理 30 件，其中已办结 25 件（点击查看）"
    with qtbot.waitSignal(chart.clicked) as blocker:
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.column_rect(1, 1).center())
    assert blocker.args == [1, 1]
    assert not chart.grab().isNull()
