"""The 台账 out (issue 17): the xlsx read back (types, header, row count), the CSV Excel opens,
phones masked unless asked and allowed, a cancel that leaves no file, and the command line."""

from __future__ import annotations

import csv
import shutil
import subprocess
import threading
import zipfile
from dataclasses import fields
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.domain.validation import mask_phone
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Cause,
    Channel,
    Nature,
    Outcome,
    VisitGrade,
)
from desktop_app.services import register_export
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.ledger import CaseFilter
from desktop_app.services.register_export import (
    ASSIGNMENT_COLUMNS,
    CASE_COLUMNS,
    Column,
    ExportCancelled,
    RegisterExportService,
)
from desktop_app.storage.models import Assignment, AuditEntry, Case, CaseEvent
from tests.helpers.cli import as_user, run_bbcs
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.supervision_cases import Office, concluded, open_case


def _exporter(services: AppServices) -> RegisterExportService:
    return RegisterExportService(services.db, services.clock, services.sealer, services.ledger)


def _office(services: AppServices, clerk: Actor, leader: Actor) -> Office:
    """Three cases: one open with an answered assignment, one concluded and visited, one whose
    title a complainant began with "=" (it must stay text)."""
    office = Office(services, clerk, leader)
    office.case("open", **open_case(received_at=datetime(2026, 11, 2, 9, 30)))
    office.assignment(
        "open",
        AssignmentState.RESPONDED,
        issued_at=datetime(2026, 11, 3, 10, 0),
        responded_at=datetime(2026, 11, 10, 15, 0),
        returned_reason="",
    )
    office.case(
        "visited",
        **concluded(
            received_at=datetime(2026, 11, 1, 8, 45),
            triaged_at=datetime(2026, 11, 2, 10, 0),
            status=CaseStatus.VISITED.value,
            outcome=Outcome.DONE.value,
            visit_grade=VisitGrade.SATISFIED.value,
        ),
    )
    with services.db.write() as session:
        session.add(
            CaseEvent(
                case_id=office.ids["visited"],
                at=datetime(2026, 11, 23, 11, 0),
                kind="visited",
                summary="回访：满意",
            )
        )
    office.case("formula", received_at=datetime(2026, 11, 5, 14, 0), title="=1+1 不是公式")
    return office


