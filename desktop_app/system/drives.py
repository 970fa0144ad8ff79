"""Where a bundle or a backup can go: USB sticks, network shares, local folders.

The data-exchange screen lists the places a clerk can carry a bundle to the city
(:func:`list_removable_drives`) and says in plain Chinese where a chosen folder is
(:func:`describe_target`): "U盘 KINGSTON (E:)", "网络共享 \\\\server\\share", "本地文件夹 …".
DESIGN.md §7 keeps the live database off such drives; bundles and backups go there.

* Windows: kernel32's GetLogicalDrives, GetDriveTypeW, GetVolumeInformationW and
  GetDiskFreeSpaceExW through ctypes. The kernel32 object is injected, so tests run the
  Windows code on any OS with a fake.
* Linux: /proc/mounts, /sys/block/<disk>/removable and the mount folders that udisks uses
  (/media, /run/media) plus /mnt; network file systems (CIFS/SMB, NFS, sshfs, and the shares a
  file manager opens through GVFS). The file reads are injected the same way.

Nothing here raises for a drive that vanishes or cannot be read: it is left out of the list.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Literal, Protocol

__all__ = [
    "Drive",
    "DriveKind",
    "LinuxSources",
    "describe_target",
    "is_unc_path",
    "list_removable_drives",
    "list_windows_drives",
    "parse_linux_mounts",
]

DriveKind = Literal["removable", "network", "fixed"]

# GetDriveTypeW results.
DRIVE_REMOVABLE = 2
DRIVE_FIXED = 3
DRIVE_REMOTE = 4
DRIVE_CDROM = 5
# SetErrorMode: no "insert a disk" box for an empty card-reader slot.
SEM_FAILCRITICALERRORS = 0x0001
SEM_NOOPENFILEERRORBOX = 0x8000

_NETWORK_FILESYSTEMS = frozenset(
    {"cifs", "smb3", "smbfs", "nfs", "nfs4", "fuse.sshfs", "davfs", "fuse.davfs2", "9p"}
)
_GVFS = "fuse.gvfsd-fuse"
_REMOVABLE_ROOTS = ("/media/", "/run/media/")
_OTHER_MOUNT_ROOTS = ("/mnt/",)


@dataclass(frozen=True)
class Drive:
    """A place to write a bundle or a backup.

    Attributes:
        path: its root: ``E:\\``, ``\\\\server\\share`` or a mount point such as
            ``/media/wang/KINGSTON``.
        label: the volume label (``KINGSTON``) or, for a share, ``server/share``; may be "".
        kind: ``removable`` (USB stick, card), ``network`` (share, mapped drive) or ``fixed``.
        free_bytes: free space, or None when it cannot be read.
    """

    path: str
    label: str
    kind: DriveKind
    free_bytes: int | None = None

    def describe(self) -> str:
        """Chinese, for a list or a message: ``U盘 KINGSTON (E:)``."""
        where = _short_root(self.path)
        if self.kind == "removable":
            return f"U盘 {self.label} ({where})" if self.label else f"U盘 ({where})"
        if self.kind == "network":
            if is_unc_path(self.path):
                return f"网络共享 {_unc_root(self.path)}"
            if self.label:
                return f"网络共享 {self.label} ({where})"
            return f"网络驱动器 ({where})"
        return f"本地磁盘 {self.label} ({where})" if self.label else f"本地磁盘 ({where})"


def _short_root(path: str) -> str:
    windows = PureWindowsPath(path)
    if len(windows.drive) == 2 and windows.drive[1] == ":":
        return windows.drive.upper()
    return path


# Paths ------------------------------------------------------------------------------------------


def is_unc_path(path: str) -> bool:
    r"""Whether ``path`` is a Windows network path: ``\\server\share\…`` or ``//server/share``,
    also in the long form ``\\?\UNC\server\share``. ``\\?\C:\…`` and device paths are not."""
    drive = PureWindowsPath(path).drive
    if not drive.startswith("\\\\"):
        return False
    if drive.startswith(("\\\\?\\", "\\\\.\\")):
        return drive[4:].upper().startswith("UNC\\")
    return True


def _unc_root(path: str) -> str:
    r"""``\\server\share`` of a UNC path (the long form shortened)."""
    drive = PureWindowsPath(path).drive
    if drive.upper().startswith("\\\\?\\UNC\\"):
        return "\\\\" + drive[8:]
    return drive


def describe_target(
    path: str, drives: Sequence[Drive] | None = None, *, windows: bool | None = None
) -> str:
    """Chinese description of where ``path`` is, for the clerk to check before writing.

    ``drives`` defaults to :func:`list_removable_drives`. Examples: ``U盘 KINGSTON (E:)``,
    ``U盘 KINGSTON (E:)\\报送``, ``网络共享 \\\\server\\share\\报送``, ``本地文件夹 D:\\备份``.
    """
    windows = sys.platform == "win32" if windows is None else windows
    if windows and is_unc_path(path):
        pure = PureWindowsPath(path)
        rest = "\\".join(pure.parts[1:])
        root = _unc_root(path)
        return f"网络共享 {root}\\{rest}" if rest else f"网络共享 {root}"
    if drives is None:
        drives = list_removable_drives()
    drive, rest = _containing_drive(path, drives, windows=windows)
    if drive is not None:
        described = drive.describe()
        if not rest:
            return described
        separator = "\\" if windows else "/"
        return f"{described}{separator}{rest}"
    return f"本地文件夹 {path}"


def _containing_drive(
    path: str, drives: Sequence[Drive], *, windows: bool
) -> tuple[Drive | None, str]:
    best: tuple[int, Drive, str] | None = None
    for drive in drives:
        if windows:
            target, root = PureWindowsPath(path), PureWindowsPath(drive.path)
            inside = target.drive.lower() == root.drive.lower() and _is_within(
                [p.lower() for p in target.parts[1:]], [p.lower() for p in root.parts[1:]]
            )
            rest = "\\".join(target.parts[len(root.parts) :]) if inside else ""
        else:
            posix, mount = PurePosixPath(path), PurePosixPath(drive.path)
            inside = posix == mount or mount in posix.parents
            rest = "/".join(posix.parts[len(mount.parts) :]) if inside else ""
        if inside and (best is None or len(drive.path) > best[0]):
            best = (len(drive.path), drive, rest)
    if best is None:
        return None, ""
    return best[1], best[2]


def _is_within(parts: list[str], root_parts: list[str]) -> bool:
    return parts[: len(root_parts)] == root_parts


# Windows ----------------------------------------------------------------------------------------


class Kernel32(Protocol):
    """The kernel32 functions used here (``ctypes.windll.kernel32`` or a test's fake)."""

    def GetLogicalDrives(self) -> int: ...  # Win32 names

    def GetDriveTypeW(self, root: str) -> int: ...

    def GetVolumeInformationW(self, *args: Any) -> int: ...

    def GetDiskFreeSpaceExW(self, *args: Any) -> int: ...

    def SetErrorMode(self, mode: int) -> int: ...


def _windows_kernel32() -> Kernel32:
    windll: Any = getattr(ctypes, "windll", None)
    if windll is None:
        raise OSError("kernel32 is only available on Windows")
    kernel32: Kernel32 = windll.kernel32
    return kernel32


def list_windows_drives(kernel32: Kernel32 | None = None) -> list[Drive]:
    """Every drive letter with a readable volume: removable, network and fixed (not CD/DVD).

    An empty card-reader slot or a disconnected mapped drive has no volume information and is
    left out.
    """
    api = kernel32 if kernel32 is not None else _windows_kernel32()
    previous = api.SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX)
    try:
        mask = api.GetLogicalDrives()
        drives: list[Drive] = []
        for index in range(26):
            if not mask & (1 << index):
                continue
            root = f"{chr(ord('A') + index)}:\\"
            drive_type = _WINDOWS_KINDS.get(api.GetDriveTypeW(root))
            if drive_type is None:  # CD/DVD, RAM disk, unknown
                continue
            label = _volume_label(api, root)
            if label is None:
                continue
            drives.append(Drive(root, label, drive_type, _free_bytes(api, root)))
        return drives
    finally:
        api.SetErrorMode(previous)


