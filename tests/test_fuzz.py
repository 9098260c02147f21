"""Whatever arrives — random bytes, broken UTF-8, NULs, escapes, giant lines — the classifier answers and returns."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hiccup.classifier import default_classifier
from hiccup.textclean import clean_line

C = default_classifier()
FRAGMENTS = st.sampled_from([
    "API Error", ": 500 ", '{"type":"error","error":{"type":"', "overloaded_error", '"}}', "\x1b[", "\x1b]0;",
    "\r", "\n", "\x00", "⎿", "limit reached", " resets ", "3pm (", "Europe/London", ")", "run /login",
    '{"isApiErrorMessage":true,"message":{"content":[{"text":"', "req_", "attempt 3/10", "\ud800", "\\",
])


@settings()
@given(st.binary(max_size=4000), st.sampled_from([None, "log", "terminal", "jsonl"]))
def test_random_bytes_never_crash(data: bytes, fmt: str | None) -> None:
    for f in C.scan_bytes(data, fmt=fmt):
        assert f.start <= f.end


@settings()
@given(st.lists(FRAGMENTS, max_size=40).map("".join), st.sampled_from(["log", "terminal", "jsonl"]))
def test_adversarial_fragments_never_crash(text: str, fmt: str) -> None:
    for i, line in enumerate(text.split("\n")):
        f = C.classify_line(line, i, fmt)
        if f is not None:
            assert 0 <= f.start <= f.end <= len(line)


@settings()
@given(st.text(max_size=300))
def test_clean_line_maps_every_visible_character_back(raw: str) -> None:
    cleaned = clean_line(raw)
    for i, ch in enumerate(cleaned.text):
        assert raw[cleaned.to_raw(i)] == ch


def test_ten_megabyte_line_without_newline_returns() -> None:
    data = b"API Error: 529 " + b"{" * 10_000_000
    list(C.scan_bytes(data, fmt="log"))
    assert C.classify_line("x" * 10_000_000 + " API Error: Connection error.", 0, "log") is None  # beyond the cap


def test_deeply_nested_json_in_a_transcript_line() -> None:
    line = '{"isApiErrorMessage":true,"x":' + "[" * 10_000 + "]" * 10_000 + "}"
    assert C.classify_line(line, 0, "jsonl") is None