def test_the_xlsx_reads_back_with_dates_header_and_every_case(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    office = _office(services, clerk, leader)
    out = tmp_path / "台账.xlsx"
    result = _exporter(services).export(clerk, out, CaseFilter())
    assert (result.cases, result.assignments) == (3, 1)
    assert result.numbers_clear is False  # masked unless asked
    book = CalamineWorkbook.from_path(str(out))
    assert book.sheet_names == ["事项台账", "交办情况"]
    rows = book.get_sheet_by_name("事项台账").to_python()
    assert rows[0] == [column.header for column in CASE_COLUMNS]
    assert len(rows) == 1 + 3
    header = rows[0]
    by_number = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    numbers = {name: _number(services, case_id) for name, case_id in office.ids.items()}
    # Oldest first, as a register book runs.
    assert [row[0] for row in rows[1:]] == [numbers["visited"], numbers["open"], numbers["formula"]]
    visited = by_number[numbers["visited"]]
    assert visited["受理日期"] == date(2026, 11, 1)  # a real Excel date, not text
    assert visited["甄别日期"] == date(2026, 11, 2)
    assert visited["办结日期"] == date(2026, 11, 20)
    assert visited["回访日期"] == date(2026, 11, 23)
    assert visited["满意度"] == "满意" and visited["结果"] == "办成"
    assert visited["状态"] == CaseStatus.VISITED.label
    assert visited["渠道"] == Channel.WINDOW.label
    opened = by_number[numbers["open"]]
    assert opened["性质"] == Nature.HARD.label
    assert opened["甄别日期"] == ""  # put straight into its state: never triaged on record
    assert opened["交办日期"] == date(2026, 11, 3)
    assert opened["时限"] == date(2026, 12, 2)
    assert opened["回访日期"] == ""  # an empty cell
    assert "****" in str(opened["联系电话"])
    assert by_number[numbers["formula"]]["事项"] == "=1+1 不是公式"
    assignments = book.get_sheet_by_name("交办情况").to_python()
    assert assignments[0] == [column.header for column in ASSIGNMENT_COLUMNS]
    assert len(assignments) == 2
    line = dict(zip(assignments[0], assignments[1], strict=True))
    assert line["事项编号"] == numbers["open"] and line["状态"] == "已反馈"
    assert line["签发日期"] == date(2026, 11, 3) and line["反馈日期"] == date(2026, 11, 10)


def test_the_original_number_follows_the_number_in_the_xlsx_and_the_csv(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    """原编号 (a case brought in from an old Excel 台账, issue 17) right after 编号; empty for
    the cases registered here."""
    office = _office(services, clerk, leader)
    office.case("historical", received_at=datetime(2023, 5, 6, 9, 0), original_number="2023-KX-017")
    numbers = {name: _number(services, case_id) for name, case_id in office.ids.items()}
    exporter = _exporter(services)
    exporter.export(clerk, tmp_path / "台账.xlsx", CaseFilter())
    exporter.export(clerk, tmp_path / "台账.csv", CaseFilter())

    rows = CalamineWorkbook.from_path(str(tmp_path / "台账.xlsx"))
    sheet = rows.get_sheet_by_name("事项台账").to_python()
    with (tmp_path / "台账.csv").open(encoding="utf-8-sig", newline="") as handle:
        csv_rows = list(csv.reader(handle))
    for read in (sheet, csv_rows):
        assert read[0][:4] == ["编号", "原编号", "县区", "受理日期"]
        assert {row[0]: row[1] for row in read[1:]} == {
            numbers["historical"]: "2023-KX-017",
            numbers["visited"]: "",
            numbers["open"]: "",
            numbers["formula"]: "",
        }
    assert sheet[1][0] == numbers["historical"]  # received in 2023: the oldest line
    assert sheet[1][2] == "杞县"  # whose case: a city's register merges counties
    assert sheet[1][3] == date(2023, 5, 6)  # the dates moved on, still dates
    ((line,),) = [list(chunk) for chunk in exporter.lines([office.ids["historical"]])]
    assert (line.number, line.original_number) == (numbers["historical"], "2023-KX-017")
    with zipfile.ZipFile(tmp_path / "台账.xlsx") as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    # An ordinary case's empty 原编号 is no cell at all, as any empty value: its row has no B.
    ordinary = xml.split(f"<t>{numbers['open']}</t>")[1].split("</row>")[0]
    assert '<c r="B' not in ordinary and '<c r="C' in ordinary


def test_the_export_follows_the_filter(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    _office(services, clerk, leader)
    out = tmp_path / "十一月上旬.xlsx"
    case_filter = CaseFilter(received_from=date(2026, 11, 2), received_to=date(2026, 11, 4))
    assert _exporter(services).export(clerk, out, case_filter).cases == 1
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("事项台账").to_python()
    assert len(rows) == 2


def test_clear_phones_only_when_asked_and_allowed_and_then_audited(
    services: AppServices, clerk: Actor, leader: Actor, auditor: Actor, tmp_path: Path
) -> None:
    office = _office(services, clerk, leader)
    exporter = _exporter(services)
    # One person (the same ID) came three times: her latest phone is on every line.
    phones = {"13900000003"}
    clear = exporter.export(clerk, tmp_path / "clear.xlsx", CaseFilter(), masked=False)
    assert clear.numbers_clear
    assert set(_column(tmp_path / "clear.xlsx", "联系电话")) == phones
    refused = exporter.export(auditor, tmp_path / "auditor.xlsx", CaseFilter(), masked=False)
    assert not refused.numbers_clear
    assert not phones & set(_column(tmp_path / "auditor.xlsx", "联系电话"))
    del office
    with services.db.read() as session:
        actions = session.scalars(
            select(AuditEntry.user_name).where(AuditEntry.action == "export_register")
        ).all()
    assert list(actions) == [clerk.username]  # the clear export only


def test_the_csv_has_a_bom_and_neutralises_formulas(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    _office(services, clerk, leader)
    out = tmp_path / "台账.csv"
    result = _exporter(services).export(clerk, out, CaseFilter())
    assert result.cases == 3
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [column.header for column in CASE_COLUMNS]
    assert len(rows) == 4
    assert rows[1][rows[0].index("受理日期")] == "2026-11-01"
    assert "'=1+1 不是公式" in [row[rows[0].index("事项")] for row in rows]


def test_a_cancelled_export_leaves_no_file(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    _office(services, clerk, leader)
    folder = tmp_path / "U盘"
    folder.mkdir()
    with pytest.raises(ExportCancelled):
        _exporter(services).export(
            clerk, folder / "台账.xlsx", CaseFilter(), cancelled=lambda: True
        )
    assert list(folder.iterdir()) == []


def test_more_cases_than_an_excel_sheet_holds_are_refused_not_cut(
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A city's 1.5 million cases do not fit one sheet (1,048,575 rows under the header):
    refused with the way out, rather than a file silently missing the rest. Shown here with
    a sheet of three rows."""
    from desktop_app.errors import UserError
    from desktop_app.services import register_export

    _office(services, clerk, leader)  # three cases
    monkeypatch.setattr(register_export, "EXCEL_ROWS", 3)
    folder = tmp_path / "U盘"
    folder.mkdir()
    with pytest.raises(UserError, match="超过 Excel 一张表最多 2 行的上限"):
        _exporter(services).export(clerk, folder / "台账.xlsx", CaseFilter())
    assert list(folder.iterdir()) == []
    done = _exporter(services).export(clerk, folder / "台账.csv", CaseFilter())
    assert done.cases == 3


def test_more_assignments_than_a_sheet_holds_are_refused_too(
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cases fit but the 交办情况 sheet does not (there are more assignments than cases):
    refused, and no file left, rather than a sheet silently cut (review item 6)."""
    from desktop_app.errors import UserError
    from desktop_app.services import register_export

    office = _office(services, clerk, leader)
    for _ in range(3):  # four assignments on the open case
        office.assignment(
            "open",
            AssignmentState.RESPONDED,
            issued_at=datetime(2026, 11, 3, 10, 0),
            responded_at=datetime(2026, 11, 10, 15, 0),
            returned_reason="",
        )
    with services.db.read() as session:
        assignments = session.scalar(select(func.count()).select_from(Assignment)) or 0
    assert assignments > 3  # more than the three cases
    monkeypatch.setattr(register_export, "EXCEL_ROWS", 4)  # a header and three rows
    folder = tmp_path / "U盘"
    folder.mkdir()
    with pytest.raises(UserError, match="“交办情况”超过 Excel 一张表最多 3 行的上限"):
        _exporter(services).export(clerk, folder / "台账.xlsx", CaseFilter())
    assert list(folder.iterdir()) == []


def test_progress_counts_up_to_the_total(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    _office(services, clerk, leader)
    seen: list[tuple[int, int]] = []
    _exporter(services).export(
        clerk, tmp_path / "t.xlsx", CaseFilter(), progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (3, 3)


def test_an_unknown_suffix_is_the_users_mistake(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    from desktop_app.errors import UserError

    with pytest.raises(UserError, match=r"\.xlsx 或 \.csv"):
        _exporter(services).export(clerk, tmp_path / "台账.txt", CaseFilter())


def test_the_command_line_exports_masked_for_a_role_that_may_not_see_numbers(
    services: AppServices, clerk: Actor, leader: Actor, data_dir: Path, tmp_path: Path
) -> None:
    _office(services, clerk, leader)
    services.close()
    out = tmp_path / "台账.xlsx"
    result = run_bbcs(
        "ledger",
        "--out",
        str(out),
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        data_dir=data_dir,
        env=as_user("auditor", USER_PASSWORD),
    )
    assert result.returncode == 0, result.stderr
    assert "事项 3 件" in result.stdout and "已遮挡" in result.stdout
    assert "无权查看完整号码" in result.stderr
    assert all("****" in phone for phone in _column(out, "联系电话"))
    csv_out = tmp_path / "台账.csv"
    clerk_run = run_bbcs(
        "ledger", "--out", str(csv_out), data_dir=data_dir, env=as_user("clerk1", USER_PASSWORD)
    )
    assert clerk_run.returncode == 0, clerk_run.stderr
    assert "联系电话完整" in clerk_run.stdout
    # A CSV is the cases' sheet alone: not "交办 0 条" of three cases that were assigned.
    assert "CSV 只含事项台账" in clerk_run.stdout and "交办 0 条" not in clerk_run.stdout
    assert "交办 " in result.stdout and "CSV" not in result.stdout


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_opens_the_xlsx_and_keeps_every_row(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    """The round trip .ci/run makes possible: LibreOffice converts our xlsx to its own xlsx, and
    the rows, header and dates survive."""
    _office(services, clerk, leader)
    out = tmp_path / "in" / "台账.xlsx"
    out.parent.mkdir()
    _exporter(services).export(clerk, out, CaseFilter())
    converted = tmp_path / "out"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(converted),
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    back = CalamineWorkbook.from_path(str(converted / "台账.xlsx"))
    assert back.sheet_names == ["事项台账", "交办情况"]
    rows = back.get_sheet_by_name("事项台账").to_python()
    assert rows[0] == [column.header for column in CASE_COLUMNS] and len(rows) == 4
    assert rows[1][rows[0].index("受理日期")] == date(2026, 11, 1)


def _number(services: AppServices, case_id: int) -> str:
    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.number


def _column(path: Path, header: str) -> list[str]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("事项台账").to_python()
    index = rows[0].index(header)
    return [str(row[index]) for row in rows[1:]]


def test_a_cancel_mid_export_leaves_no_file_and_no_reading_thread(
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _office(services, clerk, leader)
    monkeypatch.setattr(register_export, "_CHUNK", 1)  # a chunk a case: the cancel comes between
    seen: list[int] = []
    folder = tmp_path / "U盘"
    folder.mkdir()
    for name in ("台账.xlsx", "台账.csv"):
        seen.clear()
        with pytest.raises(ExportCancelled):
            _exporter(services).export(
                clerk,
                folder / name,
                CaseFilter(),
                progress=lambda done, _total: seen.append(done),
                cancelled=lambda: len(seen) == 1,
            )
        assert seen == [1]
        assert list(folder.iterdir()) == []
        assert not [t for t in threading.enumerate() if t.name.startswith("register-read")]


# What XlsxWriter's own calls do with each of these is what the file must hold.
_AWKWARD_TEXT = (
    "plain 文字",
    " leading space",
    "trailing space ",
    "\u3000全角空格开头",
    "tab\tinside",
    "line\nbreak",
    "bell\x07",
    "_x0041_ looks like an escape",
    'a & b <c> "d"',
    "<r>not rich</r>",
    "\ufffe",
    "private \ue000 use",
    "长" * 20_000,
    "x" * 40_000,
    "=1+1",
)


def test_the_rows_are_the_very_xml_xlsxwriter_writes(tmp_path: Path) -> None:
    """The fast row writer against XlsxWriter's per-cell calls: the same sheets byte for byte,
    for plain rows, rows with text XlsxWriter escapes or cuts, empty cells and rows, and dates."""
    rows: list[tuple[object, ...]] = []
    for n in range(120):
        text = _AWKWARD_TEXT[n % len(_AWKWARD_TEXT)] if n % 3 else f"第{n}行"
        rows.append(
            (
                f"K{n:05d}",
                "" if n % 6 else f"旧-{n}",  # 原编号: empty for ordinary cases
                date(2026, 1, 1) + timedelta(days=n),
                text,
                None if n % 4 else date(2026, 12, 31),
                "" if n % 5 else "已办结",
            )
        )
    rows[50] = (None, "", None, "", None, "")  # a row without cells: none written
    rows[117] = ("K00117", "旧-117")  # 原编号 the last cell of a short row
    rows[118] = ("K00118", "", None, "", None)  # short rows end the sheet
    rows[119] = ("K00119",)
    columns = (
        Column("编号", "number", 16),
        Column("原编号", "original_number", 14),
        Column("受理日期", "received_on", 11, True),
        Column("事项", "title", 30),
        Column("办结日期", "concluded_on", 11, True),
        Column("结果", "outcome", 10),
    )
    date_columns = frozenset({2, 4})

    def workbook(path: Path, fast: bool) -> None:
        book = xlsxwriter.Workbook(
            str(path),
            {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
        )
        header = book.add_format({"bold": True})
        dates = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet = register_export._sheet(book, "事项台账", columns, header, dates)
        if fast:
            writer = register_export._RowWriter(sheet, date_columns, dates)
            last = 0
            for start in range(0, len(rows), 7):
                last = writer.write(last + 1, rows[start : start + 7])
            assert last == len(rows)
        else:
            for row, values in enumerate(rows, 1):
                register_export._write_cells(sheet, row, values, date_columns, dates)
        register_export._finish_sheet(sheet, len(rows), columns)
        book.close()

    workbook(tmp_path / "cells.xlsx", fast=False)
    workbook(tmp_path / "rows.xlsx", fast=True)
    with (
        zipfile.ZipFile(tmp_path / "cells.xlsx") as cells,
        zipfile.ZipFile(tmp_path / "rows.xlsx") as fast_rows,
    ):
        for part in ("xl/worksheets/sheet1.xml", "xl/styles.xml"):
            assert fast_rows.read(part) == cells.read(part), part


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "19900001111",
        "+86 138 1234 5678",
        "１３８１２３４５６７８",
        "0378-2345678",
        "12345",
        "1381234567",
        "2381234567x",
    ],
)
def test_the_short_way_of_masking_a_mobile_masks_as_mask_phone(phone: str) -> None:
    assert register_export._masked_phone(phone) == mask_phone(phone)


def test_the_lines_fields_run_in_the_columns_order() -> None:
    """The export reads each case as a tuple in column order; a line is made from it by position."""
    assert [f.name for f in fields(register_export.RegisterLine)] == [
        column.field for column in CASE_COLUMNS
    ]


def test_the_register_names_the_assigned_department_and_the_slip_that_issued_it(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    """Stuck at one department, assigned to another, then urged: the 事项台账 shows both the
    受阻部门 and the 承办单位 (it showed the stuck one as 承办单位), and 交办单号 on both sheets
    is the 交办单's number, not the 催办通知's that came after it."""
    stuck, assigned = services.site.departments()[:2]
    case_id = services.intake.register(clerk, person_form(stuck_department_id=stuck.id)).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.WONT, Approach.ORDER, (Cause.PROCESS,), "医保社保")
    )
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=assigned.id, assisting_ids=[], requirements="请依法办理。"
    )
    slip_number, _ = services.assignments.issue(leader, ids[0])
    clock.at = datetime(2026, 12, 3, 9, 0)  # past its deadline
    urge_number, _ = services.assignments.urge(clerk, ids[0])
    assert urge_number != slip_number

    out = tmp_path / "台账.xlsx"
    _exporter(services).export(clerk, out, CaseFilter())
    book = CalamineWorkbook.from_path(str(out))
    rows = book.get_sheet_by_name("事项台账").to_python()
    line = dict(zip(rows[0], rows[1], strict=True))
    assert (line["受阻部门"], line["承办单位"]) == (stuck.name, assigned.name)
    assert line["交办单号"] == slip_number
    sheet = book.get_sheet_by_name("交办情况").to_python()
    assignment = dict(zip(sheet[0], sheet[1], strict=True))
    assert (assignment["交办单号"], assignment["承办单位"]) == (slip_number, assigned.name)
    assert assignment["催办日期"] == date(2026, 12, 3)
    csv_out = tmp_path / "台账.csv"
    _exporter(services).export(clerk, csv_out, CaseFilter())
    with csv_out.open(encoding="utf-8-sig", newline="") as f:
        header, first = list(csv.reader(f))[:2]
    row = dict(zip(header, first, strict=True))
    assert (row["受阻部门"], row["承办单位"], row["交办单号"]) == (
        stuck.name,
        assigned.name,
        slip_number,
    )


def test_a_round_voided_after_signing_or_sent_back_names_no_承办单位(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    """Signed to the wrong department and voided, then to the right one: only the right one
    is the 承办单位 (both were listed)."""
    wrong, right = services.site.departments()[:2]
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    first, _ = services.assignments.create(
        clerk, case_id, department_id=wrong.id, assisting_ids=[], requirements="请办理。"
    )
    services.assignments.issue(leader, first[0])
    services.assignments.void(leader, first[0], "承办单位选错")
    second, _ = services.assignments.create(
        clerk, case_id, department_id=right.id, assisting_ids=[], requirements="请办理。"
    )
    number, _ = services.assignments.issue(leader, second[0])
    out = tmp_path / "台账.xlsx"
    _exporter(services).export(clerk, out, CaseFilter())
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("事项台账").to_python()
    line = dict(zip(rows[0], rows[1], strict=True))
    assert (line["承办单位"], line["交办单号"]) == (right.name, number)


def test_an_assisting_department_is_listed_with_the_paper_it_was_signed_on(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    """A 协办 is signed with its lead on one 交办单: its row in 交办情况 carries that number, as
    the window shows it (it was empty)."""
    lead, helper = services.site.departments()[:2]
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=lead.id, assisting_ids=[helper.id], requirements="请办理。"
    )
    number, _ = services.assignments.issue(leader, ids[0])
    out = tmp_path / "台账.xlsx"
    _exporter(services).export(clerk, out, CaseFilter())
    sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("交办情况").to_python()
    rows = [dict(zip(sheet[0], row, strict=True)) for row in sheet[1:]]
    assert [(r["类型"], r["承办单位"], r["交办单号"]) for r in rows] == [
        ("交办", lead.name, number),
        ("协办", helper.name, number),
    ]