_WINDOWS_KINDS: dict[int, DriveKind] = {
    DRIVE_REMOVABLE: "removable",
    DRIVE_FIXED: "fixed",
    DRIVE_REMOTE: "network",
}


def _volume_label(api: Kernel32, root: str) -> str | None:
    name = ctypes.create_unicode_buffer(261)
    ok = api.GetVolumeInformationW(root, name, len(name), None, None, None, None, 0)
    return name.value if ok else None


def _free_bytes(api: Kernel32, root: str) -> int | None:
    free = ctypes.c_ulonglong(0)
    ok = api.GetDiskFreeSpaceExW(root, ctypes.pointer(free), None, None)
    return int(free.value) if ok else None


# Linux ------------------------------------------------------------------------------------------


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8", errors="surrogateescape") as file:
        return file.read()


def _list_dir(path: str) -> list[str]:
    return sorted(os.listdir(path))


def _disk_free(path: str) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


@dataclass(frozen=True)
class LinuxSources:
    """Where the Linux code reads from; a test passes fakes."""

    read_text: Callable[[str], str] = field(default=_read_text)
    list_dir: Callable[[str], list[str]] = field(default=_list_dir)
    free_bytes: Callable[[str], int | None] = field(default=_disk_free)


_OCTAL_ESCAPE = re.compile(rb"\\([0-7]{3})")


