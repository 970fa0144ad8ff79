"""Materials (scans, photos, documents) stored once by SHA-256 under the data dir."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from desktop_app.errors import EnvironmentProblem, UserError
from desktop_app.files import sha256_file

MAX_ATTACHMENT_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    filename: str
    sha256: str
    size: int


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> StoredFile:
        """Copy ``source`` into the store (atomically); an identical file is stored once."""
        return self._put(source)[0]

    @contextmanager
    def staged(self, sources: Sequence[Path]) -> Iterator[list[StoredFile]]:
        """The files stored for a change about to be saved: if the block raises (the change
        was refused or failed), the files this call added are removed again, so a refused
        change leaves no file that no record refers to. Files stored before stay."""
        stored: list[StoredFile] = []
        added: list[Path] = []
        try:
            for source in sources:
                item, new = self._put(source)
                stored.append(item)
                if new:
                    added.append(self.path_for(item.sha256))
            yield stored
        except BaseException:
            for path in added:
                path.unlink(missing_ok=True)
            raise

    def _put(self, source: Path) -> tuple[StoredFile, bool]:
        if not source.is_file():
            raise UserError(f"找不到材料文件：{source}")
        size = source.stat().st_size
        if size > MAX_ATTACHMENT_BYTES:
            raise UserError(f"材料“{source.name}”超过 200 MB，请压缩或拆分后再添加。")
        sha = sha256_file(source)
        target = self.path_for(sha)
        if target.exists():
            return StoredFile(source.name, sha, size), False
        try:
            self._copy(source, target)
        except OSError as exc:
            raise _storage_problem(exc) from exc
        return StoredFile(source.name, sha, size), True

    def _copy(self, source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        try:
            with source.open("rb") as reader, partial.open("wb") as writer:
                for block in iter(lambda: reader.read(1024 * 1024), b""):
                    writer.write(block)
                writer.flush()
                os.fsync(writer.fileno())
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)

    def readable_copy(self, sha256: str, filename: str, folder: Path) -> Path:
        """A copy under its original name, so the system opens it with the right program."""
        source = self.path_for(sha256)
        if not source.is_file():
            raise UserError(f"材料文件“{filename}”在数据目录中缺失，请用 bbcs check 检查。")
        safe_name = Path(filename).name or sha256
        target = folder / sha256[:12] / safe_name
        if not target.exists():
            try:
                self._copy(source, target)
            except OSError as exc:
                raise _storage_problem(exc) from exc
        return target

    def verify(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        if not path.is_file():
            return False
        return sha256_file(path) == sha256


def _storage_problem(exc: OSError) -> EnvironmentProblem:
    if exc.errno == errno.ENOSPC:
        return EnvironmentProblem("磁盘空间已满，材料未能保存。请清理磁盘后重试。")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return EnvironmentProblem("数据目录不可写，材料未能保存。请检查数据目录的权限。")
    return EnvironmentProblem(f"保存材料时出错：{exc.strerror or exc}")
