"""The case ledger (事项台账): filtered, sorted id lists and rows fetched a page at a time.

A view holds the ids of the current query (cheap even at 100,000 cases) and asks for the rows it
is about to show; no caller ever loads every case.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from time import monotonic
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Text,
    and_,
    any_,
    column,
    false,
    func,
    literal,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.visitors import replacement_traverse

from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState
from desktop_app.domain.vocabulary import (
    OPEN_STATUSES,
    Approach,
    CaseStatus,
    Channel,
    ComplainantKind,
    LabelledEnum,
    Nature,
    SiteLevel,
)
from desktop_app.services.ownership import made_here
from desktop_app.services.sealing import Sealer, number_lookups
from desktop_app.storage import search
from desktop_app.storage.database import Database
from desktop_app.storage.models import Assignment, Case, Complainant, Department, Site, Slip

# FTS5 on SQLite, a plain table on PostgreSQL (see storage/search.py); same columns on both.
_case_search = table("case_search", column("rowid", Integer), column("body", Text))
# PostgreSQL only: every case's count, kept by triggers (migration 0017); no model, no writer.
_case_totals = table("case_totals", column("cases", Integer))
# The fewest cases a search's walk in the ledger's order reads at a time (``_walk_search``), and
# the most it reads before its first look at how common the term really is (~6 ms).
WALK_BATCH = 100
WALK_PROBE = 2_000
# How much longer than all it has read so far a walk's next statement may read.
WALK_GROWTH = 8
# A case's body read in the ledger's order costs about a third of a match listed from the search
# index (each a random page of both tables, then sorted): at 1.5 million cases 芳 (2 % of them)
# walked 47,566 bodies in 145 ms against 31,840 candidates listed in 260–330 ms.
WALK_COST_RATIO = 3.0
# For a term the statistics list (``GramStatistics.listed``), the index's cost is at least its
# counted matches at this ratio: listed in bulk, at 1.5 million cases 县's 1.43 million took 2.3 s
# and 医保's 194,000 0.84 s (1.6–4.3 µs each), against 3–10 µs a body walked in an order that is
# not the received date's.
WALK_LISTED_RATIO = 1.0
# The most a list's count goes to before it says "more than" (``count(cap=…)``): the ledger
# page's label and ``bbcs cases --limit``'s total.
COUNT_CAP = 100_000
# How long the search index's statistics are kept before they are read again (PostgreSQL).
STATISTICS_SECONDS = 300.0


class SortKey(StrEnum):
    NUMBER = "number"
    RECEIVED = "received_at"
    COMPLAINANT = "complainant"
    TITLE = "title"
    STATUS = "status"
    AREA = "area"
    CHANNEL = "channel"
    DEPARTMENT = "department"
    DUE = "due_date"
    VISITS = "visits_count"


class Worklist(LabelledEnum):
    """A supervision list (issue 16) whose rule needs more than a column: the dashboard counts
    each and the ledger lists it, through the same condition (``worklist_condition``)."""

    MINE = "mine", "我登记的未办结"
    DUE_TODAY = "due_today", "今日到期"
    OVERDUE = "overdue", "已超期"
    BASIS_MISSING = "basis_missing", "书面依据未到"
    AWAITING_REPLY = "awaiting_reply", "待答复"


@dataclass(frozen=True)
class CaseFilter:
    text: str = ""
    statuses: tuple[CaseStatus, ...] = ()
    area: str | None = None
    department_id: int | None = None
    channel: Channel | None = None
    received_from: date | None = None
    received_to: date | None = None
    awaiting_triage: bool = False  # registered and not yet triaged (甄别分类)
    site_code: str | None = None  # at the city: one county's cases (DESIGN.md §6)
    # 待签发: a lead (not 协办) assignment drafted here waits for the duty leader's signature.
    awaiting_signature: bool = False
    # 待重拨: a return visit that did not reach the person waits for another call (issue 16).
    visit_retry_due: bool = False
    # 待回访: concluded here and not yet visited. A case brought in from an old 台账 (its number
    # in the historical series, a negative seq) is owed no call years later.
    awaiting_visit: bool = False
    worklist: Worklist | None = None
    # The day "today" means for the worklists and, with visit_retry_due, the retry day it has
    # reached: set by whoever builds the filter from the injected clock, so a count and its list
    # agree on the day.
    today: date | None = None
    user_id: int | None = None  # whose cases Worklist.MINE lists


@dataclass(frozen=True)
class CaseRow:
    id: int
    number: str
    status: CaseStatus
    complainant_kind: ComplainantKind
    complainant_name: str
    title: str
    area: str
    channel: Channel
    department: str
    received_at: datetime
    due_date: date | None
    nature: Nature | None
    approach: Approach | None
    visits_count: int
    due_provisional: bool = False  # 暂定: the deadline runs through a year not yet known


@dataclass(frozen=True)
class _SearchTerms:
    where: tuple[ColumnElement[bool], ...]  # on the case: a site's number prefix
    wanted: str | None  # what to find in the search bodies; None: the prefix alone
    by_number: Select[Any] | None  # the complainants whose ID or phone the text is


@dataclass(frozen=True)
class DashboardCounts:
    registered_today: int
    open_cases: int
    awaiting_triage: int
    awaiting_visit: int
    this_month: int
    total: int
    awaiting_signature: int = 0  # cases with a draft waiting for the duty leader (待签发)


class LedgerService:
    def __init__(self, db: Database, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer
        self._short_name: str | None = None
        self._statistics: tuple[float, search.GramStatistics] | None = None

    def ids(
        self,
        case_filter: CaseFilter = CaseFilter(),
        sort: SortKey = SortKey.RECEIVED,
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[int]:
        """Ids of the matching cases in display order (``limit`` of them from ``offset``, if
        given). A view asks for a first window, not for every id: at 1.5 million cases listing
        them all costs seconds where the first thousand cost milliseconds."""
        with self._db.read() as session:
            query = self._filtered(session, select(Case.id), case_filter)
            if query is None:
                return []
            if sort is SortKey.RECEIVED and self._db.is_sqlite and not case_filter.text.strip():
                groups = _disjoint_conditions(case_filter)
                if len(groups) > 1:  # 今日到期 or 已超期
                    return _by_deadline_groups(session, groups, descending, limit, offset)
            unfiltered = not conditions(case_filter) and not case_filter.text.strip()
            if sort is SortKey.DEPARTMENT and limit is not None and unfiltered:
                return _by_department(session, query, descending, limit, offset)
            if sort is SortKey.COMPLAINANT:
                # A join, not a subquery per case, so the name's index gives the order.
                query = query.join(Complainant, Complainant.id == Case.complainant_id)
            searched = bool(case_filter.text.strip())
            if searched and not self._db.is_sqlite and limit is not None:
                walked = self._walk_search(session, case_filter, sort, descending, limit, offset)
                if walked is not None:
                    return walked
            query = query.order_by(
                *_order(sort, descending, sqlite=self._db.is_sqlite, walk=not searched)
            )
            if searched and not self._db.is_sqlite and limit is not None:
                # A rare term on PostgreSQL is read whole and cut here, as before windows: given
                # a LIMIT the planner trusts its guess of the matches and, for a rare term, tests
                # every case's body in the order asked (4–5 s for the 600 cases of "1111",
                # against 0.33 s), walking the index or not. Whole, it asks the search index.
                return _fetch_ids(session, query)[offset : offset + limit]
            if limit is not None:
                query = query.limit(limit)
            if offset:
                query = query.offset(offset)
            return _fetch_ids(session, query)

    def count(self, case_filter: CaseFilter = CaseFilter(), cap: int | None = None) -> int:
        """How many cases match; with ``cap``, it may stop at ``cap + 1`` (read as "more than
        cap"): a count that stops there costs what ``cap`` rows cost, not what a million do.
        Every case (no filter) is counted exactly, from ``case_totals`` on PostgreSQL."""
        with self._db.read() as session:
            if not conditions(case_filter) and not case_filter.text.strip():
                return int(session.scalar(_count_all(self._db)) or 0)
            if cap is None:
                query = self._filtered(session, select(func.count()), case_filter)
                return int(session.scalar(query) or 0) if query is not None else 0
            matching = self._filtered(
                session,
                select(Case.id),
                case_filter,
                exact_only=self._common(session, case_filter, need=cap + 1),
            )
            if matching is None:
                return 0
            capped = select(func.count()).select_from(matching.limit(cap + 1).subquery())
            return int(session.scalar(capped) or 0)

    def search_walks(self, case_filter: CaseFilter, need: int) -> bool:
        """Whether ``ids`` finds the first ``need`` of the filter's search matches (newest
        first) by walking the ledger's order (PostgreSQL, a common term; ``_walk_search``)
        rather than from the search index. For the city bench, whose raw-SQL floor sends the
        same kind of statement."""
        with self._db.read() as session:
            walked = self._walk_search(session, case_filter, SortKey.RECEIVED, True, need, 0)
            return walked is not None

    def rows(self, ids: Sequence[int]) -> list[CaseRow]:
        """The rows for ``ids``, in the same order (ids no longer present are left out)."""
        if not ids:
            return []
        with self._db.read() as session:
            result = session.execute(
                select(
                    Case.id,
                    Case.number,
                    Case.status,
                    Complainant.kind,
                    Complainant.name,
                    Case.title,
                    Case.area,
                    Case.channel,
                    Department.name,
                    Case.received_at,
                    Case.due_date,
                    Case.nature,
                    Case.approach,
                    Case.visits_count,
                    Case.due_provisional,
                )
                .join(Complainant, Case.complainant_id == Complainant.id)
                .outerjoin(Department, Case.stuck_department_id == Department.id)
                .where(_id_in(list(ids), sqlite=self._db.is_sqlite))
            ).all()
        by_id = {
            r[0]: CaseRow(
                id=r[0],
                number=r[1],
                status=CaseStatus(r[2]),
                complainant_kind=ComplainantKind(r[3]),
                complainant_name=r[4],
                title=r[5],
                area=r[6],
                channel=Channel(r[7]),
                department=r[8] or "",
                received_at=r[9],
                due_date=r[10],
                nature=Nature(r[11]) if r[11] else None,
                approach=Approach(r[12]) if r[12] else None,
                visits_count=r[13],
                due_provisional=bool(r[14]),
            )
            for r in result
        }
        return [by_id[i] for i in ids if i in by_id]

    def export_records(
        self, case_filter: CaseFilter = CaseFilter(), limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Plain records for ``bbcs cases --json`` (DESIGN.md §8 keys, plus a few more): every
        match, or the first ``limit`` in the ledger's order (``--limit``: a common word's first
        page at a city, not its million records)."""
        ids = self.ids(case_filter, limit=limit)
        records: list[dict[str, Any]] = []
        with self._db.read() as session:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = session.execute(
                    select(Case, Complainant)
                    .join(Complainant, Case.complainant_id == Complainant.id)
                    .where(Case.id.in_(chunk))
                ).all()
                by_id = {case.id: (case, person) for case, person in rows}
                slips: dict[int, list[str]] = {}
                for case_id, number in session.execute(
                    select(Assignment.case_id, Slip.number)
                    .join(Slip, Slip.assignment_id == Assignment.id)
                    .where(Assignment.case_id.in_(chunk), Slip.voided.is_(False))
                    .order_by(Slip.id)
                ):
                    slips.setdefault(case_id, []).append(number)
                for case_id in chunk:
                    case, person = by_id[case_id]
                    records.append(
                        {
                            "number": case.number,
                            "uuid": case.uuid,
                            "status": case.status,
                            "status_label": CaseStatus(case.status).label,
                            "complainant": person.name,
                            "complainant_type": person.kind,
                            "title": case.title,
                            "area": case.area,
                            "channel": case.channel,
                            "nature": case.nature,
                            "approach": case.approach,
                            "visits_count": case.visits_count,
                            "received_at": case.received_at.isoformat(),
                            "due_date": case.due_date.isoformat() if case.due_date else None,
                            # 暂定: the date runs through a year whose schedule is not entered.
                            "due_provisional": bool(case.due_date and case.due_provisional),
                            "slip_numbers": slips.get(case_id, []),
                        }
                    )
        return records

    def dashboard(self, today: date) -> DashboardCounts:
        """Today's figures for the 工作台, from SQL aggregates."""
        start_of_day = datetime.combine(today, time.min)
        start_of_month = datetime.combine(today.replace(day=1), time.min)
        open_codes = [CaseStatus.REGISTERED.value, CaseStatus.IN_PROGRESS.value]
        with self._db.read() as session:

            def count(*conditions: ColumnElement[bool]) -> int:
                return int(session.scalar(select(func.count(Case.id)).where(*conditions)) or 0)

            return DashboardCounts(
                registered_today=count(
                    Case.received_at >= start_of_day,
                    Case.received_at < start_of_day + timedelta(days=1),
                ),
                open_cases=count(Case.status.in_(open_codes)),
                awaiting_triage=count(
                    Case.status == CaseStatus.REGISTERED.value, Case.nature.is_(None)
                ),
                awaiting_visit=count(*_awaiting_visit()),
                this_month=count(Case.received_at >= start_of_month),
                total=count(),
                awaiting_signature=count(Case.id.in_(_awaiting_signature())),
            )

    def case_sites(self) -> list[tuple[str, str]]:
        """(code, name) of the sites whose cases can be here: this one and, at the city, every
        county it registered (their bundles bring their cases). The ledger offers them as a
        filter. Read from the sites table: scanning 100,000 cases would slow the start."""
        with self._db.read() as session:
            local = session.scalar(select(Site).where(Site.is_local.is_(True)))
            if local is None or local.level != SiteLevel.CITY.value:
                return [(local.code, local.name)] if local is not None else []
            counties = session.execute(
                select(Site.code, Site.name)
                .where(
                    Site.is_local.is_(False),
                    Site.level == SiteLevel.COUNTY.value,
                    Site.signing_public_key != "",
                )
                .order_by(Site.code)
            ).all()
            return [(local.code, local.name), *((code, name) for code, name in counties)]

    # Query building -----------------------------------------------------------------------

    def _filtered(
        self,
        session: Session,
        query: Select[Any],
        case_filter: CaseFilter,
        *,
        exact_only: bool = False,
    ) -> Select[Any] | None:
        """Apply the filter; None when the filter cannot match anything. ``exact_only``
        (PostgreSQL): the bodies are checked by ``strpos`` alone, without the search index —
        for a common term, whose index entries would list most cases."""
        terms = self._search_terms(session, case_filter)
        query = query.where(*conditions(case_filter), *terms.where)
        if terms.wanted is None:
            return query
        wanted, by_number = terms.wanted, terms.by_number
        if self._db.is_sqlite:
            expression = search.match_expression(wanted)
            if expression is None:
                return None
            matching = select(_case_search.c.rowid).where(
                _case_search.c.body.op("MATCH")(expression)
            )
        else:
            if exact_only:
                condition = search.postgres_exact(_case_search.c.body, wanted)
            else:
                condition = search.postgres_condition(
                    _case_search.c.body, wanted, self._gram_statistics(session)
                )
            if condition is None:
                return None
            matching = select(_case_search.c.rowid).where(condition)
        found: Select[Any] | CompoundSelect[Any] = matching
        if by_number is not None:
            # One list of ids, not an OR of two IN lists: with the OR, PostgreSQL reads every
            # case (0.6 s at 1.5 million) where each list alone is found through an index.
            by_person = select(Case.id).where(Case.complainant_id.in_(by_number))
            found = matching.union(by_person)
        return query.where(Case.id.in_(found))

    def _search_terms(self, session: Session, case_filter: CaseFilter) -> _SearchTerms:
        """What the filter's search text asks for: WHERE terms on the case (a site's number
        prefix), the text to find in the search bodies (None: the prefix alone), and the
        complainants whose ID or phone it is."""
        text = case_filter.text.strip()
        if not text:
            return _SearchTerms((), None, None)
        wanted = search.strip_site_prefix(text, self._site_short_name(session))
        where: tuple[ColumnElement[bool], ...] = ()
        if wanted == text:
            # Another site's number (a county's case at the city): the search text holds the
            # part after the prefix, and the prefix picks the site's cases.
            prefix, rest = search.split_number_prefix(text)
            if prefix:
                where = (  # or an old 台账 number (原编号) written the same way
                    or_(
                        Case.number.startswith(f"{prefix}-", autoescape=True),
                        # Either letter case on both engines (SQLite's LIKE ignores it).
                        func.lower(Case.original_number).startswith(
                            text.strip().lower(), autoescape=True
                        ),
                    ),
                )
                if not rest.strip("-"):
                    return _SearchTerms(where, None, None)
                wanted = rest
        # An ID or phone number is sealed, so the search text lacks it: found by exact match
        # through its keyed hash (a phone's last four digits are in the search text).
        return _SearchTerms(where, wanted, self._complainants_by_number(text))

    def _common(self, session: Session, case_filter: CaseFilter, need: int = 1_000) -> bool:
        """Whether, on PostgreSQL, the filter's search text is a common term: one whose first
        ``need`` matches in the ledger's order are found sooner by checking each case's body in
        that order than by listing every match from the search index.

        Reading ``need`` matches in order checks about ``need / share`` bodies; the index lists
        ``share × bodies`` candidates, each read and checked too. The share is the planner's
        statistics' (an upper bound), so a term whose grams are common but which is itself
        rare (``1111``) can look common: the walk (``_walk_search``) gives up when its own
        count of matches says so.
        """
        if self._db.is_sqlite or not case_filter.text.strip():
            return False
        terms = self._search_terms(session, case_filter)
        if terms.wanted is None or terms.by_number is not None or terms.where:
            return False
        statistics = self._gram_statistics(session)
        share = statistics.share(terms.wanted)
        return share > 0 and need / share < share * statistics.bodies

    def _walk_search(
        self,
        session: Session,
        case_filter: CaseFilter,
        sort: SortKey,
        descending: bool,
        limit: int,
        offset: int,
    ) -> list[int] | None:
        """A window of a common term's matches (PostgreSQL), found by walking the ledger's
        order and checking each case's body until the window is full; None when the term is
        not common enough for that (then the search index lists every match).

        A term such as 县 is in nearly every case: the index would hand over 1.4 million
        candidates, each read before the first page could show (3 s); walking the received
        date's index and checking bodies stops after ~1,050 (5 ms). A character the statistics
        do not list is rarer than the rarest listed gram (~3 %) but may still be worth walking:
        芳, in 2 % of the cases (``GramStatistics.bound``). Each statement of the walk
        (``_walk_step``) reads a batch of cases and stops at the window's last match; when a
        batch ends short of it (``_walk_batch_size`` says whether the segment ended within
        it), the share of matches so far projects how many more cases the window needs, and
        the walk gives up (None) when reading them would cost more than listing the matches
        from the index: as many as its own share says (WALK_COST_RATIO) or, for a term that
        is one key the statistics list, as many as they count where that is more
        (WALK_LISTED_RATIO). Otherwise the statistics only bound the share from above.
        """
        need = offset + limit
        terms = self._search_terms(session, case_filter)
        if terms.wanted is None or terms.by_number is not None or terms.where:
            return None  # an ID, a phone, another site's case number: the index finds them
        exact = search.postgres_exact(_case_search.c.body, terms.wanted)
        if exact is None:
            return None
        statistics = self._gram_statistics(session)
        bound = statistics.bound(terms.wanted)  # the term's share is at most this
        # How many matches the index would list, where the statistics know: a term that is one
        # common key. The walk's own share speaks for the cases ahead of it in this order only
        # (县 sorted by 事由 descending: none in its first 2,268 cases, in 95 % of all of them,
        # so the index would have listed 1.4 million matches, 2.3 s).
        listed = statistics.listed(terms.wanted)

        def indexed(share: float) -> float:
            """What listing every match from the index costs, in bodies walked: at least what
            ``share`` of them costs, and, for a listed term, what its counted matches cost
            (so the first look and the received date's walk are as before)."""
            counted = WALK_LISTED_RATIO * listed if listed else 0.0
            return max(WALK_COST_RATIO * share, counted) * statistics.bodies

        if bound <= 0 or need / bound >= indexed(bound):
            return None
        base = select(Case.id).where(*conditions(case_filter), *terms.where)
        segments: list[tuple[Select[Any], list[Any]]]
        if sort is SortKey.DEPARTMENT and not conditions(case_filter) and not terms.where:
            order = [Case.id.desc() if descending else Case.id.asc()]
            segments = [
                (base.where(group), order) for group in _department_groups(session, descending)
            ]
        else:
            if sort is SortKey.COMPLAINANT:
                base = base.join(Complainant, Complainant.id == Case.complainant_id)
            segments = [(base, _order(sort, descending, sqlite=False))]
        found: list[int] = []
        checked = 0  # cases read by the segments before this one
        # The first statement reads as many cases as the bound says the window needs, but at
        # most WALK_PROBE (~6 ms): a character the statistics do not list may be rare, and then
        # goes to the index.
        batch = min(max(int(need / bound * 1.2), WALK_BATCH), WALK_PROBE)
        connection = session.connection()
        for segment, order in segments:
            start = 0  # cases of this segment read so far
            while len(found) < need:
                step = _walk_step(segment, order, exact, start, batch, need - len(found))
                found += [row.id for row in connection.execute(step)]
                if len(found) >= need:
                    break
                # The batch was read to its end, or the segment ended within it.
                read = connection.scalar(_walk_batch_size(segment, order, start, batch)) or 0
                start += read
                if read < batch:
                    break
                # The share of matches so far projects how many more cases the window needs.
                seen = checked + start
                share = min(bound, max(len(found), 1) / seen)
                remaining = (need - len(found)) / share
                if seen + remaining > indexed(share):
                    return None
                # At most WALK_GROWTH times what it has read so far: a stretch of this order
                # without a match (an area whose cases never name a 局) is left for the index
                # after a few thousand cases rather than after the 120,000 it projected.
                batch = max(min(int(remaining * 1.2), WALK_GROWTH * seen), WALK_BATCH)
            if len(found) >= need:
                break
            checked += start
        return found[offset:need]

    def _gram_statistics(self, session: Session) -> search.GramStatistics:
        """The search index's statistics, read again after STATISTICS_SECONDS (they change
        when PostgreSQL analyses the table, after many cases came in)."""
        now = monotonic()
        if self._statistics is None or now - self._statistics[0] > STATISTICS_SECONDS:
            self._statistics = (now, search.postgres_gram_statistics(session))
        return self._statistics[1]

    def _complainants_by_number(self, typed: str) -> Select[Any] | None:
        """The complainants whose ID or phone is exactly ``typed``, if it looks like one."""
        lookups = number_lookups(self._sealer, typed)
        if not lookups:
            return None
        return select(Complainant.id).where(
            or_(Complainant.id_lookup.in_(lookups), Complainant.phone_lookup.in_(lookups))
        )

    def _site_short_name(self, session: Session) -> str:
        if self._short_name is None:
            # Not cached until the site exists: a search before setup must not stick to "".
            self._short_name = session.scalar(
                select(Site.short_name).where(Site.is_local.is_(True))
            )
        return self._short_name or ""


