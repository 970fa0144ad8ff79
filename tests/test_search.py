"""Finding cases in the ledger (台账): substring search, filters, sorting, paging rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from desktop_app.domain.name_order import name_key
from desktop_app.domain.vocabulary import CaseStatus, Channel, Outcome, ReplyMethod, VisitGrade
from desktop_app.errors import ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.ledger import CaseFilter, CaseRow, SortKey
from desktop_app.storage import search
from desktop_app.storage.models import Case
from tests.helpers import pg
from tests.helpers.factories import USER_PASSWORD, enterprise_form, person_form
from tests.helpers.ids import id_number
from tests.helpers.site import county_site
from tests.helpers.speed import fast_password_hashing  # noqa: F401


@dataclass(frozen=True)
class Ledger:
    services: AppServices
    ids: dict[str, int]  # short name → case id
    departments: dict[str, int]

    def find(self, text: str, **filters: Any) -> set[str]:
        found = self.services.ledger.ids(CaseFilter(text=text, **filters))
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[i] for i in found}


def _conclude(services: AppServices, actor: Actor, case_id: int) -> None:
    services.cases.conclude(
        actor,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="已办",
        reply_method=ReplyMethod.PHONE,
        reply_text="已答复",
    )


def build_ledger(services: AppServices, clerk: Actor) -> Ledger:
    """Five cases with different people, words, statuses, channels, dates and departments."""
    departments = {d.name: d.id for d in services.site.departments()}
    medical = departments["杞县医疗保障局"]
    property_centre = departments["杞县不动产登记中心"]
    forms = {
        # 杞县-2026-0001
        "wangfang": person_form(
            received_at=datetime(2026, 11, 20, 9, 0),
            stuck_department_id=medical,
            visits_count=3,
        ),
        # 杞县-2026-0002
        "rare": person_form(
            name="李𠀀䶮",
            id_number=id_number("41022119850315123"),
            phone="13900001111",
            title="不动产登记证办理",
            description="等了三个月😀还没办好，窗口说系统故障。",
            area="不动产登记",
            channel=Channel.PHONE,
            stuck_at="不动产登记中心综合窗口",
            received_at=datetime(2026, 11, 22, 14, 0),
            stuck_department_id=property_centre,
            visits_count=1,
        ),
        # 杞县-2026-0003
        "company": enterprise_form(
            description="ABC Pharmacy AND Drugstore near the station，多次补充材料。",
            received_at=datetime(2026, 11, 24, 10, 30),
            visits_count=5,
        ),
        # 杞县-2026-0004
        "xiaofang": person_form(
            name="王小芳",
            id_number=id_number("41022119900101456"),
            phone="13700002222",
            title="医保卡异地报销被拒",
            description="在郑州就医后回县报销被拒。",
            channel=Channel.PHONE,
            stuck_at="县医保局报销窗口",
            received_at=datetime(2026, 11, 23, 8, 15),
            stuck_department_id=property_centre,
            visits_count=2,
        ),
        # 杞县-2026-0005
        "zhao": person_form(
            name="赵磊",
            id_number=id_number("41022119700202789"),
            phone="0378-7654321",
            title="公积金提取",
            description="住房公积金提取需要的证明开不出来",
            area="住房公积金",
            stuck_at="公积金中心",
            received_at=datetime(2026, 11, 18, 16, 0),
            visits_count=4,
        ),
    }
    ids = {key: services.intake.register(clerk, form).case_id for key, form in forms.items()}
    _conclude(services, clerk, ids["wangfang"])
    _conclude(services, clerk, ids["zhao"])
    services.cases.record_visit(clerk, ids["zhao"], grade=VisitGrade.SATISFIED)
    services.cases.withdraw(clerk, ids["company"], "企业撤回")
    # Due dates come from assignments: set them as an assignment would.
    with services.db.write() as session:
        for key, due in [
            ("rare", date(2026, 12, 3)),
            ("wangfang", date(2026, 12, 1)),
            ("zhao", None),
            ("xiaofang", date(2026, 12, 2)),
        ]:
            session.execute(update(Case).where(Case.id == ids[key]).values(due_date=due))
    return Ledger(services, ids, departments)


@pytest.fixture(scope="module", params=pg.BACKENDS)
def ledger(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Ledger]:
    """Shared by the read-only tests of this module (a test that writes builds its own).

    Built once on SQLite and once on PostgreSQL: every search, filter and sort must agree.
    """
    data_dir = tmp_path_factory.mktemp("台账 搜索")
    clock = FixedClock(datetime(2026, 11, 25, 9, 30))
    with county_site(data_dir, clock, db_url=pg.backend_url(request.param)) as services:
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        yield build_ledger(services, clerk)


# Text search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("王芳", {"wangfang"}),
        ("医保", {"wangfang", "xiaofang"}),
        ("芳", {"wangfang", "xiaofang"}),
        ("王", {"wangfang", "xiaofang"}),
        ("参保信息", {"wangfang"}),
        ("查不到参保信息", {"wangfang"}),
        ("县人民医院", {"wangfang"}),  # in the description and in 受阻环节
        ("公积金", {"zhao"}),
        ("丰源农业", {"company"}),
        ("异地报销", {"xiaofang"}),
    ],
)
def test_chinese_substrings_of_any_length(ledger: Ledger, query: str, expected: set[str]) -> None:
    assert ledger.find(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "芳医",  # last character of the name + first of the title
        "信息在",  # end of the title + start of the description
        "王芳医保",
        "0001王",  # end of the case number + start of the name
        "窗口138",  # end of 受阻环节 + start of the phone
        "芳王",
        "医芳",
    ],
)
def test_a_match_never_spans_two_fields(ledger: Ledger, query: str) -> None:
    assert ledger.find(query) == set()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("2026-0001", {"wangfang"}),
        ("杞县-2026-0001", {"wangfang"}),
        ("杞县-2026-0004", {"xiaofang"}),
        (" 杞县-2026-0002 ", {"rare"}),
        ("2026-0005", {"zhao"}),
        ("２０２６－０００３", {"company"}),  # typed with a full-width IME
    ],
)
def test_case_numbers(ledger: Ledger, query: str, expected: set[str]) -> None:
    assert ledger.find(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("13812345678", {"wangfang"}),
        # Sealed at rest (issue 15 item 11): a number is found whole (its keyed hash) or by its
        # last four digits, no longer by any other part of it.
        ("12345678", set()),
        ("5678", {"wangfang", "company"}),  # 0378-2345678 too
        ("0378-7654321", {"zhao"}),
        ("03787654321", {"zhao"}),
        ("１３９０００", set()),
        ("１３９００００１１１１", {"rare"}),
    ],
)
def test_phone_digits(ledger: Ledger, query: str, expected: set[str]) -> None:
    assert ledger.find(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("𠀀", {"rare"}),  # U+20000, CJK extension B
        ("䶮", {"rare"}),  # U+4DAE, extension A
        ("李𠀀䶮", {"rare"}),
        ("𠀀䶮", {"rare"}),
        ("😀", {"rare"}),
        ("月😀还", {"rare"}),
    ],
)
def test_rare_characters_and_emoji(ledger: Ledger, query: str, expected: set[str]) -> None:
    assert ledger.find(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pharmacy", {"company"}),
        ("PHARMACY", {"company"}),
        ("ＡＢＣ", {"company"}),
        ("abc pharmacy", {"company"}),
        ("AND", {"company"}),
        ("NEAR", {"company"}),
        ("near the", {"company"}),
        ('"near the"', {"company"}),
        ("OR", {"company"}),  # drugstORe
        ("NOT", set()),
    ],
)
def test_ascii_is_case_insensitive_and_fts_words_are_plain_text(
    ledger: Ledger, query: str, expected: set[str]
) -> None:
    assert ledger.find(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '王"芳',
        "王芳 OR 李",
        "NEAR(王 芳)",
        "医保*",
        "*",
        "^王",
        "body:王",
        "-王",
        "(",
        "'",
        "王 AND",
        "“王芳”",
        "{王}",
        "\\",
        "%",
        "_",
    ],
)
def test_query_syntax_in_the_search_box_never_raises(ledger: Ledger, query: str) -> None:
    found = ledger.find(query)
    assert isinstance(found, set)
    assert ledger.services.ledger.count(CaseFilter(text=query)) == len(found)


def test_fts_operators_are_taken_literally(ledger: Ledger) -> None:
    assert ledger.find("医保*") == {"wangfang", "xiaofang"}
    assert ledger.find('王"芳') == {"wangfang"}
    assert ledger.find("王芳 OR 李") == set()
    assert ledger.find("NEAR(王 芳)") == set()


@pytest.mark.parametrize("query", ["!@#$%^&*()", "...", "？！，", "-", "'\"", "*", "（）"])
def test_only_punctuation_finds_nothing(ledger: Ledger, query: str) -> None:
    assert ledger.services.ledger.ids(CaseFilter(text=query)) == []
    assert ledger.services.ledger.count(CaseFilter(text=query)) == 0


@pytest.mark.parametrize("query", ["", "  ", "\t", "\u3000"])
def test_blank_text_is_no_filter(ledger: Ledger, query: str) -> None:
    assert ledger.find(query) == set(ledger.ids)


def test_a_case_is_still_found_after_it_moved_on(site_on_engine: AppServices) -> None:
    services = site_on_engine
    clerk = services.auth.login("clerk1", USER_PASSWORD)
    ledger = build_ledger(services, clerk)
    xiaofang = person_form(
        name="王小芳",
        id_number=id_number("41022119900101456"),
        phone="13700002222",
        title="再次询问异地报销",
        visits_count=1,
        repeat_of_case_id=ledger.ids["xiaofang"],
    )
    assert services.intake.register(clerk, xiaofang).repeat_visit
    _conclude(services, clerk, ledger.ids["xiaofang"])

    assert ledger.find("王小芳") == {"xiaofang"}
    assert ledger.find("异地报销") == {"xiaofang"}
    assert ledger.find("杞县-2026-0004") == {"xiaofang"}


def test_the_name_shown_in_the_ledger_is_the_name_search_finds(
    site_on_engine: AppServices,
) -> None:
    """A complainant's name corrected (更正) shows on every case and is found on all; a later
    visit with the same ID and another name is refused instead of renaming the person."""
    services = site_on_engine
    clerk = services.auth.login("clerk1", USER_PASSWORD)
    ledger = build_ledger(services, clerk)
    same_id = id_number("41022119900101456")
    renamed = person_form(name="王晓芳", id_number=same_id, phone="13700002222", title="医保卡补办")
    with pytest.raises(ValidationFailed) as refused:
        services.intake.register(clerk, renamed)
    assert "王小芳" in refused.value.errors["name"] and "更正" in refused.value.errors["name"]

    old_case = ledger.ids["xiaofang"]
    form = services.corrections.current(old_case)
    corrected = replace(form, complainant=replace(form.complainant, name="王晓芳"), reason="错字")
    services.corrections.correct(clerk, old_case, corrected)
    new_case = services.intake.register(clerk, renamed).case_id

    shown = services.ledger.rows([old_case, new_case])
    assert [r.complainant_name for r in shown] == ["王晓芳", "王晓芳"]
    assert set(services.ledger.ids(CaseFilter(text="王晓芳"))) == {old_case, new_case}
    assert services.ledger.ids(CaseFilter(text="王小芳")) == []


# Filters --------------------------------------------------------------------------------------


def test_filters_combine_with_text(ledger: Ledger) -> None:
    medical = ledger.departments["杞县医疗保障局"]
    property_centre = ledger.departments["杞县不动产登记中心"]
    assert ledger.find("医保") == {"wangfang", "xiaofang"}
    assert ledger.find("医保", statuses=(CaseStatus.CONCLUDED,)) == {"wangfang"}
    assert ledger.find("医保", statuses=(CaseStatus.REGISTERED,)) == {"xiaofang"}
    assert ledger.find("医保", statuses=(CaseStatus.VISITED,)) == set()
    assert ledger.find("医保", channel=Channel.PHONE) == {"xiaofang"}
    assert ledger.find("医保", channel=Channel.WINDOW) == {"wangfang"}
    assert ledger.find("医保", department_id=medical) == {"wangfang"}
    assert ledger.find("医保", department_id=property_centre) == {"xiaofang"}
    assert ledger.find("医保", area="医保社保") == {"wangfang", "xiaofang"}
    assert ledger.find("医保", area="不动产登记") == set()
    assert ledger.find("医保", received_from=date(2026, 11, 21)) == {"xiaofang"}
    assert ledger.find("医保", received_to=date(2026, 11, 20)) == {"wangfang"}
    assert ledger.find(
        "王",
        received_from=date(2026, 11, 20),
        received_to=date(2026, 11, 23),
        statuses=(CaseStatus.REGISTERED, CaseStatus.CONCLUDED),
        channel=Channel.PHONE,
    ) == {"xiaofang"}


def test_filters_without_text(ledger: Ledger) -> None:
    open_statuses = (CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS)
    assert ledger.find("", statuses=open_statuses) == {"rare", "xiaofang"}
    assert ledger.find("", statuses=(CaseStatus.WITHDRAWN,)) == {"company"}
    assert ledger.find("", statuses=(CaseStatus.VISITED,)) == {"zhao"}
    assert ledger.find("", area="住房公积金") == {"zhao"}
    assert ledger.find("", channel=Channel.ONLINE) == {"company"}
    # A date range includes the whole of its last day.
    assert ledger.find("", received_from=date(2026, 11, 22), received_to=date(2026, 11, 22)) == {
        "rare"
    }
    assert ledger.find("", received_from=date(2026, 11, 24)) == {"company"}
    assert ledger.find("", received_to=date(2026, 11, 18)) == {"zhao"}
    assert ledger.find("", received_from=date(2026, 11, 25)) == set()


# Sorting and rows -----------------------------------------------------------------------------


def _sort_value(row: CaseRow, key: SortKey) -> Any:
    values: dict[SortKey, Any] = {
        SortKey.NUMBER: row.number,
        SortKey.RECEIVED: row.received_at,
        SortKey.COMPLAINANT: name_key(row.complainant_name),  # by pinyin
        SortKey.TITLE: row.title,
        SortKey.STATUS: row.status.value,
        SortKey.AREA: row.area,
        SortKey.CHANNEL: row.channel.value,
        SortKey.DEPARTMENT: row.department or None,
        SortKey.DUE: row.due_date,
        SortKey.VISITS: row.visits_count,
    }
    value = values[key]
    return (value is not None, value)  # SQLite puts NULL first when ascending


@pytest.mark.parametrize("key", list(SortKey))
def test_sorting_by_each_column(ledger: Ledger, key: SortKey) -> None:
    service = ledger.services.ledger
    rows = service.rows(service.ids())
    expected = [r.id for r in sorted(rows, key=lambda r: (_sort_value(r, key), r.id))]

    ascending = service.ids(sort=key, descending=False)
    descending = service.ids(sort=key, descending=True)

    assert ascending == expected
    assert descending == list(reversed(expected))
    shown = service.rows(descending)
    assert [r.id for r in shown] == descending
    values = [_sort_value(r, key) for r in shown]
    assert values == sorted(values, reverse=True)


def test_sorting_is_not_just_registration_order(ledger: Ledger) -> None:
    service = ledger.services.ledger
    by_visits = service.ids(sort=SortKey.VISITS, descending=False)
    assert [service.rows([i])[0].visits_count for i in by_visits] == [1, 2, 3, 4, 5]
    assert service.ids(sort=SortKey.RECEIVED, descending=True) == [
        ledger.ids[k] for k in ("company", "xiaofang", "rare", "wangfang", "zhao")
    ]
    assert service.ids(sort=SortKey.DUE, descending=False)[2:] == [
        ledger.ids[k] for k in ("wangfang", "xiaofang", "rare")
    ]


def test_rows_come_back_in_the_order_asked(ledger: Ledger) -> None:
    service = ledger.services.ledger
    wanted = [ledger.ids[k] for k in ("zhao", "rare", "wangfang")]
    rows = service.rows([*wanted, 9999])
    assert [r.id for r in rows] == wanted
    rare = rows[1]
    assert rare.number == "杞县-2026-0002"
    assert rare.complainant_name == "李𠀀䶮"
    assert rare.department == "杞县不动产登记中心"
    assert rare.status is CaseStatus.REGISTERED
    assert rare.channel is Channel.PHONE
    assert rare.due_date == date(2026, 12, 3)
    assert rows[0].department == ""
    assert service.rows([]) == []


@pytest.mark.parametrize(
    "case_filter",
    [
        CaseFilter(),
        CaseFilter(text="王"),
        CaseFilter(text="医保", statuses=(CaseStatus.CONCLUDED,)),
        CaseFilter(text="!!!"),
        CaseFilter(area="医保社保"),
        CaseFilter(received_from=date(2026, 11, 21)),
        CaseFilter(text="不存在的词"),
    ],
)
def test_count_agrees_with_ids(ledger: Ledger, case_filter: CaseFilter) -> None:
    service = ledger.services.ledger
    assert service.count(case_filter) == len(service.ids(case_filter))


def test_dashboard_counts(ledger: Ledger) -> None:
    counts = ledger.services.ledger.dashboard(date(2026, 11, 24))
    assert counts.total == 5
    assert counts.registered_today == 1  # received_at 2026-11-24
    assert counts.open_cases == 2
    assert counts.awaiting_triage == 2
    assert counts.awaiting_visit == 1
    assert counts.this_month == 5


@pytest.mark.parametrize(
    ("query", "prefix", "rest"),
    [
        ("杞县-2026-0012", "杞县", "2026-0012"),
        ("杞县-2026-00", "杞县", "2026-00"),
        ("杞县-", "杞县", ""),
        ("2026-0012", "", "2026-0012"),
        ("王芳", "", "王芳"),
        ("县-医院", "", "县-医院"),
    ],
)
def test_a_number_splits_into_its_site_prefix_and_the_rest(
    query: str, prefix: str, rest: str
) -> None:
    assert search.split_number_prefix(query) == (prefix, rest)
    # What is indexed of a site's own number is the same rest, whichever site reads it.
    if prefix and rest:
        assert search.number_search_tail(query) == rest


# index_text: the fast way to the same text as a plain walk over the characters -------------


def reference_index_text(fields: list[str]) -> str:
    """The index's definition, one character at a time (what index_text computes faster)."""
    parts = [" ".join(search._characters(field)) for field in fields if field]
    return f" {search.FIELD_SEPARATOR} ".join(part for part in parts if part)


