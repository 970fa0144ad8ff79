"""Demo data: realistic, valid, consistent with the case flow, and fast enough to build big sites.

One module-scoped site with 300 demo cases serves most tests (real SQLite in a temp dir); tests
that change data build their own small site.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from desktop_app.documents.fonts import missing_glyphs, register_fonts
from desktop_app.domain.case_flow import EventKind, derive_status
from desktop_app.domain.deadlines import RuleKey
from desktop_app.domain.intake_rules import IntakeForm
from desktop_app.domain.validation import (
    birth_date_from_id,
    check_credit_code,
    check_id_number,
    check_phone,
)
from desktop_app.domain.vocabulary import (
    DEFAULT_AREAS,
    Approach,
    CaseStatus,
    Cause,
    Channel,
    ComplainantKind,
    Nature,
    Outcome,
    Role,
    SiteLevel,
    VisitGrade,
)
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.app import AppServices
from desktop_app.services.attachments import AttachmentStore
from desktop_app.services.audit_log import ACTION_LABELS, ENTITY_LABELS
from desktop_app.services.auth import AuthService
from desktop_app.services.calendar import CalendarService
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.demo import (
    DEMO_PASSWORD,
    DemoService,
    DemoSummary,
    credit_check_char,
    id_check_char,
    people,
)
from desktop_app.services.demo.stories import TemplateError, parse_stories, stories
from desktop_app.services.intake import IntakeService, case_number, search_fields
from desktop_app.services.ledger import CaseFilter, LedgerService
from desktop_app.services.site import SiteService
from desktop_app.storage import search
from desktop_app.storage.database import Database
from desktop_app.storage.models import (
    AuditEntry,
    Case,
    CaseEvent,
    Complainant,
    Department,
    NumberSequence,
    Site,
    User,
)
from tests.helpers.factories import person_form
from tests.helpers.sealing import throwaway_sealer

NOW = datetime(2026, 11, 25, 9, 0)
CASES = 300
SHORT = "杞县"
ADMIN = Actor(None, "admin", "管理员", Role.ADMIN)  # services check the role, audit the name
SEALER = throwaway_sealer()  # the demo's ID and phone numbers are stored sealed


def make_site(
    root: Path, *, now: datetime = NOW, code: str = "410221", short: str = SHORT
) -> tuple[Database, FixedClock]:
    root.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite:///{root / 'bbcs.db'}")
    db.migrate()
    clock = FixedClock(now)
    SiteService(db, clock).init_site(
        code=code,
        name=f"{short}办不成事监督窗口",
        short_name=short,
        level=SiteLevel.COUNTY,
        admin_password="Admin12345",
        is_demo=True,
    )
    return db, clock


def keyed_demo(root: Path, cases: int) -> AppServices:
    """A county with signing keys (so its demo has assignments and signed slips) and ``cases``
    demo cases; the caller closes it."""
    from desktop_app.services.app import open_services

    services = open_services(root / "demo", clock=FixedClock(NOW))
    services.site.init_site(
        code="410221",
        name="杞县办不成事监督窗口",
        short_name="杞县",
        level=SiteLevel.COUNTY,
        admin_password="Admin12345",
    )
    DemoService(services.db, services.clock, services.keys, sealer=services.sealer).generate(cases)
    return services


@dataclass
class Demo:
    db: Database
    clock: FixedClock
    summary: DemoSummary
    cases: list[Case]
    events: dict[int, list[CaseEvent]]
    complainants: dict[int, Complainant]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    db, clock = make_site(tmp_path_factory.mktemp("demo"))
    summary = DemoService(db, clock, sealer=SEALER).generate(CASES)
    with db.read() as session:
        cases = list(session.scalars(select(Case).order_by(Case.id)))
        events: dict[int, list[CaseEvent]] = defaultdict(list)
        for event in session.scalars(select(CaseEvent).order_by(CaseEvent.id)):
            events[event.case_id].append(event)
        complainants = {c.id: c for c in session.scalars(select(Complainant))}
        session.expunge_all()
    yield Demo(db, clock, summary, cases, dict(events), complainants)
    db.dispose()


# Summary and status mix -------------------------------------------------------------------


def test_summary_reports_what_was_created(demo: Demo) -> None:
    summary = demo.summary
    assert summary.cases == CASES == len(demo.cases)
    assert summary.departments == 15
    roles = Counter(login.role for login in summary.users)
    assert roles == {Role.CLERK: 2, Role.DUTY_LEADER: 3, Role.AUDITOR: 1, Role.DISCIPLINE: 1}
    assert sum(summary.by_status.values()) == CASES
    counted = {status: n for status, n in summary.by_status.items() if n}
    assert counted == dict(Counter(c.status for c in demo.cases))


def test_demo_rows_belong_to_the_first_export(demo: Demo) -> None:
    """Bulk-inserted rows are stamped like those the ORM writes, so an export never has to
    rewrite the whole database first."""
    assert all(case.change_seq == 1 for case in demo.cases)
    assert all(c.change_seq == 1 for c in demo.complainants.values())
    assert all(e.change_seq == 1 for rows in demo.events.values() for e in rows)


def test_status_mix_covers_every_status(demo: Demo) -> None:
    counts = Counter(CaseStatus(c.status) for c in demo.cases)
    # The generated history screens nothing out; the supervision demo does, through the
    # service (test_the_demo_shows_every_part_of_supervision).
    assert set(counts) == set(CaseStatus) - {CaseStatus.SCREENED_OUT}
    share = {status: n / CASES for status, n in counts.items()}
    # Most matters are closed within weeks: only the last weeks' intake is still open.
    assert share[CaseStatus.VISITED] == pytest.approx(0.929, abs=0.03)
    assert share[CaseStatus.CONCLUDED] == pytest.approx(0.01, abs=0.01)
    assert share[CaseStatus.IN_PROGRESS] == pytest.approx(0.025, abs=0.015)
    assert share[CaseStatus.REGISTERED] == pytest.approx(0.006, abs=0.006)
    assert share[CaseStatus.WITHDRAWN] == pytest.approx(0.03, abs=0.02)
    untriaged = [c for c in demo.cases if c.status == "registered" and c.nature is None]
    triaged = [c for c in demo.cases if c.status == "registered" and c.nature is not None]
    assert untriaged and triaged
    # Cases still waiting for triage are mostly recent; old cases are mostly closed.
    recent = sorted(demo.cases, key=lambda c: c.received_at)[-CASES // 5 :]
    assert sum(c in recent for c in untriaged) > len(untriaged) / 2
    old = [c for c in demo.cases if (NOW - c.received_at).days > 180]
    closed = [c for c in old if c.status in ("visited", "withdrawn", "concluded")]
    assert len(closed) > 0.7 * len(old)


def test_some_cases_were_reopened_after_a_dissatisfied_visit(demo: Demo) -> None:
    reopened = [
        c for c in demo.cases if any(e.kind == EventKind.REOPENED for e in demo.events[c.id])
    ]
    assert reopened
    for case in reopened:
        kinds = [e.kind for e in demo.events[case.id]]
        index = kinds.index(EventKind.REOPENED)
        assert kinds[index - 1] == EventKind.VISITED
        assert VisitGrade(demo.events[case.id][index - 1].data["grade"]).reopens
    assert any(c.status == CaseStatus.IN_PROGRESS for c in reopened)


# Timelines --------------------------------------------------------------------------------


def test_every_timeline_derives_to_the_stored_status(demo: Demo) -> None:
    for case in demo.cases:
        kinds = [EventKind(e.kind) for e in demo.events[case.id]]
        assert kinds[0] is EventKind.REGISTERED
        assert derive_status(kinds).value == case.status, case.number


def test_case_fields_agree_with_the_timeline(demo: Demo) -> None:
    names = {login.display_name for login in demo.summary.users}
    for case in demo.cases:
        events = demo.events[case.id]
        kinds = [e.kind for e in events]
        times = [e.at for e in events]
        assert times == sorted(times), case.number
        assert times[0] == case.received_at
        assert times[-1] <= NOW
        assert case.updated_at == times[-1]
        assert {e.user_name for e in events} <= names
        assert Channel(case.channel).label in events[0].summary

        triages = [e for e in events if e.kind == EventKind.TRIAGED]
        if triages:
            assert case.triaged_at == triages[0].at
            assert case.nature and case.approach and case.causes
        else:
            assert case.triaged_at is None and case.nature is None and case.causes == []

        status = CaseStatus(case.status)
        conclusions = [e for e in events if e.kind == EventKind.CONCLUDED]
        if status in (CaseStatus.CONCLUDED, CaseStatus.VISITED):
            assert case.concluded_at == conclusions[-1].at
            assert case.outcome == conclusions[-1].data["outcome"]
            assert case.outcome in (Outcome.DONE, Outcome.EXPLAINED)
        elif status is CaseStatus.WITHDRAWN:
            assert case.outcome == Outcome.WITHDRAWN
            assert case.concluded_at == events[-1].at
        else:
            assert case.outcome is None and case.concluded_at is None

        visits = [e for e in events if e.kind == EventKind.VISITED]
        if visits:
            assert case.visit_grade == visits[-1].data["grade"]
        else:
            assert case.visit_grade is None
        if status is CaseStatus.VISITED:
            assert not VisitGrade(str(case.visit_grade)).reopens

        assignments = [e for e in events if e.kind == EventKind.ASSIGNED]
        if assignments:
            assert case.due_date is not None
            assert case.due_date.isoformat() == assignments[-1].data["due_date"]
            assert case.due_date >= assignments[-1].at.date()
        elif case.nature is not None:
            # Triaged, not yet assigned: the triage rule's deadline, as live triage gives it.
            assert case.triaged_at is not None and case.due_start == case.triaged_at.date()
            assert case.due_rule is not None and case.due_date is not None
        else:
            assert case.due_date is None
        if status is CaseStatus.CONCLUDED:
            assert case.visit_due_date is not None
            assert case.concluded_at is not None
            assert case.visit_due_date > case.concluded_at.date()
        if status is CaseStatus.IN_PROGRESS:
            assert EventKind.ASSIGNED in kinds or EventKind.REOPENED in kinds
        assert case.version == len(events)


def test_deadlines_are_what_the_calendar_gives(demo: Demo) -> None:
    """The demo's bulk deadlines carry what apply_deadline records live: the due date is its
    start plus its working days on this calendar, with the calendar's version and 暂定 flag."""
    calendar = CalendarService(demo.db, FixedClock(NOW)).calendar()
    triaged = [case for case in demo.cases if case.triaged_at is not None]
    assert triaged
    for case in triaged:
        assert case.due_start is not None and case.due_working_days is not None, case.number
        deadline = calendar.add(case.due_start, case.due_working_days)
        assert case.due_date == deadline.due, case.number
        assert case.due_calendar_version == deadline.calendar_version, case.number
        assert case.due_provisional == deadline.provisional, case.number
        assert case.due_rule is not None, case.number


