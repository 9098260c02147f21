"""Shared pieces of the end-to-end tests: server command, sample lines, and waiting without sleeping."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

START = "2026-11-25T10:00:00Z"  # the manual clock's "now" when a server starts
# saved terminal transcripts go to a cache of this test run, never the user's (and never come back in a later run),
# and the Claude Code transcripts and debug logs the server follows are this run's too (none), never the user's
_TEST_HOME = tempfile.mkdtemp(prefix="hiccup-test-cache-")
SERVER_ENV = {**os.environ, "HICCUP_TEST_CLOCK": "1", "HICCUP_TEST_CLOCK_START": START, "TZ": "UTC",
              "XDG_CACHE_HOME": _TEST_HOME, "CLAUDE_CONFIG_DIR": os.path.join(_TEST_HOME, "claude")}
SERVER_COMMAND = [sys.executable, "-m", "hiccup", "serve"]
TIMEOUT = 10.0

# what Claude Code's debug log and TUI really print
ERR_500 = ('API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},'
           '"request_id":"req_011CTestAbCdEf123"}')
ERR_529 = 'API Error (529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})'
AUTH = "Invalid API key · Please run /login"


def log_line(ts: str, text: str) -> str:
    return f"{ts} [ERROR] {text}"


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


async def open_doc(client: LanguageClient, uri: str, text: str, language_id: str = "log") -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)))


async def wait_diagnostics(client: LanguageClient, uri: str,
                           predicate: Callable[[Sequence[types.Diagnostic]], bool] = lambda d: True,
                           timeout: float = TIMEOUT) -> Sequence[types.Diagnostic]:
    """Until the latest published list for `uri` satisfies `predicate` (no sleeps: waits on notifications)."""
    async def loop() -> Sequence[types.Diagnostic]:
        while True:
            next_publish = client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            current = client.diagnostics.get(uri)
            if current is not None and predicate(current):
                return current
            await next_publish
    return await asyncio.wait_for(loop(), timeout)


async def wait_message(client: LanguageClient, predicate: Callable[[str], bool],
                       timeout: float = TIMEOUT) -> types.ShowMessageParams:
    async def loop() -> types.ShowMessageParams:
        while True:
            next_message = client.protocol.wait_for_notification_async(types.WINDOW_SHOW_MESSAGE)
            for m in client.messages:
                if predicate(m.message):
                    return m
            await next_message
    return await asyncio.wait_for(loop(), timeout)


async def advance(client: LanguageClient, seconds: float) -> Any:
    return await client.protocol.send_request_async("hiccup/_test/advanceClock", {"seconds": seconds})


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments) or None))


def change(client: LanguageClient, uri: str, version: int, start: tuple[int, int], end: tuple[int, int],
           text: str) -> None:
    """One incremental didChange (positions in UTF-16 units, as the client counts)."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(*start), types.Position(*end)), text=text)]))


def append(client: LanguageClient, uri: str, version: int, line: int, text: str) -> None:
    """Text added at the start of `line` (the empty last line of a log that ends with a newline)."""
    change(client, uri, version, (line, 0), (line, 0), text)


async def wait_until(predicate: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    """For server→client requests (no notification to wait on): poll the client's own record of them."""
    async def loop() -> Any:
        while not (value := predicate()):
            await asyncio.sleep(0.02)
        return value
    return await asyncio.wait_for(loop(), timeout)


async def code_actions(client: LanguageClient, uri: str, diag: types.Diagnostic,
                       only: list[str] | None = None) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag], only=only)))
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def hover_text(client: LanguageClient, uri: str, diag: types.Diagnostic) -> str:
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), diag.range.start))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


VSCODE_OPTIONS = {"hiccup": {"restartClaudeCode": True, "terminalBridge": True, "statusBar": True}}


async def initialize(client: LanguageClient, spec: str = "visual-studio-code", options: Any = VSCODE_OPTIONS,
                     **kwargs: Any) -> types.InitializeResult:
    return await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(spec), initialization_options=options,
        client_info=types.ClientInfo(name=spec), **kwargs))


def make_plain_client() -> LanguageClient:
    """The stock test client, reading code actions as editors do: lsprotocol structures any code action that
    carries a `command` object as a bare Command; a Command is the one whose `command` is a string."""
    client = make_test_lsp_client()
    conv = client.protocol._converter

    def command_or_action(obj: Any, _: type) -> types.Command | types.CodeAction:
        cls = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return conv.structure(obj, cls)

    conv.register_structure_hook(Union[types.Command, types.CodeAction], command_or_action)  # noqa: UP007
    return client
