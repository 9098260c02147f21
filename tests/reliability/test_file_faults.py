"""Files misbehave under the tailer and the classifier: rotation storms, deletion mid-read, a full disk, a 100 MB
line, random bytes. Real files and real writer processes; nothing is lost, nothing crashes, memory stays bounded.

HICCUP_FUZZ=long multiplies the rotations and examples.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hiccup.classifier import default_classifier
from hiccup.tailer import CHUNK_BYTES, FileTailer, TailLine
from hiccup.terminal_store import TerminalStore

LONG = os.environ.get("HICCUP_FUZZ") == "long"
C = default_classifier()
ERR = '⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}'


def spawn(script: str, *args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], **kwargs)  # type: ignore[call-overload]


def seqs(lines: list[TailLine]) -> list[int]:
    return [int(x.text.split("seq=")[1].split()[0]) for x in lines if "seq=" in x.text]


# The writer rotates its log three ways in turn: rename (logrotate's default), copytruncate, delete and
# recreate. After a rename or a delete it goes on writing a few "late" lines to the old file before switching,
# as a writer does until it notices. Before each rotation it waits for one byte on stdin: the test sends it
# once the tailer has read what was written so far, so a whole generation can never come and go unseen.
ROTATOR = """
import os, shutil, sys
path, generations, per_gen, ERR = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
seq = 0
def write(fd, n):
    global seq
    for _ in range(n):
        line = f"seq={seq} {ERR}\\n".encode()
        half = len(line) // 2
        os.write(fd, line[:half]); os.write(fd, line[half:])  # a line in two writes
        seq += 1
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
for g in range(generations):
    write(fd, per_gen)
    sys.stdout.write(f"{seq}\\n"); sys.stdout.flush()
    sys.stdin.read(1)
    style = g % 3
    if style == 0:
        os.rename(path, f"{path}.{g}")
        write(fd, 3)
        os.close(fd)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    elif style == 1:
        shutil.copyfile(path, f"{path}.{g}")
        os.truncate(path, 0)
    else:
        os.unlink(path)
        write(fd, 3)
        os.close(fd)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
write(fd, per_gen)
sys.stdout.write(f"END {seq}\\n"); sys.stdout.flush()
"""


def test_rotation_storm_loses_nothing(tmp_path: Path) -> None:
    generations, per_gen = (3000, 20) if LONG else (300, 20)
    log = tmp_path / "claude.log"
    writer = spawn(ROTATOR, str(log), str(generations), str(per_gen), ERR, stdin=subprocess.PIPE,
                   stdout=subprocess.PIPE)
    assert writer.stdin is not None and writer.stdout is not None
    got: list[TailLine] = []
    t0 = time.monotonic()
    with FileTailer(log, rotate_grace_s=0.5) as tailer:
        tailer.start(lookback=True)
        while True:
            mark = writer.stdout.readline().split()
            want = int(mark[-1])
            deadline = time.monotonic() + 10
            while not (got and max(seqs(got)) >= want - 1):
                got += tailer.poll()
                assert time.monotonic() < deadline, f"stuck at generation {tailer.generation}"
            if mark[0] == b"END":
                break
            writer.stdin.write(b"x")
            writer.stdin.flush()
    assert writer.wait(timeout=10) == 0
    seen = seqs(got)
    assert seen == list(range(want)), "a line was lost, read twice or out of order"
    assert tailer.generation >= generations
    assert all(x.text.endswith(ERR) for x in got)  # never half a line, though every line came in two writes
    print(f"rotation storm: {generations} rotations, {len(seen)} lines, {time.monotonic() - t0:.1f} s")


def test_file_deleted_while_being_read(tmp_path: Path) -> None:
    log = tmp_path / "claude.log"
    log.write_bytes(b"")
    lines = 200_000
    with FileTailer(log, rotate_grace_s=2.0) as tailer:
        tailer.start()
        with open(log, "ab") as fp:
            fp.write(b"".join(f"seq={i} {ERR}\n".encode() for i in range(lines)))
            fp.flush()
            got = tailer.poll(max_bytes=CHUNK_BYTES)  # the tailer is part-way through a 25 MB file...
            assert tailer.behind and 0 < len(got) < lines
            os.unlink(log)  # ...when it is deleted, and the writer goes on writing to it
            fp.write(b"".join(f"seq={i} late\n".encode() for i in range(lines, lines + 1000)))
        log.write_bytes(b"".join(f"seq={i} new file\n".encode() for i in range(lines + 1000, lines + 1100)))
        deadline = time.monotonic() + 10
        while len(got) < lines + 1100 and time.monotonic() < deadline:
            got += tailer.poll()
            time.sleep(0.01)
    assert seqs(got) == list(range(lines + 1100))
    assert [x.line_no for x in got[-100:]] == list(range(100))  # the new file is a new generation


# The writer fills the disk: RLIMIT_FSIZE makes write() stop short, then fail with EFBIG, like a full disk.
FILLER = """
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit, ERR = int(sys.argv[2]), sys.argv[3]
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
complete = 0
try:
    while True:
        line = f"seq={complete} {ERR}\\n".encode()
        if os.write(fd, line) < len(line):
            break
        complete += 1
