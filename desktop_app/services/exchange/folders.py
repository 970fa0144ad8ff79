"""The folders bundles are written to (a USB stick, a share): checked before any work, written
so that a pulled stick leaves nothing that looks like a bundle, and failures told in Chinese."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from desktop_app.errors import EnvironmentProblem, UserError
from desktop_app.files import HashingWriter, forget_cached, fsync_dir, sha256_file
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.refusals import BundleRefused


def check_target(folder: Path) -> None:
    if not str(folder).strip():
        raise UserError("请选择数据包的保存位置（U盘、共享文件夹或本地文件夹）。")
    if not folder.exists():
        raise EnvironmentProblem(
            f"找不到目标位置 {folder}：U盘可能已拔出，或共享文件夹无法访问。请检查后重试。"
        )
    if not folder.is_dir():
        raise UserError(f"{folder} 不是文件夹。")
    probe = folder / f".bbcs-probe-{os.getpid()}.tmp"
    try:  # a write-protected stick or a read-only share is found before any work is done
        probe.write_bytes(b"bbcs")
        probe.unlink()
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink()
        raise EnvironmentProblem(folder_problem(exc, folder)) from exc


def temp_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "本机临时文件夹所在磁盘已满，无法生成数据包。请清理磁盘后重试。"
    return f"生成数据包时本机临时文件出错（{exc.strerror or exc}）。"


def folder_problem(exc: OSError, folder: Path) -> str:
    if exc.errno == errno.EFBIG:
        return (
            f"{folder} 不能存放这么大的文件（U盘为 FAT32 格式时单个文件不能超过 4 GB）。"
            "请换用 NTFS/exFAT 格式的U盘或共享文件夹。"
        )
    if exc.errno == errno.ENOSPC:
        return (
            f"{folder} 空间已满，数据包未写出（未留下不完整的文件）。请换一个U盘或清理空间后重试。"
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"{folder} 是只读的或没有写入权限，数据包未写出。请检查U盘的写保护开关或共享权限。"
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.EIO, errno.ENXIO):
        return (
            f"写入 {folder} 时出错：U盘可能已被拔出或共享已断开，数据包未写出。请重新连接后重试。"
        )
    return f"写入 {folder} 时出错（{exc.strerror or exc}），数据包未写出。"


def write_bundle_file(folder: Path, name: str, sealed: bf.SealedBundle) -> tuple[Path, int, str]:
    """Temp name, fsync, rename, read back: a pulled stick leaves nothing named ``*.bbcs``."""
    target = folder / name
    partial = folder / f".{name}.part"
    renamed = False
    try:
        with partial.open("wb") as raw:
            hashing = HashingWriter(raw)
            bf.write_container(hashing, sealed)
            raw.flush()
            os.fsync(raw.fileno())
            forget_cached(raw)  # the read-back below then reads the stick, not memory
        digest = hashing.digest
        size = partial.stat().st_size
        os.replace(partial, target)
        renamed = True
        fsync_dir(folder)
        if target.stat().st_size != size or sha256_file(target) != digest.hexdigest():
            raise OSError(errno.EIO, "read-back mismatch")
        bf.read_header(target)
    except BaseException as exc:
        # Whatever went wrong, nothing that looks like a bundle stays behind.
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        if renamed:
            with contextlib.suppress(OSError):
                target.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise EnvironmentProblem(folder_problem(exc, folder)) from exc
        if isinstance(exc, BundleRefused):
            raise EnvironmentProblem(
                f"写入 {folder} 后读回校验不一致：U盘可能有坏块或已被拔出。请换一个U盘重试。"
            ) from exc
        raise
    return target, size, digest.hexdigest()


def size_of(path: Path) -> int:
    """A bundle's size for the record; 0 if the stick went away after it was read."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
