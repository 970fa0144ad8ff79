"""核验 of a paper's QR code: what a person checking a paper in hand is told (issue 14, items 6
and 12). A voided slip, or one signed by a site whose key was revoked, must not pass; a passing
check names the facts to compare with the paper; the 受理回执 carries a QR of its own."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from desktop_app.domain.settings import WINDOW_PHONE
from desktop_app.domain.vocabulary import Approach, Cause, Nature, chinese_date
from desktop_app.services import settings
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.keys import SiteKeys, sign_slip
from desktop_app.storage.models import Site
from tests.helpers.cli import run_bbcs
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

WINDOW = "0371-28987654"


def issued(services: AppServices, clerk: Actor, leader: Actor) -> tuple[int, int, str]:
    """A triaged 很难办 case with a signed 交办单: (case id, assignment id, slip number)."""
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    ids, _ = services.assignments.create(
        clerk,
        case_id,
        department_id=services.site.departments()[0].id,
        requirements="请核实参保信息并办理。",
    )
    number, _ = services.assignments.issue(leader, ids[0])
    return case_id, ids[0], number


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# 作废 ----------------------------------------------------------------------------------------


def test_a_voided_slip_does_not_verify_and_says_when_and_why(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    _case_id, assignment_id, number = issued(services, clerk, leader)
    payload = services.assignments.slip_content(number)[1].qr_payload
    assert services.assignments.verify(payload).valid

    clock.at = datetime(2026, 11, 27, 15, 0)
    services.assignments.void(leader, assignment_id, "承办单位选错")
    check = services.assignments.verify(payload)
    assert not check.valid
    assert "已作废" in check.message
    assert "2026年11月27日" in check.message
    assert "承办单位选错" in check.message
    assert "核验通过" not in check.message


def test_a_voided_slip_fails_bbcs_verify_slip(
    services: AppServices, clerk: Actor, leader: Actor, data_dir: Path
) -> None:
    _case_id, assignment_id, number = issued(services, clerk, leader)
    payload = services.assignments.slip_content(number)[1].qr_payload
    services.assignments.void(leader, assignment_id, "签错了")

    done = run_bbcs("verify-slip", payload, data_dir=data_dir)
    assert done.returncode != 0
    assert "已作废" in done.stdout and "签错了" in done.stdout
    assert "核验通过" not in done.stdout
    done = run_bbcs("verify-slip", payload, "--json", data_dir=data_dir)
    assert done.returncode != 0
    data = json.loads(done.stdout)
    assert data["valid"] is False and data["voided"] is True
    assert data["void_reason"] == "签错了"


# A passing check: the facts on paper ---------------------------------------------------------


def test_a_passing_check_names_what_to_compare_with_the_paper(
    services: AppServices, clerk: Actor, leader: Actor, data_dir: Path
) -> None:
    _case_id, _assignment_id, number = issued(services, clerk, leader)
    _info, content = services.assignments.slip_content(number)
    check = services.assignments.verify(content.qr_payload)
    assert check.valid, check.message
    facts = dict(check.facts)
    assert facts["承办单位"] == content.lead_department == "杞县医疗保障局"
    assert facts["办理时限"].startswith(chinese_date(content.due_date))
    assert facts["签发日期"] == chinese_date(content.issued_at)
    assert facts["签发人"] == content.signer == "潘险峰"

    done = run_bbcs("verify-slip", content.qr_payload, data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    for label in ("承办单位", "办理时限", "签发日期", "签发人"):
        assert f"{label}：{facts[label]}" in done.stdout
    assert "请与纸面核对" in done.stdout
    data = json.loads(
        run_bbcs("verify-slip", content.qr_payload, "--json", data_dir=data_dir).stdout
    )
    assert data["valid"] is True and data["voided"] is False
    assert data["facts"]["办理时限"] == facts["办理时限"]


# A revoked site's key ------------------------------------------------------------------------


def test_a_slip_signed_with_a_revoked_key_says_so(
    services: AppServices, admin: Actor, tmp_path: Path, clock: FixedClock
) -> None:
    city = SiteKeys(tmp_path / "city-keys")
    city.create()
    services.sync.trust(admin, city.identity("410200", "开封市办不成事监督窗口", "city"))
    payload = sign_slip(city, "410200", "汴纪窗交〔2026〕7号", "ab" * 32)
    assert services.assignments.verify(payload).valid

    clock.at = datetime(2026, 12, 1, 10, 0)
    services.sync.revoke(admin, "410200", "市级电脑丢失")
    check = services.assignments.verify(payload)
    assert not check.valid
    assert "吊销" in check.message and "2026年12月1日" in check.message
    assert "市级电脑丢失" in check.message
    assert "请先导入" not in check.message  # not "unknown site": the key is known, and revoked
    # A forgery that claims the revoked site is still a forgery.
    forged = payload.replace("7号", "8号")
    assert "吊销" not in services.assignments.verify(forged).message
    with services.db.read() as session:
        assert session.scalar(select(Site.trust_state).where(Site.code == "410200")) == "revoked"


# 受理回执 ------------------------------------------------------------------------------------


def _set_window_phone(services: AppServices, admin: Actor) -> None:
    with services.db.write() as session:
        settings.write(session, admin, WINDOW_PHONE, WINDOW)


def test_a_receipt_before_triage_says_it_is_told_after_screening(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    _set_window_phone(services, admin)
    case_id = services.intake.register(clerk, person_form()).case_id
    receipt = services.assignments.issue_receipt(case_id, actor=clerk)
    assert "甄别后告知" in receipt.reply
    assert "10个工作日" in receipt.reply  # 很难办's number of working days, from the rules
    text = pdf_text(services.assignments.receipt_pdf(case_id))
    assert "甄别后告知" in text and WINDOW in text


def test_a_triaged_case_receipt_gives_the_deadline_and_verifies(
    services: AppServices, clerk: Actor, admin: Actor, data_dir: Path, tmp_path: Path
) -> None:
    _set_window_phone(services, admin)
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    detail = services.cases.detail(case_id)
    assert detail.due_date is not None
    receipt = services.assignments.issue_receipt(case_id, actor=clerk)
    assert chinese_date(detail.due_date) in receipt.reply
    assert receipt.qr_payload.startswith("BBCS1|410221|")

    check = services.assignments.verify(receipt.qr_payload)
    assert check.valid, check.message
    assert "受理回执" in check.message
    facts = dict(check.facts)
    assert facts["事项编号"] == detail.number
    assert chinese_date(detail.due_date) in facts["答复时间"]

    out = tmp_path / "回执.pdf"
    done = run_bbcs("receipt", detail.number, "--out", str(out), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    text = pdf_text(out.read_bytes())
    assert chinese_date(detail.due_date) in text and WINDOW in text and "扫码核验" in text
    done = run_bbcs("verify-slip", receipt.qr_payload, data_dir=data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "受理回执" in done.stdout and f"事项编号：{detail.number}" in done.stdout


def test_a_receipt_with_an_altered_hash_does_not_verify(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    payload = services.assignments.issue_receipt(case_id, actor=clerk).qr_payload
    parts = payload.split("|")
    parts[3] = ("0" if parts[3][0] != "0" else "1") + parts[3][1:]
    assert not services.assignments.verify("|".join(parts)).valid
