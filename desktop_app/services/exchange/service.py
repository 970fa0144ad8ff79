"""``ExchangeService``: the exchange's one entry point (``AppServices.sync``), composed of the
parts that do the work; each method hands over to one of them."""

from __future__ import annotations

from pathlib import Path

from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.services.attachments import AttachmentStore
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.exchange.acks import Acknowledgements
from desktop_app.services.exchange.conflicts import ConflictInfo, Conflicts
from desktop_app.services.exchange.export import DataExport, ExportResult, Progress
from desktop_app.services.exchange.import_report import ImportReport
from desktop_app.services.exchange.importing import Importer
from desktop_app.services.exchange.reference import ReferenceData
from desktop_app.services.exchange.sites import TrustedSite, site_summary
from desktop_app.services.exchange.status import BundleRecord, ExchangeStatus, SyncStatus
from desktop_app.services.exchange.trust import Trust
from desktop_app.services.keys import PublicIdentity, SiteKeys
from desktop_app.services.sealing import Sealer
from desktop_app.storage.database import Database


class ExchangeService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        keys: SiteKeys,
        attachments: AttachmentStore,
        sealer: Sealer,
    ) -> None:
        self._db = db
        self._trust = Trust(db, clock, keys)
        self._status = ExchangeStatus(db, clock)
        self._data = DataExport(db, clock, keys, attachments, sealer)
        self._reference = ReferenceData(db, clock, keys)
        self._conflicts = Conflicts(db, clock, sealer)
        self._importer = Importer(
            db,
            clock,
            keys,
            attachments,
            status=self._status,
            acks=Acknowledgements(db, clock, keys, attachments.root.parent / "outbox"),
            reference=self._reference,
            sealer=sealer,
        )

    # Trust ----------------------------------------------------------------------------------

    def write_identity(self, path: Path) -> PublicIdentity:
        return self._trust.write_identity(path)

    def read_identity(self, path: Path) -> PublicIdentity:
        return self._trust.read_identity(path)

    def trust(self, actor: Actor, identity: PublicIdentity, *, replace: bool = False) -> str:
        return self._trust.trust(actor, identity, replace=replace)

    def rotate_keys(self, actor: Actor) -> PublicIdentity:
        return self._trust.rotate_keys(actor)

    def revoke(self, actor: Actor, site_code: str, reason: str = "") -> str:
        return self._trust.revoke(actor, site_code, reason)

    def trusted_sites(self) -> list[TrustedSite]:
        return self._trust.trusted_sites()

    # Status ---------------------------------------------------------------------------------

    def status(self, *, count_pending: bool = True) -> SyncStatus:
        return self._status.status(count_pending=count_pending)

    def set_period_days(self, actor: Actor, days: int) -> Changes:
        return self._status.set_period_days(actor, days)

    def set_inbox(self, actor: Actor, folder: str) -> Changes:
        return self._status.set_inbox(actor, folder)

    def history(self, limit: int = 200) -> list[BundleRecord]:
        return self._status.history(limit)

    def pending_in_folder(self, folder: Path) -> list[Path]:
        return self._status.pending_in_folder(folder)

    # Export and import ----------------------------------------------------------------------

    def export(
        self, actor: Actor, target_dir: Path, *, progress: Progress | None = None
    ) -> ExportResult:
        """Write a bundle to ``target_dir``: data for the city (county) or reference data (city)."""
        actor.require(Permission.EXCHANGE_DATA)
        if site_summary(self._db).level == SiteLevel.CITY.value:
            return self._reference.export(actor, target_dir, progress)
        return self._data.export(actor, target_dir, progress)

    def import_path(
        self, actor: Actor, path: Path, *, dry_run: bool = False, progress: Progress | None = None
    ) -> list[ImportReport]:
        return self._importer.import_path(actor, path, dry_run=dry_run, progress=progress)

    def import_file(
        self, actor: Actor, path: Path, *, dry_run: bool = False, progress: Progress | None = None
    ) -> ImportReport:
        return self._importer.import_file(actor, path, dry_run=dry_run, progress=progress)

    def settle_imports(self) -> None:
        self._importer.settle()

    # Conflicts ------------------------------------------------------------------------------

    def conflicts(self, *, include_resolved: bool = False) -> list[ConflictInfo]:
        return self._conflicts.listed(include_resolved=include_resolved)

    def resolve_conflict(self, actor: Actor, conflict_id: int, *, take_incoming: bool) -> Changes:
        return self._conflicts.resolve(actor, conflict_id, take_incoming=take_incoming)
