"""The tamper matrix (issue 15 item 7): each edit an attacker with the database file can make,
made with plain sqlite3 on a real data dir, and named by ``bbcs check`` or the check service.

The keys (the data key, and the audit anchor beside it in ``keys/``) are out of the attacker's
reach here: with them, nothing in the database can be recomputed to look right.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime

import pytest
from sqlalchemy import select

from desktop_app.domain.vocabulary import Approach, Cause, Nature, Outcome, ReplyMethod, Role
from desktop_app.errors import UserError
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.auth import TamperedAccount
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.storage.models import AuditEntry
from tests.helpers.cli import as_user, run_bbcs
from tests.helpers.db import raw_connect
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD, enterprise_form, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401


@pytest.fixture
def busy(services: AppServices, clerk: Actor, leader: Actor) -> AppServices:
    """Ordinary work: three cases, one concluded, one assigned and its slip signed."""
    first = services.intake.register(clerk, person_form())
    services.intake.register(clerk, enterprise_form())
    third = services.intake.register(clerk, person_form(title="医保关系转移办不成"))
    services.cases.conclude(
        clerk,
        first.case_id,
        outcome=Outcome.DONE,
        what_was_done="已办",
        reply_method=ReplyMethod.PHONE,
        reply_text="已答复",
    )
    _sign_a_slip(services, clerk, leader, third.case_id)
    return services


def _sign_a_slip(services: AppServices, clerk: Actor, signer: Actor, case_id: int) -> str:
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    lead = services.site.departments()[0].id
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=lead, assisting_ids=[], requirements="请依法办理并反馈。"
    )
    number, _ = services.assignments.issue(signer, ids[0])
    return number


def _sql(services: AppServices, *statements: str) -> None:
    connection = raw_connect(services.layout.root)
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def _problems(services: AppServices) -> list[str]:
    report = services.maintenance.check()
    assert not report.ok
    return report.problems


def test_a_clean_site_after_ordinary_work_passes(busy: AppServices) -> None:
    report = busy.maintenance.check()
    assert report.ok, report.problems
    assert (busy.layout.keys / "audit.anchor").is_file()
    result = run_bbcs("check", data_dir=busy.layout.root)
    assert result.returncode == 0, result.stderr


def test_a_clean_site_with_demo_data_passes(bare_services: AppServices) -> None:
    from desktop_app.domain.vocabulary import SiteLevel
    from desktop_app.services.demo import DemoService

    services = bare_services
    services.site.init_site(
        code="410221",
        name="杞县办不成事监督窗口",
        short_name="杞县",
        level=SiteLevel.COUNTY,
        admin_password=ADMIN_PASSWORD,
    )
    DemoService(services.db, services.clock, services.keys, sealer=services.sealer).generate(60)

    report = services.maintenance.check()
    assert report.ok, report.problems


def test_deleting_the_newest_entries_and_rewriting_the_head_is_named(busy: AppServices) -> None:
    connection = raw_connect(busy.layout.root)
    last = connection.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    new_head = connection.execute(
        "SELECT id, hash FROM audit_log WHERE id = ?", (last - 3,)
    ).fetchone()
    connection.execute("DELETE FROM audit_log WHERE id > ?", (last - 3,))
    connection.execute(
        "UPDATE settings SET value = ? WHERE key = 'audit_chain_head'",
        (f"{new_head[0]}:{new_head[1]}",),
    )
    connection.close()

    problems = _problems(busy)

    assert (
        f"审计日志最新的记录已被删除：锚点记载共 {last} 条、最新为第 {last} 条，现在找不到"
        f"第 {last - 2} 条至第 {last} 条（至少 3 条被删除；删除之后写入的记录会占用被删记录的编号）"
    ) in problems
    # A later log-in writes an entry in the first freed number: still named, as a lower bound.
    busy.auth.login("admin", ADMIN_PASSWORD)
    assert any(
        p.startswith("审计日志最新的记录已被删除") and "（至少 2 条被删除" in p
        for p in _problems(busy)
    )


def test_deleting_every_entry_and_the_head_is_named(busy: AppServices) -> None:
    connection = raw_connect(busy.layout.root)
    count = connection.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    connection.close()
    _sql(busy, "DELETE FROM audit_log", "DELETE FROM settings WHERE key = 'audit_chain_head'")

    assert f"审计日志的全部记录（{count} 条）已被删除" in _problems(busy)


def test_recomputing_the_whole_chain_after_an_edit_is_named(busy: AppServices) -> None:
    """The attacker edits an entry and recomputes every hash the old way (plain SHA-256)."""
    connection = raw_connect(busy.layout.root)
    rows = connection.execute(
        'SELECT id, at, user_name, action, entity, entity_uuid, "before", "after" '
        "FROM audit_log ORDER BY id"
    ).fetchall()
    prev = "0" * 64
    for entry_id, at, user, action, entity, uuid, before, after in rows:
        if action == "register":
            user = "admin"
        payload = json.dumps(
            [
                prev,
                datetime.fromisoformat(at).isoformat(),
                user,
                action,
                entity,
                uuid,
                json.loads(before) if before else None,
                json.loads(after) if after else None,
            ],
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        connection.execute(
            "UPDATE audit_log SET user_name = ?, prev_hash = ?, hash = ? WHERE id = ?",
            (user, prev, digest, entry_id),
        )
        prev = digest
    connection.execute(
        "UPDATE settings SET value = ? WHERE key = 'audit_chain_head'", (f"{rows[-1][0]}:{prev}",)
    )
    connection.close()

    problems = _problems(busy)

    assert any("内容被改动" in p for p in problems)
    assert any(f"审计日志第 {rows[-1][0]} 条与锚点记载的不符" in p for p in problems)


def test_a_case_title_edited_in_the_database_is_named(busy: AppServices) -> None:
    _sql(busy, "UPDATE cases SET title = '改过的标题' WHERE number = '杞县-2026-0002'")

    problems = _problems(busy)

    assert any(
        p.startswith("事项 杞县-2026-0002 的记录被绕过程序直接改动") and "title" in p
        for p in problems
    ), problems


def test_a_complainants_name_edited_in_the_database_is_named(busy: AppServices) -> None:
    _sql(busy, "UPDATE complainants SET name = '李四' WHERE id = 1")

    problems = _problems(busy)

    assert any(
        p.startswith("反映人“李四”（内部编号 1） 的记录被绕过程序直接改动") for p in problems
    )


def test_a_complainants_id_number_edited_in_the_database_is_named(busy: AppServices) -> None:
    connection = raw_connect(busy.layout.root)
    columns = [r[1] for r in connection.execute("PRAGMA table_info(complainants)")]
    column = "id_number_sealed" if "id_number_sealed" in columns else "id_number"
    connection.execute(f"UPDATE complainants SET {column} = '410221199001011234' WHERE id = 1")
    connection.close()

    problems = _problems(busy)

    assert any("（内部编号 1） 的记录被绕过程序直接改动" in p for p in problems), problems


def test_a_deleted_case_leaves_a_named_gap(busy: AppServices) -> None:
    _sql(
        busy,
        "PRAGMA foreign_keys = OFF",
        "DELETE FROM case_events WHERE case_id = (SELECT id FROM cases WHERE seq = 2)",
        "DELETE FROM cases WHERE number = '杞县-2026-0002'",
    )

    problems = _problems(busy)

    assert any("2026 年的事项编号不连续，缺少 杞县-2026-0002" in p for p in problems), problems


def test_the_newest_case_deleted_is_named(busy: AppServices) -> None:
    _sql(
        busy,
        "PRAGMA foreign_keys = OFF",
        "DELETE FROM assignments WHERE case_id = (SELECT id FROM cases WHERE seq = 3)",
        "DELETE FROM case_events WHERE case_id = (SELECT id FROM cases WHERE seq = 3)",
        "DELETE FROM cases WHERE number = '杞县-2026-0003'",
    )

    assert any("缺少 杞县-2026-0003" in p for p in _problems(busy))


def test_a_role_given_by_sql_is_named_and_its_user_cannot_log_in(busy: AppServices) -> None:
    _sql(busy, f"UPDATE users SET role = '{Role.DUTY_LEADER.value}' WHERE username = 'clerk1'")

    problems = _problems(busy)
    assert any(p.startswith("用户 clerk1 的记录被绕过程序直接改动") for p in problems), problems
    assert any("用户 clerk1 的角色是 duty_leader，审计日志记载的是 clerk" in p for p in problems), (
        problems
    )

    # The clerk tries to log in with the role the database now says: refused, and neither
    # that try nor a wrong password writes the row (a write would seal it, role and all).
    with pytest.raises(TamperedAccount, match="clerk1 的账户记录被绕过程序改动过"):
        busy.auth.login("clerk1", USER_PASSWORD)
    with pytest.raises(UserError) as wrong:  # to a wrong password, as any other account
        busy.auth.login("clerk1", "Wrong12345!")
    assert wrong.value.message == "用户名或密码不正确"
    assert any(p.startswith("用户 clerk1 的记录被绕过程序直接改动") for p in _problems(busy))
    with busy.db.read() as session:
        reasons = session.scalars(
            select(AuditEntry.after).where(
                AuditEntry.action == "login_failed", AuditEntry.user_name == "clerk1"
            )
        ).all()
    assert [after["reason"] for after in reasons] == ["record_tampered", "record_tampered"]
    # On the command line too: nothing runs as that user, and check still names the record.
    as_clerk = run_bbcs("backup", data_dir=busy.layout.root, env=as_user("clerk1", USER_PASSWORD))
    assert as_clerk.returncode == 2
    assert "clerk1 的账户记录被绕过程序改动过（校验值不符），不能登录" in as_clerk.stderr
    assert (
        "用户 clerk1 的记录被绕过程序直接改动"
        in run_bbcs("check", data_dir=busy.layout.root).stdout
    )


def test_an_administrator_inserted_by_sql_with_a_negative_id_is_named_and_cannot_log_in(
    busy: AppServices,
) -> None:
    """Records were read from id 1 up: a user inserted with id -5, an administrator's role and
    the administrator's password hash logged in, and bbcs check passed; a holiday inserted with
    id -1 moved deadlines unseen."""
    _sql(
        busy,
        "INSERT INTO users (id, username, display_name, role, password_hash, active, phone, "
        "created_at, uuid, version, failed_logins) SELECT -5, 'mallory', '马某', 'admin', "
        "password_hash, 1, '', created_at, '00000000-0000-7000-8000-00000000000a', 1, 0 "
        "FROM users WHERE username = 'admin'",
        "INSERT INTO holiday_overrides (id, day, working, name, created_at, created_by, uuid, "
        "version) VALUES (-1, '2026-12-31', 0, '放假', '2026-12-01 09:00:00.000000', 'admin', "
        "'00000000-0000-7000-8000-00000000000b', 1)",
    )
    problems = _problems(busy)
    assert any(p.startswith("用户 mallory 没有校验值") for p in problems), problems
    assert any(p.startswith("节假日设置 2026-12-31") for p in problems), problems
    with pytest.raises(TamperedAccount, match="mallory 的账户记录被绕过程序改动过"):
        busy.auth.login("mallory", ADMIN_PASSWORD)


def test_nothing_done_to_a_changed_account_seals_it_again(
    busy: AppServices, admin: Actor, clerk: Actor
) -> None:
    """Refused a log-in, the account is what an administrator unlocks or gives a new password
    next: each wrote the row, sealing the SQL-given role with the rest (bbcs check then passed
    and the clerk logged in as an administrator)."""
    _sql(
        busy,
        f"UPDATE users SET role = '{Role.ADMIN.value}', failed_logins = 5, "
        "locked_until = '2026-11-25 14:00:00.000000' WHERE username = 'clerk1'",
    )
    assert clerk.user_id is not None
    for action in (
        lambda: busy.auth.unlock(admin, clerk.user_id),
        lambda: busy.auth.change_password(admin, clerk.user_id, "Another2026!"),
        lambda: busy.auth.set_active(admin, clerk.user_id, False),
        lambda: busy.auth.change_own_password(clerk, USER_PASSWORD, "Another2026!"),
    ):
        with pytest.raises(UserError, match="clerk1 的账户记录被绕过程序改动过"):
            action()
    assert any(p.startswith("用户 clerk1 的记录被绕过程序直接改动") for p in _problems(busy))
    with pytest.raises(TamperedAccount):
        busy.auth.login("clerk1", USER_PASSWORD)
    # Other accounts are looked after as before.
    leader = busy.auth.login("leader1", USER_PASSWORD)
    assert leader.user_id is not None
    busy.auth.change_password(admin, leader.user_id, "Another2026!")
    assert busy.auth.login("leader1", "Another2026!").role is Role.DUTY_LEADER


def test_a_window_open_before_its_users_record_was_changed_signs_nothing(
    busy: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = busy.intake.register(clerk, person_form(title="另一件事")).case_id
    _sql(busy, "UPDATE users SET display_name = '别人' WHERE username = 'leader1'")

    with pytest.raises(UserError, match="leader1 的账户记录被绕过程序改动过"):
        _sign_a_slip(busy, clerk, leader, case_id)


def test_check_on_the_command_line_names_tampering_and_exits_2(busy: AppServices) -> None:
    _sql(busy, "UPDATE cases SET title = '改过的标题' WHERE number = '杞县-2026-0002'")

    result = run_bbcs("check", data_dir=busy.layout.root)

    assert result.returncode == 2
    assert "事项 杞县-2026-0002 的记录被绕过程序直接改动" in result.stdout + result.stderr


def test_a_crash_between_commit_and_anchor_is_not_a_false_alarm(
    busy: AppServices, clerk: Actor
) -> None:
    anchor = busy.layout.keys / "audit.anchor"
    before = anchor.read_bytes()
    busy.intake.register(clerk, person_form(title="停电前保存的事项"))
    anchor.write_bytes(before)  # as if the power went between the commit and the anchor

    assert busy.maintenance.check().ok
    busy.intake.register(clerk, person_form(title="来电后保存的事项"))
    assert anchor.read_bytes() != before
    assert busy.maintenance.check().ok


# Found by review: the attacks below passed check.

_DIGESTED_TABLES = (
    "sites",
    "users",
    "departments",
    "complainants",
    "cases",
    "assignments",
    "slips",
)


def _recompute_plain_chain(connection: sqlite3.Connection) -> None:
    """Rehash every audit entry the old way (plain SHA-256) and rewrite the head setting."""
    rows = connection.execute(
        'SELECT id, at, user_name, action, entity, entity_uuid, "before", "after" '
        "FROM audit_log ORDER BY id"
    ).fetchall()
    prev = "0" * 64
    for entry_id, at, user, action, entity, uuid, before, after in rows:
        payload = json.dumps(
            [
                prev,
                datetime.fromisoformat(at).isoformat(),
                user,
                action,
                entity,
                uuid,
                json.loads(before) if before else None,
                json.loads(after) if after else None,
            ],
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        connection.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, entry_id)
        )
        prev = digest
    connection.execute(
        "UPDATE settings SET value = ? WHERE key = 'audit_chain_head'", (f"{rows[-1][0]}:{prev}",)
    )


def test_wiping_the_digests_and_deleting_the_anchor_signs_nothing_at_the_next_open(
    busy: AppServices,
) -> None:
    """A role set by SQL, the chain recomputed in plain SHA-256, every digest wiped and the
    anchor deleted: the next open (a fresh ``bbcs check``) must not take that as the first open
    after the upgrade and sign it all."""
    connection = raw_connect(busy.layout.root)
    connection.execute(
        f"UPDATE users SET role = '{Role.DUTY_LEADER.value}' WHERE username = 'clerk1'"
    )
    _recompute_plain_chain(connection)
    for table in _DIGESTED_TABLES:
        connection.execute(f"UPDATE {table} SET digest = NULL")
    connection.close()
    (busy.layout.keys / "audit.anchor").unlink()

    busy.close()
    reopened = open_services(busy.layout.root)
    try:
        problems = reopened.maintenance.check().problems
    finally:
        reopened.close()

    assert any("找不到审计日志的锚点文件" in p for p in problems), problems
    assert any("用户 clerk1 没有校验值" in p for p in problems), problems
    assert not (busy.layout.keys / "audit.anchor").exists()
    # Nor does a second open (or the window) sign it; and no user whose record has lost its
    # digest logs in (the administrator restores from the command line, checked there).
    result = run_bbcs("check", data_dir=busy.layout.root)
    assert result.returncode == 2
    assert "admin 的账户记录被绕过程序改动过" in result.stderr, result.stderr
    assert not (busy.layout.keys / "audit.anchor").exists()


def test_a_deleted_slip_is_named(busy: AppServices) -> None:
    connection = raw_connect(busy.layout.root)
    (number,) = connection.execute("SELECT number FROM slips").fetchone()
    connection.close()
    _sql(busy, "PRAGMA foreign_keys = OFF", "DELETE FROM slips")

    problems = _problems(busy)

    assert any(p.startswith(f"公文 {number} 在审计日志中有登记") for p in problems), problems


def test_a_deleted_slip_leaves_a_named_gap_in_the_slip_numbers(
    busy: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = busy.intake.register(clerk, person_form(title="另一件事")).case_id
    _sign_a_slip(busy, clerk, leader, case_id)
    connection = raw_connect(busy.layout.root)
    (first,) = connection.execute("SELECT number FROM slips ORDER BY seq LIMIT 1").fetchone()
    connection.close()
    _sql(busy, "PRAGMA foreign_keys = OFF", f"DELETE FROM slips WHERE number = '{first}'")

    problems = _problems(busy)

    assert any(f"公文编号不连续，缺少 {first}" in p for p in problems), problems


def test_deleted_notices_and_minutes_leave_named_gaps(busy: AppServices, clerk: Actor) -> None:
    """告知书 and 会议纪要 are numbered papers too: one deleted behind the program's back
    (a notice with its timeline entry, a meeting with its record) is named by its number."""
    from desktop_app.domain.vocabulary import ProperChannel, ScreeningDecision
    from desktop_app.services.meetings import ItemForm
    from tests.test_meetings import _form

    for title in ("与邻居的宅基地纠纷", "小区路灯不亮"):
        case_id = busy.intake.register(clerk, person_form(title=title)).case_id
        busy.screening.screen_out(
            clerk, case_id, ScreeningDecision.NOT_ACCEPTED, ProperChannel.LITIGATION, "民事纠纷"
        )
    first, second = (busy.intake.register(clerk, person_form(title=t)).case_id for t in "甲乙")
    plain = (ItemForm(case_id=first, decision="继续跟踪"),)
    for _ in range(2):
        busy.meetings.record(clerk, _form(busy, first, second, items=plain))
    connection = raw_connect(busy.layout.root)
    (notice,) = connection.execute(
        "SELECT json_extract(data, '$.notice.number') FROM case_events "
        "WHERE kind = 'screened_out' ORDER BY id LIMIT 1"
    ).fetchone()
    (minutes,) = connection.execute("SELECT number FROM meetings ORDER BY seq LIMIT 1").fetchone()
    connection.close()
    _sql(
        busy,
        "PRAGMA foreign_keys = OFF",
        "DELETE FROM case_events WHERE kind = 'screened_out' AND id = "
        "(SELECT min(id) FROM case_events WHERE kind = 'screened_out')",
        f"DELETE FROM meeting_items WHERE meeting_id = "
        f"(SELECT id FROM meetings WHERE number = '{minutes}')",
        f"DELETE FROM meetings WHERE number = '{minutes}'",
    )

    problems = _problems(busy)

    assert any(f"公文编号不连续，缺少 {notice}" in p for p in problems), problems
    assert any(f"公文编号不连续，缺少 {minutes}" in p for p in problems), problems


def test_a_deleted_complainant_and_case_are_named(busy: AppServices) -> None:
    """The realistic erasure: a person and their concluded case, with its history."""
    connection = raw_connect(busy.layout.root)
    name, number = connection.execute(
        "SELECT p.name, c.number FROM complainants p JOIN cases c ON c.complainant_id = p.id "
        "WHERE c.seq = 1"
    ).fetchone()
    connection.close()
    _sql(
        busy,
        "PRAGMA foreign_keys = OFF",
        "DELETE FROM case_events WHERE case_id = (SELECT id FROM cases WHERE seq = 1)",
        "DELETE FROM complainants WHERE id = (SELECT complainant_id FROM cases WHERE seq = 1)",
        "DELETE FROM cases WHERE seq = 1",
    )

    problems = _problems(busy)

    assert any(p.startswith(f"反映人“{name}”") and "已没有这条记录" in p for p in problems), (
        problems
    )
    assert any(p.startswith(f"事项 {number} 在审计日志中有登记") for p in problems), problems


def test_the_newest_case_deleted_with_its_counter_turned_back_is_named(busy: AppServices) -> None:
    _sql(
        busy,
        "PRAGMA foreign_keys = OFF",
        "DELETE FROM assignments WHERE case_id = (SELECT id FROM cases WHERE seq = 3)",
        "DELETE FROM slips",
        "DELETE FROM case_events WHERE case_id = (SELECT id FROM cases WHERE seq = 3)",
        "DELETE FROM cases WHERE number = '杞县-2026-0003'",
        "UPDATE number_sequences SET last_value = last_value - 1 WHERE kind = 'case'",
    )

    problems = _problems(busy)

    assert any(p.startswith("事项 杞县-2026-0003 在审计日志中有登记") for p in problems), problems


# The calendar, the roster and the settings (migration 0025) ------------------------------------


@pytest.fixture
def kept(busy: AppServices, admin: Actor) -> AppServices:
    """The office's calendar, roster and settings, changed through the program (audited and
    digested): a local closure, next year's complete schedule, a duty leader on a day, and the
    deadline rules."""
    from datetime import date

    from desktop_app.domain.deadlines import RuleKey
    from desktop_app.services.roster import DutyRole
    from tests.helpers.holidays import complete_year

    busy.calendar.save_override(admin, date(2026, 12, 30), working=False, name="县城停电")
    busy.calendar.import_csv(admin, complete_year(2027), complete_years=[2027], source="国办发")
    leader, _ = busy.roster.save_staff(admin, name="韩国栋", duty_role=DutyRole.LEADER)
    busy.roster.set_shift(admin, date(2026, 12, 1), DutyRole.LEADER, leader.id)
    days = dict(busy.calendar.rules().days)
    days[RuleKey.HARD] = 12
    busy.calendar.save_rules(admin, days, busy.calendar.rules().due_soon_days)
    return busy


def test_the_calendar_roster_and_settings_changed_through_the_program_pass(
    kept: AppServices,
) -> None:
    report = kept.maintenance.check()
    assert report.ok, report.problems


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        # A working day made a holiday: every deadline across it moved by a day.
        (
            "INSERT INTO holiday_overrides (day, working, name, created_at, created_by, uuid, "
            "version) VALUES ('2026-12-31', 0, '放假', '2026-12-01 09:00:00.000000', 'admin', "
            "'00000000-0000-7000-8000-000000000001', 1)",
            "节假日设置 2026-12-31（放假日，放假） 没有校验值",
        ),
        (
            "UPDATE holiday_overrides SET name = '县城停电两天' WHERE day = '2026-12-30'",
            "节假日设置 2026-12-30（放假日，县城停电两天） 的记录被绕过程序直接改动",
        ),
        # A year's schedule marked complete: its deadlines no longer say 暂定.
        ("UPDATE calendar_years SET source = '手工' WHERE year = 2027", "2027 年的完整放假安排"),
        # Another leader on duty that day (the signing's roster note names them).
        (
            "UPDATE duty_shifts SET note = '代班' WHERE day = '2026-12-01'",
            "值班安排 2026-12-01 带班领导 韩国栋（全天，内部编号",
        ),
        ("UPDATE duty_staff SET name = '王某某' WHERE name = '韩国栋'", "值班人员“王某某”"),
        # 很难办 given 30 working days instead of 12.
        (
            "UPDATE settings SET value = '30' WHERE key = 'deadline_rule.hard'",
            "设置项“很难办（工作日）”（deadline_rule.hard） 的记录被绕过程序直接改动",
        ),
    ],
    ids=["holiday-added", "holiday-edited", "year-edited", "shift", "staff", "setting"],
)
def test_the_calendar_roster_and_settings_edited_in_the_database_are_named(
    kept: AppServices, statement: str, named: str
) -> None:
    """They had no digest: a day made a holiday, a leader put on duty or a deadline rule
    lengthened by SQL passed bbcs check."""
    _sql(kept, statement)
    problems = _problems(kept)
    assert any(named in problem for problem in problems), problems


def test_a_setting_changed_by_sql_is_not_signed_by_the_next_save(
    kept: AppServices, admin: Actor
) -> None:
    """A deadline rule lengthened by SQL and then 保存 on the rules' form (even to change
    another rule): the save signed the changed value with the rest and bbcs check passed. The
    save is refused now, as a changed account's is, and check keeps naming the rule."""
    from desktop_app.domain.deadlines import RuleKey
    from desktop_app.services.integrity import ChangedSetting

    _sql(kept, "UPDATE settings SET value = '30' WHERE key = 'deadline_rule.hard'")
    rules = kept.calendar.rules()
    assert rules.days[RuleKey.HARD] == 30  # in use meanwhile (bbcs check names it)
    days = dict(rules.days)
    days[RuleKey.HARD] = 15  # put back on the form: saving it signed whatever else was changed
    days[RuleKey.WONT] = 6
    with pytest.raises(ChangedSetting, match="设置“很难办（工作日）”在数据库中被绕过程序改动过"):
        kept.calendar.save_rules(admin, days, rules.due_soon_days)
    assert kept.calendar.rules().days[RuleKey.WONT] != 6  # nothing saved
    problems = _problems(kept)
    assert any("设置项“很难办（工作日）”" in p for p in problems), problems


