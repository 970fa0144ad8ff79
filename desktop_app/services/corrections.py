"""更正: putting right what was registered wrong, on a case and on its complainant.

A typo in a name, a wrong area or channel, a mistyped phone, who is complained about (often learnt
after intake, and what a 问责 referral is prefilled from), who came for the person (the 代办人,
linked as intake links one: the same record when ID and name match, else a new one; or removed):
each is corrected with a reason,
checked exactly as intake checks it (``domain.intake_rules``), audited with before and after,
written on the timeline, re-indexed for search and sent with the next upload (the rows' version
goes up). The complainant is one record shared by all their cases, so correcting it touches each
of them: every one gets the timeline entry and new search text.

Issued papers are not touched: a slip's content was frozen when it was signed. What a paper
printed that the record no longer says is listed by :meth:`CorrectionService.printed_differences`
so the case can show it, and the duty leader may void the slip and issue it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.domain import intake_rules
from desktop_app.domain.case_flow import EventKind, advance
from desktop_app.domain.intake_rules import IntakeForm
from desktop_app.domain.permissions import Permission
from desktop_app.domain.validation import mask_id_number, mask_phone, normalize_text
from desktop_app.domain.vocabulary import CaseStatus, Channel, ComplainantKind, Conduct
from desktop_app.errors import NotFound, PermissionDenied, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.assignments import printed_matter
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.intake import agent_for, search_fields
from desktop_app.services.ownership import editable_case, made_here
from desktop_app.services.sealing import Sealer, audit_form
from desktop_app.services.timeline import add_event
from desktop_app.storage import search
from desktop_app.storage.database import Database
from desktop_app.storage.models import Area, Assignment, Case, Complainant, Department, Slip

MAX_REASON = 200


@dataclass(frozen=True)
class CaseFields:
    """What may be corrected on the case itself."""

    title: str
    description: str
    area: str
    channel: Channel
    stuck_at: str
    stuck_department_id: int | None
    received_at: datetime
    # Who is complained about: often learnt only after intake (seed 002: the clerk's name came
    # out at the 现场督办), and what a 问责 referral proposed from the case is prefilled from.
    respondent_name: str = ""
    respondent_post: str = ""
    respondent_unit: str = ""
    respondent_conduct: tuple[str, ...] = ()  # Conduct codes
    # Who came for the person (代办人): their own complainant record, numbers sealed; the
    # numbers here in clear, as the dialog shows them to the one correcting. All empty: none.
    agent_name: str = ""
    agent_phone: str = ""
    agent_id_number: str = ""
    agent_relation: str = ""


@dataclass(frozen=True)
class ComplainantFields:
    """What may be corrected on the complainant's record (a person stays a person)."""

    kind: ComplainantKind
    name: str
    id_number: str
    credit_code: str
    contact_person: str
    phone: str
    address: str
    id_override_reason: str


@dataclass(frozen=True)
class CorrectionForm:
    """The case's and the complainant's fields as the dialog holds them, and why."""

    case: CaseFields
    complainant: ComplainantFields
    reason: str = ""


@dataclass(frozen=True)
class SharedCase:
    """Another case of the same complainant: a complainant correction shows on it too."""

    id: int
    number: str
    title: str
    status: CaseStatus


@dataclass(frozen=True)
class CorrectionResult:
    changes: Changes
    # Field name → (before, after) as shown to a person, case fields first.
    corrected: dict[str, tuple[str, str]]
    summary: str


# Field names follow intake_rules.FIELD_LABELS, so intake's messages land beside the same fields.
CASE_FIELDS = tuple(f.name for f in fields(CaseFields))
COMPLAINANT_FIELDS = tuple(f.name for f in fields(ComplainantFields) if f.name != "kind")

