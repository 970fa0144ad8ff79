"""The bundle file: what travels between sites on a USB stick or a share (DESIGN.md §6).

A bundle is one file::

    MAGIC | header length (4 bytes, big-endian) | header (JSON) | body

The header is plain JSON so a site can say *before decrypting* who sent a bundle, to whom, and
why it refuses it. The body is a ZIP archive (the *payload*) holding ``manifest.json``,
``manifest.sig`` and the members the manifest lists with their sizes and SHA-256 digests.

- Signed, then encrypted: the sender's Ed25519 key signs ``manifest.json`` (which pins every
  member by hash); the payload is then encrypted to the recipient's X25519 key: an ephemeral
  X25519 key agreement, HKDF-SHA256, and AES-256-GCM over 1 MiB chunks (the STREAM
  construction: the nonce is the chunk counter plus a "last chunk" flag, so a truncated or
  reordered file fails). The whole header is authenticated as associated data.
- Reference bundles (city → counties: departments, holidays, rules) hold no personal data and
  go to every county, so they are signed but not encrypted (``"encryption": "none"``).

Reading is defensive: every length is capped before anything is allocated, member names are
checked against a closed list (no ``..``, no absolute paths, no duplicates), a member is read
no further than its declared size, and nothing is trusted until the signature verifies.
``BundleRefused`` (a ``UserError`` with a machine-readable ``code``) is the only error a
malformed file may produce.

Nothing here touches the database; the rest of ``services.exchange`` decides what a bundle means.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import hashlib
import io
import json
import os
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, Protocol, cast

import zstandard
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop_app.files import HashingWriter, create_scratch_file
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode

MAGIC: Final = b"BBCS-BUNDLE\x00"
# Format 2 carries a site's records as one SQLite file (records/data.sqlite.zst); format 1 (JSON
# Lines) bundles were only ever made by pre-release builds.
FORMAT: Final = 2
OLDEST_FORMAT: Final = 2
SIGNATURE_ALGORITHM: Final = "Ed25519"
ENCRYPTION_ALGORITHM: Final = "X25519+HKDF-SHA256+AES-256-GCM"
NO_ENCRYPTION: Final = "none"
HASH_ALGORITHM: Final = "SHA-256"

BUNDLE_SUFFIX: Final = ".bbcs"
ACK_SUFFIX: Final = ".bbcsack"

CHUNK_SIZE: Final = 1024 * 1024
UNPACK_CHUNK: Final = 8 * 1024 * 1024  # zstd's reader is three times slower at 1 MiB reads
TAG_BYTES: Final = 16
MAX_HEADER_BYTES: Final = 64 * 1024
MAX_PAYLOAD_BYTES: Final = 8 * 1024**3
MAX_MANIFEST_BYTES: Final = 64 * 1024 * 1024
MAX_MEMBER_BYTES: Final = 4 * 1024**3
MAX_UNPACKED_BYTES: Final = 32 * 1024**3  # a records file as declared in the manifest
ZSTD_LEVEL: Final = 1  # 100,000 cases: 475 MB of SQLite pages in 0.4 s to 88 MB on two cores
ZSTD_MAX_WINDOW: Final = 8 * 1024 * 1024
MAX_MEMBERS: Final = 1_000_000
MAX_ACK_BYTES: Final = 1024 * 1024
MAX_DIRECTORY_BYTES: Final = 256 * 1024 * 1024
_ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    ValueError,
    EOFError,
    OSError,
)
_HKDF_INFO: Final = b"bbcs bundle v1"

MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.sig"
RECORDS_MEMBER: Final = "records/data.sqlite.zst"
_MEMBER_NAME = re.compile(
    r"(records/[a-z_]{1,40}\.jsonl|records/data\.sqlite\.zst|attachments/[0-9a-f]{64})"
)
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SITE = re.compile(r"[0-9]{6}")


def loads(data: bytes | str) -> Any:
    """``json.loads`` for untrusted bytes: every failure (bad UTF-8, bad JSON, nesting deep
    enough to exhaust the recursion limit) is a ``ValueError``."""
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


# Writing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """Whom a bundle is encrypted to: a site code and its X25519 public key (raw bytes)."""

    site_code: str
    encryption_key: bytes


class PayloadWriter:
    """Builds the ZIP payload in a temporary file; ``finish`` signs the manifest.

    Members are added as streams or bytes; each one's size and SHA-256 go into the manifest.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - closed by close()
        self._zip = zipfile.ZipFile(self._file, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.members: list[dict[str, Any]] = []
        self._names: set[str] = set()

    def add_bytes(self, name: str, data: bytes) -> None:
        self._check_name(name)
        self._zip.writestr(name, data)
        self.members.append(
            {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )

    def add_file(self, name: str, path: Path) -> None:
        self._check_name(name)
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as reader, self._zip.open(name, "w", force_zip64=True) as writer:
            for block in iter(lambda: reader.read(CHUNK_SIZE), b""):
                digest.update(block)
                size += len(block)
                writer.write(block)
        self.members.append({"name": name, "size": size, "sha256": digest.hexdigest()})

    def add_packed_file(self, name: str, path: Path) -> None:
        """Add a file compressed with Zstandard (on every core) and stored as is in the ZIP;
        the manifest gives the packed bytes' size and hash and the unpacked size."""
        self._check_name(name)
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        unpacked = path.stat().st_size
        with self._zip.open(info, "w", force_zip64=True) as stored:
            hashing = HashingWriter(stored)
            compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1)
            with path.open("rb") as reader:
                compressor.copy_stream(
                    reader, cast(IO[bytes], hashing), size=unpacked, write_size=CHUNK_SIZE
                )
        self.members.append(
            {
                "name": name,
                "size": hashing.size,
                "sha256": hashing.digest.hexdigest(),
                "unpacked_size": unpacked,
                "packing": "zstd",
            }
        )

    def finish(self, manifest: dict[str, Any], sign: Callable[[bytes], bytes]) -> IO[bytes]:
        """Add the manifest and its signature; return the payload, positioned at its start."""
        manifest = dict(manifest, members=self.members)
        data = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
        self._zip.writestr(MANIFEST, data)
        self._zip.writestr(SIGNATURE, sign(data))
        self._zip.close()
        self._file.seek(0)
        return self._file

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._zip.close()
        self._file.close()

    def _check_name(self, name: str) -> None:
        if not _MEMBER_NAME.fullmatch(name) or name in self._names:
            raise ValueError(f"bad member name {name!r}")
        self._names.add(name)


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


class BinaryWriter(Protocol):
    def write(self, data: bytes, /) -> int: ...


def write_container(
    out: BinaryWriter,
    header: dict[str, Any],
    payload: IO[bytes],
    recipient: Recipient | None,
) -> None:
    """Write magic, header and the (encrypted, if ``recipient``) payload to ``out``."""
    payload.seek(0, os.SEEK_END)
    size = payload.tell()
    payload.seek(0)
    header = dict(header, format=FORMAT, payload_size=size)
    if recipient is None:
        header["encryption"] = {"algorithm": NO_ENCRYPTION}
        header_bytes = _header_bytes(header)
        out.write(MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes)
        for block in iter(lambda: payload.read(CHUNK_SIZE), b""):
            out.write(block)
        return
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    salt = os.urandom(16)
    header["encryption"] = {
        "algorithm": ENCRYPTION_ALGORITHM,
        "recipient_key": b64encode(recipient.encryption_key),
        "ephemeral_key": b64encode(ephemeral_public),
        "salt": b64encode(salt),
        "chunk_size": CHUNK_SIZE,
    }
    header_bytes = _header_bytes(header)
    key = _derive_key(
        ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient.encryption_key)),
        salt,
        ephemeral_public,
        recipient.encryption_key,
    )
    aead = AESGCM(key)
    out.write(MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes)
    chunks = max(1, -(-size // CHUNK_SIZE))
    for index in range(chunks):
        block = payload.read(CHUNK_SIZE)
        sealed = aead.encrypt(_nonce(index, index == chunks - 1), block, header_bytes)
        out.write(struct.pack(">I", len(sealed)) + sealed)


def _header_bytes(header: dict[str, Any]) -> bytes:
    return json.dumps(header, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _derive_key(shared: bytes, salt: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=_HKDF_INFO + ephemeral + recipient
    ).derive(shared)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


# Reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    raw: bytes
    data: dict[str, Any]
    body_offset: int

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def from_site(self) -> str:
        return str(self.data.get("from_site", ""))

    @property
    def to_site(self) -> str:
        return str(self.data.get("to_site", ""))

    @property
    def bundle_id(self) -> str:
        return str(self.data.get("bundle_id", ""))

    @property
    def encryption(self) -> dict[str, Any]:
        value = self.data.get("encryption")
        return value if isinstance(value, dict) else {}


def read_header(path: Path) -> Header:
    """The plain header of a bundle; refuses anything that is not one."""
    try:
        with path.open("rb") as reader:
            head = reader.read(len(MAGIC) + 4)
            if len(head) < len(MAGIC) + 4 or head[: len(MAGIC)] != MAGIC:
                raise BundleRefused(RefusalCode.NOT_A_BUNDLE, f"“{path.name}”不是 bbcs 数据包。")
            (length,) = struct.unpack(">I", head[len(MAGIC) :])
            if length > MAX_HEADER_BYTES:
                raise BundleRefused(
                    RefusalCode.TAMPERED, f"数据包“{path.name}”的文件头已损坏（过长）。"
                )
            raw = reader.read(length)
    except OSError as exc:
        raise BundleRefused(
            RefusalCode.UNREADABLE, f"无法读取“{path}”：{exc.strerror or exc}"
        ) from exc
    if len(raw) != length:
        raise BundleRefused(RefusalCode.TRUNCATED, f"数据包“{path.name}”不完整（文件被截断）。")
    try:
        data = loads(raw)
    except ValueError:
        raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{path.name}”的文件头已损坏。") from None
    if not isinstance(data, dict):
        raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{path.name}”的文件头已损坏。")
    version = data.get("format")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleRefused(
            RefusalCode.TAMPERED, f"数据包“{path.name}”的文件头已损坏（格式版本）。"
        )
    if version > FORMAT:
        raise BundleRefused(
            RefusalCode.TOO_NEW,
            f"数据包“{path.name}”的格式版本为 {version}，本软件只支持到 {FORMAT}，"
            "请先升级本软件再导入。",
        )
    if version < OLDEST_FORMAT:
        raise BundleRefused(
            RefusalCode.TOO_OLD,
            f"数据包“{path.name}”由试用版软件生成（格式版本 {version}），请发出方升级后重新导出。",
        )
    for name, pattern in (("from_site", _SITE), ("bundle_id", UUID_PATTERN)):
        if not isinstance(data.get(name), str) or not pattern.fullmatch(data[name]):
            raise BundleRefused(
                RefusalCode.TAMPERED, f"数据包“{path.name}”的文件头已损坏（{name}）。"
            )
    if data.get("kind") not in ("data", "reference"):
        raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{path.name}”的类型无法识别。")
    size = data.get("payload_size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{path.name}”的文件头已损坏（大小）。")
    if size > MAX_PAYLOAD_BYTES:
        raise BundleRefused(
            RefusalCode.TOO_LARGE, f"数据包“{path.name}”声明的大小超过上限，拒绝导入。"
        )
    return Header(raw, data, len(MAGIC) + 4 + length)


@contextlib.contextmanager
def open_payload(
    path: Path, header: Header, private_keys: dict[bytes, X25519PrivateKey]
) -> Iterator[IO[bytes]]:
    """Decrypt (or copy) the payload to a temporary file, checking every chunk and the end.

    ``private_keys`` maps this site's X25519 public keys (current and retired) to private keys.
    """
    encryption = header.encryption
    algorithm = encryption.get("algorithm")
    size = int(header.data["payload_size"])
    with tempfile.TemporaryFile() as plain:
        try:
            with path.open("rb") as reader:
                reader.seek(header.body_offset)
                if algorithm == NO_ENCRYPTION:
                    _copy_exact(reader, plain, size, path.name)
                elif algorithm == ENCRYPTION_ALGORITHM:
                    _decrypt(reader, plain, header, private_keys, size, path.name)
                else:
                    raise BundleRefused(
                        RefusalCode.TOO_NEW,
                        f"数据包“{path.name}”使用了本软件不支持的加密算法“{algorithm}”，"
                        "请先升级本软件。",
                    )
        except OSError as exc:
            raise BundleRefused(
                RefusalCode.UNREADABLE, f"读取“{path}”时出错：{exc.strerror or exc}"
            ) from exc
        plain.seek(0)
        yield plain


def _copy_exact(reader: IO[bytes], writer: IO[bytes], size: int, name: str) -> None:
    remaining = size
    while remaining:
        block = reader.read(min(CHUNK_SIZE, remaining))
        if not block:
            raise BundleRefused(RefusalCode.TRUNCATED, f"数据包“{name}”不完整（文件被截断）。")
        writer.write(block)
        remaining -= len(block)
    if reader.read(1):
        raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{name}”末尾有多余的数据。")


def _decrypt(
    reader: IO[bytes],
    writer: IO[bytes],
    header: Header,
    private_keys: dict[bytes, X25519PrivateKey],
    size: int,
    name: str,
) -> None:
    encryption = header.encryption
    recipient = b64decode(encryption.get("recipient_key"))
    ephemeral = b64decode(encryption.get("ephemeral_key"))
    salt = b64decode(encryption.get("salt"))
    chunk_size = encryption.get("chunk_size")
    if (
        recipient is None
        or ephemeral is None
        or salt is None
        or len(ephemeral) != 32
        or not isinstance(chunk_size, int)
        or not 0 < chunk_size <= 16 * CHUNK_SIZE
    ):
        raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{name}”的加密信息已损坏。")
    private = private_keys.get(recipient)
    if private is None:
        raise BundleRefused(
            RefusalCode.WRONG_KEY,
            f"数据包“{name}”是用另一把公钥加密的（本站点密钥可能已更换），无法解密。"
            "请让发出方重新导入本站点的身份文件后再导出。",
        )
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
    except ValueError:
        raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{name}”的加密信息已损坏。") from None
    aead = AESGCM(_derive_key(shared, salt, ephemeral, recipient))
    chunks = max(1, -(-size // chunk_size))
    written = 0
    for index in range(chunks):
        prefix = reader.read(4)
        if len(prefix) < 4:
            raise BundleRefused(RefusalCode.TRUNCATED, f"数据包“{name}”不完整（文件被截断）。")
        (length,) = struct.unpack(">I", prefix)
        if length > chunk_size + TAG_BYTES:
            raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{name}”的内容已被改动。")
        sealed = reader.read(length)
        if len(sealed) < length:
            raise BundleRefused(RefusalCode.TRUNCATED, f"数据包“{name}”不完整（文件被截断）。")
        try:
            block = aead.decrypt(_nonce(index, index == chunks - 1), sealed, header.raw)
        except InvalidTag:
            raise BundleRefused(
                RefusalCode.TAMPERED,
                f"数据包“{name}”的内容已被改动或损坏（解密校验失败），拒绝导入。",
            ) from None
        written += len(block)
        if written > size:
            raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{name}”的内容已被改动。")
        writer.write(block)
    if written != size or reader.read(1):
        raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{name}”的内容已被改动。")


class Payload:
    """A decrypted payload: checked names, a verified manifest, members read within limits."""

    def __init__(self, file: IO[bytes], name: str) -> None:
        self.name = name
        # Anyone with the city's public identity can encrypt to it, so the archive is read
        # before the signature is checked: bound the central directory before zipfile parses
        # it (it builds an object per entry).
        entries, directory_size = _central_directory_size(file)
        if entries > MAX_MEMBERS + 2 or directory_size > MAX_DIRECTORY_BYTES:
            raise BundleRefused(RefusalCode.TOO_LARGE, f"数据包“{name}”的文件数超过上限。")
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
            if member in (MANIFEST, SIGNATURE) or _MEMBER_NAME.fullmatch(member):
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


def _central_directory_size(file: IO[bytes]) -> tuple[int, int]:
    """(entries, bytes) of a ZIP's central directory from its end records, or (0, 0) if there is
    none (zipfile then refuses the archive)."""
    file.seek(0, os.SEEK_END)
    size = file.tell()
    tail_size = min(size, 65_536 + 22)
    file.seek(size - tail_size)
    tail = file.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        file.seek(0)
        return 0, 0
    entries, directory = (
        struct.unpack("<H4xI", tail[at + 10 : at + 20])[0],
        struct.unpack("<I", tail[at + 12 : at + 16])[0],
    )
    locator = tail.rfind(b"PK\x06\x07", 0, at)
    if locator >= 0 and at - locator == 20:
        (offset,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        if offset + 56 <= size:
            file.seek(offset)
            record = file.read(56)
            if record[:4] == b"PK\x06\x06":
                entries, directory = struct.unpack("<QQ", record[32:48])
    file.seek(0)
    return entries, directory


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


# Small helpers ------------------------------------------------------------------------------


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: object) -> bytes | None:
    if not isinstance(text, str) or len(text) > 1024:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def canonical_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )
