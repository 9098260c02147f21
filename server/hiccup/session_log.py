"""Session logs of `hiccup run`: what Claude Code printed, redacted, on disk while it runs.

The language server and `hiccup watch` tail these files live, so complete lines go to disk with one
unbuffered `os.write` the moment they arrive. The bytes are the raw terminal stream (ANSI sequences,
`\\r` redraws and all) because that is what the classifier's "terminal" format expects; only secrets
are changed. A terminal stream can echo credentials (`export ANTHROPIC_API_KEY=sk-ant-api03-…` typed in a
`!` shell command, `Authorization: Bearer …` in a `--debug` dump), so nothing reaches the file before
`hiccup.redact.redact` has seen the whole line it belongs to.

Next to each log, `hiccup run` keeps a sidecar (`<log>.json`) and a control socket (`<log>.ctl`). The
client side, `request_restart`, lives here rather than in `pty_run` so that the language server can
import it on any platform: this module needs neither termios nor fcntl.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from hiccup.redact import redact

MAX_LOG_BYTES = 20 * 1024 * 1024
# A line longer than this is written unfinished: Ink redraws can go a long way without a newline, and
# holding them forever would make the log lag the screen and grow memory without bound.
MAX_PENDING_LINE = 64 * 1024
MAX_AGE_S = 7 * 24 * 3600
# The whole control protocol of `<log>.ctl`: this one line in, one line out ("restarted" or "error: ...").
RESTART_REQUEST = b"restart\n"
REQUEST_TIMEOUT_S = 30.0

# 20250114-153000-41234.log, plus its rotation, sidecar and control socket.
_SESSION_FILE = re.compile(r"^\d{8}-\d{6}-\d+\.log(?:\.1|\.json|\.json\.tmp|\.ctl)?$")


def sessions_dir() -> Path:
    """Where session logs live when `--log` is not given: a cache, since losing them loses nothing."""
    return Path(platformdirs.user_cache_dir("hiccup")) / "sessions"


def default_log_path(pid: int, now: datetime | None = None) -> Path:
    """Name a new session log; local time because people match it against their own clock."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return sessions_dir() / f"{stamp}-{pid}.log"


def ensure_private_dir(path: Path) -> None:
    """Create the sessions directory user-only: terminal output is private even once redacted."""
    # and `~/.cache/hiccup` itself when we are the first to make it (parents=True would give it 0755)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask and ignored when the directory already exists.
    os.chmod(path, 0o700)


def open_private(path: Path, flags: int) -> int:
    """Open for writing with mode 0600 whatever the umask, refusing a symlink planted at the path."""
    fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    return fd


