"""Find Claude Code backend failures in text and say exactly where they are.

Two stages keep it both fast and precise: a literal prefilter over large byte chunks picks candidate lines
(`prefilter.py`); only those are cleaned of terminal controls and matched against the catalog's patterns.
Transcripts (`*.jsonl`) are trusted only where Claude Code itself marked an API error, so a tool result that
merely quotes "API Error: 500" (the model reading a log) is never flagged.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hiccup.catalog import Catalog, builtin_catalog
from hiccup.prefilter import Prefilter
from hiccup.redact import redact
from hiccup.tailer import next_line_start
from hiccup.textclean import clean_line

STRONG_MESSAGE_PRIORITY = 200  # message patterns at or above this override the error type of the body
CHUNK_BYTES = 1 << 20  # stays in L2 between the literal search and the newline count
MAX_LINE_BYTES = 1 << 20  # longer lines are classified on their first MiB, the rest is skipped and counted
MAX_LINE_CHARS = MAX_LINE_BYTES
# RE2 keeps a rule pack's regex linear, but not cheap: `(.*a){30}` costs 1.6 s on a 1 MiB line (its submatch
# pass is programme size x span). A pack pattern sees the first 16 KiB of a line: error lines are far shorter.
PACK_SEARCH_CHARS = 16 * 1024
BUILTIN = "built-in"
EXCERPT_CHARS = 300

# Metadata is read the same way whatever pattern matched.
_STATUS = re.compile(r"API Error:? \(?(?:Request rejected \()?([1-5]\d\d)\b|Error code: ([1-5]\d\d)\b")
# {"type":"error","error":{"type":"overloaded_error",…}  and the SDK's {'type': 'error', 'error': {'type': …
_ETYPE = re.compile(r"""["']error["']: ?\{[^{}]{0,120}?["']type["']: ?["']([a-z_]{2,60})["']"""
                    r'|^\s*\{"type": ?"([a-z_]{2,60})", ?"message"')
_REQUEST_ID = re.compile(r"\breq_[A-Za-z0-9]{8,64}\b")
# (attempt 3/10)  ·  attempt 5/10  ·  retrying streaming (1/10)
_ATTEMPT = re.compile(r"\battempt (\d{1,3}) ?(?:/|of) ?(\d{1,3})\b|\bretrying [a-z ]{0,30}\((\d{1,3})/(\d{1,3})\)")
# grep-style "path/to/file.log:118:" before the error: a quote of an old log, not a failure happening now
_QUOTED_FROM_FILE = re.compile(r"(?:^|[\s:])[\w./~-]+\.[A-Za-z]{1,6}:\d+:")
# 2025-11-02T10:00:00.123Z [ERROR] …   /   [2025-11-02 10:00:00,123] …
_TIMESTAMP = re.compile(
    r"^\W{0,3}(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)")
# resets 3pm (Europe/London) · reset at 10:30am · resets Oct 9, 10am · will reset at 3pm (America/New_York)
_RESET = re.compile(
    r"\bresets?(?: at)? ((?:(?P<mon>[A-Z][a-z]{2}) (?P<day>\d{1,2}),? (?:at )?)?"
    r"(?P<hour>\d{1,2})(?::(?P<min>\d\d))? ?(?P<ampm>am|pm|AM|PM)?"
    r"(?: \((?P<tz>[A-Za-z_]+(?:/[A-Za-z_+\-]+){0,2}|UTC)\))?)")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"), 1)}
_TRAILING = " \t·∙|,;:"
_QUOTE_PAIRS = {'"': '"', "'": "'", "`": "`", "“": "”", "‘": "’", "«": "»"}
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Finding:
    line: int
    start: int
    end: int
    category: str
    http_status: int | None
    error_type: str | None
    request_id: str | None
    attempt: tuple[int, int] | None
    timestamp: datetime | None
    reset_at: datetime | None
    reset_text: str | None
    excerpt: str
    fmt: str


@dataclass(frozen=True, slots=True)
class _Match:
    category: str
    start: int
    end: int
    status: int | None
    reset_epoch: int | None


def parse_timestamp(text: str) -> datetime | None:
    """ISO-8601 as Claude Code writes it (`2025-11-02T10:00:00.123Z`); naive times are taken as UTC."""
    try:
        ts = datetime.fromisoformat(text.replace(",", ".").replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def parse_reset(text: str, reference: datetime) -> tuple[datetime | None, str | None]:
    """When a usage limit resets, from "resets 3pm (Europe/London)": the next such time after `reference`."""
    m = _RESET.search(text)
    if not m:
        return None, None
    phrase = m.group(1).strip()
    hour = int(m.group("hour"))
    minute = int(m.group("min") or 0)
    ampm = (m.group("ampm") or "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or (not ampm and not m.group("min")):
        return None, phrase  # "resets 3" is too vague to schedule on
    try:
        tz = ZoneInfo(m.group("tz")) if m.group("tz") else reference.astimezone().tzinfo
    except (ZoneInfoNotFoundError, ValueError):
        tz = reference.astimezone().tzinfo
    local_ref = reference.astimezone(tz)
    try:
        if m.group("mon") and m.group("mon") in _MONTHS:
            when = local_ref.replace(month=_MONTHS[m.group("mon")], day=int(m.group("day")), hour=hour,
                                     minute=minute, second=0, microsecond=0)
            if when < local_ref - timedelta(days=180):
                when = when.replace(year=when.year + 1)
        else:
            when = local_ref.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if when <= local_ref:
                when += timedelta(days=1)
    except ValueError:
        return None, phrase
    return when.astimezone(UTC), phrase


class Classifier:
    """Stateless apart from compiled patterns: safe to share between the CLI, watchers and the server."""

    def __init__(self, catalog: Catalog | None = None, engine: str = "auto") -> None:
        self.catalog = catalog or builtin_catalog()
        self._triggers = self.catalog.triggers()
        self.prefilter = Prefilter([*self._triggers, '"isApiErrorMessage":true', '"subtype":"api_error"'],
                                   engine=engine)
        self._status_by_type = {t: c.id for c in self.catalog.categories.values() for t in c.error_types}
        self._by_status = {s: c.id for c in self.catalog.categories.values() for s in c.http_statuses}
        # trigger literal -> indices (in priority order) of the envelopes / patterns it gates
        self._envelopes_by_trigger: dict[str, list[int]] = {}
        for i, env in enumerate(self.catalog.envelopes):
            for t in env.triggers:
                self._envelopes_by_trigger.setdefault(t, []).append(i)
        self._patterns_by_trigger: dict[str, list[int]] = {}
        for i, pat in enumerate(self.catalog.patterns):
            for t in pat.triggers:
                self._patterns_by_trigger.setdefault(t, []).append(i)
        # An error body without a status line ({"type":"error","error":{"type":"invalid_request_error",…}}) still
        # has one on the wire: the first status of the category that owns the type.
        self._status_of_type = {t: c.http_statuses[0] for c in self.catalog.categories.values()
                                for t in c.error_types if c.http_statuses}
        self.skipped_long_lines = 0

    # --- formats -------------------------------------------------------------------------------------
    def detect_format(self, first_bytes: bytes, name: str = "") -> str:
        """jsonl for Claude Code transcripts, terminal when escape sequences show up, else log."""
        if name.endswith(".jsonl"):
            return "jsonl"
        head = first_bytes[:65536]
        first = head.lstrip()[:1]
        if first == b"{":
            line = head.lstrip().split(b"\n", 1)[0]
            if b'"sessionId"' in line or b'"type"' in line or b'"uuid"' in line:
                return "jsonl"
        if b"\x1b[" in head or b"\r" in head.replace(b"\r\n", b""):
            return "terminal"
        return "log"

    # --- one line ------------------------------------------------------------------------------------
    def _match_text(self, text: str) -> _Match | None:
        if not any(t in text for t in self._triggers):
            return None
        try:
            return self._match_clean(text)
        except UnicodeEncodeError:
            # Lone surrogates ("\ud800" from a JSON escape or a client) cannot reach RE2; one-for-one
            # replacement keeps every column where it was.
            return self._match_clean(_SURROGATES.sub("\ufffd", text))

    def _match_clean(self, text: str) -> _Match | None:
        # Envelopes first: "API Error: 403 {…"OAuth token has been revoked"…} · Please run /login" is one error
        # whose range starts at "API Error", even though a later phrase also matches a category pattern.
        # Only rules whose trigger is in the line are tried: the triggers present are found once, not per rule.
        present = [t for t in self._triggers if t in text]
        pack_end = min(len(text), PACK_SEARCH_CHARS)  # RE2 keeps the whole text as context: `$` stays the end
        envelopes = sorted({i for t in present for i in self._envelopes_by_trigger.get(t, ())})
        for i in envelopes:
            env = self.catalog.envelopes[i]
            m = env.regex.search(text) if env.source == BUILTIN else env.regex.search(text, 0, pack_end)
            if m and not _quoted(text, m.start(), m.end()):
                status = int(m.group("status")) if m.groupdict().get("status") else None
                category = self._resolve(m.group(0), status)
                if category:
                    return _Match(category, m.start(), m.end(), status, None)
        for i in sorted({i for t in present for i in self._patterns_by_trigger.get(t, ())}):
            p = self.catalog.patterns[i]
            m = p.regex.search(text) if p.source == BUILTIN else p.regex.search(text, 0, pack_end)
            if m and not _quoted(text, m.start(), m.end()):
                groups = m.groupdict()
                epoch, status = groups.get("reset_epoch"), groups.get("status")
                return _Match(p.category, m.start(), m.end(), int(status) if status else None,
                              int(epoch) if epoch else None)
        return None

    def _resolve(self, envelope: str, status: int | None) -> str | None:
        """Message first when it is decisive (a 400 saying "prompt is too long" is a context limit), then the
        error type, then weaker message hints ("throttled" on a proxy's 503), then the bare status."""
        et = _ETYPE.search(envelope)
        etype = et and (et.group(1) or et.group(2))
        weak: str | None = None
        for priority, category, rx in self.catalog.message_patterns:
            if rx.search(envelope):
                if priority >= STRONG_MESSAGE_PRIORITY:
                    return category
                weak = weak or category
        if etype and etype in self._status_by_type:
            return self._status_by_type[etype]
        if weak:
            return weak
        if status is not None:
            return self._by_status.get(status)
        return None

    def _finding(self, text: str, m: _Match, line_no: int, start: int, end: int, fmt: str,
                 timestamp: datetime | None) -> Finding:
        span = text[m.start:m.end]
        status = m.status
        if status is None:
            sm = _STATUS.search(text)
            if sm:
                status = int(sm.group(1) or sm.group(2))
        et = _ETYPE.search(text)
        etype = (et.group(1) or et.group(2)) if et else None
        if status is None and etype:
            status = self._status_of_type.get(etype)
        rid = _REQUEST_ID.search(text)
        at = _ATTEMPT.search(text)
        if timestamp is None:
            tm = _TIMESTAMP.search(text)
            timestamp = parse_timestamp(tm.group(1)) if tm else None
        reset_at: datetime | None = None
        reset_text: str | None = None
        if m.category == "usage_limit":
            if m.reset_epoch:
                try:
                    reset_at = datetime.fromtimestamp(m.reset_epoch, UTC)
                    reset_text = reset_at.astimezone().strftime("%H:%M")
                except (OverflowError, OSError, ValueError):
                    reset_at = None
            else:
                reset_at, reset_text = parse_reset(text, timestamp or datetime.now(UTC))
        excerpt = redact(span.strip())
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[: EXCERPT_CHARS - 1] + "…"
        return Finding(line=line_no, start=start, end=end, category=m.category, http_status=status,
                       error_type=etype, request_id=rid.group(0) if rid else None,
                       attempt=_attempt(at), timestamp=timestamp,
                       reset_at=reset_at, reset_text=reset_text, excerpt=excerpt, fmt=fmt)

    def classify_line(self, raw: str, line_no: int = 0, fmt: str = "log") -> Finding | None:
        """The failure on this line, with columns in `raw`; None for everything else, whatever the input."""
        if len(raw) > MAX_LINE_CHARS:
            raw = raw[:MAX_LINE_CHARS]
        if fmt == "jsonl" and raw.lstrip().startswith("{"):
            return self._classify_jsonl(raw, line_no)
        cleaned = clean_line(raw)
        m = self._match_text(cleaned.text)
        if m is None:
            return None
        text = cleaned.text
        if _QUOTED_FROM_FILE.search(text, 0, m.start):
            return None
        start, end = m.start, m.end
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        return self._finding(text, m, line_no, cleaned.to_raw(start), cleaned.to_raw_end(end), fmt, None)

    # --- transcripts ---------------------------------------------------------------------------------
    @staticmethod
    def _load_entry(raw: str) -> dict[str, Any] | None:
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):  # truncated line mid-write, or absurdly nested
            return None
        return entry if isinstance(entry, dict) else None

    @staticmethod
    def _entry_text(entry: dict[str, Any]) -> str | None:
        # {"type":"assistant","isApiErrorMessage":true,"message":{"model":"<synthetic>",
        #  "content":[{"type":"text","text":"API Error: 500 {\"type\":\"error\",…}"}]},"timestamp":"…"}
        if entry.get("isApiErrorMessage") is True:
            message = entry.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                parts = [c.get("text") for c in content if isinstance(c, dict) and isinstance(c.get("text"), str)]
                return "\n".join(parts) if parts else None
            return None
        # {"type":"system","subtype":"api_error","level":"error","error":{…},"retryAttempt":2,"maxRetries":10}
        if entry.get("type") == "system" and entry.get("subtype") == "api_error":
            content = entry.get("content")
            if isinstance(content, str) and content:
                return content
            error = entry.get("error")
            cause = error.get("cause") if isinstance(error, dict) else None
            if isinstance(cause, dict) and isinstance(cause.get("code"), str):
                # {"error":{"cause":{"code":"ECONNRESET","path":"https://api.anthropic.com/v1/messages"}}}
                code = cause["code"][:60]
                text = (f"API Error: Request timed out ({code})" if code == "ETIMEDOUT"
                        else f"API Error: Connection error ({code})")
            elif isinstance(error, dict):
                status = error.get("status")
                body = error.get("error", error)
                text = f"API Error: {status} {json.dumps(body, separators=(',', ':'))}" if status else \
                    f"API Error: {json.dumps(body, separators=(',', ':'))}"
            else:
                return None
            attempt, total = entry.get("retryAttempt"), entry.get("maxRetries")
            if isinstance(attempt, int) and isinstance(total, int):
                text += f" (attempt {attempt}/{total})"
            return text
        return None

    def _classify_jsonl(self, raw: str, line_no: int) -> Finding | None:
        if "isApiErrorMessage" not in raw and '"api_error"' not in raw:
            return None
        entry = self._load_entry(raw)
        if entry is None:
            return None
        text = self._entry_text(entry)
        if not text:
            return None
        first = text.split("\n", 1)[0]
        m = self._match_text(first)
        if m is None:
            return None
        ts = entry.get("timestamp")
        timestamp = parse_timestamp(ts) if isinstance(ts, str) else None
        start, end = _raw_span(raw, entry, first[m.start:m.end].rstrip(_TRAILING))
        finding = self._finding(first, m, line_no, start, end, "jsonl", timestamp)
        changes: dict[str, Any] = {}
        rid = entry.get("requestId")
        if finding.request_id is None and isinstance(rid, str) and _REQUEST_ID.fullmatch(rid):
            changes["request_id"] = rid
        status = entry.get("apiErrorStatus")  # "apiErrorStatus":429 beside a usage-limit message
        if finding.http_status is None and isinstance(status, int) and 100 <= status <= 599:
            changes["http_status"] = status
        return replace(finding, **changes) if changes else finding

    def is_recovery(self, raw: str, fmt: str = "jsonl") -> datetime | None:
        """A real assistant reply in a transcript ends an incident: the backend answered again."""
        if fmt != "jsonl" or '"assistant"' not in raw or "isApiErrorMessage" in raw:
            return None
        entry = self._load_entry(raw)
        if entry is None or entry.get("type") != "assistant":
            return None
        message = entry.get("message")
        if not isinstance(message, dict) or message.get("model") == "<synthetic>":
            return None
        ts = entry.get("timestamp")
        return (parse_timestamp(ts) if isinstance(ts, str) else None) or datetime.now(UTC)

    # --- whole inputs --------------------------------------------------------------------------------
    def scan_bytes(self, data: bytes, fmt: str | None = None, name: str = "") -> list[Finding]:
        return list(self.scan_stream(_BytesReader(data), fmt=fmt, name=name))

    def scan_text(self, text: str, fmt: str | None = None, name: str = "") -> list[Finding]:
        return self.scan_bytes(text.encode("utf-8", "surrogatepass"), fmt=fmt, name=name)

    def scan_file(self, path: str | Path, fmt: str | None = None, workers: int | None = None) -> Iterator[Finding]:
        """Large regular files are split at line boundaries and scanned by several processes.

        One core tops out near the literal search plus newline counting (~1 GB/s each); a 1 GB log on two cores
        takes half the time. Each part streams in bounded chunks; findings come back in file order.
        """
        with open(path, "rb") as fp:
            if fmt is None:
                fmt = self.detect_format(fp.read(65536), str(path))
                fp.seek(0)
            size = os.fstat(fp.fileno()).st_size
            workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
            if workers < 2 or size < PARALLEL_MIN_BYTES or not _can_fork():
                yield from self.scan_stream(fp, fmt=fmt, name=str(path))
                return
            bounds = _split_at_lines(fp, size, workers)
        yield from _scan_parts(self, str(path), fmt, bounds)

    def scan_stream(self, fp: IO[bytes] | _BytesReader, fmt: str | None = None, name: str = "",
                    chunk_bytes: int = CHUNK_BYTES, stats: dict[str, int] | None = None) -> Iterator[Finding]:
        """Bounded memory whatever the input: chunks of `chunk_bytes`, lines capped at MAX_LINE_BYTES.

        Each chunk is searched in place (no copy): the partial line at its start is joined to the previous
        chunk's tail and searched on its own, the partial line at its end is carried to the next chunk.
        """
        carry = b""  # the unfinished last line of the previous chunk (bounded by MAX_LINE_BYTES)
        line_base = 0  # line number of the first byte of `carry` (or of the chunk when carry is empty)
        skipping = False  # inside an over-long line whose head was already classified
        first = True
        while True:
            data = fp.read(chunk_bytes)
            if first:
                fmt = fmt or self.detect_format(data, name)
                first = False
            if not data:
                if carry and not skipping:
                    yield from self._scan_block(carry, 0, len(carry), line_base, fmt)
                if stats is not None:
                    stats["lines"] = line_base
                return
            head_end = data.find(b"\n") + 1
            if head_end == 0:  # no newline in the whole chunk: the line goes on
                if skipping:
                    continue
                carry += data
                if len(carry) > MAX_LINE_BYTES:
                    self.skipped_long_lines += 1
                    yield from self._scan_block(carry[:MAX_LINE_BYTES], 0, MAX_LINE_BYTES, line_base, fmt)
                    carry, skipping = b"", True
                continue
            if skipping:
                skipping = False
            elif carry:
                joined = carry + data[:head_end]
                yield from self._scan_block(joined, 0, min(len(joined), MAX_LINE_BYTES), line_base, fmt)
            else:
                yield from self._scan_block(data, 0, head_end, line_base, fmt)
            line_base += 1
            cut = data.rfind(b"\n") + 1
            if cut > head_end:
                # the block counts newlines up to its last candidate; only the rest is counted here
                counted_to, line_base = yield from self._scan_block(data, head_end, cut, line_base, fmt)
                line_base += data.count(b"\n", counted_to, cut)
            carry = data[cut:]
            if len(carry) > MAX_LINE_BYTES:
                self.skipped_long_lines += 1
                yield from self._scan_block(carry[:MAX_LINE_BYTES], 0, MAX_LINE_BYTES, line_base, fmt)
                carry, skipping = b"", True

    def _scan_block(self, block: bytes, lo: int, hi: int, line_base: int,
                    fmt: str) -> Generator[Finding, None, tuple[int, int]]:
        """Findings in block[lo:hi], which starts at a line start; line numbers count from line_base.

        Returns how far newlines were counted and the line number there, so the caller never counts twice.
        """
        counted_to = lo
        line_no = line_base
        next_allowed = lo
        for off in self.prefilter.candidates(block, lo, hi):
            if off < next_allowed:
                continue
            ls = block.rfind(b"\n", lo, off) + 1 or lo
            le = block.find(b"\n", off, hi)
            if le < 0:
                le = hi
            line_no += block.count(b"\n", counted_to, ls)
            counted_to = ls
            next_allowed = le + 1
            raw = block[ls:min(le, ls + MAX_LINE_BYTES)].decode("utf-8", "replace").rstrip("\r")
            finding = self.classify_line(raw, line_no, fmt)
            if finding is not None:
                yield finding
        return counted_to, line_no


