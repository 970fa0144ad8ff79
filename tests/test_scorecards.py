"""Department scorecards (issue 17) against hand-computed figures: on time both ways with an
overdue open assignment counted, late, extended, returned, working days, satisfaction of the
department's cases, referrals, and a ranking that leaves out a department with few assignments."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from desktop_app.domain.scoring import (
    DEFAULT_TEMPLATE_TEXT,
    DEFAULT_WINDOW_TEMPLATE_TEXT,
    Measure,
    parse_template,
    sheet_lines,
)
from desktop_app.domain.settings import RANKING_MIN_VOLUME, SCORING_TEMPLATE
from desktop_app.domain.vocabulary import Conduct
from desktop_app.errors import PermissionDenied, ValidationFailed
from desktop_app.services import settings
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.referrals import Proposal
from tests.helpers.factories import person_form
from tests.helpers.scorecard_cases import NOVEMBER, Departments, build_departments
from tests.helpers.site import as_city_of
from tests.helpers.speed import fast_password_hashing  # noqa: F401


@pytest.fixture
def office(services: AppServices, clerk: Actor) -> Departments:
    return build_departments(services, clerk)


def test_a_departments_figures_are_the_hand_computed_ones(
    services: AppServices, clerk: Actor, office: Departments
) -> None:
    card = services.scorecards.scorecard(clerk, *NOVEMBER)
    by_name = {row.department: row for row in card.rows}
    a = by_name[office.a.name]
    assert a.received == 6  # not the draft, the voided one or October's
    assert a.responded == 3
    # Finished on time: on_time, extended; late: late, and overdue_open (open, past 11-20).
    assert a.on_time.text() == "50.0%（2/4）"
    assert a.on_time_original.text() == "25.0%（1/4）"  # extended was late against 11-10
    assert a.late == 2
    assert (a.extended, a.returned, a.urged, a.supervised, a.referrals) == (1, 1, 1, 0, 1)
    # Working days issue → response: 4, 7, 9 (11-02→11-06, 11-02→11-11, 11-03→11-16).
    assert (a.working_days_median, a.working_days_p90) == (7, 9)
    assert a.satisfaction.text() == "66.7%（2/3）"  # satisfied, basically; dissatisfied
    b = by_name[office.b.name]
    assert (b.received, b.on_time.text(), b.satisfaction.text()) == (1, "100.0%（1/1）", "—（0/0）")
    assert card.today == date(2026, 11, 25)


def test_the_ranking_leaves_out_a_department_below_the_minimum_volume(
    services: AppServices, clerk: Actor, admin: Actor, office: Departments
) -> None:
    card = services.scorecards.scorecard(clerk, *NOVEMBER)
    assert card.minimum_volume == RANKING_MIN_VOLUME.default == 5
    assert card.ranking == (office.a.name,)
    assert card.rank_of(office.b.name) is None
    with services.db.write() as session:
        settings.write(session, admin, RANKING_MIN_VOLUME, 1)
    card = services.scorecards.scorecard(clerk, *NOVEMBER)
    assert card.ranking == (office.b.name, office.a.name)  # 100 % before 50 %
    assert card.rank_of(office.a.name) == 2


def test_a_period_with_no_assignments_has_no_rows(services: AppServices, clerk: Actor) -> None:
    card = services.scorecards.scorecard(clerk, date(2026, 1, 1), date(2026, 1, 31))
    assert card.rows == () and card.ranking == ()
    with pytest.raises(ValidationFailed):
        services.scorecards.scorecard(clerk, date(2026, 2, 1), date(2026, 1, 1))


def test_the_scoring_sheet_fills_computed_items_and_leaves_the_inspectors_blank(
    services: AppServices, clerk: Actor, office: Departments
) -> None:
    items = services.scorecards.template()
    assert items == parse_template(DEFAULT_TEMPLATE_TEXT)
    assert items[0].name == "群众满意率" and items[0].points == 10
    assert items[0].measure is Measure.SATISFACTION
    card = services.scorecards.scorecard(clerk, *NOVEMBER)
    a = next(row for row in card.rows if row.department == office.a.name)
    lines = {line.item.name: line for line in sheet_lines(items, a)}
    assert (lines["群众满意率"].score, lines["群众满意率"].basis) == (6.7, "66.7%（2/3）")
    assert lines["按期办结率"].score == 5.0
    assert lines["交办事项签收办理（未退回）"].score == 4.2  # 5 × 5/6
    assert lines["窗口规范化建设"].score is None and lines["窗口规范化建设"].basis == ""


def test_the_administrator_edits_the_template_and_a_bad_one_is_refused(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    with services.db.write() as session:
        settings.write(session, admin, SCORING_TEMPLATE, "满意率|20|satisfaction\n档案|5|")
    items = services.scorecards.template()
    assert [(i.name, i.points, i.measure) for i in items] == [
        ("满意率", 20.0, Measure.SATISFACTION),
        ("档案", 5.0, None),
    ]
    for bad in ("满意率|二十|satisfaction", "满意率|10|happiness", "", "只有名称"):
        with pytest.raises(ValidationFailed), services.db.write() as session:
            settings.write(session, admin, SCORING_TEMPLATE, bad)
    with pytest.raises(PermissionDenied), services.db.write() as session:
        settings.write(session, clerk, SCORING_TEMPLATE, DEFAULT_TEMPLATE_TEXT)


def test_the_scoring_settings_are_saved_audited_and_checked(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    from sqlalchemy import select

    from desktop_app.services.scorecards import ScoringSettings
    from desktop_app.storage.models import AuditEntry

    assert services.scorecards.scoring_settings() == ScoringSettings(
        DEFAULT_TEMPLATE_TEXT, 5, DEFAULT_WINDOW_TEMPLATE_TEXT
    )
    chosen = ScoringSettings("满意率|20|satisfaction\n档案|5|\n", 3, "回访率|50|visited\n")
    changes = services.scorecards.save_scoring_settings(admin, chosen)
    assert changes.settings
    assert services.scorecards.scoring_settings() == ScoringSettings(
        "满意率|20|satisfaction\n档案|5|", 3, "回访率|50|visited"
    )
    with services.db.read() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert actions.count("save_scoring_settings") == 1
    assert not services.scorecards.save_scoring_settings(admin, chosen).settings  # no change
    with pytest.raises(ValidationFailed):
        services.scorecards.save_scoring_settings(admin, ScoringSettings("档案|五|", 3, ""))
    with pytest.raises(ValidationFailed, match="窗口量化管理评分表模板"):
        bad = ScoringSettings(DEFAULT_TEMPLATE_TEXT, 3, "回访|10|called")
        services.scorecards.save_scoring_settings(admin, bad)
    with pytest.raises(PermissionDenied):
        services.scorecards.save_scoring_settings(
            clerk, ScoringSettings(DEFAULT_TEMPLATE_TEXT, 5, DEFAULT_WINDOW_TEMPLATE_TEXT)
        )
    assert services.scorecards.scoring_settings().minimum_volume == 3


SHIRKED = (Conduct.COLD,)


def test_referrals_the_window_files_count_against_the_department_they_name(
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    admin: Actor,
    clock: FixedClock,
    office: Departments,
) -> None:
    """The window proposes a 问责线索 from the case, the 单位 filled in with the department's
    name (no assignment is picked): it counts for that department, one the leader drops does
    not, and a department with no assignment this period gets its row for it (every count was
    0: only a referral tied to an assignment, which the window never makes, was counted)."""
    clock.at = datetime(2026, 11, 25, 10, 0)
    case_id = services.intake.register(clerk, person_form()).case_id
    for unit in (office.a.name, office.a.name, office.b.name):
        services.referrals.propose(
            clerk,
            Proposal(
                case_id=case_id, person_name="李某", person_unit=unit, facts="推诿", conduct=SHIRKED
            ),
        )
    dropped, _ = services.referrals.propose(
        clerk,
        Proposal(
            case_id=case_id,
            person_name="赵某",
            person_unit=office.a.name,
            facts="x",
            conduct=SHIRKED,
        ),
    )
    services.referrals.drop(leader, dropped, "经核实系政策原因")
    services.site.save_department(admin, name="杞县住房和城乡建设局")
    idle = next(d for d in services.site.departments() if d.name == "杞县住房和城乡建设局")
    services.referrals.propose(
        clerk,
        Proposal(
            case_id=case_id,
            person_name="钱某",
            person_unit=idle.name,
            facts="推诿",
            conduct=SHIRKED,
        ),
    )
    by_name = {row.department: row for row in services.scorecards.scorecard(clerk, *NOVEMBER).rows}
    assert by_name[office.a.name].referrals == 1 + 2  # the fixture's, tied to an assignment
    assert by_name[office.b.name].referrals == 1
    assert (by_name[idle.name].referrals, by_name[idle.name].received) == (1, 0)


def test_a_referral_naming_a_department_the_city_sent_counts_for_it_once(
    services: AppServices, clerk: Actor, clock: FixedClock, office: Departments
) -> None:
    """The 单位 filled in from a case stuck at a department the city sent down: counted for
    that department (it was not, the department being the city's); a name both lists have
    counts once, for the county's own."""
    from desktop_app.domain.vocabulary import SiteLevel
    from desktop_app.storage.models import Department, Site

    with services.db.write() as session:
        session.add(
            Site(
                code="410200",
                name="开封市办不成事监督窗口",
                short_name="开封",
                level=SiteLevel.CITY.value,
                created_at=datetime(2026, 11, 1),
            )
        )
        for name in ("开封市医疗保障局", office.a.name):
            session.add(Department(name=name, site_code="410200", active=True))
    clock.at = datetime(2026, 11, 25, 10, 0)
    case_id = services.intake.register(clerk, person_form()).case_id
    for unit in ("开封市医疗保障局", office.a.name):
        services.referrals.propose(
            clerk, Proposal(case_id, "孙某", person_unit=unit, conduct=SHIRKED, facts="推诿")
        )
    rows = services.scorecards.scorecard(clerk, *NOVEMBER).rows
    assert [r.referrals for r in rows if r.department == "开封市医疗保障局"] == [1]
    by_name = [(r.department, r.referrals) for r in rows if r.department.startswith(office.a.name)]
    assert by_name == [(office.a.name, 1 + 1)]  # the fixture's, and this one: once


def test_two_counties_departments_of_one_name_are_scored_apart(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    """At a city, each county's 人力资源和社会保障局 arrived with its cases: two rows, each named
    with its county, each with its own figures (the ranking, by name, merged them into one)."""
    from desktop_app.domain.assignment_flow import AssignmentState

    name = "县人力资源和社会保障局"
    ids = as_city_of(services, {"410222": "通许", "410223": "尉氏"}, department=name)
    office = Departments(services, clerk)
    for n in range(3):
        office.assignment(
            f"t{n}",
            ids[0],
            AssignmentState.RESPONDED,
            issued=date(2026, 11, 2),
            due=date(2026, 11, 9),
            responded=date(2026, 11, 6),
        )
    office.assignment(
        "w", ids[1], AssignmentState.RECEIVED, issued=date(2026, 11, 2), due=date(2026, 11, 9)
    )
    with services.db.write() as session:
        settings.write(session, admin, RANKING_MIN_VOLUME, 1)
    card = services.scorecards.scorecard(clerk, *NOVEMBER)
    rows = {row.department: row for row in card.rows if row.department.startswith(name)}
    assert sorted(rows) == [f"{name}（尉氏）", f"{name}（通许）"]
    assert (rows[f"{name}（通许）"].received, rows[f"{name}（通许）"].on_time.text()) == (
        3,
        "100.0%（3/3）",
    )
    assert (rows[f"{name}（尉氏）"].received, rows[f"{name}（尉氏）"].late) == (1, 1)
    assert card.ranking == (f"{name}（通许）", f"{name}（尉氏）")
