"""Setting up this installation (站点) and its reference data: departments and areas."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Final

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_app.domain.assignment_flow import default_slip_prefix, slip_number
from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import (
    BASIS_WORDING,
    DEPARTMENT_PAPERS,
    ISSUING_BODY,
    MASK_ID,
    MASK_PHONE,
    MASTHEAD,
    NUMBER_PREFIX,
    PAPER_SETTINGS,
    REQUIREMENTS_WORDING,
    WINDOW_PHONE,
    Declared,
    TextSetting,
    requirements_wording,
)
from desktop_app.domain.validation import check_phone, normalize_text
from desktop_app.domain.vocabulary import DEFAULT_AREAS, Role, SiteLevel
from desktop_app.errors import NotFound, UserError, ValidationFailed
from desktop_app.services import audit, settings
from desktop_app.services.auth import check_password_strength, production_hasher
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.keys import SiteKeys
from desktop_app.services.reference import department_labels
from desktop_app.storage.database import Database
from desktop_app.storage.models import Area, Department, Site, User

# First two digits of a 6-digit administrative division code (GB/T 2260): the province.
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)


@dataclass(frozen=True)
class SiteInfo:
    code: str
    name: str
    short_name: str
    level: SiteLevel
    is_demo: bool


@dataclass(frozen=True)
class DepartmentInfo:
    id: int
    name: str
    principal_leader: str
    contact_person: str
    contact_phone: str
    active: bool


@dataclass(frozen=True)
class PaperSettings:
    """系统设置 → 公文设置: the office's letterhead and what its papers print.

    Read when a paper is signed and frozen into it, so a change reaches papers issued afterwards
    only. Empty text means the default: the site's name as 发文机关, no 版头 line, the number
    prefix made from the site's short name.
    """

    issuing_body: str = ""
    masthead: str = ""
    number_prefix: str = ""
    requirements_wording: str = REQUIREMENTS_WORDING.default
    basis_wording: str = BASIS_WORDING.default
    # By paper kind (domain.settings.DEPARTMENT_PAPERS): True hides part of the number.
    mask_phone: Mapping[str, bool] = field(
        default_factory=lambda: {k: s.default for k, s in MASK_PHONE.items()}
    )
    mask_id: Mapping[str, bool] = field(
        default_factory=lambda: {k: s.default for k, s in MASK_ID.items()}
    )

    def issuer(self, site_name: str) -> str:
        return self.issuing_body or site_name

    def prefix(self, site_short_name: str, site_prefix: str = "") -> str:
        return self.number_prefix or site_prefix or default_slip_prefix(site_short_name)

    def values(self) -> dict[Declared[Any], Any]:
        """Each declaration with the value this form gives it."""
        values: dict[Declared[Any], Any] = {
            ISSUING_BODY: self.issuing_body,
            MASTHEAD: self.masthead,
            NUMBER_PREFIX: self.number_prefix,
            REQUIREMENTS_WORDING: self.requirements_wording,
            BASIS_WORDING: self.basis_wording,
        }
        for kind in DEPARTMENT_PAPERS:
            values[MASK_PHONE[kind]] = self.mask_phone.get(kind, MASK_PHONE[kind].default)
            values[MASK_ID[kind]] = self.mask_id.get(kind, MASK_ID[kind].default)
        return values


def read_paper_settings(session: Session) -> PaperSettings:
    """公文设置 as they stand, in the caller's session (the signing transaction)."""
    stored = settings.read_all(session, PAPER_SETTINGS)
    return PaperSettings(
        issuing_body=str(stored[ISSUING_BODY.key]),
        masthead=str(stored[MASTHEAD.key]),
        number_prefix=str(stored[NUMBER_PREFIX.key]),
        requirements_wording=str(stored[REQUIREMENTS_WORDING.key]),
        basis_wording=str(stored[BASIS_WORDING.key]),
        mask_phone={k: bool(stored[s.key]) for k, s in MASK_PHONE.items()},
        mask_id={k: bool(stored[s.key]) for k, s in MASK_ID.items()},
    )


