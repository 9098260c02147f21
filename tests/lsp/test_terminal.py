"""The terminal bridge: raw output in, diagnostics on `hiccup-terminal:` URIs out."""

from __future__ import annotations

import pytest
from lsp_support import ERR_529, TIMEOUT, wait_diagnostics
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

URI = "hiccup-terminal:/12/claude%20%F0%9F%A4%96"  # name "claude 🤖"


def feed(client: LanguageClient, data: str, terminal_id: str = "12") -> None:
    client.protocol.notify("hiccup/terminalData",
                           {"terminalId": terminal_id, "name": "claude 🤖", "data": data, "commandLine": "claude"})


def retry_line(seconds: int, attempt: int) -> str:
    return (f"\x1b[2K\x1b[1A\x1b[2K  ⎿  \x1b[31m{ERR_529} · Retrying in {seconds} seconds… "
            f"(attempt {attempt}/10)\x1b[0m\r\n")


async def test_terminal_output_becomes_diagnostics(shared: LanguageClient) -> None:
    feed(shared, "\x1b]0;✳ claude\x07\x1b[2m✻ Thinking… 🤔\x1b[0m\r\n")
    first = retry_line(5, 1)
    cut = first.index("\x1b[31m") + 3  # chunks end anywhere, even inside an escape sequence
    feed(shared, first[:cut])
    feed(shared, first[cut:])
    (diag,) = await wait_diagnostics(shared, URI, lambda d: len(d) == 1)
    assert diag.code == "overloaded" and diag.range.start.line == 1
    assert diag.range.start.character == len("  ⎿  ")

    # the TUI repaints the countdown of the same attempt: still one occurrence
    feed(shared, retry_line(4, 1) + retry_line(3, 1))
    feed(shared, retry_line(5, 2))
    diags = await wait_diagnostics(shared, URI, lambda d: len(d) == 2)
    assert diags[1].range.start.line == 4
    assert diags[1].message == "Claude API 529 — 2nd time in <1 min"
    assert diags[1].data["incidentId"] == diag.data["incidentId"]


async def test_transcript_is_clean_text(shared: LanguageClient) -> None:
    shared.protocol.notify("hiccup/terminalClosed", {"terminalId": "12"})
    result = await shared.protocol.send_request_async("hiccup/terminalTranscript", {"uri": URI})
    text = result.text
    assert "\x1b" not in text and "\r" not in text
    assert text.splitlines()[0] == "✻ Thinking… 🤔"
    assert text.splitlines()[1].startswith("  ⎿  API Error (529")
    assert len(shared.diagnostics[URI]) == 2  # closing the terminal keeps its diagnostics


async def test_unknown_transcript_is_invalid_params(shared: LanguageClient) -> None:
    with pytest.raises(JsonRpcException) as err:
        await shared.protocol.send_request_async("hiccup/terminalTranscript", {"uri": "hiccup-terminal:/99/x"})
    assert err.value.code == -32602


async def test_transcript_stays_bounded(shared: LanguageClient) -> None:
    chunk = ("x" * 99 + "\n") * 10_000  # 1 MB of output per notification
    for _ in range(3):
        feed(shared, chunk, terminal_id="big")
    feed(shared, f"⎿  {ERR_529}\n", terminal_id="big")
    uri = "hiccup-terminal:/big/claude%20%F0%9F%A4%96"
    await wait_diagnostics(shared, uri, lambda d: len(d) == 1, timeout=TIMEOUT)
    result = await shared.protocol.send_request_async("hiccup/terminalTranscript", {"uri": uri})
    assert len(result.text) <= 2 * 1024 * 1024
    assert result.text.rstrip("\n").endswith(ERR_529)