# Deleted rows of the calendar, the roster and the settings (migration 0026) ---------------------


def test_the_calendar_roster_and_settings_with_rows_deleted_through_the_program_pass(
    kept: AppServices, admin: Actor
) -> None:
    """The program's own deletions (a holiday taken out, a day cleared, a rotation made again
    over its days) seal the tables again: nothing to report."""
    from datetime import date

    from desktop_app.services.roster import DutyRole, Rotation, RotationPlan

    kept.calendar.delete_override(admin, date(2026, 12, 30))
    kept.roster.set_shift(admin, date(2026, 12, 1), DutyRole.LEADER, None)
    leader = next(s for s in kept.roster.staff(DutyRole.LEADER) if s.name == "韩国栋")
    plan = RotationPlan(
        DutyRole.LEADER, Rotation.DAILY, (leader.id,), date(2026, 12, 7), date(2026, 12, 11)
    )
    kept.roster.generate(admin, plan)
    kept.roster.generate(admin, plan)  # its days' shifts deleted and made again
    report = kept.maintenance.check()
    assert report.ok, report.problems


@pytest.mark.parametrize(
    ("statements", "named"),
    [
        # A local closure taken out: the deadlines across it came a day earlier.
        (
            ["DELETE FROM holiday_overrides WHERE day = '2026-12-30'"],
            "节假日设置中的记录已不在数据库中：2026-12-30 的节假日设置",
        ),
        # Next year's schedule no longer complete: its deadlines say 暂定 again.
        (
            ["DELETE FROM calendar_years WHERE year = 2027"],
            "完整放假安排的年份中的记录已不在数据库中：2027 年的完整放假安排",
        ),
        (
            ["DELETE FROM duty_shifts WHERE day = '2026-12-01'"],
            "值班安排中的记录已不在数据库中：2026-12-01 的值班安排",
        ),
        (
            ["DELETE FROM duty_shifts", "DELETE FROM duty_staff WHERE name = '韩国栋'"],
            "值班人员名单中的记录已不在数据库中：值班人员“韩国栋”",
        ),
        # 很难办's 12 working days deleted: the default (longer) rule in force again.
        (
            ["DELETE FROM settings WHERE key = 'deadline_rule.hard'"],
            "站点设置中的记录已不在数据库中：设置项“很难办（工作日）”（deadline_rule.hard）",
        ),
        # The seal itself deleted, to hide the deletions with it.
        (
            [
                "DELETE FROM holiday_overrides WHERE day = '2026-12-30'",
                "DELETE FROM table_seals WHERE name = 'holiday_overrides'",
            ],
            "节假日设置的校验汇总不见了",
        ),
    ],
    ids=["holiday", "complete-year", "shift", "staff", "setting", "seal-deleted"],
)
def test_rows_of_the_calendar_roster_and_settings_deleted_in_the_database_are_named(
    kept: AppServices, statements: list[str], named: str
) -> None:
    """A row's digest shows a change, not a deletion: a holiday taken out or a deadline rule
    deleted by SQL passed bbcs check."""
    _sql(kept, *statements)
    problems = _problems(kept)
    assert any(named in problem for problem in problems), problems


