"""Materials (scans, photos, documents) stored once by SHA-256.

The bytes live in the database, in ``material_chunks`` — on PostgreSQL because several seats
(PCs) share one site (services/seats.py), on SQLite so that every backup holds them (a walk
restored a backup on a new PC and the department head's signed 书面依据 was gone: the folder
was in no backup). They are kept in ``material_chunks``:
1 MiB pieces, each sealed with AES-256-GCM under a subkey of the data key (a copied database or
``pg_dump`` shows no scan), bound to its material, its place and the number of pieces (a piece
moved, dropped or swapped does not open). One row per piece rather than one row per material:
a 20 MB material written and read as one value took 128/165 MB of memory, in pieces a flat 60.
The pieces are written in the same transaction as the ``attachments`` row that names them, and
the data dir's ``attachments/`` folder becomes a cache, filled the first time a material is
opened (a restored backup's materials come back that way).
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Result, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from desktop_app.domain.settings import MATERIALS_IN_DATABASE
from desktop_app.errors import EnvironmentProblem, UserError
from desktop_app.files import sha256_file
from desktop_app.services import settings
from desktop_app.services.data_key import DataKey
from desktop_app.storage.database import Database
from desktop_app.storage.models import Attachment, MaterialChunk

MAX_ATTACHMENT_BYTES = 200 * 1024 * 1024
CHUNK_BYTES: Final = 1024 * 1024
_PURPOSE: Final = "materials"
_NONCE_BYTES: Final = 12


@dataclass(frozen=True)
class StoredFile:
    filename: str
    sha256: str
    size: int


class AttachmentStore:
    """The materials of a data dir: its folder, and on PostgreSQL the site's shared pieces."""

    def __init__(self, root: Path, shared: SharedMaterials | None = None) -> None:
        self.root = root
        self._shared = shared

    def path_for(self, sha256: str) -> Path:
        """Where the material is (SQLite) or is cached (PostgreSQL: see :meth:`cached`)."""
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> StoredFile:
        """Copy ``source`` into the folder (atomically); an identical file is stored once.
        PostgreSQL's shared copy is written only by a record saved within :meth:`staged`."""
        return self._put(source)[0]

    @contextmanager
    def staged(self, sources: Sequence[Path]) -> Iterator[list[StoredFile]]:
        """The files stored for a change about to be saved: if the block raises (the change
        was refused or failed), the files this call added are removed again, so a refused
        change leaves no file that no record refers to. Files stored before stay.

        On PostgreSQL the block's write seals each file into the database as it saves the
        ``attachments`` row (:func:`_seal_new_attachments`), so both commit or neither."""
        stored: list[StoredFile] = []
        added: list[Path] = []
        pending = _pending()
        staged_here: list[str] = []
        try:
            for source in sources:
                item, new = self._put(source)
                stored.append(item)
                if new:
                    added.append(self.path_for(item.sha256))
                if self._shared is not None and item.sha256 not in pending:
                    pending[item.sha256] = (self._shared, source)
                    staged_here.append(item.sha256)
            yield stored
        except BaseException:
            for path in added:
                path.unlink(missing_ok=True)
            raise
        finally:
            for sha in staged_here:
                pending.pop(sha, None)

    def receive(
        self,
        session: Session,
        members: Iterable[str],
        copy_member: Callable[[str, Path], None],
    ) -> None:
        """Materials received in a bundle (members named ``…/<sha256>``), stored within the
        import's transaction: ``copy_member(name, path)`` writes one out, checked. On SQLite
        into the folder (if the import then fails they stay, unreferenced, reused by a later
        import); on PostgreSQL into the cache and sealed into the database with the records."""
        for member in members:
            sha = member.rsplit("/", 1)[-1]
            target = self.path_for(sha)
            if self._shared is not None and self._shared.complete(session, sha):
                continue
            if not target.is_file():
                try:
                    copy_member(member, target)
                except OSError as exc:
                    raise EnvironmentProblem(
                        f"保存材料时出错：{exc.strerror or exc}。本次导入未做任何更改。"
                    ) from exc
            if self._shared is not None:
                self._shared.write(session, sha, target)

    def share_local_copies(self) -> int:
        """Seal into the database the materials the records name that it lacks and this data
        dir's folder holds whole — on SQLite every material added before they were kept in the
        database, on PostgreSQL those added on a seat before materials were shared (migration
        0019), or received by an older import. Run at open, by a process that may write: each
        seat brings what only it had. Returns how many materials were sealed in."""
        if self._shared is None:
            return 0
        shared = 0
        for sha in self._shared.unshared():
            path = self.path_for(sha)
            if self.verify(sha):
                self._shared.take_in(sha, path)
                shared += 1
        self._shared.mark_all_in()
        return shared

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
            _copy(source, target)
        except OSError as exc:
            raise _storage_problem(exc) from exc
        return StoredFile(source.name, sha, size), True

    def cached(self, sha256: str) -> Path:
        """The material's file on this PC, fetched from the database into the cache if it is
        not there yet or is not the material any more (a copy changed on the disk is never
        opened). The path does not exist if the material is missing."""
        path = self.path_for(sha256)
        if self._shared is not None and path.is_file() and not self.verify(sha256):
            path.unlink(missing_ok=True)
        if self._shared is not None and not path.is_file():
            try:
                self._shared.read_into(sha256, path)
            except OSError as exc:
                raise _storage_problem(exc) from exc
        return path

    def readable_copy(self, sha256: str, filename: str, folder: Path) -> Path:
        """A copy under its original name, so the system opens it with the right program."""
        source = self.cached(sha256)
        if not source.is_file():
            where = "数据目录" if self._shared is None else "数据库"
            raise UserError(
                f"材料文件“{filename}”在{where}中缺失。请由管理员运行 bbcs check 检查，"
                "或用恢复密钥从含有该材料的备份恢复。"
            )
        safe_name = Path(filename).name or sha256
        target = folder / sha256[:12] / safe_name
        if not target.exists():
            try:
                _copy(source, target)
            except OSError as exc:
                raise _storage_problem(exc) from exc
        return target

    def waiting(self, sizes: Mapping[str, int]) -> list[str]:
        """The materials of ``sizes`` not in the database yet but whole in this data dir's
        folder: an upgraded site's, until a process that may write opens it
        (``share_local_copies``); a backup does not hold them meanwhile."""
        if self._shared is None or self._shared.all_in():
            return []  # moved in once: one missing now was removed from the database
        return sorted(sha for sha in self._shared.unshared() if sha in sizes and self.verify(sha))

    def verify(self, sha256: str) -> bool:
        """The folder's file is there and whole (SQLite's store, PostgreSQL's cache)."""
        path = self.path_for(sha256)
        if not path.is_file():
            return False
        return sha256_file(path) == sha256

    def problems(self, sizes: Mapping[str, int]) -> list[str]:
        """What ``bbcs check`` says of the materials the records name (sha256 → size): their
        sealed pieces in the database (the folder's files where there is no shared store).
        A material still waiting in the folder to be sealed in (``waiting``) is not one."""
        if self._shared is not None:
            waiting = set(self.waiting(sizes))
            return self._shared.problems({s: n for s, n in sizes.items() if s not in waiting})
        return [
            f"材料文件缺失或已损坏：{sha[:12]}…" for sha in sorted(sizes) if not self.verify(sha)
        ]


