"""FileTailer against real files and real writer processes (no file-system mocks)."""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.writers import ROTATING_LOGGER, run_writer
from hiccup.tailer import CHUNK_BYTES, FileTailer, TailLine, sniff_problem

# What Claude Code's terminal output looks like when the backend fails.
ERROR_LINE = '⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}'


def append(path: Path, data: bytes | str) -> None:
    with open(path, "ab") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def poll_until(tailer: FileTailer, count: int, timeout: float = 10.0) -> list[TailLine]:
    """Poll (as the follower would on events) until `count` lines arrived; fail after `timeout`."""
    got: list[TailLine] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        got += tailer.poll()
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(got)} of {count} lines after {timeout}s")
        if len(got) < count:
            time.sleep(0.002)
    return got


@pytest.fixture
def tailer_factory() -> Iterator[type[FileTailer]]:
    made: list[FileTailer] = []

    class Tracked(FileTailer):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            made.append(self)

    yield Tracked
    for t in made:
        t.close()


def test_append_returns_complete_lines_with_positions(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    log = tmp_path / "claude.log"
    log.write_bytes(b"")
    t = tailer_factory(log)
    t.start()
    assert t.poll() == []
    append(log, f"hello\r\n{ERROR_LINE}\n")
    lines = t.poll()
    assert [(x.line_no, x.text, x.offset, x.generation) for x in lines] == [
        (0, "hello", 0, 0),
        (1, ERROR_LINE, 7, 0),
    ]
    assert lines[0].path == log
    assert t.poll() == []


def test_split_write_is_one_line(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    log = tmp_path / "split.log"
    log.write_bytes(b"")
    t = tailer_factory(log)
    t.start()
    half = len(ERROR_LINE.encode()) // 2  # mid-JSON
    raw = ERROR_LINE.encode() + b"\n"
    append(log, raw[:half])
    assert t.poll() == []
    append(log, raw[half:])
    assert [x.text for x in t.poll()] == [ERROR_LINE]
    # A multi-byte character split across writes is decoded whole.
    append(log, "⎿".encode()[:1])
    assert t.poll() == []
    append(log, "⎿".encode()[1:] + b"\n")
    assert [x.text for x in t.poll()] == ["⎿"]


def test_nul_and_invalid_utf8_are_replaced_one_char_per_byte(tmp_path: Path) -> None:
    log = tmp_path / "odd.log"
    # A stray NUL deep in a text file is not a binary file (the sniffer allows under 1 %).
    log.write_bytes(ERROR_LINE.encode() * 2 + b"\na\x00b\xffc\n")
    with FileTailer(log) as t:
        t.start()
        assert [x.text for x in t.poll()][1:] == ["a\ufffdb\ufffdc"]


def test_rotation_by_rename_with_a_real_writer(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    """The writer keeps its old fd after the rename for a moment, then reopens: every line once, in order."""
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    t = tailer_factory(log, rotate_grace_s=0.5)
    t.start()
    writer = run_writer(ROTATING_LOGGER, str(log))
    got = poll_until(t, 100)
    assert writer.wait(10) == 0
    assert [x.text for x in got] == [f"line {i}" for i in range(100)]
    old = [x for x in got if x.generation == 0]
    new = [x for x in got if x.generation == 1]
    assert [x.line_no for x in old] == list(range(60))
    assert [x.line_no for x in new] == list(range(40))
    assert new[0].offset == 0


def test_rotation_late_line_after_the_new_file_and_unterminated_tail(
    tmp_path: Path, tailer_factory: type[FileTailer]
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    t = tailer_factory(log, rotate_grace_s=0.2)
    t.start()
    old_fd = open(log, "ab", buffering=0)  # noqa: SIM115 - the writer's fd must outlive the rename
    try:
        old_fd.write(b"old 0\n")
        assert [x.text for x in t.poll()] == ["old 0"]
        os.rename(log, tmp_path / "app.log.1")
        log.write_bytes(b"new 0\n")
        assert [(x.text, x.generation) for x in t.poll()] == [("new 0", 1)]
        old_fd.write(b"old 1\nold 2 without newline")
        assert t.wake_at is not None
        late = t.poll()
        assert [(x.text, x.generation, x.line_no) for x in late] == [("old 1", 0, 1)]
    finally:
        old_fd.close()
    deadline = time.monotonic() + 5
    tail: list[TailLine] = []
    while t.wake_at is not None and time.monotonic() < deadline:
        time.sleep(max(0.0, t.wake_at - time.monotonic()))
        tail += t.poll()
    assert [(x.text, x.generation, x.line_no) for x in tail] == [("old 2 without newline", 0, 2)]
    assert t.wake_at is None


def test_copytruncate_restarts_without_rereporting(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"one\ntwo\n")
    t = tailer_factory(log)
    t.start()
    assert [x.text for x in t.poll()] == ["one", "two"]
    shutil.copyfile(log, tmp_path / "app.log.1")
    with open(log, "r+b") as f:
        f.truncate(0)
    append(log, "three\n")
    assert [(x.text, x.line_no, x.offset, x.generation) for x in t.poll()] == [("three", 0, 0, 1)]
    assert t.poll() == []


def test_truncate_then_regrow_past_offset_between_polls(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"short\n")
    t = tailer_factory(log)
    t.start()
    assert len(t.poll()) == 1
    log.write_bytes(b"a much longer first line\nsecond\n")  # same inode: open(..., "wb") truncates
    assert [(x.text, x.line_no, x.generation) for x in t.poll()] == [
        ("a much longer first line", 0, 1),
        ("second", 1, 1),
    ]


def test_delete_then_recreate(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    log = tmp_path / "session.jsonl"
    log.write_bytes(b'{"n": 0}\n')
    t = tailer_factory(log, rotate_grace_s=0.0)
    t.start()
    assert len(t.poll()) == 1
    log.unlink()
    assert t.poll() == []
    assert not t.following and t.problem is None
    assert t.lines_read == 1  # history survives
    log.write_bytes(b'{"n": 1}\n')
    lines = t.poll()
    assert [(x.text, x.line_no, x.generation) for x in lines] == [('{"n": 1}', 0, 1)]
    assert t.following


def test_burst_of_10000_appends_from_another_process(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    log = tmp_path / "burst.log"
    log.write_bytes(b"")
    t = tailer_factory(log)
    t.start()
    writer = run_writer(
        """
        import os, sys
        fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
        for i in range(10_000):
            os.write(fd, f"line {i} {'x' * (i % 97)}\\n".encode())
        """,
        str(log),
    )
    got = poll_until(t, 10_000)
    assert writer.wait(10) == 0
    assert [x.line_no for x in got] == list(range(10_000))
    assert all(x.text.startswith(f"line {x.line_no} ") for x in got)
    assert t.poll() == []


def test_file_growing_while_the_tailer_starts(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    log = tmp_path / "growing.log"
    log.write_bytes(b"")
    writer = run_writer(
        """
        import sys, time
        with open(sys.argv[1], "a", buffering=1) as f:
            for i in range(3000):
                f.write(f"line {i}\\n")
                if i % 100 == 0:
                    time.sleep(0.002)
        """,
        str(log),
    )
    deadline = time.monotonic() + 10
    while log.stat().st_size < 2000 and time.monotonic() < deadline:
        time.sleep(0.001)
    from_start = tailer_factory(log)  # lookback covers the whole file
    from_end = tailer_factory(log, lookback_bytes=0)
    from_start.start(lookback=True)
    from_end.start(lookback=False)
    everything = poll_until(from_start, 3000)
    assert writer.wait(10) == 0
    assert [x.text for x in everything] == [f"line {i}" for i in range(3000)]
    later = from_end.poll()
    assert later, "the writer wrote after the start"
    first = later[0].line_no
    assert first > 0
    assert [(x.line_no, x.text) for x in later] == [(i, f"line {i}") for i in range(first, 3000)]


def test_lookback_skips_to_a_line_start_and_keeps_true_line_numbers(
    tmp_path: Path, tailer_factory: type[FileTailer]
) -> None:
    log = tmp_path / "big.log"
    lines = [f"entry {i:07d} " + "y" * (i % 50) for i in range(120_000)]
    log.write_text("\n".join(lines) + "\n")
    size = log.stat().st_size
    assert size > 3 * CHUNK_BYTES
    t = tailer_factory(log, lookback_bytes=200_000)
    t.start(lookback=True)
    got = t.poll()
    assert got[-1].line_no == 119_999
    assert all(x.text == lines[x.line_no] for x in got)
    assert size - got[0].offset <= 200_000
    assert got[0].offset > 0 and log.read_bytes()[got[0].offset - 1 : got[0].offset] == b"\n"
    t2 = tailer_factory(log)
    t2.start(lookback=False)
    assert t2.poll() == []
    append(log, "next\n")
    assert [(x.line_no, x.text) for x in t2.poll()] == [(120_000, "next")]


def test_lookback_inside_one_huge_line(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    log = tmp_path / "huge.log"
    log.write_bytes(b"first\n" + b"z" * 50_000)
    t = tailer_factory(log, lookback_bytes=1000)
    t.start(lookback=True)
    assert t.poll() == []
    append(log, "zzz\nafter\n")
    assert [(x.line_no, x.text) for x in t.poll()] == [(2, "after")]


def test_long_line_without_newline_stays_bounded(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    log = tmp_path / "long.jsonl"
    log.write_bytes(b"")
    limit = 1_000_000
    t = tailer_factory(log, max_line_bytes=limit)
    t.start()
    piece = b"q" * CHUNK_BYTES
    tracemalloc.start()
    try:
        for _ in range(20):
            append(log, piece)
            assert t.poll() == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit + 4 * CHUNK_BYTES, peak
    append(log, "\nnext\n")
    cut, nxt = t.poll()
    assert cut.cut and len(cut.text) == limit and cut.line_no == 0
    assert (nxt.text, nxt.line_no, nxt.cut, nxt.offset) == ("next", 1, False, 20 * CHUNK_BYTES + 1)
    assert t.lines_cut == 1 and t.bytes_dropped == 20 * CHUNK_BYTES - limit


def expect_one_warning(caplog: pytest.LogCaptureFixture, t: FileTailer, text: str) -> None:
    for _ in range(3):
        assert t.poll() == []
    assert t.problem is not None and text in t.problem
    warnings = [r for r in caplog.records if r.name == "hiccup.tailer" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert str(t.path) in warnings[0].getMessage()


def test_directory_where_a_file_was_expected(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, tailer_factory: type[FileTailer]
) -> None:
    path = tmp_path / "claude.log"
    path.mkdir()
    t = tailer_factory(path)
    t.start()
    expect_one_warning(caplog, t, "directory")
    path.rmdir()
    path.write_text("ok\n")
    assert [x.text for x in t.poll()] == ["ok"]
    assert t.problem is None


def test_fifo_is_skipped_without_blocking(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, tailer_factory: type[FileTailer]
) -> None:
    path = tmp_path / "pipe.log"
    os.mkfifo(path)
    t = tailer_factory(path)
    t.start()
    expect_one_warning(caplog, t, "FIFO")


def test_symlink_loop(tmp_path: Path, caplog: pytest.LogCaptureFixture, tailer_factory: type[FileTailer]) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.symlink_to(b)
    b.symlink_to(a)
    t = tailer_factory(a)
    t.start()
    expect_one_warning(caplog, t, "symlink loop")


def test_binary_file_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, tailer_factory: type[FileTailer]
) -> None:
    path = tmp_path / "core.out"
    path.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + bytes(range(256)) * 8)
    t = tailer_factory(path)
    t.start()
    expect_one_warning(caplog, t, "binary")
    append(path, "API Error: 500\n")  # still the same binary file: no second message, nothing read
    assert t.poll() == []


def test_binary_content_arriving_in_an_empty_file(tmp_path: Path, tailer_factory: type[FileTailer]) -> None:
    path = tmp_path / "later.log"
    path.write_bytes(b"")
    t = tailer_factory(path)
    t.start()
    append(path, b"\x00\x01\x02\x03" * 100 + b"\n")
    assert t.poll() == []
    assert t.problem is not None and "binary" in t.problem


def test_sniff() -> None:
    assert sniff_problem(b"\x1b[31m" + ERROR_LINE.encode() + b"\r\n") is None
    assert sniff_problem(b"\x00" * 5000 + b"text after a copytruncate hole\n") is None
    assert sniff_problem("ünïcödé latin text\n".encode()) is None
    assert sniff_problem("x".encode("utf-16")) is not None
    assert sniff_problem(os.urandom(4096)) is not None


def _tail_once(path: Path) -> tuple[str | None, int]:
    """Poll a tailer three times; return its problem and how many warnings it logged."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("hiccup.tailer")
    logger.addHandler(handler)
    try:
        with FileTailer(path) as t:
            t.start()
            assert t.poll() == [] and t.poll() == [] and t.poll() == []
            return t.problem, sum(r.levelno == logging.WARNING for r in records)
    finally:
        logger.removeHandler(handler)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX permissions")
def test_permission_denied() -> None:
    """chmod 000 does not stop root; as root, a forked child drops to `nobody` before tailing."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="hiccup-perm-"))
    try:
        base.chmod(0o755)
        secret = base / "secret.log"
        secret.write_text("API Error: 500\n")
        secret.chmod(0o000)
        if os.geteuid() != 0:
            assert _tail_once(secret) == ("permission denied", 1)
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: no pytest machinery from here on, always _exit
            status = 1
            try:
                os.close(read_end)
                os.setgid(65534)
                os.setuid(65534)
                problem, warnings = _tail_once(secret)
                os.write(write_end, f"{problem}|{warnings}".encode())
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as r:
            answer = r.read().decode()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert answer == "permission denied|1"
    finally:
        shutil.rmtree(base)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=40), max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
)
def test_any_write_split_gives_the_same_lines(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], cuts: list[int]
) -> None:
    data = "".join(f"{x}\n" for x in lines).encode()
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    log = tmp_path_factory.mktemp("split") / "x.log"
    log.write_bytes(b"")
    got: list[TailLine] = []
    with FileTailer(log, max_line_bytes=64) as t:
        t.start()
        for a, b in itertools.pairwise(points):
            append(log, data[a:b])
            got += t.poll()
    assert [x.line_no for x in got] == list(range(len(lines)))
    for line, want in zip(got, lines, strict=True):
        raw = want.encode()
        assert line.cut == (len(raw) > 64)
        assert line.text == raw[:64].decode("utf-8", "replace")