def test_triage_choices_are_sensible(demo: Demo) -> None:
    triaged = [c for c in demo.cases if c.nature is not None]
    allowed = {
        Nature.WONT: {Approach.ORDER, Approach.SUPERVISE, Approach.IMMEDIATE},
        Nature.HARD: {Approach.PUSH, Approach.IMMEDIATE},
        Nature.CANT: {Approach.PUSH, Approach.SUPERVISE},
    }
    for case in triaged:
        nature = Nature(str(case.nature))
        assert Approach(str(case.approach)) in allowed[nature]
        causes = {Cause(c) for c in case.causes}
        if nature is Nature.WONT:
            assert causes & {Cause.ATTITUDE, Cause.SHIRKING}
        if nature is Nature.CANT:
            assert Cause.POLICY in causes
        if case.channel == Channel.RATING_APP:
            assert Cause.DISSATISFIED in causes
    assert {Nature(str(c.nature)) for c in triaged} == set(Nature)
    assert {Approach(str(c.approach)) for c in triaged} == set(Approach)
    explained = [c for c in demo.cases if c.outcome == Outcome.EXPLAINED]
    assert explained and all(c.nature in (Nature.CANT, Nature.HARD) for c in explained)


def test_received_on_working_days_in_office_hours(demo: Demo) -> None:
    calendar = WorkdayCalendar()
    for case in demo.cases:
        at = case.received_at
        assert calendar.is_working_day(at.date()), case.number
        assert time(8, 30) <= at.time() <= time(17, 30)
        assert (NOW - at).days <= 731
    dates = sorted(c.received_at for c in demo.cases)
    assert (NOW - dates[0]).days > 600  # spread over about two years
    first_year = sum((NOW - d).days > 365 for d in dates)
    assert first_year < CASES / 2  # the recent year is busier


