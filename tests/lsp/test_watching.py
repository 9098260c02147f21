"""Following files the editor never opened: Claude Code transcripts and `hiccup.watch` logs, written by real
writers, rotated, truncated and deleted under the real server process."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from lsp_support import (
    ERR_500,
    SERVER_COMMAND,
    SERVER_ENV,
    TIMEOUT,
    execute,
    hover_text,
    initialize,
    log_line,
    open_doc,
    wait_diagnostics,
)
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from hiccup.classifier import default_classifier
from hiccup.claude_paths import project_dir_name

HINT = types.DiagnosticSeverity.Hint
Launch = Callable[..., Awaitable[LanguageClient]]


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def transcript_error(ts: str) -> str:
    """A Claude Code transcript entry for a failed request, as `~/.claude/projects/…/<session>.jsonl` holds it;
    the emoji in the cwd makes UTF-16 columns differ from code points."""
    return ('{"type":"assistant","cwd":"/home/ann/😀-app","isApiErrorMessage":true,"timestamp":"' + ts + '",'
            '"message":{"model":"<synthetic>","content":[{"type":"text","text":"API Error: 500 {\\"type\\":'
            '\\"error\\",\\"error\\":{\\"type\\":\\"api_error\\",\\"message\\":\\"Internal server error\\"}}"}]}}')


USER_LINE = '{"type":"user","timestamp":"2026-11-25T09:58:00Z","message":{"role":"user","content":"fix the tests"}}'


def expected_range(line: str, line_no: int) -> types.Range:
    finding = default_classifier().classify_line(line, line_no, "jsonl")
    assert finding is not None
    return types.Range(types.Position(line_no, utf16(line[:finding.start])),
                       types.Position(line_no, utf16(line[:finding.end])))


def write(path: Path, text: str, mode: str = "a") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode, encoding="utf-8") as f:
        f.write(text)


def uri_of(path: Path) -> str:
    return path.as_uri()


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    return tmp_path / "claude"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def transcripts(claude_dir: Path, folder: Path) -> Path:
    return claude_dir / "projects" / project_dir_name(folder)


@pytest.fixture
async def launch(tmp_path: Path, claude_dir: Path, folder: Path) -> AsyncIterator[Launch]:
    """Start a server whose Claude Code and cache directories are this test's, once the files are in place."""
    clients: list[LanguageClient] = []
    env = {**SERVER_ENV, "CLAUDE_CONFIG_DIR": str(claude_dir), "XDG_CACHE_HOME": str(tmp_path / "cache")}

    async def start(settings: dict[str, Any] | None = None) -> LanguageClient:
        config = ClientServerConfig(server_command=SERVER_COMMAND, server_env=env)
        client = await config.start()
        clients.append(client)
        client.set_configuration(settings or {}, section="hiccup")
        await initialize(client, options=None, root_uri=folder.as_uri(),
                         workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)])
        await wait_log(client, lambda m: m.startswith("following "))
        return client

    yield start
    for client in clients:
        await client.shutdown_session()
        await client.stop()


async def wait_log(client: LanguageClient, predicate: Callable[[str], bool],
                   timeout: float = TIMEOUT) -> types.LogMessageParams:
    async def loop() -> types.LogMessageParams:
        while True:
            next_log = client.protocol.wait_for_notification_async(types.WINDOW_LOG_MESSAGE)
            for m in client.log_messages:
                if predicate(m.message):
                    return m
            await next_log
    return await asyncio.wait_for(loop(), timeout)


def lines_at(diags: Sequence[types.Diagnostic]) -> list[int]:
    return [d.range.start.line for d in diags]


async def occurrences(client: LanguageClient, diag: types.Diagnostic) -> int:
    result = await execute(client, "hiccup.copyErrorReport", {"incidentId": diag.data["incidentId"]})
    report = result["text"] if isinstance(result, dict) else result.text
    return int(next(line.split()[-1] for line in report.splitlines() if line.startswith("occurrences")))


async def test_transcripts_are_followed_without_opening_them(launch: Launch, transcripts: Path) -> None:
    first = transcripts / "0a1b-session.jsonl"
    write(first, USER_LINE + "\n")
    client = await launch()

    # Claude Code (here: another process) appends the failed request to the running session's transcript.
    error = transcript_error("2026-11-25T09:59:00Z")
    subprocess.run([sys.executable, "-c", "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n')",
                    str(first), error], check=True, timeout=TIMEOUT)
    (diag,) = await wait_diagnostics(client, uri_of(first), lambda d: len(d) == 1)
    assert diag.code == "internal_server_error" and diag.source == "hiccup"
    assert diag.range == expected_range(error, 1)

    # A session started later gets a transcript of its own (a sub-agent's, one directory down).
    later = transcripts / "0a1b-session" / "subagents" / "agent-7.jsonl"
    write(later, USER_LINE + "\n" + error + "\n")
    (diag,) = await wait_diagnostics(client, uri_of(later), lambda d: len(d) == 1)
    assert diag.range == expected_range(error, 1)


