"""Incremental reading of one growing text file that may be rotated, truncated or deleted under us.

Claude Code transcripts (`~/.claude/projects/<dir>/<session>.jsonl`), its debug logs and `hiccup run`
session logs only ever grow, but log rotation (rename + create, or copytruncate) and editors saving
over a file do happen. The tailer keeps a byte offset per file generation, so growth costs one read of the
new bytes however big the file is, and it hands out complete lines only, each with its true 0-based line
number so editor diagnostics point at the right line.

Decisions worth knowing:

- Text is decoded as UTF-8 with `errors="replace"`; NUL bytes become U+FFFD (one character per byte, so
  columns do not move) because editors and JSON-RPC peers handle NUL badly, and a NUL run in a log is
  the hole a copytruncate leaves behind a writer that did not open with O_APPEND.
- A line longer than `max_line_bytes` is cut: the first `max_line_bytes` are kept and returned (with
  `cut=True`) when its newline arrives; the rest is counted and dropped. Memory stays bounded.
- Rotation: when the path names another file (new device/inode) the old descriptor stays open and is
  read to its end first, then for a grace period (`rotate_grace_s`) because the writer's last line can
  land after the rename. Its final unterminated line, if any, is returned when the grace period ends:
  that file will not grow any more.
- Truncation (size below our offset, or the bytes just before our offset changed) restarts at 0 in a
  new generation. Deletion is handled like a rotation to nowhere; if the path comes back it is a new
  generation read from 0.
- Problems (permission denied, a directory or FIFO where a file was expected, symlink loops, binary
  content) set `problem`, log once on the "hiccup.tailer" logger and never raise out of `poll()`.
"""

from __future__ import annotations

import codecs
import errno
import logging
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

logger = logging.getLogger("hiccup.tailer")

CHUNK_BYTES = 1 << 20
SNIFF_BYTES = 8192
_BACKSCAN_BYTES = 64 * 1024
_FINGERPRINT_BYTES = 64
# Control bytes that real text logs contain: tab, LF, CR, form feed, backspace, BEL and ESC (terminal
# recordings of Claude Code are full of "\x1b[31m⎿  API Error: 500 …\r\n").
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c\x08\x07\x1b")
_StartMode = Literal["lookback", "end"]
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


@dataclass(frozen=True, slots=True)
class TailLine:
    """One complete line of a followed file."""

    path: Path
    line_no: int  # 0-based line number in this generation of the file
    text: str  # without the newline and trailing "\r"; NUL shown as U+FFFD
    offset: int  # byte offset of the line start in this generation
    generation: int  # bumped on rotation, truncation, or the path coming back after deletion
    cut: bool = False  # the line was longer than max_line_bytes; text holds its beginning only


def sniff_problem(sample: bytes) -> str | None:
    """Tell why the first bytes of a file are not followable text, or None if they look like text.

    Only called on the first few KB: a log that later contains a NUL is still followed.
    """
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        # PowerShell's `claude ... > out.txt` writes UTF-16 with a BOM.
        return "UTF-16 text (only UTF-8 files are followed)"
    # A copytruncate'd log whose writer kept its offset starts with a hole of NULs, then text.
    body = sample.lstrip(b"\x00")
    if not body:
        return None
    nuls = body.count(0)
    if nuls * 100 > len(body):
        return f"binary file ({nuls} NUL bytes in the first {len(sample)} bytes)"
    controls = sum(1 for b in body if b < 0x20 and b not in _TEXT_CONTROLS)
    # The sample may end inside a multi-byte character: the incremental decoder holds that back.
    invalid = codecs.getincrementaldecoder("utf-8")("replace").decode(body).count("\ufffd")
    if (controls + invalid) * 10 > len(body):
        return "binary file (not UTF-8 text in the first bytes)"
    return None


