"""`python -m ckptzoo_widgets.cli`: the same as the `ckptzoo` command."""

import sys

from .app import main

sys.exit(main())
