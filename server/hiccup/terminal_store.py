"""Terminal transcripts on disk, so that a restarted language server still has them and their incidents.

An editor never replays terminal output: when VS Code restarts a crashed server (or the user runs "Restart
Server" in the middle of a 529 storm), everything the terminals printed so far would be gone, and with it the
"failing for 6 min" that decides when to suggest a restart. So each complete transcript line the server keeps
is also appended here, and a new server reads these files back on `initialized`.

One file per (workspace, terminal) under `<user cache dir>/hiccup/terminals/`, the directory 0700 and the files
0600. The text is the transcript as `hiccup/terminalTranscript` shows it (ANSI-free), redacted again here so that
nothing reaches the disk without `redact()` having seen the whole line. Lines starting with \\x1e (a control
character that cleaning removes from terminal text, so it cannot collide) carry what is not transcript:

    \\x1ehiccup-terminal {"terminalId": "12", "name": "claude", "workspace": "/home/me/project"}
    \\x1e@2026-11-25T10:00:03+00:00
    ⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}

The first line says whose transcript it is; a time line says when the lines after it were seen, so incident
timings survive the restart. Sizes are bounded per terminal (the oldest lines go, like the in-memory
transcript) and in total (the least recently written terminals go), and files untouched for a week are removed.
Writing never raises: a full disk costs the persistence of some lines, logged once, never the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import platformdirs

from hiccup.clock import parse_utc
from hiccup.redact import redact
from hiccup.session_log import ensure_private_dir, open_private

logger = logging.getLogger("hiccup.terminal_store")

MAX_FILE_BYTES = 3 * 1024 * 1024  # the in-memory transcript keeps 2 M characters; the file a little more
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_AGE_S = 7 * 24 * 3600
MARK = "\x1e"
HEADER = MARK + "hiccup-terminal "
_TIME_MARK = MARK + "@"
_MARK_EVERY = timedelta(seconds=1)
_SUFFIX = ".transcript"


def terminals_dir() -> Path:
    """`platformdirs.user_cache_dir("hiccup")/terminals`: a cache, since losing it loses history only."""
    return Path(platformdirs.user_cache_dir("hiccup")) / "terminals"


@dataclass
class SavedTerminal:
    """One transcript read back: its text in segments, each with the time its lines were first seen."""

    terminal_id: str
    name: str
    segments: list[tuple[datetime, str]] = field(default_factory=list)


@dataclass
class _File:
    path: Path
    size: int
    written_at: float  # time.time() of the last write (st_mtime when found on disk)
    last_mark: datetime | None = None  # None: write a time line before the next text (new in this process)


class TerminalStore:
    """Appends transcript lines to disk and reads them back; one instance per server and workspace."""

    def __init__(self, directory: Path, workspace: str, *, max_file_bytes: int = MAX_FILE_BYTES,
                 max_total_bytes: int = MAX_TOTAL_BYTES, max_age_s: float = MAX_AGE_S) -> None:
        self.directory = directory
        self.workspace = workspace
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self.max_age_s = max_age_s
        self.problem: str | None = None  # the last write failure, logged once until a write succeeds
        self.skipped_files = 0  # files found unreadable or not ours on load
        self.evicted_files = 0  # removed for age or the total size cap
        self._files: dict[Path, _File] = {}
        self._ready = False

    # --- paths ---------------------------------------------------------------------------------------
    def path_of(self, terminal_id: str) -> Path:
        """Terminal ids are whatever the client chose ("12", a UUID…): hashed into a safe file name."""
        digest = hashlib.sha256(f"{self.workspace}\0{terminal_id}".encode("utf-8", "replace")).hexdigest()
        return self.directory / f"{digest[:32]}{_SUFFIX}"

    def _prepare(self) -> bool:
        if self._ready:
            return True
        try:
            ensure_private_dir(self.directory)
            entries = list(os.scandir(self.directory))
        except OSError as exc:
            self._fail(f"cannot use {self.directory}: {exc.strerror or exc}")
            return False
        now = time.time()
        for entry in entries:
            if not entry.name.endswith(_SUFFIX):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            path = Path(entry.path)
            if now - st.st_mtime > self.max_age_s:
                self._remove(path, "older than a week")
                continue
            self._files[path] = _File(path, st.st_size, st.st_mtime)
        self._ready = True
        self._enforce_total(keep=None)
        return True

    # --- reading back ----------------------------------------------------------------------------------
    def load(self) -> list[SavedTerminal]:
        """Every saved transcript of this workspace, oldest write first; cleans up old files on the way."""
        if not self._prepare():
            return []
        saved = []
        for f in sorted(self._files.values(), key=lambda f: f.written_at):
            terminal = self._read(f.path)
            if terminal is not None:
                saved.append(terminal)
        return saved

    def _read(self, path: Path) -> SavedTerminal | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                data = os.read(fd, self.max_file_bytes * 2)
            finally:
                os.close(fd)
        except OSError as exc:
            self._skip(path, exc.strerror or str(exc))
            return None
        text = data.decode("utf-8", "replace")
        head, _, body = text.partition("\n")
        try:
            meta = json.loads(head[len(HEADER):]) if head.startswith(HEADER) else None
        except ValueError:
            meta = None
        if not (isinstance(meta, dict) and isinstance(meta.get("terminalId"), str)
                and isinstance(meta.get("name"), str)):
            self._skip(path, "not a Hiccup transcript")
            return None
        if meta.get("workspace") != self.workspace or self.path_of(meta["terminalId"]) != path:
            return None  # another workspace's terminal (or a renamed copy): not ours to show
        saved = SavedTerminal(meta["terminalId"], meta["name"])
        # a write cut short (disk full, killed mid-write) leaves a partial last line: it was never complete here
        complete = body[: body.rfind("\n") + 1]
        at: datetime | None = None
        lines: list[str] = []
        for line in complete.split("\n")[:-1]:
            if line.startswith(_TIME_MARK):
                try:
                    mark = parse_utc(line[len(_TIME_MARK):])
                except ValueError:
                    continue
                if lines and at is not None:
                    saved.segments.append((at, "\n".join(lines) + "\n"))
                at, lines = mark, []
            elif not line.startswith(MARK) and at is not None:
                lines.append(line)
        if lines and at is not None:
            saved.segments.append((at, "\n".join(lines) + "\n"))
        return saved

    # --- writing ---------------------------------------------------------------------------------------
    def append(self, terminal_id: str, name: str, text: str, at: datetime) -> None:
        """Persist complete transcript lines (`text` ends with a newline) seen at `at`. Never raises."""
        if not text or not self._prepare():
            return
        path = self.path_of(terminal_id)
        f = self._files.get(path)
        if f is None:
            f = self._files[path] = _File(path, 0, time.time())
        out = []
        if f.size == 0:
            meta = {"terminalId": terminal_id, "name": redact(name), "workspace": self.workspace}
            out.append(HEADER + json.dumps(meta, ensure_ascii=False) + "\n")
        if f.last_mark is None or at - f.last_mark >= _MARK_EVERY or at < f.last_mark:
            out.append(f"{_TIME_MARK}{at.isoformat()}\n")
            f.last_mark = at
        out.append(redact(text.replace(MARK, "")))
        data = "".join(out).encode("utf-8", "replace")
        if f.size + len(data) > self.max_file_bytes and f.size:
            self._compact(f)
        self._write(f, data)
        self._enforce_total(keep=path)

    def _write(self, f: _File, data: bytes) -> None:
        try:
            fd = open_private(f.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            self._fail(f"cannot write {f.path}: {exc.strerror or exc}")
            return
        try:
            size = os.fstat(fd).st_size
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(fd, view):]
            except OSError as exc:
                # ENOSPC, EFBIG: take the partial line back out, so the next write does not glue onto it
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                f.size, f.last_mark = size, None
                self._fail(f"cannot write {f.path}: {exc.strerror or exc}")
                return
        finally:
            os.close(fd)
        f.size = size + len(data)
        f.written_at = time.time()
        if self.problem is not None:
            logger.info("terminal transcripts are written again")
            self.problem = None

    def _compact(self, f: _File) -> None:
        """Keep the newest two thirds of the cap (whole lines, with the header and the time of the first kept
        line), so compaction happens once per third of the cap written, not on every line."""
        saved = self._read(f.path)
        if saved is None:
            self._remove(f.path, "unreadable")
            f.size, f.last_mark = 0, None
            return
        budget = self.max_file_bytes * 2 // 3
        kept: list[tuple[datetime, str]] = []
        for at, text in reversed(saved.segments):
            size = len(text.encode("utf-8", "replace"))
            if size > budget:
                lines = text.split("\n")[:-1]
                tail: list[str] = []
                for line in reversed(lines):
                    budget -= len(line.encode("utf-8", "replace")) + 1
                    if budget < 0:
                        break
                    tail.append(line)
                if tail:
                    kept.append((at, "\n".join(reversed(tail)) + "\n"))
                break
            budget -= size
            kept.append((at, text))
        meta = {"terminalId": saved.terminal_id, "name": saved.name, "workspace": self.workspace}
        parts = [HEADER + json.dumps(meta, ensure_ascii=False) + "\n"]
        for at, text in reversed(kept):
            parts += [f"{_TIME_MARK}{at.isoformat()}\n", text]
        data = "".join(parts).encode("utf-8", "replace")
        tmp = f.path.with_name(f.path.name + ".tmp")
        try:
            fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(tmp, f.path)
        except OSError as exc:
            self._fail(f"cannot compact {f.path}: {exc.strerror or exc}")
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return
        f.size = len(data)
        f.last_mark = kept[0][0] if kept else None

    def _enforce_total(self, keep: Path | None) -> None:
        total = sum(f.size for f in self._files.values())
        if total <= self.max_total_bytes:
            return
        target = self.max_total_bytes * 7 // 8
        for f in sorted(self._files.values(), key=lambda f: f.written_at):
            if total <= target:
                break
            if f.path == keep:
                continue
            total -= f.size
            self._remove(f.path, "over the total size cap")

    # --- bookkeeping -----------------------------------------------------------------------------------
    def _remove(self, path: Path, why: str) -> None:
        self._files.pop(path, None)
        try:
            os.unlink(path)
        except OSError:
            return
        self.evicted_files += 1
        logger.info("%s: removed (%s)", path.name, why)

    def _skip(self, path: Path, why: str) -> None:
        self.skipped_files += 1
        logger.warning("%s: skipped: %s", path, why)

    def _fail(self, message: str) -> None:
        if message != self.problem:
            logger.warning("terminal transcripts not saved: %s", message)
            self.problem = message
