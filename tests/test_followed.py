"""FollowedSource: hits and positions of a followed file, across generations, without its text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hiccup.classifier import default_classifier
from hiccup.documents import Document
from hiccup.followed import FollowedKey, FollowedSource, lone_breaks
from hiccup.tailer import TailLine

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ERR = 'API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}'
CLASSIFIER = default_classifier()


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def tail(path: Path, texts: list[str], *, first: int = 0, generation: int = 0, offset: int = 0) -> list[TailLine]:
    out = []
    for i, text in enumerate(texts):
        out.append(TailLine(path, first + i, text, offset, generation))
        offset += len(text.encode()) + 1
    return out


def source(path: Path, **kwargs: object) -> FollowedSource:
    return FollowedSource(path.as_uri(), str(path), CLASSIFIER, units=utf16, **kwargs)  # type: ignore[arg-type]


def test_positions_in_client_units_and_no_text_kept(tmp_path: Path) -> None:
    path = tmp_path / "claude.log"
    src = source(path)
    line = f"✻ 😀 ⎿  {ERR}"
    delta, moved = src.feed(tail(path, ["starting", line, "ok"]), NOW)
    assert moved and [(n, h.finding.category) for n, h in delta.added] == [(1, "internal_server_error")]  # type: ignore[union-attr]
    assert src.span(1) == (utf16("✻ 😀 ⎿  "), utf16(line))
    assert [n for n, _ in src.findings()] == [1] and src.hit_at(0) is None
    assert not hasattr(src, "lines")


def test_new_generation_drops_positions_keeps_evidence(tmp_path: Path) -> None:
    path = tmp_path / "claude.log"
    src = source(path)
    src.feed(tail(path, ["a", ERR]), NOW)
    (first_key,) = [h.key for _, h in src.findings()]
    assert src.is_current(first_key)

    delta, moved = src.feed(tail(path, [ERR], generation=1), NOW)
    assert moved and [n for n, _ in src.findings()] == [0]
    assert not src.is_current(first_key) and isinstance(first_key, FollowedKey)

    # a late line of the rotated generation: counted, never positioned
    delta, moved = src.feed(tail(path, [ERR], first=2, generation=0), NOW)
    assert not moved and [n for n, _ in delta.added] == [-1]
    assert not src.is_current(delta.added[0][1].key)
    assert [n for n, _ in src.findings()] == [0]


def test_deleted_file_shows_nothing_until_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "claude.log"
    src = source(path)
    src.feed(tail(path, [ERR]), NOW)
    assert src.gone() and list(src.findings()) == []
    delta, _ = src.feed(tail(path, [ERR], first=1), NOW)  # the old descriptor's last words
    assert [n for n, _ in delta.added] == [-1] and list(src.findings()) == []
    src.feed(tail(path, ["back", ERR], generation=1), NOW)
    assert [n for n, _ in src.findings()] == [1]


def test_hits_are_capped_newest_kept(tmp_path: Path) -> None:
    path = tmp_path / "claude.log"
    src = source(path, max_hits=3)
    src.feed(tail(path, [ERR] * 5), NOW)
    assert [n for n, _ in src.findings()] == [2, 3, 4] and src.dropped == 2


def test_lone_carriage_returns_break_lines_as_an_editor_does(tmp_path: Path) -> None:
    path = tmp_path / "session.log"
    head = "\x1b[2K⠋ Thinking…\r⠙ Thinking…\r\n"
    path.write_text(head + f"  ⎿  {ERR}\n", encoding="utf-8")
    assert lone_breaks(str(path), len(head.encode())) == 1
    src = source(path)
    # the lookback started after the first line: the lone \r before it still shifts the lines below
    src.feed(tail(path, [f"  ⎿  {ERR}"], first=1, offset=len(head.encode())), NOW)
    assert [n for n, _ in src.findings()] == [2]
    src.feed(tail(path, [f"x\r  ⎿  {ERR}"], first=2, offset=999), NOW)
    assert [n for n, _ in src.findings()] == [2, 4] and src.span(4) == (utf16("  ⎿  "), utf16(f"  ⎿  {ERR}"))


def test_transcript_recovery_parses_only_after_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    reply = ('{"type":"assistant","timestamp":"2026-11-25T09:59:00Z","message":{"model":"claude-opus-4",'
             '"content":[{"type":"text","text":"Done."}]}}')
    error = ('{"type":"assistant","isApiErrorMessage":true,"timestamp":"2026-11-25T09:58:00Z","message":'
             '{"model":"<synthetic>","content":[{"type":"text","text":"API Error: 500 {\\"type\\":\\"error\\",'
             '\\"error\\":{\\"type\\":\\"api_error\\",\\"message\\":\\"Internal server error\\"}}"}]}}')
    src = source(path)
    delta, _ = src.feed(tail(path, [reply, error, reply, reply]), NOW)
    kinds = [("recovery" if h.recovery else "failure", n) for n, h in delta.added]
    assert kinds == [("failure", 1), ("recovery", -1)]  # one reply after the failure is enough; no position


def test_adopt_takes_the_document_positions(tmp_path: Path) -> None:
    path = tmp_path / "claude.log"
    src = source(path)
    src.feed(tail(path, [ERR]), NOW)
    doc = Document(path.as_uri(), f"new first line\n😀 {ERR}\n", CLASSIFIER, NOW)
    src.adopt(doc)
    ((line, hit),) = src.findings()
    assert line == 1 and src.span(1) == (3, utf16(f"😀 {ERR}")) and src.is_current(hit.key)
