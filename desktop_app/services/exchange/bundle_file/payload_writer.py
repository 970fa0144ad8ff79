"""Writing a payload: a ZIP archive of the members, each one's size and SHA-256 in the manifest,
and the manifest signed with the sender's Ed25519 key (which so pins every member)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

import zstandard

from desktop_app.files import HashingWriter
from desktop_app.services.exchange.bundle_file.format import (
    CHUNK_SIZE,
    MANIFEST,
    MEMBER_NAME,
    SIGNATURE,
    ZSTD_LEVEL,
)


class PayloadWriter:
    """Builds the ZIP payload in a temporary file; ``finish`` signs the manifest.

    Members are added as streams or bytes; each one's size and SHA-256 go into the manifest.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - closed by close()
        self._zip = zipfile.ZipFile(self._file, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.members: list[dict[str, Any]] = []
        self._names: set[str] = set()

    def add_bytes(self, name: str, data: bytes) -> None:
        self._check_name(name)
        self._zip.writestr(name, data)
        self.members.append(
            {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )

    def add_file(self, name: str, path: Path) -> None:
        self._check_name(name)
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as reader, self._zip.open(name, "w", force_zip64=True) as writer:
            for block in iter(lambda: reader.read(CHUNK_SIZE), b""):
                digest.update(block)
                size += len(block)
                writer.write(block)
        self.members.append({"name": name, "size": size, "sha256": digest.hexdigest()})

    def add_packed_file(self, name: str, path: Path) -> None:
        """Add a file compressed with Zstandard (on every core) and stored as is in the ZIP;
        the manifest gives the packed bytes' size and hash and the unpacked size."""
        self._check_name(name)
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        unpacked = path.stat().st_size
        with self._zip.open(info, "w", force_zip64=True) as stored:
            hashing = HashingWriter(stored)
            compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1)
            with path.open("rb") as reader:
                compressor.copy_stream(
                    reader, cast(IO[bytes], hashing), size=unpacked, write_size=CHUNK_SIZE
                )
        self.members.append(
            {
                "name": name,
                "size": hashing.size,
                "sha256": hashing.digest.hexdigest(),
                "unpacked_size": unpacked,
                "packing": "zstd",
            }
        )

    def finish(self, manifest: dict[str, Any], sign: Callable[[bytes], bytes]) -> IO[bytes]:
        """Add the manifest and its signature; return the payload, positioned at its start."""
        manifest = dict(manifest, members=self.members)
        data = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
        self._zip.writestr(MANIFEST, data)
        self._zip.writestr(SIGNATURE, sign(data))
        self._zip.close()
        self._file.seek(0)
        return self._file

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._zip.close()
        self._file.close()

    def _check_name(self, name: str) -> None:
        if not MEMBER_NAME.fullmatch(name) or name in self._names:
            raise ValueError(f"bad member name {name!r}")
        self._names.add(name)