# Numbers ----------------------------------------------------------------------------------


def test_numbers_are_gap_free_per_year_and_sequences_match(demo: Demo) -> None:
    by_year: dict[int, list[Case]] = defaultdict(list)
    for case in demo.cases:
        assert case.year == case.received_at.year
        assert case.number == case_number(SHORT, case.year, case.seq)
        by_year[case.year].append(case)
    assert len({c.number for c in demo.cases}) == CASES
    with demo.db.read() as session:
        sequences = {
            row.year: row.last_value
            for row in session.scalars(select(NumberSequence).where(NumberSequence.kind == "case"))
        }
    assert set(sequences) == set(by_year)
    for year, cases in by_year.items():
        seqs = [c.seq for c in sorted(cases, key=lambda c: (c.received_at, c.id))]
        assert seqs == list(range(1, len(cases) + 1))
        assert sequences[year] == len(cases)


def test_real_intake_continues_the_demo_numbering(tmp_path: Path) -> None:
    db, clock = make_site(tmp_path / "site")
    SiteService(db, clock).add_area(ADMIN, "农业农村")
    DemoService(db, clock, sealer=SEALER).generate(40)
    with db.read() as session:
        last = session.scalar(select(func.max(Case.seq)).where(Case.year == NOW.year))
        areas = set(session.scalars(select(Case.area)))
    assert last is not None
    assert "农业农村" in areas  # a site's own areas get cases too
    clerk = AuthService(db, clock).login("clerk1", DEMO_PASSWORD)
    intake = IntakeService(db, clock, AttachmentStore(tmp_path / "attachments"), SEALER)
    result = intake.register(
        clerk,
        IntakeForm(
            name="王芳",
            phone="13812345678",
            title="办理居住证被要求回原籍开证明",
            description="来回跑了三次仍未办成",
            area="户籍证照",
            channel=Channel.WINDOW,
        ),
    )
    assert result.number == case_number(SHORT, NOW.year, last + 1)
    db.dispose()


# Complainants and reference data ------------------------------------------------------------


