"""Period statistics (issue 17) against hand-computed figures: November 2026 at the county,
with overdue open rounds, an extended round, a reopened case's two rounds, a returned
assignment, and a case from October for the comparison."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import update

from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState, ExtensionState
from desktop_app.domain.statistics import Rate
from desktop_app.domain.vocabulary import CaseStatus, Nature, Outcome
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.statistics import Period, PeriodStatistics
from desktop_app.storage.models import Assignment, Case, EarlyWarning, IssueClass, Referral
from tests.helpers.site import as_city_of
from tests.helpers.supervision_cases import Office

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 10, 0)


def d(day: int, month: int = 11) -> date:
    return date(2026, month, day)


def add_round(
    services: AppServices,
    office: Office,
    name: str,
    state: AssignmentState,
    due: date,
    original: date | None = None,
    responded: datetime | None = None,
    **columns: object,
) -> None:
    with services.db.write() as session:
        session.add(
            Assignment(
                case_id=office.ids[name],
                department_id=services.site.departments()[0].id,
                kind=columns.pop("kind", AssignmentKind.ASSIGN.value),
                state=state.value,
                requirements="请核实并办理。",
                due_start=d(2),
                working_days=5,
                due_date=due,
                original_due_date=original or due,
                created_at=at(2),
                created_by="clerk1",
                responded_at=responded,
                **columns,
            )
        )


def build_period(services: AppServices, clerk: Actor, leader: Actor) -> Office:
    """The cases the figures below are computed from by hand."""
    o = Office(services, clerk, leader)
    department = services.site.departments()[0]
    concluded: dict[str, Any] = {"replied_at": at(5), "visit_due_date": d(30)}
    o.case(
        "done_on_time",
        received_at=at(2),
        status=CaseStatus.VISITED.value,
        outcome=Outcome.DONE.value,
        nature=Nature.HARD.value,
        causes=["policy"],
        due_date=d(12),
        concluded_at=at(6),
        visit_grade="satisfied",
        **concluded,
    )
    add_round(services, o, "done_on_time", AssignmentState.RESPONDED, d(10), responded=at(5))
    o.case(
        "done_extended",
        received_at=at(2),
        status=CaseStatus.CONCLUDED.value,
        outcome=Outcome.DONE.value,
        nature=Nature.HARD.value,
        causes=["policy", "materials"],
        due_date=d(13),
        concluded_at=at(16),
        **concluded,
    )
    add_round(
        services,
        o,
        "done_extended",
        AssignmentState.RESPONDED,
        d(13),
        original=d(6),
        responded=at(12),
        extension_state=ExtensionState.APPROVED.value,
        extension_days=5,
    )
    o.case(
        "explained",
        received_at=at(3),
        status=CaseStatus.VISITED.value,
        outcome=Outcome.EXPLAINED.value,
        nature=Nature.CANT.value,
        due_date=d(3),
        concluded_at=at(3),
        visit_grade="dissatisfied",
        **concluded,
    )
    o.case(
        "late_open",
        received_at=at(9),
        status=CaseStatus.IN_PROGRESS.value,
        nature=Nature.WONT.value,
        due_date=d(20),
        stuck_department_id=department.id,
    )
    add_round(services, o, "late_open", AssignmentState.RECEIVED, d(18), urged_at=at(19))
    add_round(
        services,
        o,
        "late_open",
        AssignmentState.ISSUED,
        d(27),
        kind=AssignmentKind.SUPERVISE.value,
    )
    o.case(
        "open_not_due", received_at=at(20), status=CaseStatus.IN_PROGRESS.value, due_date=d(2, 12)
    )
    add_round(services, o, "open_not_due", AssignmentState.ISSUED, d(1, 12))
    o.case("returned", received_at=at(10), status=CaseStatus.IN_PROGRESS.value, due_date=d(2, 12))
    add_round(services, o, "returned", AssignmentState.RETURNED, d(12))
    # Reopened: the first round answered late, the second not yet due.
    o.case("reopened", received_at=at(2), status=CaseStatus.IN_PROGRESS.value, due_date=d(2, 12))
    add_round(services, o, "reopened", AssignmentState.RESPONDED, d(6), responded=at(9))
    add_round(services, o, "reopened", AssignmentState.RECEIVED, d(30))
    o.case("withdrawn", received_at=at(4), status=CaseStatus.WITHDRAWN.value)
    o.case("screened", received_at=at(5), status=CaseStatus.SCREENED_OUT.value)
    o.case("october", received_at=at(15, 10), status=CaseStatus.IN_PROGRESS.value)
    with services.db.write() as session:
        session.add(
            Referral(
                case_id=o.ids["late_open"],
                person_name="王某",
                state="decided",
                proposed_at=at(24),
                proposed_by="clerk1",
                decided_at=at(24),
                measure="criticism",
                updated_at=at(24),
            )
        )
        session.add(
            IssueClass(
                title="医保结算查不到参保信息",
                created_at=at(10),
                created_by="clerk1",
                updated_at=at(20),
                done_on=d(20),
            )
        )
        session.add(
            EarlyWarning(
                month="2026-11",
                area="医保社保",
                count=9,
                baseline=2.0,
                months=6,
                p_value=0.001,
                raised_at=at(25),
            )
        )
    return o


@pytest.fixture
def stats(services: AppServices, clerk: Actor, leader: Actor) -> PeriodStatistics:
    build_period(services, clerk, leader)
    return services.statistics.period_statistics(clerk, NOVEMBER)


def test_totals_count_the_period_cases_by_state(stats: PeriodStatistics) -> None:
    totals = stats.totals
    assert totals.received == 9
    assert (totals.concluded, totals.resolved, totals.explained) == (3, 2, 1)
    assert (totals.visited, totals.withdrawn, totals.screened_out, totals.open) == (2, 1, 1, 4)
    # Only late_open is past a deadline it still owes (the concluded ones are visited by 11-30).
    assert totals.overdue == 1
    assert stats.trend == (("2026-11", 9),)


def test_the_overdue_total_counts_open_cases_only(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    """The bulletin prints "在办N件，其中超期M件": a concluded case whose return visit is late is
    on the workbench's 已超期 list, but not one of the open cases (it counted there, so the
    overdue could exceed the open)."""
    office = build_period(services, clerk, leader)
    with services.db.write() as session:
        session.execute(
            update(Case).where(Case.id == office.ids["done_extended"]).values(visit_due_date=d(1))
        )
    totals = services.statistics.period_statistics(clerk, NOVEMBER).totals
    assert totals.open == 4
    assert totals.overdue == 1  # late_open; done_extended's late visit is not an open case


def test_on_time_counts_overdue_open_rounds_and_each_round_of_a_reopened_case(
    stats: PeriodStatistics,
) -> None:
    # Counted: done_on_time (on time), done_extended (on time after its extension),
    # late_open (open, past 11-18), reopened's first round (answered late). Not yet due:
    # open_not_due, reopened's second round. Returned and 督办 are not rounds.
    assert stats.on_time == Rate(2, 4)
    assert stats.on_time.text() == "50.0%（2/4）"
    # Against the original deadline the extended one is late.
    assert stats.on_time_original == Rate(1, 4)
    assert stats.rounds == 6
    # The window's own deadlines: done_on_time and explained on time, done_extended
    # concluded late, late_open overdue; the rest not yet due.
    assert stats.case_on_time == Rate(2, 4)


def test_working_days_median_and_p90_by_nearest_rank(stats: PeriodStatistics) -> None:
    # 11-02→11-06: 4; 11-02→11-16: 10; 11-03→11-03: 0 (November 2026 has no holidays).
    assert stats.working_days_median == 4
    assert stats.working_days_p90 == 10


def test_handling_visits_and_supervision(stats: PeriodStatistics) -> None:
    handling = stats.handling
    assert handling.extensions_requested == handling.extensions_approved == 1
    assert (handling.returns, handling.urged, handling.supervised) == (1, 1, 1)
    assert stats.visit_rate == Rate(2, 3)
    assert stats.satisfaction.count("满意") == 1
    assert stats.satisfaction.count("不满意") == 1
    assert stats.satisfied_rate == Rate(1, 2)
    supervision = stats.supervision
    assert supervision.referrals == 1
    assert supervision.measures.rows == (("批评教育", 1),)
    assert (supervision.classes_opened, supervision.classes_fixed) == (1, 1)
    assert supervision.warnings_raised == 1


def test_breakdowns(services: AppServices, stats: PeriodStatistics) -> None:
    nature = stats.breakdowns["nature"]
    assert nature.count("很难办") == 2
    assert nature.count("办不了") == nature.count("不给办") == 1
    assert nature.count("未甄别") == 5  # not yet triaged, not a clerk's omission (未填写)
    assert nature.count("未填写") == 0
    causes = stats.breakdowns["cause"]
    # Stored as the first release did (Cause values), read as the codes: 政策 → 政策不明.
    assert causes.rows == (("政策不明", 2), ("材料繁杂", 1))
    department = services.site.departments()[0].name
    assert stats.breakdowns["department"].count(department) == 1
    for key in ("nature", "approach", "area", "channel", "department", "campaign"):
        assert stats.breakdowns[key].total == stats.totals.received, key
    assert "county" not in stats.breakdowns  # a county site has no counties


def test_previous_period_is_october(stats: PeriodStatistics) -> None:
    assert stats.previous is not None
    assert stats.previous.period == Period(date(2026, 10, 1), date(2026, 10, 31))
    assert stats.previous.totals.received == 1
    assert stats.previous.totals.open == 1


def test_a_figure_is_the_ledger_list_for_the_same_filter(
    services: AppServices, stats: PeriodStatistics
) -> None:
    period_filter = services.statistics.period_filter(NOVEMBER)
    assert services.ledger.count(period_filter) == stats.totals.received


def test_one_county_at_a_time(services: AppServices, clerk: Actor, leader: Actor) -> None:
    build_period(services, clerk, leader)
    elsewhere = services.statistics.period_statistics(clerk, NOVEMBER, site_code="410222")
    assert elsewhere.totals.received == 0
    assert elsewhere.on_time == Rate(0, 0)
    assert elsewhere.supervision.referrals == 0
    here = services.statistics.period_statistics(clerk, NOVEMBER, site_code="410221")
    assert here.totals.received == 9


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (NOVEMBER, Period(d(1, 10), d(31, 10))),
        (
            Period(date(2026, 1, 1), date(2026, 12, 31)),
            Period(date(2025, 1, 1), date(2025, 12, 31)),
        ),
        (
            Period(date(2026, 1, 1), date(2026, 3, 31)),
            Period(date(2025, 10, 1), date(2025, 12, 31)),
        ),
        (Period(d(10), d(16)), Period(d(3), d(9))),
    ],
)
def test_previous_period(period: Period, previous: Period) -> None:
    assert period.previous() == previous


def test_months_are_clipped_to_the_period() -> None:
    months = Period(d(20, 10), d(5)).months()
    assert months == [Period(d(20, 10), d(31, 10)), Period(d(1), d(5))]


def test_a_city_counts_by_county(services: AppServices, clerk: Actor, leader: Actor) -> None:
    """At a city the counties' cases are here too: a 按县区 breakdown, and one county alone."""
    from desktop_app.domain.vocabulary import SiteLevel
    from desktop_app.storage.models import Case, Site

    office = build_period(services, clerk, leader)
    with services.db.write() as session:
        local = session.query(Site).filter(Site.is_local.is_(True)).one()
        local.level = SiteLevel.CITY.value
        session.add(
            Site(
                code="410222",
                name="通许县办不成事监督窗口",
                short_name="通许",
                level=SiteLevel.COUNTY.value,
                created_at=at(1),
            )
        )
        session.add(  # registered, but has sent nothing yet: listed with its 0
            Site(
                code="410223",
                name="尉氏县办不成事监督窗口",
                short_name="尉氏",
                level=SiteLevel.COUNTY.value,
                created_at=at(1),
            )
        )
        for name in ("late_open", "returned"):
            case = session.get(Case, office.ids[name])
            assert case is not None
            case.site_code = "410222"
        local_name = local.name
    stats = services.statistics.period_statistics(clerk, NOVEMBER)
    county = stats.breakdowns["county"]
    assert county.rows == (
        (local_name, 7),
        ("通许县办不成事监督窗口", 2),
        ("尉氏县办不成事监督窗口", 0),
    )
    alone = services.statistics.period_statistics(clerk, NOVEMBER, site_code="410222")
    assert alone.totals.received == 2
    assert alone.breakdowns["county"].rows == (("通许县办不成事监督窗口", 2),)  # it alone
    assert alone.supervision.referrals == 1  # late_open's referral follows its case


