"""The site's data key: the secret that seals personal data and anchors tamper evidence.

Thirty-two random bytes kept outside the database, in ``keys/data.key``, so that a copied
``bbcs.db`` or backup alone reveals no ID or phone number and cannot be re-sealed or re-chained
by whoever edits it. Every use gets its own subkey (HKDF-SHA256 with the purpose as ``info``):
sealing fields, the keyed hashes that find a sealed number, the audit anchor, record digests.

On disk the key is wrapped by a ``KeyProtector``: on Windows DPAPI for the Windows user running
bbcs (another account, or the disk in another PC, cannot unwrap it); elsewhere the file itself,
readable by its owner only. Losing the key loses every sealed field: the administrator exports
a recovery key (``services/backup.py``), and ``install()`` puts it back on a fresh machine.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Final, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop_app.errors import EnvironmentProblem, UserError
from desktop_app.files import fsync_dir

DATA_KEY_FILE: Final = "data.key"
KEY_BYTES: Final = 32
_FORMAT: Final = 1
_SALT: Final = b"bbcs data key v1"


class KeyProtector(Protocol):
    """Wraps the data key for storage on this machine and unwraps it again."""

    name: str

    def protect(self, secret: bytes) -> bytes: ...

    def unprotect(self, blob: bytes) -> bytes: ...


class OwnerOnlyFile:
    """POSIX: the key file is the protection (mode 0600 in a 0700 folder); nothing is wrapped."""

    name = "file"

    def protect(self, secret: bytes) -> bytes:
        return secret

    def unprotect(self, blob: bytes) -> bytes:
        return blob


class Dpapi:
    """Windows: CryptProtectData for the current Windows user (unverified on these machines:
    the logic around it is tested with a fake protector)."""

    name = "dpapi"

    def protect(self, secret: bytes) -> bytes:
        return _dpapi(secret, protect=True)

    def unprotect(self, blob: bytes) -> bytes:
        return _dpapi(blob, protect=False)


def default_protector() -> KeyProtector:
    return Dpapi() if sys.platform == "win32" else OwnerOnlyFile()


class DataKey:
    """The data key of one data dir (``keys/data.key``); read once, then kept in memory."""

    def __init__(self, keys_dir: Path, protector: KeyProtector | None = None) -> None:
        self._dir = keys_dir
        self._protector = protector or default_protector()
        self._secret: bytes | None = None

    @property
    def path(self) -> Path:
        return self._dir / DATA_KEY_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    def create(self) -> None:
        """Make a new key; never replaces one (every sealed field depends on it)."""
        self._write(secrets.token_bytes(KEY_BYTES), replace=False)

    def ensure(self) -> None:
        if not self.exists():
            self.create()

    def install(self, secret: bytes) -> None:
        """Put back a key from a recovery key. The same key already here is a no-op; a
        different one is refused, since the data sealed under it would become unreadable."""
        if len(secret) != KEY_BYTES:
            raise UserError("恢复密钥中的数据密钥长度不对：恢复密钥文件可能已损坏。")
        if self.exists():
            if secrets.compare_digest(self.secret(), secret):
                return
            raise UserError(
                f"本数据目录已有另一把数据密钥（{self.path}）。恢复密钥只能装入没有数据密钥的"
                "数据目录（例如重装系统后的新数据目录），否则现有加密数据将无法读取。"
            )
        self._write(secret, replace=False)

    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = self._read()
        return self._secret

    def subkey(self, purpose: str) -> bytes:
        """A 32-byte key for one use only, so that no two uses ever share a key."""
        return HKDF(
            algorithm=hashes.SHA256(), length=KEY_BYTES, salt=_SALT, info=purpose.encode()
        ).derive(self.secret())

    def fingerprint(self) -> str:
        """Names the key without revealing it (kept in the database to tell keys apart)."""
        return self.subkey("fingerprint")[:12].hex()

    def _read(self) -> bytes:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise UserError(
                f"找不到数据密钥 {self.path}。加密保存的身份证号、电话和加密备份都要用它打开；"
                "如果重装过系统或换过硬盘，请用管理员保存的恢复密钥恢复（bbcs restore 备份 "
                "--recovery-key 恢复密钥文件）。"
            ) from exc
        except (OSError, ValueError) as exc:
            raise _damaged(self.path) from exc
        try:
            if document["format"] != _FORMAT or document["protector"] != self._protector.name:
                raise _damaged(self.path)
            secret = self._protector.unprotect(base64.b64decode(document["key"], validate=True))
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise _damaged(self.path) from exc
        if len(secret) != KEY_BYTES:
            raise _damaged(self.path)
        return secret

    def _write(self, secret: bytes, *, replace: bool) -> None:
        document = {
            "format": _FORMAT,
            "protector": self._protector.name,
            "key": base64.b64encode(self._protector.protect(secret)).decode("ascii"),
        }
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            with suppress(OSError):
                os.chmod(self._dir, 0o700)
            fd, temp = tempfile.mkstemp(dir=self._dir, prefix=".data-key-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(document, out)
                    out.flush()
                    os.fsync(out.fileno())
                if replace:
                    os.replace(temp, self.path)
                else:
                    # link() fails if the name exists: two first starts never make two keys.
                    os.link(temp, self.path)
            finally:
                with suppress(OSError):
                    os.unlink(temp)
            fsync_dir(self._dir)
        except FileExistsError:
            self._secret = None
            return
        except OSError as exc:
            raise EnvironmentProblem(
                f"无法保存数据密钥到 {self._dir}（{exc.strerror}）。请检查数据目录是否可写。"
            ) from exc
        self._secret = secret


def _damaged(path: Path) -> UserError:
    return UserError(
        f"数据密钥 {path} 已损坏或不属于当前 Windows 用户，无法打开加密保存的个人信息。"
        "请用管理员保存的恢复密钥恢复，或联系技术人员。"
    )


def _dpapi(data: bytes, *, protect: bool) -> bytes:  # pragma: no cover - Windows only
    import ctypes
    from ctypes import wintypes

    class Blob(ctypes.Structure):
        _fields_ = [("cbData", wintypes.DWORD), ("pbData", ctypes.POINTER(ctypes.c_char))]

    windll = getattr(ctypes, "windll")  # noqa: B009 - absent off Windows, for mypy
    crypt32, kernel32 = windll.crypt32, windll.kernel32
    buffer = ctypes.create_string_buffer(data, len(data))
    source = Blob(len(data), ctypes.cast(buffer, ctypes.POINTER(ctypes.c_char)))
    result = Blob()
    ui_forbidden = 0x1  # CRYPTPROTECT_UI_FORBIDDEN
    call = crypt32.CryptProtectData if protect else crypt32.CryptUnprotectData
    if not call(ctypes.byref(source), None, None, None, None, ui_forbidden, ctypes.byref(result)):
        raise OSError(getattr(ctypes, "GetLastError")(), "DPAPI 无法处理数据密钥")  # noqa: B009
    try:
        return ctypes.string_at(result.pbData, result.cbData)
    finally:
        kernel32.LocalFree(result.pbData)
