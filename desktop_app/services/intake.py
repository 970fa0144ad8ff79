"""Intake (受理登记): register a matter, gap-free numbering, repeat-visit linking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from desktop_app.domain import intake_rules
from desktop_app.domain.case_flow import EventKind, advance
from desktop_app.domain.intake_rules import IntakeForm, number_needs_reason
from desktop_app.domain.permissions import Permission
from desktop_app.domain.validation import mask_phone
from desktop_app.domain.vocabulary import (
    OPEN_STATUSES,
    CaseStatus,
    ComplainantKind,
    Conduct,
    ProperChannel,
    ScreeningDecision,
)
from desktop_app.errors import NotFound, UserError, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.attachments import AttachmentStore, StoredFile
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.ownership import made_here, read_only_reason
from desktop_app.services.sealing import Sealer, audit_form, masked, normalized_phone
from desktop_app.services.timeline import add_event, attach_files
from desktop_app.storage import search
from desktop_app.storage.database import Database
from desktop_app.storage.models import Area as AreaRow
from desktop_app.storage.models import (
    Case,
    Complainant,
    Department,
    Site,
)
from desktop_app.storage.numbering import next_number


@dataclass(frozen=True)
class RelatedCase:
    """An earlier case of the same complainant, shown before saving."""

    id: int
    number: str
    title: str
    status: CaseStatus
    received_at: datetime
    visits_count: int
    matched_by: str  # "身份证号" / "统一社会信用代码" / "联系电话"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class NameConflict:
    """The record a known ID or credit code belongs to, when the form gives it another name:
    shown so the clerk can tell a renamed person from a typing error (issue 14 item 13)."""

    name: str  # as registered
    typed_name: str
    matched_by: str  # "身份证号" / "统一社会信用代码"
    phone: str
    address: str
    case_count: int
    latest_case: str  # its newest case's number, "" if none


@dataclass(frozen=True)
class IntakeResult:
    case_id: int
    number: str
    repeat_visit: bool  # True: recorded on the earlier open case instead of a new number
    changes: Changes


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based, as a person counts rows
    field: str
    message: str

    def __str__(self) -> str:
        label = intake_rules.FIELD_LABELS.get(self.field, self.field)
        return f"第{self.row}行 {label}：{self.message}"


class BatchValidationFailed(UserError):
    def __init__(self, errors: Sequence[RowError]) -> None:
        self.row_errors = list(errors)
        lines = "\n".join(str(e) for e in self.row_errors[:50])
        more = len(self.row_errors) - 50
        suffix = f"\n……另有 {more} 处错误" if more > 0 else ""
        super().__init__(f"有 {len(self.row_errors)} 处错误，未导入任何记录：\n{lines}{suffix}")


def case_number(short_name: str, year: int, seq: int) -> str:
    return f"{short_name}-{year}-{seq:04d}"


class CaseText(Protocol):
    """What of a case its search text takes: a Case, or a row of just these columns."""

    number: str
    title: str
    description: str
    stuck_at: str
    original_number: str


# The columns of CaseText, to read them without the rest of the case.
CASE_TEXT_COLUMNS: Final = (
    Case.number,
    Case.title,
    Case.description,
    Case.stuck_at,
    Case.original_number,
)


def search_fields(case: CaseText, complainant: Complainant) -> list[str]:
    """A case's search text: its phone only by the last four digits (the full number is found
    through its keyed hash, see :meth:`IntakeService.complainants_by_number`)."""
    return search.case_fields(
        case.number,
        complainant.name,
        case.title,
        case.description,
        case.stuck_at,
        complainant.phone_last4,
        case.original_number,
    )


class IntakeService:
    def __init__(
        self, db: Database, clock: Clock, attachments: AttachmentStore, sealer: Sealer
    ) -> None:
        self._db = db
        self._clock = clock
        self._attachments = attachments
        self._sealer = sealer

    # Checking -----------------------------------------------------------------------------

    def check(self, form: IntakeForm, *, batch: bool = False) -> tuple[IntakeForm, dict[str, str]]:
        """The cleaned form and its errors (field → message); nothing is written. ``batch``: a
        row of a batch file, whose messages name its columns."""
        clean, errors = self._check_fields(form, batch=batch)
        if "name" not in errors and not clean.confirm_name_change:
            conflict = self.name_conflict(clean)
            if conflict is not None:
                errors["name"] = intake_rules.name_conflict_message(
                    clean, conflict.name, batch=batch
                )
                field = "id_number" if clean.id_number else "credit_code"
                if not batch:  # the form marks the number too; a row's one message says it
                    errors.setdefault(field, f"已登记为“{conflict.name}”的{conflict.matched_by}")
        return clean, errors

    def _check_fields(self, form: IntakeForm, *, batch: bool) -> tuple[IntakeForm, dict[str, str]]:
        """The form's own rules, without asking who its ID or credit code belongs to."""
        clean = intake_rules.normalized(form)
        with self._db.read() as session:
            areas = set(session.scalars(select(AreaRow.name).where(AreaRow.active.is_(True))))
            departments = set(
                session.scalars(select(Department.id).where(Department.active.is_(True)))
            )
        now = self._clock.now()
        errors = intake_rules.validate(
            clean,
            today=now.date(),
            now=now,
            areas=areas,
            department_ids=departments,
            batch=batch,
        )
        for path in clean.attachments:
            if not path.is_file():
                errors["attachments"] = f"找不到材料文件：{path}"
        return clean, errors

    def check_many(self, forms: Sequence[IntakeForm]) -> tuple[list[IntakeForm], list[RowError]]:
        """Cleaned forms and every row's errors (rows count from 1). A row whose ID or credit
        code an earlier row gave another name is refused like one the database knows."""
        row_errors: list[RowError] = []
        cleaned: list[IntakeForm] = []
        earlier: dict[tuple[str, str], tuple[int, str]] = {}  # identity → (row, name)
        for row, form in enumerate(forms, start=1):
            clean, errors = self._check_fields(form, batch=True)
            identity = _identity(clean)
            if identity is not None and "name" not in errors and not clean.confirm_name_change:
                if identity in earlier:
                    earlier_row, earlier_name = earlier[identity]
                    if earlier_name != clean.name:
                        errors["name"] = intake_rules.name_conflict_message(
                            clean, earlier_name, batch=True, earlier_row=earlier_row
                        )
                else:
                    conflict = self.name_conflict(clean)
                    if conflict is not None:
                        errors["name"] = intake_rules.name_conflict_message(
                            clean, conflict.name, batch=True
                        )
            if identity is not None:
                earlier[identity] = (row, clean.name)
            cleaned.append(clean)
            row_errors.extend(RowError(row, name, message) for name, message in errors.items())
        return cleaned, row_errors

    def repeats(self, forms: Sequence[IntakeForm], refused: set[int]) -> list[RowError]:
        """Rows of a file (cleaned forms; ``refused``: rows already in error, by number from 1)
        that register again a matter the file or this site has already: the same person (ID,
        credit code or phone), title and 反映时间. A walk imported one file twice, and two
        identical rows of one file: each became cases of their own, without a word."""
        found: list[RowError] = []
        earlier: dict[tuple[object, ...], int] = {}
        with self._db.read() as session:
            for row, form in enumerate(forms, start=1):
                if row in refused:
                    continue
                person = _identity(form) or ("phone", normalized_phone(form.phone))
                when = (
                    form.received_at.replace(second=0, microsecond=0) if form.received_at else None
                )
                key = (form.name, person, form.title, when)
                if key in earlier:
                    found.append(
                        RowError(
                            row,
                            "title",
                            f"与第{earlier[key]}行重复（同一反映人、同一事项、同一反映时间）",
                        )
                    )
                    continue
                earlier[key] = row
                number = self._registered(session, form, when) if when is not None else None
                if number is not None:
                    found.append(
                        RowError(
                            row,
                            "title",
                            f"与已登记的事项 {number} 相同（同一反映人、同一事项、同一反映时间），"
                            "可能已经导入过",
                        )
                    )
        return found

    def _registered(self, session: Session, form: IntakeForm, when: datetime) -> str | None:
        """The number of a case here with the form's person, title and 反映时间 (the minute)."""
        if form.id_number:
            person = Complainant.id_lookup == self._sealer.lookup("id", form.id_number)
        elif form.credit_code:
            person = Complainant.credit_code == form.credit_code
        elif form.phone:
            person = Complainant.phone_lookup == self._sealer.lookup("phone", form.phone)
        else:
            return None
        return session.scalar(
            select(Case.number)
            .join(Complainant, Case.complainant_id == Complainant.id)
            .where(
                person,
                Case.title == form.title,
                Case.received_at >= when,
                Case.received_at < when + timedelta(minutes=1),
            )
            .limit(1)
        )

    def name_conflict(self, form: IntakeForm) -> NameConflict | None:
        """This site's record of the form's ID or credit code when it has another name."""
        clean = intake_rules.normalized(form)
        if not clean.name:
            return None
        with self._db.read() as session:
            existing = _known_complainant(session, clean, self._sealer)
            if existing is None or existing.name == clean.name:
                return None
            numbers = session.scalars(
                select(Case.number)
                .where(Case.complainant_id == existing.id)
                .order_by(Case.received_at.desc(), Case.id.desc())
            ).all()
            return NameConflict(
                existing.name,
                clean.name,
                intake_rules.identity_label(clean),
                mask_phone(phone) if (phone := self._sealer.phone(existing)) else "",
                existing.address,
                len(numbers),
                numbers[0] if numbers else "",
            )

    def related_cases(self, form: IntakeForm, limit: int = 10) -> list[RelatedCase]:
        """Cases of the same complainant (by ID, credit code or phone), open ones first."""
        clean = intake_rules.normalized(form)
        conditions = []
        if clean.id_number:
            conditions.append(Complainant.id_lookup == self._sealer.lookup("id", clean.id_number))
        if clean.credit_code:
            conditions.append(Complainant.credit_code == clean.credit_code)
        if clean.phone:
            wanted = self._sealer.lookup("phone", clean.phone)
            conditions.append(Complainant.phone_lookup == wanted)
        if not conditions:
            return []
        with self._db.read() as session:
            rows = session.execute(
                select(Case, Complainant)
                .join(Complainant, Case.complainant_id == Complainant.id)
                .where(or_(*conditions))
                .order_by(Case.received_at.desc())
                .limit(200)
            ).all()
            related = [
                RelatedCase(
                    case.id,
                    case.number,
                    case.title,
                    CaseStatus(case.status),
                    case.received_at,
                    case.visits_count,
                    _matched_by(clean, complainant, self._sealer),
                )
                for case, complainant in rows
            ]
        related.sort(key=lambda r: (not r.is_open, -r.received_at.timestamp()))
        return related[:limit]

    # Saving -------------------------------------------------------------------------------

    def register(self, actor: Actor, form: IntakeForm) -> IntakeResult:
        """Save one intake. Raises ValidationFailed (nothing saved) if any field is wrong."""
        actor.require(Permission.REGISTER_CASE)
        clean, errors = self.check(form)
        if errors:
            raise ValidationFailed(errors)
        with self._attachments.staged(clean.attachments) as stored, self._db.write() as session:
            return self._save(session, actor, clean, stored, self._clock.now())

    def register_many(self, actor: Actor, forms: Sequence[IntakeForm]) -> list[IntakeResult]:
        """Batch intake (网上反映 etc.): every row checked as in the form; all or nothing."""
        actor.require(Permission.REGISTER_CASE)
        if not forms:
            raise UserError("文件中没有可导入的记录")
        cleaned, row_errors = self.check_many(forms)
        if row_errors:
            raise BatchValidationFailed(row_errors)
        paths = [p for clean in cleaned for p in clean.attachments]
        now = self._clock.now()
        with self._attachments.staged(paths) as stored, self._db.write() as session:
            files = iter(stored)
            return [
                self._save(session, actor, clean, [next(files) for _ in clean.attachments], now)
                for clean in cleaned
            ]

    def _save(
        self,
        session: Session,
        actor: Actor,
        form: IntakeForm,
        files: Sequence[StoredFile],
        now: datetime,
    ) -> IntakeResult:
        site = session.scalar(select(Site).where(Site.is_local.is_(True)))
        if site is None:
            raise UserError("站点尚未初始化")
        complainant = self._complainant_for(session, actor, form, now)
        agent = agent_for(session, self._sealer, actor, form, now)
        earlier: Case | None = None
        if form.repeat_of_case_id is not None:
            earlier = session.get(Case, form.repeat_of_case_id)
            if earlier is None:
                raise NotFound("要关联的原事项不存在")
        if (
            earlier is not None
            and CaseStatus(earlier.status) in OPEN_STATUSES
            and not read_only_reason(session, earlier)
        ):
            return self._record_repeat_visit(
                session, actor, earlier, complainant, agent, form, files, now
            )
        # A closed case, or another site's (a county's case seen at the city, which only its
        # county may change): a new case here, linked to it.

        year = now.year
        seq = next_number(session, "case", year)
        case = Case(
            site_code=site.code,
            year=year,
            seq=seq,
            number=case_number(site.short_name, year, seq),
            complainant_id=complainant.id,
            title=form.title,
            description=form.description,
            area=form.area,
            channel=form.channel.value,
            stuck_at=form.stuck_at,
            stuck_department_id=form.stuck_department_id,
            visits_count=form.visits_count
            if earlier is None
            else max(form.visits_count, earlier.visits_count + 1),
            received_at=form.received_at or now,
            status=advance(None, EventKind.REGISTERED).value,
            causes=[],
            linked_case_id=earlier.id if earlier is not None else None,
            created_by_id=actor.user_id,
            updated_at=now,
            agent_id=agent.id if agent is not None else None,
            agent_relation=form.agent_relation if agent is not None else "",
            respondent_name=form.respondent_name,
            respondent_post=form.respondent_post,
            respondent_unit=form.respondent_unit,
            respondent_conduct=list(form.respondent_conduct),
            campaign=form.campaign,
        )
        session.add(case)
        session.flush()
        summary = f"受理登记，来源：{form.channel.label}，往返 {case.visits_count} 次"
        if agent is not None:
            summary += f"；{_agent_words(agent.name, form.agent_relation)}"
        if form.campaign:
            summary += f"；专项活动：{form.campaign}"
        if earlier is not None:
            summary += f"；关联原事项 {earlier.number}"
        add_event(
            session,
            case.id,
            EventKind.REGISTERED,
            summary,
            user_name=actor.display_name,
            at=now,
            data={"linked_case": earlier.uuid if earlier is not None else None},
        )
        self._attach(session, actor, case, files, now)
        search.reindex_case(session, case.id, search_fields(case, complainant))
        audit.record(
            session,
            at=now,
            user_name=actor.username,
            action="register",
            entity="case",
            entity_uuid=case.uuid,
            after=_case_snapshot(case, complainant, agent),
        )
        return IntakeResult(case.id, case.number, False, Changes(cases=True, case_ids=(case.id,)))

    def _record_repeat_visit(
        self,
        session: Session,
        actor: Actor,
        case: Case,
        complainant: Complainant,
        agent: Complainant | None,
        form: IntakeForm,
        files: Sequence[StoredFile],
        now: datetime,
    ) -> IntakeResult:
        advance(CaseStatus(case.status), EventKind.REPEAT_VISIT)
        before = case.visits_count
        case.visits_count = max(case.visits_count + 1, form.visits_count)
        case.version += 1
        case.updated_at = now
        who = complainant.name
        if agent is not None:  # this time someone came for them: said on the timeline
            who += f"（{_agent_words(agent.name, form.agent_relation)}）"
        add_event(
            session,
            case.id,
            EventKind.REPEAT_VISIT,
            f"{who}再次来访（第 {case.visits_count} 次）：{form.title}",
            user_name=actor.display_name,
            at=now,
            data={
                "title": form.title,
                "description": form.description,
                "agent": agent.uuid if agent is not None else None,
            },
        )
        self._attach(session, actor, case, files, now)
        audit.record(
            session,
            at=now,
            user_name=actor.username,
            action="repeat_visit",
            entity="case",
            entity_uuid=case.uuid,
            before={"visits_count": before},
            after={"visits_count": case.visits_count},
        )
        return IntakeResult(case.id, case.number, True, Changes(cases=True, case_ids=(case.id,)))

    def _complainant_for(
        self, session: Session, actor: Actor, form: IntakeForm, now: datetime
    ) -> Complainant:
        """The same person or enterprise is one record across visits."""
        existing = _known_complainant(session, form, self._sealer)
        if existing is not None and existing.name != form.name:
            # One number, two names: one of them is mistyped, or the person was renamed. Only
            # the clerk can tell; without their confirmation nothing is renamed.
            if not form.confirm_name_change:
                field = "id_number" if form.id_number else "credit_code"
                raise ValidationFailed(
                    {
                        "name": intake_rules.name_conflict_message(form, existing.name),
                        field: f"已登记为“{existing.name}”的{intake_rules.identity_label(form)}",
                    }
                )
            self._rename(session, actor, existing, form, now)
        values = {
            "kind": form.complainant_kind.value,
            "name": form.name,
            "id_number": form.id_number,
            "credit_code": form.credit_code,
            "contact_person": form.contact_person,
            "phone": form.phone,
            "address": form.address,
            # A reason excuses a doubtful number; for a number that checks out it means nothing
            # (typed before the number was put right) and is not kept.
            "id_override_reason": form.id_override_reason
            if number_needs_reason(form, now.date())
            else "",
        }
        sealed = ("id_number", "phone")
        if existing is None:
            complainant = Complainant(
                **{k: v for k, v in values.items() if k not in sealed},
            )
            self._sealer.store(complainant, id_number=form.id_number, phone=form.phone)
            session.add(complainant)
            session.flush()
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="create",
                entity="complainant",
                entity_uuid=complainant.uuid,
                after=audit_form(values),
            )
            return complainant
        before = {k: getattr(existing, k) for k in values if k not in sealed} | {
            "id_number": self._sealer.id_number(existing),
            "phone": self._sealer.phone(existing),
        }
        before_last4 = existing.phone_last4
        changed = {k: v for k, v in values.items() if v and before[k] != v}
        if changed:
            for key, value in changed.items():
                if key not in sealed:
                    setattr(existing, key, value)
            if changed.keys() & set(sealed):
                self._sealer.store(
                    existing,
                    id_number=str(changed.get("id_number", before["id_number"])),
                    phone=str(changed.get("phone", before["phone"])),
                )
            existing.version += 1
            if existing.phone_last4 != before_last4:  # the last four are in their search text
                _reindex_cases_of(session, existing)
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="update",
                entity="complainant",
                entity_uuid=existing.uuid,
                before=audit_form({k: before[k] for k in changed}),
                after=audit_form(changed),
            )
        return existing

    def _rename(
        self,
        session: Session,
        actor: Actor,
        complainant: Complainant,
        form: IntakeForm,
        now: datetime,
    ) -> None:
        """The clerk confirmed a renamed complainant: the new name on every earlier case, the
        reason on the audit log and on each of those cases' timeline, as a 更正 would."""
        old_name = complainant.name
        complainant.name = form.name
        complainant.version += 1
        audit.record(
            session,
            at=now,
            user_name=actor.username,
            action="rename",
            entity="complainant",
            entity_uuid=complainant.uuid,
            before={"name": old_name},
            after={"name": form.name, "reason": form.confirm_name_change},
        )
        summary = (
            f"受理登记时确认为同一反映人，姓名由“{old_name}”改为“{form.name}”，"
            f"理由：{form.confirm_name_change}"
        )
        cases = session.scalars(
            select(Case).where(Case.complainant_id == complainant.id).order_by(Case.id)
        ).all()
        for case in cases:
            advance(CaseStatus(case.status), EventKind.CORRECTED)
            add_event(
                session,
                case.id,
                EventKind.CORRECTED,
                summary,
                user_name=actor.display_name,
                at=now,
                data={"fields": ["name"], "reason": form.confirm_name_change},
            )
            case.version += 1
            case.updated_at = now
        search.reindex_cases(session, [(c.id, search_fields(c, complainant)) for c in cases])

    def _attach(
        self,
        session: Session,
        actor: Actor,
        case: Case,
        files: Sequence[StoredFile],
        now: datetime,
    ) -> None:
        attach_files(session, case.id, files, user_name=actor.display_name, at=now)


