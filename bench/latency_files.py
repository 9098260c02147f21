"""Append→on_lines latency and idle CPU of `Follower` over many files.

    .venv/bin/python bench/latency_files.py [--files 1000] [--dirs 20] [--appends 300] [--idle 10]
        [--step 10] [--debounce 20] [--resync 5] [--poll]

Idle CPU is the process's CPU time (all threads, so watchfiles' Rust thread too) over wall time while
nothing is written; latency is from the end of `write()` to the callback, measured in the same process.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from hiccup.follow import Follower
from hiccup.tailer import TailLine


async def bench(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="hiccup-bench-"))
    files: list[Path] = []
    for d in range(args.dirs):
        sub = root / f"d{d:03d}"
        sub.mkdir()
        for i in range(args.files // args.dirs):
            path = sub / f"session-{i:04d}.jsonl"
            path.write_text('{"type":"user"}\n')
            files.append(path)
    arrived: dict[str, float] = {}
    event = asyncio.Event()

    def on_lines(path: Path, lines: list[TailLine]) -> None:
        now = time.perf_counter()
        for line in lines:
            arrived[line.text] = now
        event.set()

    follower = Follower(
        [root],
        on_lines=on_lines,
        step_ms=args.step,
        debounce_ms=args.debounce,
        poll_fallback=args.poll,
        lookback=False,
        resync_s=args.resync,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    t0 = time.perf_counter()
    await follower.ready.wait()
    print(
        f"{len(follower.watched_files())} files in {follower.stats['watched_dirs']} dirs, ready in "
        f"{(time.perf_counter() - t0) * 1000:.0f} ms"
    )

    await asyncio.sleep(1.0)  # let start-up settle before measuring idle
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(args.idle)
    cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    print(f"idle CPU: {cpu * 100:.2f} % of one core over {args.idle:g} s")

    rng = random.Random(1)
    latencies: list[float] = []
    for n in range(args.appends):
        path = rng.choice(files)
        marker = f'{{"n":{n}}}'
        event.clear()
        with open(path, "a") as f:
            f.write(marker + "\n")
        written = time.perf_counter()
        while marker not in arrived:
            await asyncio.wait_for(event.wait(), 10)
            event.clear()
        latencies.append((arrived[marker] - written) * 1000)
        await asyncio.sleep(rng.uniform(0.005, 0.03))
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"append→lines over {len(latencies)} appends: p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms"
    )
    stop.set()
    await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--dirs", type=int, default=20)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--step", type=int, default=10)
    parser.add_argument("--debounce", type=int, default=20)
    parser.add_argument("--resync", type=float, default=5.0, help="safety re-stat period (s)")
    parser.add_argument("--poll", action="store_true")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