# What a paper prints (documents.slip_content.SlipContent) → how the change is named.
_PRINTED_LABELS = {
    "complainant": "反映人姓名",
    "complainant_contact": "联系人及电话",
    "complainant_id_masked": "证件号码",
    "matter_title": "反映事项",
    "matter_description": "具体情况",
}
# The complainant's fields stored sealed (services/sealing.py).
_SEALED = frozenset({"id_number", "phone"})
# The agent's fields; a change to who they are links the case to another record (intake's
# matching), a change of relation is the case's own.
AGENT_FIELDS = ("agent_name", "agent_phone", "agent_id_number", "agent_relation")
_AGENT_IDENTITY = frozenset({"agent_name", "agent_phone", "agent_id_number"})
# How a stored before/after shows an agent's number: masked, never in clear.
_AGENT_MASKS = {"agent_phone": mask_phone, "agent_id_number": mask_id_number}
# Too long to quote in a banner: only said to have changed.
_NOT_QUOTED = frozenset({"matter_description"})


class CorrectionService:
    def __init__(self, db: Database, clock: Clock, sealer: Sealer) -> None:
        self._db = db
        self._clock = clock
        self._sealer = sealer

    # Reading ------------------------------------------------------------------------------

    def current(self, case_id: int) -> CorrectionForm:
        """The case's and its complainant's fields as stored (the ID number unmasked, since
        the person correcting it must see what is wrong)."""
        with self._db.read() as session:
            case = _get_case(session, case_id)
            person = _complainant_fields(case.complainant, self._sealer)
            return CorrectionForm(_case_fields(case, self._sealer), person)

    def open_for_correction(self, actor: Actor, case_id: int) -> CorrectionForm:
        """:meth:`current` for the 更正 dialog, which shows the full ID and phone: for those
        who may correct, and on the audit log as a reveal (the numbers themselves are not)."""
        actor.require(Permission.REGISTER_CASE)
        form = self.current(case_id)
        with self._db.write() as session:
            case = _get_case(session, case_id)
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="reveal_numbers",
                entity="complainant",
                entity_uuid=case.complainant.uuid,
                after={"case": case.number, "for": "correct"}
                | ({"agent": case.agent.uuid} if case.agent is not None else {}),
            )
        return form

    def shared_cases(self, case_id: int) -> list[SharedCase]:
        """The complainant's other cases, newest first: a correction of the person reaches them."""
        with self._db.read() as session:
            case = _get_case(session, case_id)
            rows = session.scalars(
                select(Case)
                .where(Case.complainant_id == case.complainant_id, Case.id != case.id)
                .order_by(Case.received_at.desc(), Case.id.desc())
            ).all()
            return [SharedCase(c.id, c.number, c.title, CaseStatus(c.status)) for c in rows]

    def printed_differences(self, case_id: int) -> list[str]:
        """For each valid (not voided) paper of the case, what it printed that has since been
        corrected, as one Chinese sentence per paper; empty when every paper still agrees."""
        from desktop_app.documents.slip_content import PaperKind

        with self._db.read() as session:
            case = _get_case(session, case_id)
            slips = session.scalars(
                select(Slip)
                .join(Assignment, Slip.assignment_id == Assignment.id)
                .where(Assignment.case_id == case.id, Slip.voided.is_(False))
                .order_by(Slip.issued_at, Slip.id)
            ).all()
            lines: list[str] = []
            for slip in slips:
                changed: list[str] = []
                content = self._sealer.open_content(slip.content)
                # Compared as this paper printed them: its kind's masking when it was signed.
                now = printed_matter(
                    case,
                    self._sealer,
                    phone_masked=bool(content.get("phone_masked", True)),
                    id_masked=bool(content.get("id_masked", True)),
                )
                for key, label in _PRINTED_LABELS.items():
                    printed = str(content.get(key, ""))
                    if key not in content or printed == now[key]:
                        continue
                    if key in _NOT_QUOTED:
                        changed.append(f"{label}已更正")
                    else:
                        changed.append(f"{label}已更正（{printed or '空'}→{now[key] or '空'}）")
                if changed:
                    kind = (
                        PaperKind(slip.kind).label
                        if slip.kind in PaperKind._value2member_map_
                        else slip.kind
                    )
                    lines.append(
                        f"{kind} {slip.number} 签发后，{'，'.join(changed)}；纸面内容不变，"
                        "如需可由带班领导作废后重新交办。"
                    )
            return lines

    # Checking -----------------------------------------------------------------------------

    def check(self, case_id: int, form: CorrectionForm) -> tuple[CorrectionForm, dict[str, str]]:
        """The cleaned form and its errors (field → Chinese message); nothing is written.

        Fields are checked by intake's own rules. Only what is being corrected is judged: a
        record registered under an older rule is not refused because of a field left alone.
        """
        with self._db.read() as session:
            case = _get_case(session, case_id)
            person = _complainant_fields(case.complainant, self._sealer)
            stored = CorrectionForm(_case_fields(case, self._sealer), person)
            clean = _normalized(form, stored)
            areas = set(session.scalars(select(Area.name).where(Area.active.is_(True))))
            departments = set(
                session.scalars(select(Department.id).where(Department.active.is_(True)))
            )
            errors: dict[str, str] = {}
            changed = _changed_fields(stored, clean)
            judged = set(changed)
            if judged & {"id_number", "credit_code", "id_override_reason"}:
                judged |= {"id_number", "credit_code"}
            if judged & set(AGENT_FIELDS):  # a relation alone names nobody
                judged.add("agent_name")
            now = self._clock.now()
            rule_errors = intake_rules.validate(
                _as_intake_form(clean, case.visits_count),
                today=now.date(),
                now=now,
                areas=areas,
                department_ids=departments,
            )
            errors.update({k: v for k, v in rule_errors.items() if k in judged})
            errors.update(
                _identity_taken(session, case.complainant, clean.complainant, changed, self._sealer)
            )
        if not clean.reason:
            errors["reason"] = "请填写更正原因（如：登记时姓名录错）"
        elif len(clean.reason) > MAX_REASON:
            errors["reason"] = f"更正原因最多{MAX_REASON}字"
        if not changed and not errors:
            errors["form"] = "没有改动任何内容，无需更正"
        return clean, errors

    # Saving -------------------------------------------------------------------------------

    def correct(self, actor: Actor, case_id: int, form: CorrectionForm) -> CorrectionResult:
        """Correct the case and/or its complainant in one transaction. Raises ValidationFailed
        (nothing written) when a field is wrong, the reason is missing or nothing changed."""
        actor.require(Permission.REGISTER_CASE)
        clean, errors = self.check(case_id, form)
        if errors:
            raise ValidationFailed(errors)
        now = self._clock.now()
        with self._db.write() as session:
            case = editable_case(session, case_id)
            person = case.complainant
            if person.origin_site:
                raise PermissionDenied("反映人信息由登记它的站点维护，本站点不能更正。")
            stored = CorrectionForm(
                _case_fields(case, self._sealer), _complainant_fields(person, self._sealer)
            )
            changed = _changed_fields(stored, clean)
            if not changed:  # changed meanwhile by someone else to exactly this
                raise ValidationFailed({"form": "没有改动任何内容，无需更正"})
            shown = _shown_changes(session, stored, clean, changed)
            case_changes = {k: shown[k] for k in CASE_FIELDS if k in shown}
            person_changes = {k: shown[k] for k in COMPLAINANT_FIELDS if k in shown}
            touched = [case]
            if case_changes:
                before = _audited_case(case, stored.case, case_changes)
                _apply_case(case, clean.case)
                if case_changes.keys() & set(AGENT_FIELDS):
                    self._relink_agent(session, actor, case, stored, clean, now)
                after = _audited_case(case, clean.case, case_changes)
                audit.record(
                    session,
                    at=now,
                    user_name=actor.username,
                    action="correct",
                    entity="case",
                    entity_uuid=case.uuid,
                    before=before,
                    after=after | {"reason": clean.reason},
                )
            if person_changes:
                before = {k: getattr(stored.complainant, k) for k in person_changes}
                for key in person_changes:
                    if key not in _SEALED:
                        setattr(person, key, getattr(clean.complainant, key))
                if person_changes.keys() & _SEALED:
                    self._sealer.store(
                        person, id_number=clean.complainant.id_number, phone=clean.complainant.phone
                    )
                person.version += 1
                audit.record(
                    session,
                    at=now,
                    user_name=actor.username,
                    action="correct",
                    entity="complainant",
                    entity_uuid=person.uuid,
                    before=audit_form(before),
                    after=audit_form({k: getattr(clean.complainant, k) for k in person_changes})
                    | {"reason": clean.reason, "case": case.number},
                )
                touched += session.scalars(
                    select(Case)
                    .where(Case.complainant_id == person.id, Case.id != case.id)
                    .order_by(Case.id)
                ).all()
            summary = _summary(
                case_changes, person_changes, clean.reason, ComplainantKind(person.kind)
            )
            for each in touched:
                advance(CaseStatus(each.status), EventKind.CORRECTED)
                text = summary if each is case else f"{summary}（在事项 {case.number} 中更正）"
                add_event(
                    session,
                    each.id,
                    EventKind.CORRECTED,
                    text,
                    user_name=actor.display_name,
                    at=now,
                    data={
                        "fields": sorted(case_changes if each is case else {})
                        + sorted(person_changes),
                        "reason": clean.reason,
                        "corrected_in": case.uuid,
                    },
                )
                each.version += 1
                each.updated_at = now
            search.reindex_cases(session, [(c.id, search_fields(c, person)) for c in touched])
            ids = tuple(c.id for c in touched)
        return CorrectionResult(
            Changes(cases=True, case_ids=ids), case_changes | person_changes, summary
        )

    def _relink_agent(
        self,
        session: Session,
        actor: Actor,
        case: Case,
        stored: CorrectionForm,
        clean: CorrectionForm,
        now: datetime,
    ) -> None:
        """The case's agent as corrected: found or made by intake's own matching (the same
        record when ID and name match, else a new one), or none when every box was cleared.
        The record found keeps its name; a phone corrected here is written on it (it is the
        same person), audited with the numbers masked."""
        new = clean.case
        form = _as_intake_form(clean, case.visits_count)
        if not form.has_agent:
            case.agent_id = None
            case.agent = None
            case.agent_relation = ""
            return
        case.agent_relation = new.agent_relation
        if not {k for k in _AGENT_IDENTITY if getattr(stored.case, k) != getattr(new, k)}:
            return  # only the relation changed: the same person came
        agent = agent_for(session, self._sealer, actor, form, now)
        assert agent is not None
        old_phone = self._sealer.phone(agent)
        if old_phone != new.agent_phone:
            self._sealer.store(
                agent, id_number=self._sealer.id_number(agent), phone=new.agent_phone
            )
            agent.version += 1
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="correct",
                entity="complainant",
                entity_uuid=agent.uuid,
                before=audit_form({"phone": old_phone}),
                after=audit_form({"phone": new.agent_phone})
                | {"role": "agent", "reason": clean.reason, "case": case.number},
            )
        case.agent_id = agent.id
        case.agent = agent


