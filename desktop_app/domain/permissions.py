"""Who may do what. Services check these; the UI only hides what a role cannot use.

The roles keep duties apart as 等保 asks (三员分立): the administrator manages users, settings
and the installation but neither reads the audit log nor signs papers; the auditor reads the
audit log and checks the data but changes nothing; signing stays with the duty leaders.
"""

from __future__ import annotations

from desktop_app.domain.vocabulary import LabelledEnum, Role


class Permission(LabelledEnum):
    VIEW_CASES = "view_cases", "查看事项"
    REGISTER_CASE = "register_case", "受理登记"
    TRIAGE_CASE = "triage_case", "甄别分类"
    CONCLUDE_CASE = "conclude_case", "办结事项"
    VISIT_CASE = "visit_case", "回访核查"
    WITHDRAW_CASE = "withdraw_case", "撤回事项"
    SIGN_SLIP = "sign_slip", "签发交办单"
    PRINT_PAPERS = "print_papers", "打印或保存交办单"
    MANAGE_USERS = "manage_users", "管理用户"
    MANAGE_REFERENCE = "manage_reference", "维护部门和领域"
    VIEW_AUDIT = "view_audit", "查看审计日志"
    EXCHANGE_DATA = "exchange_data", "导出或导入数据包"
    TRUST_SITES = "trust_sites", "登记或吊销其他站点的密钥"
    CHECK_DATA = "check_data", "检查数据完整性"
    BACKUP_DATA = "backup_data", "备份或恢复数据"
    # Supervision (issue 16)
    WAIVE_BASIS = "waive_basis", "免除书面依据"
    VIEW_REFERRALS = "view_referrals", "查看问责线索"
    PROPOSE_REFERRAL = "propose_referral", "提出问责移交"
    SEND_REFERRAL = "send_referral", "签发问题线索移交函"
    DECIDE_REFERRAL = "decide_referral", "登记问责处理结果"
    MANAGE_CLASSES = "manage_classes", "维护一类事和预警"
    MANAGE_MEETINGS = "manage_meetings", "登记联席会议"


_CASE_WORK = {
    Permission.VIEW_CASES,
    Permission.REGISTER_CASE,
    Permission.TRIAGE_CASE,
    Permission.CONCLUDE_CASE,
    Permission.VISIT_CASE,
    Permission.WITHDRAW_CASE,
    Permission.EXCHANGE_DATA,
    # An issued slip's first output is the department's original: recording an output uses it
    # up, so an auditor (who only looks) may view a slip but not print or save it.
    Permission.PRINT_PAPERS,
    Permission.VIEW_REFERRALS,
    Permission.PROPOSE_REFERRAL,
    Permission.MANAGE_CLASSES,
    Permission.MANAGE_MEETINGS,
}

# What only the duty leader does: signs, and decides for the window.
_LEADING = {Permission.SIGN_SLIP, Permission.SEND_REFERRAL, Permission.WAIVE_BASIS}

_ADMINISTRATION = {
    Permission.MANAGE_USERS,
    Permission.MANAGE_REFERENCE,
    Permission.TRUST_SITES,
    Permission.CHECK_DATA,
    Permission.BACKUP_DATA,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset(_CASE_WORK),
    Role.DUTY_LEADER: frozenset(_CASE_WORK | _LEADING),
    # Not VIEW_AUDIT (the auditor watches the administrator too), not SIGN_SLIP.
    Role.ADMIN: frozenset(_CASE_WORK | _ADMINISTRATION),
    # Reads and checks; changes nothing (not even a print count).
    Role.AUDITOR: frozenset(
        {
            Permission.VIEW_CASES,
            Permission.VIEW_AUDIT,
            Permission.CHECK_DATA,
            Permission.VIEW_REFERRALS,
        }
    ),
    # 纪检监察 (issue 16): reads the cases and records what was decided about a referral; writes
    # nothing else.
    Role.DISCIPLINE: frozenset(
        {Permission.VIEW_CASES, Permission.VIEW_REFERRALS, Permission.DECIDE_REFERRAL}
    ),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
