"""The scorecards leave the program (issue 17): the xlsx read back (header, types, rows), the
量化管理评分表 PDF read back with its computed items filled and the inspector's blank, and
``bbcs scorecard`` writing both."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from desktop_app.documents.scorecard_xlsx import HEADERS, SHEET_NAME
from desktop_app.documents.scoring_sheet import BLANK_BASIS, SHEET_TITLE
from desktop_app.errors import ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from tests.helpers.cli import as_user, run_bbcs
from tests.helpers.factories import USER_PASSWORD
from tests.helpers.scorecard_cases import NOVEMBER, Departments, build_departments
from tests.helpers.speed import fast_password_hashing  # noqa: F401


@pytest.fixture
def office(services: AppServices, clerk: Actor) -> Departments:
    return build_departments(services, clerk)


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def test_the_xlsx_reads_back_with_its_header_numbers_and_a_row_per_department(
    services: AppServices,
    clerk: Actor,
    office: Departments,
    tmp_path: Path,
) -> None:
    card = services.scorecards.scorecard(clerk, *NOVEMBER)
    out = services.scorecards.export(clerk, card, tmp_path / "评分.xlsx")
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name(SHEET_NAME).to_python()
    assert tuple(rows[0]) == HEADERS
    table = [dict(zip(HEADERS, row, strict=True)) for row in rows[1:3]]
    a = next(r for r in table if r["部门"] == office.a.name)
    assert a["收到交办"] == 6 and isinstance(a["收到交办"], (int, float))
    assert a["按期办结率"] == pytest.approx(0.5)  # a number, formatted as a percentage
    assert (a["按期办结（件）"], a["计入（件）"], a["排名"]) == (2, 4, 1)
    assert a["满意率"] == pytest.approx(2 / 3)
    b = next(r for r in table if r["部门"] == office.b.name)
    assert b["满意率"] == "" and b["排名"] == ""  # nothing counted; below the minimum volume
    notes = [str(row[0]) for row in rows[3:] if row[0]]
    assert any("不参加排名" in note for note in notes)


def test_the_scoring_sheet_fills_computed_items_and_leaves_the_rest_blank(
    services: AppServices,
    clerk: Actor,
    office: Departments,
    tmp_path: Path,
) -> None:
    card = services.scorecards.scorecard(clerk, *NOVEMBER)
    out = services.scorecards.export(clerk, card, tmp_path / "评分表.pdf", [office.a.id])
    reader = PdfReader(str(out))
    assert len(reader.pages) == 1
    text = _pdf_text(out).replace(" ", "")
    assert SHEET_TITLE in text and office.a.name in text
    assert "66.7%（2/3）" in text and "6.7" in text  # 群众满意率 10 × 2/3
    assert "50.0%（2/4）" in text  # 按期办结率, its denominator with the overdue open one
    assert text.count(BLANK_BASIS) == 3  # the inspector's three items
    assert "检查人员（签字）" in text
    both = services.scorecards.export(clerk, card, tmp_path / "全部.pdf")
    assert len(PdfReader(str(both)).pages) == 2  # a page per department
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(out), str(tmp_path / "p")],
            check=True,
        )
        assert list(tmp_path.glob("p*.png"))


def test_an_unknown_suffix_or_an_empty_period_is_told_plainly(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    card = services.scorecards.scorecard(clerk, *NOVEMBER)
    with pytest.raises(ValidationFailed):
        services.scorecards.export(clerk, card, tmp_path / "评分.docx")
    with pytest.raises(ValidationFailed):
        services.scorecards.export(clerk, card, tmp_path / "评分.pdf")  # no department
    assert not (tmp_path / "评分.pdf").exists()


def test_the_command_line_writes_the_xlsx_and_the_sheets(
    services: AppServices,
    office: Departments,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    a_name = office.a.name
    services.close()
    env = as_user("auditor", USER_PASSWORD)  # reading is enough
    period = ("--from", "2026-11-01", "--to", "2026-11-30")
    listed = run_bbcs("scorecard", *period, data_dir=data_dir, env=env)
    assert listed.returncode == 0, listed.stderr
    assert a_name in listed.stdout and "交办 6" in listed.stdout
    xlsx = tmp_path / "评分.xlsx"
    written = run_bbcs("scorecard", *period, "--out", str(xlsx), data_dir=data_dir, env=env)
    assert written.returncode == 0, written.stderr
    rows = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_name(SHEET_NAME).to_python()
    assert tuple(rows[0]) == HEADERS
    pdf = tmp_path / "评分表.pdf"
    sheets = run_bbcs(
        "scorecard", *period, "--out", str(pdf), "--department", a_name, data_dir=data_dir, env=env
    )
    assert sheets.returncode == 0, sheets.stderr
    assert len(PdfReader(str(pdf)).pages) == 1
    unknown = run_bbcs("scorecard", *period, "--department", "没有的局", data_dir=data_dir, env=env)
    assert unknown.returncode != 0 and "没有的局" in unknown.stderr


def test_the_windows_own_sheet_carries_the_bulletins_figures_and_call_back_rows(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    """Seed 002: the 纪委监委's inspectors score the window itself and call back concluded
    matters' complainants for its 满意率. One page: the window's items, its computed rates
    those of the 分析通报 for the same period, and blank rows for the call-backs."""
    from desktop_app.documents.scoring_sheet import WINDOW_TITLE
    from desktop_app.domain.scoring import Measure
    from desktop_app.services.statistics import Period
    from tests.test_statistics import NOVEMBER as PERIOD
    from tests.test_statistics import build_period

    build_period(services, clerk, leader)
    (sheet,) = services.scorecards.window_sheets(clerk, PERIOD.start, PERIOD.end)
    stats = services.statistics.period_statistics(clerk, Period(PERIOD.start, PERIOD.end))
    rates = {line.item.measure: line.basis for line in sheet.lines if line.item.measure}
    assert rates[Measure.SATISFACTION] == stats.satisfied_rate.text()
    assert rates[Measure.VISITED] == stats.visit_rate.text()
    assert rates[Measure.ON_TIME] == stats.on_time.text()
    assert rates[Measure.CASE_ON_TIME] == stats.case_on_time.text()
    assert stats.visit_rate.denominator > 0 and stats.on_time.denominator > 0
    assert sheet.full_points == 100
    out = services.scorecards.export_window(clerk, PERIOD.start, PERIOD.end, tmp_path / "窗口.pdf")
    assert len(PdfReader(str(out)).pages) == 1
    text = _pdf_text(out).replace(" ", "")
    assert WINDOW_TITLE in text and "抽查回访记录" in text and "回访评价" in text
    assert f"被评单位：{sheet.department}" in text
    assert stats.on_time.text() in text
    with pytest.raises(ValidationFailed):
        services.scorecards.export_window(clerk, PERIOD.start, PERIOD.end, tmp_path / "w.xlsx")


def test_a_department_sheet_reads_the_windows_own_measures_as_not_applicable(
    services: AppServices, clerk: Actor, admin: Actor, office: Departments, tmp_path: Path
) -> None:
    from desktop_app.domain.scoring import NOT_APPLICABLE
    from desktop_app.services.scorecards import ScoringSettings

    services.scorecards.save_scoring_settings(
        admin, ScoringSettings("回访率|10|visited\n满意率|10|satisfaction", 5, "回访率|10|visited")
    )
    card = services.scorecards.scorecard(clerk, *NOVEMBER)
    (sheet,) = services.scorecards.sheets(clerk, card, [office.a.id])
    assert [(line.score, line.basis) for line in sheet.lines] == [
        (None, NOT_APPLICABLE),
        (6.7, "66.7%（2/3）"),
    ]


def test_a_city_prints_a_window_sheet_for_itself_and_each_county(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    from desktop_app.storage.models import Case
    from tests.helpers.factories import person_form
    from tests.helpers.site import as_city_of

    first = services.intake.register(clerk, person_form()).case_id
    services.intake.register(clerk, person_form(phone="13900000001"))
    as_city_of(services, {"410223": "尉氏", "410222": "通许"})
    with services.db.write() as session:
        case = session.get(Case, first)
        assert case is not None
        case.site_code = "410222"  # as if it came from 通许
    today = services.clock.now().date()
    sheets = services.scorecards.window_sheets(clerk, date(today.year, 1, 1), today)
    assert [s.department for s in sheets][1:] == [
        "通许县办不成事监督窗口",
        "尉氏县办不成事监督窗口",
    ]
    alone = services.scorecards.window_sheets(clerk, date(today.year, 1, 1), today, "410222")
    assert [s.department for s in alone] == ["通许县办不成事监督窗口"]
    out = services.scorecards.export_window(
        clerk, date(today.year, 1, 1), today, tmp_path / "各县区.pdf"
    )
    assert len(PdfReader(str(out)).pages) == 3
    with pytest.raises(ValidationFailed, match="410299"):
        services.scorecards.window_sheets(clerk, date(today.year, 1, 1), today, "410299")


def test_the_command_line_prints_the_windows_sheet(
    services: AppServices, data_dir: Path, tmp_path: Path
) -> None:
    services.close()
    env = as_user("auditor", USER_PASSWORD)
    period = ("--from", "2026-11-01", "--to", "2026-11-30")
    pdf = tmp_path / "窗口评分表.pdf"
    done = run_bbcs("scorecard", *period, "--window", "--out", str(pdf), data_dir=data_dir, env=env)
    assert done.returncode == 0, done.stderr
    assert len(PdfReader(str(pdf)).pages) == 1
    missing = run_bbcs("scorecard", *period, "--window", data_dir=data_dir, env=env)
    assert missing.returncode == 2 and "--out" in missing.stderr
    lone = run_bbcs("scorecard", *period, "--site", "410221", data_dir=data_dir, env=env)
    assert lone.returncode == 2 and "--window" in lone.stderr