def count_many(
    db: Database,
    filters: Mapping[str, CaseFilter],
    extra: Mapping[str, ColumnElement[Any]] | None = None,
) -> dict[str, int]:
    """Each filter's count (and each ``extra`` scalar) from ONE statement over the cases: the
    dashboard's figures without a query per tile. A search needs the sealer and the site's
    prefix, so filters with search text are refused here (``LedgerService.count`` counts them).
    """
    if any(case_filter.text.strip() for case_filter in filters.values()):
        raise ValueError("count_many counts filters without search text")
    # One scalar subquery per filter, not FILTER clauses over one scan: each count then uses
    # its own index, where a single pass would read every case's whole row (~0.6 s at 100,000).
    columns: list[Any] = []
    for key, case_filter in filters.items():
        parts = [
            # count(*), not count(id): then a count can be read from an index alone.
            select(func.count()).select_from(Case).where(*terms).scalar_subquery()
            if terms
            else _count_all(db).scalar_subquery()
            for terms in _disjoint_conditions(case_filter)
        ]
        columns.append(functools.reduce(operator.add, parts).label(key))
    columns += [expression.label(key) for key, expression in (extra or {}).items()]
    with db.read() as session:
        row = session.execute(select(*columns)).one()
    return {key: int(value or 0) for key, value in row._mapping.items()}


