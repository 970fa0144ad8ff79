"""SQLAlchemy 2 models (typed ``Mapped[]``).

Every record that travels to the city later carries a ``uuid`` and a ``version`` that is bumped on
each change, so bundles can be merged idempotently. Times are stored as naive local wall-clock
datetimes: a county window lives in one time zone and its paper shows local times.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import uuid6
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    validates,
)

from desktop_app.domain.name_order import name_key
from desktop_app.domain.settings import EXPORT_GENERATION


def new_uuid() -> str:
    """A record's UUID, of version 7 (RFC 9562): the time of its making first, so that a site's
    records come in UUID order and each UUID index, here and at the city, grows at its end
    (a county's first upload: a random version 4 put every row in a random place of five
    indexes, 0.6 s of the 1.8 s its 515,000 case events took)."""
    return str(uuid6.uuid7())


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class Synced:
    """Columns every record that travels in bundles has."""

    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Exported(Synced):
    """A record a county sends up to its city (DESIGN.md §6).

    ``change_seq`` is the export generation that carries the row: every insert or update sets it
    to the generation after the last export (``_mark_for_export`` below), so an export only bumps
    the generation and reads ``acknowledged < change_seq <= its own``; rows written by bulk
    inserts (the demo) are NULL and stamped by the next export. A bundle holds every row since
    the generation the city last acknowledged, so a lost stick costs nothing.

    ``origin_site`` is empty for the site's own records and, for a record received in a bundle,
    the code of the site that sent it: only that site may send the record again.
    """

    change_seq: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    origin_site: Mapped[str] = mapped_column(String(6), default="", server_default="")


class Site(Base):
    """An installation (站点). The row with ``is_local`` is this one; others are trusted peers.

    A peer's row carries the public keys registered with ``bbcs keys trust``; ``trust_state`` is
    ``trusted`` or ``revoked`` (bundles from a revoked site are refused). Keys replaced by a
    rotation are kept in ``previous_keys`` for the record.
    """

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(10))
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    slip_prefix: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    signing_public_key: Mapped[str] = mapped_column(String(64), default="", server_default="")
    encryption_public_key: Mapped[str] = mapped_column(String(64), default="", server_default="")
    keys_created_at: Mapped[str] = mapped_column(String(40), default="", server_default="")
    trust_state: Mapped[str] = mapped_column(String(10), default="", server_default="")
    trusted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    previous_keys: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py


class User(Synced, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    phone: Mapped[str] = mapped_column(String(30), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py
    # Consecutive wrong passwords, and until when the account is locked for them (0008).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Department(Exported, Base):
    """职能部门 / 承办单位.

    ``site_code`` is empty for this site's own departments and names the owning site for those
    received from another site (a county's departments at the city, the city's at a county).
    """

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("site_code", "name", name="uq_departments_site_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_code: Mapped[str] = mapped_column(String(6), default="", server_default="")
    name: Mapped[str] = mapped_column(String(60))
    principal_leader: Mapped[str] = mapped_column(String(40), default="")
    contact_person: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py


class Area(Base):
    """领域 — configurable list."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Complainant(Exported, Base):
    """反映人: a person or an enterprise."""

    __tablename__ = "complainants"
    __table_args__ = (
        Index("ix_complainants_id_lookup", "id_lookup"),
        Index("ix_complainants_credit_code", "credit_code"),
        Index("ix_complainants_phone_lookup", "phone_lookup"),
        Index("ix_complainants_phone_last4", "phone_last4"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    # The name's place in lists, by pinyin (domain/name_order.py): set with the name here and by
    # an insert that leaves it out; a bundle's rows get theirs where they land (sealing.py
    # ``derived_sql``, ``Sealer.sealed_values``). Not signed: derived from the signed name.
    name_key: Mapped[str] = mapped_column(
        Text,
        default=lambda context: name_key(context.get_current_parameters().get("name", "")),
        server_default="",
    )
    # ID and phone sealed at rest (services/sealing.py): ciphertext under the data key outside
    # the database, a keyed hash of each for exact-match lookups, a phone's last four in clear.
    id_number_sealed: Mapped[str] = mapped_column(Text, default="")
    id_lookup: Mapped[str] = mapped_column(String(64), default="")
    credit_code: Mapped[str] = mapped_column(String(18), default="")
    contact_person: Mapped[str] = mapped_column(String(40), default="")
    phone_sealed: Mapped[str] = mapped_column(Text, default="")
    phone_lookup: Mapped[str] = mapped_column(String(64), default="")
    phone_last4: Mapped[str] = mapped_column(String(4), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    # A wrong-looking but real ID (e.g. an old card with a bad check digit) is accepted only with
    # a recorded reason.
    id_override_reason: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py

    @validates("name")
    def _keep_name_key(self, _key: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


class Case(Exported, Base):
    """反映事项."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("site_code", "year", "seq", name="uq_cases_site_year_seq"),
        Index("ix_cases_received_at", "received_at"),
        Index("ix_cases_status_received", "status", "received_at"),
        Index("ix_cases_area", "area"),
        Index("ix_cases_channel", "channel"),
        Index("ix_cases_stuck_department", "stuck_department_id"),
        Index("ix_cases_complainant", "complainant_id"),
        Index("ix_cases_due_date", "due_date"),
        Index("ix_cases_basis_due_date", "basis_due_date"),
        # Only ever asked for with the case's status (concluded); the received date for the
        # ledger's order of 已超期 and 今日到期 (migration 0022).
        Index("ix_cases_status_visit_due", "status", "visit_due_date", "received_at"),
        Index("ix_cases_number_title", "number", "title"),
        Index("ix_cases_issue_class", "issue_class_id"),
        Index("ix_cases_status_visit_retry", "status", "visit_retry_on"),
        Index("ix_cases_campaign", "campaign"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    complainant_id: Mapped[int] = mapped_column(ForeignKey("complainants.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    stuck_at: Mapped[str] = mapped_column(String(200), default="")
    stuck_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id"), nullable=True
    )
    visits_count: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20))
    nature: Mapped[str | None] = mapped_column(String(12), nullable=True)
    approach: Mapped[str | None] = mapped_column(String(12), nullable=True)
    causes: Mapped[list[str]] = mapped_column(JSON, default=list)
    triaged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)
    concluded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    visit_grade: Mapped[str | None] = mapped_column(String(24), nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # How due_date was computed (DESIGN.md §4): start, N working days, rule and calendar used.
    due_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    due_rule: Mapped[str | None] = mapped_column(String(30), nullable=True)
    due_calendar_version: Mapped[str | None] = mapped_column(String(80), nullable=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # 办不了: the department's signed written basis (不能办依据) is due separately.
    basis_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    basis_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Every concluded case gets a return visit (回访) by this date.
    visit_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    visit_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    linked_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py
    # Issue 16 (migration 0012) ----------------------------------------------------------------
    # Who came for the person concerned (代办人, e.g. an uncle for his niece): a complainant row
    # of its own, so the agent's numbers are sealed like the person's; duplicate checks and
    # visits go to ``complainant``.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("complainants.id"), nullable=True)
    agent_relation: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # Who is complained about: the official or window named (for accountability and statistics).
    respondent_name: Mapped[str] = mapped_column(String(40), default="", server_default="")
    respondent_post: Mapped[str] = mapped_column(String(60), default="", server_default="")
    respondent_unit: Mapped[str] = mapped_column(String(100), default="", server_default="")
    respondent_conduct: Mapped[list[str]] = mapped_column(JSON, default=list)  # Conduct codes
    campaign: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # Ended at screening (status screened_out): 不予受理 or 转办, to which channel, why.
    screening_decision: Mapped[str] = mapped_column(String(16), default="", server_default="")
    screening_channel: Mapped[str] = mapped_column(String(16), default="", server_default="")
    screening_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    screened_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # 办不了: the department's signed written basis arrived (or a leader waived it, with why).
    basis_received_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    basis_signed_by: Mapped[str] = mapped_column(String(40), default="", server_default="")
    basis_waived_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    basis_waived_by: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The reply to the complainant (the latest; each is an event of the timeline).
    replied_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reply_method: Mapped[str] = mapped_column(String(12), default="", server_default="")
    # Return-visit attempts so far, and when an unreached person is to be tried again.
    visit_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    visit_retry_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    visit_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)  # VisitReason codes
    # The class of matters (一类事) this case belongs to.
    issue_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("issue_classes.id"), nullable=True
    )
    # Issue 17 (migration 0014): a case brought in from the office's old Excel 台账 keeps the
    # number it had there (原编号). Such a case is numbered in a historical series of its own
    # (杞县-LS2021-0001, counter kind "case-historical") and stored with a negative ``seq``, so
    # it meets neither today's gap-free series nor the (site, year, seq) key.
    original_number: Mapped[str] = mapped_column(String(60), default="", server_default="")
    # Issue 18 (migration 0020): its departments have answered (an assignment 已反馈, none
    # unsigned, issued or received), for 待答复. Derived: kept by triggers on assignments on both
    # engines, never written by the program, not signed (integrity.UNSIGNED_COLUMNS), not sent.
    departments_answered: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Issue 15 (migration 0027): a hash over its 办理记录 (case_events: each line's UUID, time,
    # kind, summary, data and user), kept by the program at each commit that adds one
    # (integrity.py) and signed with the case: a line deleted or reworded by SQL is named by
    # bbcs check. It travels with the case; the receiver checks it against the lines it got.
    events_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    complainant: Mapped[Complainant] = relationship(lazy="joined", foreign_keys=[complainant_id])
    agent: Mapped[Complainant | None] = relationship(foreign_keys=[agent_id])
    stuck_department: Mapped[Department | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", order_by="Attachment.id", cascade="all, delete-orphan"
    )


class CaseEvent(Exported, Base):
    """One entry of a case's timeline; the case status is the result of these."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_name: Mapped[str] = mapped_column(String(40), default="")

    case: Mapped[Case] = relationship(back_populates="events")


class Attachment(Exported, Base):
    """A material (scan, photo, document) stored by SHA-256 under the data dir."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_case", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime)
    added_by: Mapped[str] = mapped_column(String(40), default="")

    case: Mapped[Case] = relationship(back_populates="attachments")


class NumberSequence(Base):
    """Gap-free counters, bumped in the same transaction as the record that takes the number."""

    __tablename__ = "number_sequences"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """Who changed what, when, with before/after; hash-chained so tampering shows."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_entity", "entity", "entity_uuid"),
        # The auditor's search (services/audit_log.py): newest first within a user or an action.
        Index("ix_audit_user", "user_name", "id"),
        Index("ix_audit_action", "action", "id"),
        Index("ix_audit_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_name: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(30))
    entity_uuid: Mapped[str] = mapped_column(String(36))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Setting(Base):
    """Plain key/value settings (declared with types and labels in domain.settings)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py


class HolidayOverride(Synced, Base):
    """A site's correction of the holiday calendar: next year's schedule, a local closure."""

    __tablename__ = "holiday_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(40), default="")
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py


class TableSeal(Base):
    """The keyed seal over every row of a small digested table (integrity.py ``SEALED_SETS``):
    a row's digest shows it was changed, not that a row beside it was deleted (a holiday taken
    out by SQL moved deadlines back; a deadline rule deleted fell back to its default). Kept by
    the program at each commit that writes the table; ``keys`` holds each row's primary key
    with the words that name it (a day, a name), so ``bbcs check`` names the ones gone. Not
    digested itself: the seal is a keyed hash."""

    __tablename__ = "table_seals"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seal: Mapped[str] = mapped_column(String(64))
    keys: Mapped[list[Any]] = mapped_column(JSON, default=list)


class CalendarYear(Base):
    """A year whose full holiday schedule was imported, so deadlines in it are not provisional."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), default="")
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py


class DutyStaff(Synced, Base):
    """Someone on the window rota: a window clerk (坐窗人员) or a duty leader (带班领导)."""

    __tablename__ = "duty_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    duty_role: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py


class DutyShift(Synced, Base):
    """Who sits the window, or leads, on a day (and which half of it)."""

    __tablename__ = "duty_shifts"
    __table_args__ = (
        UniqueConstraint("day", "duty_role", "period", name="uq_duty_shift_slot"),
        Index("ix_duty_shifts_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    duty_role: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(10), default="day")  # day | am | pm
    staff_id: Mapped[int] = mapped_column(ForeignKey("duty_staff.id"))
    note: Mapped[str] = mapped_column(String(100), default="")
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py

    staff: Mapped[DutyStaff] = relationship(lazy="joined")


class Assignment(Exported, Base):
    """交办: an order to one department about one case, with a deadline in working days.

    Kinds: assign (交办, the lead), assist (协办), supervise (督办, an escalation). The original
    deadline is kept when an extension moves ``due_date``, for on-time statistics.
    """

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_case", "case_id"),
        Index("ix_assignments_due", "state", "due_date"),
        Index("ix_assignments_department", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), nullable=True)
    requirements: Mapped[str] = mapped_column(Text)
    due_start: Mapped[date] = mapped_column(Date)
    working_days: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    original_due_date: Mapped[date] = mapped_column(Date)
    deadline_note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    signer_name: Mapped[str] = mapped_column(String(40), default="")
    received_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    received_by: Mapped[str] = mapped_column(String(40), default="")
    responded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    response: Mapped[str] = mapped_column(Text, default="")
    extension_state: Mapped[str] = mapped_column(String(12), default="")
    extension_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    extension_reason: Mapped[str] = mapped_column(String(200), default="")
    returned_reason: Mapped[str] = mapped_column(String(200), default="")
    urged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py

    department: Mapped[Department] = relationship(lazy="joined")


class Slip(Exported, Base):
    """A numbered paper (交办单, 督办单, 催办通知, 依据告知单) as issued: immutable content."""

    __tablename__ = "slips"
    __table_args__ = (
        UniqueConstraint("site_code", "kind", "year", "seq", name="uq_slips_site_kind_year_seq"),
        UniqueConstraint("site_code", "number", name="uq_slips_site_number"),
        Index("ix_slips_assignment", "assignment_id"),
        Index(
            "ix_slips_register",
            "issued_at",
            "id",
            "kind",
            "voided",
            "print_count",
            "number",
            "assignment_id",
        ),
        Index("ix_slips_assignment_issued", "assignment_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Empty for this site's papers; the issuing site's code for papers received in a bundle.
    site_code: Mapped[str] = mapped_column(String(6), default="", server_default="")
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"))
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    qr_payload: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    print_count: Mapped[int] = mapped_column(Integer, default=0)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    void_reason: Mapped[str] = mapped_column(String(200), default="")
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py


class CauseCode(Base):
    """A cause (作风不实、政策不明 …) with a stable code: reference data the city sends down
    (DESIGN.md §6), so a city adds up its counties' causes."""

    __tablename__ = "cause_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    label: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Referral(Exported, Base):
    """问责: a referral of an official for accountability, from a case (and an assignment).

    Proposed by the window, sent (signed, numbered: the 问题线索移交函) by the duty leader, and
    decided by discipline staff: the measure, or an outcome that protects the cadre. ``evidence``
    is assembled from the record when it is sent; ``content`` is the letter as issued.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("site_code", "year", "seq", name="uq_referrals_site_year_seq"),
        Index("ix_referrals_case", "case_id"),
        Index("ix_referrals_state", "state", "proposed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_code: Mapped[str] = mapped_column(String(6), default="", server_default="")
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), nullable=True)
    person_name: Mapped[str] = mapped_column(String(40))
    person_post: Mapped[str] = mapped_column(String(60), default="")
    person_unit: Mapped[str] = mapped_column(String(100), default="")
    conduct: Mapped[list[str]] = mapped_column(JSON, default=list)  # Conduct codes
    facts: Mapped[str] = mapped_column(Text, default="")
    recipient: Mapped[str] = mapped_column(String(20), default="")  # ReferralRecipient
    recipient_name: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(12))  # ReferralState
    proposed_at: Mapped[datetime] = mapped_column(DateTime)
    proposed_by: Mapped[str] = mapped_column(String(40))
    # Set when sent: the letter's number, signer and content (frozen, like a slip's).
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    number: Mapped[str] = mapped_column(String(60), default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    signer_name: Mapped[str] = mapped_column(String(40), default="")
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    print_count: Mapped[int] = mapped_column(Integer, default=0)
    # Recorded by discipline staff.
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(40), default="")
    measure: Mapped[str] = mapped_column(String(20), default="")  # Measure
    decision_note: Mapped[str] = mapped_column(Text, default="")
    dropped_reason: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py

    case: Mapped[Case] = relationship()
    assignment: Mapped[Assignment | None] = relationship()


class IssueClass(Exported, Base):
    """一类事: a common problem linking cases across departments and time, with its systemic
    fix (a rule revised, a 一次性告知 list issued, a process shortened), owner and deadline."""

    __tablename__ = "issue_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_code: Mapped[str] = mapped_column(String(6), default="", server_default="")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    area: Mapped[str] = mapped_column(String(40), default="")
    causes: Mapped[list[str]] = mapped_column(JSON, default=list)  # cause codes
    fix_kind: Mapped[str] = mapped_column(String(20), default="")  # FixKind
    fix_description: Mapped[str] = mapped_column(Text, default="")
    owner_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id"), nullable=True
    )
    owner_name: Mapped[str] = mapped_column(String(40), default="")
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py

    owner_department: Mapped[Department | None] = relationship()


class EarlyWarning(Base):
    """苗头性、倾向性问题: a rise of matters of one department × area × cause, as computed (the
    numbers kept, so a person sees why) and what a person decided about it. Site-local."""

    __tablename__ = "early_warnings"
    __table_args__ = (
        UniqueConstraint("month", "department_id", "area", "cause", name="uq_warnings_key"),
        Index("ix_warnings_state", "state", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # 2026-12
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    area: Mapped[str] = mapped_column(String(40), default="")
    cause: Mapped[str] = mapped_column(String(12), default="")
    count: Mapped[int] = mapped_column(Integer)
    baseline: Mapped[float] = mapped_column(Float)  # the expected count from earlier months
    months: Mapped[int] = mapped_column(Integer)  # how many earlier months the baseline uses
    p_value: Mapped[float] = mapped_column(Float)
    raised_at: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(12), default="open")  # open | dismissed | classed
    decided_by: Mapped[str] = mapped_column(String(40), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    issue_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("issue_classes.id"), nullable=True
    )


class Meeting(Exported, Base):
    """联席会议 / 会商: who met, about which cases and classes, what they decided; the minutes
    (会议纪要) are printed from it, numbered."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("site_code", "year", "seq", name="uq_meetings_site_year_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_code: Mapped[str] = mapped_column(String(6), default="", server_default="")
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(60))
    held_at: Mapped[datetime] = mapped_column(DateTime)
    place: Mapped[str] = mapped_column(String(100), default="")
    chair: Mapped[str] = mapped_column(String(40))
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)  # departments present
    topic: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    recorder: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py

    items: Mapped[list[MeetingItem]] = relationship(
        back_populates="meeting", order_by="MeetingItem.id", cascade="all, delete-orphan"
    )


class MeetingItem(Exported, Base):
    """One matter a meeting took up (a case or a class), its decision, and the follow-up
    assignment made from that decision (signed like any slip)."""

    __tablename__ = "meeting_items"
    __table_args__ = (
        Index("ix_meeting_items_meeting", "meeting_id"),
        Index("ix_meeting_items_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    issue_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("issue_classes.id"), nullable=True
    )
    discussion: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), nullable=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # integrity.py (0013)

    meeting: Mapped[Meeting] = relationship(back_populates="items")


class Bundle(Base):
    """A bundle written for another site or received from one (DESIGN.md §6).

    ``direction`` is ``out`` or ``in``; ``kind`` is ``data`` (county → city), ``reference``
    (city → counties) or ``ack``. For an outgoing data bundle ``generation`` is the export
    generation it stamped and ``acked_at`` is set when the city's acknowledgement is imported.
    """

    __tablename__ = "bundles"
    __table_args__ = (
        UniqueConstraint("direction", "bundle_id", name="uq_bundles_direction_id"),
        Index("ix_bundles_peer", "peer_code", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[str] = mapped_column(String(36))
    direction: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(10))
    peer_code: Mapped[str] = mapped_column(String(6))
    generation: Mapped[int] = mapped_column(Integer, default=0)
    base_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    location: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    user_name: Mapped[str] = mapped_column(String(40), default="")


class SyncConflict(Base):
    """A record that changed at both ends: kept for a person to decide, never dropped."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (Index("ix_sync_conflicts_open", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    bundle_id: Mapped[str] = mapped_column(String(36))
    site_code: Mapped[str] = mapped_column(String(6))
    entity: Mapped[str] = mapped_column(String(30))
    entity_uuid: Mapped[str] = mapped_column(String(36))
    local_version: Mapped[int] = mapped_column(Integer)
    incoming_version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    incoming: Mapped[dict[str, Any]] = mapped_column(JSON)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(40), default="")
    resolution: Mapped[str] = mapped_column(String(20), default="")


@event.listens_for(Session, "before_flush")
def _mark_for_export(session: Session, _context: object, _instances: object) -> None:
    """Every inserted or changed ``Exported`` row belongs to the next export generation."""
    changed = [obj for obj in session.new if isinstance(obj, Exported)]
    for obj in session.dirty:
        if isinstance(obj, Exported) and session.is_modified(obj, include_collections=False):
            # Every change travels with a new version, even one a service did not count (a
            # reprint's print_count): the same version with other content is a conflict.
            if not inspect(obj).attrs.version.history.has_changes():
                obj.version = (obj.version or 0) + 1
            changed.append(obj)
    if not changed:
        return
    current = (
        session.connection()
        .execute(
            text("SELECT value FROM settings WHERE key = :key"), {"key": EXPORT_GENERATION.key}
        )
        .scalar()
    )
    generation = EXPORT_GENERATION.read(current) + 1
    for obj in changed:
        obj.change_seq = generation


class MaterialChunk(Base):
    """PostgreSQL: 1 MiB of a material's bytes, sealed under the data key, so that every seat
    opens what any seat added (services/attachments.py). SQLite keeps materials as files."""

    __tablename__ = "material_chunks"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[bytes] = mapped_column()
