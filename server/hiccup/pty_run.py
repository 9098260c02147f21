"""`hiccup run`: Claude Code inside a pseudo-terminal that hiccup owns.

Being Claude Code's parent gives hiccup two things a log tailer never has: the exact bytes the user
saw, kept (redacted) in a session log that the language server and `hiccup watch` tail live, and the
power to restart Claude Code with `--continue` when the advice says a restart helps. Everything else
has to be invisible: the TUI must behave as it does without hiccup, so bytes pass through untouched
both ways, the window size follows the real terminal, and the real terminal is handed back in the
state it was found in, whichever way hiccup ends.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import time
import tty
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hiccup.session_log import (
    RESTART_REQUEST,
    SessionLog,
    cleanup_old_sessions,
    default_log_path,
    ensure_private_dir,
    request_restart,
    sessions_dir,
    write_json_private,
)

__all__ = ["StopPolicy", "add_arguments", "main", "request_restart", "run"]

DEFAULT_COMMAND = "claude"

_READ_SIZE = 65536
# Stop reading stdin while this much is waiting for the child: a paste into a busy TUI must not make
# hiccup's memory grow without bound.
_MAX_PENDING_INPUT = 1 << 20
# Output still in the pty when the child exits is read until this much quiet; a grandchild that keeps
# the pty open (a background shell Claude Code started) must not keep hiccup alive.
_DRAIN_IDLE_S = 0.05
_DRAIN_MAX_S = 1.0
_CLIENT_TIMEOUT_S = 2.0
_MAX_CLIENTS = 8
_SUN_PATH_MAX = 107
# What a terminal or a `kill` sends to hiccup is meant for the program the user is running.
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# ...and these two mean hiccup itself is being asked to go: a restart in progress is called off.
_ENDING = (signal.SIGTERM, signal.SIGHUP)
_WATCHED = (*_FORWARDED, signal.SIGWINCH, signal.SIGCHLD, signal.SIGCONT)


@dataclass(frozen=True)
class StopPolicy:
    """How a restart stops the running Claude Code.

    Claude Code quits cleanly on a second Ctrl-C (its transcript, which `--continue` resumes, is already
    on disk), so that comes first; SIGTERM and then SIGKILL are only for a process that is wedged.
    """

    interrupt_gap_s: float = 0.5
    term_after_s: float = 3.0
    kill_after_s: float = 2.0

    def schedule(self, start: float) -> list[tuple[float, signal.Signals]]:
        second = start + self.interrupt_gap_s
        term = second + self.term_after_s
        return [
            (start, signal.SIGINT),
            (second, signal.SIGINT),
            (term, signal.SIGTERM),
            (term + self.kill_after_s, signal.SIGKILL),
        ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `hiccup run [--log PATH] [--] [COMMAND [ARGS...]]`."""
    parser.add_argument("--log", metavar="PATH", help="write the session log here instead of the user cache directory")
    # dest "argv", not "command": the top-level parser keeps the subcommand's name in args.command.
    parser.add_argument(
        "argv",
        nargs=argparse.REMAINDER,
        metavar="COMMAND",
        help=f"the command to run and its arguments (default: {DEFAULT_COMMAND})",
    )


def main(args: argparse.Namespace) -> int:
    """Entry point of `hiccup run`; returns the child's exit status as a shell would report it."""
    command = list(args.argv or [])
    # argparse.REMAINDER keeps the `--` that separates hiccup's options from the command's.
    if command[:1] == ["--"]:
        command = command[1:]
    log_path = Path(args.log).expanduser().absolute() if args.log else None
    return run(command or [DEFAULT_COMMAND], log_path)


def run(command: Sequence[str], log_path: Path | None = None, policy: StopPolicy | None = None) -> int:
    """Run `command` in a pty with its output logged; return its status (128+N if killed by signal N)."""
    command = list(command) or [DEFAULT_COMMAND]
    executable = command[0] if os.sep in command[0] else shutil.which(command[0])
    if executable is None:
        _say(f"{command[0]}: command not found")
        return 127
    try:
        if log_path is None:
            directory = sessions_dir()
            ensure_private_dir(directory)
            cleanup_old_sessions(directory)
            log_path = default_log_path(os.getpid())
        else:
            log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        log = SessionLog(log_path)
    except OSError as exc:
        _say(f"cannot write the session log {log_path}: {exc.strerror or exc}")
        return 1
    session = _Session(command, executable, log, policy or StopPolicy())
    try:
        return session.run()
    finally:
        log.close()
        if session.message:
            _say(session.message)
        if log.error is not None:
            _say(f"the session log {log.path} stopped early: {log.error.strerror or log.error}")


