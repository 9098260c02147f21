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
from typing import Any

from lsp_support import START, initialize, make_plain_client
from pytest_lsp import LanguageClient


def server_env(cache: Path, start: str = START, **extra: str) -> dict[str, str]:
    return {**os.environ, "HICCUP_TEST_CLOCK": "1", "HICCUP_TEST_CLOCK_START": start, "TZ": "UTC",
            "XDG_CACHE_HOME": str(cache), **extra}


async def start(cache: Path, *, start_at: str = START, args: Sequence[str] = (), env: dict[str, str] | None = None,
                **init: Any) -> LanguageClient:
    """Start and initialize a server; the caller stops it (`stop`) or kills it (`client._server.kill()`)."""
    client = make_plain_client()
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