except OSError as exc:
    print("error", exc.strerror, file=sys.stderr)
print(complete)
"""


def filler(path: Path, limit: int) -> int:
    done = subprocess.run([sys.executable, "-c", FILLER, str(path), str(limit), ERR], capture_output=True,
                          text=True, timeout=30, check=True)
    return int(done.stdout)


def test_disk_full_writer_leaves_a_partial_line(tmp_path: Path) -> None:
    log = tmp_path / "claude.log"
    log.write_bytes(b"")
    with FileTailer(log) as tailer:
        tailer.start()
        complete = filler(log, 20_000)
        assert log.stat().st_size == 20_000 and complete > 0
        got = tailer.poll()
        assert seqs(got) == list(range(complete))  # the partial line waits for its end
        assert not log.read_bytes().endswith(b"\n")
        # space again: the writer goes on with its next line, glued to the cut one
        with open(log, "ab") as fp:
            fp.write(f"seq={complete + 1} {ERR}\n".encode() * 3)
        more = tailer.poll()
    assert len(more) == 3 and more[0].line_no == complete
    assert C.classify_line(more[0].text, more[0].line_no, "log") is not None
    findings = list(C.scan_file(log))
    assert len(findings) == complete + 3


@contextlib.contextmanager
def tiny_tmpfs(path: Path, size: str = "256k") -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_really_full_disk(tmp_path: Path) -> None:
    """A 256 KB tmpfs: the writer gets ENOSPC mid-line, and the terminal store on the same disk fails softly."""
    with tiny_tmpfs(tmp_path / "disk") as disk:
        log = disk / "claude.log"
        log.write_bytes(b"")
        with FileTailer(log) as tailer:
            tailer.start()
            complete = filler(log, 10**9)
            got = tailer.poll()
        assert seqs(got) == list(range(complete)) and complete > 1000

        store = TerminalStore(disk / "terminals", "")
        log.unlink()
        filler(disk / "filler", 10**9)  # the disk is full again
        store.append("1", "claude", f"{ERR}\n" * 10, datetime(2026, 1, 1, tzinfo=UTC))
        assert store.problem is not None and "No space left" in store.problem
        (disk / "filler").unlink()
        store.append("1", "claude", "after\n", datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
        assert store.problem is None
        (saved,) = TerminalStore(disk / "terminals", "").load()
        assert "".join(text for _, text in saved.segments) in ("after\n", f"{ERR}\n" * 10 + "after\n")


def test_100_mb_line_without_newline(tmp_path: Path) -> None:
    log = tmp_path / "huge.log"
    with open(log, "wb") as fp:
        fp.write(ERR.encode() + b" ")  # classified on the line's first MiB; the other 99 MB are skipped, counted
        for _ in range(100):
            fp.write(b"x" * CHUNK_BYTES)
    with FileTailer(log, max_line_bytes=1_000_000) as tailer:
        tailer.start(lookback=False)
        tracemalloc.start()
        try:
            with open(log, "ab") as fp:
                fp.write(b"more of the same line")
            assert tailer.poll() == []
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        with open(log, "ab") as fp:
            fp.write(b"\n" + ERR.encode() + b"\n")
        got = tailer.poll()
    assert peak < 4 * CHUNK_BYTES, peak
    assert [x.text for x in got] == [ERR] and got[0].line_no == 1  # the huge line's head was before our start

    # `hiccup scan` reads it in bounded chunks: its peak RSS stays far below the file's size. VmHWM, not
    # ru_maxrss: the latter keeps the forking parent's size from before the exec.
    done = subprocess.run([sys.executable, "-c", SCAN_WITH_PEAK, "scan", "--format", "json", str(log)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and [json.loads(x)["line"] for x in done.stdout.splitlines()] == [1, 2], done
    peak_kb = int(done.stderr.split("VmHWM:")[1].split()[0])
    assert peak_kb < 100_000, f"scan peak RSS {peak_kb} KB for a 100 MB line"

SCAN_WITH_PEAK = """
import sys
from hiccup.cli import main
code = main(sys.argv[1:])
print(open("/proc/self/status").read(), file=sys.stderr)
sys.exit(code)
"""


HOSTILE = st.sampled_from([
    ERR, "API Error: 529 Overloaded", "\x1b[31m", "\x1b[", "\x1b]0;t", "\r\n", "\r", "\n", "\x00", "caf\udce9",
    '{"type":"assistant","isApiErrorMessage":true,"message":{"content":[{"type":"text","text":"API Error: 401 '
    '{\\"type\\":\\"error\\",\\"error\\":{\\"type\\":\\"authentication_error\\"}}"}]}}',
    '{"type":"assistant","message":{"content":[', "x" * 50, "\t", "Retrying in 5 seconds", "[" * 50,
])


@settings(max_examples=2000 if LONG else 150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(HOSTILE | st.text(max_size=10), max_size=40), st.lists(st.integers(0, 4000), max_size=6))
def test_tailer_and_scanner_agree_on_hostile_files(fragments: list[str], cuts: list[int]) -> None:
    """Written in random splits, read by the tailer line by line and by the scanner in one go: the same lines,
    the same findings (NUL aside: the tailer shows it as U+FFFD for editors), and no crash."""
    data = "".join(fragments).encode("utf-8", "surrogateescape")
    if not data.endswith(b"\n"):
        data += b"\n"
    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "x.log"
        log.write_bytes(b"")
        got: list[TailLine] = []
        with FileTailer(log) as tailer:
            tailer.start()
            for a, b in itertools.pairwise(sorted({min(c, len(data)) for c in cuts} | {0, len(data)})):
                with open(log, "ab") as fp:
                    fp.write(data[a:b])
                got += tailer.poll()
            if tailer.problem:  # judged binary from its first bytes: skipped whole, with one log line
                assert got == [] and "binary" in tailer.problem
                return
        want = [r.rstrip(b"\r").decode("utf-8", "replace").replace("\x00", "\ufffd") for r in data.split(b"\n")[:-1]]
        assert [x.text for x in got] == want
        fmt = C.detect_format(data[:65536], str(log))
        per_line = [(f.line, f.category, f.start, f.end) for x in got if (f := C.classify_line(x.text, x.line_no, fmt))]
        for line, _, start, end in per_line:
            assert 0 <= start <= end <= len(got[line].text)
        if b"\x00" not in data:
            assert per_line == [(f.line, f.category, f.start, f.end) for f in C.scan_file(log)]