class SharedMaterials:
    """PostgreSQL: the site's materials in ``material_chunks``, sealed under the data key."""

    def __init__(self, db: Database, data_key: DataKey) -> None:
        self._db = db
        self._data_key = data_key

    def serves(self, session: Session) -> bool:
        """``session`` works on this site's database (not another one open in the process)."""
        bind = session.get_bind()
        return bind.engine.url == self._db.engine.url

    def _cipher(self) -> AESGCM:
        return AESGCM(self._data_key.subkey(_PURPOSE))

    def complete(self, session: Session, sha256: str) -> bool:
        """Every piece of the material is in the database (by count; ``check`` opens them)."""
        size = _size_of_sealed(session, sha256)
        return size is not None and size == _count(session, sha256)

    def write(self, session: Session, sha256: str, source: Path) -> None:
        """Seal ``source`` into the database in ``session``'s transaction, piece by piece (a
        piece already there is replaced: adding a material again mends a damaged one)."""
        size = source.stat().st_size
        total = _pieces(size)
        cipher = self._cipher()
        digest = hashlib.sha256()
        connection = session.connection()
        with source.open("rb") as reader:
            for seq in range(total):
                block = reader.read(CHUNK_BYTES)
                digest.update(block)
                nonce = secrets.token_bytes(_NONCE_BYTES)
                sealed = nonce + cipher.encrypt(nonce, block, _aad(sha256, seq, total))
                statement = _insert(connection.dialect.name)(MaterialChunk).values(
                    sha256=sha256, seq=seq, content=sealed
                )
                connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=[MaterialChunk.sha256, MaterialChunk.seq],
                        set_={"content": statement.excluded.content},
                    )
                )
        if digest.hexdigest() != sha256:
            raise UserError(f"材料文件 {source.name} 在保存过程中被改动，请重新添加。")

    def all_in(self) -> bool:
        """Whether a process that may write has moved every material in once (``mark_all_in``)."""
        with self._db.read() as session:
            return settings.read(session, MATERIALS_IN_DATABASE)

    def mark_all_in(self) -> None:
        """Every material the folder held whole is in the database now (set once)."""
        with self._db.read() as session:
            if settings.read(session, MATERIALS_IN_DATABASE):
                return
        with self._db.write() as session:
            settings.store(session, MATERIALS_IN_DATABASE, True)

    def unshared(self) -> list[str]:
        """The materials the records name with no piece in the database."""
        with self._db.read() as session:
            sealed = select(MaterialChunk.sha256).where(MaterialChunk.sha256 == Attachment.sha256)
            return list(
                session.scalars(select(Attachment.sha256).where(~sealed.exists()).distinct())
            )

    def take_in(self, sha256: str, source: Path) -> None:
        """Seal one material into the database in a transaction of its own."""
        with self._db.write() as session:
            if _count(session, sha256) == 0:  # another seat may have brought it meanwhile
                self.write(session, sha256, source)

    def read_into(self, sha256: str, target: Path) -> None:
        """Open the material's pieces into ``target`` (atomically); nothing is written if a
        piece is missing or does not open, or the whole is not the material."""
        cipher = self._cipher()
        digest = hashlib.sha256()
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        try:
            with self._db.read() as session, partial.open("wb") as writer:
                total = _size_of_sealed(session, sha256) or _count(session, sha256)
                expected = 0
                with _pieces_of(session, sha256) as pieces:
                    for seq, sealed in pieces:
                        block = _open(cipher, sha256, seq, total, sealed)
                        if seq != expected or block is None:
                            return
                        digest.update(block)
                        writer.write(block)
                        expected += 1
                writer.flush()
                os.fsync(writer.fileno())
            if expected != total or digest.hexdigest() != sha256:
                return
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)

    def problems(self, sizes: Mapping[str, int]) -> list[str]:
        """Each material the records name, opened piece by piece: a missing or altered piece
        is named, in Chinese."""
        cipher = self._cipher()
        problems: list[str] = []
        for sha in sorted(sizes):
            total = _pieces(sizes[sha])
            name = f"材料 {sha[:12]}…"
            seen: set[int] = set()
            digest = hashlib.sha256()
            whole = True
            with self._db.read() as session, _pieces_of(session, sha) as pieces:
                for seq, sealed in pieces:
                    seen.add(seq)
                    block = _open(cipher, sha, seq, total, sealed)
                    if block is None:
                        problems.append(
                            f"{name}的第 {seq + 1} 块（共 {total} 块）已被改动，无法用数据密钥打开"
                        )
                        whole = False
                    elif whole:
                        digest.update(block)
            missing = [seq for seq in range(total) if seq not in seen]
            if missing and len(missing) == total:
                problems.append(f"{name}在数据库中缺失（共 {total} 块）")
            elif missing:
                numbers = "、".join(str(seq + 1) for seq in missing[:10])
                problems.append(f"{name}的第 {numbers} 块（共 {total} 块）在数据库中缺失")
            elif whole and digest.hexdigest() != sha:
                problems.append(f"{name}的内容与其 SHA-256 不符")
            if len(problems) > 50:
                problems.append("……材料问题过多，其余未列出")
                break
        return problems