# Helpers ----------------------------------------------------------------------------------


def _get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("事项不存在")
    return case


def _case_fields(case: Case, sealer: Sealer) -> CaseFields:
    agent = case.agent
    return CaseFields(
        title=case.title,
        description=case.description,
        area=case.area,
        channel=Channel(case.channel),
        stuck_at=case.stuck_at,
        stuck_department_id=case.stuck_department_id,
        received_at=case.received_at,
        respondent_name=case.respondent_name,
        respondent_post=case.respondent_post,
        respondent_unit=case.respondent_unit,
        respondent_conduct=_conduct_order(tuple(case.respondent_conduct or ())),
        agent_name=agent.name if agent is not None else "",
        agent_phone=sealer.phone(agent) if agent is not None else "",
        agent_id_number=sealer.id_number(agent) if agent is not None else "",
        agent_relation=case.agent_relation if agent is not None else "",
    )


def _audited_case(case: Case, fields: CaseFields, changed: Mapping[str, object]) -> dict[str, Any]:
    """The changed case fields for the audit log: the agent's as the form held them (numbers
    masked) with the record the case links to, the rest as the case stores them."""
    out: dict[str, Any] = {}
    for key in changed:
        if key in AGENT_FIELDS:
            value = getattr(fields, key)
            mask = _AGENT_MASKS.get(key)
            out[key] = mask(value) if mask is not None and value else value
        else:
            out[key] = getattr(case, key)
    if changed.keys() & set(AGENT_FIELDS):
        out["agent"] = case.agent.uuid if case.agent is not None else None
    return out


