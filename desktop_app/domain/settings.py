"""Every stored setting, declared once: key, type, default, Chinese label, who may change it.

The ``settings`` table holds plain text (STYLE.md 11). A declaration says how its text reads back
(a stored value that does not parse, or lies outside the declared range, reads as the default) and
who may change it; :mod:`desktop_app.services.settings` reads and writes through it. Services and
settings pages name a declaration, never a bare key (the model is MusicBrainz Picard's
``picard/options.py``, where each option is declared once with its type and default).

Three sorts:

- site settings (``permission`` set): the office's choices, changed by a role that holds the
  permission, audited by the service that changes them;
- preferences (no permission, not internal): remembered for this installation, anyone may change
  them, not audited (e.g. the last printer used);
- internal bookkeeping (``internal``): written by the application itself, never on a settings
  page (the audit chain's head, the calendar revision, the export generation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from desktop_app.domain.deadlines import (
    DEFAULT_DUE_SOON_DAYS,
    DEFAULT_RULE_DAYS,
    MAX_DUE_SOON_DAYS,
    MAX_RULE_DAYS,
    RuleKey,
)
from desktop_app.domain.early_warning import (
    DEFAULT_HISTORY_MONTHS,
    DEFAULT_MIN_VOLUME,
    DEFAULT_P_PER_MILLE,
)
from desktop_app.domain.papers import PaperKind
from desktop_app.domain.permissions import Permission
from desktop_app.domain.scoring import (
    DEFAULT_RANKING_MIN_VOLUME,
    DEFAULT_TEMPLATE_TEXT,
    DEFAULT_WINDOW_TEMPLATE_TEXT,
    parse_template,
)

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Declared(Generic[T]):
    """One setting's declaration; :class:`IntSetting` and :class:`TextSetting` say its type."""

    key: str
    default: T
    label: str
    # Who may change it; None: a preference anyone may change (or internal bookkeeping).
    permission: Permission | None = None
    internal: bool = False

    def parse(self, text: str) -> T:
        """The value ``text`` stands for; ValueError if it is not one this setting takes."""
        raise NotImplementedError

    def problem(self, value: T) -> str | None:
        """Why ``value`` cannot be stored (in Chinese), or None."""
        return None

    def text(self, value: T) -> str:
        return str(value)

    def read(self, text: str | None) -> T:
        """The stored ``text`` as a value; nothing stored, or a bad value, gives the default."""
        if text is None:
            return self.default
        try:
            return self.parse(text)
        except ValueError:
            return self.default


@dataclass(frozen=True, kw_only=True)
class IntSetting(Declared[int]):
    minimum: int | None = None
    maximum: int | None = None

    def parse(self, text: str) -> int:
        value = int(text)
        if self.problem(value) is not None:
            raise ValueError(text)
        return value

    def problem(self, value: int) -> str | None:
        low = self.minimum if self.minimum is not None else value
        high = self.maximum if self.maximum is not None else value
        if not low <= value <= high:
            return f"{self.label}应在{self.minimum}到{self.maximum}之间"
        return None


@dataclass(frozen=True, kw_only=True)
class TextSetting(Declared[str]):
    max_length: int | None = None
    # Characters the value may not hold (e.g. the 〔〕 a slip number puts after its prefix).
    forbidden: str = ""

    def parse(self, text: str) -> str:
        if self.problem(text) is not None:
            raise ValueError(text)
        return text

    def problem(self, value: str) -> str | None:
        if self.max_length is not None and len(value) > self.max_length:
            return f"{self.label}最多{self.max_length}个字"
        bad = sorted({c for c in value if c in self.forbidden})
        if bad:
            return f"{self.label}不能含“{'”“'.join(bad)}”"
        return None


@dataclass(frozen=True, kw_only=True)
class FlagSetting(Declared[bool]):
    """A yes/no choice, stored as "1" or "0"."""

    def parse(self, text: str) -> bool:
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"

    def text(self, value: bool) -> str:
        return "1" if value else "0"


# Site settings ----------------------------------------------------------------------------------

