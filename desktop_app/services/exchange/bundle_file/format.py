"""The bundle format's fixed parts: magic, versions, algorithms, file suffixes, the limits a
reader holds every length to, the member names a payload may hold, and small encoders."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Final

MAGIC: Final = b"BBCS-BUNDLE\x00"
# Format 3: the sender signs the header, which holds the SHA-256 of every byte after it, and the
# body is encrypted with age. Formats 1 (JSON Lines) and 2 (a hand-made AES-GCM stream, the
# signature only inside the archive) were only ever made by pre-release builds and are refused.
# Format 4 (issue 16): cases may be screened out (不予受理/已转办) and name an agent, a class, a
# campaign; referrals, classes and meetings travel; reference bundles carry the cause codes. A
# city built before it refuses such a bundle as too new instead of mis-filing it; a format-3
# bundle (a county not yet upgraded) is still read: what it lacks takes its defaults.
FORMAT: Final = 4
OLDEST_FORMAT: Final = 3
# Acknowledgements did not change: a county not yet upgraded still reads the city's.
ACK_FORMAT: Final = 3
SIGNATURE_ALGORITHM: Final = "Ed25519"
SIGNATURE_BYTES: Final = 64
ENCRYPTION_ALGORITHM: Final = "age-encryption.org/v1 X25519"
NO_ENCRYPTION: Final = "none"
HASH_ALGORITHM: Final = "SHA-256"

BUNDLE_SUFFIX: Final = ".bbcs"
ACK_SUFFIX: Final = ".bbcsack"

CHUNK_SIZE: Final = 1024 * 1024
UNPACK_CHUNK: Final = 8 * 1024 * 1024  # zstd's reader is three times slower at 1 MiB reads
MAX_HEADER_BYTES: Final = 64 * 1024
MAX_PAYLOAD_BYTES: Final = 8 * 1024**3
MAX_MANIFEST_BYTES: Final = 64 * 1024 * 1024
MAX_MEMBER_BYTES: Final = 4 * 1024**3
MAX_UNPACKED_BYTES: Final = 32 * 1024**3  # a records file as declared in the manifest
ZSTD_LEVEL: Final = 1  # 100,000 cases: 475 MB of SQLite pages in 0.4 s to 88 MB on two cores
ZSTD_MAX_WINDOW: Final = 8 * 1024 * 1024
MAX_MEMBERS: Final = 1_000_000
MAX_ACK_BYTES: Final = 1024 * 1024

MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.sig"
RECORDS_MEMBER: Final = "records/data.sqlite.zst"
MEMBER_NAME = re.compile(
    r"(records/[a-z_]{1,40}\.jsonl|records/data\.sqlite\.zst|attachments/[0-9a-f]{64})"
)
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def loads(data: bytes | str) -> Any:
    """``json.loads`` for untrusted bytes: every failure (bad UTF-8, bad JSON, nesting deep
    enough to exhaust the recursion limit) is a ``ValueError``."""
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


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
