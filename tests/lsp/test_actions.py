"""Hover, code actions and every command, as VS Code and Neovim would drive them."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_support import (
    AUTH,
    ERR_500,
    code_actions,
    execute,
    hover_text,
    log_line,
    open_doc,
    wait_diagnostics,
    wait_message,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv"


async def opened(client: LanguageClient, path: Path, *lines: str) -> tuple[str, list[types.Diagnostic]]:
    uri = path.as_uri()
    await open_doc(client, uri, "\n".join(lines) + "\n")
    return uri, list(await wait_diagnostics(client, uri, lambda d: len(d) > 0))


async def test_hover_explains_the_moment(shared: LanguageClient, tmp_path: Path) -> None:
    uri, (diag,) = await opened(shared, tmp_path / "a.log",
                                log_line("2026-11-25T09:58:00Z", ERR_500) + f" ANTHROPIC_API_KEY={SECRET}")
    text = await hover_text(shared, uri, diag)
    for expected in ("**Claude API 500: temporary server error**", "backend", "**Now:** **active** · for 2 min",
                     "first at 09:58", "**Next step:** Wait", "10:03", "**Don't**", "Don't reinstall",
                     "**Common causes:**", "req_011CTestAbCdEf123"):
        assert expected in text, expected
    assert SECRET not in text

    hover = await shared.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(diag.range.start.line, 0)))
    assert hover is None  # the timestamp before the error is not the error


async def test_hover_on_unknown_document_is_an_error(shared: LanguageClient) -> None:
    with pytest.raises(JsonRpcException):
        await shared.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier("file:///never/opened.log"), types.Position(0, 0)))


async def test_actions_follow_the_category(shared: LanguageClient, tmp_path: Path) -> None:
    uri, (diag,) = await opened(shared, tmp_path / "b.log", ERR_500)
    actions = await code_actions(shared, uri, diag)
    assert [(a.title, a.kind) for a in actions] == [
        ("Open Claude status page", ""),
        ("Check Claude status now", ""),
        ("Remind me to restart Claude Code in 5 min if it still fails", ""),
        ("Open community reports (r/ClaudeAI)", ""),
        ("Copy error report", ""),
        ("Ignore 'Internal server error' in this workspace", "quickfix"),
    ]
    assert all(a.diagnostics and a.diagnostics[0].range == diag.range for a in actions)
    quickfixes = await code_actions(shared, uri, diag, only=[types.CodeActionKind.QuickFix])
    assert [a.title for a in quickfixes] == ["Ignore 'Internal server error' in this workspace"]

    uri, (auth,) = await opened(shared, tmp_path / "c.log", AUTH)
    titles = {a.title: a for a in await code_actions(shared, uri, auth)}
    relogin = titles["Re-login to Claude Code (/login)"]
    assert relogin.kind == "quickfix" and "Open Claude status page" not in titles


async def test_link_commands_open_pages(shared: LanguageClient) -> None:
    assert (await execute(shared, "hiccup.openStatusPage"))["shown"]
    assert (await execute(shared, "hiccup.openCommunityReports"))["shown"]
    assert [(d.uri, d.external) for d in shared.shown_documents[-2:]] == [
        ("https://status.claude.com", True), ("https://www.reddit.com/r/ClaudeAI/", True)]


async def test_check_status_off_under_test_without_a_local_page(shared: LanguageClient) -> None:
    assert await execute(shared, "hiccup.checkStatusNow") == {"enabled": False}
    await wait_message(shared, lambda m: "only loopback status pages" in m)


async def test_relogin_and_report(shared: LanguageClient, tmp_path: Path) -> None:
    _, (auth,) = await opened(shared, tmp_path / "d.log", AUTH)
    await execute(shared, "hiccup.relogin", {"incidentId": auth.data["incidentId"]})
    await wait_message(shared, lambda m: "`/login`" in m)

    _, (diag,) = await opened(shared, tmp_path / "e.log",
                                log_line("2026-11-25T09:59:00Z", ERR_500) + f" key={SECRET}")
    report = (await execute(shared, "hiccup.copyErrorReport", {"incidentId": diag.data["incidentId"]}))["text"]
    fields = dict(line.split(None, 1) if " " in line else (line, "") for line in report.splitlines()[1:])
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    assert report.splitlines()[0] == "Claude Code error report (from Hiccup)"
    assert fields["category"].startswith("internal_server_error")
    assert "500" in report and "api_error" in report and "req_011CTestAbCdEf123" in report
    assert "first seen   2026-11-25T09:59:00Z" in report and "occurrences  1" in report
    assert "\nhiccup " in report and "\npython " in report and "visual-studio-code" in report
    assert SECRET not in report
    await wait_message(shared, lambda m: m == report)


@pytest.mark.parametrize(("command", "arguments"), [
    ("hiccup.noSuchCommand", []),
    ("hiccup.remindRestart", [{"minutes": 5}]),  # incidentId missing
    ("hiccup.remindRestart", [{"incidentId": "inc-999"}]),  # no such incident
    ("hiccup.ignoreCategory", [{"category": "not_a_category"}]),
    ("hiccup.copyErrorReport", ["inc-1", "extra"]),
    ("hiccup.relogin", [[1, 2]]),
])
async def test_bad_commands_get_errors(shared: LanguageClient, command: str, arguments: list[object]) -> None:
    with pytest.raises(JsonRpcException):
        await execute(shared, command, *arguments)


async def test_server_survives_bad_requests(shared: LanguageClient) -> None:
    with pytest.raises(JsonRpcException):
        await shared.protocol.send_request_async("hiccup/terminalTranscript", {"url": "nope"})
    assert await execute(shared, "hiccup.checkStatusNow") == {"enabled": False}
