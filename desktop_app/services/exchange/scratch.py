"""A bundle's records file in scratch space: written for an export, unpacked from a received
bundle, and seen through a session (attached to the database on SQLite). Gone afterwards."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from desktop_app.errors import EnvironmentProblem
from desktop_app.files import scratch_folder
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.records_file import RecordsFile
from desktop_app.services.exchange.records_tables import ATTACHED
from desktop_app.storage.database import Database


@contextlib.contextmanager
def open_records(payload: bf.Payload, bundle_name: str) -> Iterator[RecordsFile]:
    """Unpack a bundle's records file into a scratch folder (checked against the signed
    manifest) and open it; the file is gone afterwards."""
    with (
        scratch_folder(payload.unpacked_size(bf.RECORDS_MEMBER) or 0) as folder,
        _unpacked_records(payload, folder, bundle_name) as records,
    ):
        yield records


@contextlib.contextmanager
def _unpacked_records(payload: bf.Payload, folder: Path, bundle_name: str) -> Iterator[RecordsFile]:
    target = folder / "records.sqlite"
    try:
        payload.unpack_member(bf.RECORDS_MEMBER, target)
    except OSError as exc:
        full = exc.errno == errno.ENOSPC
        raise EnvironmentProblem(
            (
                "本机临时文件夹所在磁盘已满，无法解开数据包。请清理磁盘后重试。"
                if full
                else f"解开数据包时本机临时文件出错（{exc.strerror or exc}）。"
            )
            + "本次导入未做任何更改。"
        ) from exc
    records = RecordsFile(target, bundle_name)
    try:
        yield records
    finally:
        records.close()


@contextlib.contextmanager
def new_records_file(db: Database) -> Iterator[tuple[Session, Path, bool]]:
    """A records file to write in a scratch folder, and a session that sees it (see
    ``records_session``); the file is gone afterwards."""
    with scratch_folder(db.file_size()) as folder:  # at most the whole database
        path = folder / "records.sqlite"
        with records_session(db, path, write=False) as (session, attached):
            yield session, path, attached


@contextlib.contextmanager
def records_session(
    db: Database, records_path: Path, *, write: bool
) -> Iterator[tuple[Session, bool]]:
    """A session that sees a bundle's records file: attached to it on SQLite (the rows then
    never pass through Python), a plain session elsewhere. Yields (session, attached)."""
    if db.is_sqlite:
        with db.attached(records_path, ATTACHED, write=write) as session:
            yield session, True
    else:
        with db.write() if write else db.read(snapshot=True) as session:
            yield session, False