def _count_all(db: Database) -> Select[Any]:
    """Every case's count: on PostgreSQL the row triggers keep (counting 1.5 million index
    entries there takes 160–260 ms, over the dashboard's 100 ms), on SQLite ``count(*)``."""
    if db.is_sqlite:
        return select(func.count()).select_from(Case)
    return select(_case_totals.c.cases)


def conditions(case_filter: CaseFilter) -> list[ColumnElement[bool]]:
    """The WHERE terms of every part of the filter but the search text: the ledger lists with
    them and the dashboard counts with them (``LedgerService.count_many``), so they agree."""
    terms: list[ColumnElement[bool]] = []
    if case_filter.statuses:
        terms.append(Case.status.in_([s.value for s in case_filter.statuses]))
    if case_filter.awaiting_triage:
        terms += [Case.status == CaseStatus.REGISTERED.value, Case.nature.is_(None)]
    if case_filter.awaiting_signature:
        terms.append(Case.id.in_(_awaiting_signature()))
    if case_filter.awaiting_visit:
        terms += _awaiting_visit()
    if case_filter.visit_retry_due:
        terms += [Case.status == CaseStatus.CONCLUDED.value, Case.visit_retry_on.is_not(None)]
        if case_filter.today is not None:
            terms.append(Case.visit_retry_on <= case_filter.today)
    if case_filter.worklist is not None:
        terms.append(
            worklist_condition(case_filter.worklist, case_filter.today, case_filter.user_id)
        )
    if case_filter.site_code:
        terms.append(Case.site_code == case_filter.site_code)
    if case_filter.area:
        terms.append(Case.area == case_filter.area)
    if case_filter.department_id is not None:
        terms.append(Case.stuck_department_id == case_filter.department_id)
    if case_filter.channel is not None:
        terms.append(Case.channel == case_filter.channel.value)
    if case_filter.received_from is not None:
        terms.append(Case.received_at >= datetime.combine(case_filter.received_from, time.min))
    if case_filter.received_to is not None:
        terms.append(
            Case.received_at
            < datetime.combine(case_filter.received_to + timedelta(days=1), time.min)
        )
    return terms