def _complainant_fields(person: Complainant, sealer: Sealer) -> ComplainantFields:
    return ComplainantFields(
        kind=ComplainantKind(person.kind),
        name=person.name,
        id_number=sealer.id_number(person),
        credit_code=person.credit_code,
        contact_person=person.contact_person,
        phone=sealer.phone(person),
        address=person.address,
        id_override_reason=person.id_override_reason,
    )


def _as_intake_form(form: CorrectionForm, visits_count: int) -> IntakeForm:
    c, p = form.case, form.complainant
    return IntakeForm(
        complainant_kind=p.kind,
        name=p.name,
        id_number=p.id_number,
        credit_code=p.credit_code,
        contact_person=p.contact_person,
        phone=p.phone,
        address=p.address,
        title=c.title,
        description=c.description,
        area=c.area,
        channel=c.channel,
        stuck_at=c.stuck_at,
        stuck_department_id=c.stuck_department_id,
        visits_count=visits_count,
        received_at=c.received_at,
        id_override_reason=p.id_override_reason,
        respondent_name=c.respondent_name,
        respondent_post=c.respondent_post,
        respondent_unit=c.respondent_unit,
        respondent_conduct=c.respondent_conduct,
        agent_name=c.agent_name,
        agent_phone=c.agent_phone,
        agent_id_number=c.agent_id_number,
        agent_relation=c.agent_relation,
    )


