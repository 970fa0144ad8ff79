"""The window (PySide6) over the Qt-free services.

The services, SQLAlchemy with them, are imported here, before any ui module imports PySide6.
PySide6 looks at every module imported after it for ``from __feature__ import …`` by reading the
module's whole source through ``inspect.getsource``, and Python's ``linecache`` then keeps that
text for the life of the process: about 25 MB of the window's memory (SQLAlchemy's and the
services' source, 300,000 lines), for nothing. Modules imported before PySide6 are never read.
"""

import desktop_app.services.app  # noqa: F401  (before PySide6: see above)
