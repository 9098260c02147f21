"""Restarting Claude Code in a `hiccup run` session when the editor cannot: asked first, then the session's
control socket (here served by the test, speaking `hiccup run`'s one-line protocol) does it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from lsp_support import (
    ERR_500,
    SERVER_COMMAND,
    SERVER_ENV,
    VSCODE_OPTIONS,
    execute,
    hover_text,
    initialize,
    open_doc,
    wait_diagnostics,
    wait_message,
)
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, make_test_lsp_client

PROMPT = "Restart Claude Code in the `hiccup run` session?"


def make_client() -> LanguageClient:
    client = make_test_lsp_client()
    client.prompts: list[types.ShowMessageRequestParams] = []  # type: ignore[misc]
    client.answer: str | None = "Restart"  # type: ignore[misc]

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def prompt(client: LanguageClient, params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        client.prompts.append(params)  # type: ignore[attr-defined]
        answer = client.answer  # type: ignore[attr-defined]
        return types.MessageActionItem(answer) if answer else None

    @client.feature("hiccup/restartClaudeCode")
    def restart(client: LanguageClient, params: Any) -> dict[str, str]:
        return {"outcome": "not_found", "detail": "no terminal runs claude"}

    return client


class Session:
    """A live `hiccup run` session as other tools see it: a sidecar naming a live pid and a control socket."""

    def __init__(self, cache: Path) -> None:
        self.dir = cache / "hiccup" / "sessions"
        self.dir.mkdir(parents=True)
        self.log = self.dir / f"20261125-095500-{os.getpid()}.log"
        self.socket_dir = tempfile.mkdtemp(prefix="hiccup-ctl-")  # sun_path is short: not under tmp_path
        self.control = os.path.join(self.socket_dir, "ctl")
        self.requests: list[bytes] = []
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_unix_server(self._serve, self.control)
        self.log.write_text("")
        sidecar = {"version": 1, "pid": os.getpid(), "child_pid": os.getpid(), "command": "claude",
                   "log": str(self.log), "control": self.control, "restarts": 0}
        self.log.with_name(self.log.name + ".json").write_text(json.dumps(sidecar))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests.append(await reader.readline())
        writer.write(b"restarted\n")
        await writer.drain()
        writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        shutil.rmtree(self.socket_dir, ignore_errors=True)


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    live = Session(tmp_path / "cache")
    await live.start()
    yield live
    await live.stop()


@pytest.fixture
async def launch(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[LanguageClient]]]:
    clients: list[LanguageClient] = []
    env = {**SERVER_ENV, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}

    async def start(options: Any = None) -> LanguageClient:
        config = ClientServerConfig(server_command=SERVER_COMMAND, server_env=env, client_factory=make_client)
        client = await config.start()
        clients.append(client)
        await initialize(client, "neovim" if options is None else "visual-studio-code", options=options)
        return client

    yield start
    for client in clients:
        await client.shutdown_session()
        await client.stop()


async def failing(client: LanguageClient, path: Path) -> tuple[str, types.Diagnostic]:
    uri = path.as_uri()
    await open_doc(client, uri, ERR_500 + "\n")
    (diag,) = await wait_diagnostics(client, uri, lambda d: len(d) == 1)
    return uri, diag


async def test_editor_without_restart_support_asks_then_restarts_the_session(
        launch: Callable[..., Awaitable[LanguageClient]], session: Session, tmp_path: Path) -> None:
    client = await launch()
    uri, diag = await failing(client, tmp_path / "claude.log")

    client.answer = "Not now"  # type: ignore[attr-defined]
    result = await execute(client, "hiccup.restartClaudeCode", {"incidentId": diag.data["incidentId"]})
    assert result["outcome"] == "cancelled" and session.requests == []
    (prompt,) = client.prompts  # type: ignore[attr-defined]
    assert prompt.message.startswith(PROMPT) and session.log.name in prompt.message
    assert [a.title for a in prompt.actions or []] == ["Restart", "Not now"]

    client.answer = "Restart"  # type: ignore[attr-defined]
    result = await execute(client, "hiccup.restartClaudeCode", {"incidentId": diag.data["incidentId"]})
    assert result == {"outcome": "restarted", "detail": f"hiccup run session {session.log.name}"}
    assert session.requests == [b"restart\n"]  # the fixed request line, nothing else
    await wait_message(client, lambda m: "restarted in the `hiccup run` session" in m)
    assert "restarted 1×" in await hover_text(client, uri, diag)


async def test_editor_finding_no_claude_terminal_offers_the_session(
        launch: Callable[..., Awaitable[LanguageClient]], session: Session, tmp_path: Path) -> None:
    client = await launch(VSCODE_OPTIONS)
    _, diag = await failing(client, tmp_path / "claude.log")
    result = await execute(client, "hiccup.restartClaudeCode", {"incidentId": diag.data["incidentId"]})
    assert result["outcome"] == "restarted" and session.requests == [b"restart\n"]


async def test_no_session_means_the_manual_steps(launch: Callable[..., Awaitable[LanguageClient]],
                                                 tmp_path: Path) -> None:
    client = await launch()
    _, diag = await failing(client, tmp_path / "claude.log")
    result = await execute(client, "hiccup.restartClaudeCode", {"incidentId": diag.data["incidentId"]})
    assert result["outcome"] == "manual" and client.prompts == []  # type: ignore[attr-defined]
    await wait_message(client, lambda m: "`claude --continue`" in m)
