"""`hiccup run` under a real pseudo-terminal, with a fake Claude Code as the child.

The test process plays the user's terminal emulator: it owns the master side of a pty whose slave is
hiccup's controlling terminal, types into it, resizes it and reads what would be on screen.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import termios
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hiccup.pty_run import request_restart
from hiccup.session_log import SessionLog, cleanup_old_sessions, running_sessions

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from fake_claude import BLOB, ERROR_LINE, PLANTED_KEY

FAKE = Path(__file__).parent / "helpers" / "fake_claude.py"

pytestmark = pytest.mark.timeout(20)


def _take_controlling_tty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """The user's terminal: a real pty whose slave is the controlling terminal of `argv`."""

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 31, cols: int = 97) -> None:
        self.master, self.slave = os.openpty()
        self.set_size(rows, cols)
        self.original_termios = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen(
            argv,
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            env=env,
            start_new_session=True,
            preexec_fn=_take_controlling_tty,
        )
        self.out = bytearray()

    def set_size(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("4H", rows, cols, 0, 0))

    def resize(self, rows: int, cols: int) -> None:
        """What a terminal emulator does when its window is dragged."""
        self.set_size(rows, cols)
        os.kill(self.proc.pid, signal.SIGWINCH)

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        self.out += data
        return bool(data)

    def read_until(self, needle: bytes, timeout: float = 5.0, count: int = 1) -> bytes:
        deadline = time.monotonic() + timeout
        while self.out.count(needle) < count:
            if time.monotonic() > deadline or (
                not self._read(deadline - time.monotonic()) and self.proc.poll() is not None
            ):
                raise AssertionError(f"no {needle!r} on the terminal; it shows {bytes(self.out)!r}")
        return bytes(self.out)

    def wait(self, timeout: float = 5.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"still running; the terminal shows {bytes(self.out)!r}")
            self._read(0.05)
        while self._read(0.05):
            pass
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """PATH with a `claude` that is the fake; the cache inside tmp_path."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    claude = bindir / "claude"
    claude.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    claude.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "FAKE_CLAUDE_STUBBORN": "0",
    }


@pytest.fixture
def terminals():
    opened: list[Terminal] = []

    def open_terminal(argv: list[str], env: dict[str, str], **size: int) -> Terminal:
        opened.append(Terminal(argv, env, **size))
        return opened[-1]

    yield open_terminal
    for term in opened:
        term.close()


def _gone(pid: int) -> bool:
    """Exited, or a zombie waiting for a container's init that never reaps."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def hiccup(log: Path | None, *command: str) -> list[str]:
    return [sys.executable, "-m", "hiccup.pty_run", *(["--log", str(log)] if log else []), "--", *command]


def sidecar(log: Path) -> dict:
    return json.loads(log.with_name(log.name + ".json").read_text())


def test_output_reaches_the_terminal_byte_for_byte(env, terminals, tmp_path):
    direct = terminals([str(tmp_path / "bin" / "claude")], env)
    reference = direct.read_until(b"READY\r\n")
    direct.type(b"exit 0\r")
    assert direct.wait() == 0

    term = terminals(hiccup(tmp_path / "s.log"), env)
    shown = term.read_until(b"READY\r\n")
    assert shown == reference
    assert b"BLOB-BEGIN" + BLOB.replace(b"\n", b"\r\n") + b"BLOB-END" in shown
    assert b"TTY stdin=True stdout=True" in shown
    term.type(b"exit 0\r")
    assert term.wait() == 0


def test_child_sees_the_window_size_and_follows_resizes(env, terminals, tmp_path):
    term = terminals(hiccup(tmp_path / "s.log"), env, rows=31, cols=97)
    assert b"SIZE 31x97\r\n" in term.read_until(b"READY\r\n")
    term.resize(40, 120)
    term.read_until(b"SIZE 40x120\r\n")
    term.type(b"exit 0\r")
    assert term.wait() == 0


def test_typed_input_reaches_the_child_and_its_exit_status_comes_back(env, terminals, tmp_path):
    term = terminals(hiccup(tmp_path / "s.log"), env)
    term.read_until(b"READY\r\n")
    assert not termios.tcgetattr(term.slave)[3] & termios.ICANON, "the real terminal is in raw mode"
    term.type(b"hello there\r")
    term.read_until(b"GOT hello there\r\n")
    term.type(b"exit 3\r")
    assert term.wait() == 3
    assert termios.tcgetattr(term.slave) == term.original_termios


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_death_by_signal_is_reported_as_128_plus_the_signal(env, terminals, tmp_path, signum, status):
    term = terminals(hiccup(tmp_path / "s.log"), env)
    term.read_until(b"READY\r\n")
    term.type(f"signal {int(signum)}\r".encode())
    assert term.wait() == status
    assert termios.tcgetattr(term.slave) == term.original_termios