_OPEN_CODES = [status.value for status in OPEN_STATUSES]
# An assignment the department has not finished with (not yet signed, signed, received).
_UNFINISHED_ASSIGNMENT = [
    AssignmentState.DRAFT.value,
    AssignmentState.ISSUED.value,
    AssignmentState.RECEIVED.value,
]


def worklist_condition(
    worklist: Worklist, today: date | None, user_id: int | None
) -> ColumnElement[bool]:
    """Which cases are on ``worklist`` as of ``today`` (the definitions, in one place).

    - 我登记的未办结: open (已登记 or 办理中) and registered by ``user_id``.
    - 今日到期 / 已超期: a deadline still to be met falls on / before ``today``: the handling
      deadline while the case is open, the written basis while it is missing (below), the return
      visit while the case waits for it. Computed, never stored (DESIGN.md §4).
    - 书面依据未到: 办不了 with a basis due, neither received nor waived by a leader — concluded and
      visited cases too (the basis stays owed after the conclusion); a withdrawn case owes none.
    - 待答复: in progress with no reply recorded, and either 办不了 (answered the same day, DESIGN
      §4) or the departments have answered (an assignment 已反馈, none still unsigned, issued or
      received; kept on the case as ``departments_answered`` by triggers, migration 0020): the
      window now owes the person the answer. A concluded case is never on it: its conclusion
      records the reply (DESIGN.md §3).
    """
    if worklist is Worklist.MINE:
        if user_id is None:
            return false()
        return and_(Case.status.in_(_OPEN_CODES), Case.created_by_id == user_id)
    if worklist is Worklist.BASIS_MISSING:
        return _basis_missing()
    if worklist is Worklist.AWAITING_REPLY:
        return _awaiting_reply()
    if today is None:
        raise ValueError(f"{worklist.label} needs the day it counts from")
    if worklist is Worklist.DUE_TODAY:
        return _pending_deadline(lambda due: due == today)
    return _pending_deadline(lambda due: due < today)


