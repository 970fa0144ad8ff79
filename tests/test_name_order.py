"""反映人 in pinyin order (domain/name_order.py; the ledger's sort: tests/test_ledger_window.py,
tests/test_search.py), kept with the name on every path a complainant is written, on both
engines, and made for the rows a site had before (migration 0024)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text

from desktop_app.domain.name_order import name_key
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.corrections import CorrectionForm
from desktop_app.services.demo import DemoService
from desktop_app.storage.database import alembic_config, make_engine
from desktop_app.storage.models import Complainant
from tests.helpers import pg
from tests.helpers.exchange import (
    ADMIN,
    ADMIN_PASSWORD,
    CITY,
    QIXIAN,
    open_site,
    trust_each_other,
)
from tests.helpers.factories import enterprise_form, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401


def test_common_names_sort_by_pinyin() -> None:
    names = ["张伟", "白雪", "安然", "陈静", "王芳", "汪洋", "李娜", "郑州某公司", "杞县鑫运公司"]
    assert sorted(names, key=name_key) == [
        "安然", "白雪", "陈静", "李娜", "杞县鑫运公司", "王芳", "汪洋", "张伟", "郑州某公司"
    ]  # fmt: skip
    # Code points put 张 before 白 and 陈, GB 2312's bytes 杞 (second level) after 郑.
    assert sorted(names)[:2] == ["安然", "张伟"]
    assert sorted(names, key=lambda n: n.encode("gb18030"))[-1] == "杞县鑫运公司"


def test_the_same_pinyin_by_character_then_shorter_first() -> None:
    assert sorted(["汪洋", "王芳", "王五", "王", "王芳芳"], key=name_key) == [
        "王", "王芳", "王芳芳", "王五", "汪洋"
    ]  # fmt: skip


def test_surnames_read_as_surnames() -> None:
    """曾 is céng in most words but Zēng as a surname: 曾小明 sorts among the z's."""
    assert sorted(["曾小明", "岑明", "张明"], key=name_key) == ["岑明", "曾小明", "张明"]
    assert name_key("曾").startswith("zeng ")
    assert name_key("未曾").startswith("wei ceng ")  # only the first character is a surname


def test_latin_words_and_numbers_sort_with_the_syllables_rare_characters_last() -> None:
    """A Latin word or a number stands for itself ('ABC公司' among the a's, 'Zhang Wei' beside
    张伟); a character without a reading (Extension B 𠅤) comes after every syllable; the
    full-width brackets of an enterprise's name read as ASCII ones."""
    names = ["𠅤明", "张伟", "Zhang Wei", "ABC公司", "12345", "安然", "王五", "王（河南）公司"]
    assert sorted(names, key=name_key) == [
        "12345", "ABC公司", "安然", "王（河南）公司", "王五", "Zhang Wei", "张伟", "𠅤明"
    ]  # fmt: skip


def test_every_name_has_a_key() -> None:
    assert name_key("") == " !"
    assert name_key("王\ud800芳")  # a lone surrogate (refused at intake) still gets a key
    assert name_key("张三") == "zhang san !d5c5c8fd"  # the tie-break: its GB18030 bytes
    assert name_key("堃").startswith("kun ")  # GBK's additions have readings too


def _keys(services: AppServices) -> dict[str, str]:
    with services.db.read() as session:
        return {n: k for n, k in session.execute(select(Complainant.name, Complainant.name_key))}


def _rename(services: AppServices, clerk: Actor, case_id: int, name: str) -> None:
    form = services.corrections.current(case_id)
    services.corrections.correct(
        clerk,
        case_id,
        CorrectionForm(form.case, replace(form.complainant, name=name), "登记时录错"),
    )


@pytest.mark.parametrize("backend", pg.BACKENDS)
def test_every_path_keeps_the_key(tmp_path: Path, clock: FixedClock, backend: str) -> None:
    """Intake, a correction, a county's first upload (the bulk copy: SQLite's INSERT … SELECT,
    PostgreSQL's COPY) and a later one bringing the corrected name (the row merge)."""
    url = pg.backend_url(backend)
    with (
        open_site(tmp_path, CITY, clock, db_url=url) as city,
        open_site(tmp_path, QIXIAN, clock) as county,
    ):
        trust_each_other(county, city, tmp_path / "ids")
        DemoService(  # the demo's own bulk writes, on an empty site
            county.services.db, clock, county.services.keys, sealer=county.services.sealer
        ).generate(30)
        clerk = county.services.auth.login("admin", ADMIN_PASSWORD)
        first = county.services.intake.register(clerk, person_form(name="张三")).case_id
        county.services.intake.register(clerk, enterprise_form())
        usb = tmp_path / "U盘"
        usb.mkdir()
        report = city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path)
        assert not report.refused, report.reason
        _rename(county.services, clerk, first, "白三")
        again = city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path)
        assert not again.refused, again.reason
        assert again.updated["complainants"] == 1
        for site in (county, city):
            keys = _keys(site.services)
            assert "白三" in keys and "张三" not in keys
            assert len(keys) >= 20  # the demo's people, by name
            assert all(key == name_key(name) for name, key in keys.items()), site.code
        # The key is not signed: bbcs check finds every record as it was sealed.
        assert city.services.maintenance.check().problems == []


@pytest.mark.parametrize("backend", pg.BACKENDS)
def test_the_upgrade_makes_every_existing_key(tmp_path: Path, backend: str) -> None:
    """A database of schema 0023 (no key) upgraded: each complainant gets its name's key, and
    the ledger's index is on the key instead of the name."""
    engine = make_engine(pg.backend_url(backend) or f"sqlite:///{tmp_path / 'bbcs.db'}")
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0023")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO complainants (id, uuid, version, kind, name, id_number_sealed, "
                    "id_lookup, credit_code, contact_person, phone_sealed, phone_lookup, "
                    "phone_last4, address, id_override_reason, origin_site) VALUES "
                    "(:i, :u, 1, 'person', :n, '', '', '', '', '', '', '', '', '', '')"
                ),
                [{"i": i, "u": f"u{i}", "n": n} for i, n in enumerate(["张三", "白雪"], 1)],
            )
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        with engine.connect() as connection:
            rows = dict(connection.execute(text("SELECT name, name_key FROM complainants")).all())
            indexes = set(
                connection.execute(
                    text("SELECT name FROM sqlite_master WHERE tbl_name = 'complainants'")
                    if engine.dialect.name == "sqlite"
                    else text("SELECT indexname FROM pg_indexes WHERE tablename = 'complainants'")
                ).scalars()
            )
    finally:
        engine.dispose()
    assert rows == {"张三": name_key("张三"), "白雪": name_key("白雪")}
    assert "ix_ledger_complainant_name_key" in indexes
    assert "ix_ledger_complainant_name" not in indexes
