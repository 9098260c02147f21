"""Language server start-up: process launch → `initialize` response, median of N runs.

    .venv/bin/python bench/lsp_start.py [--runs 10]

What an editor waits for before anything else can happen; dominated by imports (lsprotocol's types) and
loading the catalog.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from lsp_bench_client import initialize, start, stop


async def once() -> float:
    t0 = time.perf_counter()
    client = await start()
    await initialize(client)
    elapsed = time.perf_counter() - t0
    await stop(client)
    return elapsed


async def main(runs: int) -> None:
    times = [await once() for _ in range(runs)]
    print(f"lsp start → initialize response over {runs} runs: median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
