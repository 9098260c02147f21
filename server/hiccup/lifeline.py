"""The language server's lifeline to its editor: when the editor is gone, the process ends, whatever else runs.

Two ways an editor goes away. It closes our stdin (a normal quit, or its death closing the pipe), and pygls
stops reading, but the process still waits for every non-daemon thread (a file watcher, an executor job) and
can linger for ever as an orphan. Or it dies while something else keeps the pipe open (a child process that
inherited it), and no end of input ever comes: only its process id, from `initialize`, tells.

Both end in `os._exit`: the stdin reader thread is blocked in read() and cannot be interrupted, so an orderly
shutdown would wait for input that never comes. Nothing is lost by it: terminal transcripts are written through
to disk as they arrive (`terminal_store`), and everything else is rebuilt from the files by the next server.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import BinaryIO

from hiccup.session_log import pid_alive

logger = logging.getLogger("hiccup.lifeline")

PARENT_CHECK_SECONDS = 2.0  # one kill(pid, 0) every 2 s: an orphaned server exits within seconds
EOF_GRACE_SECONDS = 3.0  # time for the orderly shutdown after the end of input, before the hard exit


def exit_now(reason: str, code: int = 0) -> None:
    logger.warning("exiting: %s", reason)
    logging.shutdown()
    os._exit(code)


def watch_parent(pid: int, on_gone: Callable[[str], None] = exit_now,
                 interval: float = PARENT_CHECK_SECONDS) -> threading.Thread | None:
    """Call `on_gone` once `pid` no longer exists. A thread, not a task: a busy or finished event loop must not
    keep an orphan alive. Returns None (and watches nothing) when the pid is not visible to begin with: an
    editor in another pid namespace (outside a dev container) says nothing about itself through it."""
    if not pid_alive(pid):
        return None

    def watch() -> None:
        while pid_alive(pid):
            time.sleep(interval)
        on_gone(f"editor process {pid} is gone")

    thread = threading.Thread(target=watch, name="hiccup-editor-watchdog", daemon=True)
    thread.start()
    return thread


class ExitAfterEof:
    """The server's stdin: reads as usual, and at the end of input arms a hard exit `grace` seconds later, in
    case the orderly shutdown that pygls starts then is held up by a lingering thread."""

    def __init__(self, stream: BinaryIO, grace: float = EOF_GRACE_SECONDS,
                 on_timeout: Callable[[str], None] = exit_now) -> None:
        self._stream = stream
        self._grace = grace
        self._on_timeout = on_timeout
        self._armed = False

    def readline(self) -> bytes:
        return self._seen(self._stream.readline())

    def read(self, n: int = -1) -> bytes:
        return self._seen(self._stream.read(n))

    def _seen(self, data: bytes) -> bytes:
        if not data and not self._armed:
            self._armed = True
            timer = threading.Timer(self._grace, self._on_timeout, ("end of input, and the shutdown is held up",))
            timer.daemon = True
            timer.start()
        return data
