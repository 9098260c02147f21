"""A stand-in for Claude Code that the `hiccup run` tests put on PATH as `claude`.

It shows what the child sees (its argv, whether its stdio is a terminal, the window size), prints
what Claude Code prints when the API fails, quits on a second Ctrl-C as Claude Code does, and obeys
line commands so a test can type at it:

    exit N      exit with status N
    signal N    die of signal N
    size        print the window size again
    anything    echoed back as "GOT anything"

FAKE_CLAUDE_STUBBORN=1 makes it ignore SIGINT and SIGTERM, like a wedged process.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import struct
import sys
import termios
import time

ERROR_LINE = (
    '  ⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},'
    '"request_id":"req_011CTest"}'
)
# Looks like a real key to the redactor; belongs to nobody.
PLANTED_KEY = "sk-ant-api03-" + "Xq7" * 30 + "-AAAAAAAA"
# Every byte value plus the sequences a TUI sends: passthrough must not change any of them.
BLOB = b"\x1b[?25l\x1b[1mbold\x1b[0m \x1b]0;title\x07 \xe2\x8e\xbf \xe2\x9c\xbb \xf0\x9f\x98\x80 \r\n" + bytes(
    range(256)
)


def out(data: bytes | str) -> None:
    os.write(1, data.encode("utf-8") if isinstance(data, str) else data)


def size_line() -> str:
    rows, cols, _, _ = struct.unpack("4H", fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8))
    return f"SIZE {rows}x{cols}\n"


def main() -> int:
    stubborn = os.environ.get("FAKE_CLAUDE_STUBBORN") == "1"
    last_interrupt = [0.0]

    def on_interrupt(signum: int, frame: object) -> None:
        if stubborn:
            out("IGNORED INT\n")
            return
        if time.monotonic() - last_interrupt[0] < 2.0:
            out("BYE\n")
            os._exit(0)
        last_interrupt[0] = time.monotonic()
        out("Press Ctrl-C again to exit\n")

    signal.signal(signal.SIGINT, on_interrupt)
    signal.signal(signal.SIGWINCH, lambda signum, frame: out(size_line()))
    if stubborn:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    out(f"ARGV {json.dumps(sys.argv[1:])}\n")
    out(f"TTY stdin={os.isatty(0)} stdout={os.isatty(1)}\n")
    out(size_line())
    out(b"BLOB-BEGIN" + BLOB + b"BLOB-END\n")
    out(ERROR_LINE + "\n")
    out(f"using key {PLANTED_KEY}\n")
    out("READY\n")
    for raw in sys.stdin:
        line = raw.strip()
        if line.startswith("exit "):
            return int(line.split()[1])
        if line.startswith("signal "):
            signum = int(line.split()[1])
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            time.sleep(5)
        elif line == "size":
            out(size_line())
        else:
            out(f"GOT {line}\n")
    out("EOF\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