def _identity(form: IntakeForm) -> tuple[str, str] | None:
    """What makes a normalized form's complainant the same one across rows, if anything."""
    if form.id_number:
        return ("id_number", form.id_number)
    if form.credit_code:
        return ("credit_code", form.credit_code)
    return None


def _known_complainant(session: Session, form: IntakeForm, sealer: Sealer) -> Complainant | None:
    """This site's own record of a normalized form's ID or credit code (the city keeps its
    complainants apart from the counties' copies it may not change); an ID is found by its
    keyed hash, since the number itself is sealed."""
    own = made_here(Complainant)
    if form.id_number:
        wanted = sealer.lookup("id", form.id_number)
        return session.scalar(
            select(Complainant).where(Complainant.id_lookup == wanted, own).limit(1)
        )
    if form.credit_code:
        return session.scalar(
            select(Complainant).where(Complainant.credit_code == form.credit_code, own).limit(1)
        )
    return None


def _reindex_cases_of(session: Session, complainant: Complainant) -> None:
    """The complainant's cases are found by their name and their phone's last four digits, as
    they are now: every case of theirs is indexed again (only the columns it takes are read)."""
    rows = session.execute(
        select(Case.id, *CASE_TEXT_COLUMNS).where(Case.complainant_id == complainant.id)
    ).all()
    search.reindex_cases(session, [(row.id, search_fields(row, complainant)) for row in rows])