def test_index_text_equals_its_definition_on_awkward_text() -> None:
    samples = [
        [
            "２０２６－００１２",
            "王　芳",
            "Ａｂｃ（测试）：“引号”，、。",
            "a\tb\nc",
            "",
            "0371-2345678",
        ],
        ["𠀀䶮", "…——！？", "Ⅻ ㈱ ﬁ", " ", "x y", "e\u0301"],
        ["", "", ""],
    ]
    for fields in samples:
        assert search.index_text(fields) == reference_index_text(fields)


@given(st.lists(st.text(max_size=30), max_size=6))
def test_index_text_equals_its_definition_on_any_text(fields: list[str]) -> None:
    assert search.index_text(fields) == reference_index_text(fields)


# PostgreSQL's choice of grams and of a walk, from the search index's statistics (issue 18) ------

_CITY = search.GramStatistics(
    # Shares of bodies at the 1.5-million-case city bench (pg_stats of the index's expression).
    {
        "20": 1.0,
        "02": 1.0,
        "25": 0.458,
        "00": 0.0924,
        "01": 0.0651,
        "12": 0.0903,
        "50": 0.0847,
        "县": 0.9524,
        "医保": 0.1293,
    },
    floor=0.0322,
    bodies=1_500_000,
)


def test_the_statistics_count_the_matches_of_a_term_that_is_one_listed_key() -> None:
    """A character or a pair the statistics list: their share is the term's own (how many
    matches the index would list); a longer term's keys only bound it, and a key they do not
    list is rarer than their floor."""
    assert _CITY.listed("县") == 0.9524
    assert _CITY.listed("医保") == 0.1293
    assert _CITY.listed("芳") is None  # not listed: below the floor
    assert _CITY.bound("芳") == _CITY.floor
    assert _CITY.listed("县医保") is None  # two pairs
    assert _CITY.listed("2025") is None  # its pairs and its four
    assert search.NO_STATISTICS.listed("县") is None