WINDOW_PHONE = TextSetting(
    key="window_phone",
    default="",
    label="窗口电话",  # printed on slips and receipts for questions
    permission=Permission.MANAGE_REFERENCE,
)
DUE_SOON_DAYS = IntSetting(
    key="deadline_due_soon_days",
    default=DEFAULT_DUE_SOON_DAYS,
    label="“即将到期”提醒（工作日）",
    permission=Permission.MANAGE_REFERENCE,
    minimum=0,
    maximum=MAX_DUE_SOON_DAYS,
)
RULE_DAYS_PREFIX = "deadline_rule."
RULE_DAYS: dict[RuleKey, IntSetting] = {
    rule: IntSetting(
        key=RULE_DAYS_PREFIX + rule.value,
        default=DEFAULT_RULE_DAYS[rule],
        label=f"{rule.label}（工作日）",
        permission=Permission.MANAGE_REFERENCE,
        minimum=0,
        maximum=MAX_RULE_DAYS,
    )
    for rule in RuleKey
}
# The deadline rules as a whole: what 期限规则 saves and a city's reference bundle carries down.
DEADLINE_RULE_SETTINGS: tuple[IntSetting, ...] = (*RULE_DAYS.values(), DUE_SOON_DAYS)
SYNC_PERIOD_DAYS = IntSetting(
    key="sync_period_days",
    default=7,
    label="上报周期（天）",
    permission=Permission.MANAGE_REFERENCE,
    minimum=1,
    maximum=90,
)
SYNC_INBOX = TextSetting(
    key="sync_inbox",
    default="",
    label="数据包收件文件夹",
    permission=Permission.EXCHANGE_DATA,
)

# 公文设置: the office's letterhead and what its papers print ------------------------------------
# Each is read when a paper is signed and frozen into it (documents.slip_content): a change here
# reaches papers issued afterwards, never one already issued.

ISSUING_BODY = TextSetting(
    key="paper.issuing_body",
    default="",  # empty: the site's name
    label="发文机关",  # 签发单位 over the seal, e.g. 杞县纪委监委
    permission=Permission.MANAGE_REFERENCE,
    max_length=60,
)
MASTHEAD = TextSetting(
    key="paper.masthead",
    default="",  # empty: no 版头 line, the paper opens with its title
    label="版头",  # e.g. 中共杞县纪委 杞县监委“办不成事”监督窗口, above a red rule
    permission=Permission.MANAGE_REFERENCE,
    max_length=40,
)
NUMBER_PREFIX = TextSetting(
    key="paper.number_prefix",
    default="",  # empty: the site's short name's first character + 纪窗 (杞纪窗交〔2026〕1号)
    label="发文字号前缀",
    permission=Permission.MANAGE_REFERENCE,
    max_length=12,
    forbidden="〔〕[]()（）-号 ",
)
# {天数} and {事项} stand for the assignment's working days and the matter's title.
DEFAULT_REQUIREMENTS_WORDING = (
    "请于{天数}个工作日内核实“{事项}”反映的问题，依法依规办理，并将办理结果书面反馈监督窗口。"
)
REQUIREMENTS_WORDING = TextSetting(
    key="paper.requirements_wording",
    default=DEFAULT_REQUIREMENTS_WORDING,
    label="交办要求默认措辞",
    permission=Permission.MANAGE_REFERENCE,
    max_length=500,
)
# A 办不了 matter's paper asks for the written basis, not for the matter to be handled (seed
# 002: the reason, the laws and policy documents relied on, signed by the principal leader).
DEFAULT_BASIS_WORDING = (
    "请于{天数}个工作日内书面说明“{事项}”不能办理的理由，列明所依据的法律法规、政策文件的"
    "名称、文号和条款，由单位主要负责人签字并加盖单位公章后反馈监督窗口。"
)
BASIS_WORDING = TextSetting(
    key="paper.basis_wording",
    default=DEFAULT_BASIS_WORDING,
    label="依据告知单默认措辞",
    permission=Permission.MANAGE_REFERENCE,
    max_length=500,
)