PARALLEL_MIN_BYTES = 32 << 20  # below this, forking costs more than it saves


def _can_fork() -> bool:
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()


def _split_at_lines(fp: IO[bytes], size: int, parts: int) -> list[tuple[int, int]]:
    cuts = [0]
    for i in range(1, parts):
        pos = next_line_start(fp.fileno(), size * i // parts, size) or size  # no line is split between workers
        if cuts[-1] < pos < size:
            cuts.append(pos)
    cuts.append(size)
    return list(itertools.pairwise(cuts))


class _RangeReader:
    """Reads one byte range of a file, so a worker sees its part as a whole stream."""

    def __init__(self, fp: IO[bytes], start: int, end: int) -> None:
        fp.seek(start)
        self._fp, self._left = fp, end - start

    def read(self, n: int) -> bytes:
        data = self._fp.read(min(n, self._left)) if self._left > 0 else b""
        self._left -= len(data)
        return data


def _scan_part(args: tuple[Classifier, str, str, int, int]) -> tuple[list[Finding], int]:
    classifier, path, fmt, start, end = args
    stats: dict[str, int] = {}
    with open(path, "rb") as fp:
        findings = list(classifier.scan_stream(_RangeReader(fp, start, end), fmt=fmt, stats=stats))
    return findings, stats["lines"]


def _scan_parts(classifier: Classifier, path: str, fmt: str, bounds: list[tuple[int, int]]) -> Iterator[Finding]:
    """Forked children scan the later parts while this process scans the first; line numbers are shifted after.

    A bare fork and a pipe per child: the compiled hyperscan database is inherited rather than pickled, and
    a process pool's start-up would eat much of the gain on a 100 MB file.
    """
    import pickle

    children: list[tuple[int, int]] = []
    for start, end in bounds[1:]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: scan, send, leave without running the parent's cleanup
            os.close(r)
            code = 0
            try:
                payload = pickle.dumps(_scan_part((classifier, path, fmt, start, end)))
                with os.fdopen(w, "wb") as out:
                    out.write(payload)
            except BaseException:
                code = 1
            os._exit(code)
        os.close(w)
        children.append((pid, r))
    try:
        stats: dict[str, int] = {}
        with open(path, "rb") as fp:
            yield from classifier.scan_stream(_RangeReader(fp, *bounds[0]), fmt=fmt, stats=stats)
        line_base = stats["lines"]
        for (pid, r), (start, end) in zip(children, bounds[1:], strict=True):
            with os.fdopen(r, "rb") as inp:
                data = inp.read()
            os.waitpid(pid, 0)
            if data:
                findings, lines = pickle.loads(data)
            else:  # the child died: do its part here rather than lose it
                findings, lines = _scan_part((classifier, path, fmt, start, end))
            for f in findings:
                yield replace(f, line=f.line + line_base)
            line_base += lines
            children = children[1:]
    finally:
        for pid, r in children:  # the consumer stopped early: reap what is left
            with contextlib.suppress(OSError):
                os.close(r)
            os.waitpid(pid, 0)


class _BytesReader:
    """The `read` slice of a file over an in-memory buffer, without copying it into a BytesIO."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def read(self, n: int) -> bytes:
        out = bytes(self._view[self._pos:self._pos + n])
        self._pos += len(out)
        return out


def _raw_span(raw: str, entry: dict[str, Any], text: str) -> tuple[int, int]:
    """Where the error sits in the raw JSON line: the escaped message text, else the `error` object."""
    for escaped in (json.dumps(text, ensure_ascii=False)[1:-1], json.dumps(text)[1:-1]):
        at = raw.find(escaped) if escaped else -1
        if at >= 0:
            return at, at + len(escaped)
    error = entry.get("error")
    if error is not None:
        body = '"error":' + json.dumps(error, separators=(",", ":"), ensure_ascii=False)
        at = raw.find(body)
        if at >= 0:
            return at, at + len(body)
        at = raw.find('"error":')
        if at >= 0:
            return at, at + len('"error":')
    return 0, len(raw)  # written with some other escaping: the whole line rather than a guess


def _quoted(text: str, start: int, end: int) -> bool:
    """`say "Credit balance is too low"?` quotes a message in prose; it is not the message happening."""
    end = len(text[:end].rstrip(_TRAILING))
    if start == 0 or end >= len(text):
        return False
    return _QUOTE_PAIRS.get(text[start - 1]) == text[end]


def _attempt(m: re.Match[str] | None) -> tuple[int, int] | None:
    if m is None:
        return None
    return (int(m.group(1) or m.group(3)), int(m.group(2) or m.group(4)))


@cache
def default_classifier() -> Classifier:
    return Classifier()
