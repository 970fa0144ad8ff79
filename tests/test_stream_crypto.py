"""Stream encryption (services/stream_crypto.py): age through pyrage, on raw X25519 keys.

Round trips, the key strings age understands, every kind of change refused, a wrong key told
apart, a disk's error kept as itself, and memory bounded however long the stream.
"""

from __future__ import annotations

import errno
import io
import os
import random

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pyrage import x25519

from desktop_app.errors import UserError
from desktop_app.services.stream_crypto import (
    StreamRefused,
    decrypt_stream,
    encrypt_stream,
    identity_string,
    recipient_string,
)


def public(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encrypted(data: bytes, *keys: X25519PrivateKey) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, [public(k) for k in keys])
    return out.getvalue()


def decrypted(data: bytes, *keys: X25519PrivateKey) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(data), out, list(keys))
    return out.getvalue()


def test_a_stream_comes_back_for_each_recipient() -> None:
    city, backup = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    data = os.urandom(300_000)  # several 64 KiB chunks and a short last one
    sealed = encrypted(data, city, backup)
    assert data not in sealed and sealed.startswith(b"age-encryption.org/v1\n")
    assert decrypted(sealed, city) == data
    assert decrypted(sealed, X25519PrivateKey.generate(), backup) == data
    assert decrypted(encrypted(b"", city), city) == b""


def test_raw_keys_are_written_as_age_writes_them() -> None:
    """The Bech32 strings made from raw keys are the ones age itself makes for the same key."""
    key = X25519PrivateKey.generate()
    identity = x25519.Identity.from_str(identity_string(key))
    assert str(identity.to_public()) == recipient_string(public(key))
    assert identity_string(key).startswith("AGE-SECRET-KEY-1")
    with pytest.raises(ValueError):
        recipient_string(b"\0" * 31)


def test_every_changed_byte_is_refused() -> None:
    key = X25519PrivateKey.generate()
    sealed = encrypted(os.urandom(200_000), key)
    rng = random.Random(15)
    for at in [*range(0, 200), *rng.sample(range(len(sealed)), 200), len(sealed) - 1]:
        changed = bytearray(sealed)
        changed[at] ^= rng.randrange(1, 256)
        with pytest.raises(StreamRefused) as refused:
            decrypted(bytes(changed), key)
        assert isinstance(refused.value, UserError) and "改动" in refused.value.message


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b[: len(b) - 1],
        lambda b: b[: len(b) // 2],
        lambda b: b[:100],
        lambda b: b + b"\0",
        lambda b: b"",
        lambda b: b"not age at all",
    ],
    ids=["last-byte-cut", "half", "header-only", "appended", "empty", "not-age"],
)
def test_a_cut_or_extended_stream_is_refused(change: object) -> None:
    key = X25519PrivateKey.generate()
    sealed = encrypted(os.urandom(150_000), key)
    with pytest.raises(StreamRefused) as refused:
        decrypted(change(sealed), key)  # type: ignore[operator]
    assert not refused.value.wrong_key


def test_a_stream_for_another_key_says_so() -> None:
    sealed = encrypted(b"x" * 1000, X25519PrivateKey.generate())
    with pytest.raises(StreamRefused) as refused:
        decrypted(sealed, X25519PrivateKey.generate())
    assert refused.value.wrong_key and "另一把密钥" in refused.value.message


class _FullDisk(io.BytesIO):
    def write(self, data: object, /) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


class _PulledStick(io.BytesIO):
    def read(self, size: int | None = -1, /) -> bytes:
        raise OSError(errno.EIO, "Input/output error")


def test_a_disk_error_is_not_taken_for_a_changed_file() -> None:
    key = X25519PrivateKey.generate()
    sealed = encrypted(os.urandom(100_000), key)
    with pytest.raises(OSError) as full:
        decrypt_stream(io.BytesIO(sealed), _FullDisk(), [key])
    assert full.value.errno == errno.ENOSPC and not isinstance(full.value, StreamRefused)
    with pytest.raises(OSError) as pulled:
        decrypt_stream(_PulledStick(sealed), io.BytesIO(), [key])
    assert pulled.value.errno == errno.EIO
    with pytest.raises(OSError) as full_out:
        encrypt_stream(io.BytesIO(b"x" * 100_000), _FullDisk(), [public(key)])
    assert full_out.value.errno == errno.ENOSPC


class _Endless:
    """``size`` bytes of a repeated block, read in whatever pieces are asked for."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest_read = 0

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.largest_read = max(self.largest_read, size)
        self.left -= size
        return b"\x5a" * size


class _Counting:
    def __init__(self) -> None:
        self.size = 0
        self.largest_write = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self.largest_write = max(self.largest_write, len(data))
        return len(data)

    def flush(self) -> None:
        pass


def test_a_long_stream_is_read_and_written_in_small_pieces() -> None:
    """64 MB through and back without holding it: no read or write bigger than a chunk or so
    (a 600 MB backup then takes the same memory as a 6 MB one)."""
    key = X25519PrivateKey.generate()
    size = 64 * 1024 * 1024
    source, sink = _Endless(size), _Counting()
    encrypt_stream(source, sink, [public(key)])  # type: ignore[arg-type]
    assert sink.size > size and source.largest_read <= 1024 * 1024
    assert sink.largest_write <= 1024 * 1024