def _matched_by(form: IntakeForm, complainant: Complainant, sealer: Sealer) -> str:
    if form.id_number and complainant.id_lookup == sealer.lookup("id", form.id_number):
        return "身份证号"
    if form.credit_code and complainant.credit_code == form.credit_code:
        return "统一社会信用代码"
    return "联系电话"


def agent_for(
    session: Session, sealer: Sealer, actor: Actor, form: IntakeForm, now: datetime
) -> Complainant | None:
    """The agent (代办人) as a complainant row of their own, so their numbers are sealed like
    the person's: the same record again when their ID and name are known here, else a new
    one (an agent's record is never renamed from a case they came for). In the caller's
    session: intake and 更正 (services/corrections.py) link an agent the same way."""
    if not form.has_agent:
        return None
    if form.agent_id_number:
        wanted = sealer.lookup("id", form.agent_id_number)
        known = session.scalar(
            select(Complainant)
            .where(
                Complainant.id_lookup == wanted,
                Complainant.name == form.agent_name,
                made_here(Complainant),
            )
            .limit(1)
        )
        if known is not None:
            return known
    values = {
        "kind": ComplainantKind.PERSON.value,
        "name": form.agent_name,
        "id_number": form.agent_id_number,
        "phone": form.agent_phone,
    }
    agent = Complainant(kind=ComplainantKind.PERSON.value, name=form.agent_name)
    sealer.store(agent, id_number=form.agent_id_number, phone=form.agent_phone)
    session.add(agent)
    session.flush()
    audit.record(
        session,
        at=now,
        user_name=actor.username,
        action="create",
        entity="complainant",
        entity_uuid=agent.uuid,
        after=audit_form(values) | {"role": "agent"},
    )
    return agent


