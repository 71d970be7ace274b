"""Settings (upstream's fz.config): the live `config` object, `Config`, get_config() and friends.

Owns: the settings fz reads when each call starts, and their validation.
Precedence, highest first: an explicit argument of the call (e.g.
fzr(timeout=...)), an attribute set on `config` (get_config().max_workers = 8),
the environment variable (FZ_MAX_WORKERS, read at call time, so os.environ
changes after `import fz` count), the default. Values are stored in the Rust
side (fz._fz.set_setting), so the Rust code sees them. Must not touch: what
the settings mean (fz-core's config module decides that).
"""

from typing import Any, Dict, List, Optional

from . import _fz

__all__ = ["config", "Config", "get_config", "reload_config", "print_config",
           "set_interpreter", "get_interpreter"]

_LEVELS = ["QUIET", "ERROR", "WARNING", "INFO", "DEBUG"]
_INTERPRETERS = ["python", "r", "javascript", "auto"]

# attribute: (environment variable, default, kind)
_SETTINGS = {
    "log_level": ("FZ_LOG_LEVEL", "ERROR", "level"),
    "max_retries": ("FZ_MAX_RETRIES", 5, "int"),
    "max_workers": ("FZ_MAX_WORKERS", None, "workers"),
    "run_timeout": ("FZ_RUN_TIMEOUT", 3600, "int"),
    "interpreter": ("FZ_INTERPRETER", "python", "interpreter"),
    "case_naming": ("FZ_CASE_NAMING", "path", "naming"),
    "static_candidate_min_size": ("FZ_STATIC_CANDIDATE_MIN_SIZE", 1048576, "int"),
    "ssh_auto_accept_hostkeys": ("FZ_SSH_AUTO_ACCEPT_HOSTKEYS", False, "bool"),
    "ssh_keepalive": ("FZ_SSH_KEEPALIVE", 300, "int"),
    "shell_path": ("FZ_SHELL_PATH", None, "path"),
    "strict": ("FZ_STRICT", False, "bool"),
}

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _parse(kind: str, raw: Optional[str], default: Any) -> Any:
    """A setting's text as fz reads it (invalid → default, as upstream)."""
    if raw is None:
        return default
    raw = raw.strip()
    if kind in ("int", "workers"):
        try:
            value = int(raw)
        except ValueError:
            return default
        return value if value >= (1 if kind == "workers" else 0) else default
    if kind == "bool":
        low = raw.lower()
        return True if low in _TRUE else False if low in _FALSE else default
    if kind == "level":
        up = raw.upper()
        return "WARNING" if up == "WARN" else up if up in _LEVELS else default
    if kind == "interpreter":
        return raw.lower() if raw.lower() in _INTERPRETERS else default
    if kind == "naming":
        return raw.lower() if raw.lower() in ("path", "hash", "index") else default
    return raw or default


def _text(name: str, kind: str, value: Any) -> str:
    """The text stored for `config.<name> = value`; bad values raise."""
    if kind in ("int", "workers"):
        if value is None and kind == "workers":
            return ""  # auto
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
        if value < (1 if kind == "workers" else 0):
            raise ValueError(f"{name} must be {'positive' if kind == 'workers' else 'non-negative'}, got {value}")
        return str(value)
    if kind == "path" and value is None:
        return ""  # not set: the system PATH
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
        return "1" if value else "0"
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if kind == "level" and _parse(kind, value, None) is None:
        raise ValueError(f"Invalid log level: {value}. Valid levels: {_LEVELS}")
    if kind == "interpreter" and value.lower() not in _INTERPRETERS:
        raise ValueError(f"Invalid interpreter '{value}'. Must be one of: {_INTERPRETERS}")
    if kind == "naming" and _parse(kind, value, None) is None:
        raise ValueError(f"Invalid case naming '{value}'. Must be one of: ['path', 'hash', 'index']")
    return value


