"""The editor disappears: the server exits on stdin EOF, and when the editor's process is gone even though
something still holds its stdin open (a crashed editor's child inherited the pipe)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from lsp_support import ERR_500, wait_diagnostics, wait_until
from server_proc import running, server_env

from hiccup.lifeline import EOF_GRACE_SECONDS, PARENT_CHECK_SECONDS


def frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def spawn_server(tmp_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "hiccup", "serve"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=server_env(tmp_path / "cache"))


def read_until(server: subprocess.Popen[bytes], method: str) -> None:
    """Read the server's messages up to the first `method` notification (it answers in order)."""
    assert server.stdout is not None
    while True:
        length = 0
        while (header := server.stdout.readline()) not in (b"\r\n", b""):
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":")[1])
        assert header, "the server closed its output"
        if json.loads(server.stdout.read(length)).get("method") == method:
            return


def handshake(server: subprocess.Popen[bytes], process_id: int | None) -> None:
    assert server.stdin is not None
    server.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                              "params": {"processId": process_id, "capabilities": {}}}))
    server.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    server.stdin.write(frame({"jsonrpc": "2.0", "method": "hiccup/terminalData",
                              "params": {"terminalId": "1", "data": "API Error: 500 boom\n"}}))
    server.stdin.flush()
    read_until(server, "textDocument/publishDiagnostics")  # `initialized` has been handled


def test_exits_on_stdin_eof(tmp_path: Path) -> None:
    server = spawn_server(tmp_path)
    handshake(server, None)
    assert server.stdin is not None
    server.stdin.close()
    t0 = time.monotonic()
    assert server.wait(timeout=10) is not None
    print(f"stdin EOF: exited after {time.monotonic() - t0:.2f} s")
    assert time.monotonic() - t0 < 10


# A file watcher's thread that never ends (not a daemon): without the lifeline the process would outlive stdin.
_LINGERING = """
import sys, threading, time
threading.Thread(target=time.sleep, args=(3600,), daemon=False).start()
from hiccup.cli import main
sys.exit(main(["serve"]))
"""


def test_exits_on_stdin_eof_even_with_a_lingering_thread(tmp_path: Path) -> None:
    server = subprocess.Popen([sys.executable, "-c", _LINGERING], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env=server_env(tmp_path / "cache"))
    try:
        handshake(server, None)
        assert server.stdin is not None
        server.stdin.close()
        t0 = time.monotonic()
        assert server.wait(timeout=EOF_GRACE_SECONDS + 5) == 0
        print(f"stdin EOF with a lingering thread: exited after {time.monotonic() - t0:.2f} s")
    finally:
        server.kill()
        server.wait()


def test_exits_when_the_editor_process_is_gone(tmp_path: Path) -> None:
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    server = spawn_server(tmp_path)
    try:
        handshake(server, editor.pid)
        time.sleep(PARENT_CHECK_SECONDS + 0.5)
        assert server.poll() is None  # the editor lives: the server stays
        editor.kill()
        editor.wait()
        t0 = time.monotonic()
        assert server.wait(timeout=10) == 0  # stdin is still open: only the watchdog can end it
        print(f"editor killed: server exited after {time.monotonic() - t0:.2f} s")
        assert time.monotonic() - t0 < 6
    finally:
        editor.kill()
        server.kill()
        server.wait()
    # what the terminal printed before the editor died is on disk for the next server
    assert list((tmp_path / "cache" / "hiccup" / "terminals").iterdir())


async def test_invisible_editor_pid_is_not_taken_for_a_dead_editor(tmp_path: Path) -> None:
    """An editor outside our pid namespace (a dev container) has a pid we cannot see: do not exit."""
    async with running(tmp_path / "cache", process_id=2**22 + 12345) as client:
        await wait_until(lambda: any("not visible" in m.message for m in client.log_messages))
        client.protocol.notify("hiccup/terminalData", {"terminalId": "1", "data": f"{ERR_500}\n"})
        await wait_diagnostics(client, "hiccup-terminal:/1/terminal", lambda d: len(d) == 1)
