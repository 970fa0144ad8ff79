"""问责 (issue 16): referrals proposed, sent as a numbered 移交函 with the evidence the record
holds, decided by discipline staff; 不给办 proposes one by itself. Real SQLite, the letter read
back as text, the command line's JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_app.domain.case_flow import EventKind
from desktop_app.domain.vocabulary import (
    Approach,
    Cause,
    Conduct,
    Measure,
    Nature,
    ReferralRecipient,
    ReferralState,
    Role,
)
from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.referrals import Proposal, ReferralFilter
from desktop_app.storage.models import AuditEntry, CaseEvent, Referral
from tests.helpers.cli import as_user, run_bbcs
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

WONT = Triage(nature=Nature.WONT, approach=Approach.PUSH, causes=(Cause.SHIRKING,), area="医保社保")
HARD = Triage(nature=Nature.HARD, approach=Approach.PUSH, causes=(Cause.POLICY,), area="医保社保")


@pytest.fixture
def discipline(services: AppServices, admin: Actor) -> Actor:
    services.auth.create_user(
        admin, username="jijian", display_name="赵纪检", role=Role.DISCIPLINE, password="Jijian2026"
    )
    return services.auth.login("jijian", "Jijian2026")


def _case(services: AppServices, clerk: Actor, triage: Triage = HARD) -> int:
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(clerk, case_id, triage)
    return case_id


def _proposal(case_id: int) -> Proposal:
    return Proposal(
        case_id=case_id,
        person_name="李某",
        person_post="医保结算窗口工作人员",
        person_unit="杞县医疗保障局",
        conduct=(Conduct.SHIRK, Conduct.COLD),
        facts="当事人三次到窗口办理，李某均以“系统查不到”为由推给县卫健委，未一次性告知。",
    )


def _referral(services: AppServices, referral_id: int) -> Referral:
    with services.db.read() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        session.expunge(referral)
        return referral


def _events(services: AppServices, case_id: int) -> list[CaseEvent]:
    with services.db.read() as session:
        events = list(
            session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == EventKind.REFERRAL.value)
                .order_by(CaseEvent.id)
            )
        )
        session.expunge_all()
        return events


def _audit_actions(services: AppServices) -> list[str]:
    with services.db.read() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "referral")
                .order_by(AuditEntry.id)
            )
        )


def test_propose_send_decide_each_on_the_timeline_and_audited(
    services: AppServices, clerk: Actor, leader: Actor, discipline: Actor
) -> None:
    case_id = _case(services, clerk)
    referral_id, changes = services.referrals.propose(clerk, _proposal(case_id))
    assert changes.referrals and changes.case_ids == (case_id,)
    assert _referral(services, referral_id).state == ReferralState.PROPOSED.value

    expected = services.referrals.next_number()
    assert expected == "杞纪窗移〔2026〕1号"
    number, _ = services.referrals.send(
        leader,
        referral_id,
        recipient=ReferralRecipient.DISCIPLINE_ORGAN,
        recipient_name="中共杞县纪委 杞县监委",
        expected_number=expected,
    )
    assert number == expected
    sent = _referral(services, referral_id)
    assert sent.state == ReferralState.SENT.value
    assert sent.signer_name == "潘险峰" and sent.seq == 1 and sent.year == 2026
    assert sent.content["number"] == number and sent.content["recipient_name"]
    assert sent.evidence  # frozen with the letter

    services.referrals.decide(
        discipline,
        referral_id,
        measure=Measure.ADMONITION,
        decided_by="县纪委第三纪检监察室",
        note="对李某进行诫勉谈话。",
    )
    decided = _referral(services, referral_id)
    assert decided.state == ReferralState.DECIDED.value
    assert decided.measure == Measure.ADMONITION.value
    assert decided.decided_by == "县纪委第三纪检监察室"
    assert decided.decided_at == datetime(2026, 11, 25, 9, 30)

    events = _events(services, case_id)
    assert [e.data["state"] for e in events] == ["proposed", "sent", "decided"]
    assert events[1].data["number"] == number
    assert "诫勉谈话" in events[2].summary
    assert _audit_actions(services) == ["propose_referral", "send_referral", "decide_referral"]


def test_a_proposal_leaves_the_case_record_intact(services: AppServices, clerk: Actor) -> None:
    """Proposing changes the case (its version) after the transaction's last flush: its
    digest is still brought up to date at commit, so ``bbcs check`` finds nothing wrong."""
    case_id = _case(services, clerk)
    services.referrals.propose(clerk, _proposal(case_id))
    assert services.maintenance.check().problems == []


def test_numbers_are_gap_free_and_a_taken_number_sends_nothing(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _case(services, clerk)
    first, _ = services.referrals.propose(clerk, _proposal(case_id))
    second, _ = services.referrals.propose(clerk, _proposal(case_id))
    stale = services.referrals.next_number()
    services.referrals.send(
        leader, first, recipient=ReferralRecipient.UNIT, recipient_name="杞县医疗保障局"
    )
    with pytest.raises(UserError, match="已被另一份移交函占用"):
        services.referrals.send(
            leader,
            second,
            recipient=ReferralRecipient.UNIT,
            recipient_name="杞县医疗保障局",
            expected_number=stale,
        )
    assert _referral(services, second).state == ReferralState.PROPOSED.value
    number, _ = services.referrals.send(
        leader, second, recipient=ReferralRecipient.UNIT, recipient_name="杞县医疗保障局"
    )
    assert number == "杞纪窗移〔2026〕2号"


def test_bad_input_is_refused_in_chinese_and_changes_nothing(
    services: AppServices, clerk: Actor, leader: Actor, discipline: Actor
) -> None:
    case_id = _case(services, clerk)
    with pytest.raises(ValidationFailed) as refused:
        services.referrals.propose(
            clerk, Proposal(case_id=case_id, person_name=" ", conduct=(), facts="")
        )
    assert set(refused.value.errors) == {"person_name", "conduct", "facts"}
    assert services.referrals.register(clerk) == []
    referral_id, _ = services.referrals.propose(clerk, _proposal(case_id))
    with pytest.raises(UserError, match="只有已移交的线索"):
        services.referrals.decide(discipline, referral_id, measure=Measure.CRITICISM)
    with pytest.raises(ValidationFailed):
        services.referrals.drop(leader, referral_id, "  ")
    services.referrals.send(
        leader, referral_id, recipient=ReferralRecipient.UNIT, recipient_name="杞县医疗保障局"
    )
    with pytest.raises(ValidationFailed) as future:
        services.referrals.decide(
            discipline,
            referral_id,
            measure=Measure.CRITICISM,
            decided_on=date(2026, 11, 26),
        )
    assert "不能晚于今天" in future.value.errors["decided_on"]
    with pytest.raises(ValidationFailed) as protective:
        services.referrals.decide(discipline, referral_id, measure=Measure.CLEARED)
    assert "核查情况" in protective.value.errors["note"]
    assert _referral(services, referral_id).state == ReferralState.SENT.value
    assert _audit_actions(services) == ["propose_referral", "send_referral"]


def test_a_proposal_not_sent_is_dropped_with_its_reason(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _case(services, clerk)
    referral_id, _ = services.referrals.propose(clerk, _proposal(case_id))
    services.referrals.drop(leader, referral_id, "经了解系系统故障所致，不属个人作风问题")
    dropped = _referral(services, referral_id)
    assert dropped.state == ReferralState.DROPPED.value and not dropped.number
    assert "系统故障" in _events(services, case_id)[-1].summary
    with pytest.raises(UserError, match="只有拟移交"):
        services.referrals.send(
            leader, referral_id, recipient=ReferralRecipient.UNIT, recipient_name="医保局"
        )


def test_protective_outcomes_are_recorded_too(
    services: AppServices, clerk: Actor, leader: Actor, discipline: Actor
) -> None:
    case_id = _case(services, clerk)
    referral_id, _ = services.referrals.propose(clerk, _proposal(case_id))
    services.referrals.send(
        leader,
        referral_id,
        recipient=ReferralRecipient.STATIONED_GROUP,
        recipient_name="县纪委监委驻县医保局纪检监察组",
    )
    services.referrals.decide(
        discipline,
        referral_id,
        measure=Measure.CLEARED,
        decided_on=date(2026, 11, 25),
        note="经核查，系上级系统故障，李某已按规定告知，予以澄清正名。",
    )
    row = services.referrals.register(discipline)[0]
    assert row.measure is Measure.CLEARED and row.measure.protects
    assert row.decided_by == "赵纪检"  # no one named: the one who recorded it


def test_wont_at_triage_proposes_a_referral_prefilled_from_the_case(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    with services.db.write() as session:
        from desktop_app.storage.models import Case

        case = session.get(Case, case_id)
        assert case is not None
        case.respondent_name = "王某"
        case.respondent_post = "窗口科员"
        case.respondent_unit = "杞县不动产登记中心"
        case.respondent_conduct = [Conduct.INDIFFERENT.value]
    services.cases.triage(clerk, case_id, WONT)
    rows = services.referrals.register(clerk)
    assert len(rows) == 1
    row = rows[0]
    assert (row.person_name, row.person_post, row.person_unit) == (
        "王某",
        "窗口科员",
        "杞县不动产登记中心",
    )
    assert row.conduct == (Conduct.WONT, Conduct.INDIFFERENT)
    assert row.state is ReferralState.PROPOSED
    events = _events(services, case_id)
    assert len(events) == 1 and "系统自动提出" in events[0].summary
    # Triaged again as 不给办: no second proposal.
    services.cases.triage(clerk, case_id, WONT)
    assert len(services.referrals.register(clerk)) == 1


def test_other_natures_propose_nothing(services: AppServices, clerk: Actor) -> None:
    _case(services, clerk, HARD)
    assert services.referrals.register(clerk) == []


def test_evidence_is_assembled_from_the_record(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    case_id = _case(services, clerk)
    department = services.site.departments()[0]
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=department.id, requirements="请依法办理并反馈。"
    )
    assignment_id = ids[0]
    services.assignments.issue(leader, assignment_id)
    services.assignments.receive(
        clerk, assignment_id, received_on=clock.now().date(), received_by="王科长"
    )
    services.assignments.request_extension(clerk, assignment_id, days=5, reason="需要请示上级")
    services.assignments.decide_extension(leader, assignment_id, approve=False)
    clock.at = clock.at + timedelta(days=20)  # well past the deadline
    urge_number, _ = services.assignments.urge(clerk, assignment_id)

    evidence = services.referrals.evidence(clerk, case_id)
    kinds = {e["kind"] for e in evidence}
    assert {"timeline", "overdue", "paper", "extension_refused"} <= kinds
    overdue = next(e for e in evidence if e["kind"] == "overdue")
    assert "至今未反馈" in overdue["text"] and "超期" in overdue["text"]
    paper = next(e for e in evidence if e["kind"] == "paper")
    assert paper["ref"] == urge_number and "催办通知" in paper["text"]
    refused = next(e for e in evidence if e["kind"] == "extension_refused")
    assert "需要请示上级" in refused["text"]
    assert [e["date"] for e in evidence] == sorted(e["date"] for e in evidence)


def test_the_letter_reads_back_and_printing_counts(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    case_id = _case(services, clerk)
    referral_id, _ = services.referrals.propose(clerk, _proposal(case_id))
    number, _ = services.referrals.send(
        leader,
        referral_id,
        recipient=ReferralRecipient.DISCIPLINE_ORGAN,
        recipient_name="中共杞县纪委 杞县监委",
    )
    out = tmp_path / "移交函.pdf"
    services.referrals.record_letter_output(leader, referral_id, out=out)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    squeezed = "".join(text.split())
    for expected in (
        "问题线索移交函",
        number,
        "中共杞县纪委杞县监委：",
        "李某",
        "推诿扯皮、冷硬推",
        "证据材料清单",
        "签发人：潘险峰",
        "2026年11月25日",
        "138****5678",
    ):
        assert expected in squeezed, expected
    assert "13812345678" not in squeezed  # personal numbers masked only
    assert "补打" not in squeezed
    assert _referral(services, referral_id).print_count == 1
    again = services.referrals.letter_pdf(leader, referral_id)
    (tmp_path / "again.pdf").write_bytes(again)
    second = subprocess.run(
        ["pdftotext", str(tmp_path / "again.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "补打" in second
    assert _audit_actions(services)[-1] == "print_referral"


def test_a_failed_print_counts_nothing(services: AppServices, clerk: Actor, leader: Actor) -> None:
    case_id = _case(services, clerk)
    referral_id, _ = services.referrals.propose(clerk, _proposal(case_id))
    services.referrals.send(
        leader, referral_id, recipient=ReferralRecipient.UNIT, recipient_name="杞县医疗保障局"
    )

    def jammed(_data: bytes) -> None:
        raise UserError("打印机卡纸")

    with pytest.raises(UserError, match="卡纸"):
        services.referrals.record_letter_output(leader, referral_id, deliver=jammed)
    assert _referral(services, referral_id).print_count == 0


def test_the_register_filters(
    services: AppServices, clerk: Actor, leader: Actor, discipline: Actor, clock: FixedClock
) -> None:
    case_id = _case(services, clerk)
    first, _ = services.referrals.propose(clerk, _proposal(case_id))
    clock.at = clock.at + timedelta(days=3)
    other = Proposal(
        case_id=case_id,
        person_name="张某",
        person_unit="杞县不动产登记中心",
        conduct=(Conduct.GRAFT,),
        facts="索要好处费。",
    )
    second, _ = services.referrals.propose(clerk, other)
    services.referrals.send(
        leader, second, recipient=ReferralRecipient.DISCIPLINE_ORGAN, recipient_name="县纪委"
    )
    services.referrals.decide(discipline, second, measure=Measure.INVESTIGATION)

    def found(**kwargs: object) -> list[int]:
        return services.referrals.ids(discipline, ReferralFilter(**kwargs))  # type: ignore[arg-type]

    assert found() == [second, first]  # newest first
    assert found(state=ReferralState.PROPOSED) == [first]
    assert found(measure=Measure.INVESTIGATION) == [second]
    assert found(unit="不动产") == [second]
    assert found(text="李某") == [first]
    assert found(text="杞纪窗移") == [second]
    assert found(proposed_to=date(2026, 11, 25)) == [first]
    assert found(proposed_from=date(2026, 11, 26)) == [second]


def test_the_command_line_lists_the_register(
    services: AppServices, clerk: Actor, leader: Actor, data_dir: Path
) -> None:
    case_id = _case(services, clerk)
    referral_id, _ = services.referrals.propose(clerk, _proposal(case_id))
    services.referrals.propose(clerk, _proposal(case_id))
    number, _ = services.referrals.send(
        leader, referral_id, recipient=ReferralRecipient.UNIT, recipient_name="杞县医疗保障局"
    )
    services.close()
    result = run_bbcs(
        "referrals",
        "--json",
        "--state",
        "sent",
        data_dir=data_dir,
        env=as_user("auditor", USER_PASSWORD),
    )
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["number"] for r in records] == [number]
    record = records[0]
    assert record["person"] == "李某" and record["unit"] == "杞县医疗保障局"
    assert record["conduct"] == ["shirk", "cold"] and record["state_label"] == "已移交"
    plain = run_bbcs("referrals", data_dir=data_dir, env=as_user("auditor", USER_PASSWORD))
    assert plain.returncode == 0, plain.stderr
    assert number in plain.stdout and "拟移交" in plain.stdout
    assert "共 2 条" in plain.stderr


def test_the_demo_has_every_state_and_every_measure(
    services: AppServices, clerk: Actor, leader: Actor, discipline: Actor
) -> None:
    from desktop_app.services.demo.referrals import add_demo_referrals

    for n in range(len(Measure) + 3):
        case_id = services.intake.register(clerk, person_form(name=f"群众{n}")).case_id
        services.cases.triage(clerk, case_id, HARD)
    ids = add_demo_referrals(services, clerk, leader, discipline)
    rows = services.referrals.register(discipline)
    assert {r.id for r in rows} == set(ids)
    assert {r.state for r in rows} == set(ReferralState)
    assert {r.measure for r in rows if r.measure} == set(Measure)
    assert all(r.person_unit for r in rows)
