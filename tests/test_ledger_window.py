"""The ledger reads a window of ids, not all of them (issue 18: a city of 1.5 million cases).

Each window of every sort order is the slice of the whole list, on both engines (the department
order is read one department at a time there); a count can stop at a cap; the ledger page shows
the first window, counts the rest on the worker and reads the next window when the view reaches
the end of the first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from sqlalchemy import delete, func, insert, select

from desktop_app.domain.vocabulary import Channel
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.ledger import CaseFilter, SortKey
from desktop_app.services.supervision import Figure
from desktop_app.storage.models import Case, CaseEvent
from desktop_app.ui import ledger_page
from desktop_app.ui.case_table import COLUMNS, CaseTableModel
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.ledger_page import LedgerPage
from desktop_app.ui.list_table import fitted_widths
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.navigation import click_page

CASES = 11


def _register(services: AppServices, clerk: Actor, clock: FixedClock) -> None:
    departments = [department.id for department in services.site.departments()]
    names = ["王芳", "李雷", "赵磊", "王芳", "钱多多", "Zhang Wei", "芳草"]
    forms = [
        person_form(
            name=names[index % len(names)],
            title=f"事项{(index * 7) % CASES:02d}",
            channel=(Channel.WINDOW, Channel.PHONE, Channel.ONLINE)[index % 3],
            received_at=clock.now() - timedelta(hours=index % 4),  # ties: the id decides
            stuck_department_id=departments[index % 2] if index % 3 else None,
            visits_count=index % 3 + 1,
        )
        for index in range(CASES)
    ]
    services.intake.register_many(clerk, forms)


@pytest.fixture
def ledger_cases(site_on_engine: AppServices, clock: FixedClock) -> AppServices:
    _register(site_on_engine, site_on_engine.auth.login("clerk1", USER_PASSWORD), clock)
    return site_on_engine


def test_each_window_of_each_order_is_a_slice_of_the_whole_list(
    ledger_cases: AppServices,
) -> None:
    ledger = ledger_cases.ledger
    for case_filter in (CaseFilter(), CaseFilter(channel=Channel.PHONE), CaseFilter(text="芳")):
        for sort in SortKey:
            for descending in (True, False):
                whole = ledger.ids(case_filter, sort, descending)
                windows = [
                    ledger.ids(case_filter, sort, descending, limit=4, offset=offset)
                    for offset in range(0, CASES + 4, 4)
                ]
                assert [i for window in windows for i in window] == whole, (sort, descending)
                assert ledger.ids(case_filter, sort, descending, limit=3) == whole[:3]
    assert len(ledger.ids()) == CASES


def test_a_count_stops_one_past_its_cap(ledger_cases: AppServices) -> None:
    ledger = ledger_cases.ledger
    some = CaseFilter(text="事项")  # every case, found by a search
    assert ledger.count(some) == CASES
    assert ledger.count(some, cap=4) == 5  # "more than 4"
    assert ledger.count(some, cap=CASES) == CASES
    assert ledger.count(CaseFilter(channel=Channel.PHONE), cap=100) == len(
        ledger.ids(CaseFilter(channel=Channel.PHONE))
    )
    assert ledger.count(CaseFilter(text="不存在的词"), cap=4) == 0


@pytest.fixture
def page(
    qtbot, services: AppServices, clerk: Actor, clock: FixedClock, monkeypatch
) -> Iterator[LedgerPage]:
    _register(services, clerk, clock)
    monkeypatch.setattr(ledger_page, "FIRST_ROWS", 4)
    monkeypatch.setattr(ledger_page, "MORE_ROWS", 5)
    runner = TaskRunner()
    shown = LedgerPage(UiContext(services, clerk, ChangeHub(), runner))
    # How many rows each new query showed first (the view may read on at once after).
    shown.first_windows = []  # type: ignore[attr-defined]
    shown.model.modelReset.connect(
        lambda: shown.first_windows.append(shown.model.rowCount())  # type: ignore[attr-defined]
    )
    qtbot.addWidget(shown)
    shown.resize(1200, 260)  # a few rows on screen: the first window fills the view
    shown.show()
    shown.reload()  # as the main window does when it opens
    yield shown
    runner.wait()


def test_the_page_shows_a_first_window_counts_the_rest_and_reads_on_at_the_end(
    qtbot, page: LedgerPage, services: AppServices
) -> None:
    qtbot.waitUntil(lambda: not page.is_loading and page.first_windows == [4])
    qtbot.waitUntil(lambda: page.count_label.text() == f"共 {CASES} 件")
    whole = services.ledger.ids()

    page.table.setFocus()
    page.table.setCurrentIndex(page.model.index(0, 0))
    for row in range(CASES - 1):  # ↓ to the last row: the end of a window reads the next
        qtbot.waitUntil(lambda r=row: page.model.rowCount() > r + 1)
        qtbot.keyClick(page.table, Qt.Key.Key_Down)
        assert page.table.currentIndex().row() == row + 1
    assert page.model.rowCount() == CASES and not page.model.has_more
    assert [page.model.case_id(row) for row in range(CASES)] == whole
    assert page.table.currentIndex().row() == CASES - 1

    with qtbot.waitSignal(page.model.modelReset):  # a new order starts from its first window
        page.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: not page.is_loading)
    assert page.first_windows == [4, 4]
    assert [page.model.case_id(row) for row in range(4)] == sorted(whole)[:4]


def test_a_query_within_the_first_window_is_counted_at_once(
    qtbot, page: LedgerPage, monkeypatch
) -> None:
    qtbot.waitUntil(lambda: not page.is_loading and page.first_windows == [4])
    monkeypatch.setattr(ledger_page, "FIRST_ROWS", 1_000)
    page.apply_filter()
    qtbot.waitUntil(lambda: not page.is_loading and page.model.rowCount() == CASES)
    assert not page.model.has_more
    assert page.count_label.text() == f"共 {CASES} 件"


def _click_header(qtbot, page: LedgerPage, column: int) -> None:
    header = page.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    with qtbot.waitSignal(page.model.modelReset):
        qtbot.mouseClick(
            header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
        )
    qtbot.waitUntil(lambda: not page.is_loading)


def test_a_new_order_shows_its_first_row_and_keeps_the_count(
    qtbot, page: LedgerPage, monkeypatch
) -> None:
    """Scrolled to the end, the clerk clicks a column's header: the new order shows from its
    first row (it showed from where the old list was scrolled to, as if that were the top), and
    the label keeps the count, which no order changes, instead of counting again."""
    qtbot.waitUntil(lambda: page.count_label.text() == f"共 {CASES} 件")
    page.table.setFocus()
    page.table.setCurrentIndex(page.model.index(0, 0))
    while page.model.rowCount() < CASES:  # each Ctrl+End reads on a window
        rows = page.model.rowCount()
        qtbot.keyClick(page.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda r=rows: page.model.rowCount() > r)
    qtbot.keyClick(page.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    bar = page.table.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    counts: list[int] = []
    monkeypatch.setattr(page, "_count", lambda: counts.append(page.model.rowCount()))

    _click_header(qtbot, page, 3)  # 反映人

    assert bar.value() == 0
    assert page.count_label.text() == f"共 {CASES} 件"
    assert counts == []
    page.search.setText("事项")  # another filter is counted again
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not page.is_loading and len(counts) == 1)


def test_complainants_sort_by_pinyin(qtbot, page: LedgerPage, services: AppServices) -> None:
    """A click on 反映人 orders the names by pinyin, a Latin name among them ('Zhang Wei' with
    the z's): by code point 王 came before 芳 and 赵 before 钱."""
    qtbot.waitUntil(lambda: not page.is_loading)
    name = [key for key, _label in COLUMNS].index(SortKey.COMPLAINANT)
    _click_header(qtbot, page, name)
    while page.model.has_more:  # every row, each window read as the view reaches its end
        rows = page.model.rowCount()
        page.table.scrollToBottom()
        qtbot.waitUntil(lambda r=rows: page.model.rowCount() > r)
    ids = [page.model.case_id(row) for row in range(CASES)]
    shown = [row.complainant_name for row in services.ledger.rows(ids)]
    pinyin = ["芳草", "李雷", "钱多多", "王芳", "Zhang Wei", "赵磊"]
    distinct = list(dict.fromkeys(shown))
    assert distinct in (pinyin, pinyin[::-1]), shown
    ascending = distinct == pinyin
    _click_header(qtbot, page, name)  # the other way, shown from its first row
    first = pinyin[-1] if ascending else pinyin[0]
    qtbot.waitUntil(lambda: page.model.data(page.model.index(0, name)) == first)


def test_the_columns_fit_a_narrow_page(qtbot, page: LedgerPage) -> None:
    """At 125 % a 1366×768 laptop leaves the table ~900 logical pixels: every column is
    narrowed toward its least instead of five of them sitting behind a horizontal scrollbar;
    a wide page shows them at their widths."""
    qtbot.waitUntil(lambda: not page.is_loading)
    title = [key for key, _label in COLUMNS].index(SortKey.TITLE)
    page.resize(960, 400)  # the table ~900 pixels wide, as at 125 % on a laptop
    qtbot.waitUntil(lambda: page.table.columnWidth(0) < ledger_page.WIDTHS[0])
    assert page.table.horizontalScrollBar().maximum() == 0
    for column, least in enumerate(ledger_page.LEAST):
        assert page.table.columnWidth(column) >= least - 1, column
    # In a larger font (the 125 % of a real screen, with its own hinting) the time still reads
    # whole: "2026-12-07 15:…" hid the hour while 编号 had room to spare.
    received = [key for key, _label in COLUMNS].index(SortKey.RECEIVED)
    font = page.table.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    page.table.setFont(font)
    page.resize(961, 400)
    time_width = page.table.fontMetrics().horizontalAdvance("2026-12-07 15:32")
    qtbot.waitUntil(lambda: page.table.columnWidth(received) >= time_width + 8)
    page.resize(1500, 400)
    qtbot.waitUntil(lambda: page.table.columnWidth(0) == ledger_page.WIDTHS[0])
    widths = [
        max(w, time_width + 14) if c == received else w for c, w in enumerate(ledger_page.WIDTHS)
    ]
    for column, width in enumerate(widths):
        if column != title:
            assert page.table.columnWidth(column) == width, column
    assert page.table.columnWidth(title) >= ledger_page.WIDTHS[title]


def test_widths_shrink_by_the_same_share_of_their_slack() -> None:
    assert fitted_widths((100, 50), (60, 50), 200) == [100, 50]
    assert fitted_widths((100, 50), (60, 50), 130) == [80, 50]
    assert fitted_widths((100, 50), (60, 50), 50) == [60, 50]  # never below the least


def test_the_paged_model_passes_the_qt_model_tester_with_a_window(
    qtmodeltester, services: AppServices, clerk: Actor, clock: FixedClock
) -> None:
    _register(services, clerk, clock)
    model = CaseTableModel(services.ledger)
    asked: list[int] = []
    model.more_wanted.connect(lambda: asked.append(model.rowCount()))
    model.set_ids(model.load_ids(4), more=True)
    assert model.canFetchMore()
    qtmodeltester.check(model)
    model.fetchMore()
    assert not model.canFetchMore()  # asked once until the window comes
    model.append_ids(model.load_ids(100, offset=4), more=False)
    assert asked and model.rowCount() == CASES and not model.canFetchMore()
    qtmodeltester.check(model)


def test_every_case_is_counted_exactly_whoever_writes(ledger_cases: AppServices) -> None:
    """累计受理 on PostgreSQL comes from case_totals, which triggers keep (migration 0017):
    it follows the app's saves, a bulk INSERT … SELECT and a DELETE alike."""
    services = ledger_cases
    viewer = services.auth.login("clerk1", USER_PASSWORD)

    def total() -> int:
        with services.db.read() as session:
            counted = int(session.scalar(select(func.count()).select_from(Case)) or 0)
        assert services.ledger.count() == counted
        assert services.ledger.count(cap=2) == counted  # every case: exact, cap or not
        assert services.supervision.counts(viewer)[Figure.TOTAL] == counted
        return counted

    assert total() == CASES
    services.intake.register(viewer, person_form())
    assert total() == CASES + 1
    with services.db.write() as session:
        last = session.scalar(select(func.max(Case.id)))
        session.execute(delete(CaseEvent).where(CaseEvent.case_id == last))
        session.execute(delete(Case).where(Case.id == last))
    assert total() == CASES
    with services.db.write() as session:  # as a bundle's bulk merge writes: one statement
        changed = {"id": Case.id + 1000, "seq": Case.seq + 1000}
        changed |= {
            "uuid": "z" + func.substr(Case.uuid, 2),
            "number": Case.number + "b",
        }  # z: no hex
        columns = [column.name for column in Case.__table__.columns]
        session.execute(
            insert(Case).from_select(
                columns,
                select(*(changed.get(name, Case.__table__.c[name]) for name in columns)).where(
                    Case.id <= 3
                ),
            )
        )
    assert total() == CASES + 3


def test_a_slow_count_does_not_hold_up_the_next_order(
    qtbot, services: AppServices, clerk: Actor, clock: FixedClock, monkeypatch, message_boxes
) -> None:
    """A search's count takes 0.1–0.3 s at a city of 1.5 million. In the main window it is
    read on the figures' worker: while it runs, a click on 反映人 shows the new order at once
    (it waited behind the count on the screens' own worker), and the same matches are not
    counted again for the new order (they were, once the first count had been dropped)."""
    from desktop_app.ui.main_window import MainWindow

    _register(services, clerk, clock)
    monkeypatch.setattr(ledger_page, "FIRST_ROWS", 4)
    counting, release = threading.Event(), threading.Event()
    count = services.ledger.count

    asked: list[CaseFilter] = []

    def slow(case_filter: CaseFilter, cap: int | None = None) -> int:
        asked.append(case_filter)
        counting.set()
        release.wait(30)
        return count(case_filter, cap)

    monkeypatch.setattr(services.ledger, "count", slow)
    runner = TaskRunner()
    main = MainWindow(UiContext(services, clerk, ChangeHub(), runner))
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    try:
        click_page(qtbot, main, "事项台账")
        page = main.ledger
        # The first window of 4, then (the window is tall) the view may read on.
        qtbot.waitUntil(lambda: counting.is_set() and page.model.rowCount() >= 4)
        assert "正在计数" in page.count_label.text()
        name = [key for key, _label in COLUMNS].index(SortKey.COMPLAINANT)

        _click_header(qtbot, page, name)  # within qtbot's 5 s, the count still held

        order = services.ledger.ids(
            sort=SortKey.COMPLAINANT,
            descending=page.model.descending,
            limit=4,
        )
        assert [page.model.case_id(row) for row in range(4)] == order
        assert "正在计数" in page.count_label.text()
    finally:
        release.set()
    qtbot.waitUntil(lambda: page.count_label.text() == f"共 {CASES} 件")
    main.wait_for_workers()
    assert asked == [CaseFilter()]  # the new order waited for the same matches' count
    runner.wait()
