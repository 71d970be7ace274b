"""Console entry points (upstream's fz.cli names): fz, fzi, fzc, fzo, fzr, fzd, fzl.

Each `*_main()` runs the Rust command line with `sys.argv[1:]` as its
arguments and returns the exit status (0 success, 1 bad input or no case
done, 2 bad command line, 130 interrupted), like upstream's; the console
scripts exit with it. `main()` is the `fz` command with subcommands
(`fz run ...`), whatever `sys.argv[0]` is. Also `python -m fz.cli ...` and
`python -m fz ...`. When sys.stdout or sys.stderr is replaced (StringIO,
capsys, a notebook), the commands' text goes there (fz._output).
"""

import sys
from typing import List, Optional

from . import _fz
from ._output import through_python

__all__ = ["main", "fzi_main", "fzc_main", "fzo_main", "fzr_main", "fzd_main", "fzl_main"]


def _run(program: str, args: Optional[List[str]] = None) -> int:
    """Runs `program` (fz, fzi, ...) with `args` (default sys.argv[1:])."""
    argv = [program] + list(sys.argv[1:] if args is None else args)
    with through_python():
        return int(_fz.cli_main(argv))


def main() -> int:
    """The `fz` command: fz input|compile|output|run|design|list|install ... (sys.argv[1:])."""
    return _run("fz")


def fzi_main() -> int:
    """The `fzi` command (sys.argv[1:]): the variables and formulas of an input."""
    return _run("fzi")


def fzc_main() -> int:
    """The `fzc` command (sys.argv[1:]): compile an input with values."""
    return _run("fzc")


def fzo_main() -> int:
    """The `fzo` command (sys.argv[1:]): parse the outputs of result directories."""
    return _run("fzo")


def fzr_main() -> int:
    """The `fzr` command (sys.argv[1:]): run a parametric study."""
    return _run("fzr")


def fzd_main() -> int:
    """The `fzd` command (sys.argv[1:]): an iterative design driven by an algorithm."""
    return _run("fzd")


def fzl_main() -> int:
    """The `fzl` command (sys.argv[1:]): list models, calculators and algorithms."""
    return _run("fzl")


if __name__ == "__main__":
    sys.exit(main())