def test_identity_numbers_and_phones_are_valid(demo: Demo) -> None:
    today = NOW.date()
    people = [c for c in demo.complainants.values() if c.kind == ComplainantKind.PERSON]
    firms = [c for c in demo.complainants.values() if c.kind == ComplainantKind.ENTERPRISE]
    id_of = {c.id: SEALER.id_number(c) for c in demo.complainants.values()}
    phone_of = {c.id: SEALER.phone(c) for c in demo.complainants.values()}
    for person in people:
        assert check_id_number(id_of[person.id], today) is None, id_of[person.id]
        born = birth_date_from_id(id_of[person.id])
        assert born is not None and 1950 <= born.year <= 2004
        assert person.credit_code == ""
        assert 2 <= len(person.name) <= 4
    for firm in firms:
        assert check_credit_code(firm.credit_code) is None, firm.credit_code
        assert firm.credit_code[2:8] == "410221"
        assert firm.contact_person and id_of[firm.id] == ""
    for complainant in demo.complainants.values():
        assert check_phone(phone_of[complainant.id]) is None, phone_of[complainant.id]
    local = sum(id_of[p.id].startswith("410221") for p in people)
    assert local > 0.7 * len(people)
    assert len({id_of[p.id] for p in people}) == len(people)
    assert len(set(phone_of.values())) == len(demo.complainants)


def test_complainants_look_like_a_county_window(demo: Demo) -> None:
    by_case = [demo.complainants[c.complainant_id] for c in demo.cases]
    persons = sum(c.kind == ComplainantKind.PERSON for c in by_case)
    assert 0.65 <= persons / CASES <= 0.85
    names = [c.name for c in demo.complainants.values() if c.kind == ComplainantKind.PERSON]
    assert any(len(n) == 2 for n in names)
    firms = [c.name for c in demo.complainants.values() if c.kind == ComplainantKind.ENTERPRISE]
    assert all(n.startswith(SHORT) for n in firms)
    assert any(n.endswith("有限公司") for n in firms)


def test_rare_names_are_ones_this_machines_fonts_print() -> None:
    """A 生僻字 no local font draws (𪚥 without 宋体-ExtB, as on Linux) stopped the demo half-made
    at its first paper naming it; the demo draws only printable ones, in the same sequence."""
    rng = random.Random(7)
    names = [people.given_name(rng, rng.random() < 0.5, 1980) for _ in range(30_000)]
    rare = [n for n in names if n[0] in people._RARE_CHARS]
    assert len(rare) >= 60  # the branch ran (0.4 % of the names)
    fonts = register_fonts()
    assert missing_glyphs("".join(rare), fonts.chain(fonts.body)) == []
    assert {n[0] for n in rare} == set(people.printable_rare_chars())


def test_repeat_complainants_are_linked_to_their_earlier_case(demo: Demo) -> None:
    by_id = {c.id: c for c in demo.cases}
    linked = [(c, c.linked_case_id) for c in demo.cases if c.linked_case_id is not None]
    assert linked
    for case, earlier_id in linked:
        earlier = by_id[earlier_id]
        assert earlier.id < case.id
        assert earlier.complainant_id == case.complainant_id
        assert case.visits_count > earlier.visits_count
        # Intake links a new case only to a closed one.
        closed_at = [
            e.at
            for e in demo.events[earlier.id]
            if e.kind in (EventKind.CONCLUDED, EventKind.WITHDRAWN)
        ]
        assert closed_at and closed_at[-1] < case.received_at
        assert earlier.number in demo.events[case.id][0].summary
        assert demo.events[case.id][0].data["linked_case"] == earlier.uuid
    counts = Counter(c.complainant_id for c in demo.cases)
    assert max(counts.values()) >= 2


def test_every_area_and_channel_appears(demo: Demo) -> None:
    assert {c.area for c in demo.cases} == set(DEFAULT_AREAS)
    assert {Channel(c.channel) for c in demo.cases} == set(Channel)
    visits = [c for c in demo.cases if c.channel == Channel.ENTERPRISE_VISIT]
    assert all(demo.complainants[c.complainant_id].kind == "enterprise" for c in visits)


def test_departments_are_the_countys_own(demo: Demo) -> None:
    with demo.db.read() as session:
        departments = list(session.scalars(select(Department)))
        session.expunge_all()
    names = {d.name for d in departments}
    assert len(departments) == 15
    assert {
        "杞县医疗保障局",
        "杞县不动产登记中心",
        "开封市住房公积金管理中心杞县管理部",
        "杞县市场监督管理局",
        "杞县人民医院",
    } <= names
    for department in departments:
        assert department.principal_leader and department.contact_person
        assert check_phone(department.contact_phone) is None
        assert department.contact_phone.startswith("0371-")
    stuck = [c for c in demo.cases if c.stuck_department_id is not None]
    assert len(stuck) > 0.7 * CASES
    assert all(c.stuck_at for c in demo.cases)
    assert any(c.stuck_at == "县医保局服务窗口" for c in demo.cases)


# Search -----------------------------------------------------------------------------------


