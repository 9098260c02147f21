"""Follower with real files, real watchfiles events and real writer processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest

from helpers.writers import ROTATING_LOGGER, run_writer
from hiccup.follow import Follower, _Target, is_text_like
from hiccup.tailer import TailLine

TIMEOUT = 10.0


class Collector:
    """Receives the follower's callbacks; tests wait on its contents, never on the clock."""

    def __init__(self) -> None:
        self.lines: list[TailLine] = []
        self.problems: list[tuple[Path, str]] = []
        self._changed = asyncio.Event()

    def on_lines(self, path: Path, lines: list[TailLine]) -> None:
        assert all(line.path == path for line in lines)
        self.lines.extend(lines)
        self._changed.set()

    def on_problem(self, path: Path, message: str) -> None:
        self.problems.append((path, message))
        self._changed.set()

    def texts(self, path: Path | None = None) -> list[str]:
        return [x.text for x in self.lines if path is None or x.path == path]

    async def wait(self, predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        async def until() -> None:
            while not predicate():
                self._changed.clear()
                # Follower state (watched files, directories) changes without a callback: re-check often.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.02)

        await asyncio.wait_for(until(), timeout)

    async def wait_lines(self, count: int, timeout: float = TIMEOUT) -> None:
        await self.wait(lambda: len(self.lines) >= count, timeout)


@contextlib.asynccontextmanager
async def following(targets: Sequence[str | Path], **kwargs: object) -> AsyncIterator[tuple[Follower, Collector]]:
    collector = Collector()
    follower = Follower(
        [str(t) for t in targets],
        on_lines=collector.on_lines,
        on_problem=collector.on_problem,
        **kwargs,  # type: ignore[arg-type]
    )
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    ready = asyncio.create_task(follower.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()
        raise AssertionError("follower never became ready")
    try:
        yield follower, collector
    finally:
        stop.set()
        await asyncio.wait_for(task, TIMEOUT)


def append(path: Path, data: str | bytes) -> None:
    with open(path, "ab") as f:
        f.write(data.encode() if isinstance(data, str) else data)


async def wait_process(proc: subprocess.Popen[bytes]) -> int:
    return await asyncio.wait_for(asyncio.to_thread(proc.wait), TIMEOUT)


async def test_lookback_then_appends_and_split_writes(tmp_path: Path) -> None:
    log = tmp_path / "claude.log"
    log.write_text("before start\n")
    async with following([log]) as (follower, got):
        assert got.texts() == ["before start"]
        assert follower.watched_files() == [log]
        append(log, '⎿  API Error: 500 {"type":"error"}\n')
        await got.wait_lines(2)
        append(log, "half a ")
        append(log, "line")
        await asyncio.sleep(0.1)  # give a wrong implementation the chance to deliver a fragment
        append(log, " and the rest\n")
        await got.wait_lines(3)
        assert got.texts() == ["before start", '⎿  API Error: 500 {"type":"error"}', "half a line and the rest"]
        assert [x.line_no for x in got.lines] == [0, 1, 2]
        assert follower.stats["lines"] == 3


async def test_no_lookback_starts_at_the_end(tmp_path: Path) -> None:
    log = tmp_path / "claude.log"
    log.write_text("old 0\nold 1\n")
    async with following([log], lookback=False) as (_, got):
        assert got.lines == []
        append(log, "new\n")
        await got.wait_lines(1)
        assert [(x.line_no, x.text) for x in got.lines] == [(2, "new")]


async def test_rotation_by_rename_with_a_real_writer(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    async with following([tmp_path / "*.log"], rotate_grace_s=0.5) as (follower, got):
        proc = run_writer(ROTATING_LOGGER, str(log))
        await got.wait_lines(100)
        assert await wait_process(proc) == 0
        assert got.texts() == [f"line {i}" for i in range(100)]
        assert [(x.generation, x.line_no) for x in got.lines] == [(0, i) for i in range(60)] + [
            (1, i) for i in range(40)
        ]
        assert follower.watched_files() == [log]  # app.log.1 is not followed twice


async def test_copytruncate(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("one\ntwo\n")
    async with following([log]) as (_, got):
        await got.wait_lines(2)
        shutil.copyfile(log, tmp_path / "app.log.1")
        with open(log, "r+b") as f:
            f.truncate(0)
        append(log, "three\n")
        await got.wait_lines(3)
        await asyncio.sleep(0.1)
        assert [(x.text, x.line_no, x.generation) for x in got.lines] == [
            ("one", 0, 0),
            ("two", 1, 0),
            ("three", 0, 1),
        ]


async def test_delete_and_recreate(tmp_path: Path) -> None:
    log = tmp_path / "session.jsonl"
    log.write_text('{"n": 0}\n')
    async with following([tmp_path], rotate_grace_s=0.1) as (follower, got):
        await got.wait_lines(1)
        log.unlink()
        await got.wait(lambda: follower.watched_files() == [])
        log.write_text('{"n": 1}\n')
        await got.wait_lines(2)
        assert [(x.text, x.line_no, x.generation) for x in got.lines] == [('{"n": 0}', 0, 0), ('{"n": 1}', 0, 1)]


async def test_gone_when_deleted_or_no_longer_followed(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("a0\n")
    b.write_text("b0\n")
    gone: list[tuple[Path, str]] = []
    on_gone = lambda path, why: gone.append((path, why))  # noqa: E731
    async with following([a, b], on_gone=on_gone, rotate_grace_s=0.1) as (follower, got):
        await got.wait_lines(2)
        a.unlink()
        await got.wait(lambda: gone == [(a, "deleted")])
        follower.set_paths([a])
        await got.wait(lambda: len(gone) == 2)
        a.write_text("a1\n")
        await got.wait_lines(3)
        assert gone == [(a, "deleted"), (b, "unfollowed")]
        assert [(x.text, x.generation) for x in got.lines] == [("a0", 0), ("b0", 0), ("a1", 1)]


async def test_cancelled_while_restarting_its_watch(tmp_path: Path) -> None:
    """A settings change restarts the watch; a server shutting down at that moment cancels `run()`, which must end
    rather than take the cancellation for the old watch's and go on forever."""
    async with following([tmp_path]) as (follower, _):
        stopping = asyncio.create_task(follower._stop_watch())
        await asyncio.sleep(0)  # inside the wait for the old watch to end
        stopping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(stopping, TIMEOUT)


async def test_burst_of_10000_appends(tmp_path: Path) -> None:
    log = tmp_path / "burst.log"
    log.write_text("")
    async with following([log]) as (_, got):
        proc = run_writer(
            """
            import os, sys
            fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
            for i in range(10_000):
                os.write(fd, f"line {i}\\n".encode())
            """,
            str(log),
        )
        await got.wait_lines(10_000)
        assert await wait_process(proc) == 0
        assert [(x.line_no, x.text) for x in got.lines] == [(i, f"line {i}") for i in range(10_000)]


async def test_file_growing_while_the_follower_starts(tmp_path: Path) -> None:
    log = tmp_path / "growing.log"
    log.write_text("")
    proc = run_writer(
        """
        import sys, time
        with open(sys.argv[1], "a", buffering=1) as f:
            for i in range(2000):
                f.write(f"line {i}\\n")
                if i % 50 == 0:
                    time.sleep(0.005)
        """,
        str(log),
    )
    await asyncio.wait_for(_until(lambda: log.stat().st_size > 1000), TIMEOUT)
    async with following([log]) as (_, got):
        await got.wait_lines(2000)
        assert await wait_process(proc) == 0
        assert [(x.line_no, x.text) for x in got.lines] == [(i, f"line {i}") for i in range(2000)]


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0.001)


async def test_new_files_in_a_watched_dir_and_matching_a_glob(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    projects = tmp_path / "projects"
    logs.mkdir()
    (projects / "-home-ann-app").mkdir(parents=True)
    async with following([logs, projects / "**" / "*.jsonl"]) as (follower, got):
        (logs / "new.log").write_text("in the dir\n")
        (logs / "picture.png").write_bytes(b"\x89PNG\r\n")  # not text-like: ignored
        (logs / ".hidden.log").write_text("hidden\n")  # hidden: ignored
        (projects / "-home-ann-app" / "s1.jsonl").write_text('{"glob": 1}\n')
        (projects / "-home-ann-app" / "notes.txt").write_text("not *.jsonl\n")
        await got.wait_lines(2)
        sub = projects / "-home-ann-app" / "s1" / "subagents"
        sub.mkdir(parents=True)  # a directory created later under a "**" glob
        (sub / "agent-1.jsonl").write_text('{"glob": 2}\n')
        await got.wait_lines(3)
        await asyncio.sleep(0.1)
        assert sorted(got.texts()) == ["in the dir", '{"glob": 1}', '{"glob": 2}']
        assert set(follower.watched_files()) == {
            logs / "new.log",
            projects / "-home-ann-app" / "s1.jsonl",
            sub / "agent-1.jsonl",
        }


async def test_targets_that_do_not_exist_yet(tmp_path: Path) -> None:
    config = tmp_path / "claude-config"
    transcripts = config / "projects" / "-work-app"
    session_log = tmp_path / "later" / "session.log"
    async with following([transcripts / "**" / "*.jsonl", session_log]) as (follower, got):
        assert follower.watched_dirs() == [tmp_path]  # the nearest existing ancestor
        transcripts.mkdir(parents=True)
        (transcripts / "abc.jsonl").write_text('{"type":"assistant"}\n')
        session_log.parent.mkdir()
        session_log.write_text("session\n")
        await got.wait_lines(2)
        assert sorted(got.texts()) == ["session", '{"type":"assistant"}']


async def test_a_watched_directory_removed_and_recreated(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_text("first\n")
    async with following([logs / "*.log"], rotate_grace_s=0.0) as (follower, got):
        await got.wait_lines(1)
        shutil.rmtree(logs)
        await got.wait(lambda: tmp_path in follower.watched_dirs())
        logs.mkdir()
        (logs / "a.log").write_text("second\n")
        await got.wait_lines(2)
        assert [(x.text, x.generation) for x in got.lines] == [("first", 0), ("second", 1)]


async def test_problems_are_reported_once_and_do_not_block(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "core.log").write_bytes(b"\x7fELF" + b"\x00" * 9000)
    os.mkfifo(logs / "pipe.log")
    (logs / "loop.log").symlink_to(logs / "loop.log")
    async with following([logs / "*.log"]) as (follower, got):
        assert sorted((p.name, m.split(" (")[0]) for p, m in got.problems) == [
            ("core.log", "binary file"),
            ("loop.log", "symlink loop"),
            ("pipe.log", "a FIFO, not a regular file"),
        ]
        (logs / "good.log").write_text("fine\n")
        append(logs / "core.log", b"more binary\n")
        await got.wait_lines(1)
        await asyncio.sleep(0.1)
        assert got.texts() == ["fine"]
        assert len(got.problems) == 3
        assert follower.stats["problems"] == 3
        assert set(follower.problems()) == {logs / "core.log", logs / "pipe.log", logs / "loop.log"}


async def test_add_remove_and_set_paths_at_run_time(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("a0\n")
    b.write_text("b0\n")
    async with following([a]) as (follower, got):
        assert got.texts() == ["a0"]
        follower.add(b)
        await got.wait_lines(2)  # b's lookback
        follower.remove(a)
        await got.wait(lambda: follower.watched_files() == [b])
        append(a, "a1\n")
        append(b, "b1\n")
        await got.wait_lines(3)
        await asyncio.sleep(0.1)
        assert got.texts() == ["a0", "b0", "b1"]
        follower.set_paths([tmp_path / "*.log"])
        await got.wait(lambda: follower.watched_files() == [a, b])
        # a is a fresh target's file again: its lookback is delivered once more; b keeps its offset.
        await got.wait_lines(5)
        assert got.texts()[3:] == ["a0", "a1"]


async def test_polling_fallback(tmp_path: Path) -> None:
    log = tmp_path / "nfs.log"
    log.write_text("")
    async with following([log], poll_fallback=True, poll_delay_ms=50) as (_, got):
        append(log, "over polling\n")
        await got.wait_lines(1)
        assert got.texts() == ["over polling"]


async def test_long_line_is_cut_and_counted(tmp_path: Path) -> None:
    log = tmp_path / "long.jsonl"
    log.write_text("")
    async with following([log], max_line_bytes=1000) as (follower, got):
        append(log, "x" * 5000 + "\nok\n")
        await got.wait_lines(2)
        assert [(len(x.text), x.cut) for x in got.lines] == [(1000, True), (2, False)]
        assert follower.stats["lines_cut"] == 1 and follower.stats["bytes_dropped"] == 4000


def test_target_parsing_and_matching(tmp_path: Path) -> None:
    glob = _Target.parse(str(tmp_path / "a[[]b" / "**" / "*.jsonl"))
    assert glob.is_glob and glob.root == str(tmp_path) and glob.depth is None
    assert glob.matches(str(tmp_path / "a[b" / "x.jsonl"))
    assert glob.matches(str(tmp_path / "a[b" / "d" / "e" / "x.jsonl"))
    assert not glob.matches(str(tmp_path / "a[b" / "x.jsonl.1"))
    flat = _Target.parse(str(tmp_path / "*.log"))
    assert flat.depth == 0 and not flat.recursive
    assert flat.matches(str(tmp_path / "x.log")) and not flat.matches(str(tmp_path / "d" / "x.log"))
    assert _Target.parse("~/x.log").path == os.path.expanduser("~/x.log")
    assert is_text_like("session") and is_text_like("a.JSONL") and not is_text_like("a.log.1")
    assert not is_text_like(".bashrc") and not is_text_like("x.gz")


@pytest.mark.parametrize("count", [200])
async def test_many_files_one_watch(tmp_path: Path, count: int) -> None:
    for i in range(count):
        (tmp_path / f"f{i:04d}.log").write_text("")
    async with following([tmp_path]) as (follower, got):
        assert len(follower.watched_files()) == count
        assert follower.stats["watched_dirs"] == 1 and follower.stats["watch_restarts"] == 1
        for i in range(0, count, 7):
            append(tmp_path / f"f{i:04d}.log", f"file {i}\n")
        expected = len(range(0, count, 7))
        await got.wait_lines(expected)
        assert sorted(got.texts()) == sorted(f"file {i}" for i in range(0, count, 7))


async def test_the_whole_lookback_is_delivered_before_ready(tmp_path: Path) -> None:
    """Reads go 64 KB at a time, but "ready" still means every file's recent history was handed over."""
    logs = [tmp_path / f"app{i}.log" for i in range(3)]
    for log in logs:
        log.write_text("".join(f"line {n} {'x' * 80}\n" for n in range(9000)))  # ~800 KB, inside the lookback
    async with following([tmp_path / "*.log"]) as (_, got):
        for log in logs:
            assert len(got.texts(log)) == 9000
