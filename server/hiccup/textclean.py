"""Turn raw terminal bytes-as-text into what the developer saw, keeping a map back to raw columns.

Claude Code's TUI paints with colour (`\x1b[31m`), moves the cursor (`\x1b[2K\x1b[1A`), sets titles
(`\x1b]0;✳ claude\x07`) and redraws progress with `\r`. Patterns must see the visible text, while editor
diagnostics must point at columns of the raw line the editor holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# CSI (ESC [ … final), OSC (ESC ] … BEL or ST, or unterminated to end), other two-byte escapes, lone ESC,
# and C0/C1 controls other than tab. An unterminated CSI at end of line is swallowed, never a hang.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*(?:[@-~]|$)"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\|$)"
    r"|\x1b[P^_][^\x1b]*(?:\x1b\\|$)"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]"
)
_HIDDEN = re.compile(_ESCAPES.pattern + r"|\r")
_NEEDS_WORK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


@dataclass(frozen=True, slots=True)
class Cleaned:
    text: str
    # raw column of each visible character (len(text) + 1 entries, the last one is the end); None = identity
    columns: tuple[int, ...] | None = None

    def to_raw(self, col: int) -> int:
        if self.columns is None:
            return col
        return self.columns[max(0, min(col, len(self.columns) - 1))]

    def to_raw_end(self, col: int) -> int:
        """An exclusive end: right after the last visible character, not after the escapes that follow it."""
        if self.columns is None or col <= 0:
            return self.to_raw(col)
        return self.to_raw(col - 1) + 1


def clean_line(raw: str) -> Cleaned:
    """Visible text of one line; cheap (identity) for the common line with no controls at all."""
    if not _NEEDS_WORK.search(raw):
        return Cleaned(raw)
    # `\r` returns the cursor: what follows overwrites. Keep the last non-empty segment ("50%\r100%" → "100%").
    start = 0
    body = raw.rstrip("\r")
    if "\r" in body:
        segments = body.split("\r")
        offset = 0
        for seg in segments:
            if _ESCAPES.sub("", seg).strip():
                start = offset
            offset += len(seg) + 1
    out: list[str] = []
    cols: list[int] = []
    pos = start
    # visible runs lie between escapes (a leftover "\r" counts as one); copy each run and its columns at once
    for m in _HIDDEN.finditer(body, start):
        if m.start() > pos:
            out.append(body[pos:m.start()])
            cols.extend(range(pos, m.start()))
        pos = m.end()
    if pos < len(body):
        out.append(body[pos:])
        cols.extend(range(pos, len(body)))
    cols.append(cols[-1] + 1 if cols else start)
    return Cleaned("".join(out), tuple(cols))


def clean_text(raw: str) -> str:
    """Whole-text version for terminal transcripts shown to the user."""
    return "\n".join(clean_line(line).text for line in raw.replace("\r\n", "\n").split("\n"))