def _disjoint_conditions(case_filter: CaseFilter) -> list[list[ColumnElement[bool]]]:
    """The filter's WHERE terms as groups that no case meets two of, whose counts add up to the
    filter's: a deadline worklist (今日到期, 已超期) is three such groups, each counted from the
    index beside its deadline (at 1.5 million cases one statement over their OR read each row
    it counted, ~25,000: 已超期 on SQLite took 29 ms, its three groups 4 ms); any other filter
    is one group, ``conditions`` itself."""
    worklist = case_filter.worklist
    if worklist not in (Worklist.DUE_TODAY, Worklist.OVERDUE) or case_filter.today is None:
        return [conditions(case_filter)]
    others = conditions(replace(case_filter, worklist=None))
    today = case_filter.today
    groups = _deadline_groups(
        (lambda due: due == today) if worklist is Worklist.DUE_TODAY else (lambda due: due < today)
    )
    return [[*others, group] for group in groups]


def _not_falling(falls: Callable[[Any], ColumnElement[bool]], due: Any) -> ColumnElement[bool]:
    """Whether ``falls(due)`` is not true: false, or unknown for a case without that date."""
    return or_(due.is_(None), ~falls(due))


def _basis_missing() -> ColumnElement[bool]:
    return and_(
        Case.nature == Nature.CANT.value,
        # "Has a basis deadline", as a range: SQLite then counts through the deadline's index
        # instead of reading all 100,000 cases (it expects IS NOT NULL to match most rows).
        # Bounded both ways, or SQLite still expects a quarter of the cases and walks a sort
        # column's index instead, reading every case for the few hundred (0022's title index:
        # the list sorted by 事由 took 1.1 s at 100,000 cases, by 区域 0.5 s, by date 0.13 s).
        Case.basis_due_date.between(date.min, date.max),
        Case.basis_received_on.is_(None),
        Case.basis_waived_reason == "",
        Case.status.not_in([CaseStatus.WITHDRAWN.value, CaseStatus.SCREENED_OUT.value]),
    )