def _can_sniff(data: bytes, offset: int) -> bool:
    """Judge a file only once its first line is complete or SNIFF_BYTES arrived.

    A first write of a few bytes (or half of a "⎿") says nothing about the file.
    """
    return offset + len(data) >= SNIFF_BYTES or b"\n" in data


def next_line_start(fd: int, pos: int, size: int) -> int | None:
    """Where the first line starting after `pos` begins (None: no newline before `size`), read in chunks:
    a 100 MB line without a newline is never held in memory whole."""
    while pos < size:
        chunk = _pread(fd, min(CHUNK_BYTES, size - pos), pos)
        if not chunk:
            break
        found = chunk.find(b"\n")
        if found >= 0:
            return pos + found + 1
        pos += len(chunk)
    return None


def _pread(fd: int, size: int, offset: int) -> bytes:
    """os.pread where it exists (POSIX); a seek + read elsewhere. Nothing else moves our fd's position."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def _describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def _describe_mode(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "a FIFO, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    return "not a regular file"


class _Reader:
    """Reading state of one open file generation."""

    __slots__ = (
        "buf",
        "cut",
        "discard",
        "fd",
        "generation",
        "head",
        "ident",
        "line_no",
        "line_start",
        "offset",
        "signature",
        "sniffed",
        "tail",
    )

    def __init__(self, fd: int, ident: tuple[int, int], generation: int) -> None:
        self.fd = fd
        self.ident = ident
        self.generation = generation
        self.offset = 0  # next byte to read
        self.buf = bytearray()  # the unterminated line so far, at most max_line_bytes
        self.cut = 0  # bytes of the current line dropped beyond max_line_bytes
        self.discard = False  # started mid-line: drop bytes up to the next newline
        self.line_start = 0  # byte offset of the current (unterminated) line
        self.line_no: int | None = 0  # None: count the newlines before line_start when first needed
        self.sniffed = False
        self.tail = b""  # the last bytes before offset, to notice a truncate-and-regrow between polls
        self.head = b""  # the first bytes of the file, read so far: the same check at the other end
        self.signature: tuple[int, int] | None = None  # (size, mtime_ns) at the last stat

    def reset(self, generation: int) -> None:
        self.generation = generation
        self.offset = 0
        self.buf.clear()
        self.cut = 0
        self.discard = False
        self.line_start = 0
        self.line_no = 0
        self.sniffed = False
        self.tail = b""
        self.head = b""


class FileTailer:
    """Follows one path. Not thread-safe: one owner calls `start()` once, then `poll()` whenever it likes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_line_bytes: int = 1_000_000,
        lookback_bytes: int = 1_000_000,
        rotate_grace_s: float = 1.0,
    ) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be positive")
        self.path = Path(path)
        self.max_line_bytes = max_line_bytes
        self.lookback_bytes = max(0, lookback_bytes)
        self.rotate_grace_s = rotate_grace_s
        self.problem: str | None = None
        self.behind = False  # the last poll stopped at its byte budget: more data is waiting
        self.lines_read = 0
        self.lines_cut = 0
        self.bytes_dropped = 0
        self._cur: _Reader | None = None
        self._old: _Reader | None = None  # a rotated or deleted generation still being drained
        self._old_deadline = 0.0
        self._next_generation = 0
        self._skip: tuple[tuple[int, int], int] | None = None  # (ident, size) of a file judged unfollowable
        self._started = False

    # -- public API -------------------------------------------------------------------------------

    @property
    def following(self) -> bool:
        """An fd is open on the file the path currently names."""
        return self._cur is not None

    @property
    def generation(self) -> int:
        """Generation of the file currently followed (or of the last one, once it is gone)."""
        return max(0, self._next_generation - 1)

    @property
    def wake_at(self) -> float | None:
        """`time.monotonic()` deadline by which `poll()` should run even without a file event.

        Set while a rotated/deleted file is drained: writes to it (now under another name, or none)
        produce no event for this path.
        """
        return self._old_deadline if self._old is not None else None

    def start(self, lookback: bool = True) -> None:
        """Open the file and choose where reading begins; the next `poll()` returns the lines after it.

        With `lookback`, reading starts at the first line beginning in the last `lookback_bytes`, so
        errors logged while nobody was watching are still reported. Without it, reading starts at the
        beginning of the last unterminated line, so only new lines are returned. Line numbers stay true
        either way: the newlines before the start are counted (in chunks, lazily on the first line
        returned). A file that does not exist yet is read from its beginning when it appears.
        """
        if self._started:
            return
        self._started = True
        self._check_path([], initial=("lookback" if lookback else "end"))

    def poll(self, max_bytes: int | None = None) -> list[TailLine]:
        """Return the complete lines written since the last call, oldest first.

        Reads at most about `max_bytes` of the current file (then sets `behind`); never raises for
        file-system trouble, which is reported through `problem`.
        """
        if not self._started:
            self.start(lookback=False)
        out: list[TailLine] = []
        try:
            if self._old is not None:
                self._drain(self._old, out)
                if time.monotonic() >= self._old_deadline:
                    self._finish_old(out)
            changed = self._check_path(out)
            if self._cur is not None and (changed or self.behind):
                self.behind = self._read(self._cur, out, max_bytes)
                if self._cur is not None:
                    self._clear_problem()
        except OSError as exc:
            # EIO on a network mount and the like: report once, keep the offset, retry on the next poll.
            self._set_problem(_describe_os_error(exc))
        if self._cur is None:
            self.behind = False
        return out

    def close(self) -> None:
        """Close the descriptors. Counters and generation survive so the owner can keep history."""
        for reader in (self._old, self._cur):
            if reader is not None:
                os.close(reader.fd)
        self._old = self._cur = None

    def __enter__(self) -> FileTailer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FileTailer({str(self.path)!r}, generation={self.generation}, problem={self.problem!r})"

    # -- path state -------------------------------------------------------------------------------

    def _check_path(self, out: list[TailLine], initial: _StartMode | None = None) -> bool:
        """Compare what the path names now with what we read, and switch generation if needed.

        Returns False when the followed file's size and mtime are what they were at the last look: the
        common case of the follower's periodic re-stat of a thousand idle files costs one stat each.
        """
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            if self._cur is not None:
                logger.info("%s: deleted; finishing the open file", self.path)
            self._retire_current(out)
            self._clear_problem()
            return True
        except OSError as exc:
            self._retire_current(out)
            self._set_problem(_describe_os_error(exc))
            return True
        if not stat.S_ISREG(st.st_mode):
            self._retire_current(out)
            self._set_problem(_describe_mode(st.st_mode))
            return True
        ident = (st.st_dev, st.st_ino)
        cur = self._cur
        signature = (st.st_size, st.st_mtime_ns)
        if cur is not None and cur.ident == ident:
            if signature == cur.signature:
                return False
            cur.signature = signature
            if self._truncated(cur, st.st_size):
                generation = self._new_generation()
                logger.info("%s: truncated; reading from the start (generation %d)", self.path, generation)
                cur.reset(generation)
            return True
        if cur is None and self._old is not None and self._old.ident == ident:
            # The path was unreadable for a moment (a parent directory's permissions changed) but names
            # the same file again; we still hold it open, so its inode cannot have been reused.
            self._cur, self._old = self._old, None
            return True
        if cur is not None:
            logger.info("%s: replaced by another file; finishing the old one first", self.path)
            self._retire_current(out)
        if self._skip is not None and self._skip[0] == ident and st.st_size >= self._skip[1]:
            return False  # the same unfollowable file, not rewritten: already reported
        self._open(initial)
        return True

    def _open(self, initial: _StartMode | None) -> None:
        try:
            fd = os.open(self.path, _OPEN_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            self._set_problem(_describe_os_error(exc))
            return
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                # The path changed between stat and open (a FIFO opened O_NONBLOCK does not block).
                os.close(fd)
                self._set_problem(_describe_mode(st.st_mode))
                return
            ident = (st.st_dev, st.st_ino)
            sample = _pread(fd, SNIFF_BYTES, 0)
        except OSError as exc:
            os.close(fd)
            self._set_problem(_describe_os_error(exc))
            return
        if _can_sniff(sample, 0):
            reason = sniff_problem(sample)
            if reason is not None:
                os.close(fd)
                self._skip = (ident, st.st_size)
                self._set_problem(reason)
                return
        self._skip = None
        self._clear_problem()
        reader = _Reader(fd, ident, self._new_generation())
        reader.sniffed = _can_sniff(sample, 0)
        if initial is not None:
            self._position(reader, st.st_size, initial)
        self._cur = reader

    def _position(self, reader: _Reader, size: int, mode: _StartMode) -> None:
        """Place a freshly opened reader for `start()`; see its docstring."""
        start = self._lookback_start(reader, size) if mode == "lookback" else self._last_line_start(reader, size)
        if start == 0:
            return
        reader.offset = reader.line_start = start
        reader.line_no = None
        keep = min(start, _FINGERPRINT_BYTES)
        reader.tail = _pread(reader.fd, keep, start - keep)
        reader.head = _pread(reader.fd, keep, 0)

    def _lookback_start(self, reader: _Reader, size: int) -> int:
        pos = max(0, size - self.lookback_bytes)
        if pos == 0 or _pread(reader.fd, 1, pos - 1) == b"\n":
            return pos
        # pos is inside a line: whole lines begin after the next newline.
        start = next_line_start(reader.fd, pos, size)
        if start is None:  # no newline in the whole lookback window: we are inside one huge line
            reader.discard = True
            return size
        return start

    def _last_line_start(self, reader: _Reader, size: int) -> int:
        """Start of the last unterminated line (or `size`), so a line being written as we start is whole."""
        end = size
        while end > 0 and size - end < self.max_line_bytes:
            begin = max(0, end - _BACKSCAN_BYTES)
            found = _pread(reader.fd, end - begin, begin).rfind(b"\n")
            if found >= 0:
                return begin + found + 1
            end = begin
        if end == 0:
            return 0
        reader.discard = True
        return size

    def _truncated(self, reader: _Reader, size: int) -> bool:
        if size < reader.offset:
            return True
        if reader.head and _pread(reader.fd, len(reader.head), 0) != reader.head:
            # Truncated and written as far again: a log of repeated lines ("API Error: 500 …" every few
            # seconds) ends the same way in both generations, but its first line is an older one.
            return True
        if reader.tail:
            # Truncated and written past our offset again before we looked: the bytes we last read differ.
            return _pread(reader.fd, len(reader.tail), reader.offset - len(reader.tail)) != reader.tail
        return False

    def _retire_current(self, out: list[TailLine]) -> None:
        """Stop following the current file by its path; keep reading its fd for the grace period."""
        cur = self._cur
        if cur is None:
            return
        self._cur = None
        if self._old is not None:
            self._finish_old(out)
        self._old = cur
        self._old_deadline = time.monotonic() + self.rotate_grace_s
        self._drain(cur, out)

    def _finish_old(self, out: list[TailLine]) -> None:
        old = self._old
        if old is None:
            return
        self._old = None
        try:
            self._drain(old, out)
            if (old.buf or old.cut) and not old.discard:
                # The file will not grow any more: its unterminated last line is complete.
                self._emit(old, bytes(old.buf), old.offset, out)
        finally:
            os.close(old.fd)

    def _drain(self, reader: _Reader, out: list[TailLine]) -> None:
        try:
            self._read(reader, out, None)
        except OSError as exc:
            logger.info("%s: stopped reading a rotated file: %s", self.path, _describe_os_error(exc))

    def _new_generation(self) -> int:
        generation = self._next_generation
        self._next_generation += 1
        return generation

    def _set_problem(self, message: str) -> None:
        if message != self.problem:
            logger.warning("%s: skipped: %s", self.path, message)
            self.problem = message

    def _clear_problem(self) -> None:
        if self.problem is not None:
            logger.info("%s: readable again", self.path)
            self.problem = None

    # -- reading ----------------------------------------------------------------------------------

    def _read(self, reader: _Reader, out: list[TailLine], max_bytes: int | None) -> bool:
        """Read from the reader's offset to the end of file; True if stopped early by `max_bytes`."""
        budget = max_bytes if max_bytes is not None else -1
        while budget != 0:
            want = CHUNK_BYTES if budget < 0 else min(CHUNK_BYTES, budget)
            data = _pread(reader.fd, want, reader.offset)
            if not data:
                return False
            if not reader.sniffed and _can_sniff(data, reader.offset):
                reader.sniffed = True
                reason = sniff_problem(_pread(reader.fd, SNIFF_BYTES, 0))
                if reason is not None and reader is self._cur:
                    self._skip = (reader.ident, reader.offset + len(data))
                    self._cur = None
                    os.close(reader.fd)
                    self._set_problem(reason)
                    return False
            self._consume(reader, data, out)
            if len(reader.head) < _FINGERPRINT_BYTES and len(reader.head) == reader.offset:
                reader.head += data[: _FINGERPRINT_BYTES - len(reader.head)]
            reader.offset += len(data)
            reader.tail = (reader.tail + data[-_FINGERPRINT_BYTES:])[-_FINGERPRINT_BYTES:]
            if budget > 0:
                budget -= len(data)
            if len(data) < want:
                return False
        return True

    def _consume(self, reader: _Reader, data: bytes, out: list[TailLine]) -> None:
        """Split `data` (read at reader.offset) into lines, keeping the unterminated rest in reader.buf."""
        base = reader.offset
        limit = self.max_line_bytes
        buf = reader.buf
        pos = 0
        size = len(data)
        while pos < size:
            newline = data.find(b"\n", pos)
            end = size if newline < 0 else newline
            if reader.discard:
                if newline < 0:
                    return
                reader.discard = False
                reader.line_start = base + newline + 1
                if reader.line_no is not None:
                    reader.line_no += 1
                pos = newline + 1
                continue
            if buf or newline < 0:
                room = limit - len(buf)
                if end - pos <= room:
                    buf += data[pos:end]
                else:
                    buf += data[pos : pos + room]
                    reader.cut += end - pos - room
                if newline < 0:
                    return
                raw = bytes(buf)
                buf.clear()
            elif end - pos > limit:
                raw = data[pos : pos + limit]
                reader.cut += end - pos - limit
            else:
                raw = data[pos:end]
            self._emit(reader, raw, base + newline + 1, out)
            pos = newline + 1

    def _emit(self, reader: _Reader, raw: bytes, next_start: int, out: list[TailLine]) -> None:
        if reader.line_no is None:
            reader.line_no = self._count_newlines(reader.fd, reader.line_start)
        text = raw.rstrip(b"\r").decode("utf-8", "replace")
        if "\x00" in text:
            text = text.replace("\x00", "\ufffd")
        out.append(TailLine(self.path, reader.line_no, text, reader.line_start, reader.generation, reader.cut > 0))
        self.lines_read += 1
        if reader.cut:
            self.lines_cut += 1
            self.bytes_dropped += reader.cut
            reader.cut = 0
        reader.line_no += 1
        reader.line_start = next_start

    @staticmethod
    def _count_newlines(fd: int, end: int) -> int:
        """Newlines in [0, end): the line number of a line starting at `end`. Bounded memory."""
        count = 0
        pos = 0
        while pos < end:
            chunk = _pread(fd, min(CHUNK_BYTES, end - pos), pos)
            if not chunk:
                break
            count += chunk.count(b"\n")
            pos += len(chunk)
        return count