def requirements_wording(wording: str, *, days: int, title: str) -> str:
    """The 交办要求 a new draft starts with: the office's wording, days and title put in (a
    round of 0 days, 马上办, is to be done the same day: not "请于0个工作日内")."""
    if days == 0:
        wording = wording.replace("{天数}个工作日内", "当日")
    return wording.replace("{天数}", str(days)).replace("{事项}", title)


# The papers a department receives, by their stored kind: every PaperKind.
DEPARTMENT_PAPERS: dict[str, str] = {kind.value: kind.label for kind in PaperKind}
# The department must phone the complainant (both seeds): the number is printed in full unless
# the office chooses otherwise. ID numbers are masked unless it chooses otherwise.
MASK_PHONE: dict[str, FlagSetting] = {
    kind: FlagSetting(
        key=f"paper.mask_phone.{kind}",
        default=False,
        label=f"{label}隐去电话中间四位",
        permission=Permission.MANAGE_REFERENCE,
    )
    for kind, label in DEPARTMENT_PAPERS.items()
}
MASK_ID: dict[str, FlagSetting] = {
    kind: FlagSetting(
        key=f"paper.mask_id.{kind}",
        default=True,
        label=f"{label}隐去证件号码中间位",
        permission=Permission.MANAGE_REFERENCE,
    )
    for kind, label in DEPARTMENT_PAPERS.items()
}
PAPER_SETTINGS: tuple[Declared[Any], ...] = (
    ISSUING_BODY,
    MASTHEAD,
    NUMBER_PREFIX,
    REQUIREMENTS_WORDING,
    BASIS_WORDING,
    *MASK_PHONE.values(),
    *MASK_ID.values(),
)

# issue 15 (C1): log-in rules -------------------------------------------------------------------
# Changed by whoever manages users; read by services.auth (lock-out) and the window (idle lock).

LOGIN_MAX_FAILURES = IntSetting(
    key="login.max_failures",
    default=5,
    label="连续输错密码锁定账号的次数",
    permission=Permission.MANAGE_USERS,
    minimum=3,
    maximum=20,
)
LOGIN_LOCK_MINUTES = IntSetting(
    key="login.lock_minutes",
    default=30,
    label="账号锁定时长（分钟）",
    permission=Permission.MANAGE_USERS,
    minimum=1,
    maximum=1440,
)
IDLE_LOCK_MINUTES = IntSetting(
    key="login.idle_lock_minutes",
    default=15,
    label="无操作自动锁屏（分钟）",
    permission=Permission.MANAGE_USERS,
    minimum=1,
    maximum=120,
)
LOGIN_SETTINGS: tuple[IntSetting, ...] = (LOGIN_MAX_FAILURES, LOGIN_LOCK_MINUTES, IDLE_LOCK_MINUTES)

# issue 15 (A1): backups -----------------------------------------------------------------------
# Read by services.backup after every automatic backup: how many to keep, a size cap (MB, 0: none)
# that prunes the oldest first, and a second folder (another drive) that gets an encrypted copy.

BACKUP_KEEP_DAILY = IntSetting(
    key="backup.keep_daily",
    default=7,
    label="保留每日备份（天）",
    permission=Permission.BACKUP_DATA,
    minimum=1,
    maximum=366,
)
BACKUP_KEEP_WEEKLY = IntSetting(
    key="backup.keep_weekly",
    default=4,
    label="保留每周备份（周）",
    permission=Permission.BACKUP_DATA,
    minimum=0,
    maximum=520,
)
BACKUP_KEEP_MONTHLY = IntSetting(
    key="backup.keep_monthly",
    default=12,
    label="保留每月备份（月）",
    permission=Permission.BACKUP_DATA,
    minimum=0,
    maximum=240,
)
BACKUP_SIZE_CAP_MB = IntSetting(
    key="backup.size_cap_mb",
    default=10240,
    label="备份总大小上限（MB，0 为不限）",
    permission=Permission.BACKUP_DATA,
    minimum=0,
    maximum=10_000_000,
)
BACKUP_SECOND_FOLDER = TextSetting(
    key="backup.second_folder",
    default="",
    label="第二份备份的文件夹",
    permission=Permission.BACKUP_DATA,
    max_length=500,
)
BACKUP_SETTINGS: tuple[Declared[Any], ...] = (
    BACKUP_KEEP_DAILY,
    BACKUP_KEEP_WEEKLY,
    BACKUP_KEEP_MONTHLY,
    BACKUP_SIZE_CAP_MB,
    BACKUP_SECOND_FOLDER,
)

