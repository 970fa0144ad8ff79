"""The auditor reads the audit log (issue 15 item 10): search by user, action, case and date, a
page at a time, and export the search to a CSV file Excel opens; nobody else may."""

from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_app.errors import PermissionDenied, UserError, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.app import AppServices
from desktop_app.services.audit_log import (
    ACTION_LABELS,
    CSV_HEADERS,
    ENTITY_LABELS,
    EXPORT_ACTION,
    AuditFilter,
    AuditLogService,
)
from desktop_app.services.context import Actor, FixedClock
from desktop_app.storage.models import AuditEntry
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A folder of its own for exported files (the data dir is in tmp_path too)."""
    folder = tmp_path / "导出"
    folder.mkdir()
    return folder


@pytest.fixture
def log(services: AppServices, clock: FixedClock) -> AuditLogService:
    return AuditLogService(services.db, clock)


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_only_a_role_with_view_audit_reads_or_exports_the_log(
    services: AppServices, log: AuditLogService, clerk: Actor, leader: Actor, out: Path
) -> None:
    for actor in (clerk, leader):
        with pytest.raises(PermissionDenied, match="无权查看审计日志"):
            log.ids(actor)
        with pytest.raises(PermissionDenied):
            log.rows(actor, [1])
        with pytest.raises(PermissionDenied):
            log.users(actor)
        with pytest.raises(PermissionDenied):
            log.actions(actor)
        with pytest.raises(PermissionDenied):
            log.export_csv(actor, AuditFilter(), out / "审计.csv")
    assert list(out.iterdir()) == []


def test_search_by_user_action_case_and_date(
    services: AppServices, log: AuditLogService, clerk: Actor, auditor: Actor, clock: FixedClock
) -> None:
    first = services.intake.register(clerk, person_form())
    second = services.intake.register(clerk, person_form(name="李强"))
    services.cases.withdraw(clerk, second.case_id, "当事人已自行解决")

    everything = log.ids(auditor)
    assert everything == sorted(everything, reverse=True)  # newest first

    by_clerk = log.rows(auditor, log.ids(auditor, AuditFilter(user_name="clerk1")))
    assert by_clerk and {r.user_name for r in by_clerk} == {"clerk1"}
    assert {r.user_display for r in by_clerk} == {"张敏"}
    assert "register" in {r.action for r in by_clerk}

    logins = log.rows(auditor, log.ids(auditor, AuditFilter(action="login")))
    assert logins and {r.action_label for r in logins} == {"登录"}

    about_second = log.rows(auditor, log.ids(auditor, AuditFilter(case_number=second.number)))
    assert {r.case_number for r in about_second if r.entity == "case"} == {second.number}
    assert {"register", "withdraw"} <= {r.action for r in about_second}
    # 李强's own record (the complainant) belongs to the case too; 王芳's case does not.
    assert "complainant" in {r.entity for r in about_second}
    about_first = log.ids(auditor, AuditFilter(case_number=first.number))
    assert not set(about_first) & {r.id for r in about_second}

    with pytest.raises(ValidationFailed) as refused:
        log.ids(auditor, AuditFilter(case_number="杞县9999-0001"))
    assert "没有编号为“杞县9999-0001”的事项" in refused.value.errors["case_number"]

    today = clock.now().date()
    assert log.ids(auditor, AuditFilter(date_from=today, date_to=today)) == everything
    assert log.ids(auditor, AuditFilter(date_to=today - timedelta(days=1))) == []
    assert log.ids(auditor, AuditFilter(date_from=today + timedelta(days=1))) == []


def test_user_and_action_choices_are_labelled(
    services: AppServices, log: AuditLogService, clerk: Actor, auditor: Actor
) -> None:
    services.intake.register(clerk, person_form())
    users = {c.value: c.label for c in log.users(auditor)}
    assert users["clerk1"] == "张敏（clerk1）"
    assert users["auditor"] == "刘纪（auditor）"
    actions = {c.value: c.label for c in log.actions(auditor)}
    assert actions["register"] == "受理登记（register）"
    assert "withdraw" not in actions  # only what the log holds


def test_a_page_of_rows_is_read_without_the_rest(
    services: AppServices, log: AuditLogService, auditor: Actor, clock: FixedClock
) -> None:
    with services.db.write() as session:
        for n in range(600):
            audit.record(
                session,
                at=clock.now() - timedelta(minutes=n),
                user_name="clerk1",
                action="update",
                entity="user",
                entity_uuid=f"u{n}",
                before={"n": n},
                after={"n": n + 1},
            )
    ids = log.ids(auditor)
    page = log.rows(auditor, ids[200:400])
    assert [r.id for r in page] == ids[200:400]
    first = page[0]
    assert first.before is not None and first.after is not None
    assert first.changed_fields() == [("n", str(first.before["n"]), str(first.after["n"]))]


def test_export_writes_the_search_as_csv_for_excel_and_is_audited(
    services: AppServices, log: AuditLogService, clerk: Actor, auditor: Actor, out: Path
) -> None:
    case = services.intake.register(clerk, person_form())
    target = out / "审计日志.csv"
    wanted = AuditFilter(case_number=case.number)
    expected = log.rows(auditor, log.ids(auditor, wanted))

    exported = log.export_csv(auditor, wanted, target)

    rows = read_csv(target)
    assert tuple(rows[0]) == CSV_HEADERS
    assert exported.count == len(expected) == len(rows) - 1
    assert [int(r[0]) for r in rows[1:]] == [e.id for e in expected]
    register_row = next(r for r in rows[1:] if r[5] == "register")
    assert register_row[4] == "受理登记"
    assert register_row[3] == "张敏"
    assert register_row[8] == case.number
    assert [p.name for p in out.iterdir()] == ["审计日志.csv"]  # no temp file left

    with services.db.read() as session:
        newest = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert newest is not None
        assert (newest.action, newest.user_name) == (EXPORT_ACTION, "auditor")
        assert newest.after == {
            "case_number": case.number,
            "count": exported.count,
            "file": target.name,
        }
        assert audit.verify_chain(session) == []


def test_a_failed_export_leaves_no_file_and_no_entry(
    services: AppServices, log: AuditLogService, auditor: Actor, out: Path
) -> None:
    before = log.ids(auditor)
    with pytest.raises(UserError, match="文件夹"):
        log.export_csv(auditor, AuditFilter(), out)  # a folder, not a file name
    with pytest.raises(UserError, match="不存在"):
        log.export_csv(auditor, AuditFilter(), out / "没有" / "a.csv")
    with pytest.raises(UserError, match="导出审计日志"):
        log.export_csv(auditor, AuditFilter(), out / ("长" * 120 + ".csv"))  # name too long
    if os.geteuid() != 0:  # root writes anywhere
        out.chmod(0o500)
        try:
            with pytest.raises(UserError, match="不可写"):
                log.export_csv(auditor, AuditFilter(), out / "a.csv")
        finally:
            out.chmod(0o700)
    assert list(out.iterdir()) == []
    assert log.ids(auditor) == before


def test_a_formula_in_a_value_is_written_as_text(
    services: AppServices, log: AuditLogService, auditor: Actor, out: Path
) -> None:
    with services.db.write() as session:
        audit.record(
            session,
            at=datetime(2026, 11, 25, 10, 0),
            user_name="=cmd",
            action="update",
            entity="user",
            entity_uuid="+1",
        )
    target = out / "a.csv"
    log.export_csv(auditor, AuditFilter(date_from=date(2026, 11, 25)), target)
    cells = {cell for row in read_csv(target) for cell in row}
    assert "'=cmd" in cells and "'+1" in cells
    assert "=cmd" not in cells


def _audited_codes() -> tuple[set[str], set[str]]:
    """The actions and record kinds written as constants where the code audits (a call with
    ``action=`` and ``entity=``; both branches of a conditional)."""
    import ast

    def constants(node: ast.expr) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return constants(node.body) + constants(node.orelse)
        return []

    actions: set[str] = set()
    entities: set[str] = set()
    for path in Path(audit.__file__).parents[1].rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                given = {k.arg: k.value for k in node.keywords if k.arg}
                if "action" in given and "entity" in given:
                    actions.update(constants(given["action"]))
                    entities.update(constants(given["entity"]))
    return actions, entities


def test_every_action_the_code_audits_has_a_chinese_label() -> None:
    actions, entities = _audited_codes()
    assert len(actions) > 40 and len(entities) > 10
    assert sorted(actions - set(ACTION_LABELS)) == []
    assert sorted(entities - set(ENTITY_LABELS)) == []


def test_an_entrys_fields_and_states_read_in_chinese(
    services: AppServices, clerk: Actor, leader: Actor, auditor: Actor
) -> None:
    """The auditor read "state draft→voided" and "print_count": the common fields and a
    state are named in Chinese, the code after them (as the CSV keeps it)."""
    from desktop_app.domain.vocabulary import Approach, Cause, Nature, Outcome, ReplyMethod
    from desktop_app.services.cases import Triage

    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    department = services.site.departments()[0].id
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=department, assisting_ids=[], requirements="请办理。"
    )
    services.assignments.void(leader, ids[0], "承办单位选错")
    log = services.audit_log
    voids = log.rows(auditor, log.ids(auditor, AuditFilter(action="void")))
    fields = {name: (before, after) for name, before, after in voids[0].changed_fields()}
    assert fields["状态（state）"] == ("待签发（draft）", "已作废（voided）")
    assert "承办单位选错" in fields["说明（note）"][1]
    # A conclusion's coded values in words too (a walk read "outcome done", "reply_method
    # phone").
    services.cases.conclude(
        clerk,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="已办结",
        reply_method=ReplyMethod.PHONE,
        reply_text="已电话告知",
    )
    concluded = log.rows(auditor, log.ids(auditor, AuditFilter(action="conclude")))
    shown = {name: after for name, _before, after in concluded[0].changed_fields()}
    assert shown["办理结果（outcome）"] == f"{Outcome.DONE.label}（done）"
    assert shown["答复方式（reply_method）"] == f"{ReplyMethod.PHONE.label}（phone）"
