"""Diagnostics end to end: what an editor receives on open and on every (incremental) change."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsp_support import (
    AUTH,
    ERR_500,
    ERR_529,
    TIMEOUT,
    change,
    log_line,
    open_doc,
    wait_diagnostics,
)
from lsprotocol import types
from pytest_lsp import LanguageClient

from hiccup.classifier import default_classifier

pytestmark = pytest.mark.asyncio(loop_scope="module")

WARNING, ERROR, INFO, HINT = (types.DiagnosticSeverity.Warning, types.DiagnosticSeverity.Error,
                              types.DiagnosticSeverity.Information, types.DiagnosticSeverity.Hint)


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_ranges_codes_and_first_lines(shared: LanguageClient, tmp_path: Path) -> None:
    prefix = "✻ 😀 ⎿  "  # TUI glyphs and an astral emoji before the error: UTF-16 columns differ from code points
    lines = [log_line("2026-11-25T09:59:00Z", ERR_500), "all good", prefix + ERR_529 + " · Retrying in 5 seconds…",
             log_line("2026-11-25T09:59:40Z", ERR_500), AUTH]
    uri = (tmp_path / "claude-debug.log").as_uri()
    await open_doc(shared, uri, "\n".join(lines) + "\n")
    diags = await wait_diagnostics(shared, uri, lambda d: len(d) == 4)

    first, overloaded, repeat, auth = diags
    assert {d.source for d in diags} == {"hiccup"}
    assert first.code == "internal_server_error" and first.severity == WARNING
    assert first.message == "Claude API 500: temporary server error — usually clears in 1–3 min"
    start = lines[0].index("API Error")
    assert (first.range.start.line, first.range.start.character, first.range.end.character) == (
        0, start, start + len(ERR_500))
    assert first.code_description and first.code_description.href.startswith("https://")
    assert first.data["category"] == "internal_server_error" and first.data["incidentId"]

    assert overloaded.code == "overloaded"
    found = default_classifier().classify_line(lines[2], 2, "log")
    assert found is not None and found.start == len(prefix)
    assert overloaded.range.start == types.Position(2, utf16(prefix))
    assert overloaded.range.end == types.Position(2, utf16(lines[2][: found.end]))
    assert overloaded.range.end.character == found.end + 1  # the emoji counts twice in UTF-16

    assert repeat.message == "Claude API 500 — 2nd time in <1 min"
    assert repeat.data["incidentId"] == first.data["incidentId"]
    assert repeat.related_information and repeat.related_information[0].location.range == first.range

    assert auth.code == "authentication" and auth.severity == ERROR  # needs the user's action
    assert "/login" in auth.message


async def test_incremental_edits_reclassify_only_touched_lines(shared: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "growing.log").as_uri()
    await open_doc(shared, uri, "start\n" + ERR_500 + "\n")
    await wait_diagnostics(shared, uri, lambda d: len(d) == 1)

    # the log grows: an append at the end
    change(shared, uri, 2, (2, 0), (2, 0), "noise\n" + ERR_529 + "\n")
    diags = await wait_diagnostics(shared, uri, lambda d: len(d) == 2)
    assert [d.range.start.line for d in diags] == [1, 3]

    # two lines inserted above: both findings move down, the 500 keeps its incident
    before = diags[0].data["incidentId"]
    change(shared, uri, 3, (0, 0), (0, 0), "a\nb\n")
    diags = await wait_diagnostics(shared, uri, lambda d: [x.range.start.line for x in d] == [3, 5])
    assert diags[0].data["incidentId"] == before

    # typing next to the error does not make it a new occurrence
    change(shared, uri, 4, (3, len(ERR_500)), (3, len(ERR_500)), "  # seen")
    await asyncio.wait_for(shared.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(3, 5))), TIMEOUT)
    diags = await wait_diagnostics(shared, uri, lambda d: len(d) == 2)
    assert diags[0].data["incidentId"] == before and "2nd" not in diags[0].message

    # the 529 line deleted: its diagnostic goes
    change(shared, uri, 5, (5, 0), (6, 0), "")
    diags = await wait_diagnostics(shared, uri, lambda d: len(d) == 1)
    assert diags[0].code == "internal_server_error"


async def test_close_clears_and_code_files_are_left_alone(shared: LanguageClient, tmp_path: Path) -> None:
    code_uri = (tmp_path / "retry.py").as_uri()
    await open_doc(shared, code_uri, f'SAMPLE = """{ERR_500}"""\n', language_id="python")
    uri = (tmp_path / "session.txt").as_uri()
    await open_doc(shared, uri, ERR_500 + "\n", language_id="plaintext")
    await wait_diagnostics(shared, uri, lambda d: len(d) == 1)
    assert code_uri not in shared.diagnostics

    shared.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await wait_diagnostics(shared, uri, lambda d: len(d) == 0)


async def test_old_errors_are_hints(shared: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "yesterday.log").as_uri()
    await open_doc(shared, uri, log_line("2026-11-24T08:00:00Z", ERR_500) + "\n")
    (diag,) = await wait_diagnostics(shared, uri, lambda d: len(d) == 1)
    assert diag.severity == HINT
    assert diag.message.startswith("Claude API 500 — old error from 2026-11-24 08:00")
    assert list(diag.tags or []) == [types.DiagnosticTag.Unnecessary]


async def test_transcript_recovery_ends_incident(shared: LanguageClient, tmp_path: Path) -> None:
    error = ('{"type":"assistant","isApiErrorMessage":true,"timestamp":"2026-11-25T09:58:00Z","message":'
             '{"model":"<synthetic>","content":[{"type":"text","text":"API Error: 500 {\\"type\\":\\"error\\",'
             '\\"error\\":{\\"type\\":\\"api_error\\",\\"message\\":\\"Internal server error\\"}}"}]}}')
    reply = ('{"type":"assistant","timestamp":"2026-11-25T09:59:00Z","message":{"model":"claude-opus-4",'
             '"content":[{"type":"text","text":"Done."}]}}')
    uri = (tmp_path / "session.jsonl").as_uri()
    await open_doc(shared, uri, error + "\n" + reply + "\n", language_id="jsonl")
    (diag,) = await wait_diagnostics(shared, uri, lambda d: len(d) == 1)
    assert diag.severity == INFO
    assert diag.message == "Claude API 500 — recovered: Claude answered again at 09:59"


async def test_usage_limit_says_when_it_resets(shared: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "limit.log").as_uri()
    line = "2026-11-25T10:00:00Z Claude usage limit reached. Your limit will reset at 3pm (UTC)."
    await open_doc(shared, uri, line + "\n")
    (diag,) = await wait_diagnostics(shared, uri, lambda d: len(d) == 1)
    assert diag.code == "usage_limit" and diag.severity == ERROR
    assert diag.message == "Usage limit reached — resets at 15:00 (in 5 h)"
