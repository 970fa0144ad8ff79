"""The container around the payload: magic, header length, header, then the payload, encrypted
to the recipient's X25519 key (an ephemeral key agreement, HKDF-SHA256, AES-256-GCM over 1 MiB
chunks, the STREAM construction: the nonce is the chunk counter plus a "last chunk" flag, so a
truncated or reordered file fails; the whole header is authenticated as associated data) or, for
a reference bundle, as it is. ``write_container`` seals a payload, ``open_payload`` opens one."""

from __future__ import annotations

import contextlib
import json
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop_app.services.exchange.bundle_file.format import (
    CHUNK_SIZE,
    ENCRYPTION_ALGORITHM,
    FORMAT,
    MAGIC,
    NO_ENCRYPTION,
    TAG_BYTES,
    b64decode,
    b64encode,
)
from desktop_app.services.exchange.bundle_file.header import Header
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode

_HKDF_INFO: Final = b"bbcs bundle v1"


@dataclass(frozen=True)
class Recipient:
    """Whom a bundle is encrypted to: a site code and its X25519 public key (raw bytes)."""

    site_code: str
    encryption_key: bytes


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
