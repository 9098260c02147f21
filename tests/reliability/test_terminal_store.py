"""Saved terminal transcripts: read back as written, redacted, bounded, private, and never a crash."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hiccup.terminal_store import MARK, TerminalStore

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ERR = '  ⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}\n'
KEY = "sk-ant-api03-FAKEfakeFAKEfakeFAKEfakeFAKEfake0123456789-abcdefAA"


def text_of(saved: list) -> str:  # type: ignore[type-arg]
    return "".join(t for _, t in saved[0].segments)


def test_round_trip_keeps_text_and_times(tmp_path: Path) -> None:
    store = TerminalStore(tmp_path / "t", "/ws")
    store.append("12", "claude 🤖", "✻ Thinking…\n", T0)
    store.append("12", "claude 🤖", ERR, T0 + timedelta(seconds=90))
    store.append("12", "claude 🤖", ERR, T0 + timedelta(seconds=90, milliseconds=300))  # same second: no mark
    (saved,) = TerminalStore(tmp_path / "t", "/ws").load()
    assert (saved.terminal_id, saved.name) == ("12", "claude 🤖")
    assert saved.segments == [(T0, "✻ Thinking…\n"), (T0 + timedelta(seconds=90), ERR + ERR)]


def test_other_workspace_is_not_loaded(tmp_path: Path) -> None:
    TerminalStore(tmp_path, "/a").append("1", "claude", ERR, T0)
    assert TerminalStore(tmp_path, "/b").load() == []
    assert len(TerminalStore(tmp_path, "/a").load()) == 1


def test_secrets_never_reach_the_disk(tmp_path: Path) -> None:
    store = TerminalStore(tmp_path, "")
    store.append("1", "claude", f"$ export ANTHROPIC_API_KEY={KEY}\nAuthorization: Bearer abcdefghijklmnop1234\n"
                                f"x-api-key: {KEY}\n", T0)
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"FAKEfake" not in data and b"abcdefghijklmnop1234" not in data
    assert data.count(b"[REDACTED]") == 3


def test_files_are_private(tmp_path: Path) -> None:
    os.umask(0o022)
    store = TerminalStore(tmp_path / "cache" / "terminals", "")
    store.append("1", "claude", ERR, T0)
    directory = tmp_path / "cache" / "terminals"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert [stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()] == [0o600]


def test_per_terminal_cap_keeps_the_newest_lines(tmp_path: Path) -> None:
    store = TerminalStore(tmp_path, "", max_file_bytes=64 * 1024)
    for i in range(5000):
        store.append("1", "claude", f"line {i:05d} " + "x" * 80 + "\n", T0 + timedelta(seconds=i))
    (path,) = tmp_path.iterdir()
    assert path.stat().st_size <= 64 * 1024
    text = text_of(TerminalStore(tmp_path, "").load())
    assert text.endswith("line 04999 " + "x" * 80 + "\n")
    assert "line 00000" not in text
    # whole lines only, each with the time it was seen
    (saved,) = TerminalStore(tmp_path, "").load()
    assert all(t.endswith("\n") and t.startswith("line ") for _, t in saved.segments)
    assert saved.segments[-1][0] == T0 + timedelta(seconds=4999)


def test_total_cap_drops_the_least_recently_written(tmp_path: Path) -> None:
    store = TerminalStore(tmp_path, "", max_file_bytes=40_000, max_total_bytes=100_000)
    for terminal in range(10):
        for _ in range(300):
            store.append(str(terminal), "claude", "y" * 99 + "\n", T0)
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) <= 100_000
    assert {s.terminal_id for s in TerminalStore(tmp_path, "").load()} >= {"9"}
    assert store.evicted_files >= 7


def test_old_files_are_removed_on_load(tmp_path: Path) -> None:
    TerminalStore(tmp_path, "").append("1", "claude", ERR, T0)
    (path,) = tmp_path.iterdir()
    week_ago = time.time() - 8 * 24 * 3600
    os.utime(path, (week_ago, week_ago))
    assert TerminalStore(tmp_path, "").load() == []
    assert list(tmp_path.iterdir()) == []


def test_partial_last_line_is_dropped(tmp_path: Path) -> None:
    TerminalStore(tmp_path, "").append("1", "claude", ERR, T0)
    (path,) = tmp_path.iterdir()
    with path.open("ab") as fp:
        fp.write(b"  \xe2\x8e\xbf  API Err")  # the writer died mid-line
    assert text_of(TerminalStore(tmp_path, "").load()) == ERR


def test_marker_character_in_text_cannot_forge_a_header(tmp_path: Path) -> None:
    store = TerminalStore(tmp_path, "")
    store.append("1", "claude", f"{MARK}@1999-01-01T00:00:00+00:00\n{MARK}hiccup-terminal {{}}\n", T0)
    (saved,) = TerminalStore(tmp_path, "").load()
    assert saved.segments == [(T0, "@1999-01-01T00:00:00+00:00\nhiccup-terminal {}\n")]


@given(st.lists(st.text(max_size=200), min_size=1, max_size=20))
def test_any_text_round_trips_line_for_line(chunks: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        store = TerminalStore(Path(d), "")
        expected = []
        for i, chunk in enumerate(chunks):
            text = chunk.replace("\r", "").replace(MARK, "") + "\n"
            store.append("1", "c", text, T0 + timedelta(seconds=i))
            expected.append(text)
        got = text_of(TerminalStore(Path(d), "").load())
        want = "".join(expected).encode("utf-8", "replace").decode("utf-8")
        # redaction may mask secret-shaped text; nothing else changes
        assert got.count("\n") == want.count("\n")
        assert got == want or "[REDACTED]" in got


@given(st.binary(max_size=3000))
def test_garbage_files_are_skipped_not_fatal(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        store = TerminalStore(Path(d), "")
        store.append("1", "c", "ok\n", T0)
        (path,) = Path(d).iterdir()
        path.write_bytes(data)
        saved = TerminalStore(Path(d), "").load()
        assert len(saved) <= 1


# The write fails halfway (disk full): RLIMIT_FSIZE in a child makes write() stop at the limit with EFBIG.
_DISK_FULL_CHILD = """
import resource, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from hiccup.terminal_store import TerminalStore
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
store = TerminalStore(Path(sys.argv[1]), "")
store.append("1", "claude", "first line\\n", datetime(2026, 1, 1, tzinfo=UTC))
hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
resource.setrlimit(resource.RLIMIT_FSIZE, (200, hard))
store.append("1", "claude", "x" * 500 + "\\n", datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
assert store.problem and "too large" in store.problem, store.problem
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
store.append("1", "claude", "after the disk was freed\\n", datetime(2026, 1, 1, 0, 2, tzinfo=UTC))
assert store.problem is None
"""


def test_disk_full_write_leaves_no_half_line(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-c", _DISK_FULL_CHILD, str(tmp_path)], check=True, timeout=30,
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))
    assert text_of(TerminalStore(tmp_path, "").load()) == "first line\nafter the disk was freed\n"
