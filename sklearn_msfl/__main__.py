"""``python -m sklearn_msfl``: the ``msfl`` command line (see :mod:`sklearn_msfl.cli`)."""

import sys

from .cli import main

sys.exit(main())
