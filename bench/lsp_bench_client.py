"""A minimal LSP client over the real server process, for the benches (no test framework in the loop)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Sequence

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SERVER = [sys.executable, "-m", "hiccup", "serve"]


class BenchClient(LanguageClient):
    """Records publishDiagnostics and lets a caller wait for one that satisfies a predicate."""

    def __init__(self) -> None:
        super().__init__("hiccup-bench", "0")
        self.diagnostics: dict[str, Sequence[types.Diagnostic]] = {}
        self._waiters: list[tuple[str, Callable[[Sequence[types.Diagnostic]], bool], asyncio.Future[None]]] = []

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(client: BenchClient, params: types.PublishDiagnosticsParams) -> None:
            client.diagnostics[params.uri] = params.diagnostics
            for waiter in list(client._waiters):
                uri, predicate, future = waiter
                if uri == params.uri and predicate(params.diagnostics) and not future.done():
                    future.set_result(None)
                    client._waiters.remove(waiter)

        for method in (types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE, "hiccup/status"):
            self.feature(method)(lambda *_: None)

    def expect(self, uri: str, predicate: Callable[[Sequence[types.Diagnostic]], bool]) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((uri, predicate, future))
        return future


async def start(env: dict[str, str] | None = None) -> BenchClient:
    client = BenchClient()
    await client.start_io(*SERVER, env={**os.environ, **(env or {})})
    return client


async def initialize(client: BenchClient) -> types.InitializeResult:
    result = await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), process_id=os.getpid()))
    client.initialized(types.InitializedParams())
    return result


async def stop(client: BenchClient) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