def test_a_holiday_put_back_as_it_was_with_its_old_digest_is_named(
    kept: AppServices, admin: Actor
) -> None:
    """A row put back with the digest the program once gave it passes its own check: the
    table's seal does not."""
    from datetime import date

    connection = raw_connect(kept.layout.root)
    try:
        connection.row_factory = sqlite3.Row
        row = connection.execute("SELECT * FROM holiday_overrides WHERE day = '2026-12-30'")
        before = dict(row.fetchone())
    finally:
        connection.close()
    kept.calendar.save_override(admin, date(2026, 12, 30), working=False, name="县城停电两天")
    assert kept.maintenance.check().ok
    connection = raw_connect(kept.layout.root)
    try:
        columns = ", ".join(f"{name} = ?" for name in before)
        connection.execute(
            f"UPDATE holiday_overrides SET {columns} WHERE day = '2026-12-30'",
            list(before.values()),
        )
    finally:
        connection.close()
    problems = _problems(kept)
    assert problems == [
        "节假日设置与其校验汇总不符：有记录被换回了从前的内容（带着从前的校验值），或汇总本身被改动"
    ]


# A case's 办理记录 (migration 0027) -----------------------------------------------------------

_CONCLUDED = "(SELECT id FROM cases WHERE number = '杞县-2026-0001')"