def test_search_index_matches_the_intake_fields(demo: Demo) -> None:
    with demo.db.read() as session:
        rows = session.execute(text("SELECT rowid, body FROM case_search")).all()
        bodies: dict[int, str] = {row[0]: row[1] for row in rows}
    assert set(bodies) == {c.id for c in demo.cases}
    for case in demo.cases:
        complainant = demo.complainants[case.complainant_id]
        expected = search.index_text(search_fields(case, complainant))
        assert bodies[case.id] == expected, case.number


def test_ledger_finds_a_two_character_name(demo: Demo) -> None:
    names = Counter(
        demo.complainants[c.complainant_id].name
        for c in demo.cases
        if len(demo.complainants[c.complainant_id].name) == 2
    )
    assert names
    name = names.most_common(1)[0][0]

    def squeezed(value: str) -> str:
        return "".join(search._characters(value))

    expected = {
        c.id
        for c in demo.cases
        if any(
            name in squeezed(field)
            for field in search_fields(c, demo.complainants[c.complainant_id])
        )
    }
    found = LedgerService(demo.db, SEALER).ids(CaseFilter(text=name))
    assert set(found) == expected
    assert len(found) == len(set(found))
    first = demo.cases[0]
    by_number = LedgerService(demo.db, SEALER).ids(CaseFilter(text=first.number))
    assert first.id in by_number  # (a repeat case quoting the number is found too)


# Users, audit, integrity, refusals ----------------------------------------------------------


def test_demo_users_can_log_in(demo: Demo) -> None:
    auth = AuthService(demo.db, demo.clock)
    actor = auth.login("clerk1", DEMO_PASSWORD)
    assert actor.role is Role.CLERK and actor.display_name == "赵晓雯"
    for login in demo.summary.users:
        assert auth.login(login.username, DEMO_PASSWORD).role is login.role
    with pytest.raises(UserError):
        auth.login("leader1", "wrong-password1")
    with demo.db.read() as session:
        site = session.scalar(select(Site).where(Site.is_local.is_(True)))
        assert site is not None and site.is_demo
        users = session.scalar(select(func.count(User.id)))
    assert users == 8  # admin + 7 demo users


def test_one_audit_entry_and_an_intact_chain(demo: Demo) -> None:
    with demo.db.read() as session:
        entries = list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "demo_generate"))
        )
        assert len(entries) == 1
        assert entries[0].entity == "site" and entries[0].entity_uuid == "410221"
        assert entries[0].after is not None and entries[0].after["cases"] == CASES
        assert audit.verify_chain(session) == []


def test_database_integrity(demo: Demo) -> None:
    with demo.db.read() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert session.execute(text("PRAGMA foreign_key_check")).all() == []
        # Rows are written as SQLAlchemy writes them: JSON as json.dumps, times as its format.
        for data, at in session.execute(text("SELECT data, at FROM case_events")).all():
            assert data == json.dumps(json.loads(data))
            assert at == datetime.fromisoformat(at).isoformat(" ", "microseconds")
        for (causes,) in session.execute(text("SELECT causes FROM cases")).all():
            assert causes == json.dumps(json.loads(causes))
    with demo.db.write() as session:
        session.execute(text("INSERT INTO case_search(case_search) VALUES ('integrity-check')"))


def test_second_generate_is_refused(demo: Demo) -> None:
    with pytest.raises(UserError, match="已有反映事项"):
        DemoService(demo.db, demo.clock, sealer=SEALER).generate(10)
    with demo.db.read() as session:
        assert session.scalar(select(func.count(Case.id))) == CASES


