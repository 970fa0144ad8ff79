"""The demo's case generator: who comes, about what, and each case's whole timeline.

Everything is drawn from one seeded ``random.Random`` and the clock, so the same seed and clock
give the same data (uuids included). Deadlines follow the site's deadline rules
(:func:`desktop_app.services.calendar.rules_in`), the timelines the case flow
(:mod:`desktop_app.domain.case_flow`).
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_app.domain.case_flow import EventKind, visit_outcome
from desktop_app.domain.deadlines import DeadlineRules, assignment_rule
from desktop_app.domain.vocabulary import (
    DEFAULT_AREAS,
    Approach,
    CaseStatus,
    Cause,
    Channel,
    ComplainantKind,
    Nature,
    Outcome,
    ReplyMethod,
    VisitGrade,
)
from desktop_app.errors import UserError
from desktop_app.services.demo import stories as texts
from desktop_app.services.demo.people import INDUSTRIES, People
from desktop_app.services.demo.rows import (
    CASE_LINKED,
    Rows,
    RowWriter,
    new_uuid,
    sqlite_datetime,
)
from desktop_app.services.demo.stories import Template
from desktop_app.services.demo.timing import WORKING_SECONDS, WorkTime, fit, working_seconds_before
from desktop_app.services.demo.weights import Weighted, cumulative, pick, weighted
from desktop_app.services.intake import case_number
from desktop_app.services.sealing import phone_last4
from desktop_app.storage import search
from desktop_app.storage.models import Complainant, NumberSequence, Site

# Share of cases per final status; the rest are visited (已回访).
# (status key, share, how strongly the status prefers recent cases: log-normal sigma)
# A window closes most matters within weeks, so the open ones are the last few weeks' intake
# (a few percent of two years), with a handful of stragglers that show up as overdue.
_STATUS_PLAN: tuple[tuple[str, float, float | None], ...] = (
    ("new", 0.002, 0.2),  # registered, not yet triaged: today's and yesterday's
    ("triaged", 0.004, 0.3),  # registered and triaged
    ("in_progress", 0.025, 0.3),
    ("concluded", 0.01, 0.3),
    ("withdrawn", 0.03, None),
)

_CHUNK = 5000


@dataclass
class Person:
    id: int
    kind: str  # "p" / "e"
    name: str
    phone: str
    industry: str = ""


@dataclass
class Closed:
    """A case that is closed for good: the matter a complainant may come back about."""

    closed_at: datetime
    case_id: int
    number: str
    uuid: str
    title: str
    area: str
    template: Template
    person: Person
    visits: int


@dataclass(frozen=True)
class Staff:
    clerks: tuple[tuple[int, str], ...]  # (user id, display name)
    leaders: tuple[str, ...]


_GOOD = weighted(texts.GOOD_GRADES)
_BAD = weighted(texts.BAD_GRADES)
_REPLIES = weighted(texts.REPLY_METHODS)
_VISITS = weighted(zip((1, 2, 3, 4, 5, 6), (15.0, 30.0, 28.0, 15.0, 8.0, 4.0), strict=True))
_CHANNELS = {kind: weighted(pairs) for kind, pairs in texts.CHANNEL_WEIGHTS.items()}
_CAUSE_ORDER = {cause: i for i, cause in enumerate(Cause)}


class Slots(dict[str, Any]):
    """Template slots, each drawn only when a template uses it."""

    def __init__(
        self,
        generator: Generator,
        template: Template,
        area: str,
        visits: int,
        department: tuple[int, str, str] | None,
    ) -> None:
        super().__init__(generator.words)
        self._generator = generator
        self._template = template
        self._area = area
        self._visits = visits
        self._department = department

    def __missing__(self, key: str) -> Any:
        value = self._generator.slot(
            key, self._template, self._area, self._visits, self._department
        )
        self[key] = value
        return value


class Generator:
    def __init__(
        self,
        session: Session,
        rng: random.Random,
        now: datetime,
        site: Site,
        areas: Sequence[str],
        departments: dict[str, tuple[int, str, str]],  # key → (id, name, window)
        staff: Staff,
        words: dict[str, str],
        towns: Sequence[str],
        rules: DeadlineRules,
    ) -> None:
        self.session = session
        self.r = rng
        self.now = now
        self.site = site
        self.short = site.short_name
        self.areas = list(areas)
        self.departments = departments
        self.department_keys = list(departments)
        self.staff = staff
        self.words = words
        self.towns = towns
        self.rules = rules
        self.work = WorkTime(rng, now.date() - timedelta(days=740), now.date() + timedelta(400))
        self.people = People(rng, site.code, words["P"], towns)
        self.persons: list[Person] = []
        self.enterprises: dict[str, list[Person]] = {}
        self.templates: dict[tuple[str, str], Weighted] = {}
        stories = texts.stories()
        for area in self.areas:
            for kind in ("p", "e"):
                found = [t for t in stories.templates if t.area == area and kind in t.kinds]
                if not found:
                    found = [t for t in stories.generic if kind in t.kinds]
                self.templates[(area, kind)] = weighted((t, t.weight) for t in found)
        self.natures = {id(t): weighted(t.natures) for t in (*stories.templates, *stories.generic)}
        self.area_weights: dict[str, Weighted] = {}
        for kind, weights in texts.KIND_AREA_WEIGHTS.items():
            area_weights = [
                weights.get(area, 0.0) if area in DEFAULT_AREAS else texts.CUSTOM_AREA_WEIGHT
                for area in self.areas
            ]
            if not any(area_weights):
                area_weights = [1.0] * len(self.areas)
            self.area_weights[kind] = weighted(zip(self.areas, area_weights, strict=True))
        self.next_complainant_id = (session.scalar(select(func.max(Complainant.id))) or 0) + 1
        self.sequences: dict[int, int] = {}
        self.by_status: Counter[str] = Counter()
        self.event_count = 0
        self.complainant_count = 0
        self.writer = RowWriter(session)

    def pick(self, choices: Weighted) -> Any:
        return pick(self.r, choices)

    # People ---------------------------------------------------------------------------------

    def new_person(self, rows: Rows) -> Person:
        r = self.r
        people = self.people
        male = r.random() < 0.55
        year = min(2004, max(1950, int(r.triangular(1950, 2005, 1972))))
        born = date(year, r.randint(1, 12), r.randint(1, 28))
        name = people.person_name(male, year)
        person = Person(self.next_complainant_id, "p", name, people.mobile())
        self.next_complainant_id += 1
        rows.complainants.append(
            (
                person.id, new_uuid(r), 1, ComplainantKind.PERSON.value, name,
                people.id_number(male, born), "", "", person.phone, people.address(), "",
            )
        )  # fmt: skip
        self.persons.append(person)
        return person

    def new_enterprise(self, rows: Rows, industry: str) -> Person:
        r = self.r
        people = self.people
        industry = industry or r.choice(list(INDUSTRIES))
        prefix = self.words["P"]
        name, kind = people.enterprise_name(industry)
        contact = people.person_name(r.random() < 0.6, r.randint(1960, 1998))
        enterprise = Person(self.next_complainant_id, "e", name, people.mobile(), industry)
        self.next_complainant_id += 1
        place = r.choice(("产业集聚区", "工业园区", "商贸街", "创业园"))
        rows.complainants.append(
            (
                enterprise.id, new_uuid(r), 1, ComplainantKind.ENTERPRISE.value, name, "",
                people.credit_code(kind), contact, enterprise.phone,
                f"{prefix}{r.choice(self.towns)}{place}{r.randint(1, 99)}号", "",
            )
        )  # fmt: skip
        self.enterprises.setdefault(industry, []).append(enterprise)
        return enterprise

    def complainant(self, rows: Rows, kind: str, industry: str) -> Person:
        r = self.r
        if kind == "p":
            if self.persons and r.random() < 0.05:
                return r.choice(self.persons)
            return self.new_person(rows)
        pool = self.enterprises.get(industry or "", [])
        # A county has a few thousand firms: the more we know, the likelier one comes back.
        if pool and r.random() < 0.12 + 0.5 * len(pool) / (len(pool) + 1500):
            return r.choice(pool)
        return self.new_enterprise(rows, industry)

    # Cases ----------------------------------------------------------------------------------

    def received_times(self, n: int) -> list[datetime]:
        """``n`` intake times on working days of the last two years, denser towards now."""
        r = self.r
        today = self.now.date()
        first = today - timedelta(days=730)
        days = [d for d in self.work.days if first < d <= today]
        today_seconds = working_seconds_before(self.now)
        if days and days[-1] == today and today_seconds <= 0:
            days.pop()
        if not days:
            raise UserError("演示数据所需的工作日不足")
        span = (today - first).days
        weights = [1.0 + 2.0 * (d - first).days / span for d in days]
        if days[-1] == today:
            weights[-1] *= today_seconds / WORKING_SECONDS
        picked = r.choices(days, cum_weights=cumulative(weights), k=n)
        at = self.work.at
        times = [
            at(d, r.randrange(today_seconds if d == today else WORKING_SECONDS)) for d in picked
        ]
        times.sort()
        return times

    def statuses(self, received: Sequence[datetime]) -> list[str]:
        """Each case's final state: recent cases are more often still open."""
        r = self.r
        n = len(received)
        result = ["visited"] * n
        free = list(range(n))
        ages = [(self.now - t).total_seconds() / 3600 + 1.0 for t in received]
        for state, share, sigma in _STATUS_PLAN:
            count = min(len(free), round(n * share))
            if count == 0:
                continue
            if sigma is None:
                chosen = r.sample(free, count)
            else:
                keys = {i: ages[i] * math.exp(r.gauss(0.0, sigma)) for i in free}
                chosen = sorted(free, key=keys.__getitem__)[:count]
            for i in chosen:
                result[i] = state
            taken = set(chosen)
            free = [i for i in free if i not in taken]
        return result

    def forced(self, n: int, values: Sequence[str]) -> dict[int, str]:
        """Positions that take each value once, so every area/channel appears."""
        if n < len(values):
            return {}
        return dict(zip(self.r.sample(range(n), len(values)), values, strict=True))

    def generate(self, n: int, first_case_id: int) -> tuple[int, int]:
        r = self.r
        received = self.received_times(n) if n else []
        states = self.statuses(received)
        forced_area = self.forced(n, self.areas)
        forced_channel = {
            i: Channel(c) for i, c in self.forced(n, [c.value for c in Channel]).items()
        }
        for year in sorted({t.year for t in received}):
            row = self.session.get(NumberSequence, ("case", year))
            self.sequences[year] = row.last_value if row is not None else 0
        closing: list[tuple[datetime, int, Closed]] = []  # heap, by closing time
        closed: list[Closed] = []  # closed before the case being generated, oldest first
        linked_already: set[int] = set()
        rows = Rows()
        for i, at in enumerate(received):
            while closing and closing[0][0] < at:
                closed.append(heapq.heappop(closing)[2])
            earlier: Closed | None = None
            if closed and r.random() < 0.04:
                candidate = closed[-1 - min(len(closed) - 1, int(r.expovariate(1 / 40)))]
                if candidate.case_id not in linked_already:
                    earlier = candidate
            record = self.case(
                rows, first_case_id + i, at, states[i], forced_area.get(i),
                forced_channel.get(i), earlier,
            )  # fmt: skip
            if record is not None:
                heapq.heappush(closing, (record.closed_at, record.case_id, record))
            if earlier is not None and rows.cases[-1][CASE_LINKED] is not None:
                linked_already.add(earlier.case_id)
            if len(rows.cases) >= _CHUNK:
                self.flush(rows)
                rows = Rows()
        self.flush(rows)
        return self.complainant_count, self.event_count

    def case(
        self,
        rows: Rows,
        case_id: int,
        received: datetime,
        state: str,
        area: str | None,
        channel: Channel | None,
        earlier: Closed | None,
    ) -> Closed | None:
        r = self.r
        w = self.work
        # Who, what, where -------------------------------------------------------------------
        if earlier is not None and (
            area is not None or (channel is Channel.ENTERPRISE_VISIT and earlier.person.kind == "p")
        ):
            earlier = None  # this position must show a given area or channel
        if earlier is not None:
            template = earlier.template
            person = earlier.person
            area = earlier.area
            if channel is None:
                channel = r.choice((Channel.WINDOW, Channel.WINDOW, Channel.PHONE))
        else:
            kind = "e" if r.random() < 0.25 or channel is Channel.ENTERPRISE_VISIT else "p"
            if area is None:
                area = self.pick(self.area_weights[kind])
            template = self.pick(self.templates[(area, kind)])
            if channel is None:
                channel = self.pick(_CHANNELS[kind])
            person = self.complainant(rows, kind, template.industry)
        assert area is not None and channel is not None
        dept_key = template.department or ("" if template.area else r.choice(self.department_keys))
        department = self.departments.get(dept_key)
        visits: int = (
            min(99, earlier.visits + 1 + (r.random() < 0.3))
            if earlier is not None
            else self.pick(_VISITS)
        )
        slots = Slots(self, template, area, visits, department)
        if earlier is not None:
            title = earlier.title
            if not title.startswith("再次反映"):
                title = f"再次反映：{title}"
            when = earlier.closed_at
            story = (
                f"此前于{when.year}年{when.month}月{when.day}日反映的“{earlier.title}”"
                f"（{earlier.number}），{r.choice(texts.RETURN_REASONS)}，{slots['trips']}。"
            )
        else:
            title = r.choice(template.titles).format_map(slots)
            story = r.choice(template.stories).format_map(slots)
        description = texts.CHANNEL_LEADS[channel].format(who=person.name) + story
        if template.stuck:
            stuck_at = r.choice(template.stuck).format_map(slots)
        elif department is not None:
            stuck_at = department[2]
        else:
            stuck_at = ""
        blamed = department is not None and r.random() < 0.93
        stuck_department_id = department[0] if department is not None and blamed else None

        # Triage -----------------------------------------------------------------------------
        nature: Nature = self.pick(self.natures[id(template)])
        approach, causes = self.triage_choice(nature, template, channel)
        explained = (nature is Nature.CANT and r.random() < 0.85) or (
            nature is Nature.HARD and r.random() < 0.04
        )
        on_spot = state != "in_progress" and (
            (approach is Approach.IMMEDIATE and r.random() < 0.6)
            or (nature is Nature.CANT and r.random() < 0.35)
        )

        # Timeline ---------------------------------------------------------------------------
        steps = self.timeline(received, state, nature, approach, on_spot)
        times = fit(self.now, [t for _, t in steps])

        # Rows -------------------------------------------------------------------------------
        year = received.year
        seq = self.sequences.get(year, 0) + 1
        self.sequences[year] = seq
        number = case_number(self.short, year, seq)
        case_uuid = new_uuid(r)
        clerk_id, clerk = r.choice(self.staff.clerks)
        raw = self.writer.sqlite
        events = rows.events
        triaged_at: datetime | None = None
        concluded_at: datetime | None = None
        outcome: Outcome | None = None
        grade: VisitGrade | None = None
        due: date | None = None
        status = CaseStatus.REGISTERED
        assist = (
            [self.departments[a][1] for a in template.assist if a in self.departments][:1]
            if template.assist and nature is Nature.HARD and r.random() < 0.4
            else []
        )
        after_reopen = False
        for (step, _), moment in zip(steps, times, strict=True):
            kind_name = step
            data: dict[str, Any] = {}
            data_key: tuple[Any, ...] | None = ()
            user = clerk
            if step == "registered":
                summary = f"受理登记，来源：{channel.label}，往返 {visits} 次"
                if earlier is not None:
                    summary += f"；关联原事项 {earlier.number}"
                    data_key = ("linked",)
                else:
                    data_key = ("registered",)
                data = {"linked_case": earlier.uuid if earlier is not None else None}
            elif step == "triaged":
                triaged_at = moment
                summary = (
                    f"问题性质：{nature.label}；处置方式：{approach.label}；"
                    f"受阻原因：{'、'.join(c.label for c in causes)}；领域：{area}"
                )
            elif step in ("assigned", "reassigned"):
                kind_name = EventKind.ASSIGNED.value
                reopened = step == "reassigned"
                days = self.deadline(nature, approach)
                target = department or self.departments.get("shenpi")
                if target is None:
                    target = next(iter(self.departments.values()))
                due = w.nth_after(moment.date(), days)
                user = self.leader_on(moment.date())
                summary = self.assignment_text(target[1], nature, approach, days, assist, reopened)
                data = {
                    "kind": "督办" if reopened else "交办",
                    "department": target[1],
                    "department_id": target[0],
                    "assist": assist,
                    "working_days": days,
                    "due_date": due.isoformat(),
                    "signed_by": user,
                }
                data_key = ("assigned",)
                status = CaseStatus.IN_PROGRESS
            elif step == "note":
                user = self.leader_on(moment.date())
                summary = r.choice(texts.NOTE_TEXTS).format(
                    leader=user,
                    stuck=stuck_at or (department[1] if department else "相关部门"),
                    dept=department[1] if department else "相关部门",
                    assist=f"、{assist[0]}" if assist else "",
                )
            elif step == "repeat_visit":
                visits = min(99, visits + 1)
                summary = f"{person.name}再次来访（第 {visits} 次）：{title}"
                data = {"title": title, "description": "询问办理进度，反映至今仍未办结"}
                data_key = None
            elif step == "concluded":
                outcome = Outcome.EXPLAINED if explained else Outcome.DONE
                if after_reopen and r.random() < 0.9:
                    outcome = Outcome.DONE
                concluded_at = moment
                method: ReplyMethod = self.pick(_REPLIES)
                summary = (
                    f"办结（{outcome.label}）：{self.done_text(template, nature, outcome, slots)}；"
                    f"{method.label}：{self.reply_text(outcome)}"
                )
                data = {"outcome": outcome.value, "reply_method": method.value}
                data_key = ("concluded", outcome, method)
                status = CaseStatus.CONCLUDED
            elif step in ("visited", "visited_bad"):
                kind_name = EventKind.VISITED.value
                grade = self.pick(_BAD if step == "visited_bad" else _GOOD)
                assert grade is not None
                note = r.choice(texts.BAD_VISIT_NOTES if grade.reopens else texts.GOOD_VISIT_NOTES)
                summary = f"回访评价：{grade.label}" + (f"；{note}" if note else "")
                data = {"grade": grade.value}
                data_key = ("visited", grade)
                status = CaseStatus.VISITED
            elif step == "reopened":
                # The case flow reopens a case graded 不满意 or worse (visit_outcome).
                assert grade is not None and visit_outcome(grade) is EventKind.REOPENED
                summary = f"回访{grade.label}，事项重办；原办理结果保留在记录中"
                outcome = None
                concluded_at = None
                after_reopen = True
                status = CaseStatus.IN_PROGRESS
            else:  # withdrawn
                summary = f"当事人撤回：{r.choice(texts.WITHDRAW_REASONS)}"
                outcome = Outcome.WITHDRAWN
                concluded_at = moment
                status = CaseStatus.WITHDRAWN
            if raw:
                events.append(
                    (
                        new_uuid(r), 1, case_id, sqlite_datetime(moment), kind_name, summary,
                        self.writer.event_json(data, data_key), user,
                    )
                )  # fmt: skip
            else:
                events.append((new_uuid(r), 1, case_id, moment, kind_name, summary, data, user))
        self.event_count += len(steps)
        self.by_status[status.value] += 1
        rows.cases.append(
            (
                case_id, case_uuid, len(steps), self.site.code, year, seq, number, person.id,
                title, description, area, channel.value, stuck_at, stuck_department_id, visits,
                received, status.value,
                nature.value if triaged_at else None,
                approach.value if triaged_at else None,
                [c.value for c in causes] if triaged_at else [],
                triaged_at,
                outcome.value if outcome else None,
                concluded_at,
                grade.value if grade else None,
                due,
                earlier.case_id if earlier is not None else None,
                clerk_id,
                times[-1],
            )
        )  # fmt: skip
        fields = search.case_fields(
            number, person.name, title, description, stuck_at, phone_last4(person.phone)
        )
        rows.search.append((case_id, search.index_text(fields)))
        if status in (CaseStatus.VISITED, CaseStatus.CONCLUDED, CaseStatus.WITHDRAWN):
            assert concluded_at is not None
            return Closed(
                concluded_at, case_id, number, case_uuid, title, area, template, person, visits
            )
        return None

    def timeline(
        self, received: datetime, state: str, nature: Nature, approach: Approach, on_spot: bool
    ) -> list[tuple[str, datetime]]:
        """The steps of a case that ends in ``state`` (before they are fitted to the clock).

        The step names are the case flow's event kinds, except ``reassigned`` (the 督办 of a
        reopened case) and ``visited_bad`` (the visit that reopens it).
        """
        r = self.r
        w = self.work
        steps: list[tuple[str, datetime]] = [("registered", received)]

        def add(kind_: str, moment: datetime) -> datetime:
            steps.append((kind_, moment))
            return moment

        def work_through(start: datetime, reopened: bool) -> datetime:
            """Assignment (unless settled on the spot) and the conclusion; returns its time."""
            if on_spot and not reopened:
                return add("concluded", w.soon(start, 10, 90, 0.1))
            assigned = add("reassigned" if reopened else "assigned", w.soon(start, 10, 150, 0.3))
            days = self.deadline(nature, approach)
            k = r.randint(days + 1, days + 4) if r.random() < 0.12 else r.randint(0, days)
            if r.random() < 0.25:
                note = w.soon(assigned, 30, 180, 0.5)
                if k >= 1 and note.date() < w.nth_after(assigned.date(), k):
                    add("note", note)
            if k == 0:
                return add("concluded", w.soon(steps[-1][1], 30, 240, 0.4))
            return add("concluded", w.workdays_later(assigned, k))

        if state != "new" and not (state == "withdrawn" and r.random() < 0.3):
            triaged = add("triaged", w.soon(received, 5, 90, 0.25))
            reopen = (
                (state == "in_progress" and r.random() < 0.2)
                or (state == "visited" and r.random() < 0.03)
                or (state == "concluded" and r.random() < 0.03)
            )
            if state == "in_progress" and not reopen:
                assigned = add("assigned", w.soon(triaged, 10, 150, 0.3))
                if r.random() < 0.25:
                    add("note", w.soon(assigned, 30, 180, 0.5))
                if r.random() < 0.08:
                    add("repeat_visit", w.workdays_later(steps[-1][1], r.randint(1, 5)))
            elif state in ("in_progress", "concluded", "visited"):
                done_at = work_through(triaged, False)
                if reopen:
                    bad = add("visited_bad", w.workdays_later(done_at, r.randint(1, 5)))
                    add("reopened", bad)
                    if state != "in_progress" or r.random() < 0.6:
                        done_at = work_through(bad, True)
                        if state == "in_progress":
                            steps.pop()  # the department has not answered yet
                if state == "visited":
                    add("visited", w.workdays_later(done_at, r.randint(1, 5)))
            elif state == "withdrawn" and r.random() < 0.5 and not on_spot:
                add("assigned", w.soon(triaged, 10, 150, 0.3))
        if state == "withdrawn":
            add("withdrawn", w.workdays_later(steps[-1][1], r.randint(1, 6)))
        return steps

    def slot(
        self,
        key: str,
        template: Template,
        area: str,
        visits: int,
        department: tuple[int, str, str] | None,
    ) -> Any:
        r = self.r
        year_now = self.now.year
        if key == "trips":
            if visits == 1:
                return r.choice(("此前已电话咨询未果", "第一次去办就被拒绝"))
            return r.choice(
                (f"先后跑了{visits}趟仍未办成", f"来回跑了{visits}次", f"已往返{visits}次")
            )
        if key == "town":
            return self.towns[0] if template.department == "xiangzhen" else r.choice(self.towns)
        simple: dict[str, Any] = {
            "v": visits,
            "area": area,
            "dept": department[1] if department is not None else "相关部门",
        }
        if key in simple:
            return simple[key]
        if key == "village":
            return self.people.village()
        if key == "relative":
            return r.choice(texts.RELATIVES)
        if key == "elder":
            return r.choice(texts.ELDERS)
        ranges = {
            "n": (8, 60),
            "n2": (2, 5),
            "n3": (2, 5),
            "n4": (12, 40),
            "n5": (18, 26),
            "year": (1992, 2008),
            "year2": (year_now - 6, year_now - 1),
            "year_recent": (year_now - 1, year_now),
            "month": (1, 12),
            "money": (30, 900),
        }
        if key in ranges:
            return r.randint(*ranges[key])
        if key == "project":
            return f"{self.words['P']}{r.choice(texts.PROJECT_KINDS)}"
        if key == "kva":
            return r.choice((250, 400, 630, 800, 1250))
        raise KeyError(key)

    def triage_choice(
        self, nature: Nature, template: Template, channel: Channel
    ) -> tuple[Approach, list[Cause]]:
        r = self.r
        causes: list[Cause]
        if nature is Nature.WONT:
            approach = Approach.ORDER if r.random() < 0.6 else Approach.SUPERVISE
            if template.quick and r.random() < 0.2:
                approach = Approach.IMMEDIATE
            human = [c for c in template.causes if c in (Cause.ATTITUDE, Cause.SHIRKING)]
            causes = [human[0] if human else r.choice((Cause.ATTITUDE, Cause.SHIRKING))]
            if r.random() < 0.3:
                causes.append(Cause.SHIRKING if causes[0] is Cause.ATTITUDE else Cause.ATTITUDE)
            if Cause.MATERIALS in template.causes and r.random() < 0.5:
                causes.append(Cause.MATERIALS)
        elif nature is Nature.HARD:
            approach = Approach.PUSH
            if template.quick and r.random() < 0.45:
                approach = Approach.IMMEDIATE
            typical: list[Cause] = [
                c for c in template.causes if c in (Cause.POLICY, Cause.MATERIALS, Cause.PROCESS)
            ]
            causes = typical or [Cause.PROCESS]
            if len(causes) > 1 and r.random() < 0.4:
                causes = [r.choice(causes)]
            if Cause.SHIRKING in template.causes and r.random() < 0.4:
                causes.append(Cause.SHIRKING)
        else:
            approach = Approach.PUSH if r.random() < 0.6 else Approach.SUPERVISE
            causes = [Cause.POLICY]
            if Cause.MATERIALS in template.causes and r.random() < 0.3:
                causes.append(Cause.MATERIALS)
        if channel is Channel.RATING_APP or r.random() < 0.03:
            causes.append(Cause.DISSATISFIED)
        return approach, sorted(set(causes), key=_CAUSE_ORDER.__getitem__)

    def deadline(self, nature: Nature, approach: Approach) -> int:
        """The working days of a 交办 (or 督办) under the site's deadline rules."""
        return self.rules.working_days(assignment_rule(nature, approach))

    @staticmethod
    def assignment_text(
        department: str,
        nature: Nature,
        approach: Approach,
        days: int,
        assist: Sequence[str],
        reopened: bool,
    ) -> str:
        helpers = f"，{'、'.join(assist)}协办" if assist else ""
        if reopened:
            limit = f"限{days}个工作日办结" if days else "限当日办结"
            return f"重办：向{department}下发督办单，{limit}"
        if approach is Approach.IMMEDIATE:
            return f"交办{department}办理，限当日办结"
        if nature is Nature.CANT:
            return (
                f"交办{department}，限{days}个工作日内提交由主要负责人签字的不能办书面依据{helpers}"
            )
        return f"交办{department}办理，限{days}个工作日{helpers}"

    def done_text(self, template: Template, nature: Nature, outcome: Outcome, slots: Slots) -> str:
        r = self.r
        if outcome is Outcome.EXPLAINED:
            reason = template.explain or "经研判该事项受现行政策限制暂不能办理，部门已出具书面依据"
            return reason.format_map(slots)
        done = r.choice(template.done).format_map(slots)
        if nature is Nature.WONT and r.random() < 0.7:
            done += f"，{r.choice(texts.ACCOUNTABILITY)}"
        return done

    def reply_text(self, outcome: Outcome) -> str:
        return self.r.choice(
            texts.EXPLAINED_REPLIES if outcome is Outcome.EXPLAINED else texts.DONE_REPLIES
        )

    def leader_on(self, day: date) -> str:
        """带班领导 rotate in 14-day cycles, as in Kaifeng."""
        leaders = self.staff.leaders
        return leaders[(day.toordinal() // 14) % len(leaders)]

    def flush(self, rows: Rows) -> None:
        self.complainant_count += len(rows.complainants)
        self.writer.write(rows)
