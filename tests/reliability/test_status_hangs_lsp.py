"""The status page hangs mid-body (or never stops sending): the server goes on answering while the check runs,
and the check ends at its deadline with "unknown", never with the page's half answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsp_support import ERR_500, VSCODE_OPTIONS, execute, hover_text, open_doc, wait_diagnostics
from server_proc import running

from statuspage_server import StatusPageServer, drip, huge

DEADLINE = 2  # HICCUP_STATUS_TIMEOUT: the whole check, however the page behaves


@pytest.fixture(scope="module")
def page() -> Iterator[StatusPageServer]:
    with StatusPageServer() as server:
        yield server


@pytest.mark.parametrize("behaviour", ["drip", "huge"])
async def test_a_hanging_status_page_never_stalls_the_server(tmp_path: Path, page: StatusPageServer,
                                                              behaviour: str) -> None:
    url = page.serve(f"/{behaviour}", drip(interval=0.05) if behaviour == "drip" else huge(size=200 * 2**20))
    options = {**VSCODE_OPTIONS, "settings": {"statusPage": {"url": url, "pollSeconds": 60}}}
    async with running(tmp_path / "cache", options=options, env={"HICCUP_STATUS_TIMEOUT": str(DEADLINE)}) as client:
        uri = (tmp_path / "claude.log").as_uri()
        await open_doc(client, uri, ERR_500 + "\n")
        (diag,) = await wait_diagnostics(client, uri, lambda d: len(d) == 1)
        t0 = time.monotonic()
        check = asyncio.ensure_future(execute(client, "hiccup.checkStatusNow"))
        latencies = []
        while not check.done():
            t = time.monotonic()
            await hover_text(client, uri, diag)
            latencies.append(time.monotonic() - t)
            await asyncio.sleep(0.05)
        result = await check
        took = time.monotonic() - t0
    print(f"status page {behaviour}: check ended after {took:.2f} s ({result['text']!r}); "
          f"{len(latencies)} hovers meanwhile, slowest {max(latencies) * 1000:.0f} ms")
    assert result["indicator"] == "unknown", result
    assert took < DEADLINE + 3, f"the check took {took:.1f} s"
    if behaviour == "drip":  # each read is quick: only the deadline ends it, and the server answered meanwhile
        assert took >= DEADLINE - 0.5 and len(latencies) >= 10, (took, latencies)
    else:  # more than the size cap: refused while reading
        assert "large" in result["text"] or "MB" in result["text"], result
    assert max(latencies) < 0.5, latencies
