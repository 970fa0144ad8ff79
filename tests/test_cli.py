"""The ``bbcs`` command end to end: a real subprocess, a real data dir, exit codes and output."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.helpers.cli import run_bbcs, subprocess_env
from tests.helpers.factories import ADMIN_PASSWORD, VALID_CREDIT_CODE, VALID_ID
from tests.helpers.ids import id_number, wrong_check

YEAR = date.today().year  # the command line uses the real clock
INIT = ("init", "--site-code", "410221", "--site-name", "杞县办不成事监督窗口", "--level", "county")
CASE_KEYS = {
    "number",
    "uuid",
    "status",
    "complainant",
    "title",
    "received_at",
    "due_date",
    "slip_numbers",
}

PERSON: dict[str, Any] = {
    "complainant_type": "person",
    "name": "王芳",
    "id_number": VALID_ID,
    "phone": "13812345678",
    "title": "医保结算查不到参保信息",
    "description": "在县人民医院办理医保结算时被告知查不到参保信息。",
    "area": "医保社保",
    "channel": "网上",
    "received_at": "2025-06-01 09:00",
    "source_url": "https://example.gov.cn/12345",  # extra keys are allowed
}
COMPANY: dict[str, Any] = {
    "complainant_type": "enterprise",
    "name": "杞县丰源农业科技有限公司",
    "credit_code": VALID_CREDIT_CODE,
    "contact_person": "李强",
    "phone": "0378-2345678",
    "title": "药品零售经营许可证反复要求补充材料",
    "description": "来回跑了多次，每次都被告知需要补充材料。",
    "area": "市场准入许可",
    "channel": "online",
    "received_at": "2025-06-02T10:30:00",
}
OTHER_PERSON: dict[str, Any] = PERSON | {
    "name": "赵磊",
    "id_number": id_number("41022119700202789"),
    "phone": "13900001111",
    "title": "公积金提取证明开不出来",
    "area": "住房公积金",
    "channel": "电话",
    "received_at": "2025-06-03 08:00",
}


def admin_env(**extra: str) -> dict[str, str]:
    return subprocess_env(BBCS_ADMIN_PASSWORD=ADMIN_PASSWORD, **extra)


def cases_json(data_dir: Path, *args: str) -> list[dict[str, Any]]:
    result = run_bbcs("cases", "--json", *args, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


def stored_cases(data_dir: Path) -> dict[str, tuple[str, str]]:
    """number → (complainant name, title), read straight from the database file."""
    connection = sqlite3.connect(data_dir / "bbcs.db")
    try:
        rows = connection.execute(
            "SELECT c.number, p.name, c.title FROM cases c"
            " JOIN complainants p ON p.id = c.complainant_id"
        ).fetchall()
    finally:
        connection.close()
    return {number: (name, title) for number, name, title in rows}


def site_rows(data_dir: Path) -> list[tuple[str, str]]:
    if not (data_dir / "bbcs.db").exists():
        return []
    connection = sqlite3.connect(data_dir / "bbcs.db")
    try:
        return connection.execute("SELECT code, short_name FROM sites").fetchall()
    finally:
        connection.close()


def write_json(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path: Path, records: list[dict[str, Any]], encoding: str) -> Path:
    keys = list(dict.fromkeys(k for r in records for k in r))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@dataclass(frozen=True)
class Templates:
    init_result: CompletedProcess[str]
    intake_result: CompletedProcess[str]
    initialised: Path  # a site, no cases
    with_cases: Path  # a site and three cases from a JSON batch


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    root = tmp_path_factory.mktemp("cli templates")
    initialised = root / "已初始化"
    init_result = run_bbcs(*INIT, data_dir=initialised, env=admin_env())
    assert init_result.returncode == 0, init_result.stderr
    with_cases = root / "有事项"
    shutil.copytree(initialised, with_cases)
    batch = write_json(root / "batch.json", [PERSON, COMPANY, OTHER_PERSON])
    intake = run_bbcs("intake", "--from", str(batch), data_dir=with_cases)
    assert intake.returncode == 0, intake.stderr
    return Templates(init_result, intake, initialised, with_cases)


@pytest.fixture
def site_dir(templates: Templates, tmp_path: Path) -> Iterator[Path]:
    """A fresh copy of an initialised data dir (with a space and Chinese in its path)."""
    target = tmp_path / "数据 目录"
    shutil.copytree(templates.initialised, target)
    yield target


@pytest.fixture
def cases_dir(templates: Templates, tmp_path: Path) -> Path:
    target = tmp_path / "数据 目录"
    shutil.copytree(templates.with_cases, target)
    return target


# init -----------------------------------------------------------------------------------------


def test_init_sets_up_the_site(templates: Templates) -> None:
    result = templates.init_result
    assert "站点已初始化：410221 杞县办不成事监督窗口（县区窗口）" in result.stdout
    assert f"杞县-{YEAR}-0001" in result.stdout
    assert site_rows(templates.initialised) == [("410221", "杞县")]
    assert cases_json(templates.initialised) == []


def test_init_with_a_bad_site_code_sets_up_nothing(tmp_path: Path) -> None:
    args = list(INIT)
    args[args.index("410221")] = "41022"
    result = run_bbcs(*args, data_dir=tmp_path / "d", env=admin_env())

    assert result.returncode == 2
    assert result.stderr.startswith("错误：")
    assert "6位行政区划代码" in result.stderr
    assert "Traceback" not in result.stderr
    assert site_rows(tmp_path / "d") == []


def test_init_with_a_weak_admin_password_is_refused(tmp_path: Path) -> None:
    result = run_bbcs(
        *INIT, data_dir=tmp_path / "d", env=subprocess_env(BBCS_ADMIN_PASSWORD="12345678901")
    )
    assert result.returncode == 2
    assert "管理员密码需包含大写字母、小写字母、数字、符号中的至少3种" in result.stderr
    assert site_rows(tmp_path / "d") == []


def test_init_without_a_password_and_no_terminal_is_refused(tmp_path: Path) -> None:
    result = run_bbcs(*INIT, data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert "BBCS_ADMIN_PASSWORD" in result.stderr
    assert site_rows(tmp_path / "d") == []


def test_a_second_init_is_refused(site_dir: Path) -> None:
    args = list(INIT)
    args[args.index("410221")] = "410222"
    result = run_bbcs(*args, data_dir=site_dir, env=admin_env())
    assert result.returncode == 2
    assert "已经初始化过" in result.stderr
    assert site_rows(site_dir) == [("410221", "杞县")]


def test_commands_before_init_say_so(tmp_path: Path) -> None:
    result = run_bbcs("cases", data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert "站点尚未初始化" in result.stderr and "bbcs init" in result.stderr


NEEDS_A_SITE = [
    ("check",),
    ("cases",),
    ("backup",),
    ("keys", "show"),
    ("export", "--to", "{tmp}/出口"),
    ("import", "{tmp}/数据包.bbcs"),
]


def site_command(args: tuple[str, ...], tmp_path: Path) -> list[str]:
    return [a.format(tmp=tmp_path) for a in args]


@pytest.mark.parametrize(
    "args", NEEDS_A_SITE, ids=lambda a: " ".join(w for w in a if "{tmp}" not in w)
)
def test_a_mistyped_data_dir_is_refused_and_not_created(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "数据目录写错"
    result = run_bbcs(*site_command(args, tmp_path), data_dir=missing)
    assert result.returncode == 2, result.stdout + result.stderr
    assert str(missing) in result.stderr and "站点尚未初始化" in result.stderr
    assert "检查通过" not in result.stdout
    assert not missing.exists()


@pytest.mark.parametrize(
    "args", NEEDS_A_SITE, ids=lambda a: " ".join(w for w in a if "{tmp}" not in w)
)
def test_an_empty_data_dir_is_refused_and_left_empty(tmp_path: Path, args: tuple[str, ...]) -> None:
    empty = tmp_path / "空目录"
    empty.mkdir()
    result = run_bbcs(*site_command(args, tmp_path), data_dir=empty)
    assert result.returncode == 2, result.stdout + result.stderr
    assert str(empty) in result.stderr and "站点尚未初始化" in result.stderr
    assert list(empty.iterdir()) == []


def test_check_refuses_a_data_dir_whose_init_failed(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    args = list(INIT)
    args[args.index("410221")] = "41022"
    assert run_bbcs(*args, data_dir=data_dir, env=admin_env()).returncode == 2

    result = run_bbcs("check", data_dir=data_dir)

    assert result.returncode == 2
    assert str(data_dir) in result.stderr and "站点尚未初始化" in result.stderr
    assert "检查通过" not in result.stdout


def test_workdays_needs_no_data_dir_and_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "没有这个目录"
    result = run_bbcs("workdays", "add", "2026-09-30", "3", data_dir=missing)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2026-10-10"
    assert not missing.exists()


# intake ---------------------------------------------------------------------------------------


def test_intake_from_json_then_list_as_json(templates: Templates) -> None:
    records = cases_json(templates.with_cases)

    assert [r["number"] for r in records] == [f"杞县-{YEAR}-{i:04d}" for i in (3, 2, 1)]
    for record in records:
        assert record.keys() >= CASE_KEYS
        assert record["status"] == "registered"
        assert record["slip_numbers"] == []
        assert record["due_date"] is None
        assert len(record["uuid"]) == 36
    by_number = {r["number"]: r for r in records}
    first = by_number[f"杞县-{YEAR}-0001"]
    assert (first["complainant"], first["title"]) == ("王芳", "医保结算查不到参保信息")
    assert first["received_at"].startswith("2025-06-01T09:00")
    assert first["channel"] == "online"
    company = by_number[f"杞县-{YEAR}-0002"]
    assert company["complainant_type"] == "enterprise"
    assert by_number[f"杞县-{YEAR}-0003"]["channel"] == "phone"


def test_cases_limit_shows_the_page_and_the_query_total(templates: Templates) -> None:
    limited = run_bbcs("cases", "--limit", "2", data_dir=templates.with_cases)
    assert limited.returncode == 0, limited.stderr
    assert [line.split("\t")[0] for line in limited.stdout.splitlines()] == [
        f"杞县-{YEAR}-0003",
        f"杞县-{YEAR}-0002",
    ]
    assert limited.stderr.strip() == "显示 2 件，共 3 件"

    whole = run_bbcs("cases", "--limit", "5", data_dir=templates.with_cases)
    assert len(whole.stdout.splitlines()) == 3
    assert whole.stderr.strip() == "共 3 件"


def test_intake_prints_the_new_numbers(
    templates: Templates, cases_dir: Path, tmp_path: Path
) -> None:
    plain = templates.intake_result
    lines = plain.stdout.splitlines()
    # The backup every import makes first is told apart, with its own time, before the result.
    assert lines[0].startswith("导入前已备份：") and "备份用时" in lines[0]
    assert lines[1] == "已登记 3 件事项："
    assert [line.strip() for line in lines[2:]] == [f"杞县-{YEAR}-{i:04d}" for i in (1, 2, 3)]

    # The same rows again are refused (a walk imported one file twice: every case doubled).
    again = write_json(tmp_path / "again.json", [PERSON, COMPANY])
    refused = run_bbcs("intake", "--from", str(again), data_dir=cases_dir)
    assert refused.returncode == 2 and "可能已经导入过" in refused.stderr

    later = {"received_at": "2026-11-20 15:30"}
    batch = write_json(tmp_path / "b.json", [PERSON | later, COMPANY | later])
    as_json = run_bbcs("intake", "--from", str(batch), "--json", data_dir=cases_dir)

    assert as_json.returncode == 0, as_json.stderr
    assert [(r["number"], r["repeat_visit"]) for r in json.loads(as_json.stdout)] == [
        (f"杞县-{YEAR}-0004", False),
        (f"杞县-{YEAR}-0005", False),
    ]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_intake_from_csv_as_excel_saves_it(site_dir: Path, tmp_path: Path, encoding: str) -> None:
    source = write_csv(tmp_path / "网上反映.csv", [PERSON, COMPANY], encoding)

    result = run_bbcs("intake", "--from", str(source), data_dir=site_dir)

    assert result.returncode == 0, result.stderr
    assert stored_cases(site_dir) == {
        f"杞县-{YEAR}-0001": ("王芳", "医保结算查不到参保信息"),
        f"杞县-{YEAR}-0002": ("杞县丰源农业科技有限公司", "药品零售经营许可证反复要求补充材料"),
    }


def test_an_invalid_row_imports_nothing_and_names_the_row(site_dir: Path, tmp_path: Path) -> None:
    bad = OTHER_PERSON | {"id_number": wrong_check(OTHER_PERSON["id_number"])}
    source = write_json(tmp_path / "b.json", [PERSON, bad, COMPANY | {"channel": "飞鸽传书"}])

    result = run_bbcs("intake", "--from", str(source), data_dir=site_dir)

    assert result.returncode == 2
    assert "第2行 身份证号" in result.stderr
    assert "第3行 来源渠道" in result.stderr and "飞鸽传书" in result.stderr
    assert "未导入任何记录" in result.stderr
    assert "Traceback" not in result.stderr
    assert cases_json(site_dir) == []


def test_an_invalid_csv_row_imports_nothing(site_dir: Path, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "b.csv", [PERSON, COMPANY | {"contact_person": ""}], "gbk")
    result = run_bbcs("intake", "--from", str(source), data_dir=site_dir)
    assert result.returncode == 2
    # The spreadsheet's row: the header is row 1, so the second record is row 3 (issue 15).
    assert "第3行 联系人" in result.stderr
    assert stored_cases(site_dir) == {}


def test_a_known_id_under_another_name_is_refused_unless_the_row_confirms_it(
    cases_dir: Path, tmp_path: Path
) -> None:
    """Issue 14 item 13: a batch row never renames the complainant of earlier cases silently."""
    renamed = PERSON | {"name": "王方", "title": "公积金提取", "received_at": "2025-06-05 09:00"}
    source = write_json(tmp_path / "b.json", [renamed])

    refused = run_bbcs("intake", "--from", str(source), data_dir=cases_dir)

    assert refused.returncode == 2, refused.stdout
    assert "第1行 姓名" in refused.stderr and "王芳" in refused.stderr
    assert "confirm_name_change" in refused.stderr and "Traceback" not in refused.stderr
    assert stored_cases(cases_dir)[f"杞县-{YEAR}-0001"][0] == "王芳"

    reason = "本人已更名，核对户口簿无误"
    source = write_csv(tmp_path / "b.csv", [renamed | {"confirm_name_change": reason}], "gbk")
    confirmed = run_bbcs("intake", "--from", str(source), data_dir=cases_dir)

    assert confirmed.returncode == 0, confirmed.stderr
    assert stored_cases(cases_dir)[f"杞县-{YEAR}-0001"][0] == "王方"
    connection = sqlite3.connect(cases_dir / "bbcs.db")
    try:
        entries = connection.execute(
            "SELECT before, after FROM audit_log WHERE action = 'rename'"
        ).fetchall()
    finally:
        connection.close()
    assert len(entries) == 1
    assert json.loads(entries[0][0]) == {"name": "王芳"}
    assert json.loads(entries[0][1]) == {"name": "王方", "reason": reason}


def test_a_batch_row_gives_id_override_reason_as_the_form_does(
    site_dir: Path, tmp_path: Path
) -> None:
    """Issue 14 item 15: a real card with a wrong check digit is imported with its reason."""
    old_card = OTHER_PERSON | {"id_number": wrong_check(OTHER_PERSON["id_number"])}
    source = write_json(tmp_path / "b.json", [old_card])
    refused = run_bbcs("intake", "--from", str(source), data_dir=site_dir)
    assert refused.returncode == 2
    assert "第1行 身份证号" in refused.stderr and "id_override_reason" in refused.stderr

    reason = "旧版身份证，核对原件无误"
    source = write_json(tmp_path / "b.json", [old_card | {"id_override_reason": reason}])
    result = run_bbcs("intake", "--from", str(source), data_dir=site_dir)

    assert result.returncode == 0, result.stderr
    connection = sqlite3.connect(site_dir / "bbcs.db")
    try:
        stored = connection.execute("SELECT id_override_reason FROM complainants").fetchall()
    finally:
        connection.close()
    assert stored == [(reason,)]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("b.json", '{"name": "王芳"}', "对象列表"),
        ("missing.json", None, "找不到文件"),
        ("empty.json", "[]", "没有可导入的记录"),
    ],
)
def test_unusable_intake_files_are_refused_plainly(
    site_dir: Path, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    source = tmp_path / name
    if content is not None:
        source.write_text(content, encoding="utf-8")
    result = run_bbcs("intake", "--from", str(source), data_dir=site_dir)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# cases ----------------------------------------------------------------------------------------


def test_cases_search_and_status_filter(templates: Templates) -> None:
    data_dir = templates.with_cases  # read only
    assert [r["complainant"] for r in cases_json(data_dir, "--search", "王芳")] == ["王芳"]
    found = cases_json(data_dir, "--search", f"杞县-{YEAR}-0002", "--status", "registered")
    assert [r["number"] for r in found] == [f"杞县-{YEAR}-0002"]
    assert cases_json(data_dir, "--search", "公积金", "--status", "visited") == []


def test_cases_as_a_table(templates: Templates) -> None:
    result = run_bbcs("cases", "--limit", "2", data_dir=templates.with_cases)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[:2] == [f"杞县-{YEAR}-0003", "已登记"]
    assert result.stderr.strip() == "显示 2 件，共 3 件"  # the page, then the query's total


def test_cases_with_an_unknown_status_is_a_usage_error(templates: Templates) -> None:
    result = run_bbcs("cases", "--status", "lost", data_dir=templates.with_cases)
    assert result.returncode == 2
    assert "lost" in result.stderr


def test_data_dir_from_the_environment(templates: Templates) -> None:
    env = subprocess_env(BBCS_DATA_DIR=str(templates.with_cases))
    result = run_bbcs("cases", "--json", "--search", "赵磊", env=env)
    assert result.returncode == 0, result.stderr
    assert [r["complainant"] for r in json.loads(result.stdout)] == ["赵磊"]


# check and backup -----------------------------------------------------------------------------


def test_check_passes_on_a_healthy_data_dir(templates: Templates) -> None:
    result = run_bbcs("check", data_dir=templates.with_cases)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "检查通过" in result.stdout
    assert "事项 3 件" in result.stdout


def test_check_fails_on_a_tampered_audit_log(cases_dir: Path) -> None:
    connection = sqlite3.connect(cases_dir / "bbcs.db")
    connection.execute("UPDATE audit_log SET user_name = 'nobody' WHERE id = 2")
    connection.commit()
    connection.close()

    result = run_bbcs("check", "--json", data_dir=cases_dir)

    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert "审计日志第 2 条内容被改动" in report["problems"]


def test_backup_writes_a_database_copy(cases_dir: Path) -> None:
    result = run_bbcs("backup", data_dir=cases_dir)
    assert result.returncode == 0, result.stderr
    backups = list((cases_dir / "backups").glob("bbcs-*manual-*.db"))
    assert len(backups) == 1
    assert str(backups[0].name) in result.stdout
    copy = sqlite3.connect(backups[0])
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM cases").fetchone() == (3,)
    finally:
        copy.close()


# workdays -------------------------------------------------------------------------------------


def test_workdays_add_skips_national_day(tmp_path: Path) -> None:
    result = run_bbcs("workdays", "add", "2026-09-30", "3", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2026-10-10"


def test_workdays_add_json_carries_a_proof(tmp_path: Path) -> None:
    result = run_bbcs("workdays", "add", "2026-09-30", "3", "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["due"] == "2026-10-10"
    assert data["working_days"] == 3
    assert data["proof"] and all(isinstance(line, str) for line in data["proof"])
    assert data["proof"][0].startswith("2026-10-01")
    assert "第3个工作日" in data["proof"][-1]
    assert any("不计" in line for line in data["proof"])


def test_workdays_between(tmp_path: Path) -> None:
    result = run_bbcs("workdays", "between", "2026-09-30", "2026-10-10", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"


def test_workdays_between_in_a_known_year_is_silent(tmp_path: Path) -> None:
    result = run_bbcs(
        "workdays", "between", "2026-09-30", "2026-10-10", "--json", data_dir=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert (data["start"], data["end"], data["working_days"]) == ("2026-09-30", "2026-10-10", 3)
    assert data["provisional"] is False and data["warnings"] == []
    assert data["proof"][0] == "2026-10-01 周四 国庆节 — 不计"
    assert data["proof"][-1] == "2026-10-10 周六 调休上班（国庆节） — 第3个工作日"
    assert data["counted"] == ["2026-10-08", "2026-10-09", "2026-10-10"]


def test_workdays_between_says_provisional(tmp_path: Path) -> None:
    # 2027 has no State Council schedule here: 元旦 comes from the law, and the count is 暂定.
    result = run_bbcs("workdays", "between", "2026-12-30", "2027-01-05", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"
    assert "暂定" in result.stderr and "2027年" in result.stderr


def test_workdays_between_json_says_provisional_with_the_proof(tmp_path: Path) -> None:
    args = ("workdays", "between", "2026-12-30", "2027-01-05", "--json")
    result = run_bbcs(*args, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["working_days"] == 3
    assert data["provisional"] is True
    assert data["warnings"] and all("暂定" in w for w in data["warnings"])
    assert data["counted"] == ["2026-12-31", "2027-01-04", "2027-01-05"]
    assert {"day": "2027-01-01", "reason": "元旦"} in data["skipped"]
    assert len(data["proof"]) == 6
    assert "暂定" in data["proof"][1] and "第3个工作日" in data["proof"][-1]
    assert data["calendar_version"].startswith("chinesecalendar-")


def test_workdays_add_json_says_provisional(tmp_path: Path) -> None:
    result = run_bbcs("workdays", "add", "2026-12-31", "1", "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["due"] == "2027-01-04"  # 元旦 2027, a Friday, is not a working day
    assert data["provisional"] is True and all("暂定" in w for w in data["warnings"])


@pytest.mark.parametrize(
    "args",
    [
        ("add", "0001-01-01", "1"),
        ("add", "9999-12-31", "1"),
        ("add", "9999-12-30", "5"),
        ("between", "0001-01-01", "0001-01-10"),
        ("between", "9999-12-20", "9999-12-31"),
        ("between", "2026-01-01", "9999-12-31", "--json"),
    ],
)
def test_workdays_outside_the_range_is_a_plain_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run_bbcs("workdays", *args, data_dir=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "超出期限引擎的计算范围（2004年至2100年）" in result.stderr
    assert "程序内部错误" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("start", ["2026-02-30", "昨天"])
def test_workdays_with_an_invalid_date_is_refused(tmp_path: Path, start: str) -> None:
    result = run_bbcs("workdays", "add", start, "3", data_dir=tmp_path)
    assert result.returncode == 2
    assert "不是有效日期" in result.stderr and start in result.stderr
    assert result.stdout == ""