def validate_site(code: str, name: str, short_name: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not re.fullmatch(r"\d{6}", code):
        errors["code"] = "站点代码应为6位行政区划代码（如 410221）"
    elif code[:2] not in PROVINCE_PREFIXES:
        errors["code"] = f"站点代码“{code}”的前两位不是有效的省级代码"
    if not name:
        errors["name"] = "请填写站点名称"
    if not short_name:
        errors["short_name"] = "请填写站点简称（用于事项编号）"
    elif len(short_name) > 10 or "-" in short_name:
        errors["short_name"] = "站点简称最多10个字，且不能含“-”"
    return errors


# A data dir whose site's signing key is there and whose database holds no site: the database
# was emptied (a 0-byte bbcs.db after a power cut on a full disk) or replaced. A new site set up
# over it would take the old keys and leave its backups and audit anchor to another site.
KEYS_WITHOUT_SITE: Final = (
    "这个数据目录里有站点的签名密钥，数据库里却没有站点数据：数据库文件可能在断电或磁盘写满时"
    "损坏、被清空或被换掉。请用备份恢复（命令行 bbcs restore 备份文件，数据文件夹的 backups 中"
    "有自动备份），不要重新初始化。确要在这里新建站点，请先把整个数据文件夹移走。"
)


class SiteLost(UserError):
    """``KEYS_WITHOUT_SITE``: ``bbcs restore`` then checks the password in the backup."""


class SiteService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        keys: SiteKeys | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._keys = keys
        self._hasher = hasher if hasher is not None else production_hasher()

    def is_initialised(self) -> bool:
        with self._db.read() as session:
            return bool(session.scalar(select(func.count()).where(Site.is_local.is_(True))))

    def info(self) -> SiteInfo:
        with self._db.read() as session:
            site = session.scalar(select(Site).where(Site.is_local.is_(True)))
            if site is None:
                raise UserError("站点尚未初始化，请先运行 bbcs init 或在首次启动时完成设置。")
            return SiteInfo(
                site.code, site.name, site.short_name, SiteLevel(site.level), site.is_demo
            )

    def init_site(
        self,
        *,
        code: str,
        name: str,
        level: SiteLevel,
        admin_password: str,
        short_name: str = "",
        admin_username: str = "admin",
        admin_display_name: str = "系统管理员",
        is_demo: bool = False,
        window_phone: str = "",
    ) -> SiteInfo:
        code = code.strip()
        name = normalize_text(name)
        short_name = normalize_text(short_name) or _default_short_name(name)
        errors = validate_site(code, name, short_name)
        window_phone = normalize_text(window_phone)
        if window_phone and check_phone(window_phone) is not None and not window_phone.isdigit():
            errors["window_phone"] = "窗口电话格式不正确（如 0378-2345678 或 12345）"
        weak = check_password_strength(admin_password)
        if weak:
            errors["admin_password"] = f"管理员{weak}"
        if errors:
            raise ValidationFailed(errors)
        now = self._clock.now()
        with self._db.write() as session:
            if session.scalar(select(func.count()).where(Site.is_local.is_(True))):
                raise UserError("这个数据目录已经初始化过站点，不能重复初始化。")
            if self.has_keys_without_site():
                raise SiteLost(KEYS_WITHOUT_SITE)
            site = Site(
                code=code,
                name=name,
                short_name=short_name,
                level=level.value,
                is_local=True,
                is_demo=is_demo,
                created_at=now,
            )
            admin = User(
                username=admin_username,
                display_name=admin_display_name,
                role=Role.ADMIN.value,
                password_hash=self._hasher.hash(admin_password),
                created_at=now,
            )
            session.add_all([site, admin])
            if window_phone:
                settings.write(session, _SETUP, WINDOW_PHONE, window_phone)
            for position, area in enumerate(DEFAULT_AREAS):
                session.add(Area(name=area, position=position))
            session.flush()
            audit.record(
                session,
                at=now,
                user_name="setup",
                action="init_site",
                entity="site",
                entity_uuid=code,
                after={"code": code, "name": name, "short_name": short_name, "level": level.value},
            )
        if self._keys is not None:
            # The site's signing identity (slips' QR codes, later bundles) is made at setup.
            self._keys.ensure()
        return SiteInfo(code, name, short_name, level, is_demo)

    def has_keys_without_site(self) -> bool:
        """Whether a site lived here and its database file lost it (``KEYS_WITHOUT_SITE``).
        SQLite only: a PostgreSQL database lives elsewhere, and a seat pointed at an empty one
        (a mistyped --db-url) is no lost file to restore."""
        return (
            self._db.is_sqlite
            and self._keys is not None
            and self._keys.exists()
            and not self.is_initialised()
        )

    def window_phone(self) -> str:
        with self._db.read() as session:
            return settings.read(session, WINDOW_PHONE)

    def preference(self, setting: TextSetting) -> str:
        """A per-installation preference that needs no audit (e.g. the last printer used,
        :data:`desktop_app.domain.settings.LAST_PRINTER`)."""
        with self._db.read() as session:
            return settings.read(session, setting)

    def set_preference(self, setting: TextSetting, value: str) -> None:
        with self._db.write() as session:
            settings.store(session, setting, value)

    def set_window_phone(self, actor: Actor, phone: str) -> Changes:
        """The window's phone, printed on slips and receipts for questions."""
        settings.require(actor, WINDOW_PHONE)
        phone = normalize_text(phone)
        with self._db.write() as session:
            before = settings.stored_text(session, [WINDOW_PHONE]).get(WINDOW_PHONE.key)
            settings.write(session, actor, WINDOW_PHONE, phone)
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="set_window_phone",
                entity="settings",
                entity_uuid=WINDOW_PHONE.key,
                before={"phone": before},
                after={"phone": phone},
            )
        return Changes(settings=True)

    # 公文设置 ---------------------------------------------------------------------------------

    def paper_settings(self) -> PaperSettings:
        with self._db.read() as session:
            return read_paper_settings(session)

    def save_paper_settings(self, actor: Actor, form: PaperSettings) -> Changes:
        """Store 公文设置; papers already issued keep what they printed (their content is
        frozen), papers issued from now on use these."""
        form = _normalized(form)
        values = form.values()
        settings.require(actor, *values)
        errors = {
            setting.key: problem
            for setting, value in values.items()
            if (problem := setting.problem(value) or _unprintable(value)) is not None
        }
        if errors:
            raise ValidationFailed(errors)
        with self._db.write() as session:
            audit.write_settings(
                session,
                actor,
                values,
                at=self._clock.now(),
                action="set_paper_settings",
                entity_uuid="paper",
            )
        return Changes(settings=True)

    def paper_preview_pdf(self, form: PaperSettings) -> bytes:
        """A sample 交办单 as these 公文设置 (saved or not) would print it: the live preview."""
        from desktop_app.documents.slip_content import PaperKind, SlipContent
        from desktop_app.documents.slip_pdf import render_slip

        form = _normalized(form)
        now = self._clock.now()
        with self._db.read() as session:
            site = session.scalar(select(Site).where(Site.is_local.is_(True)))
            name, short = (site.name, site.short_name) if site else ("“办不成事”监督窗口", "")
            site_prefix = site.slip_prefix if site else ""
            window_phone = settings.read(session, WINDOW_PHONE)
        kind = PaperKind.ASSIGN.value
        title = "食品经营许可证变更多次补充材料仍未受理"
        content = SlipContent(
            kind=PaperKind.ASSIGN,
            number=slip_number(form.prefix(short, site_prefix), "交", now.year, 1),
            issuer=form.issuer(name),
            case_number=f"{short or '示例'}-{now.year}-0001",
            lead_department="某某局（示例）",
            assisting_departments=(),
            complainant="张某某（示例）",
            complainant_contact="张某某 "
            + ("138****5678" if form.mask_phone.get(kind) else "13812345678"),
            complainant_id_masked=(
                "410221********123X" if form.mask_id.get(kind) else "41022119800101123X"
            ),
            matter_title=title,
            matter_description="此为示例：保存后签发的交办单按上方设置打印，已签发的不变。",
            requirements=requirements_wording(form.requirements_wording, days=5, title=title),
            due_date=date(now.year, now.month, now.day),
            working_days=5,
            signer="带班领导",
            issued_at=datetime(now.year, now.month, now.day, now.hour, now.minute),
            window_phone=window_phone,
            qr_payload="",
            nature="很难办",
            approach="推动办",
            visits=3,
            masthead=form.masthead,
            phone_masked=bool(form.mask_phone.get(kind)),
            id_masked=bool(form.mask_id.get(kind)),
        )
        return render_slip(content, draft=True)

    # Reference data -------------------------------------------------------------------------

    def departments(self, *, include_inactive: bool = False) -> list[DepartmentInfo]:
        with self._db.read() as session:
            # This site's own and those its city sent down; at the city, the counties' own
            # departments (arrived with their cases) are not the city's to assign to.
            cities = select(Site.code).where(Site.level == SiteLevel.CITY.value)
            query = (
                select(Department)
                .where((Department.site_code == "") | Department.site_code.in_(cities))
                .order_by(Department.id)
            )
            if not include_inactive:
                query = query.where(Department.active.is_(True))
            found = list(session.scalars(query))
            # One the city sent down under a name this site has too: told apart in every list
            # (two 杞县不动产登记中心 stood one above the other in 新建交办).
            own = {d.name for d in found if d.site_code == ""}
            cities_named = {
                code: short for code, short in session.execute(select(Site.code, Site.short_name))
            }
            return [
                _department_info(d)
                if d.site_code == "" or d.name not in own
                else replace(
                    _department_info(d),
                    name=f"{d.name}（{cities_named.get(d.site_code, d.site_code)}下发）",
                )
                for d in found
            ]

    def filter_departments(self) -> list[DepartmentInfo]:
        """Every department a case may be stuck at or be with, for the ledger's and the
        calendar's filters: this site's own, those its city sent, and at a city every county's
        (their cases are here too, and the city's own list left them out); retired ones too
        (their cases stay). Named as the figures name them (``department_labels``)."""
        with self._db.read() as session:
            labels = department_labels(session)
            found = session.scalars(
                select(Department).order_by(Department.site_code, Department.name)
            )
            return [replace(_department_info(d), name=labels[d.id]) for d in found]

    def save_department(
        self,
        actor: Actor,
        *,
        name: str,
        principal_leader: str = "",
        contact_person: str = "",
        contact_phone: str = "",
        department_id: int | None = None,
        active: bool = True,
    ) -> tuple[DepartmentInfo, Changes]:
        actor.require(Permission.MANAGE_REFERENCE)
        name = normalize_text(name)
        if not name:
            raise ValidationFailed({"name": "请填写部门名称"})
        values = {
            "name": name,
            "principal_leader": normalize_text(principal_leader),
            "contact_person": normalize_text(contact_person),
            "contact_phone": normalize_text(contact_phone),
            "active": active,
        }
        with self._db.write() as session:
            clash = session.scalar(
                select(Department).where(
                    Department.name == name,
                    Department.site_code == "",
                    Department.id != department_id,
                )
            )
            if clash is not None:
                raise ValidationFailed({"name": f"部门“{name}”已存在"})
            if department_id is None:
                department = Department(**values)
                session.add(department)
                before: dict[str, object] = {}
            else:
                found = session.get(Department, department_id)
                if found is None:
                    raise NotFound("部门不存在")
                if found.site_code:
                    raise UserError(
                        f"部门“{found.name}”由其他站点（{found.site_code}）维护，不能在本站点修改。"
                    )
                department = found
                before = {k: getattr(department, k) for k in values}
                for key, value in values.items():
                    setattr(department, key, value)
                department.version += 1
            session.flush()
            old, new = audit.diff(before, values)
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="create" if department_id is None else "update",
                entity="department",
                entity_uuid=department.uuid,
                before=old or None,
                after=new,
            )
            return _department_info(department), Changes(departments=True)

    def areas(self) -> list[str]:
        with self._db.read() as session:
            return list(
                session.scalars(
                    select(Area.name).where(Area.active.is_(True)).order_by(Area.position, Area.id)
                )
            )

    def add_area(self, actor: Actor, name: str) -> Changes:
        actor.require(Permission.MANAGE_REFERENCE)
        name = normalize_text(name)
        if not name:
            raise ValidationFailed({"name": "请填写领域名称"})
        with self._db.write() as session:
            if session.scalar(select(func.count()).where(Area.name == name)):
                raise ValidationFailed({"name": f"领域“{name}”已存在"})
            position = (session.scalar(select(func.max(Area.position))) or 0) + 1
            session.add(Area(name=name, position=position))
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="create",
                entity="area",
                entity_uuid=name,
                after={"name": name},
            )
        return Changes(settings=True)