def _pending_deadline(falls: Callable[[Any], ColumnElement[bool]]) -> ColumnElement[bool]:
    """A case with a deadline still to be met for which ``falls(deadline column)`` holds."""
    return or_(
        and_(Case.status.in_(_OPEN_CODES), falls(Case.due_date)),
        and_(_basis_missing(), falls(Case.basis_due_date)),
        and_(Case.status == CaseStatus.CONCLUDED.value, falls(Case.visit_due_date)),
    )


def _deadline_groups(falls: Callable[[Any], ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """``_pending_deadline`` as three groups no case meets two of: the handling deadline of an
    open case, the visit of a concluded one, and the basis of a case in neither of those."""
    handling = and_(Case.status.in_(_OPEN_CODES), falls(Case.due_date))
    visit = and_(Case.status == CaseStatus.CONCLUDED.value, falls(Case.visit_due_date))
    basis = and_(
        _basis_missing(),
        falls(Case.basis_due_date),
        # Not counted above: open cases and concluded ones whose own deadline fell too.
        or_(
            Case.status.not_in([*_OPEN_CODES, CaseStatus.CONCLUDED.value]),
            and_(Case.status.in_(_OPEN_CODES), _not_falling(falls, Case.due_date)),
            and_(
                Case.status == CaseStatus.CONCLUDED.value,
                _not_falling(falls, Case.visit_due_date),
            ),
        ),
    )
    return [handling, visit, basis]


def _awaiting_reply() -> ColumnElement[bool]:
    # Whether the departments have answered is kept on the case by triggers on its assignments
    # (migration 0020): the list is then a partial index of its own on PostgreSQL
    # (ix_ledger_reply_owed, whose predicate these terms must imply), and nobody looks up a
    # case's assignments to count or list it.
    return and_(
        Case.status == CaseStatus.IN_PROGRESS.value,
        Case.replied_at.is_(None),
        or_(Case.nature == Nature.CANT.value, Case.departments_answered),
    )


def _awaiting_visit() -> list[ColumnElement[bool]]:
    return [Case.status == CaseStatus.CONCLUDED.value, Case.seq > 0]


def _awaiting_signature() -> Select[Any]:
    """Ids of the cases with a draft waiting for the duty leader's signature (待签发): a lead
    assignment (交办 or 督办; 协办 drafts are signed with their lead) drafted at this site (a
    county's drafts seen at the city cannot be signed there), on a case still open (a draft left
    on a withdrawn or concluded case cannot be signed, so it waits for nobody)."""
    return (
        select(Assignment.case_id)
        .join(Case, Case.id == Assignment.case_id)
        .where(
            Assignment.state == AssignmentState.DRAFT.value,
            Assignment.kind != AssignmentKind.ASSIST.value,
            made_here(Assignment),
            Case.status.in_([status.value for status in OPEN_STATUSES]),
        )
    )


def _id_in(ids: list[int], sqlite: bool) -> ColumnElement[bool]:
    """``Case.id`` is one of ``ids``: on PostgreSQL as one array parameter, whose statement is
    the same text for any number of ids (a page's 200 ids as 200 parameters cost ~3 ms more to
    render and parse, each time)."""
    if sqlite:
        return Case.id.in_(ids)
    return Case.id == any_(literal(ids, ARRAY(Integer)))


def _walk_step(
    segment: Select[Any],
    order: Sequence[Any],
    exact: ColumnElement[bool],
    start: int,
    batch: int,
    wanted: int,
) -> Select[Any]:
    """One statement of a search's walk (PostgreSQL): the ids of the cases at places
    ``start + 1`` to ``start + batch`` of ``segment`` in ``order`` whose body is ``exact``'s
    match, at most ``wanted`` of them, in ``order``.

    The batch is a subquery that hands on its sort keys; each body is joined and the matches
    are ordered by those keys again, which the server takes from the subquery's own order (a
    nested loop over it, no sort): it stops at the ``wanted``-th match. 芳 at 1.5 million reads
    ~10,500 cases for its first 200: its statements took 48 ms of the server's time this way
    against 54 with each body read by a subquery per case and the cases numbered (to return
    the batch's last one as a mark), run alternately. Whether the batch ended early is asked
    apart (``_walk_batch_size``), and only when the window is not yet full."""
    keys = [_sort_key(term) for term in order]
    batched = (
        segment.add_columns(*(key.label(f"walk_key_{at}") for at, key in enumerate(keys)))
        .order_by(*order)
        .offset(start)
        .limit(batch)
        .subquery()
    )
    again = [
        _ordered_by(term, key, batched.c[f"walk_key_{at}"])
        for at, (term, key) in enumerate(zip(order, keys, strict=True))
    ]
    return (
        select(batched.c.id)
        .select_from(batched.join(_case_search, _case_search.c.rowid == batched.c.id))
        .where(exact)
        .order_by(*again)
        .limit(wanted)
    )


def _walk_batch_size(segment: Select[Any], order: Sequence[Any], start: int, batch: int) -> Any:
    """How many cases of ``segment`` lie at places ``start + 1`` to ``start + batch`` (fewer
    than ``batch``: the segment ended there)."""
    places = segment.order_by(*order).offset(start).limit(batch).subquery()
    return select(func.count()).select_from(places)


def _ordered_by(term: Any, key: Any, column: Any) -> Any:
    """The ORDER BY ``term`` with its sort ``key`` replaced by ``column``."""

    def swap(element: Any, **_kw: Any) -> Any:
        return column if element is key else None

    return replacement_traverse(term, {}, swap)


def _sort_key(term: Any) -> Any:
    """The expression an ORDER BY term sorts by (its direction and NULLS placement taken off)."""
    while isinstance(term, UnaryExpression) and term.modifier in _ORDER_MODIFIERS:
        term = term.element
    return term


_ORDER_MODIFIERS: Final = (
    operators.desc_op,
    operators.asc_op,
    operators.nulls_first_op,
    operators.nulls_last_op,
)


def _fetch_ids(session: Session, query: Select[Any]) -> list[int]:
    # Straight from the DBAPI cursor: at 100,000 ids SQLAlchemy's per-row processing would
    # cost more than the query itself.
    result = session.connection().execute(query)
    return [row[0] for row in result.cursor.fetchall()]


def _by_deadline_groups(
    session: Session,
    groups: list[list[ColumnElement[bool]]],
    descending: bool,
    limit: int | None,
    offset: int,
) -> list[int]:
    """A window of 今日到期 or 已超期 in the ledger's order (SQLite), from its three disjoint
    groups (``_disjoint_conditions``) read side by side.

    One statement over their OR made SQLite gather the matches' ids from the three deadline
    indexes and then read each match's row for its received date, to sort them: at 1.5 million
    cases 24,000 rows for 已超期's first page (95–120 ms). Each group's index holds the received
    date beside the deadline (migration 0022), so the handling and visit groups are sorted from
    index entries alone; the written basis's group is a few hundred cases.
    """
    matches = union_all(*(select(Case.id, Case.received_at).where(*terms) for terms in groups))
    found = matches.subquery()
    order = (found.c.received_at, found.c.id)
    query = select(found.c.id).order_by(*(k.desc() if descending else k.asc() for k in order))
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return _fetch_ids(session, query)


def _by_department(
    session: Session, query: Select[Any], descending: bool, limit: int, offset: int
) -> list[int]:
    """A window of the whole ledger sorted by 受阻部门, one department at a time.

    One statement would sort every case by its department's name (0.8 s at 1.5 million cases:
    no index holds the name beside the case). The departments are few, so their names are put
    in order here and each one's cases read through ``ix_ledger_department`` in id order, until
    the window is full — the order ``_order`` gives (no department: first ascending, last
    descending; names by code point). Only for the unfiltered ledger: a filter may match few
    cases in each department, and the single statement then sorts just those.
    """
    groups = _department_groups(session, descending)
    found: list[int] = []
    skip = offset
    for group in groups:
        wanted = skip + limit - len(found)
        ids = _fetch_ids(
            session,
            query.where(group)
            .order_by(Case.id.desc() if descending else Case.id.asc())
            .limit(wanted),
        )
        if len(ids) <= skip:
            skip -= len(ids)
            continue
        found += ids[skip:]
        skip = 0
        if len(found) >= limit:
            break
    return found[:limit]


def _department_groups(session: Session, descending: bool) -> list[ColumnElement[bool]]:
    """The cases of each department name in the 受阻部门 order (no department: first ascending,
    last descending; names by code point), each group to be read in id order."""
    by_name: dict[str, list[int]] = {}
    for department_id, name in session.execute(select(Department.id, Department.name)):
        by_name.setdefault(name, []).append(department_id)
    groups: list[ColumnElement[bool]] = [
        Case.stuck_department_id.in_(by_name[name]) for name in sorted(by_name, reverse=descending)
    ]
    without = Case.stuck_department_id.is_(None)
    return [*groups, without] if descending else [without, *groups]


def _order(sort: SortKey, descending: bool, *, sqlite: bool = True, walk: bool = True) -> list[Any]:
    """ORDER BY terms; on PostgreSQL made to sort as SQLite does, whatever the server's locale.

    SQLite compares text by code point and puts NULL first when ascending. PostgreSQL would use
    the database's collation and put NULL last, so a city's ledger would order differently from
    a county's: ``COLLATE "C"`` (code point order in UTF-8) and explicit NULLS FIRST/LAST —
    only where a column may hold NULL, unless ``walk`` is False (a search keeps the clauses so
    that PostgreSQL sorts its matches rather than walk an index, see ``LedgerService.ids``).
    """

    def direction(expression: Any, *, is_text: bool = False, nullable: bool = False) -> Any:
        if not sqlite and is_text:
            expression = expression.collate("C")
        if sqlite or (walk and not nullable):
            # A NOT NULL column sorts the same either way, and without NULLS FIRST/LAST
            # PostgreSQL walks its index backwards for DESC (2.1 s → 25 ms at 1.5 million).
            return expression.desc() if descending else expression.asc()
        return expression.desc().nulls_last() if descending else expression.asc().nulls_first()

    tie_break = direction(Case.id)
    if sort is SortKey.NUMBER:
        return [direction(Case.year), direction(Case.seq), tie_break]
    if sort is SortKey.COMPLAINANT:  # the query joins the complainant (``LedgerService.ids``)
        # By pinyin (domain/name_order.py), through ix_ledger_complainant_name_key (0024).
        return [direction(Complainant.name_key, is_text=True), tie_break]
    if sort is SortKey.DEPARTMENT:
        department = (
            select(Department.name)
            .where(Department.id == Case.stuck_department_id)
            .scalar_subquery()
        )
        return [direction(department, is_text=True, nullable=True), tie_break]
    columns = {
        SortKey.RECEIVED: Case.received_at,
        SortKey.TITLE: Case.title,
        SortKey.STATUS: Case.status,
        SortKey.AREA: Case.area,
        SortKey.CHANNEL: Case.channel,
        SortKey.DUE: Case.due_date,
        SortKey.VISITS: Case.visits_count,
    }
    text_keys = {SortKey.TITLE, SortKey.STATUS, SortKey.AREA, SortKey.CHANNEL}
    return [
        direction(columns[sort], is_text=sort in text_keys, nullable=sort is SortKey.DUE),
        tie_break,
    ]
