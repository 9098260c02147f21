"""Find candidate lines fast: a literal search over big byte chunks before any regex runs.

Per-line regexes in Python manage ~15 MB/s; a literal prefilter over 1–4 MB chunks runs at memory speed and
leaves the full patterns for the few lines that contain a trigger (see ../shared/PERF-NOTES.md).
hyperscan does all triggers in one pass; the standard-library fallback does one `bytes.find` pass per trigger.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

try:  # wheels exist for the common platforms only; the fallback keeps every platform working
    import hyperscan as _hs
except ImportError:  # pragma: no cover - exercised by forcing engine="stdlib" in tests
    _hs = None


def _minimal(triggers: Sequence[str]) -> list[bytes]:
    """Drop triggers that contain another trigger: the shorter one already finds the line."""
    raw = sorted({t.encode("utf-8") for t in triggers}, key=len)
    keep: list[bytes] = []
    for t in raw:
        if not any(k in t for k in keep):
            keep.append(t)
    return keep


class Prefilter:
    """Offsets in a chunk where some trigger ends; callers expand each to its line."""

    def __init__(self, triggers: Sequence[str], engine: str = "auto") -> None:
        self.literals = _minimal(triggers)
        if engine == "auto":
            engine = "hyperscan" if _hs is not None else "stdlib"
        if engine == "hyperscan" and _hs is None:
            raise RuntimeError("hyperscan is not installed")
        self.engine = engine
        self._db = None
        if engine == "hyperscan":
            db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
            db.compile(expressions=[re.escape(lit) for lit in self.literals],
                       ids=list(range(len(self.literals))),
                       elements=len(self.literals),
                       flags=[0] * len(self.literals))
            self._db = db
            self._scratch = _hs.Scratch(db)

    def candidates(self, chunk: bytes, lo: int = 0, hi: int | None = None) -> list[int]:
        """Sorted offsets (into `chunk`) of trigger hits within chunk[lo:hi]; duplicates are harmless."""
        hi = len(chunk) if hi is None else hi
        if self._db is not None:
            hits: list[int] = []

            def on_match(_id: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
                hits.append(lo + end - 1)

            view = chunk if (lo == 0 and hi == len(chunk)) else memoryview(chunk)[lo:hi]
            self._db.scan(view, match_event_handler=on_match, scratch=self._scratch)
            hits.sort()
            return hits
        found: list[int] = []
        for lit in self.literals:
            i = chunk.find(lit, lo, hi)
            while i >= 0:
                found.append(i)
                # the rest of this line is irrelevant: one hit per line is enough
                nl = chunk.find(b"\n", i, hi)
                if nl < 0:
                    break
                i = chunk.find(lit, nl + 1, hi)
        found.sort()
        return found