# issue 16 (D): early warning (domain/early_warning.py) -----------------------------------------
# Read by services.classes when it scans; changed on the 一类事与预警 page by whoever manages them.

WARNING_HISTORY_MONTHS = IntSetting(
    key="warning.history_months",
    default=DEFAULT_HISTORY_MONTHS,
    label="预警基准月数",
    permission=Permission.MANAGE_CLASSES,
    minimum=2,
    maximum=24,
)
WARNING_P_PER_MILLE = IntSetting(
    key="warning.p_per_mille",
    default=DEFAULT_P_PER_MILLE,
    label="预警显著性水平（千分之）",  # 10: P < 0.01
    permission=Permission.MANAGE_CLASSES,
    minimum=1,
    maximum=100,
)
WARNING_MIN_VOLUME = IntSetting(
    key="warning.min_volume",
    default=DEFAULT_MIN_VOLUME,
    label="预警最少件数",
    permission=Permission.MANAGE_CLASSES,
    minimum=1,
    maximum=1000,
)
WARNING_SETTINGS: tuple[IntSetting, ...] = (
    WARNING_HISTORY_MONTHS,
    WARNING_P_PER_MILLE,
    WARNING_MIN_VOLUME,
)

# issue 17: department scorecards (domain/scoring.py) -------------------------------------------
# Read by services.scorecards; the template is the 量化管理评分表 the inspectors fill.


@dataclass(frozen=True, kw_only=True)
class ScoringTemplateSetting(TextSetting):
    """The scoring template: text that must read as items (``名称|分值|计算项`` a line)."""

    def problem(self, value: str) -> str | None:
        problem = super().problem(value)
        if problem is not None:
            return problem
        try:
            parse_template(value)
        except ValueError as error:
            return f"{self.label}：{error}"
        return None


SCORING_TEMPLATE = ScoringTemplateSetting(
    key="scorecard.template",
    default=DEFAULT_TEMPLATE_TEXT,
    label="量化管理评分表模板",
    permission=Permission.MANAGE_REFERENCE,
    max_length=4000,
)
RANKING_MIN_VOLUME = IntSetting(
    key="scorecard.min_volume",
    default=DEFAULT_RANKING_MIN_VOLUME,
    label="部门排名最少交办件数",
    permission=Permission.MANAGE_REFERENCE,
    minimum=1,
    maximum=1000,
)
WINDOW_SCORING_TEMPLATE = ScoringTemplateSetting(
    key="scorecard.window_template",
    default=DEFAULT_WINDOW_TEMPLATE_TEXT,
    label="窗口量化管理评分表模板",
    permission=Permission.MANAGE_REFERENCE,
    max_length=4000,
)
SCORECARD_SETTINGS: tuple[Declared[Any], ...] = (
    SCORING_TEMPLATE,
    RANKING_MIN_VOLUME,
    WINDOW_SCORING_TEMPLATE,
)

# Preferences ------------------------------------------------------------------------------------

PREFERENCE_PREFIX = "pref."


def preference(name: str, label: str = "") -> TextSetting:
    """A per-installation preference (``pref.<name>``): anyone may change it, nothing audits it."""
    return TextSetting(key=PREFERENCE_PREFIX + name, default="", label=label or name)


LAST_PRINTER = preference("last_printer", "上次使用的打印机")
# issue 17: how the columns of each old Excel 台账 layout were mapped (JSON: header signature →
# {header: field}), offered again for a file with the same headers (services/register_import).
REGISTER_IMPORT_MAPPINGS = preference("register_import_mappings", "旧台账导入的列对应")