def test_refuses_without_a_site_or_with_a_bad_count(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bbcs.db'}")
    db.migrate()
    with pytest.raises(UserError, match="站点尚未初始化"):
        DemoService(db, FixedClock(NOW), sealer=SEALER).generate(10)
    with pytest.raises(ValidationFailed):
        DemoService(db, FixedClock(NOW), sealer=SEALER).generate(-1)
    db.dispose()


def test_same_seed_and_clock_give_the_same_data(tmp_path: Path) -> None:
    def snapshot(root: Path, seed: int) -> list[tuple[object, ...]]:
        db, clock = make_site(root)
        DemoService(db, clock, sealer=SEALER).generate(60, seed=seed)
        with db.read() as session:
            rows = session.execute(
                select(
                    Case.uuid,
                    Case.number,
                    Case.title,
                    Case.description,
                    Case.status,
                    Case.received_at,
                    Complainant.name,
                    Complainant.id_lookup,
                ).join(Complainant, Case.complainant_id == Complainant.id)
            ).all()
        db.dispose()
        return [tuple(r) for r in rows]

    first = snapshot(tmp_path / "a", 7)
    assert first == snapshot(tmp_path / "b", 7)
    assert first != snapshot(tmp_path / "c", 8)


def test_check_digit_helpers() -> None:
    # GB 11643 example number and a known GB 32100 code.
    assert id_check_char("11010519491231002") == "X"
    assert credit_check_char("91350100M000100Y4") == "3"
    assert check_credit_code("91350100M000100Y43") is None


@pytest.mark.parametrize(
    ("now", "code", "name", "short", "level"),
    [
        (datetime(2026, 11, 28, 10, 0), "410221", "杞县办不成事监督窗口", "杞县", SiteLevel.COUNTY),
        (datetime(2026, 11, 25, 8, 31), "410221", "杞县办不成事监督窗口", "杞县", SiteLevel.COUNTY),
        (datetime(2026, 1, 2, 7, 0), "410200", "开封市办不成事监督窗口", "开封市", SiteLevel.CITY),
        (
            datetime(2027, 6, 1, 16, 0),
            "530102",
            "五华区办不成事监督窗口",
            "五华区",
            SiteLevel.COUNTY,
        ),
    ],
)
def test_other_sites_and_clocks(
    tmp_path: Path, now: datetime, code: str, name: str, short: str, level: SiteLevel
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bbcs.db'}")
    db.migrate()
    clock = FixedClock(now)
    SiteService(db, clock).init_site(
        code=code, name=name, short_name=short, level=level, admin_password="Admin12345"
    )
    summary = DemoService(db, clock, sealer=SEALER).generate(80)
    assert sum(summary.by_status.values()) == 80
    with db.read() as session:
        cases = list(session.scalars(select(Case)))
        kinds: dict[int, list[EventKind]] = defaultdict(list)
        last: dict[int, datetime] = {}
        for event in session.scalars(select(CaseEvent).order_by(CaseEvent.id)):
            kinds[event.case_id].append(EventKind(event.kind))
            last[event.case_id] = event.at
        departments = list(session.scalars(select(Department.name)))
        firms = list(
            session.scalars(select(Complainant.credit_code).where(Complainant.kind == "enterprise"))
        )
        for case in cases:
            assert derive_status(kinds[case.id]).value == case.status
            assert case.received_at < now and last[case.id] <= now
            assert case.number.startswith(f"{short}-{case.received_at.year}-")
        assert all(check_credit_code(c) is None and c[2:8] == code for c in firms)
        assert audit.verify_chain(session) == []
    assert all(d.startswith(short) for d in departments if "公积金" not in d)
    db.dispose()


def test_demo_with_keys_has_assignments_in_every_state_with_signed_slips(tmp_path) -> None:
    from collections import Counter as Count

    from desktop_app.storage.models import Assignment, Slip

    services = keyed_demo(tmp_path, 1500)
    with services.db.read() as session:
        states = Count(session.scalars(select(Assignment.state)))
        slips = session.scalars(select(Slip)).all()
        numbers = [s.number for s in slips]
        checks = [services.assignments.verify(s.qr_payload) for s in slips[:20]]
    for state in ("draft", "issued", "received", "responded", "returned", "voided"):
        assert states[state] > 0, state
    assert len(numbers) == len(set(numbers))
    assert all(c.valid for c in checks), checks[0].message
    # Its papers read as the office's own: the phone in full (the default for every paper; a
    # walk found the demo's 督办单 masked beside a real 交办单 in full), no "0个工作日".
    papers = [services.assignments.slip_content(n)[1] for n in numbers]
    assert not any("****" in p.complainant_contact for p in papers)
    same_day = [p for p in papers if p.working_days == 0]
    assert same_day and not any("0个工作日" in p.requirements for p in same_day)
    # Issued, signed for, answered, in that order, and before the case was concluded (each
    # answer was stamped with the issue's time: 反馈 before 签收, 0 working days spent).
    with services.db.read() as session:
        answered = session.execute(
            select(
                Assignment.issued_at,
                Assignment.received_on,
                Assignment.responded_at,
                Case.concluded_at,
                Case.number,
            )
            .join(Case, Case.id == Assignment.case_id)
            .where(Assignment.responded_at.is_not(None))
        ).all()
    assert len(answered) > 500
    for issued, received, responded, concluded, number in answered:
        assert issued < responded <= (concluded or NOW), number
        assert received is None or received <= responded.date(), number
    assert sum(row[2].date() > row[0].date() for row in answered) > (0.8 * len(answered))
    # An approved extension moved the open case's deadline with its round's (the ledger showed
    # the old date, red, for a round extended to a later one).
    with services.db.read() as session:
        extended = session.execute(
            select(Assignment.due_date, Case.due_date, Case.number)
            .join(Case, Case.id == Assignment.case_id)
            .where(
                Assignment.extension_state == "approved",
                Assignment.state == "received",
                Assignment.kind != "assist",
            )
        ).all()
    assert extended
    assert [row for row in extended if row[0] != row[1]] == []
    assert services.maintenance.check().ok
    services.close()


# The stories are data (templates.toml) -----------------------------------------------------


def test_every_shipped_template_loads_and_serves_its_area() -> None:
    loaded = stories()
    assert len(loaded.templates) >= 50
    names = [t.name for t in (*loaded.templates, *loaded.generic)]
    assert len(names) == len(set(names))
    for area in DEFAULT_AREAS:
        mine = [t for t in loaded.templates if t.area == area]
        assert mine, area
        assert any("p" in t.kinds for t in mine) or any("p" in t.kinds for t in loaded.generic)
    for template in (*loaded.templates, *loaded.generic):
        assert template.titles and template.stories and template.done, template.name
        assert template.natures and all(w > 0 for _, w in template.natures), template.name
        assert "\\" not in "".join((*template.stories, *template.done)), template.name
    # Long stories are broken over lines in the file; the text itself has no line breaks.
    assert all("\n" not in story for t in loaded.templates for story in t.stories)
    assert any(len(story) > 60 for t in loaded.templates for story in t.stories)


_GOOD_TEMPLATE = """
[[template]]
name = "测试模板"
area = "医保社保"
kinds = "p"
department = "yibao"
natures = { hard = 2, wont = 1 }
causes = ["process"]
titles = ["{relative}医保报销受阻"]
stories = ["在{hospital}住院，{trips}。"]
done = ["督促{L}医保局办结"]

[[generic]]
name = "通用个人"
kinds = "p"
natures = { wont = 1 }
causes = []
titles = ["{area}事项办理受阻"]
stories = ["{trips}。"]
done = ["已办结"]

[[generic]]
name = "通用企业"
kinds = "e"
natures = { hard = 1 }
causes = []
titles = ["{area}审批事项久拖未办"]
stories = ["{trips}。"]
done = ["已办结"]
"""


def test_a_good_template_file_parses() -> None:
    parsed = parse_stories(_GOOD_TEMPLATE)
    (template,) = parsed.templates
    assert template.natures == ((Nature.HARD, 2.0), (Nature.WONT, 1.0))
    assert template.causes == (Cause.PROCESS,)
    assert [t.name for t in parsed.generic] == ["通用个人", "通用企业"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("natures = { hard = 2, wont = 1 }", "natures = { hard = 2, never = 1 }"), "never"),
        (('causes = ["process"]', 'causes = ["bribery"]'), "bribery"),
        (('area = "医保社保"', 'area = "天文观测"'), "天文观测"),
        (('department = "yibao"', 'department = "nasa"'), "nasa"),
        (('kinds = "p"\ndepartment', 'kinds = "x"\ndepartment'), "kinds"),
        (("在{hospital}住院", "在{hospitl}住院"), "hospitl"),
        (("natures = { hard = 2, wont = 1 }", 'natures = "hard:2 wont:1"'), "natures"),
        (('department = "yibao"', 'department = "yibao"\nassist = ["nasa"]'), "nasa"),
        (('titles = ["{relative}医保报销受阻"]', "titles = []"), "titles"),
        (
            ('done = ["督促{L}医保局办结"]', 'done = ["督促{L}医保局办结"]\nweather = "晴"'),
            "weather",
        ),
    ],
)
def test_a_template_with_an_unknown_code_fails_loudly_with_its_name(
    change: tuple[str, str], problem: str
) -> None:
    old, new = change
    assert old in _GOOD_TEMPLATE
    with pytest.raises(TemplateError) as raised:
        parse_stories(_GOOD_TEMPLATE.replace(old, new, 1))
    assert "测试模板" in str(raised.value) and problem in str(raised.value)