def _unescape_mount_field(text: str) -> str:
    r"""/proc/mounts writes space, tab, newline and backslash as ``\040`` etc.; the escapes are
    bytes, so an escaped UTF-8 name (``\345\212\236`` for 办) decodes too."""
    raw = text.encode("utf-8", "surrogateescape")
    raw = _OCTAL_ESCAPE.sub(lambda m: bytes([int(m.group(1), 8)]), raw)
    return raw.decode("utf-8", "surrogateescape")


def _disk_of(device: str) -> str | None:
    """``/dev/sdb1`` → ``sdb``, ``/dev/nvme0n1p2`` → ``nvme0n1``, ``/dev/mmcblk0p1`` →
    ``mmcblk0``; None for what is not a /dev block device."""
    if not device.startswith("/dev/"):
        return None
    name = device[len("/dev/") :]
    if "/" in name:
        return None
    match = re.fullmatch(r"(nvme\d+n\d+|mmcblk\d+)(p\d+)?", name)
    if match:
        return match.group(1)
    match = re.fullmatch(r"([a-z]+?)(\d+)?", name)
    return match.group(1) if match else name


def parse_linux_mounts(sources: LinuxSources | None = None) -> list[Drive]:
    """USB sticks and cards mounted under /media, /run/media or /mnt, and network shares."""
    src = sources or LinuxSources()
    try:
        mounts = src.read_text("/proc/mounts")
    except OSError:
        return []
    drives: list[Drive] = []
    seen: set[str] = set()
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        device = _unescape_mount_field(fields[0])
        mount_point = _unescape_mount_field(fields[1])
        fs_type = fields[2]
        if mount_point in seen:
            continue
        found = _linux_drive(device, mount_point, fs_type, src)
        for drive in found:
            seen.add(drive.path)
            drives.append(drive)
    return drives


def _linux_drive(device: str, mount_point: str, fs_type: str, src: LinuxSources) -> list[Drive]:
    if fs_type in _NETWORK_FILESYSTEMS:
        label = device.lstrip("/") if device.startswith("//") else device
        return [Drive(mount_point, label, "network", src.free_bytes(mount_point))]
    if fs_type == _GVFS:
        return _gvfs_shares(mount_point, src)
    under_media = mount_point.startswith(_REMOVABLE_ROOTS)
    if not (under_media or mount_point.startswith(_OTHER_MOUNT_ROOTS)):
        return []
    disk = _disk_of(device)
    if disk is None:
        return []
    removable = under_media or _removable_flag(disk, src)
    kind: DriveKind = "removable" if removable else "fixed"
    label = PurePosixPath(mount_point).name
    return [Drive(mount_point, label, kind, src.free_bytes(mount_point))]


def _removable_flag(disk: str, src: LinuxSources) -> bool:
    try:
        return src.read_text(f"/sys/block/{disk}/removable").strip() == "1"
    except OSError:
        return False


def _gvfs_shares(mount_point: str, src: LinuxSources) -> list[Drive]:
    """Shares a file manager opened (``smb-share:server=srv,share=data`` under GVFS)."""
    try:
        names = src.list_dir(mount_point)
    except OSError:
        return []
    drives = []
    for name in names:
        if not name.startswith("smb-share:"):
            continue
        values = dict(
            part.split("=", 1) for part in name[len("smb-share:") :].split(",") if "=" in part
        )
        label = f"{values.get('server', '')}/{values.get('share', '')}".strip("/")
        path = f"{mount_point.rstrip('/')}/{name}"
        drives.append(Drive(path, label, "network", src.free_bytes(path)))
    return drives


# Both -------------------------------------------------------------------------------------------


def list_removable_drives(
    *,
    include_fixed: bool = False,
    kernel32: Kernel32 | None = None,
    linux: LinuxSources | None = None,
    windows: bool | None = None,
) -> list[Drive]:
    """USB sticks, memory cards and network shares/drives to write a bundle or backup to.

    With ``include_fixed`` local disks come too (a USB hard disk shows as fixed on Windows).
    """
    windows = sys.platform == "win32" if windows is None else windows
    try:
        drives = list_windows_drives(kernel32) if windows else parse_linux_mounts(linux)
    except OSError:
        return []
    return [d for d in drives if include_fixed or d.kind != "fixed"]
