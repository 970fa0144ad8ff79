"""一类事 and early warnings through the service, on real SQLite with cases across months."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_app.domain.vocabulary import FixKind
from desktop_app.errors import PermissionDenied, UserError, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.classes import ClassForm, ClassState, WarningState
from desktop_app.services.context import Actor, FixedClock
from desktop_app.storage.models import Case, CaseEvent, EarlyWarning, IssueClass
from tests.helpers.db import audit_entries, count_rows
from tests.helpers.factories import person_form

MEDICAL_AREA = "医保社保"


def departments(services: AppServices) -> dict[str, int]:
    return {d.name: d.id for d in services.site.departments()}


def register(
    services: AppServices,
    clock: FixedClock,
    actor: Actor,
    at: datetime,
    *,
    name: str,
    department: int | None,
    area: str = MEDICAL_AREA,
    causes: tuple[str, ...] = ("process",),
) -> int:
    """A case received at ``at``, stuck at ``department``, with ``causes`` as triage left them
    (stored old-style values on purpose: they must count as their codes)."""
    clock.at = at
    result = services.intake.register(
        actor, person_form(name=name, area=area, stuck_department_id=department)
    )
    with services.db.write() as session:
        case = session.get(Case, result.case_id)
        assert case is not None
        case.causes = list(causes)
    return result.case_id


@pytest.fixture
def rising(services: AppServices, clock: FixedClock, clerk: Actor) -> dict[str, list[int]]:
    """医保局 × 医保社保 × 流程不优: one matter in August, seven this month (November 2026);
    不动产 × 不动产登记: three a month for six months and five this month (usual); 医保局 × 公共服务
    领域: three this month (low volume). The clock ends on 2026-11-25."""
    ids = departments(services)
    medical, land = ids["杞县医疗保障局"], ids["杞县不动产登记中心"]
    made: dict[str, list[int]] = {"rising": [], "usual": [], "low": []}
    made["rising"].append(
        register(services, clock, clerk, datetime(2026, 8, 10, 9), name="旧甲", department=medical)
    )
    for i in range(7):
        made["rising"].append(
            register(
                services,
                clock,
                clerk,
                datetime(2026, 11, 2 + i, 10),
                name=f"升{i}",
                department=medical,
            )
        )
    for month in range(5, 12):
        for i in range(3 if month < 11 else 5):
            made["usual"].append(
                register(
                    services,
                    clock,
                    clerk,
                    datetime(2026, month, 3 + i, 11),
                    name=f"常{month}-{i}",
                    department=land,
                    area="不动产登记",
                    causes=("C06",),
                )
            )
    for i in range(3):
        made["low"].append(
            register(
                services,
                clock,
                clerk,
                datetime(2026, 11, 10 + i, 15),
                name=f"少{i}",
                department=medical,
                area="公共服务",
            )
        )
    clock.at = datetime(2026, 11, 25, 9, 30)
    return made


def test_scan_raises_the_rise_and_keeps_why(
    services: AppServices, clerk: Actor, rising: dict[str, list[int]]
) -> None:
    result = services.classes.scan_warnings(clerk)
    assert (result.month, result.raised, result.updated) == ("2026-11", 1, 0)
    assert result.changes.classes

    [warning] = services.classes.warnings()
    assert warning.department == "杞县医疗保障局"
    assert (warning.area, warning.cause, warning.cause_label) == (MEDICAL_AREA, "C04", "流程不优")
    assert (warning.count, warning.months, warning.state) == (7, 6, WarningState.OPEN)
    # One in six months is below the floor 0.5; on 25 November, 25/30 of the month has gone by.
    assert warning.baseline == pytest.approx(0.5 * 25 / 30, abs=1e-4)
    assert warning.p_value < 0.01
    assert warning.why == "本月 7 件，前6个月同期平均 0.4 件，P<0.0001"
    assert sorted(services.classes.warning_cases(warning.id)) == sorted(rising["rising"][1:])
    assert [e["action"] for e in audit_entries(services, f"warning-{warning.id}")] == [
        "raise_warning"
    ]

    # Scanning again changes nothing: the key is stored once.
    again = services.classes.scan_warnings(clerk)
    assert (again.raised, again.updated) == (0, 0)
    assert count_rows(services, "early_warnings") == 1


def test_thresholds_come_from_the_settings(
    services: AppServices, clerk: Actor, admin: Actor, rising: dict[str, list[int]]
) -> None:
    services.classes.save_thresholds(clerk, history_months=6, p_per_mille=10, min_volume=8)
    assert services.classes.thresholds().min_volume == 8
    assert services.classes.scan_warnings(clerk).raised == 0
    with pytest.raises(ValidationFailed):
        services.classes.save_thresholds(clerk, history_months=1, p_per_mille=10, min_volume=5)
    assert services.classes.thresholds().history_months == 6
    [entry] = audit_entries(services, "early_warning")
    assert entry["action"] == "warning_thresholds"


def test_a_new_case_in_an_open_warning_updates_its_numbers(
    services: AppServices, clock: FixedClock, clerk: Actor, rising: dict[str, list[int]]
) -> None:
    services.classes.scan_warnings(clerk)
    medical = departments(services)["杞县医疗保障局"]
    register(services, clock, clerk, datetime(2026, 11, 25, 10), name="再来", department=medical)
    result = services.classes.scan_warnings(clerk)
    assert (result.raised, result.updated) == (0, 1)
    assert services.classes.warnings()[0].count == 8


def test_dismiss_needs_a_note_and_stays_dismissed(
    services: AppServices, clerk: Actor, auditor: Actor, rising: dict[str, list[int]]
) -> None:
    services.classes.scan_warnings(clerk)
    [warning] = services.classes.warnings()
    with pytest.raises(ValidationFailed, match="理由"):
        services.classes.dismiss(clerk, warning.id, "  ")
    with pytest.raises(PermissionDenied):
        services.classes.dismiss(auditor, warning.id, "看过了")
    services.classes.dismiss(clerk, warning.id, "系同一政策调整引起，已统一答复")
    [dismissed] = services.classes.warnings(state=WarningState.DISMISSED)
    assert (dismissed.note, dismissed.decided_by) == ("系同一政策调整引起，已统一答复", "张敏")
    # A later scan neither raises it again nor reopens it.
    assert services.classes.scan_warnings(clerk).raised == 0
    assert services.classes.warnings(state=WarningState.OPEN) == []
    with pytest.raises(UserError, match="已排除"):
        services.classes.dismiss(clerk, warning.id, "再排除")


def test_a_warning_becomes_a_class_with_its_cases(
    services: AppServices, clerk: Actor, rising: dict[str, list[int]]
) -> None:
    services.classes.scan_warnings(clerk)
    [warning] = services.classes.warnings()
    draft = services.classes.draft_from_warning(warning.id)
    assert draft.title == "杞县医疗保障局、医保社保、流程不优类问题集中反映"
    assert draft.causes == ("C04",)
    assert "本月 7 件" in draft.description

    class_id, changes = services.classes.class_from_warning(clerk, warning.id)
    assert changes.classes and changes.cases
    assert sorted(changes.case_ids) == sorted(rising["rising"][1:])
    [classed] = services.classes.warnings()
    assert (classed.state, classed.issue_class_id) == (WarningState.CLASSED, class_id)

    detail = services.classes.detail(class_id)
    assert sorted(c.id for c in detail.cases) == sorted(rising["rising"][1:])
    assert {c.department for c in detail.cases} == {"杞县医疗保障局"}
    assert (detail.row.case_count, detail.row.department_count) == (7, 1)
    with services.db.read() as session:
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == rising["rising"][1])
        ).all()
        assert events[-1].kind == "classed"
        assert events[-1].summary == f"归入一类事“{draft.title}”"
    assert services.cases.detail(rising["rising"][1]).timeline[-1].label == "归入一类事"
    assert services.cases.detail(rising["rising"][1]).issue_class == draft.title
    assert services.cases.detail(rising["rising"][0]).issue_class == ""  # August's: not counted
    with pytest.raises(UserError):
        services.classes.class_from_warning(clerk, warning.id)


def test_create_edit_link_unlink_and_list_with_counts(
    services: AppServices, clock: FixedClock, clerk: Actor, auditor: Actor
) -> None:
    ids = departments(services)
    medical, land = ids["杞县医疗保障局"], ids["杞县不动产登记中心"]
    a = register(services, clock, clerk, datetime(2026, 9, 1, 9), name="甲", department=medical)
    b = register(services, clock, clerk, datetime(2026, 10, 1, 9), name="乙", department=land)
    c = register(services, clock, clerk, datetime(2026, 11, 1, 9), name="丙", department=None)
    clock.at = datetime(2026, 11, 25, 9, 30)

    form = ClassForm(
        title="住房公积金提取材料要求不一",
        area="住房保障",
        causes=("C06", "C05"),
        owner_department_id=land,
        owner_name="李主任",
        due_date=date(2026, 11, 20),
    )
    with pytest.raises(PermissionDenied):
        services.classes.create(auditor, form)
    with pytest.raises(ValidationFailed) as bad:
        services.classes.create(clerk, ClassForm(title=" ", causes=("X99",)))
    assert set(bad.value.errors) == {"title", "causes"}
    assert count_rows(services, "issue_classes") == 0

    class_id, changes = services.classes.create(clerk, form, case_ids=[a, b])
    assert changes.case_ids == (a, b)
    [row] = services.classes.list_classes()
    assert (row.case_count, row.department_count) == (2, 2)
    assert row.causes == ("一次性告知不到位", "材料繁杂")
    assert row.owner == "杞县不动产登记中心 · 李主任"
    assert row.state == ClassState.OVERDUE  # due on the 20th, not done, today the 25th
    assert services.classes.list_classes(state=ClassState.DONE) == []

    services.classes.link_by_number(clerk, class_id, services.cases.detail(c).number)
    assert services.classes.list_classes()[0].case_count == 3
    with pytest.raises(ValidationFailed, match="没有编号"):
        services.classes.link_by_number(clerk, class_id, "杞-2026-99999")
    services.classes.unlink(clerk, [b])
    row = services.classes.list_classes()[0]
    assert (row.case_count, row.department_count) == (2, 1)  # 丙 has no department yet
    with services.db.read() as session:
        assert session.get(Case, b).issue_class_id is None  # type: ignore[union-attr]

    # A fix needs its content; done needs a fix.
    with pytest.raises(ValidationFailed) as bad:
        services.classes.update(
            clerk, class_id, ClassForm(title=form.title, done_on=date(2026, 11, 24))
        )
    assert set(bad.value.errors) == {"fix_kind"}
    done = ClassForm(
        title=form.title,
        area=form.area,
        causes=form.causes,
        owner_department_id=land,
        owner_name="李主任",
        due_date=form.due_date,
        fix_kind=FixKind.MATERIALS_LIST,
        fix_description="出台住房公积金提取一次性告知材料清单",
        done_on=date(2026, 11, 24),
    )
    assert services.classes.update(clerk, class_id, done).classes
    [row] = services.classes.list_classes(state=ClassState.DONE)
    assert (row.fix_kind, row.state_label) == ("出台一次性告知材料清单", "已完成")
    assert services.classes.update(clerk, class_id, done) == services.classes.update(
        clerk, class_id, done
    )  # nothing changed: nothing recorded
    with services.db.read() as session:
        uuid = session.scalars(select(IssueClass.uuid)).one()
    assert [e["action"] for e in audit_entries(services, uuid)] == ["create_class", "update_class"]
    assert [e["action"] for e in audit_entries(services, services.cases.detail(b).uuid)][-2:] == [
        "classify",
        "unclassify",
    ]


def test_screened_out_matters_are_not_counted(
    services: AppServices, clock: FixedClock, clerk: Actor
) -> None:
    medical = departments(services)["杞县医疗保障局"]
    made = [
        register(
            services, clock, clerk, datetime(2026, 11, 2 + i, 9), name=f"外{i}", department=medical
        )
        for i in range(6)
    ]
    with services.db.write() as session:
        for case_id in made[:2]:
            session.get(Case, case_id).status = "screened_out"  # type: ignore[union-attr]
    clock.at = datetime(2026, 11, 25, 9, 30)
    services.classes.scan_warnings(clerk)
    with services.db.read() as session:
        counts = session.scalars(select(EarlyWarning.count)).all()
    assert counts == []  # four left: below the minimum volume of five


def test_the_command_line_lists_classes_and_warnings(
    services: AppServices,
    clerk: Actor,
    rising: dict[str, list[int]],
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from desktop_app.cli import main
    from tests.helpers.factories import USER_PASSWORD

    services.classes.scan_warnings(clerk)
    [warning] = services.classes.warnings()
    class_id, _changes = services.classes.class_from_warning(clerk, warning.id)
    monkeypatch.setenv("BBCS_USER", "auditor")  # reading needs no more than VIEW_CASES
    monkeypatch.setenv("BBCS_PASSWORD", USER_PASSWORD)

    assert main(["--data-dir", str(data_dir), "warnings"]) == 0
    listed = capsys.readouterr()
    assert "2026-11\t已转为一类事\t杞县医疗保障局\t医保社保\t流程不优\t7件" in listed.out
    assert "共 1 条预警" in listed.err
    assert main(["--data-dir", str(data_dir), "warnings", "--json"]) == 0
    (shown,) = json.loads(capsys.readouterr().out)
    assert (shown["count"], shown["months"], shown["issue_class_id"]) == (7, 6, class_id)
    assert shown["why"] == "本月 7 件，前6个月同期平均 0.4 件，P<0.0001"

    assert main(["--data-dir", str(data_dir), "classes"]) == 0
    listed = capsys.readouterr()
    assert f"{class_id}\t整改中\t7件/1个部门\t" in listed.out
    assert main(["--data-dir", str(data_dir), "classes", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["cases"], row["departments"], row["causes"]) == (7, 1, ["流程不优"])


def test_demo_has_classes_with_and_without_fixes_and_a_warning_that_fires(
    services: AppServices, clerk: Actor, clock: FixedClock
) -> None:
    from desktop_app.services.demo.classes import add_demo_classes

    # The demo runs on a site with records (bbcs demo's cases): months without them are no
    # history, and a rise is judged only against months the site kept records in.
    now = clock.at
    first = departments(services)["杞县医疗保障局"]
    register(services, clock, clerk, datetime(2026, 7, 1, 10), name="旧事", department=first)
    clock.at = now
    made = add_demo_classes(services, clerk)
    rows = {r.id: r for r in services.classes.list_classes()}
    assert set(rows) == set(made) and len(made) == 2
    fixed, unfixed = rows[made[0]], rows[made[1]]
    assert (fixed.fix_kind, fixed.state, fixed.case_count) == ("出台一次性告知材料清单", "done", 6)
    assert (unfixed.fix_kind, unfixed.state) == ("", ClassState.OVERDUE)
    states = sorted(w.state for w in services.classes.warnings())
    assert states == [WarningState.CLASSED, WarningState.OPEN]
