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
from tests.helpers.holidays import complete_year
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


# Review of item 6 ------------------------------------------------------------------------------


def test_a_key_revoked_before_the_site_registered_new_keys_stays_revoked(
    services: AppServices, admin: Actor, tmp_path: Path, clock: FixedClock, data_dir: Path
) -> None:
    city = SiteKeys(tmp_path / "city-keys")
    city.create()
    services.sync.trust(admin, city.identity("410200", "开封市办不成事监督窗口", "city"))
    clock.at = datetime(2026, 11, 30, 9, 0)
    city.rotate()  # an ordinary rotation first: the lost PC kept the retired key too
    services.sync.trust(
        admin, city.identity("410200", "开封市办不成事监督窗口", "city"), replace=True
    )
    retired = city.retired()[0]
    before_rotation = sign_slip(retired, "410200", "汴纪窗交〔2026〕6号", "ab" * 32)
    stolen = sign_slip(city, "410200", "汴纪窗交〔2026〕7号", "ab" * 32)
    assert services.assignments.verify(before_rotation).valid  # an ordinary rotation verifies

    clock.at = datetime(2026, 12, 1, 10, 0)
    services.sync.revoke(admin, "410200", "市级电脑丢失")
    clock.at = datetime(2026, 12, 3, 9, 0)
    new = SiteKeys(tmp_path / "city-new-keys")
    new.create()
    services.sync.trust(
        admin, new.identity("410200", "开封市办不成事监督窗口", "city"), replace=True
    )
    for payload in (stolen, before_rotation):
        check = services.assignments.verify(payload)
        assert not check.valid, check.message
        assert "签名密钥已吊销" in check.message
        assert "2026年12月1日" in check.message and "市级电脑丢失" in check.message
        assert "核验通过" not in check.message
    done = run_bbcs("verify-slip", stolen, data_dir=data_dir)
    assert done.returncode != 0 and "签名密钥已吊销" in done.stdout
    # The new key is trusted; a forgery in the site's name is still just a forgery.
    assert services.assignments.verify(
        sign_slip(new, "410200", "汴纪窗交〔2026〕8号", "cd" * 32)
    ).valid
    assert "吊销" not in services.assignments.verify(stolen.replace("7号", "9号")).message
    with services.db.read() as session:
        site = session.scalar(select(Site).where(Site.code == "410200"))
        assert site is not None and site.trust_state == "trusted"
        retired_keys = {k["signing_public_key"]: k for k in site.previous_keys}
        assert retired_keys[city.signing_public_key()]["revoke_reason"] == "市级电脑丢失"
        assert retired_keys[city.signing_public_key()]["revoked_at"].startswith("2026-12-01")


def test_a_number_this_site_never_issued_does_not_verify(
    services: AppServices, admin: Actor, clerk: Actor, leader: Actor, data_dir: Path
) -> None:
    issued(services, clerk, leader)  # the site has issued papers, just not this one
    keys: SiteKeys = services.keys
    forged = sign_slip(keys, "410221", "杞纪窗交〔2026〕99号", "ab" * 32)
    receipt = sign_slip(keys, "410221", "受理回执 杞县-2026-9999", "ab" * 32)
    services.sync.rotate_keys(admin)  # the old key went with a lost PC: still ours
    for payload, number in ((forged, "杞纪窗交〔2026〕99号"), (receipt, "受理回执 杞县-2026-9999")):
        check = services.assignments.verify(payload)
        assert not check.valid, check.message
        assert f"本站点没有签发过编号{number}的纸面，此码不可信" in check.message
        done = run_bbcs("verify-slip", payload, data_dir=data_dir)
        assert done.returncode != 0 and "此码不可信" in done.stdout
        assert "核验通过" not in done.stdout


def test_an_urge_notice_shows_its_feedback_date_by_the_papers_own_label(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    _case_id, assignment_id, _number = issued(services, clerk, leader)
    clock.at = datetime(2026, 12, 14, 10, 0)  # after the deadline
    urge, _ = services.assignments.urge(clerk, assignment_id)
    _info, content = services.assignments.slip_content(urge)
    check = services.assignments.verify(content.qr_payload)
    assert check.valid, check.message
    facts = dict(check.facts)
    assert "办理时限" not in facts
    assert facts["反馈时限"].startswith(chinese_date(content.due_date))


def test_an_original_slip_points_to_the_notice_that_adjusted_its_deadline(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor, data_dir: Path
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    ids, _ = services.assignments.create(
        clerk,
        case_id,
        department_id=services.site.departments()[0].id,
        requirements="请核实参保信息并办理。",
        working_days=30,
        deadline_note="涉及多年材料",
    )
    number, _ = services.assignments.issue(leader, ids[0])
    _info, original = services.assignments.slip_content(number)
    schedule = complete_year(2027, f"{original.due_date.isoformat()},否,元旦")
    services.calendar.import_csv(admin, schedule, complete_years=[2027])
    notice, _ = services.assignments.adjust_deadline(leader, ids[0])
    new_due = services.assignments.slip_content(notice)[1].due_date

    check = services.assignments.verify(original.qr_payload)
    assert check.valid, check.message
    facts = dict(check.facts)
    assert facts["办理时限"].startswith(chinese_date(original.due_date))  # as printed
    line = f"此单办理时限已由{notice}时限调整通知调整为{chinese_date(new_due)}"
    assert any(line in f"{label}：{value}" for label, value in check.facts), check.facts
    done = run_bbcs("verify-slip", original.qr_payload, data_dir=data_dir)
    assert done.returncode == 0 and line in done.stdout
    # The notice itself names no later one.
    later = services.assignments.verify(services.assignments.slip_content(notice)[1].qr_payload)
    assert later.valid and not any("已由" in value for _label, value in later.facts)


def test_a_key_revoked_and_replaced_before_revocations_were_kept_is_found_on_the_audit_log(
    services: AppServices, admin: Actor, tmp_path: Path, clock: FixedClock
) -> None:
    city = SiteKeys(tmp_path / "city-keys")
    city.create()
    identity = city.identity("410200", "开封市办不成事监督窗口", "city")
    services.sync.trust(admin, identity)
    stolen = sign_slip(city, "410200", "汴纪窗交〔2026〕7号", "ab" * 32)
    clock.at = datetime(2026, 12, 1, 10, 0)
    services.sync.revoke(admin, "410200", "市级电脑丢失")
    new = SiteKeys(tmp_path / "city-new-keys")
    new.create()
    services.sync.trust(
        admin, new.identity(identity.site_code, identity.site_name, "city"), replace=True
    )
    with services.db.write() as session:  # as stored by earlier versions: no revocation kept
        site = session.scalar(select(Site).where(Site.code == "410200"))
        assert site is not None
        site.previous_keys = [
            {k: v for k, v in entry.items() if not k.startswith("revoke")}
            for entry in site.previous_keys
        ]
    check = services.assignments.verify(stolen)
    assert not check.valid
    assert "签名密钥已吊销" in check.message and "2026年12月1日" in check.message
    assert "市级电脑丢失" in check.message
