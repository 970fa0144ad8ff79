"""A bundle's plain header: JSON read before anything is decrypted, so a site can say who sent a
bundle, to whom and why it refuses it, then the sender's Ed25519 signature of everything up to it.
The header holds the size and SHA-256 of the body, so that signature covers every byte of the
file (``container.open_payload`` checks it). Every field a reader relies on is checked here."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.services.exchange.bundle_file.format import (
    FORMAT,
    MAGIC,
    MAX_HEADER_BYTES,
    MAX_PAYLOAD_BYTES,
    OLDEST_FORMAT,
    SIGNATURE_BYTES,
    UUID_PATTERN,
    loads,
)
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode

_SITE = re.compile(r"[0-9]{6}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Header:
    raw: bytes  # the header's JSON as in the file
    data: dict[str, Any]
    body_offset: int
    signature: bytes = b""  # the sender's, of ``signed``
    signed: bytes = b""  # magic, header length and header: what the signature is of

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

    @property
    def body_size(self) -> int:
        return int(self.data["body"]["size"])

    @property
    def body_sha256(self) -> str:
        return str(self.data["body"]["sha256"])


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
            signature = reader.read(SIGNATURE_BYTES)
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
            f"数据包“{path.name}”是旧格式（格式版本 {version}，由试用版软件生成），本软件不再接收："
            "请发出方升级到本版本后重新导出。",
        )
    for name, pattern in (("from_site", _SITE), ("bundle_id", UUID_PATTERN)):
        if not isinstance(data.get(name), str) or not pattern.fullmatch(data[name]):
            raise BundleRefused(
                RefusalCode.TAMPERED, f"数据包“{path.name}”的文件头已损坏（{name}）。"
            )
    if data.get("kind") not in ("data", "reference"):
        raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{path.name}”的类型无法识别。")
    body = data.get("body")
    size = body.get("size") if isinstance(body, dict) else None
    digest = body.get("sha256") if isinstance(body, dict) else None
    if (
        not isinstance(size, int)
        or isinstance(size, bool)
        or size < 0
        or not isinstance(digest, str)
        or not _SHA256.fullmatch(digest)
        or not isinstance(data.get("signer"), str)
    ):
        raise BundleRefused(RefusalCode.TAMPERED, f"数据包“{path.name}”的文件头已损坏（大小）。")
    if size > MAX_PAYLOAD_BYTES:
        raise BundleRefused(
            RefusalCode.TOO_LARGE, f"数据包“{path.name}”声明的大小超过上限，拒绝导入。"
        )
    if len(signature) != SIGNATURE_BYTES:
        raise BundleRefused(RefusalCode.TRUNCATED, f"数据包“{path.name}”不完整（文件被截断）。")
    signed = MAGIC + struct.pack(">I", length) + raw
    return Header(raw, data, len(signed) + SIGNATURE_BYTES, signature, signed)