def _say(message: str) -> None:
    print(f"hiccup: {message}", file=sys.stderr)


def _noop(signum: int, frame: object) -> None:
    """Signals are read from the wakeup pipe by the loop; the handler only has to exist."""


def _take_controlling_tty() -> None:
    """Runs in the child after setsid(): make the pty its terminal, as a login shell's would be."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _shell_status(returncode: int) -> int:
    return returncode if returncode >= 0 else 128 - returncode


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            # Someone left O_NONBLOCK on a terminal we share; wait instead of dropping output.
            select.select([], [fd], [], 1.0)


def _same_user(conn: socket.socket) -> bool:
    """Belt and braces next to the 0600 socket: only our own user may restart our Claude Code."""
    peercred = getattr(socket, "SO_PEERCRED", None)
    if peercred is None:
        return True
    fmt = "3i"
    _pid, uid, _gid = struct.unpack(fmt, conn.getsockopt(socket.SOL_SOCKET, peercred, struct.calcsize(fmt)))
    return uid == os.getuid()


def _socket_path_free(path: Path) -> bool:
    """Clear a socket left by a crashed session at `path`; False if the path is taken by anything else."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.getuid():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except ConnectionRefusedError:
            os.unlink(path)
            return True
        except OSError:
            return False
    return False


@dataclass
class _Client:
    sock: socket.socket
    deadline: float | None
    buf: bytearray = field(default_factory=bytearray)


