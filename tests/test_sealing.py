"""Sealing personal numbers (issue 15 item 11): the primitives, the key that must exist before
sealed data does, and a database written before sealing upgraded in place."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text

from desktop_app.errors import UserError
from desktop_app.paths import DataLayout
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.data_key import DataKey
from desktop_app.services.ledger import CaseFilter
from desktop_app.services.sealing import (
    ID_COLUMN,
    PHONE_COLUMN,
    SealBroken,
    Sealer,
    is_sealed,
    number_lookups,
)
from desktop_app.storage.database import alembic_config, make_engine
from desktop_app.storage.models import Complainant
from tests.helpers.factories import ADMIN_PASSWORD, person_form
from tests.helpers.ids import id_number
from tests.helpers.sealing import throwaway_sealer
from tests.helpers.site import county_site

KNOWN_ID = id_number("41022119800515123")
KNOWN_PHONE = "13956781234"


@pytest.fixture
def sealer() -> Sealer:
    return throwaway_sealer()


def test_a_sealed_value_opens_only_for_its_column_and_key(sealer: Sealer) -> None:
    sealed = sealer.seal(KNOWN_ID, ID_COLUMN)
    assert is_sealed(sealed) and KNOWN_ID not in sealed
    assert sealer.seal(KNOWN_ID, ID_COLUMN) != sealed  # a fresh nonce each time
    assert sealer.open(sealed, ID_COLUMN) == KNOWN_ID
    with pytest.raises(SealBroken):
        sealer.open(sealed, PHONE_COLUMN)  # moved to another column
    with pytest.raises(SealBroken):
        throwaway_sealer().open(sealed, ID_COLUMN)  # another site's key
    middle = len(sealed) // 2
    flipped = sealed[:middle] + ("A" if sealed[middle] != "A" else "B") + sealed[middle + 1 :]
    with pytest.raises(SealBroken):
        sealer.open(flipped, ID_COLUMN)
    assert sealer.seal("", ID_COLUMN) == ""
    assert sealer.open("13800001111", PHONE_COLUMN) == "13800001111"  # written before sealing


def test_lookups_normalise_the_number_and_depend_on_the_key(sealer: Sealer) -> None:
    lower = KNOWN_ID[:-1] + "x" if KNOWN_ID.endswith("X") else KNOWN_ID
    assert sealer.lookup("id", lower) == sealer.lookup("id", KNOWN_ID)
    assert sealer.lookup("phone", "139 5678 1234") == sealer.lookup("phone", KNOWN_PHONE)
    assert sealer.lookup("phone", "１３９５６７８１２３４") == sealer.lookup("phone", KNOWN_PHONE)
    assert sealer.lookup("phone", KNOWN_PHONE) != sealer.lookup("id", KNOWN_PHONE)
    assert throwaway_sealer().lookup("phone", KNOWN_PHONE) != sealer.lookup("phone", KNOWN_PHONE)
    assert sealer.lookup("phone", "") == ""
    assert number_lookups(sealer, "王芳") == []
    assert number_lookups(sealer, "5678") == []  # last four: the search text finds those
    assert number_lookups(sealer, "0378-2345678") == [sealer.lookup("phone", "03782345678")]


def test_a_missing_key_beside_sealed_data_is_refused_not_replaced(tmp_path: Path) -> None:
    clock = _clock()
    with county_site(tmp_path, clock) as services:
        services.intake.register(_admin(services), person_form(phone=KNOWN_PHONE))
    key = DataKey(DataLayout(tmp_path).keys)
    saved = key.path.read_bytes()
    key.path.unlink()
    with pytest.raises(UserError, match=r"没有数据密钥.*恢复密钥"):
        open_services(tmp_path, clock=clock)
    assert not key.path.exists()  # no new key was made
    key.path.write_bytes(saved)
    reopened = open_services(tmp_path, clock=clock)
    try:
        case_id = reopened.ledger.ids(CaseFilter(text=KNOWN_PHONE))[0]
        assert reopened.cases.detail(case_id).phone == "139****1234"
    finally:
        reopened.close()


def test_a_new_data_dir_gets_its_key(tmp_path: Path) -> None:
    services = open_services(tmp_path / "new", clock=_clock())
    try:
        assert services.data_key.exists()
    finally:
        services.close()


@pytest.fixture
def old_site(tmp_path: Path) -> Iterator[Path]:
    """A data dir as bbcs left it before sealing: at 0009, a complainant in clear."""
    engine = make_engine(DataLayout(tmp_path).database_url())
    DataLayout(tmp_path).root.mkdir(parents=True, exist_ok=True)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0009")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO complainants (kind, name, id_number, credit_code, "
                    "contact_person, phone, address, id_override_reason, uuid, version) VALUES "
                    "('person', '王芳', :id, '', '', :phone, '', '', "
                    "'c0000000-0000-0000-0000-000000000001', 1)"
                ),
                {"id": KNOWN_ID, "phone": KNOWN_PHONE},
            )
    finally:
        engine.dispose()
    yield tmp_path


def test_an_upgraded_database_is_sealed_at_first_open(old_site: Path) -> None:
    services = open_services(old_site, clock=_clock())
    try:
        with services.db.read() as session:
            person = session.scalars(select(Complainant)).one()
            assert is_sealed(person.id_number_sealed) and is_sealed(person.phone_sealed)
            assert services.sealer.id_number(person) == KNOWN_ID
            assert services.sealer.phone(person) == KNOWN_PHONE
            assert person.id_lookup == services.sealer.lookup("id", KNOWN_ID)
            assert person.phone_lookup == services.sealer.lookup("phone", KNOWN_PHONE)
            assert person.phone_last4 == "1234"
        services.db.checkpoint()
    finally:
        services.close()
    data = DataLayout(old_site).database.read_bytes()
    assert KNOWN_ID.encode() not in data and KNOWN_PHONE.encode() not in data


def test_numbers_left_in_clear_read_as_they_were_until_sealed(services: AppServices) -> None:
    """Between the upgrade and the sealing step nothing shows ciphertext or fails."""
    admin = _admin(services)
    case_id = services.intake.register(admin, person_form(phone=KNOWN_PHONE)).case_id
    with services.db.write() as session:
        session.execute(
            text("UPDATE complainants SET phone_sealed = :p, phone_lookup = ''"),
            {"p": KNOWN_PHONE},
        )
    assert services.cases.detail(case_id).phone == "139****1234"
    assert services.cases.reveal_numbers(admin, case_id).phone == KNOWN_PHONE


def _clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 25, 9, 0))


def _admin(services: AppServices) -> Actor:
    return services.auth.login("admin", ADMIN_PASSWORD)


@pytest.mark.parametrize(
    "typed",
    [KNOWN_ID, KNOWN_ID.lower(), f" {KNOWN_ID} ", "４１０２２１１９８００５１５１２３Ｘ", "1234x"],
)
def test_the_quick_id_form_is_the_validation_form(typed: str) -> None:
    from desktop_app.domain.validation import normalize_id_number
    from desktop_app.services.sealing import normalized_id

    assert normalized_id(typed) == normalize_id_number(typed)


def test_another_key_than_the_databases_is_refused(tmp_path: Path) -> None:
    """A seat with a key of its own beside a database another key sealed (two PCs on one
    server, or the wrong keys folder copied back) seals nothing and opens nothing."""
    clock = _clock()
    with county_site(tmp_path, clock):
        pass
    key = DataKey(DataLayout(tmp_path).keys)
    key.path.unlink()
    DataKey(DataLayout(tmp_path).keys).create()  # another key, as another PC would have
    with pytest.raises(UserError, match="不是同一把"):
        open_services(tmp_path, clock=clock)
