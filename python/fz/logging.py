"""Log level (upstream's fz.logging): `LogLevel`, set_log_level(), get_log_level().

Owns: the Python face of the FZ_LOG_LEVEL setting (stored in fz.config, read
by the Rust side when each call starts). Must not touch: what is logged.
"""

from enum import Enum
from typing import Union

from .config import _CONFIG

__all__ = ["LogLevel", "set_log_level", "get_log_level"]


class LogLevel(Enum):
    """Levels in order of verbosity, upstream's values.

    A member also equals its name as a string, in any case
    (`LogLevel.INFO == "info"`), so it compares with get_log_level()'s text.
    """

    QUIET = -1
    ERROR = 0
    WARNING = 1
    INFO = 2
    DEBUG = 3

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.name == other.upper()
        return Enum.__eq__(self, other)

    __hash__ = Enum.__hash__


def set_log_level(level: Union[LogLevel, str]) -> None:
    """Set the log level: a LogLevel or QUIET, ERROR, WARNING, INFO, DEBUG (any case)."""
    if isinstance(level, LogLevel):
        level = level.name
    _CONFIG.log_level = level.upper() if isinstance(level, str) else level


def get_log_level() -> str:
    """The log level now, as its name ("ERROR"; equal to LogLevel.ERROR)."""
    return _CONFIG.log_level
