"""交办单 screen: every slip in a lazy model, searched and filtered, and it stays responsive.

Many slips are made quickly: a few through the services (real issued papers), then copies of
those rows written with bulk SQL (a case, its assignment and its slip each), with their own
numbers, titles and departments.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from shiboken6 import isValid
from sqlalchemy import insert, select

from desktop_app.documents.slip_content import PaperKind
from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, Changes
from desktop_app.services.slip_register import SlipFilter, SlipState
from desktop_app.storage.models import Assignment, Case, Slip
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.slip_preview import SlipPreviewDialog
from desktop_app.ui.slip_table import COLUMNS, SlipTableModel
from desktop_app.ui.slips_page import SlipsPage
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

MANY = 640  # more than the 500 the old screen listed
MEDICAL = "杞县医疗保障局"
LAND = "杞县不动产登记中心"


# A message box would block an offscreen test forever; any that appears fails the test.
pytestmark = pytest.mark.usefixtures("message_boxes")


@pytest.fixture
def context(services: AppServices, clerk: Actor) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


def issue(services: AppServices, clerk: Actor, leader: Actor, department: str) -> tuple[int, str]:
    """A real case with an issued slip to ``department``: (case id, slip number)."""
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    departments = {d.name: d.id for d in services.site.departments()}
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=departments[department], requirements="请核实并办理。"
    )
    number, _ = services.assignments.issue(leader, ids[0])
    return case_id, number


def title_of(n: int) -> str:
    return "宅基地确权登记迟迟不办" if n % 10 == 0 else f"医保报销材料被退回第{n}次"


def make_many_slips(services: AppServices, clerk: Actor, leader: Actor, count: int) -> None:
    """``count`` more cases, each with one issued slip, copied from a real one with bulk SQL.

    Copy n: case 杞县-2026-1{n:04d} titled :func:`title_of` (every tenth about 宅基地), slip
    杞纪窗交〔2026〕{1000 + n}号 issued n minutes after the real one; every third goes to the
    不动产登记中心, the others to the 医疗保障局; every 50th is voided, every 7th printed.
    """
    issue(services, clerk, leader, MEDICAL)
    departments = {d.name: d.id for d in services.site.departments()}
    with services.db.write() as session:
        case = dict(session.execute(select(Case.__table__)).mappings().one())
        assignment = dict(session.execute(select(Assignment.__table__)).mappings().one())
        slip = dict(session.execute(select(Slip.__table__)).mappings().one())
        cases: list[dict[str, Any]] = []
        assignments: list[dict[str, Any]] = []
        slips: list[dict[str, Any]] = []
        for n in range(1, count + 1):
            case_id, assignment_id, slip_id = (
                case["id"] + n,
                assignment["id"] + n,
                slip["id"] + n,
            )
            cases.append(
                case
                | {
                    "id": case_id,
                    "uuid": str(uuid.uuid4()),
                    "seq": 10_000 + n,
                    "number": f"杞县-2026-1{n:04d}",
                    "title": title_of(n),
                }
            )
            assignments.append(
                assignment
                | {
                    "id": assignment_id,
                    "uuid": str(uuid.uuid4()),
                    "case_id": case_id,
                    "department_id": departments[LAND if n % 3 == 0 else MEDICAL],
                }
            )
            slips.append(
                slip
                | {
                    "id": slip_id,
                    "uuid": str(uuid.uuid4()),
                    "assignment_id": assignment_id,
                    "seq": 1000 + n,
                    "number": f"杞纪窗交〔2026〕{1000 + n}号",
                    "issued_at": slip["issued_at"] + timedelta(minutes=n),
                    "voided": n % 50 == 0,
                    "print_count": 1 if n % 7 == 0 else 0,
                }
            )
        session.execute(insert(Case.__table__), cases)
        session.execute(insert(Assignment.__table__), assignments)
        session.execute(insert(Slip.__table__), slips)


@pytest.fixture
def many(services: AppServices, clerk: Actor, leader: Actor) -> int:
    make_many_slips(services, clerk, leader, MANY)
    return MANY + 1


# The register (service) -------------------------------------------------------------------


def test_register_lists_every_slip_newest_first_and_searches(
    services: AppServices, many: int
) -> None:
    register = services.slips
    ids = register.ids()
    assert len(ids) == many
    rows = register.rows(ids[:3])
    assert [r.number for r in rows] == [f"杞纪窗交〔2026〕{1000 + n}号" for n in (640, 639, 638)]
    assert (
        rows[0].case_number == "杞县-2026-10640" and rows[0].case_title == "宅基地确权登记迟迟不办"
    )
    assert rows[0].department == MEDICAL and rows[1].department == LAND  # 639 = 3 × 213

    def numbers(**kwargs: Any) -> set[str]:
        return {r.number for r in register.rows(register.ids(SlipFilter(**kwargs)))}

    # A slip-number fragment.
    assert numbers(text="〔2026〕1234号") == {"杞纪窗交〔2026〕1234号"}
    assert numbers(text="123") == {f"杞纪窗交〔2026〕{n}号" for n in range(1230, 1240)} | {
        "杞纪窗交〔2026〕1123号"
    }
    # A case number.
    assert numbers(text="杞县-2026-10005") == {"杞纪窗交〔2026〕1005号"}
    # Two Chinese characters of a title.
    expected = {f"杞纪窗交〔2026〕{1000 + n}号" for n in range(10, MANY + 1, 10)}
    assert numbers(text="宅基") == expected
    # A department.
    land = numbers(text="不动产")
    assert len(land) == MANY // 3 and "杞纪窗交〔2026〕1003号" in land
    assert numbers(text="找不到的字") == set()
    assert numbers(text="%") == set() and numbers(text="_") == set()  # LIKE's wildcards escaped
    # States and kinds.
    voided = numbers(state=SlipState.VOIDED)
    assert voided == {f"杞纪窗交〔2026〕{1000 + n}号" for n in range(50, MANY + 1, 50)}
    printed = numbers(state=SlipState.VALID)
    assert printed == {f"杞纪窗交〔2026〕{1000 + n}号" for n in range(7, MANY + 1, 7) if n % 50}
    assert len(numbers(state=SlipState.UNPRINTED)) == many - len(voided) - len(printed)
    assert numbers(kind=PaperKind.SUPERVISE) == set()
    assert len(numbers(kind=PaperKind.ASSIGN)) == many
    assert numbers(text="宅基", state=SlipState.VOIDED) == {
        f"杞纪窗交〔2026〕{1000 + n}号" for n in range(50, MANY + 1, 50)
    }


def test_model_passes_qt_model_tester(qtmodeltester, services: AppServices, many: int) -> None:
    model = SlipTableModel(services.slips)
    model.set_ids(services.slips.ids())
    qtmodeltester.check(model)
    assert model.rowCount() == many
    assert model.cached_pages <= 2  # the tester read a few rows, not every page
    assert model.index(0, 0).data() == "杞纪窗交〔2026〕1640号"
    assert model.index(0, 7).data() == "未打印"


# The screen --------------------------------------------------------------------------------


def shown_page(qtbot, context: UiContext) -> SlipsPage:
    page = SlipsPage(context)
    qtbot.addWidget(page)
    page.resize(1280, 680)
    page.show()
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: not page.is_loading and page.model.rowCount() > 0)
    return page


def shown_numbers(page: SlipsPage) -> list[str]:
    model = page.model
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def type_chinese(widget: QWidget, text: str) -> None:
    """Chinese as a Chinese IME delivers it: a committed string (QTest types Latin-1 only)."""
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def click(qtbot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def settle(qtbot, page: SlipsPage) -> None:
    qtbot.waitUntil(lambda: not page.is_loading, timeout=10_000)


def test_many_slips_refresh_search_and_preview_stay_responsive(
    qtbot, context: UiContext, services: AppServices, many: int
) -> None:
    page = shown_page(qtbot, context)
    assert page.model.rowCount() == many  # every slip, not the newest 500
    assert page.count_label.text() == f"共 {many} 份"
    assert page.model.index(0, 0).data() == "杞纪窗交〔2026〕1640号"  # newest first
    assert page.table.selectionModel().selectedRows()[0].row() == 0

    # 刷新 with many slips: the heartbeat fixture fails the test if the UI thread stalls.
    click(qtbot, page.refresh_button)
    assert page.is_loading
    settle(qtbot, page)
    assert page.model.rowCount() == many
    assert page.model.cached_pages <= 2  # only what is painted was read
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.cached_pages >= 2)
    assert (
        page.model.index(many - 1, 0).data() == services.slips.rows(services.slips.ids())[-1].number
    )

    # Typing a search narrows the list (Chinese as an input method delivers it).
    type_chinese(page.search, "宅基地")
    settle(qtbot, page)
    numbers = shown_numbers(page)
    assert len(numbers) == MANY // 10
    assert numbers[0] == "杞纪窗交〔2026〕1640号" and numbers[-1] == "杞纪窗交〔2026〕1010号"
    assert page.count_label.text() == f"找到 {MANY // 10} 份"
    for row in range(page.model.rowCount()):
        assert page.model.index(row, 3).data() == "宅基地确权登记迟迟不办"

    # The state filter, by keyboard: 全部状态 → 未打印 → 有效 → 已作废.
    page.state.setFocus()
    for _ in range(3):
        qtbot.keyClick(page.state, Qt.Key.Key_Down)
    assert page.state.currentText() == "已作废"
    settle(qtbot, page)
    assert shown_numbers(page) == [f"杞纪窗交〔2026〕{1000 + n}号" for n in range(600, 0, -50)]
    assert page.model.index(0, 7).data() == "已作废"
    assert not page.preview_button.isEnabled()  # a voided paper is not printed again

    # A slip-number fragment, all states.
    page.state.setFocus()
    for _ in range(3):
        qtbot.keyClick(page.state, Qt.Key.Key_Up)
    qtbot.keyClick(page.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(page.search, "1357")
    settle(qtbot, page)
    assert shown_numbers(page) == ["杞纪窗交〔2026〕1357号"]

    # Clearing the search shows every slip again.
    qtbot.keyClick(page.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(page.search, Qt.Key.Key_Delete)
    settle(qtbot, page)
    assert page.model.rowCount() == many
    assert page.count_label.text() == f"共 {many} 份"

    # A change elsewhere (签收 in a case opened from here) reloads the visible list on the worker.
    context.hub.publish(Changes(cases=True))
    assert page.is_loading
    settle(qtbot, page)
    assert page.model.rowCount() == many

    # Preview the selected slip and close it: the list stays responsive, same slip selected.
    rect = page.table.visualRect(page.model.index(5, 0))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    chosen = page.selected()
    assert chosen is not None and chosen.number == "杞纪窗交〔2026〕1635号"
    click(qtbot, page.preview_button)
    preview = page.preview
    assert isinstance(preview, SlipPreviewDialog)
    qtbot.waitUntil(lambda: preview.document.pageCount() >= 1, timeout=15_000)
    assert "1635" in preview.windowTitle()
    close = next(b for b in preview.findChildren(QPushButton) if b.text() == "关闭")
    click(qtbot, close)
    qtbot.waitUntil(lambda: not isValid(preview) or not preview.isVisible())
    qtbot.waitUntil(lambda: page.model.rowCount() == many and not page.is_loading)
    selected = page.selected()
    assert selected is not None and selected.number == "杞纪窗交〔2026〕1635号"


def test_double_click_and_enter_open_the_case(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, leader: Actor
) -> None:
    first_case, first = issue(services, clerk, leader, MEDICAL)
    second_case, second = issue(services, clerk, leader, LAND)
    page = shown_page(qtbot, context)
    assert shown_numbers(page) == [second, first]
    assert page.model.index(0, 4).data() == LAND

    rect = page.table.visualRect(page.model.index(1, 3))
    viewport = page.table.viewport()
    with qtbot.waitSignal(page.open_case) as opened:
        # A double click: QTest's double-click event follows a first press, as a mouse's does.
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [first_case]
    assert page.selected() is not None and page.selected().number == first

    qtbot.keyClick(page.table, Qt.Key.Key_Up)
    with qtbot.waitSignal(page.open_case) as opened:
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert opened.args == [second_case]

    with qtbot.waitSignal(page.open_case) as opened:
        click(qtbot, page.open_button)
    assert opened.args == [second_case]

    # From the search box: ↓ reaches the list, ↓ again the next slip, Enter opens its case.
    qtbot.keyClick(page, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.search.hasFocus()
    qtbot.keyClick(page.search, Qt.Key.Key_Down)
    assert page.table.hasFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Down)
    with qtbot.waitSignal(page.open_case) as opened:
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert opened.args == [first_case]

    # Searching by department narrows to that department's paper.
    page.search.setFocus()
    QApplication.clipboard().setText("医疗保障")
    qtbot.keyClick(page.search, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, page)
    assert shown_numbers(page) == [first]
    assert page.count_label.text() == "找到 1 份"


def test_page_refreshes_on_changes_while_visible(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, leader: Actor
) -> None:
    issue(services, clerk, leader, MEDICAL)
    page = shown_page(qtbot, context)
    assert page.model.rowCount() == 1
    _case, number = issue(services, clerk, leader, LAND)
    context.hub.publish(Changes(cases=True))
    qtbot.waitUntil(lambda: page.model.rowCount() == 2 and not page.is_loading)
    assert shown_numbers(page)[0] == number


def test_register_search_follows_new_number_prefixes(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    """Numbers are searched when the text lies inside a prefix in use, one that came after the
    first search (a new slip prefix, a county's papers at the city) included."""
    register = services.slips
    _case, first = issue(services, clerk, leader, MEDICAL)
    assert first.startswith("杞纪窗交〔")
    assert register.rows(register.ids(SlipFilter(text="纪窗"))) != []  # inside the prefix
    assert register.ids(SlipFilter(text="兰考")) == []
    with services.db.write() as session:
        slip = dict(session.execute(select(Slip.__table__)).mappings().one())
        session.execute(
            insert(Slip.__table__),
            [
                slip
                | {
                    "id": slip["id"] + 1,
                    "uuid": str(uuid.uuid4()),
                    "site_code": "410225",
                    "number": "兰考纪窗交〔2026〕7号",
                }
            ],
        )
    assert [r.number for r in register.rows(register.ids(SlipFilter(text="兰考")))] == [
        "兰考纪窗交〔2026〕7号"
    ]
    assert len(register.ids(SlipFilter(text="纪窗交"))) == 2
    assert len(register.ids(SlipFilter(text="〔2026〕"))) == 2


def test_saving_from_the_preview_shows_the_new_count_in_the_list_at_once(
    qtbot,
    context: UiContext,
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The output publishes its change: the list behind the open preview is not left at 0 次."""
    from PySide6.QtWidgets import QFileDialog

    _case, number = issue(services, clerk, leader, MEDICAL)
    page = shown_page(qtbot, context)
    assert page.model.index(0, 6).data() == "0 次"
    page.table.selectRow(0)
    click(qtbot, page.preview_button)
    preview = page.preview
    assert isinstance(preview, SlipPreviewDialog)
    qtbot.waitUntil(lambda: preview.save_button.isEnabled(), timeout=15_000)
    target = tmp_path / "交办单.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    click(qtbot, preview.save_button)
    qtbot.waitUntil(lambda: preview.last_output is not None and not preview.is_loading)
    assert target.exists()
    # Still open, no 刷新 clicked: the list already shows the count.
    assert preview.isVisible()
    qtbot.waitUntil(lambda: page.model.index(0, 6).data() == "1 次", timeout=10_000)
    assert services.assignments.slip_content(number)[0].print_count == 1
    preview.close()


def test_an_auditor_views_a_slip_without_print_or_save(
    qtbot, services: AppServices, clerk: Actor, leader: Actor, auditor: Actor
) -> None:
    _case, number = issue(services, clerk, leader, MEDICAL)
    runner = TaskRunner()
    try:
        page = shown_page(qtbot, UiContext(services, auditor, ChangeHub(), runner))
        page.table.selectRow(0)
        click(qtbot, page.preview_button)
        preview = page.preview
        assert isinstance(preview, SlipPreviewDialog)
        qtbot.waitUntil(lambda: preview.document.pageCount() >= 1, timeout=15_000)
        qtbot.waitUntil(lambda: not preview.is_loading)
        assert preview.pdf_bytes is not None  # viewing is allowed
        assert not preview.print_button.isEnabled() and not preview.save_button.isEnabled()
        assert "仅供查看" in preview.status.text()
        click(qtbot, preview.print_button)
        qtbot.keyClick(preview, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
        assert not preview.busy and preview.last_output is None
        assert services.assignments.slip_content(number)[0].print_count == 0
        preview.close()
    finally:
        runner.wait()


# 核验 --------------------------------------------------------------------------------------


def check_in_box(qtbot, page: SlipsPage, payload: str) -> str:
    """Paste a payload as a scanner or a clerk would, click 核验, return what the box says."""
    page.last_check = None
    page.verify_input.clear()
    type_chinese(page.verify_input, payload)
    click(qtbot, page.verify_button)
    qtbot.waitUntil(lambda: page.last_check is not None, timeout=10_000)
    return page.verify_result.text()


def test_the_verify_box_refuses_a_voided_slip_and_lists_what_to_compare(
    qtbot, services: AppServices, clerk: Actor, leader: Actor, context: UiContext
) -> None:
    _case, number = issue(services, clerk, leader, MEDICAL)
    _case2, voided = issue(services, clerk, leader, LAND)
    good_payload = services.assignments.slip_content(number)[1].qr_payload
    voided_payload = services.assignments.slip_content(voided)[1].qr_payload
    with services.db.read() as session:
        assignment_id = session.scalar(select(Slip.assignment_id).where(Slip.number == voided))
    assert assignment_id is not None
    services.assignments.void(leader, assignment_id, "承办单位选错")
    page = shown_page(qtbot, context)

    shown = check_in_box(qtbot, page, voided_payload)
    assert shown.startswith("✘") and "已作废" in shown and "承办单位选错" in shown
    assert "核验通过" not in shown

    shown = check_in_box(qtbot, page, good_payload)
    assert shown.startswith("✔") and "核验通过" in shown
    content = services.assignments.slip_content(number)[1]
    assert f"承办单位：{MEDICAL}" in shown and f"签发人：{content.signer}" in shown
    assert "办理时限：" in shown and "签发日期：" in shown

    case_id = services.intake.register(clerk, person_form()).case_id
    receipt = services.assignments.issue_receipt(case_id, actor=clerk)
    shown = check_in_box(qtbot, page, receipt.qr_payload)
    assert shown.startswith("✔") and "受理回执" in shown and "答复时间：" in shown


def test_the_kind_column_names_a_long_kind_short_and_whole_in_its_tooltip(
    services: AppServices, many: int
) -> None:
    """ "不能办事项书面依据告知单" was cut to "不能办…" in the 76-pixel 类别 column."""
    from dataclasses import replace

    from desktop_app.ui import slip_table

    row = replace(services.slips.rows(services.slips.ids()[:1])[0], kind=PaperKind.BASIS_REQUEST)
    shown = slip_table._display(row, slip_table.KIND_COLUMN)
    assert shown == "依据告知单"
    assert slip_table._display(replace(row, kind=PaperKind.ASSIGN), slip_table.KIND_COLUMN) == (
        "交办单"
    )
    assert COLUMNS[slip_table.KIND_COLUMN] == "类别"