def _agent_words(name: str, relation: str) -> str:
    """代办人：王建国（舅舅）."""
    return f"代办人：{name}" + (f"（{relation}）" if relation else "")


def front_door_rows(case: Case, sealer: Sealer) -> tuple[tuple[str, str], ...]:
    """What intake and screening recorded beyond the person and the matter, as (label, text)
    lines for the case's page: the agent (numbers masked), who is complained about, the
    campaign, the old 台账's number, and how screening ended it. Only what was recorded."""
    rows: list[tuple[str, str]] = []
    agent = case.agent
    if agent is not None:
        shown = masked(sealer.id_number(agent), sealer.phone(agent))
        extra = "，".join(
            part
            for part in (
                case.agent_relation and f"与反映人关系：{case.agent_relation}",
                shown.phone and f"电话 {shown.phone}",
                shown.id_number and f"身份证 {shown.id_number}",
            )
            if part
        )
        rows.append(("代办人", agent.name + (f"（{extra}）" if extra else "")))
    respondent = respondent_text(case)
    if respondent:
        rows.append(("被反映对象", respondent))
    if case.campaign:
        rows.append(("专项活动", case.campaign))
    if case.original_number:  # brought in from the old Excel 台账 (issue 17)
        rows.append(("原编号", case.original_number))
    if case.screening_decision:
        rows.append(("甄别结论", screening_text(case)))
    return tuple(rows)


