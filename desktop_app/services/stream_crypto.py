"""Encrypting a stream to X25519 keys: bundles for the city and backups written outside the data
dir. The construction is age (age-encryption.org/v1) through pyrage, the Python binding of its
maintained Rust implementation (rage); bbcs adds no cryptography of its own here.

Why age rather than libsodium's secretstream (PyNaCl): age is a whole file format — a file key
wrapped to each X25519 recipient, a header MAC, then the payload in 64 KiB ChaCha20-Poly1305
chunks whose nonce carries a counter and a last-chunk flag, so a changed, truncated, reordered or
extended file fails. With secretstream bbcs would still have to design the chunk framing and the
key wrapping itself, the hand-made part this module replaces. pyrage streams
(``encrypt_io``/``decrypt_io`` read and write 8 KiB at a time: a 200 MB file is encrypted in a
15 MB process, at ~400 MB/s) and is one abi3 extension module with wheels for Windows and Linux,
which PyInstaller collects like any other (no hook, no data files).

Keys stay raw 32-byte X25519 keys everywhere else in bbcs (``SiteKeys``); age names them as
Bech32 strings (``age1…`` for a recipient, ``AGE-SECRET-KEY-1…`` for an identity), so they are
converted here with the BIP-173 reference implementation (``bech32``).

Decrypted bytes are written to ``dest`` as each chunk verifies: after ``StreamRefused`` the
caller discards what was written (bundles and restores decrypt into a temporary file).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO, Final

import bech32
import pyrage
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pyrage import x25519

from desktop_app.errors import UserError

KEY_BYTES: Final = 32
_RECIPIENT_PREFIX: Final = "age"
_IDENTITY_PREFIX: Final = "age-secret-key-"


class StreamRefused(UserError):
    """An encrypted stream that does not decrypt: changed, cut short, not age, or (``wrong_key``)
    encrypted to none of the keys given."""

    def __init__(self, message: str, *, wrong_key: bool = False) -> None:
        super().__init__(message)
        self.wrong_key = wrong_key


def encrypt_stream(source: BinaryIO, dest: BinaryIO, recipients: Sequence[bytes]) -> None:
    """Encrypt ``source`` (read to its end) to every raw X25519 public key in ``recipients``.

    Raises ``ValueError`` for a key that is not one (a bug or a damaged key file, not the
    user's input); an ``OSError`` of ``source`` or ``dest`` comes out as itself.
    """
    if not recipients:
        raise ValueError("no recipients")
    ages = [x25519.Recipient.from_str(recipient_string(key)) for key in recipients]
    reader, writer = _Watched(source), _Watched(dest)
    try:
        pyrage.encrypt_io(reader, writer, ages)  # type: ignore[arg-type]  # any .read/.write
    except (pyrage.EncryptError, OSError) as exc:
        _raise_io_error(reader, writer, exc)
        raise


def decrypt_stream(
    source: BinaryIO, dest: BinaryIO, identities: Sequence[X25519PrivateKey]
) -> None:
    """Decrypt ``source`` (read to its end) into ``dest`` with any of ``identities``.

    Raises ``StreamRefused`` with a Chinese message if the stream was changed in any byte, is
    cut short or extended, is not an age stream, or is encrypted to none of the keys; an
    ``OSError`` of ``source`` or ``dest`` (a pulled stick, a full disk) comes out as itself.
    """
    ages = [x25519.Identity.from_str(identity_string(key)) for key in identities]
    reader, writer = _Watched(source), _Watched(dest)
    try:
        pyrage.decrypt_io(reader, writer, ages)  # type: ignore[arg-type]  # any .read/.write
    except (pyrage.DecryptError, OSError) as exc:
        _raise_io_error(reader, writer, exc)
        if "no matching keys" in str(exc).lower():
            raise StreamRefused(
                "本机的密钥无法解密：文件是用另一把密钥加密的，或已被改动。", wrong_key=True
            ) from None
        raise StreamRefused("加密的内容已被改动、损坏或不完整，无法解密。") from None


def recipient_string(public_key: bytes) -> str:
    """A raw X25519 public key as age writes a recipient (``age1…``)."""
    return _bech32(_RECIPIENT_PREFIX, public_key)


def identity_string(private_key: X25519PrivateKey) -> str:
    """An X25519 private key as age writes an identity (``AGE-SECRET-KEY-1…``)."""
    raw = private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return _bech32(_IDENTITY_PREFIX, raw).upper()


def _bech32(prefix: str, key: bytes) -> str:
    if len(key) != KEY_BYTES:
        raise ValueError(f"an X25519 key has {KEY_BYTES} bytes, not {len(key)}")
    words = bech32.convertbits(key, 8, 5)
    if words is None:  # only for input that is not bytes
        raise ValueError("not a key")
    return bech32.bech32_encode(prefix, words)


class _Watched:
    """A file passed to pyrage, keeping the ``OSError`` it raised: pyrage turns an error of the
    reader into a ``DecryptError``, and the caller must tell a disk's fault from a file's."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.error: OSError | None = None

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._file.read(size)
        except OSError as exc:
            self.error = exc
            raise

    def write(self, data: bytes, /) -> int:
        try:
            return self._file.write(data)
        except OSError as exc:
            self.error = exc
            raise

    def flush(self) -> None:
        flush = getattr(self._file, "flush", None)  # a plain writer may have none
        try:
            if flush is not None:
                flush()
        except OSError as exc:
            self.error = exc
            raise


def _raise_io_error(reader: _Watched, writer: _Watched, exc: Exception) -> None:
    for side in (reader, writer):
        if side.error is not None:
            raise side.error from exc
