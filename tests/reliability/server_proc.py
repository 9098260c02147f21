"""A real `hiccup serve` process per test, with its own cache directory, clock start and arguments.

The pytest-lsp fixtures in `tests/lsp` share one configuration; faults and restarts need a server started (and
killed) by the test itself.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Union

from lsp_support import START, initialize
from lsprotocol import types
from pytest_lsp import LanguageClient, make_test_lsp_client


def server_env(cache: Path, start: str = START, **extra: str) -> dict[str, str]:
    return {**os.environ, "HICCUP_TEST_CLOCK": "1", "HICCUP_TEST_CLOCK_START": start, "TZ": "UTC",
            "XDG_CACHE_HOME": str(cache), **extra}


def make_client() -> LanguageClient:
    """The stock test client, reading code actions as `tests/lsp/conftest.py` does: lsprotocol would structure
    any action that carries a `command` object as a bare Command."""
    client = make_test_lsp_client()
    conv = client.protocol._converter

    def command_or_action(obj: Any, _: type) -> types.Command | types.CodeAction:
        cls = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return conv.structure(obj, cls)

    conv.register_structure_hook(Union[types.Command, types.CodeAction], command_or_action)  # noqa: UP007
    return client


async def start(cache: Path, *, start_at: str = START, args: Sequence[str] = (), env: dict[str, str] | None = None,
                **init: Any) -> LanguageClient:
    """Start and initialize a server; the caller stops it (`stop`) or kills it (`client._server.kill()`)."""
    client = make_client()
    await client.start_io(sys.executable, "-m", "hiccup", "serve", *args,
                          env=server_env(cache, start_at, **(env or {})))
    await initialize(client, **init)
    return client


async def stop(client: LanguageClient) -> None:
    with contextlib.suppress(Exception):
        await client.shutdown_session()
    await client.stop()


@contextlib.asynccontextmanager
async def running(cache: Path, **kwargs: Any) -> AsyncIterator[LanguageClient]:
    client = await start(cache, **kwargs)
    try:
        yield client
    finally:
        await stop(client)
