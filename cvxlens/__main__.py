"""``python -m cvxlens`` = the ``cvxlens`` command."""

import sys

from .cli import main

sys.exit(main())
