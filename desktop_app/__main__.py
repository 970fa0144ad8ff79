"""``python -m desktop_app`` is the same as ``bbcs``."""

import sys

from desktop_app.cli import main

sys.exit(main())
