"""bbcs — the 「办不成事」监督窗口工作台.

Everything in this package except :mod:`desktop_app.ui` is free of Qt and can be used from the
command line or from tests without a display.
"""

from desktop_app.version import __version__ as __version__

APP_NAME = "bbcs"
APP_TITLE = "「办不成事」监督窗口工作台"
