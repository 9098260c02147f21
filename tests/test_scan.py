"""Streaming scans: chunk boundaries, huge lines, parallel parts — the same findings as line-by-line."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hiccup.classifier as classifier_mod
from hiccup.classifier import Classifier, default_classifier

ERRORS = [
    '  ⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
    "  ⎿  API Error (Request timed out.) · Retrying in 1 seconds… (attempt 1/10)",
    "5-hour limit reached ∙ resets 3pm",
    "Invalid API key · Please run /login",
    "\x1b[31m⎿  API Error: Connection error.\x1b[39m",
]
BENIGN = ["GET / 200", "POST /login 429", "FAILED tests/test_x.py::test_rate_limit", "✻ Thinking…", "",
          "é" * 40, "  ⎿  Read 12 lines"]


def reference(lines: list[str]) -> list[tuple[int, str, int, int]]:
    c = default_classifier()
    out = []
    for i, line in enumerate(lines):
        f = c.classify_line(line.rstrip("\r"), i, "terminal")
        if f:
            out.append((i, f.category, f.start, f.end))
    return out


def summary(findings: object) -> list[tuple[int, str, int, int]]:
    return [(f.line, f.category, f.start, f.end) for f in findings]  # type: ignore[attr-defined]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int) -> bytes:
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out


@settings()
@given(st.lists(st.sampled_from(ERRORS + BENIGN), min_size=1, max_size=80), st.integers(1, 300),
       st.booleans())
def test_any_chunk_size_finds_the_same_as_line_by_line(lines: list[str], chunk: int, final_newline: bool) -> None:
    data = ("\n".join(lines) + ("\n" if final_newline else "")).encode()
    got = summary(default_classifier().scan_stream(_Reader(data), fmt="terminal", chunk_bytes=chunk))
    assert got == reference(lines)


def test_huge_line_is_bounded_and_the_next_lines_keep_their_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier_mod, "MAX_LINE_BYTES", 4096)
    c = Classifier()
    data = ("API Error: Connection error. " + "x" * 50_000 + "\nok\n" + ERRORS[3] + "\n").encode()
    got = summary(c.scan_stream(_Reader(data), fmt="log", chunk_bytes=1000))
    assert [(line, cat) for line, cat, _, _ in got] == [(0, "connection"), (2, "authentication")]
    assert c.skipped_long_lines == 1


def test_parallel_parts_equal_serial_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    lines = [rng.choice(ERRORS) if rng.random() < 0.01 else rng.choice(BENIGN) for _ in range(20_000)]
    path = tmp_path / "big.log"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(classifier_mod, "PARALLEL_MIN_BYTES", 0)
    c = default_classifier()
    serial = summary(c.scan_file(path, workers=1))
    assert serial == reference(lines)
    for workers in (2, 3):
        assert summary(c.scan_file(path, workers=workers)) == serial


def test_crlf_and_invalid_utf8_and_nul(tmp_path: Path) -> None:
    path = tmp_path / "mixed.log"
    path.write_bytes(b"\xff\xfe junk \x00\x00\r\n" + ERRORS[1].encode() + b"\r\n\xc3(\n" + ERRORS[2].encode())
    got = summary(default_classifier().scan_file(path))
    assert [(line, cat) for line, cat, _, _ in got] == [(1, "timeout"), (3, "usage_limit")]
