"""Per-client behaviour: Neovim 0.7 (no showDocument, no extensions) and settings from every channel."""

from __future__ import annotations

import json
from pathlib import Path

from lsp_support import (
    ERR_500,
    ERR_529,
    advance,
    append,
    code_actions,
    execute,
    hover_text,
    initialize,
    open_doc,
    wait_diagnostics,
    wait_message,
)
from lsprotocol import types
from pytest_lsp import LanguageClient


async def test_neovim_gets_fallbacks(neovim: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(neovim, uri, ERR_500 + "\n", language_id="")
    (diag,) = await wait_diagnostics(neovim, uri, lambda d: len(d) == 1)
    assert diag.code_description is None  # Neovim 0.7 did not declare codeDescriptionSupport

    result = await execute(neovim, "hiccup.openStatusPage")
    assert result == {"url": "https://status.claude.com", "shown": False}
    await wait_message(neovim, lambda m: "https://status.claude.com" in m)

    result = await execute(neovim, "hiccup.restartClaudeCode", {"incidentId": diag.data["incidentId"]})
    assert result["outcome"] == "manual"
    await wait_message(neovim, lambda m: "`/exit`" in m and "`claude --continue`" in m)


async def test_settings_changes_apply_and_bad_values_are_named(vscode: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(vscode, uri, ERR_500 + "\n" + ERR_529 + "\n")
    await wait_diagnostics(vscode, uri, lambda d: len(d) == 2)

    vscode.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"hiccup": {"ignoredCategories": ["overloaded"], "restartAfterMinutes": 2}}))
    (diag,) = await wait_diagnostics(vscode, uri, lambda d: len(d) == 1)
    assert diag.code == "internal_server_error"

    vscode.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"hiccup": {"ignoredCategories": ["overloaded"], "restartAfterMinutes": "soon"}}))
    message = await wait_message(vscode, lambda m: "hiccup.restartAfterMinutes" in m)
    assert message.type == types.MessageType.Warning and "previous value" in message.message

    await advance(vscode, 90)  # 10:01:30, still failing
    append(vscode, uri, 2, 2, ERR_500 + "\n")
    await advance(vscode, 45)  # 10:02:15: past the 2 min that stayed in force
    (diag, _) = await wait_diagnostics(vscode, uri, lambda d: d[0].data["state"] == "persisting")
    assert "failing for 2 min" in diag.message


async def test_ignore_command_hides_category(vscode: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(vscode, uri, ERR_500 + "\n" + ERR_529 + "\n")
    await wait_diagnostics(vscode, uri, lambda d: len(d) == 2)
    result = await execute(vscode, "hiccup.ignoreCategory", {"category": "internal_server_error"})
    assert result == {"ignoredCategories": ["internal_server_error"]}
    (diag,) = await wait_diagnostics(vscode, uri, lambda d: len(d) == 1)
    assert diag.code == "overloaded"


async def test_settings_from_initialization_options(bare: LanguageClient, tmp_path: Path) -> None:
    await initialize(bare, options={"settings": {"ignoredCategories": ["internal_server_error"]}})
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(bare, uri, ERR_500 + "\n" + ERR_529 + "\n")
    (diag,) = await wait_diagnostics(bare, uri, lambda d: len(d) == 1)
    assert diag.code == "overloaded"


async def test_settings_pulled_with_workspace_configuration(bare: LanguageClient, tmp_path: Path) -> None:
    bare.set_configuration({"ignoredCategories": ["overloaded"]}, section="hiccup")
    await initialize(bare)
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(bare, uri, ERR_500 + "\n" + ERR_529 + "\n")
    (diag,) = await wait_diagnostics(bare, uri, lambda d: len(d) == 1)
    assert diag.code == "internal_server_error"


async def test_rule_packs_from_settings_reclassify_open_documents(vscode: LanguageClient, tmp_path: Path) -> None:
    pack = tmp_path / "corp-proxy.json"
    pack.write_text(json.dumps({"version": 1, "categories": [{"id": "internal_server_error", "patterns": [
        {"regex": r"CorpProxy upstream 5\d\d", "triggers": ["CorpProxy upstream"]}]}]}), encoding="utf-8")
    uri = (tmp_path / "proxy.log").as_uri()
    await open_doc(vscode, uri, ERR_529 + "\nCorpProxy upstream 502 while calling api.anthropic.com\n")
    await wait_diagnostics(vscode, uri, lambda d: len(d) == 1)

    vscode.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"hiccup": {"rulePacks": [str(pack), str(tmp_path / "missing.json")]}}))
    diags = await wait_diagnostics(vscode, uri, lambda d: len(d) == 2)
    assert diags[1].code == "internal_server_error"
    await wait_message(vscode, lambda m: "rule pack not loaded" in m and "missing.json" in m)

    vscode.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"hiccup": {"rulePacks": [str(pack)], "trustedWorkspace": False}}))
    await wait_diagnostics(vscode, uri, lambda d: len(d) == 1)  # untrusted: workspace packs are ignored


async def test_latest_neovim_capabilities(bare: LanguageClient, tmp_path: Path) -> None:
    result = await initialize(bare, "neovim", options=None)
    assert result.capabilities.position_encoding == "utf-8"  # Neovim 0.11 offers UTF-8 first
    uri = (tmp_path / "claude.log").as_uri()
    await open_doc(bare, uri, "✻ 😀 ⎿  " + ERR_500 + "\n", language_id="")
    (diag,) = await wait_diagnostics(bare, uri, lambda d: len(d) == 1)
    assert diag.range.start.character == len("✻ 😀 ⎿  ".encode())
    assert "**Next step:**" in await hover_text(bare, uri, diag)
    assert "Copy error report" in [a.title for a in await code_actions(bare, uri, diag)]
