"""The site's signing identity (DESIGN.md §5, §6): one Ed25519 and one X25519 key per site.

The keys are made once, at site setup, and kept as PKCS8 PEM files under ``DataLayout.keys``.
They are not encrypted: the data dir on a local fixed disk is the protection, and a password that
nobody remembers in three years would lock the site out of its own bundles.

The Ed25519 key signs what leaves the site: the QR code on every printed 交办单 (so any site can
check a slip's number and content against the issuing site's public key) and, later, bundles.
The X25519 key is what other sites encrypt to. ``PublicIdentity`` is the shareable half
(``bbcs keys export``); its fingerprint is short enough to read out over the phone.

Never overwrite existing keys: every slip printed so far is verified against them.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.errors import EnvironmentProblem, UserError
from desktop_app.files import fsync_dir
from desktop_app.services.context import Clock, SystemClock

SLIP_PAYLOAD_PREFIX = "BBCS1"
IDENTITY_FORMAT = 1
KEYS_META_FORMAT = 1

SIGNATURE_ALGORITHM = "Ed25519"
ENCRYPTION_ALGORITHM = "X25519+AES-256-GCM"

SIGNING_KEY_FILE = "signing_ed25519.pem"
ENCRYPTION_KEY_FILE = "encryption_x25519.pem"
META_FILE = "keys.json"

RAW_KEY_BYTES = 32
SIGNATURE_BYTES = 64
SLIP_HASH_PREFIX_CHARS = 32

MESSAGE_BAD_FORMAT: Final = "二维码内容格式不正确"
MESSAGE_BAD_SIGNATURE: Final = "签名不符：交办单可能被伪造或改动"
MESSAGE_CONTENT_CHANGED: Final = "交办单内容与签发时不一致"

_SITE_CODE = re.compile(r"[0-9]{6}")
_HASH_PREFIX = re.compile(r"[0-9a-f]{32}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _algorithms() -> dict[str, str]:
    return {"signature": SIGNATURE_ALGORITHM, "encryption": ENCRYPTION_ALGORITHM}


# Public identity ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicIdentity:
    """What another site needs to trust this one: who it is and its two public keys."""

    site_code: str
    site_name: str
    level: str
    signing_public_key: str  # Ed25519 raw public key, base64url without padding
    encryption_public_key: str  # X25519 raw public key, base64url without padding
    created_at: str  # when the keys were made, ISO 8601
    algorithms: dict[str, str] = field(default_factory=_algorithms)

    def fingerprint(self) -> str:
        """16 hex digits over both keys, grouped by four ("3F2A-91C0-5B7E-0D44")."""
        raw = _decode_raw_key(self.signing_public_key) + _decode_raw_key(self.encryption_public_key)
        return _group(hashlib.sha256(raw).hexdigest()[:16].upper())

    def to_json(self) -> dict[str, object]:
        return {
            "format": IDENTITY_FORMAT,
            "site_code": self.site_code,
            "site_name": self.site_name,
            "level": self.level,
            "signing_public_key": self.signing_public_key,
            "encryption_public_key": self.encryption_public_key,
            "created_at": self.created_at,
            "algorithms": dict(self.algorithms),
        }

    @classmethod
    def from_json(cls, data: object) -> PublicIdentity:
        """Read an identity file's parsed JSON; a malformed one raises ``UserError``."""
        if not isinstance(data, dict):
            raise _bad_identity("内容应为一个 JSON 对象")
        version = data.get("format", IDENTITY_FORMAT)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise _bad_identity("“format”应为正整数")
        if version > IDENTITY_FORMAT:
            raise UserError(
                f"站点身份文件的格式版本为 {version}，本软件只支持到 {IDENTITY_FORMAT}，"
                "请先升级本软件。"
            )
        site_code = _text_field(data, "site_code")
        if not _SITE_CODE.fullmatch(site_code):
            raise _bad_identity(f"站点代码“{site_code}”应为6位数字")
        site_name = _text_field(data, "site_name").strip()
        if not site_name:
            raise _bad_identity("站点名称为空")
        level = _text_field(data, "level")
        if level not in {member.value for member in SiteLevel}:
            raise _bad_identity(f"站点级别“{level}”应为 county 或 city")
        signing = _text_field(data, "signing_public_key")
        if not _is_raw_key(signing):
            raise _bad_identity("签名公钥（signing_public_key）无效")
        encryption = _text_field(data, "encryption_public_key")
        if not _is_raw_key(encryption):
            raise _bad_identity("加密公钥（encryption_public_key）无效")
        created_at = _text_field(data, "created_at")
        try:
            datetime.fromisoformat(created_at)
        except ValueError:
            raise _bad_identity(f"生成时间“{created_at}”不是有效的日期时间") from None
        algorithms = data.get("algorithms")
        if not isinstance(algorithms, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in algorithms.items()
        ):
            raise _bad_identity("缺少算法说明（algorithms）")
        if algorithms != _algorithms():
            raise UserError(
                "站点身份文件使用的算法不受支持："
                + json.dumps(algorithms, ensure_ascii=False)
                + f"（本软件使用 {SIGNATURE_ALGORITHM} 签名、{ENCRYPTION_ALGORITHM} 加密）"
            )
        return cls(
            site_code=site_code,
            site_name=site_name,
            level=level,
            signing_public_key=signing,
            encryption_public_key=encryption,
            created_at=created_at,
            algorithms=dict(algorithms),
        )


