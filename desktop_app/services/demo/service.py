"""The demo service: fills an initialised, still empty site with departments, demo users who
can log in, and N cases in every status.

Everything is written in one write transaction, in chunks: on SQLite with ``executemany`` on the
session's own connection, in the exact formats SQLAlchemy uses (its per-row parameter processing
would triple the time at 100,000 cases), elsewhere with Core bulk inserts. Numbers come from
``number_sequences`` exactly as intake takes them, so real intakes continue the sequence; the
search index gets the same text as intake writes. A single audit entry records the generation
(not one per row), so the audit chain stays short and valid.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from desktop_app.domain.vocabulary import CaseStatus, Role, SiteLevel
from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services import audit, integrity
from desktop_app.services.auth import production_hasher
from desktop_app.services.calendar import rules_in
from desktop_app.services.context import Clock
from desktop_app.services.demo.generator import Generator, Staff
from desktop_app.services.demo.office import (
    add_assignments,
    add_closure,
    add_roster,
    fill_deadlines,
    stamp_for_export,
)
from desktop_app.services.demo.people import NameSource, landline, mobile_number
from desktop_app.services.demo.places import DEPARTMENTS, area_code, place_words, towns_of
from desktop_app.services.demo.rows import DemoRandom, new_uuid
from desktop_app.services.keys import SiteKeys
from desktop_app.services.sealing import Sealer
from desktop_app.storage.database import Database
from desktop_app.storage.models import Area, Case, Department, NumberSequence, Site, User

DEMO_PASSWORD = "Demo12345"  # all demo users share it; shown on the login dialog of a demo site
MAX_DEMO_CASES = 1_000_000


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: Role


@dataclass(frozen=True)
class DemoSummary:
    cases: int
    departments: int
    users: tuple[DemoLogin, ...]
    by_status: dict[str, int]


# ------------------------------------------------------------------------------------------
# Reference data
# ------------------------------------------------------------------------------------------

DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("clerk1", "赵晓雯", Role.CLERK),
    ("clerk2", "孙明辉", Role.CLERK),
    ("leader1", "韩国栋", Role.DUTY_LEADER),
    ("leader2", "梁红英", Role.DUTY_LEADER),
    ("leader3", "周建军", Role.DUTY_LEADER),
    ("auditor", "郑文静", Role.AUDITOR),
    ("jijian1", "冯立新", Role.DISCIPLINE),
)


class DemoService:
    """Fills an initialised, still empty site with demo departments, users and cases."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        keys: SiteKeys | None = None,
        hasher: PasswordHasher | None = None,
        *,
        sealer: Sealer,
    ) -> None:
        self._db = db
        self._clock = clock
        self._keys = keys
        self._sealer = sealer
        self._hasher = hasher if hasher is not None else production_hasher()

    def generate(self, cases: int, *, seed: int = 20261125) -> DemoSummary:
        if not 0 <= cases <= MAX_DEMO_CASES:
            raise ValidationFailed({"cases": f"演示事项数量应在 0 到 {MAX_DEMO_CASES} 之间"})
        now = self._clock.now().replace(microsecond=0)
        rng = DemoRandom(seed)
        with self._db.read() as session:
            self._ready_site(session)
        # Outside the write transaction (argon2 is slow on purpose). The demo users share one
        # published password, so one hash serves them all.
        password_hash = self._hasher.hash(DEMO_PASSWORD)
        with self._db.write() as session:
            site = self._ready_site(session)
            rng.key_uuids(site.code)
            integrity.watch_new_rows(session)  # the bulk rows get their digests at commit
            level = SiteLevel(site.level)
            words = place_words(site.code, site.short_name, level)
            towns = towns_of(site.code)
            areas = list(
                session.scalars(
                    select(Area.name).where(Area.active.is_(True)).order_by(Area.position, Area.id)
                )
            )
            if not areas:
                raise UserError("站点没有可用的领域，请先在设置中添加领域，再生成演示数据。")
            staff_rng = DemoRandom(seed ^ 0x5EED, after=rng)
            staff_rng.key_uuids(site.code)
            departments = self._departments(session, staff_rng, words, site.code)
            staff, logins = self._users(session, staff_rng, password_hash, now)
            generator = Generator(
                session, rng, now, site, areas, departments, staff, words, towns, rules_in(session)
            )
            generator.writer.sealer = self._sealer
            first_id = (session.scalar(select(func.max(Case.id))) or 0) + 1
            complainants, events = generator.generate(cases, first_id)
            for year, last in sorted(generator.sequences.items()):
                row = session.get(NumberSequence, ("case", year))
                if row is None:
                    session.add(NumberSequence(kind="case", year=year, last_value=last))
                else:
                    row.last_value = last
            site.is_demo = True
            closure = add_closure(session, now)
            add_roster(session, staff, now.date())
            fill_deadlines(session, now)
            if self._keys is not None:
                self._keys.ensure()
                assignments_rng = DemoRandom(seed ^ 0xA551, after=rng)
                assignments_rng.key_uuids(site.code)
                add_assignments(session, self._keys, assignments_rng, now, self._sealer)
            if session.get_bind().dialect.name == "postgresql":
                # Ids were given explicitly: move the serial sequences past them.
                for table in ("complainants", "cases", "assignments"):
                    session.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT MAX(id) FROM {table}))"
                        )
                    )
            by_status = {s.value: generator.by_status.get(s.value, 0) for s in CaseStatus}
            session.flush()
            # The bulk rows' timelines hashed into their cases, as the program keeps them.
            integrity.refresh_events_hashes(session)
            stamp_for_export(session)
            audit.record(
                session,
                at=now,
                user_name="demo",
                action="demo_generate",
                entity="site",
                entity_uuid=site.code,
                after={
                    "cases": cases,
                    "seed": seed,
                    "departments": len(departments),
                    "users": [login.username for login in logins],
                    "complainants": complainants,
                    "events": events,
                    "by_status": by_status,
                    "closure": closure.isoformat(),
                },
            )
        return DemoSummary(cases, len(departments), logins, by_status)

    @staticmethod
    def _ready_site(session: Session) -> Site:
        site = session.scalar(select(Site).where(Site.is_local.is_(True)))
        if site is None:
            raise UserError("站点尚未初始化，请先运行 bbcs init 完成站点设置，再生成演示数据。")
        if session.scalar(select(func.count(Case.id))):
            raise UserError(
                "本站点已有反映事项，不能再生成演示数据。演示数据只能在新建的空站点中生成。"
            )
        usernames = [u for u, _, _ in DEMO_USERS]
        taken = list(session.scalars(select(User.username).where(User.username.in_(usernames))))
        if taken:
            raise UserError(f"用户名“{'、'.join(taken)}”已被使用，无法创建演示用户。")
        return site

    @staticmethod
    def _departments(
        session: Session, rng: random.Random, words: dict[str, str], site_code: str
    ) -> dict[str, tuple[int, str, str]]:
        existing = {d.name: d for d in session.scalars(select(Department))}
        names = NameSource(rng)
        phone_area = area_code(site_code)
        result: dict[str, tuple[int, str, str]] = {}
        for key, name_format, window_format in DEPARTMENTS:
            name = name_format.format_map(words)
            department = existing.get(name)
            if department is None:
                department = Department(
                    uuid=new_uuid(rng),
                    name=name,
                    principal_leader=names.name(),
                    contact_person=names.name(),
                    contact_phone=landline(rng, phone_area),
                )
                session.add(department)
                session.flush()
            result[key] = (department.id, name, window_format.format_map(words))
        return result

    @staticmethod
    def _users(
        session: Session, rng: random.Random, password_hash: str, now: datetime
    ) -> tuple[Staff, tuple[DemoLogin, ...]]:
        clerks: list[tuple[int, str]] = []
        leaders: list[str] = []
        logins: list[DemoLogin] = []
        for username, display_name, role in DEMO_USERS:
            user = User(
                uuid=new_uuid(rng),
                username=username,
                display_name=display_name,
                role=role.value,
                password_hash=password_hash,
                phone=mobile_number(rng),
                created_at=now,
            )
            session.add(user)
            session.flush()
            if role is Role.CLERK:
                clerks.append((user.id, display_name))
            elif role is Role.DUTY_LEADER:
                leaders.append(display_name)
            logins.append(DemoLogin(username, display_name, role))
        return Staff(tuple(clerks), tuple(leaders)), tuple(logins)
