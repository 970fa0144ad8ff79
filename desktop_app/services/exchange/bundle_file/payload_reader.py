"""Reading a decrypted payload defensively. It is read only once the sender's signature of the
whole file has been checked (``container.open_payload``), and still: member names are checked
against a closed list (no ``..``, no absolute paths, no duplicates), the manifest's own signature
(which binds the plaintext to the sender) is verified, and every member is read no further than
its declared size and checked against its hash."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final, cast

import zstandard
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from desktop_app.files import create_scratch_file
from desktop_app.services.exchange.bundle_file.format import (
    CHUNK_SIZE,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    MAX_MEMBER_BYTES,
    MAX_MEMBERS,
    MAX_UNPACKED_BYTES,
    MEMBER_NAME,
    SIGNATURE,
    UNPACK_CHUNK,
    ZSTD_MAX_WINDOW,
    loads,
)
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode

_ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    ValueError,
    EOFError,
    OSError,
)


class _HashingReader:
    def __init__(self, source: IO[bytes], limit: int) -> None:
        self._source = source
        self._left = limit + 1
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._source.read(size)
        self._left -= len(data)
        self.size += len(data)
        self.digest.update(data)
        return data


class Payload:
    """A decrypted payload: checked names, a verified manifest, members read within limits."""

    def __init__(self, file: IO[bytes], name: str) -> None:
        self.name = name
        try:
            self._zip = zipfile.ZipFile(file)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{name}”的内容已损坏。") from None
        if len(infos) > MAX_MEMBERS + 2:
            raise BundleRefused(RefusalCode.TOO_LARGE, f"数据包“{name}”的文件数超过上限。")
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            member = info.filename
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or (
                info.flag_bits & 0x1
            ):
                raise BundleRefused(
                    RefusalCode.TAMPERED, f"数据包“{name}”的内容已损坏（压缩方式）。"
                )
            if member in (MANIFEST, SIGNATURE) or MEMBER_NAME.fullmatch(member):
                if member in self._infos:
                    raise BundleRefused(
                        RefusalCode.DUPLICATE_NAME,
                        f"数据包“{name}”中有重名的文件“{member}”，拒绝导入。",
                    )
                self._infos[member] = info
            else:
                raise BundleRefused(
                    RefusalCode.UNSAFE_NAME,
                    f"数据包“{name}”中有不允许的文件名“{member[:80]}”，拒绝导入。",
                )
        self.manifest: dict[str, Any] = {}
        self.manifest_bytes = b""

    def verify(self, signing_key: bytes) -> dict[str, Any]:
        """Check the manifest's signature and that the members are exactly those it lists."""
        for required in (MANIFEST, SIGNATURE):
            if required not in self._infos:
                raise BundleRefused(
                    RefusalCode.MISSING_MEMBER, f"数据包“{self.name}”缺少“{required}”，拒绝导入。"
                )
        manifest_bytes = self._read(MANIFEST, MAX_MANIFEST_BYTES)
        signature = self._read(SIGNATURE, 64)
        try:
            Ed25519PublicKey.from_public_bytes(signing_key).verify(signature, manifest_bytes)
        except (InvalidSignature, ValueError):
            raise BundleRefused(
                RefusalCode.BAD_SIGNATURE,
                f"数据包“{self.name}”的签名不符：不是由登记的站点签发，或内容已被改动，拒绝导入。",
            ) from None
        try:
            manifest = loads(manifest_bytes)
        except ValueError:
            raise BundleRefused(
                RefusalCode.BAD_CONTENT, f"数据包“{self.name}”的清单无法读取。"
            ) from None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("members"), list):
            raise BundleRefused(RefusalCode.BAD_CONTENT, f"数据包“{self.name}”的清单无法读取。")
        declared: dict[str, dict[str, Any]] = {}
        for member in manifest["members"]:
            if (
                not isinstance(member, dict)
                or not isinstance(member.get("name"), str)
                or not isinstance(member.get("size"), int)
                or not isinstance(member.get("sha256"), str)
            ):
                raise BundleRefused(RefusalCode.BAD_CONTENT, f"数据包“{self.name}”的清单无法读取。")
            if member["name"] in declared:
                raise BundleRefused(
                    RefusalCode.DUPLICATE_NAME,
                    f"数据包“{self.name}”的清单中有重名的文件，拒绝导入。",
                )
            declared[member["name"]] = member
        present = set(self._infos) - {MANIFEST, SIGNATURE}
        for extra in sorted(present - set(declared)):
            raise BundleRefused(
                RefusalCode.UNEXPECTED_MEMBER,
                f"数据包“{self.name}”中有清单以外的文件“{extra}”，拒绝导入。",
            )
        for missing in sorted(set(declared) - present):
            raise BundleRefused(
                RefusalCode.MISSING_MEMBER,
                f"数据包“{self.name}”缺少清单中的文件“{missing}”，拒绝导入。",
            )
        for member in declared.values():
            if (
                member["name"].startswith("attachments/")
                and member["sha256"] != (member["name"].split("/", 1)[1])
            ):
                raise BundleRefused(
                    RefusalCode.TAMPERED,
                    f"数据包“{self.name}”中材料“{member['name']}”与其哈希不符，拒绝导入。",
                )
            if not 0 <= member["size"] <= MAX_MEMBER_BYTES:
                raise BundleRefused(
                    RefusalCode.TOO_LARGE,
                    f"数据包“{self.name}”中的文件“{member['name']}”过大，拒绝导入。",
                )
            if self._infos[member["name"]].file_size != member["size"]:
                raise BundleRefused(
                    RefusalCode.SIZE_MISMATCH,
                    f"数据包“{self.name}”中“{member['name']}”的大小与清单不符，拒绝导入。",
                )
        self.manifest = manifest
        self.manifest_bytes = manifest_bytes
        self._declared = declared
        return manifest

    def member_names(self) -> list[str]:
        return list(self._declared)

    def read_member(self, name: str) -> bytes:
        """A member's bytes, checked against the manifest's size and SHA-256."""
        member = self._declared.get(name)
        if member is None:
            raise BundleRefused(RefusalCode.MISSING_MEMBER, f"数据包“{self.name}”缺少“{name}”。")
        data = self._read(name, member["size"])
        if len(data) != member["size"] or hashlib.sha256(data).hexdigest() != member["sha256"]:
            raise BundleRefused(
                RefusalCode.TAMPERED,
                f"数据包“{self.name}”中的“{name}”与清单不符（已被改动），拒绝导入。",
            )
        return data

    def copy_member(self, name: str, target: Path) -> None:
        """Stream a member to ``target`` (atomically), checked against the manifest."""
        member = self._declared[name]
        digest = hashlib.sha256()
        size = 0
        partial = target.with_name(target.name + ".part")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._open(name) as reader, partial.open("wb") as writer:
                while True:
                    block = reader.read(min(CHUNK_SIZE, member["size"] - size + 1))
                    if not block:
                        break
                    size += len(block)
                    if size > member["size"]:
                        break
                    digest.update(block)
                    writer.write(block)
                writer.flush()
                os.fsync(writer.fileno())
            if size != member["size"] or digest.hexdigest() != member["sha256"]:
                raise BundleRefused(
                    RefusalCode.TAMPERED, f"数据包“{self.name}”中的“{name}”与清单不符，拒绝导入。"
                )
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)

    def unpacked_size(self, name: str) -> int | None:
        """The size a packed member declares it unpacks to (None: no size bbcs would write)."""
        declared = self._declared.get(name, {}).get("unpacked_size")
        if isinstance(declared, int) and not isinstance(declared, bool):
            return declared if 0 <= declared <= MAX_UNPACKED_BYTES else None
        return None

    def unpack_member(self, name: str, target: Path) -> None:
        """Unpack a Zstandard member to ``target``, within the unpacked size the manifest
        declares, and check the packed bytes against the manifest."""
        member = self._declared.get(name)
        if member is None:
            raise BundleRefused(RefusalCode.MISSING_MEMBER, f"数据包“{self.name}”缺少“{name}”。")
        declared = self.unpacked_size(name)
        if member.get("packing") != "zstd" or declared is None:
            raise BundleRefused(
                RefusalCode.BAD_CONTENT, f"数据包“{self.name}”中“{name}”的说明不正确。"
            )
        free = shutil.disk_usage(target.parent).free
        if free < declared:
            raise OSError(errno.ENOSPC, f"需要 {declared // 2**20} MB，只有 {free // 2**20} MB")
        written = 0
        try:
            with self._open(name) as packed, create_scratch_file(target) as writer:
                hashing = _HashingReader(packed, member["size"])
                # The window bbcs writes with is 512 KiB (level 1); more is not a bbcs file.
                reader = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW).stream_reader(
                    cast(IO[bytes], hashing), closefd=False
                )
                while block := reader.read(min(UNPACK_CHUNK, declared - written + 1)):
                    written += len(block)
                    if written > declared:
                        raise BundleRefused(
                            RefusalCode.SIZE_MISMATCH,
                            f"数据包“{self.name}”中“{name}”解压后超出声明的大小，拒绝导入。",
                        )
                    writer.write(block)
                hashing.read()  # anything after the frame still counts for the hash
        except zstandard.ZstdError:
            raise BundleRefused(
                RefusalCode.TAMPERED, f"数据包“{self.name}”中“{name}”已损坏。"
            ) from None
        except _ZIP_ERRORS as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # the temporary disk, not the bundle
            raise BundleRefused(
                RefusalCode.TAMPERED, f"数据包“{self.name}”的内容已损坏。"
            ) from None
        if (
            hashing.size != member["size"]
            or hashing.digest.hexdigest() != member["sha256"]
            or written != declared
        ):
            raise BundleRefused(
                RefusalCode.TAMPERED,
                f"数据包“{self.name}”中的“{name}”与清单不符（已被改动），拒绝导入。",
            )

    def _read(self, name: str, limit: int) -> bytes:
        try:
            with self._open(name) as reader:
                data = reader.read(limit + 1)
        except _ZIP_ERRORS:
            raise BundleRefused(
                RefusalCode.TAMPERED, f"数据包“{self.name}”的内容已损坏。"
            ) from None
        if len(data) > limit:
            raise BundleRefused(
                RefusalCode.SIZE_MISMATCH,
                f"数据包“{self.name}”中“{name}”的大小超出声明，拒绝导入。",
            )
        return data

    def _open(self, name: str) -> IO[bytes]:
        try:
            return self._zip.open(self._infos[name])
        except _ZIP_ERRORS:
            raise BundleRefused(
                RefusalCode.TAMPERED, f"数据包“{self.name}”的内容已损坏。"
            ) from None

    def close(self) -> None:
        self._zip.close()


def read_lines(data: bytes, name: str) -> Iterator[Any]:
    """Parse a JSON Lines member, refusing malformed content plainly."""
    for line in io.BytesIO(data):
        if not line.strip():
            continue
        try:
            yield loads(line)
        except ValueError:
            raise BundleRefused(
                RefusalCode.BAD_CONTENT, f"数据包中“{name}”的内容无法读取。"
            ) from None
