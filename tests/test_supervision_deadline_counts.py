"""今日到期 and 已超期 are counted as three groups no case meets two of (services/ledger.py
``_disjoint_conditions``, issue 18): on every mix of status and of the handling, basis and visit
deadlines — each missing, fallen or due today — the dashboard's count is the ledger's list, on
both engines."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from desktop_app.domain.vocabulary import CaseStatus, Nature
from desktop_app.services.app import AppServices
from desktop_app.services.ledger import CaseFilter, SortKey, Worklist, conditions, count_many
from desktop_app.storage.models import Case
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

TODAY = date(2026, 11, 25)
STATUSES = (
    CaseStatus.REGISTERED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.CONCLUDED,
    CaseStatus.VISITED,
    CaseStatus.WITHDRAWN,
)
DAYS = (None, TODAY - timedelta(days=3), TODAY, TODAY + timedelta(days=2))


def _every_mix(services: AppServices) -> None:
    """A case for each mix of status and deadlines, received on a few days (ties included)."""
    mixes = list(itertools.product(STATUSES, DAYS, DAYS, DAYS[:3]))
    clerk = services.auth.login("clerk1", USER_PASSWORD)
    registered = services.intake.register_many(clerk, [person_form() for _ in mixes])
    ids = [result.case_id for result in registered]
    with services.db.write() as session:
        for index, (case_id, (status, due, basis, visit)) in enumerate(
            zip(ids, mixes, strict=True)
        ):
            session.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(
                    status=status.value,
                    due_date=due,
                    nature=Nature.CANT.value if basis is not None else None,
                    basis_due_date=basis,
                    visit_due_date=visit,
                    received_at=datetime(2026, 11, 1 + index * 7 % 11, 9, 30),
                )
            )


def test_a_deadline_worklists_count_is_its_list_on_every_mix(
    site_on_engine: AppServices,
) -> None:
    services = site_on_engine
    _every_mix(services)
    for worklist in (Worklist.DUE_TODAY, Worklist.OVERDUE):
        for case_filter in (
            CaseFilter(worklist=worklist, today=TODAY),
            CaseFilter(worklist=worklist, today=TODAY, statuses=(CaseStatus.CONCLUDED,)),
        ):
            listed = services.ledger.ids(case_filter)
            assert listed
            assert count_many(services.db, {"figure": case_filter}) == {"figure": len(listed)}
            assert services.ledger.count(case_filter) == len(listed)


def test_a_deadline_worklists_windows_are_the_ledgers_order_on_every_mix(
    site_on_engine: AppServices,
) -> None:
    """On SQLite the list is read as its three groups side by side (``_by_deadline_groups``):
    each window is the one statement over their OR would give, in the ledger's order (received,
    then id; both ways)."""
    services = site_on_engine
    _every_mix(services)
    for worklist in (Worklist.DUE_TODAY, Worklist.OVERDUE):
        case_filter = CaseFilter(worklist=worklist, today=TODAY)
        for descending in (True, False):
            order = (Case.received_at, Case.id)
            with services.db.read() as session:
                expected = list(
                    session.scalars(
                        select(Case.id)
                        .where(*conditions(case_filter))
                        .order_by(*(c.desc() if descending else c.asc() for c in order))
                    )
                )
            assert len(expected) > 10
            ledger = services.ledger
            assert ledger.ids(case_filter, SortKey.RECEIVED, descending) == expected
            assert ledger.ids(case_filter, SortKey.RECEIVED, descending, 4) == expected[:4]
            window = ledger.ids(case_filter, SortKey.RECEIVED, descending, 5, offset=3)
            assert window == expected[3:8]