def write_json_private(path: Path, data: dict[str, Any]) -> None:
    """Replace a small JSON file atomically, so a reader never sees half of it."""
    tmp = path.with_name(path.name + ".tmp")
    fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def pid_alive(pid: object) -> bool:
    """Whether a process id from a sidecar still names a live process."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_old_sessions(directory: Path, max_age_s: float = MAX_AGE_S, now: float | None = None) -> int:
    """Delete session files untouched for `max_age_s`, so the cache does not grow forever.

    A session that is still running keeps its files however quiet it has been: a Claude Code window
    left open over a week-long holiday is still someone's work. Returns how many files went.
    """
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        if not _SESSION_FILE.match(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if now - st.st_mtime < max_age_s or _session_is_live(directory, entry.name):
            continue
        try:
            os.unlink(entry.path)
            removed += 1
        except OSError:
            continue
    return removed


def running_sessions(directory: Path | None = None) -> list[Path]:
    """Sidecars of the `hiccup run` sessions still alive, newest first: what a restart can target.

    Only sessions in the default directory are found; one started with `--log` elsewhere is known only
    to whoever chose that path.
    """
    directory = sessions_dir() if directory is None else directory
    try:
        names = [e.name for e in os.scandir(directory) if e.name.endswith(".log.json")]
    except OSError:
        return []
    live = [directory / n for n in names if _SESSION_FILE.match(n) and _session_is_live(directory, n)]
    return sorted(live, key=_mtime, reverse=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _session_is_live(directory: Path, name: str) -> bool:
    log_name = name[: name.index(".log") + len(".log")]
    try:
        info = json.loads((directory / (log_name + ".json")).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and "ended_at" not in info and pid_alive(info.get("pid"))


class SessionLog:
    """Append-only, redacted, size-bounded log of one session's terminal output.

    Writing never raises: a full disk must not take the user's Claude Code session down with it.
    The first failure is kept in `error` and logging stops.
    """

    def __init__(self, path: Path, max_bytes: int = MAX_LOG_BYTES, max_pending: int = MAX_PENDING_LINE) -> None:
        self.path = path
        self.error: OSError | None = None
        self._max_bytes = max_bytes
        self._max_pending = max_pending
        self._pending = bytearray()
        self._fd: int | None = open_private(path, os.O_WRONLY | os.O_APPEND)
        self._size = os.fstat(self._fd).st_size

    def write(self, data: bytes) -> None:
        """Take output as it comes from the pty; write out whatever lines it completes."""
        if self._fd is None:
            return
        self._pending += data
        cut = self._pending.rfind(b"\n") + 1
        if cut:
            self._emit(bytes(self._pending[:cut]))
            del self._pending[:cut]
        if len(self._pending) > self._max_pending:
            self._emit(bytes(self._pending))
            self._pending.clear()

    def close(self) -> None:
        """Write the unfinished last line too: the session is over, nothing more will complete it."""
        if self._fd is None:
            return
        if self._pending:
            self._emit(bytes(self._pending))
            self._pending.clear()
        if self._fd is not None:  # _emit drops the descriptor when the disk fails
            os.close(self._fd)
            self._fd = None

    def _emit(self, raw: bytes) -> None:
        # Per line, so a pattern can never reach across lines. surrogateescape keeps bytes that are not
        # UTF-8 (a multibyte character cut by MAX_PENDING_LINE) exactly as they were.
        text = raw.decode("utf-8", "surrogateescape")
        data = "\n".join(redact(line) for line in text.split("\n")).encode("utf-8", "surrogateescape")
        fd = self._fd
        try:
            if fd is not None and self._size and self._size + len(data) > self._max_bytes:
                # One generation is enough: the newest 20 MB hold the incident in progress, and
                # tailers reopen by path when the inode changes.
                self._fd = None
                os.close(fd)
                os.replace(self.path, self.path.with_name(self.path.name + ".1"))
                fd = self._fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
                self._size = 0
            view = memoryview(data)
            while fd is not None and view:
                view = view[os.write(fd, view) :]
            self._size += len(data)
        except OSError as exc:
            self.error = exc
            if self._fd is not None:
                os.close(self._fd)
            self._fd = None


def request_restart(session_json_path: str | os.PathLike[str], timeout: float = REQUEST_TIMEOUT_S) -> str:
    """Ask a running `hiccup run` to restart its Claude Code with `--continue`.

    Returns "restarted" once the new Claude Code has started, "not_running" when the session is over,
    or "error: ..." text. It blocks for as long as the old Claude Code takes to stop (seconds), so an
    event loop should call it from a worker thread.
    """
    try:
        info = json.loads(Path(session_json_path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        return f"error: cannot read session file {session_json_path}: {exc}"
    if not isinstance(info, dict):
        return f"error: {session_json_path} is not a hiccup session file"
    control = info.get("control")
    if not isinstance(control, str) or not control or not pid_alive(info.get("pid")):
        return "not_running"
    family = getattr(socket, "AF_UNIX", None)
    if family is None:  # Windows: `hiccup run` cannot have started there
        return "not_running"
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(control)
        except (FileNotFoundError, ConnectionRefusedError):
            return "not_running"
        except OSError as exc:
            return f"error: cannot reach {control}: {exc}"
        try:
            sock.sendall(RESTART_REQUEST)
            reply = _recv_line(sock)
        except TimeoutError:
            return f"error: no answer from hiccup run within {timeout:g} s"
        except OSError as exc:
            return f"error: {exc}"
    return reply or "error: the session ended before the restart finished"


def _recv_line(sock: socket.socket) -> str:
    buf = b""
    while b"\n" not in buf and len(buf) < 4096:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