def test_a_number_asks_the_index_only_for_its_rarest_keys() -> None:
    """2025-0012: its digits are kept by fours too (migration 0023), each far rarer than the
    pairs 20 and 02 that are in every body; two fours narrow it to a few hundred bodies, and
    reading more keys' entries would spare fewer bodies than it costs."""
    grams = search.query_grams("2025-0012")
    assert grams == [
        *("00", "0012", "01", "02", "0250", "12", "20", "2025", "25", "2500", "50", "5001")
    ]
    assert _CITY.selective(grams) == ["0012", "0250"]
    assert search.NO_STATISTICS.selective(grams) == grams  # before ANALYZE: every key


def test_a_term_without_a_run_of_ascii_asks_for_its_pairs_alone() -> None:
    """Only three or more neighbouring ASCII digits or letters are kept by threes and fours."""
    assert search.query_grams("医保12") == ["12", "保1", "医保"]
    assert search.query_grams("12-3") == ["12", "123", "23"]
    assert search.query_grams("a1b2c") == ["1b", "1b2c", "2c", "a1", "a1b2", "b2"]
    assert search.query_grams("１２３") == ["12", "123", "23"]  # full-width, folded first


def test_a_rare_pair_is_asked_for_first() -> None:
    """王芳 is not among the common grams: it leads, and a common pair beside it is not worth
    its entries."""
    assert _CITY.selective(["20", "王芳"]) == ["王芳"]
    assert _CITY.selective(["医保"]) == ["医保"]


def test_a_terms_share_is_its_rarest_grams_or_nothing_known() -> None:
    assert _CITY.share("县") == pytest.approx(0.9524)
    assert _CITY.share("医保") == pytest.approx(0.1293)
    assert _CITY.share("01") == pytest.approx(0.0651)
    assert _CITY.share("2025-0012") == 0.0  # its fours are not among the common grams
    assert _CITY.share("王芳") == 0.0  # rarer than the least common of the common grams
    assert search.NO_STATISTICS.share("县") == 0.0


def test_a_character_not_listed_is_bounded_by_the_floor_a_longer_term_is_not() -> None:
    """芳 (2 % of the city's cases) is below the rarest listed gram: the walk may still pay, so
    its share is bounded by the floor; 王芳 is taken as rare (the index finds it at once)."""
    assert _CITY.bound("芳") == pytest.approx(0.0322)
    assert _CITY.bound("王芳") == 0.0
    assert _CITY.bound("医保") == pytest.approx(0.1293)  # listed: its own share
    assert _CITY.bound("，") == 0.0  # nothing to find
    assert search.NO_STATISTICS.bound("芳") == 0.0  # before ANALYZE nothing is known
