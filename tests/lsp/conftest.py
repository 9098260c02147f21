"""pytest-lsp fixtures: the real server process (`python -m hiccup serve`) with a manual clock."""

from __future__ import annotations

from typing import Any

import pytest_lsp
from lsp_support import SERVER_COMMAND, SERVER_ENV, initialize, make_plain_client
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

RESTART_METHOD = "hiccup/restartClaudeCode"


def make_client() -> LanguageClient:
    """The stock test client plus what Hiccup's server asks of an editor (message requests, restarts)."""
    client = make_plain_client()
    client.message_requests: list[types.ShowMessageRequestParams] = []  # type: ignore[misc]
    client.answer: str | None = "Dismiss"  # type: ignore[misc]
    client.restart_requests: list[Any] = []  # type: ignore[misc]
    client.restart_outcome: str = "restarted"  # type: ignore[misc]

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(
        client: LanguageClient, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None:
        client.message_requests.append(params)  # type: ignore[attr-defined]
        answer = client.answer  # type: ignore[attr-defined]
        return types.MessageActionItem(title=answer) if answer else None

    @client.feature(RESTART_METHOD)
    def restart(client: LanguageClient, params: Any) -> dict[str, str]:
        client.restart_requests.append(params)  # type: ignore[attr-defined]
        return {"outcome": client.restart_outcome, "detail": "terminal 'claude'"}  # type: ignore[attr-defined]

    return client


CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, server_env=SERVER_ENV, client_factory=make_client)
@pytest_lsp.fixture(config=CONFIG)
async def vscode(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    """A VS Code-like client that implements hiccup/restartClaudeCode; a fresh server (and clock) per test."""
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def shared(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    """One VS Code-like server for a whole module: for tests that never move the clock."""
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def neovim(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    """Neovim 0.7's capabilities: no showDocument, no workspace/configuration, no protocol extensions."""
    await initialize(lsp_client, "neovim@v0.7.0", options=None)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def bare(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    """Started but not initialized: the test chooses capabilities, options and configuration."""
    yield
    await lsp_client.shutdown_session()