# Internal bookkeeping ---------------------------------------------------------------------------

# The newest audit entry's ``id:hash``, written with every entry: otherwise deleting the newest
# entries would leave a chain that still verifies.
AUDIT_HEAD = TextSetting(key="audit_chain_head", default="", label="审计日志链尾", internal=True)
# Bumped with every change of holiday overrides or complete years: a cached calendar is rebuilt.
CALENDAR_REVISION = IntSetting(
    key="calendar_revision", default=0, label="节假日安排修订号", internal=True, minimum=0
)
# The last export generation; rows written now belong to the next one (storage.models).
EXPORT_GENERATION = IntSetting(
    key="sync_generation", default=0, label="最近一次导出的批次", internal=True, minimum=0
)

# issue 15 (A2)
# When the database last passed SQLite's thorough integrity_check (ISO text): weekly at start-up.
LAST_INTEGRITY_CHECK = TextSetting(
    key="last_integrity_check", default="", label="上次数据库全面检查", internal=True
)

# issue 15 (D)
# 1 once the numbers a database held in clear before sealing have been sealed (services/sealing.py):
# the first open after migration 0010 does it, and every later open reads only this.
# Every material the records name has been in the database since (services/attachments.py):
# from then on one that is not there is a problem for bbcs check, not one still to be moved in.
MATERIALS_IN_DATABASE = FlagSetting(
    key="materials_in_database", default=False, label="材料已全部存入数据库", internal=True
)
SEALED_AT_REST = IntSetting(
    key="sealed_at_rest", default=0, label="个人信息已加密保存", internal=True, minimum=0
)
# The data key's fingerprint (services/data_key.py): a seat whose keys/ holds another key — or
# none, beside a database another seat already keyed (PostgreSQL at the city) — is refused
# instead of sealing with a key the others cannot open.
DATA_KEY_FINGERPRINT = TextSetting(
    key="data_key_fingerprint", default="", label="数据密钥指纹", internal=True
)
# The format of the records' digests (services/integrity.py): a database digested before format
# 2 (and a backup of one, restored) is brought up to it at open, row by row as each verifies.
RECORD_DIGEST_FORMAT = IntSetting(
    key="record_digest_format", default=1, label="记录校验值格式", internal=True, minimum=1
)

REFERENCE_FROM_PREFIX = "sync_reference_from_"


def reference_applied(sender_code: str) -> TextSetting:
    """When the newest reference bundle applied from ``sender_code`` was made (ISO text): rules
    carry no version, so an older bundle (a stale stick) must not undo a newer one."""
    return TextSetting(
        key=REFERENCE_FROM_PREFIX + sender_code,
        default="",
        label=f"已导入的{sender_code}基础数据包时间",
        internal=True,
    )


DECLARED: tuple[Declared[Any], ...] = (
    WINDOW_PHONE,
    *DEADLINE_RULE_SETTINGS,
    SYNC_PERIOD_DAYS,
    SYNC_INBOX,
    *PAPER_SETTINGS,
    *LOGIN_SETTINGS,
    *BACKUP_SETTINGS,
    *WARNING_SETTINGS,
    *SCORECARD_SETTINGS,
    LAST_PRINTER,
    AUDIT_HEAD,
    CALENDAR_REVISION,
    EXPORT_GENERATION,
    LAST_INTEGRITY_CHECK,
    SEALED_AT_REST,
    DATA_KEY_FINGERPRINT,
    RECORD_DIGEST_FORMAT,
    MATERIALS_IN_DATABASE,
)
"""Every fixed declaration (the per-name families above are built by their functions)."""


def declared(key: str) -> Declared[Any] | None:
    """The declaration of a stored key, families included; None for a key nobody declared."""
    for setting in DECLARED:
        if setting.key == key:
            return setting
    if key.startswith(PREFERENCE_PREFIX):
        return preference(key.removeprefix(PREFERENCE_PREFIX))
    if key.startswith(REFERENCE_FROM_PREFIX):
        return reference_applied(key.removeprefix(REFERENCE_FROM_PREFIX))
    return None
