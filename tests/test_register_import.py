"""Bringing the old Excel 台账 in (issue 17): a sheet made the way offices make them, imported
with ``bbcs intake --from F.xlsx`` into a real data dir and read back."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from sqlalchemy import select

from desktop_app.domain import register_headers as headers
from desktop_app.domain.register_headers import CellProblem, HistoricalState
from desktop_app.domain.vocabulary import CaseStatus
from desktop_app.services.context import FixedClock
from desktop_app.services.ledger import CaseFilter, Worklist
from desktop_app.services.register_import import RegisterImportService, read_sheet
from desktop_app.storage.models import Case, CaseEvent
from tests.helpers.cli import run_bbcs, subprocess_env
from tests.helpers.exchange import ADMIN, CITY, QIXIAN, open_site, trust_each_other
from tests.helpers.factories import ADMIN_PASSWORD, VALID_ID
from tests.helpers.speed import fast_password_hashing  # noqa: F401

INIT = ("init", "--site-code", "410221", "--site-name", "杞县办不成事监督窗口", "--level", "county")
HEADER = [
    "序号",
    "受理日期",
    "反映人",
    "身份证号",
    "联系电话",
    "反映事项",
    "具体情况",
    "领域",
    "来源渠道",
    "承办单位",
    "办理结果",
    "办结日期",
    "满意度",
    "原编号",
    "备注",  # not a column the program knows: kept in the 历史导入 entry
]
# Full-width digits in a phone and a date, dates as text, as a date cell and as a serial number.
ROWS: list[list[Any]] = [
    [
        1,
        "2023-5-6",
        "王芳",
        VALID_ID,
        "１３８１２３４５６７８",
        "医保结算查不到参保信息",
        "在县人民医院办理医保结算时被告知查不到参保信息。",
        "医保社保",
        "窗口来访",
        "县医保局",
        "已办结",
        "2023/05/20",
        "满意",
        "QX2023-001",
        "回访电话已打通",
    ],
    [
        2,
        datetime(2023, 6, 1),
        "李强",
        "",
        "13900001111",
        "公积金提取证明开不出来",
        "",
        "住房公积金",
        "电话",
        "县公积金中心",
        "已解释，不能办",
        "2023年6月9日",
        "",
        "QX2023-002",
        "",
    ],
    [
        3,
        45108,
        "赵磊",
        "",
        "0378-2345678",
        "不动产登记一直拖着",
        "过户材料交了两个月没消息。",
        "不动产登记",
        "来访",
        "县不动产登记中心",
        "办理中",
        "",
        "",
        "QX2023-003",
        "跟进中",
    ],
    [
        4,
        "２０２３．７．１",
        "孙丽",
        "",
        "13700002222",
        "社保卡补办被要求回户籍地",
        "",
        "医保社保",
        "网上",
        "县人社局",
        "办结",
        "2023.7.3",
        "非常满意",
        "QX2023-004",
        "",
    ],
]
SERIAL_DAY = date(2023, 7, 1)  # Excel's serial 45108


def office_sheet(path: Path, rows: list[list[Any]] = ROWS, header: list[str] = HEADER) -> Path:
    """An .xlsx as offices keep it: a merged title row, a 填报单位 line, the header on row 3."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("2023年台账")
    title = book.add_format({"bold": True, "align": "center", "font_size": 16})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range(0, 0, 0, len(header) - 1, "杞县“办不成事”反映窗口工作台账（2023年）", title)
    sheet.write(1, 0, "填报单位：杞县纪委监委（盖章）")
    sheet.write_row(2, 0, header)
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, day)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value) if value else None
    sheet.write(3 + len(rows) + 1, 0, "填表人：张敏")
    book.close()
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("register import")
    data_dir = root / "site"
    result = run_bbcs(
        *INIT, data_dir=data_dir, env=subprocess_env(BBCS_ADMIN_PASSWORD=ADMIN_PASSWORD)
    )
    assert result.returncode == 0, result.stderr
    return data_dir