def _normalized(form: CorrectionForm, stored: CorrectionForm) -> CorrectionForm:
    """Cleaned as intake cleans; the kind of complainant is the stored one."""
    person = replace(form.complainant, kind=stored.complainant.kind)
    clean = intake_rules.normalized(_as_intake_form(replace(form, complainant=person), 1))
    received = form.case.received_at.replace(microsecond=0)
    if received.replace(second=0) == stored.case.received_at.replace(second=0, microsecond=0):
        received = stored.case.received_at  # the dialog shows minutes: seconds were not touched
    return CorrectionForm(
        case=CaseFields(
            title=clean.title,
            description=clean.description,
            area=clean.area,
            channel=clean.channel,
            stuck_at=clean.stuck_at,
            stuck_department_id=clean.stuck_department_id,
            received_at=received,
            respondent_name=clean.respondent_name,
            respondent_post=clean.respondent_post,
            respondent_unit=clean.respondent_unit,
            # In Conduct's order, as intake's boxes list them: ticking the same set in another
            # order is no change.
            respondent_conduct=_conduct_order(clean.respondent_conduct),
            agent_name=clean.agent_name,
            agent_phone=clean.agent_phone,
            agent_id_number=clean.agent_id_number,
            agent_relation=clean.agent_relation,
        ),
        complainant=ComplainantFields(
            kind=clean.complainant_kind,
            name=clean.name,
            id_number=clean.id_number,
            credit_code=clean.credit_code,
            contact_person=clean.contact_person,
            phone=clean.phone,
            address=clean.address,
            id_override_reason=clean.id_override_reason,
        ),
        reason=normalize_text(form.reason),
    )


def _conduct_order(codes: tuple[str, ...]) -> tuple[str, ...]:
    """Known codes in Conduct's order, then any others as given (intake_rules refuses them)."""
    order = {code: index for index, code in enumerate(Conduct._value2member_map_)}
    return tuple(sorted(codes, key=lambda c: order.get(c, len(order))))


