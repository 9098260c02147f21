"""Time is real: states move with the (manual) clock alone, and reminders fire."""

from __future__ import annotations

from pathlib import Path

from lsp_support import (
    ERR_500,
    advance,
    append,
    code_actions,
    execute,
    hover_text,
    open_doc,
    wait_diagnostics,
    wait_message,
    wait_until,
)
from lsprotocol import types
from pytest_lsp import LanguageClient

WARNING, ERROR, INFO, HINT = (types.DiagnosticSeverity.Warning, types.DiagnosticSeverity.Error,
                              types.DiagnosticSeverity.Information, types.DiagnosticSeverity.Hint)


def last(diags: object) -> types.Diagnostic:
    return list(diags)[-1]  # type: ignore[call-overload]


async def test_active_then_persisting_then_escalate(vscode: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(vscode, uri, ERR_500 + "\n")  # observed at 10:00, the log line has no timestamp
    (diag,) = await wait_diagnostics(vscode, uri, lambda d: len(d) == 1)
    assert diag.severity == WARNING and diag.data["state"] == "active"
    titles = [a.title for a in await code_actions(vscode, uri, diag)]
    assert "Restart Claude Code" not in titles and any(t.startswith("Remind me") for t in titles)

    # Claude Code keeps failing every 2.5 min: the log keeps growing
    await advance(vscode, 150)
    append(vscode, uri, 2, 1, ERR_500 + "\n")
    diags = await wait_diagnostics(vscode, uri, lambda d: len(d) == 2)
    assert last(diags).message == "Claude API 500 — 2nd time in 2 min"

    await advance(vscode, 150)  # 10:05, no new input: the state changes by itself and is republished
    diags = await wait_diagnostics(vscode, uri, lambda d: d[0].data["state"] == "persisting")
    assert {d.severity for d in diags} == {WARNING}
    assert diags[0].message == "Claude API 500 — failing for 5 min: restarting Claude Code is now reasonable"
    titles = [a.title for a in await code_actions(vscode, uri, diags[0])]
    assert "Restart Claude Code" in titles and not any(t.startswith("Remind me") for t in titles)
    assert "Restart Claude Code now" in await hover_text(vscode, uri, diags[0])

    append(vscode, uri, 3, 2, ERR_500 + "\n")
    await wait_diagnostics(vscode, uri, lambda d: len(d) == 3)
    await advance(vscode, 150)
    append(vscode, uri, 4, 3, ERR_500 + "\n")
    await wait_diagnostics(vscode, uri, lambda d: len(d) == 4)
    await advance(vscode, 150)  # 10:10 and no known incident on the status page
    diags = await wait_diagnostics(vscode, uri, lambda d: d[0].data["state"] == "escalate")
    assert {d.severity for d in diags} == {ERROR}
    assert "report it" in diags[0].message
    assert "Escalate" in await hover_text(vscode, uri, diags[0])


async def test_quiet_gap_recovers_then_goes_stale(vscode: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(vscode, uri, ERR_500 + "\n")
    await wait_diagnostics(vscode, uri, lambda d: len(d) == 1)
    await advance(vscode, 200)  # longer than the 3-min window without a new failure
    (diag,) = await wait_diagnostics(vscode, uri, lambda d: d[0].severity == INFO)
    assert diag.message == "Claude API 500 — cleared: no new failures since 10:00"
    await advance(vscode, 2 * 3600)
    (diag,) = await wait_diagnostics(vscode, uri, lambda d: d[0].severity == HINT)
    assert "old error" in diag.message


async def test_restart_recorded_then_failure_escalates(vscode: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(vscode, uri, ERR_500 + "\n")
    (diag,) = await wait_diagnostics(vscode, uri, lambda d: len(d) == 1)
    result = await execute(vscode, "hiccup.restartClaudeCode", {"incidentId": diag.data["incidentId"]})
    assert result["outcome"] == "restarted"
    assert vscode.restart_requests[0].incidentId == diag.data["incidentId"]  # type: ignore[attr-defined]
    await advance(vscode, 30)
    append(vscode, uri, 2, 1, ERR_500 + "\n")  # it fails again after the restart
    diags = await wait_diagnostics(vscode, uri, lambda d: len(d) == 2 and d[0].severity == ERROR)
    assert diags[1].message == ("Claude API 500 — still failing after restarting Claude Code: "
                                "report it with `/bug` in Claude Code")


async def test_reminder_fires_and_acts_on_the_answer(vscode: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(vscode, uri, ERR_500 + "\n")
    (diag,) = await wait_diagnostics(vscode, uri, lambda d: len(d) == 1)
    (remind,) = [a for a in await code_actions(vscode, uri, diag) if a.title.startswith("Remind me")]
    assert remind.title == "Remind me to restart Claude Code in 5 min if it still fails"
    assert remind.command is not None
    await execute(vscode, remind.command.command, *(remind.command.arguments or []))
    assert "reminder set for 10:05" in await hover_text(vscode, uri, diag)

    vscode.answer = "Open status page"  # type: ignore[attr-defined]
    for step in range(1, 3):  # still failing every 2.5 min
        await advance(vscode, 150)
        append(vscode, uri, step + 1, step, ERR_500 + "\n")
        await wait_diagnostics(vscode, uri, lambda d, n=step + 1: len(d) == n)
    await wait_until(lambda: vscode.message_requests)  # type: ignore[attr-defined]
    (request,) = vscode.message_requests  # type: ignore[attr-defined]
    assert "still failing" in request.message
    assert [a.title for a in request.actions] == ["Restart Claude Code", "Open status page", "Dismiss"]
    await wait_until(lambda: vscode.shown_documents)
    assert vscode.shown_documents[0].uri == "https://status.claude.com"
    assert vscode.shown_documents[0].external


async def test_reminder_cancelled_when_incident_recovers(vscode: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(vscode, uri, ERR_500 + "\n")
    (diag,) = await wait_diagnostics(vscode, uri, lambda d: len(d) == 1)
    await execute(vscode, "hiccup.remindRestart", {"incidentId": diag.data["incidentId"], "minutes": 5})
    await advance(vscode, 200)  # quiet: recovered before the reminder is due
    await wait_diagnostics(vscode, uri, lambda d: d[0].severity == INFO)
    await advance(vscode, 200)  # past the due time
    await hover_text(vscode, uri, diag)  # one more round trip: anything the tick sent has arrived
    assert vscode.message_requests == []  # type: ignore[attr-defined]


async def test_client_without_a_claude_terminal_gets_manual_steps(vscode: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(vscode, uri, ERR_500 + "\n")
    (diag,) = await wait_diagnostics(vscode, uri, lambda d: len(d) == 1)
    vscode.restart_outcome = "not_found"  # type: ignore[attr-defined]
    result = await execute(vscode, "hiccup.restartClaudeCode", {"incidentId": diag.data["incidentId"]})
    assert result["outcome"] == "not_found"
    await wait_message(vscode, lambda m: "`claude --continue`" in m)
