"""Route the text the Rust side writes on file descriptors 1 and 2 through sys.stdout/sys.stderr.

Owns: `through_python()`, a context manager used around calls into `fz._fz`.
Rust writes straight to the process's descriptors, which
`contextlib.redirect_stdout`, pytest's capsys, a `StringIO` put in `sys.stdout`
or a notebook's output stream never see. When `sys.stdout` (or `sys.stderr`)
is not the stream of descriptor 1 (or 2), the descriptor is pointed at a pipe
for the duration of the call and a thread copies what arrives, as it arrives,
to the Python stream. When they are the real descriptors (a terminal, a plain
script, the console commands) nothing changes. Must not touch: what is
written (text, order within a stream) or the calls' results.
"""

import codecs
import os
import sys
import threading
from contextlib import contextmanager

from . import _fz


def _is_descriptor(stream, fd: int) -> bool:
    """True when writing to `stream` ends up on descriptor `fd` already."""
    try:
        return stream is not None and stream.fileno() == fd
    except (AttributeError, OSError, ValueError):
        return False


def _pump(read_fd: int, stream) -> None:
    """Copies the pipe to `stream` until every write end is closed."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    try:
        while True:
            chunk = os.read(read_fd, 65536)
            text = decoder.decode(chunk, final=not chunk)
            if text:
                stream.write(text)
                stream.flush()
            if not chunk:
                break
    except (OSError, ValueError):
        pass  # the Python stream was closed under us: the text has nowhere to go
    finally:
        os.close(read_fd)


class _Route:
    """Descriptor `fd` pointed at a pipe read into `stream` by a thread."""

    def __init__(self, fd: int, stream):
        self.fd = fd
        read_fd, write_fd = os.pipe()
        self.saved = os.dup(fd)
        os.dup2(write_fd, fd)
        os.close(write_fd)
        self.thread = threading.Thread(target=_pump, args=(read_fd, stream), daemon=True)
        self.thread.start()

    def close(self) -> None:
        os.dup2(self.saved, self.fd)  # closes the pipe's last write end we hold
        os.close(self.saved)
        # A process started by the run and still holding the descriptor keeps
        # the pipe open: wait a little, then leave the thread to finish alone.
        self.thread.join(timeout=5)


_LOCK = threading.Lock()
_ACTIVE = {"users": 0, "routes": []}


def _open_routes() -> None:
    """First user in: route each descriptor whose Python stream is elsewhere."""
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        if stream is not None and not _is_descriptor(stream, fd):
            stream.flush()
            _ACTIVE["routes"].append(_Route(fd, stream))


def _close_routes() -> None:
    """Last user out: give the descriptors back."""
    _fz.flush_output()
    while _ACTIVE["routes"]:
        _ACTIVE["routes"].pop().close()


@contextmanager
def through_python():
    """Within the block, Rust's stdout and stderr text goes to sys.stdout and sys.stderr.

    Calls from several threads share the routes: the descriptors are
    process-wide, so the first call in sets them up and the last one out
    restores them.
    """
    with _LOCK:
        if _ACTIVE["users"] == 0:
            try:
                _open_routes()
            except OSError:
                _close_routes()  # no pipe to be had: text stays on the descriptors
        _ACTIVE["users"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE["users"] -= 1
            if _ACTIVE["users"] == 0:
                _close_routes()