def test_a_template_file_that_is_not_toml_or_repeats_a_name_is_refused() -> None:
    with pytest.raises(TemplateError, match=r"templates\.toml"):
        parse_stories(_GOOD_TEMPLATE + "\n[[template]\n")
    with pytest.raises(TemplateError, match="通用个人"):
        parse_stories(_GOOD_TEMPLATE.replace('name = "通用企业"', 'name = "通用个人"'))


# Deadlines come from the site's rules, not from a table of the demo's own ----------------------


def test_assignments_take_the_sites_deadline_rules(tmp_path: Path) -> None:
    """A site whose administrator changed the periods gets demo assignments under those
    periods; a reopened case's 督办 starts a new period under the case's own rule."""
    db, clock = make_site(tmp_path / "site")
    changed = {RuleKey.WONT: 7, RuleKey.HARD: 12, RuleKey.CANT_BASIS: 4}
    CalendarService(db, clock).save_rules(ADMIN, changed, 2)
    DemoService(db, clock, sealer=SEALER).generate(600)
    expected = {
        (Nature.WONT.value, False): 7,
        (Nature.HARD.value, False): 12,
        (Nature.CANT.value, False): 4,  # the slip asks for the written basis
    }
    seen: Counter[tuple[str, str]] = Counter()
    with db.read() as session:
        cases = {c.id: c for c in session.scalars(select(Case))}
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.kind == EventKind.ASSIGNED.value)
        ).all()
        for event in events:
            case = cases[event.case_id]
            assert case.nature is not None and case.approach is not None
            immediate = case.approach == Approach.IMMEDIATE.value
            days = 0 if immediate else expected[(case.nature, False)]
            assert event.data["working_days"] == days, (case.number, event.data)
            seen[(event.data["kind"], case.nature)] += 1
    assert seen[("督办", Nature.HARD.value)] or seen[("督办", Nature.WONT.value)], seen
    assert all(seen[("交办", n.value)] for n in Nature), seen
    db.dispose()


