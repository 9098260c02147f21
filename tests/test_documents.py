"""Incremental re-classification must agree with classifying the whole text from scratch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hiccup.classifier import default_classifier
from hiccup.documents import Document, TerminalTranscript, is_candidate, split_lines, terminal_uri

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ERR_500 = 'API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}'
ERR_529 = 'API Error (529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})'
AUTH = "Invalid API key · Please run /login"
FRAGMENTS = ["", "ok", "✻ 😀 ⎿  ", ERR_500, ERR_529, AUTH, "\n", "\r\n", "\n\n", "API ", "Error: 5", "00 {}", "x"]


def doc(text: str) -> Document:
    return Document("file:///w/claude.log", text, default_classifier(), NOW, fmt="log")


def shown(d: Document) -> list[tuple[int, str, int, int]]:
    """(line, category, start, end) of every shown finding."""
    return [(line, f.category, f.start, f.end) for line, h in d.findings() if (f := h.finding) is not None]


def apply(text: str, start: tuple[int, int], end: tuple[int, int], new: str) -> str:
    lines = split_lines(text)
    offsets = [0]
    for line, brk in zip(lines, _breaks(text), strict=False):
        offsets.append(offsets[-1] + len(line) + len(brk))

    def off(pos: tuple[int, int]) -> int:
        line = min(pos[0], len(lines) - 1)
        return offsets[line] + min(pos[1], len(lines[line]))

    a, b = sorted((off(start), off(end)))
    return text[:a] + new + text[b:]


def _breaks(text: str) -> list[str]:
    import re

    return re.findall(r"\r\n|\r|\n", text)


texts = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)


@given(texts, st.lists(st.tuples(st.integers(0, 8), st.integers(0, 120), st.integers(0, 8), st.integers(0, 120),
                                 texts), max_size=6))
def test_incremental_edits_match_a_full_scan(text: str, edits: list[tuple[int, int, int, int, str]]) -> None:
    d = doc(text)
    for sl, sc, el, ec, new in edits:
        (sl, sc), (el, ec) = d._clamp((sl, sc)), d._clamp((el, ec))
        text = apply(text, (sl, sc), (el, ec), new)
        d.replace((sl, sc), (el, ec), new, NOW)
        assert d.lines == split_lines(text)
        assert shown(d) == shown(doc(text))


def test_lines_follow_lsp_line_breaks() -> None:
    assert split_lines("a\r\nb\rc\nd\u2028e\n") == ["a", "b", "c", "d\u2028e", ""]


def test_append_reports_only_new_findings_and_keeps_keys() -> None:
    d = doc("start\n" + ERR_500 + "\n")
    ((line, first),) = d.entries()
    delta = d.append("noise\n" + ERR_529 + "\n", NOW)
    assert [(i, h.finding.category) for i, h in delta.added] == [(3, "overloaded")]  # type: ignore[union-attr]
    assert delta.removed == []
    delta = d.replace((0, 0), (0, 0), "a\nb\n", NOW)
    assert not delta and d.hit_at(line + 2) is first


def test_typing_next_to_an_error_keeps_its_occurrence() -> None:
    d = doc(ERR_500 + "\n")
    before = d.hit_at(0)
    delta = d.replace((0, len(ERR_500)), (0, len(ERR_500)), "  # noted", NOW)
    assert not delta and d.hit_at(0) is before
    delta = d.replace((0, 0), (0, len(ERR_500) + 9), "fixed", NOW)
    assert delta.removed == [before] and d.hit_at(0) is None


def test_transcript_format_change_rescans() -> None:
    d = Document("file:///w/notes.txt", "", default_classifier(), NOW)
    error = ('{"type":"assistant","isApiErrorMessage":true,"message":{"model":"<synthetic>","content":'
             '[{"type":"text","text":"API Error: 500 {\\"type\\":\\"error\\",\\"error\\":{\\"type\\":'
             '\\"api_error\\",\\"message\\":\\"Internal server error\\"}}"}]}}')
    d.append(error + "\n", NOW)
    assert d.fmt == "jsonl" and [h.finding.category for _, h in d.findings()] == ["internal_server_error"]  # type: ignore[union-attr]


def test_candidates() -> None:
    assert is_candidate("file:///p/claude.log", "log")
    assert is_candidate("file:///p/session.jsonl", "json")
    assert is_candidate("untitled:Untitled-1", "plaintext")
    assert is_candidate("output:extension-output-claude", "log")
    assert is_candidate("hiccup-terminal:/1/claude", None)
    assert not is_candidate("file:///p/retry.py", "python")
    assert not is_candidate("file:///p/README.md", "markdown")


def test_terminal_redraws_are_one_occurrence_and_chunks_can_split_anything() -> None:
    term = TerminalTranscript("7", "claude code", default_classifier(), NOW)
    assert term.uri == terminal_uri("7", "claude code") == "hiccup-terminal:/7/claude%20code"
    line = f"  ⎿  \x1b[31m{ERR_529} · Retrying in 5 seconds… (attempt 1/10)\x1b[0m\r\n"
    added = []
    for i in range(0, len(line), 7):  # 7-char chunks cut escapes, the emoji-free glyphs and the CRLF
        added += term.feed(line[i:i + 7], NOW).added
    redraw = "\x1b[2K\x1b[1A" + line.replace("5 seconds", "4 seconds")
    added += term.feed(redraw, NOW + timedelta(seconds=1)).added
    assert len([h for _, h in added if not h.redraw]) == 1
    assert len(list(term.doc.findings())) == 1
    assert term.doc.lines[0].startswith("  ⎿  API Error (529")
    later = line.replace("attempt 1/10", "attempt 2/10")
    assert [h.redraw for _, h in term.feed(later, NOW + timedelta(seconds=8)).added] == [False]


def test_terminal_transcript_is_bounded() -> None:
    term = TerminalTranscript("7", "claude", default_classifier(), NOW)
    term.feed(ERR_500 + "\n", NOW)
    for _ in range(30):
        term.feed(("y" * 99 + "\n") * 1000, NOW)
    assert term.doc.char_count <= 2 * 1024 * 1024
    assert list(term.doc.findings()) == []  # the old error scrolled out of the transcript
