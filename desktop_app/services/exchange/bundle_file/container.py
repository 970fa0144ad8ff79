"""The container around the payload::

    MAGIC | header length (4 bytes, big-endian) | header (JSON) | signature (64 bytes) | body

The body is the payload encrypted with age to the recipient's X25519 key
(``services.stream_crypto``) or, for a reference bundle, the payload as it is. The header holds
the body's size and SHA-256 and the sender's public signing key; the sender's Ed25519 signature of
magic, length and header follows it. So the signature covers every byte of the file, and it is
checked — the header against the signature, the body against the header — before the body is
decrypted or anything in it is parsed.

``seal_payload`` makes the header, signature and body (the body in a temporary file, so its
digest is known before the header is written); ``write_container`` writes them out;
``open_payload`` checks a file and decrypts (or copies) its payload to a temporary file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from desktop_app.files import HashingWriter
from desktop_app.services.exchange.bundle_file.format import (
    CHUNK_SIZE,
    ENCRYPTION_ALGORITHM,
    FORMAT,
    MAGIC,
    NO_ENCRYPTION,
    b64decode,
    b64encode,
    canonical_json,
)
from desktop_app.services.exchange.bundle_file.header import Header
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.services.stream_crypto import StreamRefused, decrypt_stream, encrypt_stream


@dataclass(frozen=True)
class Recipient:
    """Whom a bundle is encrypted to: a site code and its X25519 public key (raw bytes)."""

    site_code: str
    encryption_key: bytes


class BinaryWriter(Protocol):
    def write(self, data: bytes, /) -> int: ...


class Signer(Protocol):
    """The sending site's keys (``SiteKeys``): its signature and its public signing key."""

    def sign(self, data: bytes, /) -> bytes: ...

    def signing_public_key(self) -> str: ...


@dataclass
class SealedBundle:
    """A bundle ready to be written: ``prefix`` (magic, header length, header, signature), then
    ``body`` from its start."""

    prefix: bytes
    body: IO[bytes]

    def close(self) -> None:
        self.body.close()


def seal_payload(
    header: dict[str, Any], payload: IO[bytes], recipient: Recipient | None, signer: Signer
) -> SealedBundle:
    """Encrypt the payload to ``recipient`` (a reference bundle, ``None``, goes as it is), put
    the body's size and SHA-256 and the signer's public key into the header, and sign it."""
    payload.seek(0)
    if recipient is None:
        body = payload
        hashing = HashingWriter(_Discard())
        for block in iter(lambda: payload.read(CHUNK_SIZE), b""):
            hashing.write(block)
        encryption: dict[str, Any] = {"algorithm": NO_ENCRYPTION}
    else:
        body = tempfile.TemporaryFile()  # noqa: SIM115 - closed by SealedBundle.close
        try:
            hashing = HashingWriter(body)
            encrypt_stream(
                cast(BinaryIO, payload), cast(BinaryIO, hashing), [recipient.encryption_key]
            )
        except BaseException:
            body.close()
            raise
        encryption = {
            "algorithm": ENCRYPTION_ALGORITHM,
            "recipient_key": b64encode(recipient.encryption_key),
        }
    body.seek(0)
    header_bytes = canonical_json(
        dict(
            header,
            format=FORMAT,
            encryption=encryption,
            body={"size": hashing.size, "sha256": hashing.digest.hexdigest()},
            signer=signer.signing_public_key(),
        )
    )
    signed = MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes
    return SealedBundle(signed + signer.sign(signed), body)


def write_container(out: BinaryWriter, sealed: SealedBundle) -> None:
    """Write a sealed bundle to ``out``."""
    out.write(sealed.prefix)
    for block in iter(lambda: sealed.body.read(CHUNK_SIZE), b""):
        out.write(block)


class _Discard:
    def write(self, data: bytes, /) -> int:
        return len(data)


def verify_signature(header: Header, signing_key: bytes, name: str) -> None:
    """The header was signed by the registered sender (its key is ``signing_key``) and is
    unchanged. A header naming another key was signed by someone else; one naming the
    registered key whose signature fails was changed."""
    if b64decode(header.data.get("signer")) != signing_key:
        raise BundleRefused(
            RefusalCode.BAD_SIGNATURE,
            f"数据包“{name}”的签名不符：不是由登记的站点签发，拒绝导入。",
        )
    try:
        Ed25519PublicKey.from_public_bytes(signing_key).verify(header.signature, header.signed)
    except (InvalidSignature, ValueError):
        raise BundleRefused(
            RefusalCode.TAMPERED, f"数据包“{name}”的文件头或签名已被改动，拒绝导入。"
        ) from None