def test_a_city_bulletin_names_every_county(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    """A city of fifteen counties: its 按县区 table lists all fifteen (the 12th to 15th were
    summed as 其他), while a long breakdown of anything else still ends with 其他."""
    from dataclasses import replace

    from desktop_app.documents.bulletin_pdf import BulletinTable
    from desktop_app.services.bulletins import TOP_ROWS, sections
    from desktop_app.services.statistics import Breakdown

    build_period(services, clerk, leader)
    stats = services.statistics.period_statistics(clerk, NOVEMBER)
    counties = Breakdown("按县区", tuple((f"第{k:02d}县", 100 - k) for k in range(1, 16)))
    areas = Breakdown("按领域", tuple((f"领域{k:02d}", 100 - k) for k in range(1, 16)))
    stats = replace(stats, breakdowns={**stats.breakdowns, "county": counties, "area": areas})
    tables = {
        block.caption.split(" ")[-1]: block
        for section in sections(stats)
        for block in section.blocks
        if isinstance(block, BulletinTable)
    }
    assert [row[0] for row in tables["按县区"].rows] == [label for label, _ in counties.rows]
    assert len(tables["按领域"].rows) == TOP_ROWS and tables["按领域"].rows[-1][0] == "其他"


def test_a_city_tells_apart_two_counties_departments_of_one_name(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    """Each county's 人力资源和社会保障局 came with its cases: 按受阻部门 lists two rows, named
    with their counties, not one row of both counties' cases."""
    office = build_period(services, clerk, leader)
    name = "县人力资源和社会保障局"
    stuck = as_city_of(services, {"410222": "通许", "410223": "尉氏"}, department=name)
    with services.db.write() as session:
        for case_name, department_id in (
            ("late_open", stuck[0]),
            ("returned", stuck[0]),
            ("done_on_time", stuck[1]),
        ):
            case = session.get(Case, office.ids[case_name])
            assert case is not None
            case.stuck_department_id = department_id
    rows = dict(
        services.statistics.period_statistics(clerk, NOVEMBER).breakdowns["department"].rows
    )
    assert (rows[f"{name}（通许）"], rows[f"{name}（尉氏）"]) == (2, 1)
    assert name not in rows