def _insert(dialect: str) -> Callable[..., Any]:
    """The engine's INSERT with ON CONFLICT (both have it, each under its own dialect)."""
    return sqlite.insert if dialect == "sqlite" else postgresql.insert


def _pieces(size: int) -> int:
    """How many pieces a material of ``size`` bytes is sealed in (an empty one: one)."""
    return max(1, -(-size // CHUNK_BYTES))


def _aad(sha256: str, seq: int, total: int) -> bytes:
    return f"bbcs material v1 {sha256} {seq}/{total}".encode("ascii")


def _open(cipher: AESGCM, sha256: str, seq: int, total: int, sealed: bytes) -> bytes | None:
    try:
        return cipher.decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _aad(sha256, seq, total)
        )
    except InvalidTag:
        return None


def _pieces_of(session: Session, sha256: str) -> Result[int, bytes]:
    """The material's sealed pieces in order, fetched one at a time (a 200 MB material never
    sits in memory whole); close it (``with``) so that the server's cursor goes too."""
    return session.execute(
        select(MaterialChunk.seq, MaterialChunk.content)
        .where(MaterialChunk.sha256 == sha256)
        .order_by(MaterialChunk.seq)
        .execution_options(yield_per=1)
    )


def _count(session: Session, sha256: str) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(MaterialChunk).where(MaterialChunk.sha256 == sha256)
        )
        or 0
    )