class Config:
    """Live configuration, read by fz when each call starts.

    Precedence, highest first: an explicit argument of the call (e.g.
    fzr(timeout=...)), an attribute set here (get_config().max_workers = 8),
    the environment variable (FZ_MAX_WORKERS, read at call time, so
    os.environ changes after `import fz` count), the default.
    `del get_config().max_workers` removes the attribute's value so the
    environment counts again; reload_config() removes them all.
    Attributes: log_level, max_retries, max_workers (None = auto),
    run_timeout, interpreter, case_naming, static_candidate_min_size,
    ssh_auto_accept_hostkeys, ssh_keepalive, shell_path (directories
    searched first for the tools of shell commands, ":"-separated),
    strict (warnings about the input, such as a misspelled model key,
    become errors; FZ_STRICT).
    """

    def __getattr__(self, name: str) -> Any:
        if name not in _SETTINGS:
            raise AttributeError(name)
        var, default, kind = _SETTINGS[name]
        return _parse(kind, _fz.setting(var), default)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _SETTINGS:
            raise AttributeError(f"unknown configuration setting '{name}'; known: {sorted(_SETTINGS)}")
        var, _, kind = _SETTINGS[name]
        text = _text(name, kind, value)
        _fz.set_setting(var, text.lower() if kind == "interpreter" else text)

    def __delattr__(self, name: str) -> None:
        if name not in _SETTINGS:
            raise AttributeError(name)
        _fz.set_setting(_SETTINGS[name][0], None)

    def __dir__(self) -> List[str]:
        return sorted(_SETTINGS) + ["get_summary"]

    def __repr__(self) -> str:
        return f"Config({', '.join(f'{k}={getattr(self, k)!r}' for k in _SETTINGS)})"

    def get_summary(self) -> Dict[str, Any]:
        """The version and every setting's current value, as a dict."""
        summary: Dict[str, Any] = {"version": _fz.version()}
        summary.update({name: getattr(self, name) for name in _SETTINGS})
        return summary


_CONFIG = Config()

#: The settings object (upstream's `fz.config.config`), the same as get_config().
config = _CONFIG


def get_config() -> Config:
    """The live configuration object (get_config().max_workers = 8)."""
    return _CONFIG


def reload_config() -> Config:
    """Forget the values set on get_config(): the environment counts again."""
    _fz.clear_settings()
    return _CONFIG


def print_config() -> None:
    """Print the current settings on stdout."""
    c = _CONFIG
    rule = "=" * 60
    workers = "auto" if c.max_workers is None else c.max_workers
    print(
        f"{rule}\nFZ PACKAGE CONFIGURATION\n{rule}\nVersion: {_fz.version()}\n\n"
        f"🔧 LOGGING:\n  FZ_LOG_LEVEL = {c.log_level}\n\n"
        f"🔄 CALCULATION:\n  FZ_MAX_RETRIES = {c.max_retries}\n  FZ_INTERPRETER = {c.interpreter}\n"
        f"  Current interpreter = {c.interpreter}\n\n"
        f"⚡ PERFORMANCE:\n  FZ_MAX_WORKERS = {workers}\n\n"
        f"🌐 SSH:\n  FZ_SSH_AUTO_ACCEPT_HOSTKEYS = {c.ssh_auto_accept_hostkeys}\n"
        f"  FZ_SSH_KEEPALIVE = {c.ssh_keepalive}s\n\n"
        f"⏱️  RUN TIMEOUT:\n  FZ_RUN_TIMEOUT = {c.run_timeout}s\n\n"
        f"🔍 SHELL PATH:\n  FZ_SHELL_PATH = {c.shell_path or '(not set, use system PATH)'}\n\n"
        f"📁 CASE DIRECTORY NAMING:\n  FZ_CASE_NAMING = {c.case_naming}\n\n"
        f"📦 STATIC FILE DETECTION:\n  FZ_STATIC_CANDIDATE_MIN_SIZE = {c.static_candidate_min_size} bytes (0 = disabled)\n\n"
        f"{rule}\nSet environment variables or get_config() attributes to change these defaults\n"
        f"Example: export FZ_LOG_LEVEL=INFO FZ_MAX_RETRIES=3\n{rule}"
    )


def set_interpreter(name: str) -> None:
    """Set the default formula interpreter: python or R (also javascript, auto)."""
    if not isinstance(name, str) or name.lower() not in _INTERPRETERS:
        raise ValueError(f"Invalid interpreter '{name}'. Must be one of: {_INTERPRETERS}")
    _CONFIG.interpreter = name.lower()


def get_interpreter() -> str:
    """The default formula interpreter now."""
    return _CONFIG.interpreter