def test_sigterm_to_hiccup_reaches_the_child_and_the_terminal_is_restored(env, terminals, tmp_path):
    term = terminals(hiccup(tmp_path / "s.log"), env)
    term.read_until(b"READY\r\n")
    term.proc.send_signal(signal.SIGTERM)
    assert term.wait() == 143
    assert termios.tcgetattr(term.slave) == term.original_termios


def test_a_crash_inside_hiccup_still_restores_the_terminal_and_ends_the_child(env, terminals, tmp_path):
    log = tmp_path / "s.log"
    launcher = (
        "import sys; from pathlib import Path; from hiccup import pty_run\n"
        "def boom(self): raise RuntimeError('planted failure')\n"
        "pty_run._Session._read_stdin = boom\n"
        f"sys.exit(pty_run.run(['claude'], Path({str(log)!r})))"
    )
    term = terminals([sys.executable, "-c", launcher], env)
    term.read_until(b"READY\r\n")
    child = sidecar(log)["child_pid"]
    term.type(b"x")
    assert term.wait() == 1
    assert b"RuntimeError: planted failure" in term.out
    assert termios.tcgetattr(term.slave) == term.original_termios
    assert sidecar(log)["control"] is None and not Path(str(log) + ".ctl").exists()
    deadline = time.monotonic() + 5
    while not _gone(child):
        assert time.monotonic() < deadline, "the child outlived hiccup's pty"
        time.sleep(0.01)


def test_session_log_is_private_redacted_and_described_by_its_sidecar(env, terminals, tmp_path):
    log = tmp_path / "logs" / "s.log"
    term = terminals(hiccup(log), env)
    term.read_until(b"READY\r\n")

    live = sidecar(log)
    assert live["pid"] == term.proc.pid
    assert live["command"] == "claude"
    assert live["log"] == str(log)
    assert live["restarts"] == 0
    assert live["control"] == str(log) + ".ctl"
    assert stat.S_ISSOCK(os.stat(live["control"]).st_mode)
    assert stat.S_IMODE(os.stat(live["control"]).st_mode) == 0o600
    # On disk while the session runs: the language server tails it live.
    deadline = time.monotonic() + 5
    while ERROR_LINE not in log.read_bytes().decode("utf-8", "surrogateescape"):
        assert time.monotonic() < deadline, "the error line never reached the log"
        time.sleep(0.01)

    term.type(b"exit 0\r")
    assert term.wait() == 0
    text = log.read_bytes().decode("utf-8", "surrogateescape")
    assert ERROR_LINE + "\r\n" in text
    assert "using key sk-ant-" in text
    assert PLANTED_KEY not in text and PLANTED_KEY[20:40] not in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    ended = sidecar(log)
    assert ended["control"] is None and ended["exit_status"] == 0 and "ended_at" in ended
    assert not os.path.exists(live["control"])
    assert stat.S_IMODE(log.with_name("s.log.json").stat().st_mode) == 0o600


def test_restart_request_stops_the_child_and_continues_the_conversation(env, terminals, tmp_path):
    log = tmp_path / "s.log"
    term = terminals(hiccup(log), env)
    term.read_until(b"READY\r\n")
    first = sidecar(log)
    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(request_restart, log.with_name("s.log.json"), 10.0)
        shown = term.read_until(b'ARGV ["--continue"]\r\n', timeout=10)
        assert reply.result(timeout=10) == "restarted"
    # Stopped the way a user quits Claude Code: Ctrl-C twice.
    assert shown.index(b"Press Ctrl-C again to exit") < shown.index(b"BYE") < shown.index(b"--continue")
    after = sidecar(log)
    assert after["restarts"] == 1
    assert after["child_pid"] != first["child_pid"]
    term.read_until(b"READY\r\n", count=2)
    term.type(b"exit 4\r")
    assert term.wait() == 4