@pytest.mark.parametrize(
    "statement",
    [
        # The line that says the case was concluded and how: gone.
        f"DELETE FROM case_events WHERE case_id = {_CONCLUDED} AND kind = 'concluded'",
        # Its words changed: the complainant was "told" something else.
        f"UPDATE case_events SET summary = '已答复：不予受理' WHERE case_id = {_CONCLUDED} "
        "AND kind = 'concluded'",
        # A line made to look older.
        f"UPDATE case_events SET at = '2026-01-01 09:00:00.000000' WHERE case_id = {_CONCLUDED} "
        "AND kind = 'concluded'",
        # A line added that the program never wrote.
        "INSERT INTO case_events (case_id, at, kind, summary, data, user_name, uuid, version, "
        f"origin_site) VALUES ({_CONCLUDED}, '2026-12-01 09:00:00.000000', 'urged', '已催办', "
        "'{}', 'clerk1', '00000000-0000-7000-8000-0000000000aa', 1, '')",
    ],
    ids=["deleted", "reworded", "backdated", "added"],
)
def test_a_line_of_a_cases_timeline_changed_in_the_database_is_named(
    busy: AppServices, statement: str
) -> None:
    """办理记录 carried no digest: a line deleted, reworded, backdated or added by SQL passed
    bbcs check. The case's signed row holds a hash of its lines now."""
    _sql(busy, statement)
    problems = _problems(busy)
    assert any("事项 杞县-2026-0001 的办理记录与校验值不符" in problem for problem in problems), (
        problems
    )
    # Named once: not again for what replaying the changed lines says (a walk found
    # "只有已办结的事项才能回访（当前状态：办理中）" for a case that is concluded).
    assert not any(
        "杞县-2026-0001 的办理记录不完整" in p or "杞县-2026-0001 的状态" in p for p in problems
    ), problems


