"""The responsiveness guard itself: it sees a slot that blocks the UI thread, in Python or in Qt's
own C++ code, and does not blame the time a test spends in its own code."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QHeaderView, QPushButton, QTableWidget, QTableWidgetItem

from tests.helpers.heartbeat import Heartbeat


def _watch(limit: float, *, slots_here: bool = True) -> Heartbeat:
    """A second guard; ``slots_here``: this file's functions count as slots (as ui/'s do)."""
    paths = (*Heartbeat().event_paths, "test_heartbeat.py") if slots_here else ()
    watch = Heartbeat(
        limit=limit, event_paths=paths or Heartbeat().event_paths, stretch_with_load=False
    )
    watch.start()
    return watch


def test_a_slot_that_blocks_is_a_stall(qtbot, heartbeat: Heartbeat) -> None:
    button = QPushButton("慢")
    qtbot.addWidget(button)
    button.clicked.connect(lambda: time.sleep(0.6))
    with heartbeat.paused():  # the test's own guard would (rightly) fail this test
        watch = _watch(limit=0.3)
        qtbot.wait(100)
        qtbot.mouseClick(button, _left())
        qtbot.wait(100)
        watch.stop()
    assert watch.failure() is not None
    assert "sleep" in watch.stalls[0].stack or "test_heartbeat" in watch.stalls[0].stack


def test_qt_layout_work_in_the_event_loop_is_a_stall(qtbot, heartbeat: Heartbeat) -> None:
    """The 交办单 freeze: a table resizing its columns to their contents for every cell set."""
    table = QTableWidget(0, 6)
    qtbot.addWidget(table)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.show()

    def fill() -> None:
        table.setRowCount(400)
        for row in range(400):
            for column in range(6):
                table.setItem(row, column, QTableWidgetItem(f"杞纪窗交〔2026〕{row}号 {column}"))

    button = QPushButton("填表")
    qtbot.addWidget(button)
    button.clicked.connect(fill)
    with heartbeat.paused():
        watch = _watch(limit=0.1)
        qtbot.wait(100)
        started = time.monotonic()
        qtbot.mouseClick(button, _left())
        qtbot.wait(300)
        blocked = time.monotonic() - started
        watch.stop()
    if blocked > 0.4:  # on a fast machine the fill may be quick; then there is nothing to see
        assert watch.failure() is not None


def test_time_in_the_tests_own_code_is_not_a_stall(qtbot, heartbeat: Heartbeat) -> None:
    with heartbeat.paused():
        watch = _watch(limit=0.3, slots_here=False)
        qtbot.wait(100)
        time.sleep(0.6)  # the test itself, outside any event handling
        qtbot.wait(200)
        watch.stop()
    assert watch.failure() is None


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