async def test_lookback_shows_old_errors_as_hints(launch: Launch, transcripts: Path) -> None:
    old = transcripts / "yesterday.jsonl"
    write(old, USER_LINE + "\n" + transcript_error("2026-11-24T08:00:00Z") + "\n")
    client = await launch()
    (diag,) = await wait_diagnostics(client, uri_of(old), lambda d: len(d) == 1)
    assert diag.severity == HINT and diag.message.startswith("Claude API 500 — old error from 2026-11-24 08:00")


async def test_watch_setting_at_run_time(launch: Launch, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    app = logs / "app.log"
    write(app, "starting\n" + log_line("2026-11-25T09:59:00Z", ERR_500) + "\n")
    write(logs / "core.log", "\x00\x01\x02\x03" * 4096)
    client = await launch()

    client.set_configuration({"watch": [str(logs / "*.log")]}, section="hiccup")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    (diag,) = await wait_diagnostics(client, uri_of(app), lambda d: len(d) == 1)
    assert lines_at([diag]) == [1]
    problem = await wait_log(client, lambda m: "core.log" in m)
    assert problem.type == types.MessageType.Warning and "binary" in problem.message
    assert sum("core.log" in m.message for m in client.log_messages) == 1

    client.set_configuration({"watch": []}, section="hiccup")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await wait_diagnostics(client, uri_of(app), lambda d: len(d) == 0)


class Writer:
    """A log writer in another process that keeps its file open, as a logging library does."""

    def __init__(self, path: Path) -> None:
        script = """
            import sys
            f = open(sys.argv[1], "a", encoding="utf-8")
            for line in sys.stdin:
                f.write(line)
                f.flush()
                print("ok", flush=True)
        """
        self.proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), str(path)], text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    async def write(self, line: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        assert await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), TIMEOUT) == "ok\n"

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(TIMEOUT)


async def test_rotation_counts_every_error_once(launch: Launch, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "app.log"
    write(log, "starting\n" + log_line("2026-11-25T09:57:00Z", ERR_500) + "\n")
    client = await launch({"watch": [str(log)]})
    uri = uri_of(log)
    await wait_diagnostics(client, uri, lambda d: len(d) == 1)

    writer = Writer(log)
    try:
        await writer.write(log_line("2026-11-25T09:57:20Z", ERR_500))
        diags = await wait_diagnostics(client, uri, lambda d: len(d) == 2)
        assert lines_at(diags) == [1, 2]

        # Rotation by rename: the writer's next line lands in the renamed file, then a new file takes the name.
        log.rename(log.with_name("app.log.1"))
        await writer.write(log_line("2026-11-25T09:57:40Z", ERR_500))
        write(log, "rotated\nnoise\n" + log_line("2026-11-25T09:58:00Z", ERR_500) + "\n")
        (diag,) = await wait_diagnostics(client, uri, lambda d: len(d) == 1 and "4th time" in d[0].message)
        assert lines_at([diag]) == [2]  # only the new file has positions; the late line counted, unpositioned
    finally:
        writer.close()

    # copytruncate: the content is copied away and the file emptied in place, then written again from line 0.
    shutil.copy(log, log.with_name("app.log.2"))
    with open(log, "r+") as f:
        f.truncate(0)
    write(log, log_line("2026-11-25T09:58:20Z", ERR_500) + "\n")
    (diag,) = await wait_diagnostics(client, uri, lambda d: len(d) == 1 and lines_at(d) == [0])
    assert "5th time" in diag.message
    assert await occurrences(client, diag) == 5


async def test_deleted_file_keeps_its_history(launch: Launch, transcripts: Path) -> None:
    session = transcripts / "c0ffee.jsonl"
    write(session, USER_LINE + "\n" + transcript_error("2026-11-25T09:59:00Z") + "\n")
    client = await launch()
    uri = uri_of(session)
    (first,) = await wait_diagnostics(client, uri, lambda d: len(d) == 1)

    session.unlink()
    await wait_diagnostics(client, uri, lambda d: len(d) == 0)

    error = transcript_error("2026-11-25T09:59:30Z")
    write(session, error + "\n")
    (diag,) = await wait_diagnostics(client, uri, lambda d: len(d) == 1)
    assert diag.range == expected_range(error, 0)
    assert diag.data["incidentId"] == first.data["incidentId"] and "2nd time" in diag.message

    # Opened in the editor: the document takes over without counting the line twice, and hover has the history.
    await open_doc(client, uri, error + "\n", language_id="jsonl")
    assert "seen 2 times" in await hover_text(client, uri, diag)
    assert await occurrences(client, diag) == 2

    # Closed again: still followed, so the diagnostics stay; a new line is positioned as before.
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    later = transcript_error("2026-11-25T09:59:50Z")
    write(session, later + "\n")
    diags = await wait_diagnostics(client, uri, lambda d: len(d) == 2)
    assert [d.range for d in diags] == [expected_range(error, 0), expected_range(later, 1)]
    assert await occurrences(client, diags[1]) == 3
    assert client.diagnostics[uri] and os.path.exists(session)
