"""The kinds of paper a window issues to a department, and what each is called."""

from __future__ import annotations

from enum import StrEnum


class PaperKind(StrEnum):
    """What kind of paper a slip is; the value is what is stored."""

    ASSIGN = "assign"  # 交办单
    SUPERVISE = "supervise"  # 督办单
    URGE = "urge"  # 催办通知
    BASIS_REQUEST = "basis_request"  # 不能办事项书面依据告知单
    ADJUST = "adjust"  # 时限调整通知: a deadline the calendar moved after the paper was issued

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    PaperKind.ASSIGN: "交办单",
    PaperKind.SUPERVISE: "督办单",
    PaperKind.URGE: "催办通知",
    PaperKind.BASIS_REQUEST: "不能办事项书面依据告知单",
    PaperKind.ADJUST: "时限调整通知",
}
