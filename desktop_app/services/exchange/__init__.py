"""County ⇄ city exchange (DESIGN.md §6): trust, export, import, acknowledgement, reference data.

- A county exports a *data bundle* for the city it trusts: every record stamped since the export
  generation the city last acknowledged (see ``storage.models.Exported``), the attachments those
  records name, the head of the county's audit chain, signed and encrypted (``bundle_file``).
- The city imports it all-or-nothing (the record-level merge is ``merge``): rows are matched by
  UUID and version, references mapped to local ids, a record that changed on both sides goes to
  the conflict queue, and a signed acknowledgement is written beside the bundle. Importing the
  same bundle again changes nothing.
- The county imports the acknowledgement; from then on its bundles start after that generation.
- A city exports a *reference bundle* (its departments, areas, holiday changes and deadline
  rules) that every county it trusts can import.

Records owned by a county are read-only at the city (``services.ownership``).

One module per concern: ``trust`` (identities and keys), ``status`` (where the exchange stands),
``export`` (the county's data bundle), ``reference`` (the city's reference bundle, written and
applied), ``admission`` (whether a bundle is let in, pure), ``importing``, ``acks``,
``conflicts``; below them ``bundle_file`` (the file format), the records file (``records_tables``:
how each table travels, ``records_write``, ``records_file``: a received one and its checks), the
merge (``merge`` over ``merge_bulk``, ``merge_rows``, ``merge_references``, ``merge_outcomes``),
``import_report``, ``refusals``, ``manifest``, ``folders``, ``scratch`` and ``sites``.
``service`` composes them into ``ExchangeService``.
"""

from desktop_app.services.exchange.conflicts import ConflictInfo
from desktop_app.services.exchange.export import ExportResult
from desktop_app.services.exchange.import_report import ImportReport
from desktop_app.services.exchange.records_tables import TABLE_LABELS
from desktop_app.services.exchange.refusals import BundleRefused
from desktop_app.services.exchange.service import ExchangeService
from desktop_app.services.exchange.sites import TrustedSite
from desktop_app.services.exchange.status import BundleRecord, SyncStatus

__all__ = [
    "TABLE_LABELS",
    "BundleRecord",
    "BundleRefused",
    "ConflictInfo",
    "ExchangeService",
    "ExportResult",
    "ImportReport",
    "SyncStatus",
    "TrustedSite",
]