def _text_field(data: dict[object, object], name: str) -> str:
    value = data.get(name)
    if value is None:
        raise _bad_identity(f"缺少“{name}”")
    if not isinstance(value, str):
        raise _bad_identity(f"“{name}”应为文本")
    return value


def _bad_identity(detail: str) -> UserError:
    return UserError(f"站点身份文件格式不正确：{detail}。请向对方站点重新索取公钥文件。")


# The site's private keys --------------------------------------------------------------------


class SiteKeys:
    """This site's private keys in ``keys_dir`` (``DataLayout.keys``)."""

    def __init__(self, keys_dir: Path, *, clock: Clock | None = None) -> None:
        self.keys_dir = keys_dir
        self._clock: Clock = clock or SystemClock()
        self._signing: Ed25519PrivateKey | None = None
        self._encryption: X25519PrivateKey | None = None

    @property
    def signing_key_path(self) -> Path:
        return self.keys_dir / SIGNING_KEY_FILE

    @property
    def encryption_key_path(self) -> Path:
        return self.keys_dir / ENCRYPTION_KEY_FILE

    @property
    def meta_path(self) -> Path:
        return self.keys_dir / META_FILE

    def exists(self) -> bool:
        return self.signing_key_path.is_file() and self.encryption_key_path.is_file()

    def create(self) -> None:
        """Make both keys; refuses if either key file is already there."""
        present = [p.name for p in (self.signing_key_path, self.encryption_key_path) if p.exists()]
        if present:
            raise UserError(
                f"本站点的密钥已存在（{self.keys_dir}，{'、'.join(present)}），不能覆盖："
                "覆盖后已打印的交办单将无法核验，其他站点也需重新导入公钥。"
            )
        signing = Ed25519PrivateKey.generate()
        encryption = X25519PrivateKey.generate()
        meta = {
            "format": KEYS_META_FORMAT,
            "created_at": self._clock.now().isoformat(timespec="seconds"),
            "algorithms": _algorithms(),
        }
        files = [
            # The signing key goes last: its presence means the set is complete.
            (self.meta_path, json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8")),
            (self.encryption_key_path, _private_pem(encryption)),
            (self.signing_key_path, _private_pem(signing)),
        ]
        try:
            self.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            temps: list[tuple[str, Path]] = []
            try:
                for target, data in files:
                    temps.append((_write_private_temp(target, data), target))
                for temp, target in temps:
                    os.replace(temp, target)
            finally:
                for temp, _ in temps:
                    with suppress(OSError):
                        os.unlink(temp)
            fsync_dir(self.keys_dir)
        except OSError as exc:
            raise _storage_problem(exc, self.keys_dir) from exc
        self._signing = signing
        self._encryption = encryption

    @property
    def retired_dir(self) -> Path:
        return self.keys_dir / "retired"

    def rotate(self) -> Path:
        """Retire the current keys (kept under ``retired/<time>``) and make new ones.

        Retired keys stay: their public halves still verify slips printed before the rotation,
        and their encryption keys still open bundles other sites encrypted before they learned
        the new identity. Returns the folder the old keys went to.
        """
        if not self.exists():
            raise _missing()
        stamp = self._clock.now().strftime("%Y%m%d-%H%M%S")
        target = self.retired_dir / stamp
        fresh = SiteKeys(self.keys_dir / f".new-{stamp}", clock=self._clock)
        if target.exists() or fresh.keys_dir.exists():
            raise UserError("一秒内不能两次更换密钥，请稍后再试。")
        # Crash-safe order: the new set is complete beside the old one, the old one is copied
        # (not moved) into retired/, and only then do the new files replace the current ones,
        # the signing key last. An interruption leaves a working (old or new) set.
        fresh.create()
        try:
            target.mkdir(mode=0o700, parents=True)
            for path in (self.meta_path, self.encryption_key_path, self.signing_key_path):
                if path.exists():
                    copy = target / path.name
                    copy.write_bytes(path.read_bytes())
                    with suppress(OSError):
                        copy.chmod(0o600)
            fsync_dir(target)
            for name in (META_FILE, ENCRYPTION_KEY_FILE, SIGNING_KEY_FILE):
                os.replace(fresh.keys_dir / name, self.keys_dir / name)
            fsync_dir(self.keys_dir)
            fresh.keys_dir.rmdir()
        except OSError as exc:
            raise _storage_problem(exc, self.keys_dir) from exc
        self._signing = None
        self._encryption = None
        return target

    def retired(self) -> list[SiteKeys]:
        """Earlier key sets, newest first."""
        if not self.retired_dir.is_dir():
            return []
        folders = sorted((p for p in self.retired_dir.iterdir() if p.is_dir()), reverse=True)
        return [SiteKeys(folder, clock=self._clock) for folder in folders]

    def signing_public_keys(self) -> list[str]:
        """This site's signing keys, current first, then the retired ones."""
        keys = [self.signing_public_key()]
        for old in self.retired():
            with suppress(UserError):
                keys.append(old.signing_public_key())
        return keys

    def decryption_keys(self) -> dict[bytes, X25519PrivateKey]:
        """Every encryption key this site has had, by raw public key (to open bundles)."""
        found: dict[bytes, X25519PrivateKey] = {}
        for keys in (self, *self.retired()):
            with suppress(UserError):
                private = keys.encryption_private_key()
                raw = private.public_key().public_bytes(
                    serialization.Encoding.Raw, serialization.PublicFormat.Raw
                )
                found[raw] = private
        return found

    def ensure(self) -> None:
        """Make the keys unless they exist (site setup calls this)."""
        if not self.exists():
            self.create()

    def identity(self, site_code: str, site_name: str, level: str) -> PublicIdentity:
        return PublicIdentity(
            site_code=site_code,
            site_name=site_name,
            level=SiteLevel(level).value,
            signing_public_key=self.signing_public_key(),
            encryption_public_key=self.encryption_public_key(),
            created_at=self.created_at(),
            algorithms=_algorithms(),
        )

    def sign(self, data: bytes) -> bytes:
        return self._signing_key().sign(data)

    def signing_public_key(self) -> str:
        return _b64url_encode(
            self._signing_key()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def encryption_public_key(self) -> str:
        return _b64url_encode(
            self.encryption_private_key()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def encryption_private_key(self) -> X25519PrivateKey:
        """For decrypting what other sites send here (bundles, acknowledgements)."""
        if self._encryption is None:
            key = self._load(self.encryption_key_path)
            if not isinstance(key, X25519PrivateKey):
                raise _damaged(self.encryption_key_path, "不是 X25519 私钥")
            self._encryption = key
        return self._encryption

    def created_at(self) -> str:
        """When the keys were made (from keys.json; the key file's time if that is lost)."""
        with suppress(OSError, ValueError):
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            if isinstance(meta, dict) and isinstance(meta.get("created_at"), str):
                created = str(meta["created_at"])
                datetime.fromisoformat(created)
                return created
        try:
            mtime = self.signing_key_path.stat().st_mtime
        except FileNotFoundError:
            raise _missing() from None
        except OSError as exc:
            raise _storage_problem(exc, self.keys_dir) from exc
        return datetime.fromtimestamp(mtime).replace(microsecond=0).isoformat()

    def _signing_key(self) -> Ed25519PrivateKey:
        if self._signing is None:
            key = self._load(self.signing_key_path)
            if not isinstance(key, Ed25519PrivateKey):
                raise _damaged(self.signing_key_path, "不是 Ed25519 私钥")
            self._signing = key
        return self._signing

    def _load(self, path: Path) -> object:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise _missing() from None
        except OSError as exc:
            raise _storage_problem(exc, self.keys_dir) from exc
        try:
            return serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise _damaged(path, "无法读取") from None


def _private_pem(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private_temp(target: Path, data: bytes) -> str:
    """Write ``data`` to a fsynced, owner-only temp file beside ``target``; return its name."""
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        # mkstemp already makes the file 0600 on POSIX; say so, in case a platform differs.
        # On Windows chmod only sets the read-only flag; the user profile's ACL protects it.
        os.chmod(temp_name, 0o600)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        with suppress(OSError):
            os.unlink(temp_name)
        raise
    return temp_name


def _missing() -> UserError:
    return UserError("本站点尚未生成密钥，请先完成站点设置（bbcs init）。")


def _damaged(path: Path, detail: str) -> UserError:
    return UserError(
        f"密钥文件已损坏（{path}，{detail}）。请从备份恢复数据目录，不要重新生成密钥。"
    )


def _storage_problem(exc: OSError, folder: Path) -> EnvironmentProblem:
    if exc.errno == errno.ENOSPC:
        return EnvironmentProblem("磁盘空间已满，密钥未能保存。请清理磁盘后重试。")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return EnvironmentProblem(f"没有权限写入密钥目录 {folder}，请检查数据目录的权限。")
    return EnvironmentProblem(f"读写密钥目录 {folder} 失败：{exc.strerror or exc}")


# Slip QR codes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlipCheck:
    """The result of checking a slip's QR payload; ``message`` is for the clerk.

    ``facts`` are what the issuing site recorded for the paper (label, value), shown so that the
    person holding it compares them with what is printed: a genuine code on a paper whose
    deadline was altered by hand passes the signature check but not that comparison.
    """

    valid: bool
    site_code: str
    slip_number: str
    content_hash_prefix: str
    message: str
    facts: tuple[tuple[str, str], ...] = ()
    voided: bool = False
    void_reason: str = ""


def sign_slip(keys: SiteKeys, site_code: str, slip_number: str, content_hash: str) -> str:
    """The text for a slip's QR code: ``BBCS1|site|number|hash32|signature``.

    The signature covers the UTF-8 bytes of everything before the last ``|``. ``content_hash`` is
    the hex SHA-256 of the slip's content; its first 32 hex digits (128 bits) go in the code.
    """
    if not _SITE_CODE.fullmatch(site_code):
        raise ValueError(f"site code must be 6 digits: {site_code!r}")
    if not slip_number or "|" in slip_number or slip_number != slip_number.strip():
        raise ValueError(f"slip number cannot go in a QR payload: {slip_number!r}")
    if len(content_hash) < SLIP_HASH_PREFIX_CHARS or not _HEX.fullmatch(content_hash):
        raise ValueError(f"content hash must be hex, at least 32 digits: {content_hash!r}")
    signed = _slip_signed_text(site_code, slip_number, content_hash[:SLIP_HASH_PREFIX_CHARS])
    return f"{signed}|{_b64url_encode(keys.sign(signed.encode('utf-8')))}"


def verify_slip_payload(
    payload: str,
    public_keys: Mapping[str, str | Sequence[str]],
    content_hash: str | None = None,
) -> SlipCheck:
    """Check a scanned QR payload against the trusted sites' signing keys; never raises.

    ``public_keys`` maps a site code to its signing public key (base64url), or to its keys
    newest first when the site has rotated them (a slip signed before a rotation still checks).
    With ``content_hash`` (recomputed from the stored slip) the slip's content is checked too.
    """
    if not isinstance(payload, str):
        return SlipCheck(False, "", "", "", MESSAGE_BAD_FORMAT)
    parts = payload.split("|")
    if len(parts) != 5 or parts[0] != SLIP_PAYLOAD_PREFIX:
        return SlipCheck(False, "", "", "", MESSAGE_BAD_FORMAT)
    _, site_code, slip_number, hash_prefix, signature_text = parts
    signature = _b64url_decode(signature_text)
    if (
        not _SITE_CODE.fullmatch(site_code)
        or not slip_number
        or slip_number != slip_number.strip()
        or not _encodable(slip_number)
        or not _HASH_PREFIX.fullmatch(hash_prefix)
        or signature is None
        or len(signature) != SIGNATURE_BYTES
    ):
        return SlipCheck(False, "", "", "", MESSAGE_BAD_FORMAT)

    def result(valid: bool, message: str) -> SlipCheck:
        return SlipCheck(valid, site_code, slip_number, hash_prefix, message)

    key_texts = public_keys.get(site_code)
    if key_texts is None:
        return result(False, f"未知站点 {site_code}：请先导入该站点的公钥")
    candidates = [key_texts] if isinstance(key_texts, str) else list(key_texts)
    keys = [_ed25519_public_key(text) for text in candidates]
    usable = [key for key in keys if key is not None]
    if not usable:
        return result(False, f"站点 {site_code} 的公钥无效：请重新导入该站点的公钥")
    signed = _slip_signed_text(site_code, slip_number, hash_prefix).encode("utf-8")
    for public_key in usable:
        try:
            public_key.verify(signature, signed)
            break
        except InvalidSignature:
            continue
    else:
        return result(False, MESSAGE_BAD_SIGNATURE)
    if content_hash is None:
        return result(True, f"核验通过：{slip_number} 由站点 {site_code} 签发（未比对交办单内容）")
    if not isinstance(content_hash, str) or content_hash[:SLIP_HASH_PREFIX_CHARS].lower() != (
        hash_prefix
    ):
        return result(False, MESSAGE_CONTENT_CHANGED)
    return result(True, f"核验通过：{slip_number} 由站点 {site_code} 签发，内容未被改动")


def _slip_signed_text(site_code: str, slip_number: str, hash_prefix: str) -> str:
    return f"{SLIP_PAYLOAD_PREFIX}|{site_code}|{slip_number}|{hash_prefix.lower()}"


# Encoding -----------------------------------------------------------------------------------


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes | None:
    """Strict base64url without padding: only the canonical spelling of some bytes decodes.

    The last character of a 64-byte signature carries two unused bits; without the round-trip
    check, changing them would give a different payload with the same, valid signature.
    """
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if _b64url_encode(data) == text else None


def _decode_raw_key(text: str) -> bytes:
    raw = _b64url_decode(text)
    if raw is None or len(raw) != RAW_KEY_BYTES:
        raise ValueError(f"not a raw 32-byte public key in base64url: {text!r}")
    return raw


def _is_raw_key(text: str) -> bool:
    raw = _b64url_decode(text)
    return raw is not None and len(raw) == RAW_KEY_BYTES


def _ed25519_public_key(text: object) -> Ed25519PublicKey | None:
    if not isinstance(text, str):
        return None
    raw = _b64url_decode(text)
    if raw is None or len(raw) != RAW_KEY_BYTES:
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None


def _encodable(text: str) -> bool:
    """False for a string with a lone surrogate, which has no UTF-8 bytes to verify."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _group(hex_digits: str) -> str:
    return "-".join(hex_digits[i : i + 4] for i in range(0, len(hex_digits), 4))