def _size_of_sealed(session: Session, sha256: str) -> int | None:
    """How many pieces a material the records already name should have, or None."""
    size = session.scalar(select(Attachment.size).where(Attachment.sha256 == sha256).limit(1))
    return None if size is None else _pieces(size)


# Files staged on this thread for PostgreSQL: sha256 → (where they go, the file to seal).
_staging = threading.local()


def _pending() -> dict[str, tuple[SharedMaterials, Path]]:
    pending: dict[str, tuple[SharedMaterials, Path]] | None = getattr(_staging, "files", None)
    if pending is None:
        pending = _staging.files = {}
    return pending


@event.listens_for(Session, "before_flush")
def _seal_new_attachments(session: Session, _context: object, _instances: object) -> None:
    """An ``attachments`` row about to be inserted for a file staged on this thread: its bytes
    go into the database in the same transaction (services save materials through
    ``staged()`` and never need to know whether the store is a folder or the database)."""
    pending = _pending()
    if not pending:
        return
    for obj in list(session.new):
        if not isinstance(obj, Attachment) or obj.sha256 not in pending:
            continue
        shared, source = pending[obj.sha256]
        if not shared.serves(session) or shared.complete(session, obj.sha256):
            continue
        shared.write(session, obj.sha256, source)


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with source.open("rb") as reader, partial.open("wb") as writer:
            for block in iter(lambda: reader.read(CHUNK_BYTES), b""):
                writer.write(block)
            writer.flush()
            os.fsync(writer.fileno())
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _storage_problem(exc: OSError) -> EnvironmentProblem:
    if exc.errno == errno.ENOSPC:
        return EnvironmentProblem("磁盘空间已满，材料未能保存。请清理磁盘后重试。")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return EnvironmentProblem("数据目录不可写，材料未能保存。请检查数据目录的权限。")
    return EnvironmentProblem(f"保存材料时出错：{exc.strerror or exc}")