def _changed_fields(stored: CorrectionForm, clean: CorrectionForm) -> list[str]:
    changed = [k for k in CASE_FIELDS if getattr(stored.case, k) != getattr(clean.case, k)]
    changed += [
        k
        for k in COMPLAINANT_FIELDS
        if getattr(stored.complainant, k) != getattr(clean.complainant, k)
    ]
    return changed


def _identity_taken(
    session: Session,
    person: Complainant,
    new: ComplainantFields,
    changed: list[str],
    sealer: Sealer,
) -> dict[str, str]:
    """An ID or credit code that already belongs to another of this site's complainants: intake
    would treat the two as one person, so the correction is refused rather than merged. An ID
    is found by its keyed hash (the number is sealed)."""
    errors: dict[str, str] = {}
    for key, column, label in (
        ("id_number", Complainant.id_lookup, "身份证号"),
        ("credit_code", Complainant.credit_code, "统一社会信用代码"),
    ):
        value = getattr(new, key)
        if key not in changed or not value:
            continue
        wanted = sealer.lookup("id", value) if key == "id_number" else value
        other = session.scalar(
            select(Complainant)
            .where(column == wanted, Complainant.id != person.id, made_here(Complainant))
            .limit(1)
        )
        if other is not None:
            errors[key] = f"该{label}已登记为另一反映人“{other.name}”，请核实后再更正"
    return errors


def _apply_case(case: Case, new: CaseFields) -> None:
    case.title = new.title
    case.description = new.description
    case.area = new.area
    case.channel = new.channel.value
    case.stuck_at = new.stuck_at
    case.stuck_department_id = new.stuck_department_id
    case.received_at = new.received_at
    case.respondent_name = new.respondent_name
    case.respondent_post = new.respondent_post
    case.respondent_unit = new.respondent_unit
    case.respondent_conduct = list(new.respondent_conduct)


def _shown_changes(
    session: Session, stored: CorrectionForm, clean: CorrectionForm, changed: list[str]
) -> dict[str, tuple[str, str]]:
    """Each changed field as a person reads it: names for departments, labels for channels,
    masked ID numbers."""
    shown: dict[str, tuple[str, str]] = {}
    for key in changed:
        if key in CASE_FIELDS:
            old, new = getattr(stored.case, key), getattr(clean.case, key)
        else:
            old, new = getattr(stored.complainant, key), getattr(clean.complainant, key)
        shown[key] = (_show(session, key, old), _show(session, key, new))
    return shown


def _show(session: Session, key: str, value: Any) -> str:
    if value is None or value == "" or value == ():
        return ""
    if key == "stuck_department_id":
        department = session.get(Department, value)
        return department.name if department else str(value)
    if key == "channel":
        return Channel(value).label
    if key == "received_at":
        return f"{value:%Y-%m-%d %H:%M}"
    if key == "respondent_conduct":
        return "、".join(
            Conduct(c).label if c in Conduct._value2member_map_ else str(c) for c in value
        )
    if key in ("id_number", "agent_id_number"):
        return mask_id_number(str(value))
    if key in ("phone", "agent_phone"):  # the timeline and audit log are stored: none in clear
        return mask_phone(str(value))
    return str(value)


def _summary(
    case_changes: Mapping[str, tuple[str, str]],
    person_changes: Mapping[str, tuple[str, str]],
    reason: str,
    kind: ComplainantKind,
) -> str:
    parts: list[str] = []
    for key, (old, new) in (*case_changes.items(), *person_changes.items()):
        label = intake_rules.FIELD_LABELS.get(key, key)
        if key == "name":
            label = "姓名" if kind is ComplainantKind.PERSON else "企业名称"
        if key == "description":
            parts.append(f"{label}已改写")
        else:
            parts.append(f"{label}：{old or '（空）'}→{new or '（空）'}")
    what = "更正事项信息" if not person_changes else "更正反映人信息"
    if case_changes and person_changes:
        what = "更正事项和反映人信息"
    return f"{what}：{'；'.join(parts)}。原因：{reason}"