# Who writes what the person setting up the site typed (the audit says "setup" too).
_SETUP = Actor(None, "setup", "站点初始化", Role.ADMIN)


def _normalized(form: PaperSettings) -> PaperSettings:
    return PaperSettings(
        issuing_body=normalize_text(form.issuing_body),
        masthead=normalize_text(form.masthead),
        number_prefix=normalize_text(form.number_prefix),
        requirements_wording=form.requirements_wording.strip() or REQUIREMENTS_WORDING.default,
        basis_wording=form.basis_wording.strip() or BASIS_WORDING.default,
        mask_phone=dict(form.mask_phone),
        mask_id=dict(form.mask_id),
    )


def _unprintable(value: object) -> str | None:
    """Why a 公文设置 text cannot be saved: it holds a character no font here can draw, so every
    paper signed afterwards would be refused at signing."""
    if not isinstance(value, str) or not value:
        return None
    from desktop_app.documents.fonts import font_advice, missing_glyphs, register_fonts

    fonts = register_fonts()
    missing = missing_glyphs(value, fonts.chain(fonts.body))
    if not missing:
        return None
    chars = "、".join(f"“{char}”（U+{ord(char):04X}）" for char in missing)
    return (
        f"本机字体无法打印{chars}，保存后每张公文都将无法签发：请改用其他写法，"
        f"或先{font_advice(missing)}"
    )


def _default_short_name(name: str) -> str:
    for suffix in ("办不成事监督窗口", "办不成事反映窗口", "监督窗口", "反映窗口", "窗口"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)][:10]
    return name[:10]


def _department_info(d: Department) -> DepartmentInfo:
    return DepartmentInfo(
        d.id, d.name, d.principal_leader, d.contact_person, d.contact_phone, d.active
    )