def test_a_line_moved_to_another_case_names_both(busy: AppServices) -> None:
    _sql(
        busy,
        f"UPDATE case_events SET case_id = (SELECT id FROM cases WHERE seq = 2) "
        f"WHERE case_id = {_CONCLUDED} AND kind = 'concluded'",
    )
    problems = _problems(busy)
    for number in ("杞县-2026-0001", "杞县-2026-0002"):
        assert any(f"事项 {number} 的办理记录" in p for p in problems), problems


def test_a_line_the_program_adds_makes_the_case_a_new_version_to_send(
    busy: AppServices, clerk: Actor
) -> None:
    """The hash is kept through the case's row: the case goes in the next bundle with it, so
    the city's check holds the lines it received to the hash the county made."""
    from desktop_app.storage.models import Case

    with busy.db.read() as session:
        case = session.scalar(select(Case).where(Case.seq == 2))
        assert case is not None
        before = (case.events_hash, case.version)
        case_id = case.id
    busy.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    with busy.db.read() as session:
        after = session.scalar(select(Case).where(Case.seq == 2))
        assert after is not None
        assert after.events_hash != before[0] and after.version > before[1]
        assert after.change_seq is not None
    assert busy.maintenance.check().ok


def test_a_timeline_changed_by_sql_stays_named_after_the_next_save_of_the_case(
    busy: AppServices, clerk: Actor
) -> None:
    """A review found the next ordinary save hashing the lines as they stood, the SQL edit
    included: the evidence lasted until someone worked on the case."""
    _sql(
        busy,
        "UPDATE case_events SET summary = '已登记（来访）' WHERE kind = 'registered' "
        "AND case_id = (SELECT id FROM cases WHERE seq = 2)",
    )
    case_id = _sql_scalar(busy, "SELECT id FROM cases WHERE seq = 2")
    busy.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    problems = _problems(busy)
    assert any("事项 杞县-2026-0002 的办理记录与校验值不符" in p for p in problems), problems


