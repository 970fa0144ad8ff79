"""Issue 15 item 15: intake takes only what a form could hold, from the window and a batch alike.

The rules live once (domain.validation.text_problem, domain.intake_rules.validate); the batch
reader (services.intake_import) refuses what no text box could hold, naming each row as a person
finds it: a CSV's spreadsheet row (the header is row 1), a JSON list's position.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication

from desktop_app.domain import intake_rules, validation
from desktop_app.errors import UserError
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.intake import RowError
from desktop_app.services.intake_import import check_records, read_records
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from tests.helpers.factories import person_form
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401

ROW: dict[str, Any] = {
    "name": "王芳",
    "phone": "13812345678",
    "title": "医保结算查不到参保信息",
    "description": "在县人民医院办理医保结算时被告知查不到参保信息。",
    "area": "医保社保",
    "channel": "网上",
    "received_at": "2025-06-01 09:00",
}


def batch(services: AppServices, path: Path) -> list[RowError]:
    departments = {d.name: d.id for d in services.site.departments()}
    _forms, errors = check_records(services.intake, read_records(path), departments)
    return errors


def write_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


# --- the shared rule, plain values ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("王\x00芳", "U+0000"),
        ("王\x07芳", "U+0007"),
        ("王\x7f芳", "U+007F"),
        ("王\u202e芳", "U+202E"),
        ("\u202a王芳", "U+202A"),
        ("王芳\u2066", "U+2066"),
        ("王\u2069芳", "U+2069"),
        ("\ud800王芳", "U+D800"),
        ("\u200b\u200b", "看不见"),
        ("\u200d\ufeff\u2060", "看不见"),
        # Letters and a symbol that draw nothing (an audit found each taken as a name).
        ("\u3164", "看不见"),
        ("\u3164\u115f", "看不见"),
        ("\u2800", "看不见"),
        ("\uffa0\u1160 ", "看不见"),
        # Marks drawn on the character before them, alone (a review found each taken).
        ("\ufe0f\u034f", "看不见"),
        ("\u180b\u180d", "看不见"),
        ("\u17b4", "看不见"),
    ],
)
def test_text_no_form_box_holds_is_refused_by_character(value: str, expected: str) -> None:
    problem = validation.text_problem(value)
    assert problem is not None and expected in problem


@pytest.mark.parametrize(
    "value", ["王芳", "赵𠀀明", "第一行\n第二行\t缩进", "👨\u200d👩\u200d👧", "", "  ", "李\ue000"]
)
def test_text_a_person_types_is_taken(value: str) -> None:
    assert validation.text_problem(value) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "王\x00芳"),
        ("name", "\u200b"),
        ("name", "王\u202e芳"),
        ("title", "医保\u2067结算"),
        ("description", "办理\x1b[31m医保"),
        ("address", "城关镇\x0c"),
        ("stuck_at", "窗口\u202d"),
    ],
)
def test_the_form_refuses_them_in_every_text_box(
    services: AppServices, clerk: Actor, field: str, value: str
) -> None:
    _clean, errors = services.intake.check(person_form(**{field: value}))
    assert field in errors, errors
    assert "U+" in errors[field] or "看不见" in errors[field]
    with pytest.raises(UserError):
        services.intake.register(clerk, person_form(**{field: value}))
    assert services.ledger.count() == 0


@pytest.mark.parametrize(
    ("received_at", "accepted"),
    [
        (datetime(1, 1, 1), False),
        (datetime(1999, 12, 31, 9), False),
        (datetime(2003, 12, 31, 23, 59), False),
        (datetime(intake_rules.EARLIEST_RECEIVED.year, 1, 1, 8), True),
        (datetime(2025, 6, 1, 9), True),
    ],
)
def test_received_at_is_within_the_years_a_deadline_can_be_computed(
    services: AppServices, received_at: datetime, accepted: bool
) -> None:
    _clean, errors = services.intake.check(person_form(received_at=received_at))
    assert ("received_at" not in errors) is accepted, errors
    if not accepted:
        assert received_at.date().isoformat() in errors["received_at"]


# --- JSON: only text where the form has a text box -----------------------------------------------


@pytest.mark.parametrize(
    ("value", "what"),
    [(12345, "数字"), (["王芳"], "列表"), (True, "是/否值"), ({"x": 1}, "对象"), (1.5, "数字")],
)
def test_a_json_value_no_text_box_holds_is_refused_not_stringified(
    services: AppServices, tmp_path: Path, value: object, what: str
) -> None:
    source = write_json(tmp_path / "b.json", [ROW, ROW | {"name": value}])
    errors = batch(services, source)
    assert [(e.row, e.field) for e in errors] == [(2, "name")]
    assert f"不能是{what}" in errors[0].message


def test_a_phone_given_as_a_json_number_is_refused(services: AppServices, tmp_path: Path) -> None:
    # 03782345678 as a number would lose its 0: a phone is text, as on the form.
    source = write_json(tmp_path / "b.json", [ROW | {"phone": 13812345678}])
    assert [(e.row, e.field) for e in batch(services, source)] == [(1, "phone")]


def test_visits_count_may_be_a_json_number_or_digits(services: AppServices, tmp_path: Path) -> None:
    source = write_json(
        tmp_path / "b.json",
        [ROW | {"visits_count": 3}, ROW | {"visits_count": "4", "phone": "13812345679"}],
    )
    assert batch(services, source) == []
    for bad in (True, "3.5", "１２", "-1", 0, 100):
        source = write_json(tmp_path / "b.json", [ROW | {"visits_count": bad}])
        assert [(e.row, e.field) for e in batch(services, source)] == [(1, "visits_count")], bad


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('"name": "王\\u0000芳"', "name"),
        ('"name": "\\ud800王芳"', "name"),
        ('"name": "\\u200b\\u200b"', "name"),
        ('"title": "医保\\u202e结算"', "title"),
        ('"received_at": "0001-01-01"', "received_at"),
        ('"visits_count": ' + "9" * 5000, "visits_count"),
        ('"name": ' + "1" * 5000, "name"),
    ],
)
def test_a_json_row_names_its_row_and_field(
    services: AppServices, tmp_path: Path, text: str, field: str
) -> None:
    good = json.dumps(ROW | {"title": "另一件事"}, ensure_ascii=False)  # not a repeat of row 2
    bad = json.dumps(ROW, ensure_ascii=False)[:-1] + ", " + text + "}"
    source = tmp_path / "b.json"
    source.write_text(f"[{good}, {bad}]", encoding="utf-8")
    errors = batch(services, source)
    assert [(e.row, e.field) for e in errors] == [(2, field)], errors


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("2025-06-01T09:00:00+08:00", datetime(2025, 6, 1, 9, 0)),  # an online channel's export
        ("2025-06-01T01:00:00Z", datetime(2025, 6, 1, 9, 0)),  # UTC: the hall's clock is +8
        ("2025/6/1 9:00", datetime(2025, 6, 1, 9, 0)),  # as Excel writes it
        ("2025年6月1日", datetime(2025, 6, 1)),
    ],
)
def test_a_time_as_files_give_it_is_taken(
    services: AppServices, tmp_path: Path, given: str, kept: datetime
) -> None:
    """A time with its zone ended the whole import in 程序内部错误 (naive and aware compared)."""
    departments = {d.name: d.id for d in services.site.departments()}
    source = write_json(tmp_path / "b.json", [ROW | {"received_at": given}])
    forms, errors = check_records(services.intake, read_records(source), departments)
    assert errors == [] and [f.received_at for f in forms] == [kept]
    source = write_json(tmp_path / "b.json", [ROW | {"received_at": "下周一"}])
    (error,) = batch(services, source)
    assert error.field == "received_at" and "2026-12-03 09:30" in error.message


def test_json_nested_very_deep_is_refused_plainly(tmp_path: Path) -> None:
    source = tmp_path / "deep.json"
    source.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(UserError, match="嵌套层数过多"):
        read_records(source)


# --- CSV: a spreadsheet's rows, and a header -----------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, Any]], *, header: bool = True) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(ROW))
        if header:
            writer.writeheader()
        writer.writerows(rows)
    return path


def test_csv_rows_are_the_spreadsheets_rows(services: AppServices, tmp_path: Path) -> None:
    """Header = row 1; a cell spanning three lines is still one row; a blank line is a row."""
    source = write_csv(
        tmp_path / "b.csv",
        [
            ROW | {"description": "第一行\n第二行\n第三行"},  # row 2, lines 2-4 of the file
            ROW | {"name": ""},  # row 3
        ],
    )
    with source.open("a", encoding="utf-8", newline="") as stream:
        stream.write("\r\n")  # row 4, empty
        writer = csv.DictWriter(stream, fieldnames=list(ROW))
        writer.writerow(ROW | {"received_at": "0001-01-01"})  # row 5
    errors = batch(services, source)
    assert [(e.row, e.field) for e in errors] == [(3, "name"), (5, "received_at")]
    assert str(errors[0]).startswith("第3行 姓名/名称：")


def test_a_csv_without_a_header_row_says_so(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "b.csv", [ROW, ROW | {"name": "李强"}], header=False)
    with pytest.raises(UserError, match="第1行应为列名"):
        read_records(source)


def test_a_csv_cell_longer_than_any_form_box_names_its_row(tmp_path: Path) -> None:
    # Over the csv module's own limit (131,072), which would otherwise raise csv.Error.
    source = write_csv(tmp_path / "b.csv", [ROW, ROW | {"description": "长" * 140_000}])
    limit = csv.field_size_limit()
    with pytest.raises(UserError, match="第3行有一格超过"):
        read_records(source)
    assert csv.field_size_limit() == limit  # the process's limit is put back


def test_csv_control_characters_are_refused_by_row(services: AppServices, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "b.csv", [ROW, ROW | {"name": "王\x00芳"}])
    errors = batch(services, source)
    assert [(e.row, e.field) for e in errors] == [(3, "name")]
    assert "U+0000" in errors[0].message


# --- the window's form: the same rule, typed -----------------------------------------------------


@pytest.fixture
def window(
    qtbot: Any, services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[MainWindow]:
    runner = TaskRunner()
    main = MainWindow(UiContext(services, clerk, ChangeHub(), runner))
    qtbot.addWidget(main)
    main.resize(1280, 800)
    main.show()
    qtbot.waitUntil(lambda: not main.ledger.is_loading)
    yield main
    runner.wait()


def commit_text(widget: Any, text: str) -> None:
    """Text as an input method (or a paste) delivers it: one committed string."""
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def test_the_window_refuses_a_direction_override_typed_into_the_name(
    qtbot: Any, window: MainWindow, services: AppServices
) -> None:
    window.go_to("受理登记")
    page = window.intake
    commit_text(page.name, "王\u202e芳")
    commit_text(page.phone, "13912345678")
    commit_text(page.title, "不动产权证办不下来")
    commit_text(page.description, "集资房未做土地分割，已往返五次。")
    page.area.setCurrentIndex(page.area.findData("不动产登记"))
    assert page.name.text() == "王\u202e芳"  # the box holds it: the rule must refuse it
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_saving)
    assert "U+202E" in page.errors["name"].text()
    assert page.errors["name"].isVisible()
    assert page.last_result is None
    assert services.ledger.count() == 0


def test_a_row_that_repeats_one_above_or_a_case_registered_is_refused(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    """A walk: two identical rows of one file became two cases, and one file imported twice
    doubled every case, without a word."""
    source = write_json(tmp_path / "b.json", [ROW, ROW | {"title": "另一件事"}, ROW])
    assert [(e.row, e.field, e.message) for e in batch(services, source)] == [
        (3, "title", "与第1行重复（同一反映人、同一事项、同一反映时间）")
    ]
    departments = {d.name: d.id for d in services.site.departments()}
    once = write_json(tmp_path / "once.json", [ROW])
    forms, _errors = check_records(services.intake, read_records(once), departments)
    services.intake.register_many(clerk, forms)
    (again,) = batch(services, once)
    assert again.field == "title" and "可能已经导入过" in again.message


def test_a_csv_as_a_clerk_saves_it_from_excel_is_read(
    services: AppServices, tmp_path: Path
) -> None:
    """A walk's sheet: Chinese column names (refused: only English ones were known), and the
    rows of commas only Excel leaves at the end (each counted as a bad row: the whole file was
    refused). A row with a cell more than the header (an unquoted comma) is told, not cut."""
    labels = {
        "name": "反映人",
        "phone": "联系电话",
        "title": "反映事项",
        "description": "具体情况",
        "area": "领域",
        "channel": "来源渠道",
        "received_at": "反映时间",
    }
    lines = [",".join(labels[key] for key in ROW), ",".join(ROW.values()), ",,,,,,", ",,,,,,"]
    source = tmp_path / "表.csv"
    source.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    departments = {d.name: d.id for d in services.site.departments()}
    forms, errors = check_records(services.intake, read_records(source), departments)
    assert errors == [] and [f.name for f in forms] == [ROW["name"]]
    source.write_text("\r\n".join([*lines[:2], ",".join(ROW.values()) + ",多出的一格"]), "utf-8")
    with pytest.raises(UserError, match="第3行比表头多出 1 格"):
        read_records(source)