@pytest.fixture
def data_dir(site: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    return copy


def query(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(data_dir / "bbcs.db")
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


# The rules ------------------------------------------------------------------------------------


def test_dates_as_offices_write_them() -> None:
    expected = datetime(2023, 5, 6)
    for written in (
        "2023-5-6",
        "2023/05/06",
        "2023年5月6日",
        "2023.5.6",
        "２０２３－５－６",
        20230506,
    ):
        assert headers.date_of(written) == expected, written
    assert headers.date_of(45108) == datetime.combine(SERIAL_DAY, datetime.min.time())
    assert headers.date_of(date(2023, 5, 6)) == expected
    assert headers.date_of("2023-05-06 09:30") == datetime(2023, 5, 6, 9, 30)
    for wrong in ("2023-13-01", "去年五月", "2023-2-30"):
        with pytest.raises(CellProblem):
            headers.date_of(wrong)


def test_headers_and_states_recognised() -> None:
    assert headers.recognise("联系电话（手机）") == "phone"
    assert headers.recognise(" 反映时间 ") == "received_at"
    assert headers.recognise("责任单位") == "department"
    assert headers.recognise("备注") is None
    assert headers.field_for("反映事项") == "title" and headers.field_for("忽略") == "ignore"
    assert headers.state_of("已办结", True) is HistoricalState.DONE
    assert headers.state_of("未办结", False) is HistoricalState.OPEN
    assert headers.state_of("已解释，不能办", True) is HistoricalState.EXPLAINED
    assert headers.state_of("", True) is HistoricalState.DONE
    assert headers.state_of("", False) is HistoricalState.OPEN
    assert headers.visit_of("非常不满意").grade is not None
    assert headers.visit_of("非常不满意").grade.label == "非常不满意"  # type: ignore[union-attr]
    assert headers.visit_of("未回访").visited is False
    # Said in other words, still no visit; and what did not happen is asked, not guessed.
    for text in ("尚未回访", "未回访，电话空号", "暂未回访", "联系不上", "待回访"):
        assert headers.visit_of(text).visited is False, text
    assert headers.visit_of("已回访").visited is True
    for text in ("无法解决", "未能办结", "没有解决"):
        with pytest.raises(CellProblem, match="看不出是已办结"):
            headers.state_of(text, True)
    assert headers.state_of("未解决，办理中", False) is HistoricalState.OPEN
    assert headers.state_of("无法办理，已解释", True) is HistoricalState.EXPLAINED
    with pytest.raises(CellProblem):
        headers.number_text(410221199001011234.0, "身份证号")  # Excel kept 15 digits of it


# The command ----------------------------------------------------------------------------------


def test_an_office_sheet_comes_in_as_history(data_dir: Path, tmp_path: Path) -> None:
    sheet = office_sheet(tmp_path / "旧台账.xlsx")
    result = run_bbcs("intake", "--from", str(sheet), "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout)
    assert [c["original_number"] for c in imported] == [f"QX2023-00{i}" for i in range(1, 5)]
    assert [c["row"] for c in imported] == [4, 5, 6, 7]  # as Excel shows them: header on row 3
    assert [c["number"] for c in imported] == [f"杞县-LS2023-000{i}" for i in range(1, 5)]
    assert [c["status"] for c in imported] == ["visited", "concluded", "registered", "visited"]
    assert "未识别的列：备注" in result.stderr

    rows = query(
        data_dir,
        "SELECT number, original_number, received_at, concluded_at, outcome, visit_grade,"
        " due_date, visit_due_date, status FROM cases ORDER BY id",
    )
    assert [r[2][:10] for r in rows] == ["2023-05-06", "2023-06-01", "2023-07-01", "2023-07-01"]
    assert [r[3] and r[3][:10] for r in rows] == ["2023-05-20", "2023-06-09", None, "2023-07-03"]
    assert [r[4] for r in rows] == ["done", "explained", None, "done"]
    assert [r[5] for r in rows] == ["satisfied", None, None, "very_satisfied"]
    assert all(r[6] is None and r[7] is None for r in rows)  # no deadline into the past
    # Full-width digits normalised, the phone sealed as intake seals it (not in clear).
    people = query(
        data_dir,
        "SELECT name, phone_last4, phone_sealed, id_number_sealed FROM complainants ORDER BY id",
    )
    assert people[0][:2] == ("王芳", "5678")
    assert "13812345678" not in people[0][2] and VALID_ID not in people[0][3]
    events = query(data_dir, "SELECT summary, at FROM case_events ORDER BY id")
    assert all(summary.startswith("历史导入") for summary, _at in events)
    assert any("备注：回访电话已打通" in s and "承办单位：县医保局" in s for s, _at in events)
    assert events[0][1].startswith("2023-05-06")

    # Today's series is untouched: a case registered now is 杞县-<year>-0001.
    check = run_bbcs("check", data_dir=data_dir)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "检查通过" in check.stdout

    # Found by its old number; nothing overdue; the open one stays on the ledger.
    found = json.loads(
        run_bbcs("cases", "--json", "--search", "QX2023-003", data_dir=data_dir).stdout
    )
    assert [c["number"] for c in found] == ["杞县-LS2023-0003"]
    assert found[0]["status"] == "registered" and found[0]["due_date"] is None

    # The same sheet again is refused: its old numbers are in already.
    again = run_bbcs("intake", "--from", str(sheet), data_dir=data_dir)
    assert again.returncode != 0
    assert "第4行 原编号：原编号 QX2023-001 已导入过（杞县-LS2023-0001）" in again.stderr


def test_a_bad_row_refuses_the_whole_sheet(data_dir: Path, tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][1] = "去年六月"  # row 5 in Excel
    rows[3][4] = ""  # row 7: no phone
    rows[2][10] = "已办结"  # row 6: concluded, but no 办结日期
    sheet = office_sheet(tmp_path / "错误.xlsx", rows)
    result = run_bbcs("intake", "--from", str(sheet), data_dir=data_dir)
    assert result.returncode != 0
    assert "未导入任何记录" in result.stderr
    assert "第5行 反映时间：“去年六月”不是有效日期" in result.stderr
    assert "第6行 办结日期：办理结果为“已办结”，请填写办结日期" in result.stderr
    assert "第7行 联系电话：请填写联系电话" in result.stderr
    assert query(data_dir, "SELECT count(*) FROM cases") == [(0,)]


def test_a_name_cell_holding_a_number_or_a_tick_is_refused(data_dir: Path, tmp_path: Path) -> None:
    """A walk's sheet: a TRUE became a complainant called 是, 12345 one called 12345."""
    rows = [list(r) for r in ROWS]
    rows[0][2] = True  # row 4 in Excel
    rows[1][2] = 12345  # row 5
    sheet = office_sheet(tmp_path / "姓名.xlsx", rows)
    result = run_bbcs("intake", "--from", str(sheet), data_dir=data_dir)
    assert result.returncode == 2, result.stderr
    assert "第4行 姓名/名称：这一格是数字或“是/否”，不是文字" in result.stderr
    assert "第5行 姓名/名称：这一格是数字或“是/否”，不是文字" in result.stderr
    assert query(data_dir, "SELECT count(*) FROM cases") == [(0,)]


def test_an_id_whose_check_digit_fails_comes_in_with_its_confirmation(
    data_dir: Path, tmp_path: Path
) -> None:
    """A walk's real ID with a failing check digit could never come in: the message asked for
    a column the import did not know."""
    from tests.helpers.ids import wrong_check

    rows = [[*list(r), ""] for r in ROWS]
    rows[0][3] = wrong_check(VALID_ID)
    sheet = office_sheet(tmp_path / "无理由.xlsx", rows, [*HEADER, "确认理由"])
    refused = run_bbcs("intake", "--from", str(sheet), data_dir=data_dir)
    assert refused.returncode == 2 and "第4行" in refused.stderr and "确认理由" in refused.stderr
    rows[0][-1] = "已核对身份证原件，号码无误"
    sheet = office_sheet(tmp_path / "有理由.xlsx", rows, [*HEADER, "确认理由"])
    done = run_bbcs("intake", "--from", str(sheet), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert query(data_dir, "SELECT count(*) FROM cases") == [(len(ROWS),)]


def test_the_old_number_stays_searchable_after_a_correction_and_a_rebuild(
    data_dir: Path, tmp_path: Path, clock: FixedClock
) -> None:
    """原编号 is part of the case's search text wherever it is built: at import, after a
    correction (which builds it again) and in a rebuild of the whole index (review item 2)."""
    from dataclasses import replace

    from desktop_app.services import sealing
    from desktop_app.services.app import open_services
    from desktop_app.services.corrections import CorrectionForm

    rows = [list(r) for r in ROWS[:1]]
    rows[0][HEADER.index("原编号")] = "甲字第77号"
    sheet = office_sheet(tmp_path / "一行.xlsx", rows)
    assert run_bbcs("intake", "--from", str(sheet), data_dir=data_dir).returncode == 0
    services = open_services(data_dir, clock=clock)
    try:
        admin = services.auth.login("admin", ADMIN_PASSWORD)
        (case_id,) = services.ledger.ids(CaseFilter(text="甲字第77号"))
        form = services.corrections.current(case_id)
        services.corrections.correct(
            admin,
            case_id,
            CorrectionForm(
                replace(form.case, title="医保结算查不到参保信息（更正）"),
                form.complainant,
                "登记时录错",
            ),
        )
        assert services.ledger.ids(CaseFilter(text="甲字第77号")) == [case_id]
        with services.db.write() as session:  # the rebuild of the upgrade that seals numbers
            sealing._rebuild_search_text(services.db, session)
        assert services.ledger.ids(CaseFilter(text="甲字第77号")) == [case_id]
    finally:
        services.close()


def test_a_matter_received_since_the_site_was_set_up_is_not_history(
    data_dir: Path, tmp_path: Path
) -> None:
    """A clerk cannot slip concluded, graded matters into this month's figures as "history"
    (review item 3): from the day the site was set up, matters are registered here."""
    (created,) = query(data_dir, "SELECT created_at FROM sites WHERE is_local")[0]
    started = datetime.fromisoformat(str(created))
    rows = [list(r) for r in ROWS[:1]]
    rows[0][1] = started.replace(hour=0, minute=0, second=0, microsecond=0)
    rows[0][11] = started.date().isoformat()  # 办结日期 the same day
    sheet = office_sheet(tmp_path / "本月.xlsx", rows)

    result = run_bbcs("intake", "--from", str(sheet), data_dir=data_dir)

    assert result.returncode != 0
    assert "第4行 反映时间：受理日期在本站点启用" in result.stderr
    assert "请在“受理登记”中登记" in result.stderr
    assert query(data_dir, "SELECT count(*) FROM cases") == [(0,)]


def test_old_numbers_repeat_by_year_and_a_long_one_is_refused(
    data_dir: Path, tmp_path: Path
) -> None:
    """Offices number 1, 2, 3 … each year: next year's 1 is another matter (review item 7);
    a 原编号 longer than its column is told by its row (review item 5)."""
    where = HEADER.index("原编号")
    first = [list(ROWS[0])]
    first[0][where] = "1"
    assert (
        run_bbcs(
            "intake", "--from", str(office_sheet(tmp_path / "2023.xlsx", first)), data_dir=data_dir
        ).returncode
        == 0
    )
    next_year = [list(ROWS[1])]
    next_year[0][1] = datetime(2024, 3, 1)
    next_year[0][11] = "2024-03-08"
    next_year[0][where] = "1"
    result = run_bbcs(
        "intake", "--from", str(office_sheet(tmp_path / "2024.xlsx", next_year)), data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    again = run_bbcs(
        "intake", "--from", str(office_sheet(tmp_path / "2023b.xlsx", first)), data_dir=data_dir
    )
    assert "原编号 1 已导入过（杞县-LS2023-0001）" in again.stderr

    long = [list(ROWS[2])]
    long[0][where] = "Q" * 61
    refused = run_bbcs(
        "intake", "--from", str(office_sheet(tmp_path / "长.xlsx", long)), data_dir=data_dir
    )
    assert refused.returncode != 0 and "第4行 原编号：原编号最多60个字" in refused.stderr
    assert query(data_dir, "SELECT count(*) FROM cases") == [(2,)]


def test_an_area_the_site_does_not_list_goes_under_other_and_is_kept(
    data_dir: Path, tmp_path: Path
) -> None:
    """Old sheets name areas their own way, or leave them empty: such rows go under 其他 and
    the sheet's word stays in the 历史导入 entry, rather than every row being refused."""
    where = HEADER.index("领域")
    rows = [list(ROWS[0]), list(ROWS[1])]
    rows[0][where] = "社保"
    rows[1][where] = ""
    result = run_bbcs(
        "intake", "--from", str(office_sheet(tmp_path / "领域.xlsx", rows)), data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    assert query(data_dir, "SELECT area FROM cases ORDER BY id") == [("其他",), ("其他",)]
    (summary,) = query(
        data_dir,
        "SELECT summary FROM case_events WHERE summary LIKE '%领域（原台账）%' ORDER BY id",
    )[0]
    assert "领域（原台账）：社保" in summary


def test_old_concluded_cases_are_not_owed_a_visit_now(
    data_dir: Path, tmp_path: Path, clock: FixedClock
) -> None:
    """Three years of an old 台账 must not flood 待回访: a concluded historical case stays
    已办结 (no visit was recorded) but is not on the visit list or its dashboard figure."""
    from desktop_app.services.app import open_services
    from desktop_app.services.supervision import Figure

    assert (
        run_bbcs(
            "intake", "--from", str(office_sheet(tmp_path / "旧.xlsx")), data_dir=data_dir
        ).returncode
        == 0
    )
    services = open_services(data_dir, clock=clock)
    try:
        admin = services.auth.login("admin", ADMIN_PASSWORD)
        concluded = services.ledger.ids(CaseFilter(statuses=(CaseStatus.CONCLUDED,)))
        assert concluded  # the 已解释 row: concluded, never visited
        counts = services.supervision.counts(admin)
        assert counts.values[Figure.AWAITING_VISIT] == 0
        assert services.ledger.ids(CaseFilter(awaiting_visit=True)) == []
    finally:
        services.close()


def test_a_sheet_without_old_numbers_brought_in_twice_is_refused(
    data_dir: Path, tmp_path: Path
) -> None:
    """Without 原编号 a repeat is told by 受理日期, 反映人 and 反映事项: the second import is
    refused naming the case already there, and nothing is doubled."""
    header = [h for h in HEADER if h != "原编号"]
    where = HEADER.index("原编号")
    rows = [[*r[:where], *r[where + 1 :]] for r in ROWS]
    sheet = office_sheet(tmp_path / "无编号.xlsx", rows, header)
    first = run_bbcs("intake", "--from", str(sheet), data_dir=data_dir)
    assert first.returncode == 0, first.stderr

    again = run_bbcs("intake", "--from", str(sheet), data_dir=data_dir)

    assert again.returncode != 0
    assert "第4行 反映时间：与已导入的历史事项 杞县-LS2023-0001 相同" in again.stderr
    assert "这份台账可能已导入过" in again.stderr
    assert query(data_dir, "SELECT count(*) FROM cases") == [(len(ROWS),)]


def test_map_names_a_column_and_is_remembered(data_dir: Path, tmp_path: Path) -> None:
    header = [*HEADER[:5], "问题摘要", *HEADER[6:]]
    sheet = office_sheet(tmp_path / "另一种表头.xlsx", ROWS[:1], header)
    mapped = run_bbcs(
        "intake",
        "--from",
        str(sheet),
        "--map",
        "问题摘要=反映事项",
        "--map",
        "备注=忽略",
        "--json",
        data_dir=data_dir,
    )
    assert mapped.returncode == 0, mapped.stderr
    assert "未识别的列" not in mapped.stderr
    assert query(data_dir, "SELECT title FROM cases") == [("医保结算查不到参保信息",)]
    # The same layout again: the mapping is remembered (refused now only as already imported).
    second = office_sheet(
        tmp_path / "另一种表头2.xlsx", [[*ROWS[1][:13], "QX2023-009", ""]], header
    )
    again = run_bbcs("intake", "--from", str(second), "--json", data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    assert query(data_dir, "SELECT title FROM cases ORDER BY id")[1] == ("公积金提取证明开不出来",)
    wrong = run_bbcs("intake", "--from", str(sheet), "--map", "问题摘要=不存在", data_dir=data_dir)
    assert wrong.returncode != 0 and "应写成 列名=字段" in wrong.stderr


# The county's history reaches the city ------------------------------------------------------


def test_a_countys_historical_cases_reach_the_city_intact(
    tmp_path: Path, clock: FixedClock
) -> None:
    with open_site(tmp_path, CITY, clock) as city, open_site(tmp_path, QIXIAN, clock) as county:
        trust_each_other(county, city, tmp_path / "ids")
        usb = tmp_path / "U盘"
        usb.mkdir()
        services = county.services
        importer = RegisterImportService(
            services.db, services.clock, services.attachments, services.sealer
        )
        sheet = read_sheet(office_sheet(tmp_path / "旧台账.xlsx"))
        result = importer.import_sheet(ADMIN, sheet, importer.mapping_for(sheet))
        assert len(result.cases) == 4
        assert county.services.maintenance.check().problems == []
        # Nothing overdue on the calendar or the dashboard's 已超期 list for years-old dates.
        today = clock.now().date()
        assert services.deadlines.today(today).overdue == 0
        overdue = CaseFilter(worklist=Worklist.OVERDUE, today=today)
        assert services.ledger.export_records(overdue) == []
        report = city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path)
        assert not report.refused, report.reason
        with city.services.db.read() as session:
            rows = session.execute(
                select(Case.number, Case.original_number, Case.status, Case.due_date)
                .where(Case.site_code == county.code)
                .order_by(Case.number)
            ).all()
            summaries = session.scalars(select(CaseEvent.summary)).all()
        assert [tuple(r) for r in rows] == [
            ("杞县-LS2023-0001", "QX2023-001", "visited", None),
            ("杞县-LS2023-0002", "QX2023-002", "concluded", None),
            ("杞县-LS2023-0003", "QX2023-003", "registered", None),
            ("杞县-LS2023-0004", "QX2023-004", "visited", None),
        ]
        assert summaries and all(s.startswith("历史导入") for s in summaries)
        assert city.services.maintenance.check().problems == []
        found = city.services.ledger.export_records(CaseFilter(text="QX2023-002"))
        assert [r["number"] for r in found] == ["杞县-LS2023-0002"]