def test_a_holiday_deleted_by_sql_stays_named_after_another_holiday_is_saved(
    kept: AppServices, admin: Actor
) -> None:
    """The same for the tables sealed as wholes: saving any holiday sealed the table as it
    stood, the deleted one's absence included."""
    from datetime import date

    _sql(kept, "DELETE FROM holiday_overrides WHERE day = '2026-12-30'")
    kept.calendar.save_override(admin, date(2026, 12, 24), working=False, name="县城停水")
    problems = _problems(kept)
    assert any("2026-12-30 的节假日设置" in p for p in problems), problems
    # The next save finds it still changed, and still leaves it for check to name.
    kept.calendar.save_override(admin, date(2026, 12, 23), working=False, name="县城停水")
    assert any("2026-12-30 的节假日设置" in p for p in _problems(kept))


def test_registering_and_triage_give_the_case_no_extra_version(
    services: AppServices, clerk: Actor
) -> None:
    """Keeping the timeline's hash made every save that adds a line a second new version."""
    from desktop_app.storage.models import Case

    case_id = services.intake.register(clerk, person_form()).case_id
    with services.db.read() as session:
        assert session.scalar(select(Case.version).where(Case.id == case_id)) == 1
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    with services.db.read() as session:
        # As before the hash was kept: triage writes the case in two flushes.
        assert session.scalar(select(Case.version).where(Case.id == case_id)) == 3
    assert services.maintenance.check().ok