def test_the_demo_shows_every_part_of_supervision(tmp_path: Path) -> None:
    """``bbcs demo`` (issue 16): cases in every status, referrals in every state and with every
    measure, classes with and without their fix, a warning that fires, a meeting whose
    follow-up became a signed slip — and the data still checks out."""
    from collections import Counter as Count

    from desktop_app.domain.vocabulary import CaseStatus, Measure, ReferralState
    from desktop_app.services.app import open_services
    from desktop_app.services.demo.supervision import add_supervision_demo
    from desktop_app.storage.models import (
        Assignment,
        Case,
        EarlyWarning,
        IssueClass,
        MeetingItem,
        Referral,
    )

    services = open_services(tmp_path / "demo", clock=FixedClock(NOW))
    try:
        services.site.init_site(
            code="410221",
            name="杞县办不成事监督窗口",
            short_name="杞县",
            level=SiteLevel.COUNTY,
            admin_password="Admin12345",
        )
        DemoService(services.db, services.clock, services.keys, sealer=services.sealer).generate(
            300
        )
        made = add_supervision_demo(services)
        with services.db.read() as session:
            statuses = Count(session.scalars(select(Case.status)))
            states = Count(session.scalars(select(Referral.state)))
            measures = set(session.scalars(select(Referral.measure).where(Referral.measure != "")))
            fixes = [c.done_on for c in session.scalars(select(IssueClass))]
            warnings = Count(session.scalars(select(EarlyWarning.state)))
            follow_ups = list(
                session.scalars(
                    select(Assignment.state).join(
                        MeetingItem, MeetingItem.assignment_id == Assignment.id
                    )
                )
            )
        assert made.referrals and made.classes and made.meetings
        assert {s.value for s in CaseStatus} <= set(statuses), statuses
        assert {s.value for s in ReferralState} <= set(states), states
        assert measures == {m.value for m in Measure}
        assert any(fixes) and not all(fixes)  # a class with its fix done, one without
        assert warnings["open"] >= 1  # a warning that fired and waits for a person
        assert "issued" in follow_ups and "draft" in follow_ups  # signed, and awaiting
        assert services.maintenance.check().ok
        # The auditor reads the log by its labels: nothing this work wrote shows as a code (13
        # actions did: screen_out, print_slip, propose_referral …).
        with services.db.read() as session:
            actions = set(session.scalars(select(AuditEntry.action).distinct()))
            entities = set(session.scalars(select(AuditEntry.entity).distinct()))
        assert len(actions) > 20
        assert sorted(a for a in actions if a not in ACTION_LABELS) == []
        assert sorted(e for e in entities if e not in ENTITY_LABELS) == []
    finally:
        services.close()


def test_two_counties_made_with_the_same_seed_share_no_uuid(tmp_path: Path) -> None:
    """Two counties' demos (the same default seed) go to one city: a record's UUID is its
    identity there, and the second county's bundle was refused as pointing at the first's."""
    uuids = []
    for code, short in (("410221", "杞县"), ("410222", "通许")):
        db, clock = make_site(tmp_path / code, code=code, short=short)
        DemoService(db, clock, sealer=SEALER).generate(40)
        with db.read() as session:
            uuids.append(
                {
                    (table, the_uuid)
                    for table in ("departments", "complainants", "cases", "case_events")
                    for the_uuid in session.scalars(text(f"SELECT uuid FROM {table}"))
                }
            )
        db.dispose()
    assert len(uuids[0]) > 100 and len(uuids[1]) > 100
    assert uuids[0].isdisjoint(uuids[1])


def test_every_tables_uuids_are_version_7_in_the_order_of_its_rows(tmp_path: Path) -> None:
    """Records' UUIDs are of version 7 (their time first), a site's and the demo's alike: each
    table's rows then come in UUID order, and a county's upload goes into the city's UUID
    indexes near their end (a random version 4 put each row anywhere: 1.9 s for 515,000 case
    events against 1.2 s)."""
    services = keyed_demo(tmp_path, 60)
    tables = ("complainants", "cases", "case_events", "assignments", "slips", "departments")
    with services.db.read() as session:
        for table in tables:
            uuids = list(session.scalars(text(f"SELECT uuid FROM {table} ORDER BY id")))
            assert len(uuids) > 3, table
            assert {u[14] for u in uuids} == {"7"}, table  # the version digit
            assert uuids == sorted(uuids), table
        demo_last = session.scalar(text("SELECT max(uuid) FROM cases"))
    actor = Actor(None, "clerk1", "受理员", Role.CLERK)
    ids = [
        services.intake.register(actor, person_form(name=name)).case_id for name in ("王芳", "李娜")
    ]
    with services.db.read() as session:
        mine = [session.get(Case, i).uuid for i in ids]  # type: ignore[union-attr]
    assert {u[14] for u in mine} == {"7"}
    assert demo_last < mine[0] < mine[1]  # a site's own come after the demo's, in order
    services.close()
