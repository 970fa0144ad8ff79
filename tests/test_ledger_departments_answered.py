"""待答复's stored "departments answered" flag (migration 0020) follows every change of a case's
assignments in the same transaction, on both engines, whoever makes it: the services' ORM, one
statement over many rows (a bundle merged in bulk), a state change, a move to another case, a
removal — and an UPDATE that changes neither state nor case (the export's stamp) leaves it.
Triggers keep it, so raw SQL is a fair writer here; the services' own paths are covered by the
supervision figures' tests (tests/test_supervision.py), which reach 待答复 through them."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.services.app import AppServices
from desktop_app.services.ledger import CaseFilter, Worklist
from desktop_app.storage.models import Assignment
from tests.helpers.factories import USER_PASSWORD
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.helpers.supervision_cases import TODAY, Office, open_case

# Every case whose stored flag differs from what its assignments say.
DRIFTED = text(
    """
    SELECT id FROM cases WHERE departments_answered <> (
        EXISTS (SELECT 1 FROM assignments a WHERE a.case_id = cases.id AND a.state = 'responded')
        AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.case_id = cases.id
                        AND a.state IN ('draft', 'issued', 'received')))
    """
)
ANSWERED = text("SELECT id FROM cases WHERE departments_answered ORDER BY id")


def _answered(services: AppServices) -> list[int]:
    with services.db.read() as session:
        assert session.execute(DRIFTED).all() == []
        return [row[0] for row in session.execute(ANSWERED)]


def _run(services: AppServices, statement: str, **parameters: object) -> None:
    with services.db.write() as session:
        session.execute(text(statement), parameters)


def _awaiting_reply(services: AppServices) -> list[int]:
    return services.ledger.ids(CaseFilter(worklist=Worklist.AWAITING_REPLY, today=TODAY))


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_flag_follows_every_change_of_the_assignments(site_on_engine: AppServices) -> None:
    services = site_on_engine
    clerk = services.auth.login("clerk1", USER_PASSWORD)
    office = Office(services, clerk, services.auth.login("leader1", USER_PASSWORD))
    first = office.case("first", **open_case())
    second = office.case("second", **open_case())
    assert _answered(services) == [] and _awaiting_reply(services) == []

    office.assignment("first", AssignmentState.ISSUED)  # the services' ORM
    assert _answered(services) == []
    _run(services, "UPDATE assignments SET state = 'responded' WHERE case_id = :c", c=first)
    assert _answered(services) == [first] and _awaiting_reply(services) == [first]

    office.assignment("first", AssignmentState.DRAFT)  # a new round: not answered any more
    assert _answered(services) == [] and _awaiting_reply(services) == []
    _run(services, "DELETE FROM assignments WHERE case_id = :c AND state = 'draft'", c=first)
    assert _answered(services) == [first]

    # Moved to the other case: both cases settled by the one statement.
    _run(services, "UPDATE assignments SET case_id = :to WHERE case_id = :c", c=first, to=second)
    assert _answered(services) == [second] and _awaiting_reply(services) == [second]

    # Many rows in one statement, as a bundle's bulk merge writes them: both cases at once.
    columns = [c.name for c in Assignment.__table__.c if c.name != "id"]
    copied = {
        "uuid": "substr(a.uuid, 1, 30) || '-' || c.id",
        "case_id": "c.id",
        "state": "CASE WHEN c.id = :first THEN 'responded' ELSE 'received' END",
    }
    values = ", ".join(copied.get(name, f"a.{name}") for name in columns)
    _run(
        services,
        f"INSERT INTO assignments ({', '.join(columns)}) SELECT {values} "
        "FROM assignments AS a CROSS JOIN cases AS c WHERE c.id IN (:first, :second)",
        first=first,
        second=second,
    )
    assert _answered(services) == [first] and _awaiting_reply(services) == [first]

    # The export's bulk stamp changes neither state nor case: nothing to settle, nothing wrong.
    _run(services, "UPDATE assignments SET change_seq = 7")
    assert _answered(services) == [first]
    # A case replied to leaves the list; its flag stays what its departments did.
    _run(services, "UPDATE cases SET replied_at = received_at WHERE id = :c", c=first)
    assert _answered(services) == [first] and _awaiting_reply(services) == []
