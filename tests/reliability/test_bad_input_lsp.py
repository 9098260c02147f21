"""Whatever a client sends — broken params, unknown methods, garbage bodies, hostile text, wrong settings — the
real server answers (or skips with one log line) and goes on answering."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import uuid
from concurrent.futures import Future
from typing import Any

import pytest
import pytest_lsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_support import ERR_500, START, TIMEOUT, initialize, open_doc, wait_diagnostics
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

CACHE = tempfile.mkdtemp(prefix="hiccup-bad-input-")
CONFIG = ClientServerConfig(
    server_command=[sys.executable, "-m", "hiccup", "serve"],
    server_env={**os.environ, "HICCUP_TEST_CLOCK": "1", "HICCUP_TEST_CLOCK_START": START, "XDG_CACHE_HOME": CACHE})
ALIVE_URI = "file:///tmp/hiccup-alive.log"
# each fuzzed example costs a round trip to the server: fewer than the in-process fuzzers
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await initialize(lsp_client)
    await open_doc(lsp_client, ALIVE_URI, ERR_500 + "\n")
    await wait_diagnostics(lsp_client, ALIVE_URI, lambda d: len(d) == 1)
    yield
    await lsp_client.shutdown_session()


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def send_raw(client: LanguageClient, body: bytes) -> None:
    client.protocol.writer.write(frame(body))  # type: ignore[union-attr]


async def raw_request(client: LanguageClient, method: str, params: Any) -> Any:
    """A request the typed client could not even build (its params are the point)."""
    msg_id = str(uuid.uuid4())
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    send_raw(client, json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}).encode())
    return await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT)


def raw_notify(client: LanguageClient, method: str, params: Any) -> None:
    send_raw(client, json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode())


async def assert_alive(client: LanguageClient) -> None:
    """The server still does its job: code actions for the failure in a document opened at the start."""
    diag = client.diagnostics[ALIVE_URI][0]
    result = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(ALIVE_URI), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag]))), TIMEOUT)
    assert result


MALFORMED_REQUESTS = [
    ("textDocument/hover", {"textDocument": 5}),
    ("textDocument/hover", {"textDocument": {"uri": ALIVE_URI}, "position": {"line": -1, "character": "a"}}),
    ("textDocument/hover", {"textDocument": {"uri": ALIVE_URI}, "position": {"line": 2**40, "character": 0}}),
    ("textDocument/codeAction", {"textDocument": {"uri": ALIVE_URI}}),
    ("textDocument/codeAction", None),
    ("workspace/executeCommand", {"command": "hiccup.copyErrorReport", "arguments": [5]}),
    ("workspace/executeCommand", {"command": "hiccup.copyErrorReport", "arguments": [{"incidentId": "inc-999"}]}),
    ("workspace/executeCommand", {"command": "hiccup.remindRestart",
                                  "arguments": [{"incidentId": [], "minutes": "x"}]}),
    ("workspace/executeCommand", {"command": "hiccup.openDocs", "arguments": [{"category": "../../etc/passwd"}]}),
    ("workspace/executeCommand", {"command": "hiccup.no-such-command", "arguments": []}),
    ("hiccup/terminalTranscript", {"uri": 5}),
    ("hiccup/terminalTranscript", {"uri": "hiccup-terminal:/nope/x"}),
    ("hiccup/terminalTranscript", []),
]


@pytest.mark.parametrize(("method", "params"), MALFORMED_REQUESTS)
async def test_malformed_request_gets_an_error_answer(client: LanguageClient, method: str, params: Any) -> None:
    with pytest.raises(JsonRpcException) as err:
        await raw_request(client, method, params)
    assert err.value.code == -32602
    await assert_alive(client)


async def test_unknown_methods(client: LanguageClient) -> None:
    with pytest.raises(JsonRpcException) as err:
        await raw_request(client, "hiccup/doesNotExist", {"x": 1})
    assert err.value.code == -32601
    raw_notify(client, "hiccup/doesNotExist", {"x": 1})
    raw_notify(client, "$/cancelRequest", {"id": "never-sent"})
    raw_notify(client, "$/setTrace", {"value": 42})
    await assert_alive(client)


MALFORMED_NOTIFICATIONS = [
    ("textDocument/didOpen", {"textDocument": 3}),
    ("textDocument/didChange", {"textDocument": {"uri": ALIVE_URI, "version": "x"}, "contentChanges": 7}),
    ("textDocument/didClose", {}),
    ("hiccup/terminalData", {"data": 3}),
    ("hiccup/terminalClosed", {}),
    ("workspace/didChangeConfiguration", []),
]


async def test_malformed_notifications_are_skipped_with_one_log_line(client: LanguageClient) -> None:
    before = len(client.log_messages)
    for method, params in MALFORMED_NOTIFICATIONS:
        raw_notify(client, method, params)
    await assert_alive(client)
    skipped = [m.message for m in client.log_messages[before:] if m.message.startswith("malformed ")]
    assert len(skipped) == len(MALFORMED_NOTIFICATIONS), skipped
    assert all(len(m.splitlines()) == 1 for m in skipped)


async def test_garbage_bodies(client: LanguageClient) -> None:
    deep = b'{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for body in (b"{not json", b'{"jsonrpc": "2.0", "id": 7, "method": ', b"\xff\xfe\x00\x01", b"[1, 2, 3]",
                 b"null", b"42", b'"text"', deep, b'{"jsonrpc": "2.0", "method": "textDocument/didOpen"}',
                 b'{"jsonrpc": "1.0", "id": 8, "method": "shutdown"}'):
        send_raw(client, body)
    await assert_alive(client)


async def test_wrong_settings_are_named_and_the_server_goes_on(client: LanguageClient) -> None:
    before = len(client.messages)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"hiccup": {
        "restartAfterMinutes": "soon", "logLevel": 7, "watch": 5, "statusPage": {"url": "http://evil.example/"},
        "ignoredCategories": {"a": 1}, "rulePacks": [None]}}))
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"hiccup": 12}))
    await assert_alive(client)
    named = [m.message for m in client.messages[before:]]
    for setting in ("restartAfterMinutes", "logLevel", "watch", "statusPage.url", "ignoredCategories",
                    "rulePacks", "`hiccup`"):
        assert any(setting in m for m in named), (setting, named)
    assert any("https" in m for m in named if "statusPage.url" in m)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)
REQUESTS = ["textDocument/hover", "textDocument/codeAction", "workspace/executeCommand", "hiccup/terminalTranscript"]
NOTIFICATIONS = ["textDocument/didOpen", "textDocument/didChange", "textDocument/didClose", "hiccup/terminalData",
                 "hiccup/terminalClosed", "workspace/didChangeConfiguration"]


def _shaped(method: str) -> st.SearchStrategy[Any]:
    """Params shaped like the real ones, with any JSON in any leaf: these get past the first type check.
    Requests may read the document `assert_alive` uses; notifications must not close or edit it."""
    uris = ["hiccup-terminal:/1/claude", "file:///x.log", "", "untitled:1"]
    uri = st.sampled_from([ALIVE_URI, *uris] if method in REQUESTS else uris)
    pos = st.fixed_dictionaries({"line": st.integers(-5, 2**31), "character": st.integers(-5, 2**31)})
    if method == "workspace/executeCommand":
        return st.fixed_dictionaries({"command": st.sampled_from(
            ["hiccup.copyErrorReport", "hiccup.remindRestart", "hiccup.openDocs", "hiccup.ignoreCategory",
             "hiccup.relogin", "hiccup.restartClaudeCode"]), "arguments": st.lists(JSON, max_size=2)})
    if method == "hiccup/terminalData":
        return st.fixed_dictionaries({"terminalId": st.text(max_size=8), "data": st.text(max_size=200)},
                                     optional={"name": JSON, "commandLine": JSON})
    if method == "workspace/didChangeConfiguration":
        return st.fixed_dictionaries({"settings": st.fixed_dictionaries({"hiccup": JSON})})
    return st.fixed_dictionaries({"textDocument": st.fixed_dictionaries({"uri": uri}), "position": pos},
                                 optional={"range": st.fixed_dictionaries({"start": pos, "end": pos}),
                                           "context": JSON})


@FUZZ
@given(st.data())
async def test_any_params_for_every_request(client: LanguageClient, data: st.DataObject) -> None:
    method = data.draw(st.sampled_from(REQUESTS))
    params = data.draw(JSON | _shaped(method))
    try:
        await raw_request(client, method, params)
    except JsonRpcException as exc:
        assert exc.code in (-32602, -32601), exc  # the client's mistake, never an internal error


@FUZZ
@given(st.data())
async def test_any_params_for_every_notification(client: LanguageClient, data: st.DataObject) -> None:
    method = data.draw(st.sampled_from(NOTIFICATIONS))
    raw_notify(client, method, data.draw(JSON | _shaped(method)))
    await assert_alive(client)


# Text as Claude Code and terminals really garble it: escapes cut anywhere, NULs, lone CR, CRLF, surrogates.
HOSTILE = st.lists(st.sampled_from([
    "API Error: 500 ", ERR_500, "\x1b[31m", "\x1b[", "\x1b]0;title", "\x07", "\r\n", "\r", "\n", "\x00", "\ud800",
    "⎿  ", "😀", '{"type":"message","isApiErrorMessage":true,"message":{"content":[{"text":"API Error: 529',
    '"}]}}', "x" * 300, "\t", "\x9b", "Retrying in 5 seconds… (attempt 3/10)",
]) | st.text(max_size=20), max_size=30).map("".join)


@FUZZ
@given(HOSTILE, st.lists(st.tuples(st.integers(-3, 60), st.integers(-3, 400), st.integers(-3, 60),
                                   st.integers(-3, 400), HOSTILE), max_size=6),
       st.sampled_from(["log", "plaintext", "jsonl"]))
async def test_hostile_documents_and_edits(client: LanguageClient, text: str, edits: list[tuple[Any, ...]],
                                           language: str) -> None:
    uri = f"file:///tmp/fuzz-{uuid.uuid4().hex}.{ 'jsonl' if language == 'jsonl' else 'log'}"
    raw_notify(client, "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language, "version": 1,
                                                                 "text": text}})
    for version, (sl, sc, el, ec, new) in enumerate(edits, start=2):
        raw_notify(client, "textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}},
                                "text": new}]})
    for line in (0, 1, 5):
        try:
            await raw_request(client, "textDocument/hover", {"textDocument": {"uri": uri},
                                                             "position": {"line": line, "character": 3}})
        except JsonRpcException as exc:
            assert exc.code == -32602
    raw_notify(client, "textDocument/didClose", {"textDocument": {"uri": uri}})


@FUZZ
@given(st.lists(HOSTILE, min_size=1, max_size=8))
async def test_hostile_terminal_output(client: LanguageClient, chunks: list[str]) -> None:
    terminal = uuid.uuid4().hex[:8]
    for chunk in chunks:
        raw_notify(client, "hiccup/terminalData", {"terminalId": terminal, "name": "claude", "data": chunk})
    result = await raw_request(client, "hiccup/terminalTranscript", {"uri": f"hiccup-terminal:/{terminal}/claude"})
    assert "\x1b" not in result.text and "\r" not in result.text and "\x00" not in result.text


async def test_big_and_deep_inputs_keep_memory_bounded(client: LanguageClient) -> None:
    """A 20 MB line without a newline, a 10,000-deep JSON transcript line, mixed line ends and encodings."""
    pid = client._server.pid  # type: ignore[union-attr]
    big = "API Error: 500 " + "x" * 20_000_000
    await open_doc(client, "file:///tmp/one-line.log", big)
    deep = '{"isApiErrorMessage":true,"x":' + "[" * 10_000 + "]" * 10_000 + "}\n"
    await open_doc(client, "file:///tmp/deep.jsonl", deep + deep + ERR_500 + "\n", language_id="jsonl")
    mixed = "ok\r\n" + ERR_500 + "\rcaf\udce9 latin-1 byte\r\n\x00\x00" + ERR_500 + "\n"
    await open_doc(client, "file:///tmp/mixed.log", mixed)
    await wait_diagnostics(client, "file:///tmp/mixed.log", lambda d: len(d) == 2)
    await assert_alive(client)
    for uri in ("file:///tmp/one-line.log", "file:///tmp/deep.jsonl", "file:///tmp/mixed.log"):
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await assert_alive(client)
    with open(f"/proc/{pid}/status") as fp:
        peak_kb = next(int(line.split()[1]) for line in fp if line.startswith("VmHWM:"))
    # the 20 MB line travels as JSON, is decoded, kept as the document's text and scanned on its first MiB only
    print(f"big and deep inputs: server peak RSS {peak_kb / 1024:.0f} MB")
    assert peak_kb < 400_000, f"server peak RSS {peak_kb / 1024:.0f} MB"
