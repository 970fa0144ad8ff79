"""数据交换: this site's keys, the sites it trusts, and bundles carried by USB stick or share.

A county exports data bundles for its city and imports the city's acknowledgements and reference
data; a city imports the counties' bundles (one by one, a folder, or its shared inbox), settles
conflicts and sends reference data down. Every import is a dry run first, shown in a dialog, and
only then the real import. All reading and writing of sticks and shares runs on the worker.

One widget per section (``identity``, ``status``, ``send``, ``receive``, ``conflicts``,
``history``, ``sites``), each reading its own data on the worker and listening to the change
hub itself; ``page.ExchangePage`` assembles them. What they read and the texts they show are in
``data``, without Qt.
"""

from desktop_app.ui.exchange.page import ExchangePage
from desktop_app.ui.exchange.widgets import FileDialogs

__all__ = ["ExchangePage", "FileDialogs"]
