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

One module per part: ``format`` (magic, versions, algorithms, limits, member names), ``header``
(the plain header), ``container`` (header and payload written, the payload sealed and opened),
``payload_writer`` and ``payload_reader`` (the ZIP payload, its signed manifest and members).
The package gives them all under one name (``from desktop_app.services.exchange import
bundle_file as bf``).
"""

from desktop_app.services.exchange.bundle_file.container import (
    BinaryWriter,
    Recipient,
    open_payload,
    write_container,
)
from desktop_app.services.exchange.bundle_file.format import (
    ACK_SUFFIX,
    BUNDLE_SUFFIX,
    CHUNK_SIZE,
    ENCRYPTION_ALGORITHM,
    FORMAT,
    HASH_ALGORITHM,
    MAGIC,
    MANIFEST,
    MAX_ACK_BYTES,
    MAX_DIRECTORY_BYTES,
    MAX_HEADER_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_MEMBER_BYTES,
    MAX_MEMBERS,
    MAX_PAYLOAD_BYTES,
    MAX_UNPACKED_BYTES,
    MEMBER_NAME,
    NO_ENCRYPTION,
    OLDEST_FORMAT,
    RECORDS_MEMBER,
    SIGNATURE,
    SIGNATURE_ALGORITHM,
    TAG_BYTES,
    UNPACK_CHUNK,
    UUID_PATTERN,
    ZSTD_LEVEL,
    ZSTD_MAX_WINDOW,
    b64decode,
    b64encode,
    canonical_json,
    loads,
)
from desktop_app.services.exchange.bundle_file.header import (
    Header,
    read_header,
)
from desktop_app.services.exchange.bundle_file.payload_reader import (
    Payload,
    read_lines,
)
from desktop_app.services.exchange.bundle_file.payload_writer import (
    PayloadWriter,
)

__all__ = [
    "ACK_SUFFIX",
    "BUNDLE_SUFFIX",
    "CHUNK_SIZE",
    "ENCRYPTION_ALGORITHM",
    "FORMAT",
    "HASH_ALGORITHM",
    "MAGIC",
    "MANIFEST",
    "MAX_ACK_BYTES",
    "MAX_DIRECTORY_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_MANIFEST_BYTES",
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_PAYLOAD_BYTES",
    "MAX_UNPACKED_BYTES",
    "MEMBER_NAME",
    "NO_ENCRYPTION",
    "OLDEST_FORMAT",
    "RECORDS_MEMBER",
    "SIGNATURE",
    "SIGNATURE_ALGORITHM",
    "TAG_BYTES",
    "UNPACK_CHUNK",
    "UUID_PATTERN",
    "ZSTD_LEVEL",
    "ZSTD_MAX_WINDOW",
    "BinaryWriter",
    "Header",
    "Payload",
    "PayloadWriter",
    "Recipient",
    "b64decode",
    "b64encode",
    "canonical_json",
    "loads",
    "open_payload",
    "read_header",
    "read_lines",
    "write_container",
]
