"""Drives to carry bundles and backups on, with Windows' kernel32 and Linux' /proc faked."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from desktop_app.system.drives import (
    DRIVE_CDROM,
    DRIVE_FIXED,
    DRIVE_REMOTE,
    DRIVE_REMOVABLE,
    SEM_FAILCRITICALERRORS,
    Drive,
    LinuxSources,
    describe_target,
    is_unc_path,
    list_removable_drives,
)

GB = 1024**3


class FakeKernel32:
    """kernel32 as ctypes calls it: buffers and pointers filled in, BOOL results."""

    def __init__(self, volumes: dict[str, tuple[int, str | None, int | None]]) -> None:
        # letter → (drive type, label or None for "no media", free bytes or None)
        self.volumes = volumes
        self.error_modes: list[int] = []

    def SetErrorMode(self, mode: int) -> int:  # Win32 names
        self.error_modes.append(mode)
        return 0

    def GetLogicalDrives(self) -> int:
        return sum(1 << (ord(letter) - ord("A")) for letter in self.volumes)

    def GetDriveTypeW(self, root: str) -> int:
        assert root.endswith(":\\")
        return self.volumes[root[0]][0]

    def GetVolumeInformationW(self, root: str, name: Any, size: int, *rest: Any) -> int:
        label = self.volumes[root[0]][1]
        if label is None:
            return 0
        assert size >= len(label) + 1 and len(rest) == 5
        name.value = label
        return 1

    def GetDiskFreeSpaceExW(self, root: str, free: Any, total: Any, total_free: Any) -> int:
        value = self.volumes[root[0]][2]
        if value is None:
            return 0
        free.contents.value = value
        return 1


def windows_pc() -> FakeKernel32:
    return FakeKernel32(
        {
            "C": (DRIVE_FIXED, "系统", 50 * GB),
            "D": (DRIVE_CDROM, "DVD", None),
            "E": (DRIVE_REMOVABLE, "KINGSTON", 7 * GB),
            "F": (DRIVE_REMOVABLE, None, None),  # an empty card-reader slot
            "G": (DRIVE_REMOVABLE, "", 2 * GB),  # a stick without a label
            "Z": (DRIVE_REMOTE, "市级汇总", None),
        }
    )


def test_windows_lists_sticks_and_network_drives_not_cds_or_empty_slots() -> None:
    kernel32 = windows_pc()
    drives = list_removable_drives(kernel32=kernel32, windows=True)
    assert drives == [
        Drive("E:\\", "KINGSTON", "removable", 7 * GB),
        Drive("G:\\", "", "removable", 2 * GB),
        Drive("Z:\\", "市级汇总", "network", None),
    ]
    # No "insert a disk" box for the empty slot, and the error mode is put back.
    assert kernel32.error_modes[0] & SEM_FAILCRITICALERRORS
    assert kernel32.error_modes[-1] == 0


def test_windows_fixed_disks_on_request() -> None:
    drives = list_removable_drives(kernel32=windows_pc(), windows=True, include_fixed=True)
    assert (drives[0].path, drives[0].kind) == ("C:\\", "fixed")


def test_the_real_kernel32_is_only_asked_for_on_windows() -> None:
    if hasattr(ctypes, "windll"):
        pytest.skip("this is Windows")
    assert list_removable_drives(windows=True) == []  # no kernel32 here: nothing, no crash


def test_windows_descriptions() -> None:
    drives = list_removable_drives(kernel32=windows_pc(), windows=True)

    def describe(path: str) -> str:
        return describe_target(path, drives, windows=True)

    assert describe("E:\\") == "U盘 KINGSTON (E:)"
    assert describe("e:\\报送\\2026年") == "U盘 KINGSTON (E:)\\报送\\2026年"
    assert describe("G:\\") == "U盘 (G:)"
    assert describe("Z:\\数据 交换") == "网络共享 市级汇总 (Z:)\\数据 交换"
    assert (
        describe("\\\\city-server\\交换 目录\\杞县") == "网络共享 \\\\city-server\\交换 目录\\杞县"
    )
    assert describe("//city-server/share") == "网络共享 \\\\city-server\\share"
    assert describe("\\\\?\\UNC\\srv\\share\\x") == "网络共享 \\\\srv\\share\\x"
    assert describe("D:\\备份") == "本地文件夹 D:\\备份"


@pytest.mark.parametrize(
    ("path", "unc"),
    [
        ("\\\\server\\share", True),
        ("\\\\server\\share\\报送\\2026", True),
        ("//server/share/x", True),
        ("\\\\服务器\\共享 目录", True),
        ("\\\\?\\UNC\\server\\share\\x", True),
        ("\\\\?\\C:\\long\\path", False),
        ("\\\\.\\PhysicalDrive0", False),
        ("\\\\server", False),  # no share: not a usable network path
        ("C:\\Users\\王芳\\AppData\\Local\\bbcs", False),
        ("E:", False),
        ("/media/wang/KINGSTON", False),
        ("", False),
    ],
)
def test_unc_paths(path: str, unc: bool) -> None:
    assert is_unc_path(path) is unc


PROC_MOUNTS = """\
/dev/nvme0n1p2 / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
/dev/nvme0n1p1 /boot/efi vfat rw 0 0
/dev/sdb1 /media/wang/KINGSTON vfat rw,nosuid,nodev 0 0
/dev/sdc1 /media/wang/\\345\\212\\236\\344\\272\\213\\040U\\347\\233\\230 exfat rw 0 0
/dev/mmcblk0p1 /run/media/li/SD\\040CARD vfat rw 0 0
/dev/sdd1 /mnt/backup ext4 rw 0 0
/dev/sdf1 /media/wang/报送\\040盘 vfat rw 0 0
/dev/sde1 /mnt/stick vfat rw 0 0
//city-server/交换 /mnt/city cifs rw,vers=3.0 0 0
nas:/export/bbcs /srv/nfs nfs4 rw 0 0
gvfsd-fuse /run/user/1000/gvfs fuse.gvfsd-fuse rw,nosuid,nodev 0 0
/dev/loop3 /snap/core/1 squashfs ro 0 0
"""


def linux_sources(removable: dict[str, str]) -> LinuxSources:
    files = {"/proc/mounts": PROC_MOUNTS}
    files.update({f"/sys/block/{disk}/removable": flag for disk, flag in removable.items()})

    def read_text(path: str) -> str:
        try:
            return files[path]
        except KeyError:
            raise FileNotFoundError(path) from None

    def list_dir(path: str) -> list[str]:
        assert path == "/run/user/1000/gvfs"
        return ["smb-share:server=city-server,share=数据", "sftp:host=x"]

    return LinuxSources(read_text, list_dir, lambda path: 1000 if "KINGSTON" in path else None)


def test_linux_lists_sticks_cards_and_shares() -> None:
    drives = list_removable_drives(linux=linux_sources({"sde": "1", "sdd": "0"}), windows=False)
    assert drives == [
        Drive("/media/wang/KINGSTON", "KINGSTON", "removable", 1000),
        Drive("/media/wang/办事 U盘", "办事 U盘", "removable", None),
        Drive("/run/media/li/SD CARD", "SD CARD", "removable", None),
        Drive("/media/wang/报送 盘", "报送 盘", "removable", None),
        Drive("/mnt/stick", "stick", "removable", None),
        Drive("/mnt/city", "city-server/交换", "network", None),
        Drive("/srv/nfs", "nas:/export/bbcs", "network", None),
        Drive(
            "/run/user/1000/gvfs/smb-share:server=city-server,share=数据",
            "city-server/数据",
            "network",
            None,
        ),
    ]


def test_linux_fixed_disk_under_mnt_on_request() -> None:
    sources = linux_sources({"sde": "1", "sdd": "0"})
    drives = list_removable_drives(linux=sources, windows=False, include_fixed=True)
    assert Drive("/mnt/backup", "backup", "fixed", None) in drives


def test_linux_without_proc_mounts_lists_nothing() -> None:
    def missing(path: str) -> str:
        raise PermissionError(path)

    sources = LinuxSources(missing, lambda p: [], lambda p: None)
    assert list_removable_drives(linux=sources, windows=False) == []


def test_linux_descriptions() -> None:
    drives = list_removable_drives(linux=linux_sources({}), windows=False)

    def describe(path: str) -> str:
        return describe_target(path, drives, windows=False)

    assert describe("/media/wang/KINGSTON") == "U盘 KINGSTON (/media/wang/KINGSTON)"
    assert describe("/media/wang/KINGSTON/报送") == "U盘 KINGSTON (/media/wang/KINGSTON)/报送"
    assert describe("/media/wang/KINGSTON2") == "本地文件夹 /media/wang/KINGSTON2"
    assert describe("/mnt/city/杞县") == "网络共享 city-server/交换 (/mnt/city)/杞县"
    assert describe("/home/wang/备份 目录") == "本地文件夹 /home/wang/备份 目录"
