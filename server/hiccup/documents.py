"""Per-document classification state, kept up to date edit by edit.

A Claude Code debug log open in an editor can be 50 MB and still growing. Re-scanning it on every keystroke or
appended line would freeze the server, so a document keeps its text as a list of lines plus the finding (or
transcript recovery) of each line, and an edit re-classifies only the lines it touched: the lines after it just
shift. pygls' own `TextDocument` rebuilds and re-splits the whole text on every change, which is why the server
keeps these documents itself.

Positions here are (line, code-point column); the LSP layer converts from and to UTF-16.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlparse

from hiccup.redact import redact

if TYPE_CHECKING:
    from hiccup.classifier import Classifier, Finding

# LSP counts \r\n, \r and \n as line breaks, and nothing else (unlike str.splitlines).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

CANDIDATE_SUFFIXES = frozenset({".log", ".txt", ".jsonl", ".out", ".err", ".transcript"})
CANDIDATE_LANGUAGES = frozenset({"plaintext", "text", "log", "jsonl", "jsonlines", "json-lines", ""})
CANDIDATE_SCHEMES = frozenset({"output", "hiccup-terminal"})

# A TUI redraw repeats the same error line within seconds; a real repeat comes after a retry or a new prompt.
REDRAW_WINDOW = timedelta(seconds=60)
REDRAW_LOOKBACK = 8


def is_candidate(uri: str, language_id: str | None) -> bool:
    """Documents worth classifying: logs, text, transcripts, output panes and terminal transcripts — not code."""
    parsed = urlparse(uri)
    if parsed.scheme in CANDIDATE_SCHEMES:
        return True
    suffix = PurePosixPath(unquote(parsed.path)).suffix.lower()
    if suffix in CANDIDATE_SUFFIXES:
        return True
    return (language_id or "").lower() in CANDIDATE_LANGUAGES


def split_lines(text: str) -> list[str]:
    """Lines as an LSP client numbers them (a trailing break yields a final empty line)."""
    if "\r" not in text:
        return text.split("\n")
    return _LINE_BREAK.split(text)


@dataclass(slots=True)
class Hit:
    """What one line contributed: a failure, or (transcripts) a successful reply that ends incidents."""

    key: tuple[str, int]  # (document URI, serial): stable while the line moves up or down
    finding: Finding | None
    recovery: datetime | None
    observed_at: datetime
    redraw: bool = False  # the same failure repainted by a TUI: not a new occurrence, not shown again


@dataclass
class Delta:
    """What an edit changed, for the incident store: forget `removed`, then observe `added` in order."""

    removed: list[Hit] = field(default_factory=list)
    added: list[tuple[int, Hit]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.removed or self.added)


_DIGITS = re.compile(r"\d+")


def _identity(f: Finding) -> tuple[object, ...]:
    """What makes an edited line still "the same failure" (its matched text may grow with the line)."""
    return (f.category, f.http_status, f.error_type, f.request_id, f.attempt, f.timestamp)


def _signature(f: Finding) -> tuple[object, ...]:
    """A failure as displayed: a countdown ("Retrying in 4 seconds…") does not make it another one."""
    return (*_identity(f), _DIGITS.sub("#", f.excerpt))


class Document:
    """The lines of one open document (or terminal transcript) and their classification."""

    def __init__(self, uri: str, text: str, classifier: Classifier, now: datetime, *,
                 fmt: str | None = None, dedupe_redraws: bool = False) -> None:
        self.uri = uri
        self.classifier = classifier
        self.dedupe_redraws = dedupe_redraws
        self.name = PurePosixPath(unquote(urlparse(uri).path)).name
        self._fixed_fmt = fmt
        self._serial = itertools.count(1)
        self.lines: list[str] = []
        self.hits: dict[int, Hit] = {}
        self.fmt = fmt or "log"
        self.version: int | None = None
        self._recent: deque[Hit] = deque(maxlen=REDRAW_LOOKBACK)
        self.replace_all(text, now)

    # --- reading -------------------------------------------------------------------------------------
    @property
    def char_count(self) -> int:
        return sum(map(len, self.lines)) + max(len(self.lines) - 1, 0)

    def text(self) -> str:
        return "\n".join(self.lines)

    def line(self, index: int) -> str:
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def hit_at(self, line: int) -> Hit | None:
        return self.hits.get(line)

    def entries(self) -> list[tuple[int, Hit]]:
        """Every hit in line order, recoveries included: what a fresh incident store must replay."""
        return sorted(self.hits.items(), key=lambda item: item[0])

    def findings(self) -> Iterator[tuple[int, Hit]]:
        """Shown failures in line order (recoveries and redraws left out)."""
        for line in sorted(self.hits):
            hit = self.hits[line]
            if hit.finding is not None and not hit.redraw:
                yield line, hit

    # --- changing ------------------------------------------------------------------------------------
    def replace_all(self, text: str, now: datetime) -> Delta:
        """Whole-text replacement (didOpen, full-sync didChange)."""
        delta = Delta(removed=list(self.hits.values()))
        self.lines = split_lines(text)
        self.hits = {}
        if self._fixed_fmt is None:
            self.fmt = self.classifier.detect_format(text[:65536].encode("utf-8", "surrogatepass"), self.name)
        delta.added = self._classify_all(text, now)
        return delta

    def replace(self, start: tuple[int, int], end: tuple[int, int], new_text: str, now: datetime) -> Delta:
        """Apply one incremental edit; only the lines it spans are classified again."""
        (sl, sc), (el, ec) = self._clamp(start), self._clamp(end)
        if (el, ec) < (sl, sc):
            (sl, sc), (el, ec) = (el, ec), (sl, sc)
        parts = split_lines(new_text)
        parts[0] = self.lines[sl][:sc] + parts[0]
        parts[-1] = parts[-1] + self.lines[el][ec:]
        if len(parts) == 1 and el == sl and parts[0] == self.lines[sl]:
            return Delta()
        shift = len(parts) - (el - sl + 1)
        old = [self.hits[i] for i in range(sl, el + 1) if i in self.hits]
        self.lines[sl:el + 1] = parts
        if shift:
            self.hits = {(i + shift if i > el else i): h for i, h in self.hits.items() if not sl <= i <= el}
        else:
            for i in range(sl, el + 1):
                self.hits.pop(i, None)
        if self._fixed_fmt is None and sl < 5:
            head = "\n".join(self.lines[:50]).encode("utf-8", "surrogatepass")
            fmt = self.classifier.detect_format(head, self.name)
            if fmt != self.fmt:  # "{" became a transcript line, or escapes appeared: everything reads differently
                self.fmt = fmt
                delta = Delta(removed=old + list(self.hits.values()))
                self.hits = {}
                delta.added = self._classify_all(self.text(), now)
                return delta
        return self._reclassify(old, range(sl, sl + len(parts)), now)

    def append(self, text: str, now: datetime) -> Delta:
        """Add text at the very end (terminal output, a growing log)."""
        end = (len(self.lines) - 1, len(self.lines[-1]))
        return self.replace(end, end, text, now)

    def trim_head(self, line_count: int) -> list[Hit]:
        """Drop the first lines (a bounded transcript); their hits leave the document but stay in history."""
        line_count = min(line_count, len(self.lines) - 1)
        if line_count <= 0:
            return []
        dropped = [h for i, h in self.hits.items() if i < line_count]
        del self.lines[:line_count]
        self.hits = {i - line_count: h for i, h in self.hits.items() if i >= line_count}
        return dropped

    # --- classification ------------------------------------------------------------------------------
    def _clamp(self, pos: tuple[int, int]) -> tuple[int, int]:
        line, col = pos
        if line >= len(self.lines):
            return len(self.lines) - 1, len(self.lines[-1])
        line = max(line, 0)
        return line, max(0, min(col, len(self.lines[line])))

    def _new_hit(self, finding: Finding | None, recovery: datetime | None, now: datetime) -> Hit:
        return Hit((self.uri, next(self._serial)), finding, recovery, now)

    def _classify_all(self, text: str, now: datetime) -> list[tuple[int, Hit]]:
        classifier = self.classifier
        if "\r" in text.replace("\r\n", ""):
            # lone \r breaks lines for the editor but not for the streaming scanner: classify line by line
            found = [f for i, line in enumerate(self.lines) if (f := classifier.classify_line(line, i, self.fmt))]
        else:
            found = classifier.scan_text(text, fmt=self.fmt, name=self.name)
        entries: list[tuple[int, Finding | None, datetime | None]] = [(f.line, f, None) for f in found]
        if self.fmt == "jsonl":
            entries += [(i, None, at) for i, line in enumerate(self.lines)
                        if '"assistant"' in line and (at := classifier.is_recovery(line, "jsonl")) is not None]
            entries.sort(key=lambda e: e[0])
        added = []
        for line, finding, recovery in entries:
            hit = self._new_hit(finding, recovery, now)
            self._mark_redraw(hit)
            self.hits[line] = hit
            added.append((line, hit))
        return added

    def _reclassify(self, old: list[Hit], lines: range, now: datetime) -> Delta:
        """Classify `lines`; a finding identical to one the edit removed keeps its hit (typing next to an error
        must not turn it into a new occurrence)."""
        reusable = {(_identity(h.finding) if h.finding else ("recovery", h.recovery)): h for h in old}
        delta = Delta()
        for i in lines:
            raw = self.lines[i]
            finding = self.classifier.classify_line(raw, i, self.fmt)
            recovery = None
            if finding is None and self.fmt == "jsonl" and '"assistant"' in raw:
                recovery = self.classifier.is_recovery(raw, "jsonl")
            if finding is None and recovery is None:
                continue
            sig = _identity(finding) if finding else ("recovery", recovery)
            if (kept := reusable.pop(sig, None)) is not None:
                kept.finding = finding
                self.hits[i] = kept
                continue
            hit = self._new_hit(finding, recovery, now)
            self._mark_redraw(hit)
            self.hits[i] = hit
            delta.added.append((i, hit))
        delta.removed = list(reusable.values())
        return delta

    def _mark_redraw(self, hit: Hit) -> None:
        """Terminal transcripts only grow at the end, so "recent" is simply the last few failures seen."""
        if not self.dedupe_redraws or hit.finding is None:
            return
        sig = _signature(hit.finding)
        hit.redraw = any(_signature(prev.finding) == sig and hit.observed_at - prev.observed_at <= REDRAW_WINDOW
                         for prev in self._recent if prev.finding is not None)
        self._recent.append(hit)


MAX_TRANSCRIPT_CHARS = 2 * 1024 * 1024
_TRIM_TO_CHARS = MAX_TRANSCRIPT_CHARS * 7 // 8  # trim in batches, not one line per chunk
_MAX_PENDING_CHARS = 64 * 1024  # a "line" that never ends (a spinner without newlines) is cut here


def terminal_uri(terminal_id: str, name: str) -> str:
    """`hiccup-terminal:/<terminalId>/<url-quoted name>` (docs/protocol.md)."""
    # VS Code decodes %2F in a path, so a "/" in a terminal name would not round-trip: use a look-alike.
    label = name.replace("/", "\u2215")
    return f"hiccup-terminal:/{quote(terminal_id, safe='')}/{quote(label, safe='')}"


class TerminalTranscript:
    """The last 2 MB of a terminal's output, cleaned of ANSI and `\\r` redraws, as a classifiable document.

    Chunks arrive cut anywhere (mid-line, mid-escape-sequence), so the raw text of the unfinished last line is
    kept aside until its newline arrives: classifying half a line would count a growing line many times.
    """

    def __init__(self, terminal_id: str, name: str, classifier: Classifier, now: datetime,
                 clean: Callable[[str], str] | None = None) -> None:
        from hiccup.textclean import clean_text

        self.terminal_id = terminal_id
        self.name = name
        self.uri = terminal_uri(terminal_id, name)
        self.doc = Document(self.uri, "", classifier, now, fmt="terminal", dedupe_redraws=True)
        self.closed = False
        self.sink: Callable[[str, datetime], None] | None = None  # persists complete lines (terminal_store)
        self._clean = clean or clean_text
        self._pending = ""
        self._chars = 0

    def feed(self, data: str, now: datetime) -> Delta:
        """Append a chunk; complete lines are cleaned and classified once, the unfinished one waits."""
        raw = self._pending + data
        complete, newline, tail = raw.rpartition("\n")
        if len(tail) > _MAX_PENDING_CHARS:
            complete, newline, tail = raw, "\n", ""
        self._pending = tail
        if not newline:
            return Delta()
        # `export ANTHROPIC_API_KEY=sk-ant-…` echoed by a shell: the transcript is shown, saved and reported.
        # Line by line, like every other redaction, so that no pattern reaches across lines.
        text = "\n".join(map(redact, self._clean(complete).split("\n"))) + "\n"
        if self.sink is not None:
            self.sink(text, now)
        return self.replay(text, now)

    def replay(self, text: str, at: datetime) -> Delta:
        """Add complete lines that are already clean (a transcript read back after a restart), seen at `at`."""
        self._chars += len(text)
        delta = self.doc.append(text, at)
        if self._chars > MAX_TRANSCRIPT_CHARS:
            self._trim()
        return delta

    def text(self) -> str:
        """The transcript as shown: complete lines, then what has arrived of the current one."""
        return self.doc.text() + redact(self._clean(self._pending))

    def _trim(self) -> None:
        excess, count = self._chars - _TRIM_TO_CHARS, 0
        for line in self.doc.lines[:-1]:
            if excess <= 0:
                break
            excess -= len(line) + 1
            count += 1
        self.doc.trim_head(count)
        self._chars = self.doc.char_count
