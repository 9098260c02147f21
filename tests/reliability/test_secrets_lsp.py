"""Credentials in logs, transcripts and terminals never leave the server, and nothing from a log becomes a URL.

Fake secrets are planted where Claude Code really prints them (a `--debug` request dump, an error echoed with
the key, a shell `export`, a transcript entry); every byte the server sends, writes or logs is then searched.
The status request itself (no credentials sent, no off-host redirect) is covered in `tests/test_status.py`
(`test_headers_sent_are_ours_and_nothing_else`, `test_redirect_to_another_host_is_refused`).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsp_support import ERR_500, code_actions, execute, hover_text, open_doc, wait_diagnostics
from pytest_lsp import LanguageClient
from server_proc import running, server_env

from hiccup.catalog import builtin_catalog

API_KEY = "sk-ant-api03-" + "Zq9x" * 20 + "-AAAA"
OAUTH = "sk-ant-oat01-" + "Wv8y" * 15
BEARER = "eyJhbGciOiJIUzI1NiJ9.FAKEpayloadQ1w2e3.FAKEsigR4t5y6"
X_KEY = "xk-FAKE-7f3a9b2c4d5e6f70"
PASSWORD = "hunter2hunter2"
CORES = ["Zq9xZq9x", "Wv8yWv8y", "FAKEpayload", "FAKEsig", "7f3a9b2c4d5e", PASSWORD]

LOG = "\n".join([
    f'2026-11-25T10:00:00.100Z [DEBUG] request headers: {{"x-api-key": "{X_KEY}", '
    f'"authorization": "Bearer {BEARER}"}}',
    f"2026-11-25T10:00:00.200Z [ERROR] {ERR_500} while sending Authorization: Bearer {BEARER}",
    f'2026-11-25T10:00:01.000Z [ERROR] API Error: 401 {{"type":"error","error":{{"type":"authentication_error",'
    f'"message":"invalid x-api-key: {API_KEY}"}}}} · Please run /login',
    f"2026-11-25T10:00:02.000Z [ERROR] API Error: 529 Overloaded; token={OAUTH} password={PASSWORD}; "
    "details at http://evil.example/steal?x=1 and file:///etc/passwd",
    "",
])
TRANSCRIPT = json.dumps({
    "type": "assistant", "isApiErrorMessage": True, "timestamp": "2026-11-25T10:00:03Z",
    "message": {"role": "assistant", "content": [{"type": "text", "text":
        f"API Error: 401 {{\"type\":\"error\",\"error\":{{\"type\":\"authentication_error\","
        f"\"message\":\"OAuth token {OAUTH} has expired\"}}}} · Please run /login"}]}}) + "\n"
TERMINAL = (f"$ export ANTHROPIC_API_KEY={API_KEY}\r\n$ claude --debug\r\n"
            f"\x1b[31m  ⎿  {ERR_500} x-api-key: {X_KEY}\x1b[0m\r\n")


def capture(client: LanguageClient) -> list[str]:
    """Every message the server sends, as raw JSON (diagnostics, hovers, results, log and show messages)."""
    seen: list[str] = []
    structure = client.protocol.structure_message

    def record(data: dict[str, Any]) -> Any:
        if "jsonrpc" in data:
            seen.append(json.dumps(data, ensure_ascii=False))
        return structure(data)

    client.protocol.structure_message = record  # type: ignore[method-assign]
    return seen


def assert_clean(where: str, text: str) -> None:
    leaked = [core for core in CORES if core in text]
    assert not leaked, f"{where} leaks {leaked}"


def allowed_urls(settings_url: str = "https://status.claude.com") -> set[str]:
    catalog = builtin_catalog()
    return {catalog.status_page_url, catalog.community_url, catalog.docs_url, settings_url,
            *(c.docs_url for c in catalog.categories.values())}


async def test_nothing_secret_leaves_the_server(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    os.umask(0o022)  # a permissive umask: what Hiccup writes must be private anyway
    cache, project = tmp_path / "cache", tmp_path / "project"
    project.mkdir()
    (project / "claude.log").write_text(LOG)
    (project / "session.jsonl").write_text(TRANSCRIPT)
    async with running(cache, root_uri=project.as_uri()) as client:
        seen = capture(client)
        log_uri, jsonl_uri = (project / "claude.log").as_uri(), (project / "session.jsonl").as_uri()
        await open_doc(client, log_uri, LOG)
        await open_doc(client, jsonl_uri, TRANSCRIPT, language_id="jsonl")
        client.protocol.notify("hiccup/terminalData", {"terminalId": "1", "name": "claude", "data": TERMINAL})
        term_uri = "hiccup-terminal:/1/claude"
        diagnostics = [*await wait_diagnostics(client, log_uri, lambda d: len(d) == 3),
                       *await wait_diagnostics(client, jsonl_uri, lambda d: len(d) == 1),
                       *await wait_diagnostics(client, term_uri, lambda d: len(d) == 1)]
        shown: list[str] = []
        for diag, uri in zip(diagnostics, [log_uri] * 3 + [jsonl_uri, term_uri], strict=True):
            assert diag.code_description is None or diag.code_description.href in allowed_urls()
            await hover_text(client, uri, diag)
            for action in await code_actions(client, uri, diag):
                assert action.command is not None
                if action.command.command == "hiccup.ignoreCategory":
                    continue  # would hide the next diagnostics of the category from hover
                result = await execute(client, action.command.command, *(action.command.arguments or []))
                shown.append(json.dumps(result))
        result = await client.protocol.send_request_async("hiccup/terminalTranscript", {"uri": term_uri})
        assert "ANTHROPIC_API_KEY=[REDACTED]" in result.text
        # nothing from a log is a link: every page opened comes from the catalog or the settings, over https
        assert client.shown_documents, shown
        for doc in client.shown_documents:
            assert doc.uri.startswith("https://") and doc.uri in allowed_urls(), doc.uri
    assert {"textDocument/publishDiagnostics", "window/logMessage", "window/showMessage"} <= {
        json.loads(s).get("method") for s in seen}
    assert any("[REDACTED]" in s for s in shown)  # the error reports quote the lines, masked
    assert_clean("messages from the server", "\n".join(seen))
    _, err = capfd.readouterr()
    assert_clean("server stderr", err)

    # what Hiccup wrote to disk: redacted, and private
    written = [p for p in cache.rglob("*")]
    assert any(p.is_file() for p in written)
    for path in written:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir() and path.is_relative_to(cache / "hiccup"):
            assert mode == 0o700, f"{path} is {oct(mode)}"
        elif path.is_file():
            assert mode == 0o600, f"{path} is {oct(mode)}"
            assert_clean(str(path), path.read_text("utf-8", "replace"))


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_scan_output_is_redacted(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "claude.log").write_text(LOG)
    (tmp_path / "session.jsonl").write_text(TRANSCRIPT)
    (tmp_path / "terminal.txt").write_text(TERMINAL)
    done = subprocess.run([sys.executable, "-m", "hiccup", "scan", "--format", fmt, str(tmp_path)],
                          capture_output=True, text=True, timeout=60, env=server_env(tmp_path / "cache"))
    assert done.returncode == 1, done.stderr  # found something
    assert done.stdout.count("\n") >= 5
    assert_clean("hiccup scan stdout", done.stdout)
    assert_clean("hiccup scan stderr", done.stderr)


def test_explain_output_is_redacted(tmp_path: Path) -> None:
    for line in [*LOG.splitlines()[1:4], TERMINAL]:
        done = subprocess.run([sys.executable, "-m", "hiccup", "explain", line], capture_output=True, text=True,
                              timeout=60, env=server_env(tmp_path / "cache"))
        assert_clean("hiccup explain", done.stdout + done.stderr)