@contextlib.contextmanager
def open_payload(
    path: Path,
    header: Header,
    signing_key: bytes,
    private_keys: dict[bytes, X25519PrivateKey],
) -> Iterator[IO[bytes]]:
    """Check the signature and the body against it, then decrypt (or copy) the payload to a
    temporary file.

    ``signing_key`` is the registered sender's Ed25519 public key; ``private_keys`` maps this
    site's X25519 public keys (current and retired) to private keys. The body is read twice:
    first to check it against the signed digest before anything else reads it, then to decrypt
    it, hashed again so that a medium that answers differently the second time is refused too.
    """
    name = path.name
    verify_signature(header, signing_key, name)
    algorithm = header.encryption.get("algorithm")
    private: X25519PrivateKey | None = None
    if algorithm == ENCRYPTION_ALGORITHM:
        private = private_keys.get(b64decode(header.encryption.get("recipient_key")) or b"")
        if private is None:
            raise BundleRefused(
                RefusalCode.WRONG_KEY,
                f"数据包“{name}”是用另一把公钥加密的（本站点密钥可能已更换），无法解密。"
                "请让发出方重新导入本站点的身份文件后再导出。",
            )
    elif algorithm != NO_ENCRYPTION:
        raise BundleRefused(
            RefusalCode.TOO_NEW,
            f"数据包“{name}”使用了本软件不支持的加密算法“{algorithm}”，请先升级本软件。",
        )
    with tempfile.TemporaryFile() as plain:
        try:
            with path.open("rb") as reader:
                _check_body(reader, header, name)
                reader.seek(header.body_offset)
                body = _BodyReader(reader, header.body_size)
                if private is None:
                    for block in iter(lambda: body.read(CHUNK_SIZE), b""):
                        plain.write(block)
                else:
                    try:
                        decrypt_stream(cast(BinaryIO, body), plain, [private])
                    except StreamRefused:
                        raise BundleRefused(
                            RefusalCode.TAMPERED,
                            f"数据包“{name}”的内容已被改动或损坏（解密校验失败），拒绝导入。",
                        ) from None
                while body.read(CHUNK_SIZE):  # whatever decryption left unread
                    pass
                if body.size != header.body_size or body.digest.hexdigest() != header.body_sha256:
                    raise BundleRefused(
                        RefusalCode.TAMPERED,
                        f"数据包“{name}”在读取过程中发生了变化（已被改动），拒绝导入。",
                    )
        except OSError as exc:
            raise BundleRefused(
                RefusalCode.UNREADABLE, f"读取“{path}”时出错：{exc.strerror or exc}"
            ) from exc
        plain.seek(0)
        yield plain


def _check_body(reader: IO[bytes], header: Header, name: str) -> None:
    """The body is as long as the header says and has the digest it gives."""
    actual = os.fstat(reader.fileno()).st_size - header.body_offset
    if actual < header.body_size:
        raise BundleRefused(RefusalCode.TRUNCATED, f"数据包“{name}”不完整（文件被截断）。")
    if actual > header.body_size:
        raise BundleRefused(
            RefusalCode.TAMPERED, f"数据包“{name}”末尾有多余的数据（已被改动），拒绝导入。"
        )
    reader.seek(header.body_offset)
    body = _BodyReader(reader, header.body_size)
    while body.read(CHUNK_SIZE):
        pass
    if body.size != header.body_size:
        raise BundleRefused(RefusalCode.TRUNCATED, f"数据包“{name}”不完整（文件被截断）。")
    if body.digest.hexdigest() != header.body_sha256:
        raise BundleRefused(
            RefusalCode.TAMPERED, f"数据包“{name}”的内容已被改动（与签名的摘要不符），拒绝导入。"
        )


class _BodyReader:
    """The body, read no further than its declared size, hashed as it is read."""

    def __init__(self, source: IO[bytes], size: int) -> None:
        self._source = source
        self._left = size
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1, /) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._source.read(size) if size else b""
        self._left -= len(data)
        self.size += len(data)
        self.digest.update(data)
        return data