def respondent_text(case: Case) -> str:
    """李某某 · 综合窗口工作人员 · 县医保局；态度冷漠、推诿扯皮 ("" when none was named)."""
    who = " · ".join(
        part for part in (case.respondent_name, case.respondent_post, case.respondent_unit) if part
    )
    conduct = "、".join(
        Conduct(c).label if c in Conduct._value2member_map_ else c
        for c in case.respondent_conduct or []
    )
    if who and conduct:
        return f"{who}；{conduct}"
    return who or conduct


def screening_text(case: Case) -> str:
    """不予受理（信访）：理由 ……"""
    decision = ScreeningDecision(case.screening_decision).label
    channel = (
        ProperChannel(case.screening_channel).label
        if case.screening_channel in ProperChannel._value2member_map_
        else case.screening_channel
    )
    text = decision + (f"（应循{channel}渠道）" if channel else "")
    return f"{text}：{case.screening_reason}" if case.screening_reason else text


def _case_snapshot(
    case: Case, complainant: Complainant, agent: Complainant | None = None
) -> dict[str, object]:
    return {
        "number": case.number,
        "complainant": complainant.uuid,
        "title": case.title,
        "description": case.description,
        "area": case.area,
        "channel": case.channel,
        "stuck_at": case.stuck_at,
        "stuck_department_id": case.stuck_department_id,
        "visits_count": case.visits_count,
        "received_at": case.received_at,
        "status": case.status,
        # Issue 16: recorded only when given, so an entry without them reads as before.
        **{
            key: value
            for key, value in (
                ("agent", agent.uuid if agent is not None else None),
                ("agent_relation", case.agent_relation),
                ("respondent_name", case.respondent_name),
                ("respondent_post", case.respondent_post),
                ("respondent_unit", case.respondent_unit),
                ("respondent_conduct", list(case.respondent_conduct or [])),
                ("campaign", case.campaign),
            )
            if value
        },
    }