def test_restart_escalates_to_kill_when_the_child_ignores_signals(env, terminals, tmp_path):
    log = tmp_path / "s.log"
    launcher = (
        "import sys; from pathlib import Path; from hiccup.pty_run import run, StopPolicy;"
        f"sys.exit(run(['claude'], Path({str(log)!r}), StopPolicy(0.05, 0.2, 0.2)))"
    )
    term = terminals([sys.executable, "-c", launcher], {**env, "FAKE_CLAUDE_STUBBORN": "1"})
    term.read_until(b"READY\r\n")
    old_child = sidecar(log)["child_pid"]
    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(request_restart, log.with_name("s.log.json"), 10.0)
        shown = term.read_until(b'ARGV ["--continue"]\r\n', timeout=10)
        assert reply.result(timeout=10) == "restarted"
    assert shown.count(b"IGNORED INT") == 2
    with pytest.raises(ProcessLookupError):
        os.kill(old_child, 0)
    term.type(b"exit 0\r")
    assert term.wait() == 0


def test_control_socket_accepts_nothing_but_the_restart_line(env, terminals, tmp_path):
    log = tmp_path / "s.log"
    term = terminals(hiccup(log), env)
    term.read_until(b"READY\r\n")
    for request in (b"restart please\n", b"RESTART\n", b"status\n", b"restart\nrestart\n"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(log) + ".ctl")
            sock.sendall(request)
            assert sock.recv(100) == b"error: unknown request\n"
    term.type(b"size\r")
    term.read_until(b"SIZE 31x97\r\n", count=2)
    assert b'ARGV ["--continue"]' not in term.out
    term.type(b"exit 0\r")
    assert term.wait() == 0


def test_request_restart_says_not_running_once_the_session_is_over(env, terminals, tmp_path):
    log = tmp_path / "s.log"
    term = terminals(hiccup(log), env)
    term.read_until(b"READY\r\n")
    term.type(b"exit 0\r")
    assert term.wait() == 0
    assert request_restart(log.with_name("s.log.json")) == "not_running"
    assert request_restart(tmp_path / "missing.json").startswith("error: cannot read session file")


@pytest.mark.parametrize(
    ("command", "status", "message"),
    [
        ("no-such-claude-xyz", 127, "no-such-claude-xyz: command not found"),
        ("./no-such-claude-xyz", 127, "./no-such-claude-xyz: No such file or directory"),
        ("./plain-file", 126, "./plain-file: Permission denied"),
    ],
)
def test_a_command_that_cannot_run_is_one_line_and_a_shell_status(env, tmp_path, command, status, message):
    (tmp_path / "plain-file").write_text("not a program\n")
    done = subprocess.run(
        hiccup(tmp_path / "s.log", command, "--flag"),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=10,
        cwd=tmp_path,
    )
    assert (done.returncode, done.stderr) == (status, f"hiccup: {message}\n".encode())


def test_a_control_socket_path_too_long_for_unix_sockets_goes_to_a_private_temp_dir(env, terminals, tmp_path):
    log = tmp_path / ("d" * 60) / ("e" * 60) / "s.log"
    term = terminals(hiccup(log), env)
    term.read_until(b"READY\r\n")
    control = Path(sidecar(log)["control"])
    assert control.parent != log.parent and stat.S_IMODE(control.parent.stat().st_mode) == 0o700
    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(request_restart, log.with_name("s.log.json"), 10.0)
        term.read_until(b'ARGV ["--continue"]\r\n', timeout=10)
        assert reply.result(timeout=10) == "restarted"
    term.type(b"exit 0\r")
    assert term.wait() == 0
    assert not control.parent.exists()


def test_piped_stdin_is_forwarded_until_eof(env, tmp_path):
    done = subprocess.run(hiccup(tmp_path / "s.log"), env=env, input=b"hello\n", capture_output=True, timeout=10)
    assert done.returncode == 0, done.stderr
    assert b"TTY stdin=True stdout=True" in done.stdout
    assert b"GOT hello\r\n" in done.stdout
    assert done.stdout.endswith(b"EOF\r\n")


def test_the_hiccup_command_passes_the_claude_arguments_through(env, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "hiccup", "run", "--log", str(tmp_path / "s.log"), "--", "claude", "--log", "x"],
        env=env,
        input=b"exit 6\n",
        capture_output=True,
        timeout=10,
    )
    assert done.returncode == 6, done.stderr
    assert b'ARGV ["--log", "x"]\r\n' in done.stdout


