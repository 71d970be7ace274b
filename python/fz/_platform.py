"""check_bash_availability_on_windows(): upstream's check that shell commands can run.

Owns: that one check. On Linux and macOS there is nothing to check (None,
as upstream). On Windows, fz runs shell commands with bash: without bash on
PATH, strict=True raises RuntimeError naming what to install, strict=False
warns once. Must not touch: how commands run.
"""

__all__ = ["check_bash_availability_on_windows"]

_MISSING = (
    "bash was not found on PATH: fz runs shell commands (calculators, output "
    "expressions) with bash. Install Git for Windows, MSYS2 or Cygwin and put "
    "its bin directory on PATH (check with: bash --version)."
)


def check_bash_availability_on_windows(strict: bool = True) -> None:
    """None when shell commands can run; on Windows without bash, raise (strict) or warn."""
    import platform  # here: `import fz` stays light for the console commands
    import shutil
    import warnings

    if platform.system() != "Windows" or shutil.which("bash"):
        return None
    if strict:
        raise RuntimeError(_MISSING)
    warnings.warn(_MISSING, RuntimeWarning, stacklevel=2)
    return None
