"""Whether a bundle is let in, decided by ``admit`` from plain values: no files, no database.

The end-to-end refusals (a real bundle, nothing changed afterwards) are in
``test_bundle_refusals.py``; here each rule is one call.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import pytest

from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.admission import (
    Admission,
    Fate,
    LocalState,
    PreviousImport,
    admit,
)
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.services.exchange.sites import REVOKED, TRUSTED, SiteView

CITY = "410200"
COUNTY = "410221"
KEY = bytes(range(32))
FILE = "bbcs-410221-20260105-090000-00001.bbcs"


def header(kind: str = "data", to_site: str = CITY, **fields: Any) -> bf.Header:
    data: dict[str, Any] = {
        "format": bf.FORMAT,
        "kind": kind,
        "bundle_id": "0b6f8a52-3c1d-4e2f-9a7b-5c6d7e8f9a0b",
        "from_site": COUNTY if kind == "data" else CITY,
        "to_site": to_site,
        "encryption": {"algorithm": bf.ENCRYPTION_ALGORITHM if kind == "data" else "none"},
    }
    return bf.Header(b"", data | fields, 0)


def site(
    code: str = COUNTY, level: str = "county", state: str = TRUSTED, key: str | None = None
) -> SiteView:
    signing = base64.urlsafe_b64encode(KEY).decode() if key is None else key
    return SiteView(code, "杞县办不成事监督窗口", level, state, signing)


AT_CITY = LocalState(CITY, "city")
AT_COUNTY = LocalState(COUNTY, "county")
CITY_SITE = site(CITY, "city")


def test_a_countys_data_bundle_at_its_city_is_imported_with_the_senders_key() -> None:
    admission = admit(header(), AT_CITY, site(), file_name=FILE)
    assert admission == Admission(Fate.IMPORT, from_name="杞县办不成事监督窗口", signing_key=KEY)


def test_a_citys_reference_bundle_at_a_county_is_imported() -> None:
    admission = admit(header("reference", "*"), AT_COUNTY, CITY_SITE, file_name=FILE)
    assert admission.fate is Fate.IMPORT and admission.signing_key == KEY


def test_a_bundle_imported_before_is_a_repeat_that_still_needs_its_signature() -> None:
    before = PreviousImport(datetime(2026, 1, 5, 9, 30), {"cases": 3, "ack": {"kind": "ack"}})
    local = LocalState(CITY, "city", before)
    admission = admit(header(), local, site(), file_name=FILE)
    assert admission.fate is Fate.ALREADY_IMPORTED
    assert admission.previous == before
    assert admission.signing_key == KEY  # acted on only once the signature verifies


@pytest.mark.parametrize(
    ("bundle", "local", "sender", "code", "from_name"),
    [
        # A data bundle at a county, a reference bundle at the city.
        (header(), AT_COUNTY, site(), RefusalCode.WRONG_KIND, ""),
        (header("reference", "*"), AT_CITY, CITY_SITE, RefusalCode.WRONG_KIND, ""),
        # Meant for another city.
        (header(to_site="410300"), AT_CITY, site(), RefusalCode.NOT_ADDRESSED, ""),
        # A reference bundle is for every county ("*") or its header was changed.
        (header("reference", COUNTY), AT_COUNTY, CITY_SITE, RefusalCode.TAMPERED, ""),
        # A sender not registered, registered without keys, or with a key that is not one.
        (header(), AT_CITY, None, RefusalCode.UNKNOWN_SITE, ""),
        (header(), AT_CITY, site(key=""), RefusalCode.UNKNOWN_SITE, ""),
        (header(), AT_CITY, site(key="x" * 2000), RefusalCode.UNKNOWN_SITE, "杞县办不成事监督窗口"),
        # Known, but its key was revoked: the report still names it.
        (header(), AT_CITY, site(state=REVOKED), RefusalCode.REVOKED_SITE, "杞县办不成事监督窗口"),
        # Data comes only from counties, reference data only from a city.
        (header(), AT_CITY, site(level="city"), RefusalCode.WRONG_KIND, "杞县办不成事监督窗口"),
        (
            header("reference", "*"),
            AT_COUNTY,
            site(CITY, "county"),
            RefusalCode.WRONG_KIND,
            "杞县办不成事监督窗口",
        ),
        # A data bundle carries personal data: never in the clear.
        (
            header(encryption={"algorithm": "none"}),
            AT_CITY,
            site(),
            RefusalCode.TAMPERED,
            "杞县办不成事监督窗口",
        ),
    ],
)
def test_refusals(
    bundle: bf.Header,
    local: LocalState,
    sender: SiteView | None,
    code: RefusalCode,
    from_name: str,
) -> None:
    admission = admit(bundle, local, sender, file_name=FILE)
    assert admission.fate is Fate.REFUSE
    assert (admission.code, admission.from_name) == (code, from_name)
    assert admission.message and not admission.signing_key
    refused = admission.refusal()
    assert isinstance(refused, BundleRefused)
    assert (refused.code, refused.message) == (code, admission.message)


def test_a_refusal_for_a_repeat_wins_over_the_repeat() -> None:
    """A bundle imported before but now from a revoked site is refused, not repeated."""
    local = LocalState(CITY, "city", PreviousImport(datetime(2026, 1, 5), {}))
    admission = admit(header(), local, site(state=REVOKED), file_name=FILE)
    assert admission.fate is Fate.REFUSE and admission.code is RefusalCode.REVOKED_SITE


def test_messages_name_the_file_and_the_sites() -> None:
    tampered = admit(header("reference", COUNTY), AT_COUNTY, CITY_SITE, file_name=FILE)
    assert FILE in tampered.message
    elsewhere = admit(header(to_site="410300"), AT_CITY, site(), file_name=FILE)
    assert "410300" in elsewhere.message and CITY in elsewhere.message


def test_only_a_refusal_has_an_error() -> None:
    with pytest.raises(ValueError):
        admit(header(), AT_CITY, site(), file_name=FILE).refusal()


def test_refusal_codes_are_written_as_the_strings_scripts_read() -> None:
    """``bbcs import --json`` and the reports write the code as a plain string."""
    assert json.dumps({"code": RefusalCode.NOT_ADDRESSED}) == '{"code": "not_addressed"}'
    assert f"{RefusalCode.BAD_CONTENT}" == "bad_content"