def test_default_log_lives_in_the_cache_and_old_sessions_are_cleaned(env, tmp_path):
    sessions = tmp_path / "cache" / "hiccup" / "sessions"
    sessions.mkdir(parents=True, mode=0o755)
    week_ago = time.time() - 8 * 24 * 3600
    old = sessions / "20200101-000000-1.log"
    fresh = sessions / "20200101-000000-2.log"
    for path in (old, old.with_name(old.name + ".json"), fresh):
        path.write_text("{}")
    for path in (old, old.with_name(old.name + ".json")):
        os.utime(path, (week_ago, week_ago))

    proc = subprocess.Popen(hiccup(None), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = proc.communicate(b"exit 0\n", timeout=10)
    assert proc.returncode == 0, out

    assert not old.exists() and not old.with_name(old.name + ".json").exists()
    assert fresh.exists()
    assert stat.S_IMODE(sessions.stat().st_mode) == 0o700
    logs = [p for p in sessions.iterdir() if re.fullmatch(rf"\d{{8}}-\d{{6}}-{proc.pid}\.log", p.name)]
    assert len(logs) == 1
    assert stat.S_IMODE(logs[0].stat().st_mode) == 0o600
    assert ERROR_LINE in logs[0].read_bytes().decode("utf-8", "surrogateescape")


def test_cleanup_keeps_a_quiet_session_that_is_still_running(tmp_path):
    now = time.time()
    live, dead = tmp_path / "20200101-000000-1.log", tmp_path / "20200101-000000-2.log"
    live.with_name(live.name + ".json").write_text(json.dumps({"pid": os.getpid()}))
    dead.with_name(dead.name + ".json").write_text(json.dumps({"pid": os.getpid(), "ended_at": "x"}))
    for path in (live, dead, tmp_path / "notes.txt"):
        path.write_text("x")
    for path in tmp_path.iterdir():
        os.utime(path, (now - 30 * 24 * 3600,) * 2)
    assert cleanup_old_sessions(tmp_path, now=now) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "20200101-000000-1.log",
        "20200101-000000-1.log.json",
        "notes.txt",
    ]


def test_running_sessions_lists_live_sidecars_only(tmp_path):
    for name, info in [
        ("20250101-000000-1.log.json", {"pid": os.getpid()}),
        ("20250101-000000-2.log.json", {"pid": os.getpid(), "ended_at": "2025-01-01T00:00:00+00:00"}),
        ("20250101-000000-3.log.json", {"pid": 2**22 + 1}),
        ("notes.log.json", {"pid": os.getpid()}),
    ]:
        (tmp_path / name).write_text(json.dumps(info))
    assert running_sessions(tmp_path) == [tmp_path / "20250101-000000-1.log.json"]
    assert running_sessions(tmp_path / "missing") == []


def test_a_secret_split_across_reads_is_still_redacted(tmp_path):
    log = SessionLog(tmp_path / "s.log")
    log.write(b"\x1b[2K  export ANTHROPIC_API_KEY=sk-ant-api03-abcdefgh")
    assert (tmp_path / "s.log").read_bytes() == b""  # held until the line is complete
    log.write(b"ijklmnopqrstuvwxyz0123\r\nAuthorization: Bearer eyJhbGciOiJIUzI1")
    log.write(b"NiJ9.payload\r\nnext")
    written = (tmp_path / "s.log").read_bytes()
    assert b"abcdefgh" not in written and b"ijklmnop" not in written and b"eyJhbGci" not in written
    assert written.startswith(b"\x1b[2K  export ANTHROPIC_API_KEY=")
    assert written.endswith(b"\r\n")  # flushed per complete line, without waiting for close
    log.close()
    assert (tmp_path / "s.log").read_bytes().endswith(b"\r\nnext")


def test_bytes_that_are_not_utf8_are_kept_as_they_were(tmp_path):
    log = SessionLog(tmp_path / "s.log", max_pending=4)
    log.write(b"\xff\xfe\xe2\x8e")  # a multibyte character cut by the bound
    log.write(b"\xbf ok\n")
    log.close()
    assert (tmp_path / "s.log").read_bytes() == b"\xff\xfe\xe2\x8e\xbf ok\n"


def test_log_rotates_at_its_size_bound(tmp_path):
    path = tmp_path / "s.log"
    log = SessionLog(path, max_bytes=1000)
    for i in range(30):
        log.write(f"{i:02d}".encode() + b"x" * 97 + b"\n")
    log.close()
    rotated = path.with_name("s.log.1")
    assert path.stat().st_size <= 1000 and rotated.stat().st_size <= 1000
    assert path.read_bytes().endswith(b"29" + b"x" * 97 + b"\n")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(rotated.stat().st_mode) == 0o600
