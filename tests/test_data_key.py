"""The data key (issue 15 item 11/12): kept outside the database, wrapped by the machine's
protector, never replaced, put back from a recovery key only where none exists."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from desktop_app.errors import UserError
from desktop_app.services.data_key import KEY_BYTES, DataKey


class XorProtector:
    """Stands in for DPAPI: what is stored is not the key, and only this user can undo it."""

    name = "dpapi"

    def __init__(self, mask: int = 0x5A) -> None:
        self.mask = mask

    def protect(self, secret: bytes) -> bytes:
        return bytes(b ^ self.mask for b in secret)

    def unprotect(self, blob: bytes) -> bytes:
        return bytes(b ^ self.mask for b in blob)


def test_created_once_and_read_back(tmp_path: Path) -> None:
    key = DataKey(tmp_path / "keys")
    key.ensure()
    first = key.secret()
    assert len(first) == KEY_BYTES
    key.ensure()  # never replaced
    assert DataKey(tmp_path / "keys").secret() == first
    assert key.subkey("fields") != key.subkey("lookup")
    assert DataKey(tmp_path / "keys").subkey("fields") == key.subkey("fields")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_key_file_is_owner_only(tmp_path: Path) -> None:
    key = DataKey(tmp_path / "keys")
    key.create()
    assert stat.S_IMODE(key.path.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) & 0o077 == 0


def test_protector_wraps_what_is_stored(tmp_path: Path) -> None:
    key = DataKey(tmp_path / "keys", protector=XorProtector())
    key.create()
    stored = json.loads(key.path.read_text(encoding="utf-8"))
    assert stored["protector"] == "dpapi"
    assert DataKey(tmp_path / "keys", protector=XorProtector()).secret() == key.secret()
    # Another Windows user (another protector) cannot read it: a plain message, not a crash.
    with pytest.raises(UserError, match="恢复密钥"):
        DataKey(tmp_path / "keys").secret()


def test_install_from_recovery_key(tmp_path: Path) -> None:
    original = DataKey(tmp_path / "old")
    original.create()
    fresh = DataKey(tmp_path / "new")
    with pytest.raises(UserError, match="找不到数据密钥"):
        fresh.secret()
    fresh.install(original.secret())
    assert DataKey(tmp_path / "new").secret() == original.secret()
    fresh.install(original.secret())  # the same key again changes nothing
    other = DataKey(tmp_path / "other")
    other.create()
    with pytest.raises(UserError, match="另一把数据密钥"):
        other.install(original.secret())
    with pytest.raises(UserError, match="长度"):
        DataKey(tmp_path / "short").install(b"x" * 5)
