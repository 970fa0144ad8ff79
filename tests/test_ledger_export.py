"""``bbcs cases --limit N`` reads its page alone and counts the query's total up to a cap (issue
18): at a city a common word matches a million cases, whose records and exact count cost minutes
and seconds. The JSON is the same records as before; the count line says "more than" past the
cap, as the ledger page's label does."""

from __future__ import annotations

import pytest

from desktop_app.cli import _count_line
from desktop_app.services.app import AppServices
from desktop_app.services.ledger import CaseFilter
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401


def test_the_count_line_says_more_than_past_the_cap() -> None:
    assert _count_line(20, 100_001, 100_000) == "显示 20 件，共 100,000+ 件"
    assert _count_line(20, 3_002, 100_000) == "显示 20 件，共 3,002 件"
    assert _count_line(3, 3, 100_000) == "共 3 件"
    assert _count_line(150_000, 150_000) == "共 150,000 件"  # every case listed: counted whole


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_limited_export_is_the_first_records_of_the_whole(site_on_engine: AppServices) -> None:
    services = site_on_engine
    clerk = services.auth.login("clerk1", USER_PASSWORD)
    services.intake.register_many(
        clerk, [person_form(name="王芳", title=f"县医保第{n}次") for n in range(5)]
    )
    for case_filter in (CaseFilter(), CaseFilter(text="县医保")):
        whole = services.ledger.export_records(case_filter)
        assert len(whole) == 5
        for limit in (1, 2, 5, 9):
            assert services.ledger.export_records(case_filter, limit) == whole[:limit]
