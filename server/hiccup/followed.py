"""What the server keeps of a file it follows but the editor has not opened: the hits, never the text.

A Claude Code debug log can reach a gigabyte and a workspace can have a thousand transcripts. Holding each as
a `Document` (every line a Python string) would cost gigabytes; publishing diagnostics needs far less. For each
line that holds a failure, a `FollowedSource` keeps its line number, the span of the error text already in the
client's position units (converted while the line's text is at hand, since it is not kept), and the `Hit` the
incident store knows the occurrence by. At most `max_hits` of them, the newest; older ones are counted in
`dropped` and stay in the incidents as evidence. To the publisher, hover and code actions it looks like a
`Document`: `hit_at`, `findings`, `span`.

Lines arrive from the follower a file generation at a time (`hiccup.tailer.TailLine`). A rotation or truncation
starts a new generation: the old positions go, since the file the URI names no longer has those lines, but the
occurrences stay in their incidents. Late lines of an older generation (a writer's last words into a renamed
file) are evidence only. A deleted file keeps its history and shows no positions until it comes back.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from hiccup.documents import Delta, Document, Hit

if TYPE_CHECKING:
    from hiccup.classifier import Classifier, Finding
    from hiccup.tailer import TailLine

# A followed log flooding errors shows its newest 500 (all one incident, whose hover counts every occurrence):
# a list of 2,000 took ~130 ms to render and send, on every publish, which held up hovers behind it.
MAX_HITS = 500
_HEAD_BYTES = 65536  # what format detection reads of a file, as `Document` and `hiccup watch` do
_COUNT_CHUNK = 1 << 20
_HISTORY = -1  # epoch of occurrences read from an older generation: never "current"


@dataclass(frozen=True, slots=True)
class FollowedKey:
    """The incident-store key of a followed line. `epoch` tells lines of the file as it is now from history."""

    uri: str
    epoch: int
    serial: int


@dataclass(slots=True)
class Mark:
    start: int  # client position units (UTF-16 unless negotiated otherwise)
    end: int
    hit: Hit


def lone_breaks(path: str, end: int) -> int:
    """Line breaks an editor sees in the first `end` bytes that a newline count misses: `\\r` not before `\\n`.

    `hiccup run` session logs are raw terminal streams, full of `\\r` redraws ("⠋ Thinking…\\r⠙ Thinking…"); an LSP
    client breaks lines there too.
    """
    count, pos, last = 0, 0, b""
    try:
        with open(path, "rb") as fp:
            while pos < end:
                chunk = fp.read(min(_COUNT_CHUNK, end - pos))
                if not chunk:
                    break
                count += chunk.count(b"\r") - chunk.count(b"\r\n") - (last == b"\r" and chunk[:1] == b"\n")
                last = chunk[-1:]
                pos += len(chunk)
    except OSError:
        return 0
    return count - (last == b"\r")  # a "\r" right before `end` precedes the "\n" that ends the line


class FollowedSource:
    """Positions and hits of one followed file (see the module docstring)."""

    def __init__(self, uri: str, path: str, classifier: Classifier, *, units: Callable[[str], int] = len,
                 max_hits: int = MAX_HITS) -> None:
        self.uri = uri
        self.path = path
        self.name = os.path.basename(path)
        self.classifier = classifier
        self.units = units
        self.max_hits = max_hits
        self.version: int | None = None  # no editor version: the file itself is the truth
        self.dropped = 0  # hits of the current generation beyond `max_hits`: counted, not positioned
        self.present = True  # False once deleted: no positions until the file comes back
        self.generation = -1  # the newest generation seen
        self._epoch = 0
        self._serial = itertools.count(1)
        self._marks: dict[int, Mark] = {}  # editor line → mark, in line order
        self._formats: dict[int, str] = {}
        self._extra = 0  # lone-\r breaks so far in this generation: editor line = tailer line + extra
        self._handed: set[Hashable] = set()  # keys an editor's document handed back (see `adopt`)
        self._awaiting_recovery = False  # a failure came after the last successful reply

    # --- reading: what `Document` offers the publisher, hover and code actions ------------------------
    def hit_at(self, line: int) -> Hit | None:
        mark = self._marks.get(line)
        return mark.hit if mark is not None else None

    def span(self, line: int) -> tuple[int, int]:
        """The error text's columns on `line`, in client units."""
        mark = self._marks[line]
        return mark.start, mark.end

    def findings(self) -> Iterator[tuple[int, Hit]]:
        """Shown failures in line order."""
        for line in sorted(self._marks):
            yield line, self._marks[line].hit

    def __len__(self) -> int:
        return len(self._marks)

    def is_current(self, key: Hashable) -> bool:
        """Does this occurrence come from a line of the file as it is now (which an opened document sees again)?"""
        return (isinstance(key, FollowedKey) and key.epoch == self._epoch) or key in self._handed

    # --- changing --------------------------------------------------------------------------------------
    def feed(self, lines: Sequence[TailLine], now: datetime, *, classify: bool = True) -> tuple[Delta, bool]:
        """Take the follower's next lines; returns what the incident store must observe, and whether the
        positions changed. With `classify=False` (the editor has the file open and its document is the truth)
        only the line bookkeeping moves on."""
        delta, moved = Delta(), False
        start = 0
        while start < len(lines):
            generation = lines[start].generation
            end = start + 1
            while end < len(lines) and lines[end].generation == generation:
                end += 1
            run = lines[start:end]
            start = end
            if generation > self.generation:
                moved |= self._new_generation(run)
            current = generation == self.generation
            if not classify:
                if current:
                    self._extra += sum(line.text.count("\r") for line in run)
                continue
            fmt = self._formats.get(generation) or self._detect(run, read_file=False)
            entries = self._classify(run, fmt, track=current)
            for line, raw, finding, recovery in entries:
                positioned = current and self.present and finding is not None
                hit = Hit(FollowedKey(self.uri, self._epoch if current else _HISTORY, next(self._serial)),
                          finding, recovery, now)
                delta.added.append((line if positioned else -1, hit))
                if positioned:
                    assert finding is not None
                    old = self._marks.pop(line, None)
                    if old is not None:
                        delta.removed.append(old.hit)
                    self._marks[line] = Mark(self.units(raw[:finding.start]), self.units(raw[:finding.end]), hit)
                    moved = True
            while len(self._marks) > self.max_hits:
                del self._marks[next(iter(self._marks))]
                self.dropped += 1
        return delta, moved

    def gone(self) -> bool:
        """The file was deleted: its positions go, its occurrences stay. True if something was shown."""
        shown = bool(self._marks)
        self._marks.clear()
        self.present = False
        return shown

    def adopt(self, doc: Document) -> None:
        """The editor closed the file: keep the positions its document had, computed from the text it held."""
        items = list(doc.findings())
        self._marks.clear()
        for line, hit in items[-self.max_hits:]:
            assert hit.finding is not None
            raw = doc.line(line)
            self._marks[line] = Mark(self.units(raw[:hit.finding.start]), self.units(raw[:hit.finding.end]), hit)
        self.dropped = max(0, len(items) - self.max_hits)
        self._handed = {hit.key for _, hit in items}
        self._awaiting_recovery = True
        self.present = True

    def reset(self) -> None:
        """Start over (a new catalog, or the follower restarted): the next lines are read as if for the first time."""
        self._marks.clear()
        self._handed.clear()
        self._formats.clear()
        self.generation, self._extra, self.dropped = -1, 0, 0
        self._epoch += 1
        self._awaiting_recovery = False

    # --- internals -------------------------------------------------------------------------------------
    def _new_generation(self, run: Sequence[TailLine]) -> bool:
        moved = bool(self._marks)
        self.generation = run[0].generation
        self._epoch += 1
        self._marks.clear()
        self._handed.clear()
        self.dropped = 0
        self.present = True
        fmt = self._formats[self.generation] = self._detect(run, read_file=True)
        for old in [g for g in self._formats if g < self.generation - 1]:
            del self._formats[old]
        first = run[0]
        # Started past the beginning (the lookback): breaks at lone "\r" before it shift every line below.
        self._extra = lone_breaks(self.path, first.offset) if fmt == "terminal" and first.offset > 0 else 0
        return moved

    def _detect(self, run: Sequence[TailLine], *, read_file: bool) -> str:
        """The file's format from its first bytes: the lines themselves when they start the file."""
        head = b""
        if read_file and run[0].offset > 0:
            try:
                with open(self.path, "rb") as fp:
                    head = fp.read(_HEAD_BYTES)
            except OSError:
                head = b""
        if not head:
            head = "\n".join(line.text for line in run[:200]).encode("utf-8", "surrogatepass")[:_HEAD_BYTES]
        return self.classifier.detect_format(head, self.name)

    def _classify(self, run: Sequence[TailLine], fmt: str,
                  track: bool) -> list[tuple[int, str, Finding | None, datetime | None]]:
        """(editor line, raw text of that line, finding, recovery) for the lines that matter, in order."""
        classifier = self.classifier
        out: list[tuple[int, str, Finding | None, datetime | None]] = []
        if any("\r" in line.text for line in run):
            # An editor breaks lines at a lone "\r" too (as `Document` does): classify each piece on its own.
            extra = self._extra
            for line in run:
                pieces = line.text.split("\r")
                for k, piece in enumerate(pieces):
                    self._note(out, line.line_no + extra + k, piece, classifier.classify_line(piece, 0, fmt), fmt)
                extra += len(pieces) - 1
            if track:
                self._extra = extra
            return out
        # The usual case: find candidates in the whole batch at once (hyperscan), then classify those lines.
        found = {f.line: f for f in classifier.scan_text("\n".join(line.text for line in run), fmt=fmt)}
        if fmt == "jsonl" and (found or self._awaiting_recovery):
            for i, line in enumerate(run):
                self._note(out, line.line_no + self._extra, line.text, found.get(i), fmt)
        else:
            for i, finding in sorted(found.items()):
                self._note(out, run[i].line_no + self._extra, run[i].text, finding, fmt)
        return out

    def _note(self, out: list[tuple[int, str, Finding | None, datetime | None]], line: int, raw: str,
              finding: Finding | None, fmt: str) -> None:
        if finding is not None:
            self._awaiting_recovery = True
            out.append((line, raw, finding, None))
        elif self._awaiting_recovery and fmt == "jsonl" and '"assistant"' in raw:
            # Only the first successful reply after a failure ends incidents: parse no more JSON than that.
            recovery = self.classifier.is_recovery(raw, "jsonl")
            if recovery is not None:
                self._awaiting_recovery = False
                out.append((line, raw, None, recovery))
