"""Errors a user can act on (shown as plain Chinese messages), as opposed to bugs.

Services raise these; the CLI prints ``message`` and exits non-zero; the GUI shows it in a dialog.
Anything else that escapes is a bug and is logged with its traceback.
"""

from __future__ import annotations

import errno
from pathlib import Path


class UserError(Exception):
    """Something the user can fix: bad input, a missing permission, a full disk."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(UserError):
    """Form input that does not pass the rules; ``errors`` maps a field name to its message."""

    def __init__(self, errors: dict[str, str], message: str | None = None) -> None:
        self.errors = dict(errors)
        summary = message or "；".join(self.errors.values())
        super().__init__(summary)


class PermissionDenied(UserError):
    pass


class NotFound(UserError):
    pass


class InvalidTransition(UserError):
    """A step that the case's current state does not allow (e.g. visiting an open case)."""


class AlreadyRunning(UserError):
    pass


class DatabaseTooNew(UserError):
    pass


class EnvironmentProblem(UserError):
    """Disk full, read-only medium, locked or damaged database: not a bug, but the user must act."""


class DataDirUnwritable(EnvironmentProblem):
    """The data dir cannot be written (read-only medium, no permission, full disk): the database
    in it is not damaged, and no check of it can tell more (``bbcs check`` says this instead)."""


def cannot_write(exc: OSError, path: Path, what: str) -> str:
    """What to tell a person when ``what`` (a PDF 文件, the 公开身份文件 …) could not be written
    to ``path``: a full disk, a read-only stick or folder, a path through a file, a pulled stick.
    Written whole or not at all by the callers, so the message can say nothing was left."""
    folder = path.parent
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"{folder} 空间已满，{what}未写出（未留下不完整的文件）。请清理空间或换一个位置后重试。"
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (
            f"{folder} 是只读的或没有写入权限，{what}未写出。"
            "请换一个位置，或检查U盘的写保护开关、文件夹的权限。"
        )
    if exc.errno == errno.ENOTDIR:
        return f"{folder} 不是文件夹（路径中有一段是文件），{what}未写出。请换一个位置。"
    if exc.errno == errno.EISDIR:
        return f"{path} 是一个文件夹，{what}未写出。请写明文件名。"
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.EIO, errno.ENXIO):
        return f"写入 {folder} 时出错：文件夹不存在，或U盘已被拔出、共享已断开，{what}未写出。"
    return f"写入 {path} 时出错（{exc.strerror or exc}），{what}未写出。"


def unwritable_data_dir(exc: OSError, data_dir: Path) -> DataDirUnwritable:
    """A data dir bbcs cannot write to: on a read-only medium (a write-protected stick, a CD, a
    read-only share), without write permission, or on a full disk. bbcs cannot use it even to
    read (SQLite keeps a shared-memory file beside the database), so every command says so."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DataDirUnwritable(
            f"数据目录 {data_dir} 所在的磁盘空间已满，本次操作未完成。请清理磁盘后重试。"
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return DataDirUnwritable(
            f"数据目录 {data_dir} 是只读的（写保护的U盘、光盘或只读的共享文件夹，"
            "或没有写入权限），无法使用。请把数据目录放在本机硬盘上（用 --data-dir 指定），"
            "或检查文件夹的权限。"
        )
    return DataDirUnwritable(
        f"无法写入数据目录 {data_dir}（{exc.strerror or exc}）。"
        "请用 --data-dir 指定一个可写的本地文件夹。"
    )


class ChangedElsewhere(UserError):
    """A record changed (on another seat, in another window) after the one saving it read it:
    the save is refused, and the form is to be read again."""
