"""The bundle file: what travels between sites on a USB stick or a share (DESIGN.md §6).

A bundle is one file::

    MAGIC | header length (4 bytes, big-endian) | header (JSON) | signature (64 bytes) | body

The header is plain JSON so a site can say *before decrypting* who sent a bundle, to whom, and
why it refuses it. The body is a ZIP archive (the *payload*) holding ``manifest.json``,
``manifest.sig`` and the members the manifest lists with their sizes and SHA-256 digests.

- Every byte signed: the header holds the body's size and SHA-256 and the sender's public key,
  and the sender's Ed25519 key signs magic, length and header. The signature, and the body
  against it, are checked before the body is decrypted or parsed (format 3; older formats are
  refused).
- Encrypted with a maintained construction: age to the recipient's X25519 key
  (``services.stream_crypto``). Inside, the sender's key also signs ``manifest.json`` (which
  pins every member by hash), binding the plaintext to the sender.
- Reference bundles (city → counties: departments, holidays, rules) hold no personal data and
  go to every county, so they are signed but not encrypted (``"encryption": "none"``).

Reading is defensive: every length is capped before anything is allocated, nothing after the
header is read before the signature verifies, member names are checked against a closed list
(no ``..``, no absolute paths, no duplicates), and a member is read no further than its declared
size.
``BundleRefused`` (a ``UserError`` with a machine-readable ``code``) is the only error a
malformed file may produce.

Nothing here touches the database; the rest of ``services.exchange`` decides what a bundle means.

One module per part: ``format`` (magic, versions, algorithms, limits, member names), ``header``
(the plain header), ``container`` (the payload sealed, signed, written, checked and opened),
``payload_writer`` and ``payload_reader`` (the ZIP payload, its signed manifest and members).
The package gives them all under one name (``from desktop_app.services.exchange import
bundle_file as bf``).
"""

from desktop_app.services.exchange.bundle_file.container import (
    BinaryWriter,
    Recipient,
    SealedBundle,
    Signer,
    open_payload,
    seal_payload,
    verify_signature,
    write_container,
)
from desktop_app.services.exchange.bundle_file.format import (
    ACK_FORMAT,
    ACK_SUFFIX,
    BUNDLE_SUFFIX,
    CHUNK_SIZE,
    ENCRYPTION_ALGORITHM,
    FORMAT,
    HASH_ALGORITHM,
    MAGIC,
    MANIFEST,
    MAX_ACK_BYTES,
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
    SIGNATURE_BYTES,
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
    "ACK_FORMAT",
    "ACK_SUFFIX",
    "BUNDLE_SUFFIX",
    "CHUNK_SIZE",
    "ENCRYPTION_ALGORITHM",
    "FORMAT",
    "HASH_ALGORITHM",
    "MAGIC",
    "MANIFEST",
    "MAX_ACK_BYTES",
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
    "SIGNATURE_BYTES",
    "UNPACK_CHUNK",
    "UUID_PATTERN",
    "ZSTD_LEVEL",
    "ZSTD_MAX_WINDOW",
    "BinaryWriter",
    "Header",
    "Payload",
    "PayloadWriter",
    "Recipient",
    "SealedBundle",
    "Signer",
    "b64decode",
    "b64encode",
    "canonical_json",
    "loads",
    "open_payload",
    "read_header",
    "read_lines",
    "seal_payload",
    "verify_signature",
    "write_container",
]
