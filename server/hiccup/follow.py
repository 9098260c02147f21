"""Follow many files, globs and directories with one file-system watcher, handing new lines to a callback.

Why it is built this way:

- One `watchfiles.awatch` over the set of *directories* that can hold a followed file, never the files
  themselves: watching a file, watchfiles reports `deleted` after a rename + create and then nothing.
  The watch is non-recursive over an explicit directory list, so following `/home/ann/app.log` does not
  put a recursive watch on `/home/ann`; directories created later under a recursive target are added by
  restarting the watch (cheap, and rare).
- Targets that do not exist yet (`~/.claude/projects/<dir>/` before the first session) are watched
  through their nearest existing ancestor and picked up when created.
- Idle cost does not grow with the number of files: no per-file loop; the watcher thread wakes every
  `step_ms`, and a safety re-stat of every file runs only every `resync_s` seconds (it catches events
  a network file system never sends).
- Each file is read by a `FileTailer`, which owns offsets, rotation, truncation and line numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from watchfiles import Change, awatch

from hiccup.tailer import FileTailer, TailLine

logger = logging.getLogger("hiccup.follow")

# Inside a followed directory, these are the files worth reading; rotated copies ("app.log.1",
# "app.log.2026-11-25") and compressed ones are left alone so a rotation is not read twice.
TEXT_SUFFIXES = frozenset({".log", ".txt", ".jsonl", ".out"})
# Never descended into when walking a followed directory or a "**" glob.
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
MAX_WATCHED_DIRS = 4096
# Per file per turn, so one huge backlog does not starve the others, what one turn holds as lines stays small,
# and the event loop is never held for long: 64 KB of error-dense log (~300 errors) takes ~50 ms to classify
# and record, while a language server should answer a hover within 100 ms whatever a followed log is doing.
_POLL_BUDGET_BYTES = 64 << 10
_LOOKBACK_TURNS = 32
_GLOB_MAGIC = re.compile(r"[*?[]")

LinesCallback = Callable[[Path, list[TailLine]], None]
ProblemCallback = Callable[[Path, str], None]
# "deleted": the path names no file any more (deleted, or renamed away and not yet replaced); the
# tailer stays and a file that comes back is a new generation. "unfollowed": no target matches it now.
GoneCallback = Callable[[Path, str], None]


def is_text_like(name: str) -> bool:
    """Whether a file found inside a followed directory should be followed."""
    if name.startswith("."):
        return False
    suffix = os.path.splitext(name)[1]
    return suffix == "" or suffix.lower() in TEXT_SUFFIXES


def _segment_regex(segment: str) -> str:
    """One path segment of a glob as a regex that never crosses a separator."""
    sep = re.escape(os.sep)
    out: list[str] = []
    i = 0
    while i < len(segment):
        c = segment[i]
        if c == "*":
            out.append(f"[^{sep}]*")
        elif c == "?":
            out.append(f"[^{sep}]")
        elif c == "[":
            close = segment.find("]", i + 2)
            if close < 0:
                out.append(re.escape(c))
            else:
                body = segment[i + 1 : close]
                negate = body.startswith("!")
                body = body[1:] if negate else body
                body = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
                out.append(f"[{'^' if negate else ''}{body}]")
                i = close
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass
class _Target:
    """One path, directory or glob the user asked to follow."""

    spec: str
    path: str  # absolute, "~" expanded
    is_glob: bool
    root: str  # the deepest directory every match lives under
    depth: int | None  # directory levels below root that can hold matches; None: any
    regex: re.Pattern[str] | None = None
    is_dir: bool = False  # literal targets: what the path was at the last rescan

    @classmethod
    def parse(cls, spec: str | os.PathLike[str]) -> _Target:
        text = os.fspath(spec)
        path = os.path.abspath(os.path.expanduser(text))
        if not _GLOB_MAGIC.search(path) or os.path.lexists(path):
            return cls(text, path, False, path, None)
        parts = path.split(os.sep)
        literal = 0
        while literal < len(parts) and not _GLOB_MAGIC.search(parts[literal]):
            literal += 1
        root = os.sep.join(parts[:literal]) or os.sep
        rest = parts[literal:]
        sep = re.escape(os.sep)
        pattern = "^" + re.escape(root.rstrip(os.sep) + os.sep)
        for i, segment in enumerate(rest):
            last = i == len(rest) - 1
            if segment == "**":
                pattern += ".*" if last else f"(?:[^{sep}]+{sep})*"
            else:
                pattern += _segment_regex(segment) + ("" if last else sep)
        depth = None if "**" in rest else len(rest) - 1
        return cls(text, path, True, root, depth, re.compile(pattern + "$"))

    def matches(self, path: str) -> bool:
        if self.regex is not None:
            return self.regex.match(path) is not None
        if path == self.path:
            return True
        if not self.is_dir or not path.startswith(self.path.rstrip(os.sep) + os.sep):
            return False
        relative = path[len(self.path.rstrip(os.sep)) + 1 :].split(os.sep)
        return is_text_like(relative[-1]) and not any(p.startswith(".") or p in SKIPPED_DIRS for p in relative)

    @property
    def recursive(self) -> bool:
        return self.is_dir or (self.is_glob and self.depth != 0)

    def leads_here(self, directory: str) -> bool:
        """`directory` is the root or one of its ancestors: its creation may make the target exist."""
        return self.root == directory or self.root.startswith(directory.rstrip(os.sep) + os.sep)


@dataclass
class _Scan:
    files: dict[str, _Target] = field(default_factory=dict)  # matched file → the first target matching it
    dirs: set[str] = field(default_factory=set)


def _nearest_existing(path: str) -> str:
    current = path
    while not os.path.isdir(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current


def _walk(root: str, depth: int | None) -> Iterator[tuple[str, list[str]]]:
    """(directory, file names) under root down to `depth` levels, skipping hidden and junk directories."""
    stack = [(root, 0)]
    while stack:
        directory, level = stack.pop()
        files: list[str] = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if (depth is None or level < depth) and not (
                                entry.name.startswith(".") or entry.name in SKIPPED_DIRS
                            ):
                                stack.append((entry.path, level + 1))
                        else:
                            files.append(entry.name)
                    except OSError:
                        continue
        except OSError:
            continue
        yield directory, files


class Follower:
    """Follows files, directories and globs; calls `on_lines` with each file's new complete lines.

    Callbacks run in the event loop thread, in file order, and must not block for long; `add`, `remove`
    and `set_paths` are called from that thread too. Line numbers and generations are the
    `FileTailer`'s. After a rotation, lines of the old generation can still arrive (the writer's last
    lines, during the grace period) after the first lines of the new one; they carry the old generation
    and the original path, though the file now has another name or none. So a consumer keeping editor
    diagnostics should position only lines of the newest generation it has seen for a path, and may still
    count the older ones as evidence of a failure. `on_gone(path, why)` says when a followed path
    stops naming a file ("deleted") or stops being followed ("unfollowed"), so such a consumer can
    withdraw positions that no longer exist.
    """

    def __init__(
        self,
        paths_or_globs: Sequence[str | os.PathLike[str]],
        *,
        on_lines: LinesCallback,
        on_problem: ProblemCallback | None = None,
        on_gone: GoneCallback | None = None,
        debounce_ms: int = 20,
        step_ms: int = 10,
        poll_fallback: bool = False,
        poll_delay_ms: int = 250,
        lookback: bool = True,
        lookback_max_age_s: float | None = None,
        lookback_bytes: int = 1_000_000,
        max_line_bytes: int = 1_000_000,
        rotate_grace_s: float = 1.0,
        resync_s: float = 5.0,
    ) -> None:
        self.on_lines = on_lines
        self.on_problem = on_problem
        self.on_gone = on_gone
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self.poll_fallback = poll_fallback
        self.poll_delay_ms = poll_delay_ms
        self.lookback = lookback
        self.lookback_max_age_s = lookback_max_age_s
        self.lookback_bytes = lookback_bytes
        self.max_line_bytes = max_line_bytes
        self.rotate_grace_s = rotate_grace_s
        self.resync_s = resync_s
        self.ready = asyncio.Event()  # set once the initial lines were delivered and the watch is live
        self._counters: dict[str, int] = {
            "lines": 0,
            "lines_cut": 0,
            "problems": 0,
            "events": 0,
            "rescans": 0,
            "watch_restarts": 0,
        }
        self._targets: dict[str, _Target] = {}
        self._fresh: set[str] = set()  # targets added since the last rescan: their files get the lookback
        self._tailers: dict[str, FileTailer] = {}
        self._dirs: list[str] = []
        self._dir_set: set[str] = set()
        self._dir_alias: dict[str, str] = {}  # realpath → watched spelling, for platforms reporting real paths
        self._queue: asyncio.Queue[tuple[str, object]] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._watch_stop: asyncio.Event | None = None
        self._watch_failures = 0
        self._rewatch_needed = False
        self._targets_changed = False
        self._backlog: set[str] = set()
        self._set_targets(paths_or_globs)

    # -- public API -------------------------------------------------------------------------------

    def add(self, path_or_glob: str | os.PathLike[str]) -> None:
        """Follow another path, directory or glob (its existing files get the lookback)."""
        target = _Target.parse(path_or_glob)
        if target.path not in self._targets:
            self._targets[target.path] = target
            self._fresh.add(target.path)
            self._request_rescan()

    def remove(self, path_or_glob: str | os.PathLike[str]) -> None:
        """Stop following a target given before; files no other target matches are closed."""
        target = _Target.parse(path_or_glob)
        if self._targets.pop(target.path, None) is not None:
            self._fresh.discard(target.path)
            self._targets_changed = True
            self._request_rescan()

    def set_paths(self, paths_or_globs: Sequence[str | os.PathLike[str]]) -> None:
        """Replace the targets (a settings change); files still matched keep their offsets."""
        self._set_targets(paths_or_globs)
        self._request_rescan()

    @property
    def stats(self) -> dict[str, int]:
        """files (followed now), watched_dirs, lines, lines_cut, bytes_dropped, problems (reported),
        events, rescans, watch_restarts. A fresh dict on each access."""
        return {
            **self._counters,
            "files": sum(t.following for t in self._tailers.values()),
            "watched_dirs": len(self._dirs),
            "bytes_dropped": sum(t.bytes_dropped for t in self._tailers.values()),
        }

    def watched_files(self) -> list[Path]:
        """Files currently open and followed (not the deleted, unreadable or binary ones)."""
        return sorted(Path(p) for p, t in self._tailers.items() if t.following)

    def watched_dirs(self) -> list[Path]:
        return [Path(d) for d in self._dirs]

    def problems(self) -> dict[Path, str]:
        return {Path(p): t.problem for p, t in self._tailers.items() if t.problem is not None}

    async def run(self, stop_event: asyncio.Event) -> None:
        """Follow until `stop_event` is set. Delivers the lookback first, then sets `ready`."""
        self._queue = asyncio.Queue()
        stopper = asyncio.create_task(self._forward_stop(stop_event))
        try:
            self._rescan()
            await self._sync_watch()
            await self._poll_all()
            # the lookback is at most ~1 MB a file, read 64 KB a turn: deliver it before saying "ready", but never
            # wait on a file that grows as fast as it is read
            for _ in range(_LOOKBACK_TURNS):
                if not self._backlog:
                    break
                await self._poll_each(self._due())
            self.ready.set()
            next_resync = time.monotonic() + self.resync_s
            next_restat = time.monotonic() + self._restat_s()
            me = asyncio.current_task()
            while not stop_event.is_set():
                if me is not None and me.cancelling():
                    # Python 3.11's wait_for drops a cancellation that arrives with the item it waited for
                    # (an event or a rescan request while the server shuts down): honour it here.
                    raise asyncio.CancelledError
                now = time.monotonic()
                if now >= next_resync:
                    self._rescan()
                    next_resync = now + self.resync_s
                if now >= next_restat:
                    await self._poll_each(list(self._tailers))
                    next_restat = now + self._restat_s()
                await self._sync_watch()
                try:
                    kind, payload = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    if self._backlog:
                        await self._poll_each(self._due())
                        continue
                    try:
                        kind, payload = await asyncio.wait_for(
                            self._queue.get(), self._next_timeout(min(next_resync, next_restat))
                        )
                    except TimeoutError:
                        await self._poll_each(self._due())
                        continue
                if kind == "stop":
                    break
                await self._handle(kind, payload)
        finally:
            stopper.cancel()
            await self._stop_watch()
            for tailer in self._tailers.values():
                tailer.close()
            # A later run() starts over: every target's files get their lookback again.
            self._tailers.clear()
            self._backlog.clear()
            self._fresh = set(self._targets)
            self._dirs, self._dir_set = [], set()
            self._queue = None
            self.ready.clear()

    # -- targets and scanning ---------------------------------------------------------------------

    def _set_targets(self, specs: Iterable[str | os.PathLike[str]]) -> None:
        targets: dict[str, _Target] = {}
        for spec in specs:
            target = _Target.parse(spec)
            targets.setdefault(target.path, target)
        self._fresh = {p for p in targets if p not in self._targets} | (self._fresh & targets.keys())
        self._targets = targets
        self._targets_changed = True

    def _request_rescan(self) -> None:
        if self._queue is not None:
            self._queue.put_nowait(("rescan", None))

    def _scan(self) -> _Scan:
        scan = _Scan()
        for target in self._targets.values():
            if not target.is_glob:
                target.is_dir = os.path.isdir(target.path)
                if not target.is_dir:
                    if os.path.lexists(target.path):
                        scan.files.setdefault(target.path, target)
                    scan.dirs.add(_nearest_existing(os.path.dirname(target.path)))
                    continue
            if not os.path.isdir(target.root):
                scan.dirs.add(_nearest_existing(target.root))
                continue
            for directory, names in _walk(target.root, target.depth if target.is_glob else None):
                scan.dirs.add(directory)
                prefix = directory.rstrip(os.sep) + os.sep
                for name in names:
                    path = prefix + name
                    if path not in self._tailers and target.matches(path):
                        scan.files.setdefault(path, target)
        return scan

    def _rescan(self) -> None:
        """Bring the tailers and the watched directories in line with the targets and the disk."""
        self._counters["rescans"] += 1
        scan = self._scan()
        fresh = self._fresh
        self._fresh = set()
        for path, target in scan.files.items():
            if path not in self._tailers:
                self._new_tailer(path, initial=target.path in fresh)
        if self._targets_changed:
            self._targets_changed = False
            for path in [p for p in self._tailers if self._matching_target(p) is None]:
                self._tailers.pop(path).close()
                self._backlog.discard(path)
                self._report_gone(path, "unfollowed")
        dirs = sorted(scan.dirs, key=lambda d: (d.count(os.sep), d))
        if len(dirs) > MAX_WATCHED_DIRS:
            logger.warning("%d directories to watch; watching the %d shallowest only", len(dirs), MAX_WATCHED_DIRS)
            dirs = dirs[:MAX_WATCHED_DIRS]
        if dirs != self._dirs:
            self._dirs = dirs
            self._dir_set = set(dirs)
            self._dir_alias = {}
            for d in dirs:
                real = os.path.realpath(d)
                if real != d:
                    self._dir_alias[real] = d
            self._rewatch_needed = True

    def _new_tailer(self, path: str, *, initial: bool) -> FileTailer:
        tailer = FileTailer(
            path,
            max_line_bytes=self.max_line_bytes,
            lookback_bytes=self.lookback_bytes,
            rotate_grace_s=self.rotate_grace_s,
        )
        # A file that appears while we run is new: read it from its start (the lookback covers it).
        lookback = self.lookback or not initial
        if lookback and initial and self.lookback_max_age_s is not None:
            with contextlib.suppress(OSError):
                lookback = time.time() - os.stat(path).st_mtime <= self.lookback_max_age_s
        tailer.start(lookback=lookback)
        self._tailers[path] = tailer
        if tailer.problem is not None:
            self._report_problem(path, tailer.problem)
        return tailer

    def _matching_target(self, path: str) -> _Target | None:
        for target in self._targets.values():
            if target.matches(path):
                return target
        return None

    # -- watching ---------------------------------------------------------------------------------

    async def _forward_stop(self, stop_event: asyncio.Event) -> None:
        await stop_event.wait()
        if self._queue is not None:
            self._queue.put_nowait(("stop", None))

    def _restat_s(self) -> float:
        """How often every file is looked at without an event.

        watchfiles' polling watcher compares modification times in whole seconds, so a write in the
        same second as its previous look goes unreported: with `poll_fallback`, re-stat every second.
        """
        return min(self.resync_s, 1.0) if self.poll_fallback else self.resync_s

    async def _sync_watch(self) -> None:
        """Restart the watch if the directory set changed, then catch up on what no watch covered."""
        for _ in range(3):  # directories appearing while we restart: a few rounds, the resync does the rest
            if not self._rewatch_needed:
                return
            self._rewatch_needed = False
            await self._restart_watch()
            self._rescan()
            await self._poll_all()

    async def _restart_watch(self) -> None:
        await self._stop_watch()
        if not self._dirs or self._queue is None:
            return
        self._counters["watch_restarts"] += 1
        stop = asyncio.Event()
        self._watch_stop = stop
        self._watch_task = asyncio.create_task(self._watch(list(self._dirs), stop, self._queue))
        # awatch sets up its watches synchronously in the task's first step; let it run so a write that
        # follows `ready` is seen.
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    async def _stop_watch(self) -> None:
        task, stop = self._watch_task, self._watch_stop
        self._watch_task = self._watch_stop = None
        if task is None or stop is None:
            return
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=max(1.0, self.step_ms / 100))
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # we are cancelled ourselves (the event loop closing): swallowing it would never end run()
        except Exception:
            logger.debug("watch task ended with an error", exc_info=True)

    async def _watch(self, dirs: list[str], stop: asyncio.Event, queue: asyncio.Queue[tuple[str, object]]) -> None:
        try:
            async for changes in awatch(
                *dirs,
                watch_filter=None,
                debounce=self.debounce_ms,
                step=self.step_ms,
                stop_event=stop,
                recursive=False,
                force_polling=self.poll_fallback,
                poll_delay_ms=self.poll_delay_ms,
                ignore_permission_denied=True,
            ):
                queue.put_nowait(("changes", changes))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # watchfiles raises OSError/RuntimeError variants from its Rust side
            if not stop.is_set():
                queue.put_nowait(("watch_failed", exc))

    # -- the loop's work --------------------------------------------------------------------------

    async def _handle(self, kind: str, payload: object) -> None:
        if kind == "changes":
            self._watch_failures = 0
            await self._poll_each(self._on_changes(cast("set[tuple[Change, str]]", payload)))
        elif kind == "rescan":
            self._rescan()
            await self._poll_all()
        elif kind == "watch_failed":
            await self._on_watch_failure(payload)

    async def _on_watch_failure(self, exc: object) -> None:
        self._watch_failures += 1
        text = str(exc)
        if not self.poll_fallback and ("limit" in text.lower() or "too many" in text.lower()):
            logger.warning("file watching failed (%s); falling back to polling every %d ms", text, self.poll_delay_ms)
            self.poll_fallback = True
        elif self._watch_failures == 1:
            logger.warning("file watching failed (%s); retrying", text)
        # A watched directory vanished between the scan and the watch, most likely: back off, rescan.
        await asyncio.sleep(min(self.resync_s, 0.05 * 2**self._watch_failures))
        self._rescan()
        self._rewatch_needed = True

    def _on_changes(self, changes: set[tuple[Change, str]]) -> list[str]:
        """Bookkeeping for one batch of events; returns the files to read."""
        self._counters["events"] += len(changes)
        dirty: list[str] = []
        rescan = False
        for change, raw in changes:
            path = self._unalias(raw)
            if path in self._tailers:
                dirty.append(path)
                continue
            if change != Change.deleted:
                target = self._matching_target(path)
                if target is not None and os.path.isfile(path):
                    self._new_tailer(path, initial=False)
                    dirty.append(path)
                    continue
            if change != Change.modified and self._changes_layout(change, path):
                rescan = True
        if rescan:
            self._rescan()
        return dirty

    def _changes_layout(self, change: Change, path: str) -> bool:
        """A watched directory went away, or a directory appeared where a target can now live."""
        if path in self._dir_set or any(t.leads_here(path) for t in self._targets.values()):
            return True
        if change != Change.added or not os.path.isdir(path):
            return False
        return any(t.recursive and path.startswith(t.root.rstrip(os.sep) + os.sep) for t in self._targets.values())

    def _unalias(self, path: str) -> str:
        if self._dir_alias:
            parent = os.path.dirname(path)
            if parent in self._dir_alias:
                return os.path.join(self._dir_alias[parent], os.path.basename(path))
        return path

    def _next_timeout(self, next_resync: float) -> float:
        deadline = next_resync
        for tailer in self._tailers.values():
            wake = tailer.wake_at
            if wake is not None:
                # Writes to a rotated file raise no event for our path: look at it a few times a second.
                deadline = min(deadline, wake, time.monotonic() + 0.05)
        return max(0.0, deadline - time.monotonic())

    def _due(self) -> list[str]:
        return [p for p, t in self._tailers.items() if t.wake_at is not None or p in self._backlog]

    async def _poll_all(self) -> None:
        """Poll every file: a start-up lookback over many files (1 MB each by default)."""
        await self._poll_each(list(self._tailers))

    async def _poll_each(self, paths: Iterable[str]) -> None:
        """Letting other tasks run between files: a thousand transcripts written at once, or a lookback, must
        not freeze a language server's event loop."""
        for path in dict.fromkeys(paths):
            self._poll(path)
            await asyncio.sleep(0)

    def _poll(self, path: str) -> None:
        tailer = self._tailers.get(path)
        if tailer is None:
            return
        before, was_following = tailer.problem, tailer.following
        lines = tailer.poll(max_bytes=_POLL_BUDGET_BYTES)
        if tailer.behind:
            self._backlog.add(path)
        else:
            self._backlog.discard(path)
        if lines:
            self._counters["lines"] += len(lines)
            self._counters["lines_cut"] += sum(line.cut for line in lines)
            try:
                self.on_lines(Path(path), lines)
            except Exception:
                logger.exception("on_lines callback failed for %s", path)
        if tailer.problem is not None and tailer.problem != before:
            self._report_problem(path, tailer.problem)
        elif was_following and not tailer.following and tailer.problem is None:
            self._report_gone(path, "deleted")

    def _report_gone(self, path: str, why: str) -> None:
        if self.on_gone is None:
            return
        try:
            self.on_gone(Path(path), why)
        except Exception:
            logger.exception("on_gone callback failed for %s", path)

    def _report_problem(self, path: str, problem: str) -> None:
        self._counters["problems"] += 1
        if self.on_problem is None:
            return
        try:
            self.on_problem(Path(path), problem)
        except Exception:
            logger.exception("on_problem callback failed for %s", path)