def _sql_scalar(services: AppServices, statement: str) -> int:
    connection = raw_connect(services.layout.root)
    try:
        return int(connection.execute(statement).fetchone()[0])
    finally:
        connection.close()


def test_ordinary_saves_after_tampering_keep_the_finding_and_accuse_nothing_else(
    kept: AppServices, admin: Actor
) -> None:
    """A walk: a holiday deleted and a rule lengthened by SQL, then the administrator saved
    another holiday and the rules (only the reminder days changed). Check then called the
    rules the save had just written "not written by this program" and no longer named the
    deleted holiday. The save now records what it found in the audit log and seals what it
    writes."""
    from datetime import date

    _sql(
        kept,
        "DELETE FROM holiday_overrides WHERE day = '2026-12-30'",
        "UPDATE settings SET value = '30' WHERE key = 'deadline_rule.hard'",
    )
    kept.calendar.save_override(admin, date(2027, 1, 4), working=False, name="县城停水")
    rules = kept.calendar.rules()
    kept.calendar.save_rules(admin, dict(rules.days), rules.due_soon_days + 1)
    problems = _problems(kept)
    assert any("保存时发现" in p and "2026-12-30 的节假日设置" in p for p in problems), problems
    assert any("设置项“很难办（工作日）”（deadline_rule.hard）" in p for p in problems), problems
    assert not any("不是经本程序写入的记录" in p or "换回了从前的内容" in p for p in problems), (
        problems
    )
    # The window's start tells it too, and the audit log shows who found it when.
    assert any("2026-12-30 的节假日设置" in p for p in kept.maintenance.tampered_rules())
