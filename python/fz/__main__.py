"""`python -m fz ...`: the `fz` command (fz.cli.main)."""

import sys

from .cli import main

sys.exit(main())