class _Session:
    """One `hiccup run`: the pty, the child, the control socket and the loop that serves them."""

    def __init__(self, command: list[str], executable: str, log: SessionLog, policy: StopPolicy) -> None:
        self.command = command
        self.executable = executable
        self.log = log
        self.policy = policy
        self.message: str | None = None
        self.sidecar = log.path.with_name(log.path.name + ".json")
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.restarts = 0
        self.child: subprocess.Popen[bytes] | None = None
        self.master = -1
        self.master_open = False
        self.stdin_open = True
        self.stdout_ok = True
        self.pending_input = bytearray()
        self.restarting = False
        self.plan: list[tuple[float, signal.Signals]] = []
        self.ending = False
        self.listener: socket.socket | None = None
        self.control_path: Path | None = None
        self.control_tmpdir: str | None = None
        self.clients: dict[int, _Client] = {}
        self.waiters: list[_Client] = []
        self.terminal_fd = next((fd for fd in (0, 1, 2) if os.isatty(fd)), None)
        # The user's terminal settings as found: restored at the end and given to each child's pty,
        # so Claude Code starts from the same erase character, IUTF8 and so on as without hiccup.
        self.saved_termios: list[Any] | None = termios.tcgetattr(0) if os.isatty(0) else None
        # Signals arrive as bytes on this pipe (signal.set_wakeup_fd), so the loop's select wakes
        # for them. os.pipe() rather than pipe2: macOS has no pipe2. Both ends are close-on-exec.
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.old_handlers: dict[int, Any] = {}
        self.old_wakeup = -1

    def run(self) -> int:
        status: int | None = None
        try:
            self.old_handlers = {sig: signal.signal(sig, _noop) for sig in _WATCHED}
            self.old_wakeup = signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
            status = self._spawn(self.command)
            if status is not None:
                return status
            self._open_control()
            self._write_sidecar()
            self._enter_raw()
            status = self._loop()
            return status
        finally:
            self._restore_terminal()
            signal.set_wakeup_fd(self.old_wakeup)
            for sig, handler in self.old_handlers.items():
                signal.signal(sig, handler)
            self._answer_waiters("error: hiccup run ended before the restart finished")
            self._close_control()
            if self.child is not None:
                self._write_sidecar(final=True, status=status)
            for fd in (self.wake_r, self.wake_w, self.master):
                if fd >= 0:
                    os.close(fd)

    def _spawn(self, argv: list[str]) -> int | None:
        """Start `argv` on a fresh pty; on failure set the message and return the shell's status.

        A fresh pty per child rather than reusing the old one: a Claude Code killed mid-run leaves its
        pty in raw mode, which the next one must not inherit.
        """
        master, slave = os.openpty()
        try:
            if self.saved_termios is not None:
                termios.tcsetattr(slave, termios.TCSANOW, self.saved_termios)
            self._copy_winsize(master)
            self.child = subprocess.Popen(
                argv,
                executable=self.executable,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                start_new_session=True,
                preexec_fn=_take_controlling_tty,
            )
        except FileNotFoundError as exc:
            os.close(master)
            self.message = f"{argv[0]}: {exc.strerror if os.sep in argv[0] else 'command not found'}"
            return 127
        except (OSError, subprocess.SubprocessError) as exc:
            os.close(master)
            self.message = f"{argv[0]}: {getattr(exc, 'strerror', None) or exc}"
            return 126
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self.master, self.master_open = master, True
        self.pending_input.clear()
        return None

    def _loop(self) -> int:
        assert self.child is not None
        while True:
            self._take_signals()
            now = time.monotonic()
            while self.plan and self.plan[0][0] <= now:
                self.child.send_signal(self.plan.pop(0)[1])
            for client in list(self.clients.values()):
                if client.deadline is not None and client.deadline <= now:
                    self._reply(client, "error: incomplete request")
            returncode = self.child.poll()
            if returncode is not None:
                self._drain_output()
                if not self.restarting:
                    return _shell_status(returncode)
                status = self._respawn()
                if status is not None:
                    return status
                continue
            self._poll_once(now)

    def _poll_once(self, now: float) -> None:
        # select rather than poll/epoll: macOS poll() cannot wait on a tty, and epoll refuses a regular
        # file as stdin (`hiccup run claude < prompt.txt`). Every descriptor here is small.
        readable = [self.wake_r]
        if self.master_open:
            readable.append(self.master)
        if self.stdin_open and len(self.pending_input) < _MAX_PENDING_INPUT:
            readable.append(0)
        if self.listener is not None:
            readable.append(self.listener.fileno())
        readable += [fd for fd, client in self.clients.items() if client.deadline is not None]
        writable = [self.master] if self.master_open and self.pending_input else []
        deadlines = [t for t, _ in self.plan[:1]]
        deadlines += [c.deadline for c in self.clients.values() if c.deadline is not None]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        ready, can_write, _ = select.select(readable, writable, [], timeout)
        if can_write:
            self._flush_input()
        for fd in ready:
            if fd == self.master:
                self._read_master()
            elif fd == 0:
                self._read_stdin()
            elif self.listener is not None and fd == self.listener.fileno():
                self._accept()
            elif fd in self.clients:
                self._read_client(self.clients[fd])
            # The wakeup pipe is drained at the top of the loop.

    def _take_signals(self) -> None:
        while True:
            try:
                received = os.read(self.wake_r, 256)
            except BlockingIOError:
                return
            for signum in received:
                if signum == signal.SIGWINCH:
                    self._copy_winsize(self.master)
                elif signum == signal.SIGCONT:
                    # Back from a stop: the shell put the terminal in cooked mode meanwhile.
                    self._enter_raw()
                    self._copy_winsize(self.master)
                elif signum in _FORWARDED and self.child is not None:
                    self.child.send_signal(signum)
                    if signum in _ENDING:
                        self.ending = True
                        self.restarting, self.plan = False, []
                        self._answer_waiters("error: hiccup run is stopping")

    def _read_master(self) -> None:
        try:
            data = os.read(self.master, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            # EIO: every descriptor of the pty's other side is closed, the child has gone.
            data = b""
        if not data:
            self.master_open = False
            return
        if self.stdout_ok:
            try:
                _write_all(1, data)
            except OSError:
                # The terminal went away (SIGHUP follows); keep draining so the child never blocks.
                self.stdout_ok = False
        self.log.write(data)

    def _drain_output(self) -> None:
        deadline = time.monotonic() + _DRAIN_MAX_S
        while self.master_open and (left := deadline - time.monotonic()) > 0:
            if not select.select([self.master], [], [], min(_DRAIN_IDLE_S, left))[0]:
                return
            self._read_master()

    def _read_stdin(self) -> None:
        try:
            data = os.read(0, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # EIO: the terminal hung up
        if not data:
            self.stdin_open = False
            self._send_eof()
            return
        self.pending_input += data
        self._flush_input()

    def _send_eof(self) -> None:
        """Turn the end of piped input into the EOF character, as `script` does, so a reader sees EOF."""
        if not self.master_open:
            return
        try:
            attrs = termios.tcgetattr(self.master)
        except termios.error:
            return
        if attrs[3] & termios.ICANON:
            veof = attrs[6][termios.VEOF]
            veof = veof if isinstance(veof, bytes) else bytes([veof])
            # A pty nobody configured yet can report VEOF as NUL, which the child would echo as "^@": use ^D.
            self.pending_input += veof if veof not in (b"", b"\x00") else b"\x04"
            self._flush_input()

    def _flush_input(self) -> None:
        while self.pending_input and self.master_open:
            try:
                written = os.write(self.master, self.pending_input)
            except BlockingIOError:
                return
            except OSError:
                self.pending_input.clear()
                return
            del self.pending_input[:written]

    def _enter_raw(self) -> None:
        if self.saved_termios is not None:
            # TCSANOW, not pty.spawn's TCSAFLUSH: what the user typed while Claude Code was loading
            # is meant for it.
            tty.setraw(0, termios.TCSANOW)

    def _restore_terminal(self) -> None:
        if self.saved_termios is None:
            return
        # termios.error: the terminal is gone (hangup), there is nothing left to restore.
        with contextlib.suppress(termios.error):
            termios.tcsetattr(0, termios.TCSADRAIN, self.saved_termios)

    def _copy_winsize(self, master: int) -> None:
        if self.terminal_fd is None or master < 0:
            return
        try:
            size = fcntl.ioctl(self.terminal_fd, termios.TIOCGWINSZ, b"\0" * 8)
            # Setting it on the master makes the kernel send SIGWINCH to the child's foreground group.
            fcntl.ioctl(master, termios.TIOCSWINSZ, size)
        except OSError:
            pass

    def _respawn(self) -> int | None:
        """Start `<same executable> --continue` after the old child has gone; a failure ends the run."""
        os.close(self.master)
        self.master, self.master_open = -1, False
        self.restarting, self.plan = False, []
        status = self._spawn([self.command[0], "--continue"])
        if status is not None:
            self._answer_waiters(f"error: {self.message}")
            return status
        self.restarts += 1
        self._write_sidecar()
        self._answer_waiters("restarted")
        return None

    def _open_control(self) -> None:
        """Listen on `<log>.ctl`; without it the session still runs, it just cannot be restarted remotely."""
        path = self.log.path.with_name(self.log.path.name + ".ctl")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if len(os.fsencode(path)) > _SUN_PATH_MAX or not _socket_path_free(path):
                # A deep --log path does not fit in sun_path; the sidecar says where the socket went.
                self.control_tmpdir = tempfile.mkdtemp(prefix="hiccup-")
                path = Path(self.control_tmpdir) / "ctl"
            old_umask = os.umask(0o177)
            try:
                sock.bind(str(path))
            finally:
                os.umask(old_umask)
            os.chmod(path, 0o600)
            sock.listen(_MAX_CLIENTS)
            sock.setblocking(False)
        except OSError:
            sock.close()
            return
        self.listener, self.control_path = sock, path

    def _close_control(self) -> None:
        for client in list(self.clients.values()):
            client.sock.close()
        self.clients.clear()
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        if self.control_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.control_path)
        if self.control_tmpdir is not None:
            shutil.rmtree(self.control_tmpdir, ignore_errors=True)

    def _accept(self) -> None:
        assert self.listener is not None
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        if len(self.clients) >= _MAX_CLIENTS or not _same_user(conn):
            conn.close()
            return
        conn.setblocking(False)
        self.clients[conn.fileno()] = _Client(conn, time.monotonic() + _CLIENT_TIMEOUT_S)

    def _read_client(self, client: _Client) -> None:
        try:
            # More than the request can hold, so "restart\nanything" is seen whole and refused.
            data = client.sock.recv(64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        client.buf += data
        if b"\n" not in client.buf and len(client.buf) < len(RESTART_REQUEST):
            return
        if client.buf != RESTART_REQUEST:
            self._reply(client, "error: unknown request")
        elif self.ending:
            self._reply(client, "error: hiccup run is stopping")
        else:
            client.deadline = None
            self.waiters.append(client)
            if not self.restarting:
                self.restarting = True
                self.plan = self.policy.schedule(time.monotonic())

    def _answer_waiters(self, text: str) -> None:
        for client in self.waiters:
            self._reply(client, text)
        self.waiters.clear()

    def _reply(self, client: _Client, text: str) -> None:
        # OSError: the client gave up waiting; the restart happened all the same.
        with contextlib.suppress(OSError):
            client.sock.send(text.encode("utf-8") + b"\n")
        self._drop(client)

    def _drop(self, client: _Client) -> None:
        self.clients.pop(client.sock.fileno(), None)
        client.sock.close()

    def _write_sidecar(self, final: bool = False, status: int | None = None) -> None:
        """Tell other tools where this session is and how to restart it; see `request_restart`."""
        assert self.child is not None
        info: dict[str, Any] = {
            "version": 1,
            "pid": os.getpid(),
            "child_pid": self.child.pid,
            "command": self.command[0],
            "started_at": self.started_at,
            "log": str(self.log.path),
            "control": str(self.control_path) if self.listener is not None else None,
            "restarts": self.restarts,
        }
        if final:
            info["control"] = None
            info["ended_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            info["exit_status"] = status
        # OSError: only remote restarts are lost; the session itself goes on.
        with contextlib.suppress(OSError):
            write_json_private(self.sidecar, info)


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="hiccup run", description=__doc__.splitlines()[0])
    add_arguments(_parser)
    raise SystemExit(main(_parser.parse_args()))
