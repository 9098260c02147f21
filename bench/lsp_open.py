"""A big Claude Code log in the editor: didOpen → first diagnostics, then appends → republish.

    .venv/bin/python bench/lsp_open.py [--mb 50] [--appends 20]

The log is generated: debug-log-like lines with an API error every ~2,000 lines. After the open, the log
"grows": each append is one incremental didChange at the end carrying a new error line, timed until the
republished list contains it (the server re-classifies only the touched lines; a document publishes at once
while its bucket of three publishes lasts, refilled four times a second, and for twice what the last publish
cost at least, which bounds the latency from below when appends come faster).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from lsprotocol import types

from lsp_bench_client import initialize, start, stop

ERROR = ('{ts} [ERROR] API Error: 500 {{"type":"error","error":{{"type":"api_error","message":'
         '"Internal server error"}},"request_id":"req_011CBench{n:08d}"}}')
NOISE = ("{ts} [DEBUG] Stream event: content_block_delta index={n} ⎿ tool_use Read(src/module_{m}.py) "
         "tokens in=1234 out=567 cache_read=89012 latency_ms=345")


def make_log(megabytes: float) -> tuple[str, int]:
    lines, size, n, errors = [], 0, 0, 0
    while size < megabytes * 1024 * 1024:
        ts = f"2026-11-25T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}.000Z"
        line = ERROR.format(ts=ts, n=n) if n % 2000 == 1999 else NOISE.format(ts=ts, n=n, m=n % 97)
        errors += n % 2000 == 1999
        lines.append(line)
        size += len(line.encode()) + 1
        n += 1
    return "\n".join(lines) + "\n", errors


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main(megabytes: float, appends: int) -> None:
    text, errors = make_log(megabytes)
    line_count = text.count("\n")
    uri = (Path(tempfile.gettempdir()) / "hiccup-bench-claude.log").as_uri()
    client = await start()
    await initialize(client)
    pid = client._server.pid  # type: ignore[union-attr]

    opened = client.expect(uri, lambda d: len(d) == errors)
    t0 = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="log", version=1, text=text)))
    await asyncio.wait_for(opened, 300)
    open_s = time.perf_counter() - t0
    print(f"didOpen {len(text.encode()) / 2**20:.1f} MB ({line_count:,} lines, {errors} errors) → first "
          f"publishDiagnostics: {open_s:.2f} s; server RSS {rss_mb(pid):.0f} MB")

    latencies = []
    for i in range(appends):
        line = line_count + i
        want = errors + i + 1
        republished = client.expect(uri, lambda d, want=want: len(d) == want)
        t0 = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2 + i),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, 0), types.Position(line, 0)),
                text=ERROR.format(ts="2026-11-25T23:59:59.000Z", n=10**7 + i) + "\n")]))
        await asyncio.wait_for(republished, 60)
        latencies.append(time.perf_counter() - t0)
        await asyncio.sleep(0.3)  # one append per publish window, as a log written by a retrying client would
    print(f"append (incremental didChange at line {line_count:,}+) → republish, {appends} appends: "
          f"median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    await stop(client)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--appends", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.mb, args.appends))
