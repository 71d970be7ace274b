"""Console scripts fz, fzi, fzc, fzo, fzr, fzd, fzl: the Rust command line."""

import os
import sys

from . import _fz


def main() -> None:
    """Run the command named by the script (fzi, fzc, ...) with sys.argv."""
    program = os.path.basename(sys.argv[0]) if sys.argv else "fz"
    sys.exit(_fz.cli_main([program] + sys.argv[1:]))
