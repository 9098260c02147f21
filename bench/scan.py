"""Scanning throughput: hiccup against `grep -E` (and `rg` when installed) on the same file, same run.

Generates a seeded, realistic mixed log (about 1 Claude Code error per 2,000 lines, among tempting benign
lines: access logs with 500/429, pytest failures, compiler errors, ANSI colour), then times each tool over
it with a warm page cache and prints MB/s and the ratio to grep. It also checks that hiccup finds exactly the
planted errors, so a fast-but-wrong change cannot pass unnoticed.

    python bench/scan.py [--mb 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from hiccup.classifier import Classifier

BENIGN = [
    '127.0.0.1 - - [02/Nov/2025:10:00:{s:02d} +0000] "GET /api/items/{n} HTTP/1.1" 500 {n} "-" "curl/8.5"',
    '10.0.0.{n} - - [02/Nov/2025:10:01:{s:02d} +0000] "POST /login HTTP/1.1" 429 18 "-" "Mozilla/5.0"',
    "FAILED tests/test_api.py::test_rate_limit_{n} - AssertionError: expected 429, got 200",
    "tests/test_errors.py::test_internal_server_error_{n} PASSED                    [ {s}%]",
    "src/app.ts({n},{s}): error TS2345: Argument of type 'string' is not assignable to parameter.",
    "\x1b[32m✓\x1b[39m renders the dashboard ({n} ms)",
    "\x1b[31m✗\x1b[39m handles overloaded_error retries ({n} ms)",
    "2025-11-02T10:00:{s:02d}.{n:03d}Z [DEBUG] Stream started - received first chunk",
    "2025-11-02T10:00:{s:02d}.{n:03d}Z INFO worker-{n} processed job in {s} ms",
    "  ⎿  Read {n} lines (ctrl+r to expand)",
    "⏺ Update(src/handlers/errors.py)",
    '    if err.type == "rate_limit_error":  # retry after {n} s',
    "WARN  [db] slow query took {n} ms: SELECT * FROM orders WHERE id = {s}",
    "Error: connect ECONNREFUSED 127.0.0.1:{n}",
    "Traceback (most recent call last): File \"app.py\", line {n}, in handler",
    "werkzeug.exceptions.InternalServerError: 500 Internal Server Error: The server encountered an error",
]
ERRORS = [
    '  ⎿  API Error: 500 {{"type":"error","error":{{"type":"api_error","message":"Internal server error"}},'
    '"request_id":"req_011CBench{n:06d}"}}',
    '\x1b[31m  ⎿  API Error (529 {{"type":"error","error":{{"type":"overloaded_error","message":"Overloaded"}}}})'
    " · Retrying in 5 seconds… (attempt {s}/10)\x1b[39m",
    "  ⎿  API Error (Request timed out.) · Retrying in 1 seconds… (attempt {s}/10)",
    "  ⎿  API Error: Connection error.",
    "5-hour limit reached ∙ resets 3pm",
    "Invalid API key · Please run /login",
    '2025-11-02T10:00:{s:02d}.000Z [ERROR] Error streaming, falling back to non-streaming mode: 429 '
    '{{"type":"error","error":{{"type":"rate_limit_error","message":"Number of request tokens has exceeded"}}}}',
]


def generate(path: Path, mb: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    target = mb * 1_000_000
    planted = 0
    written = 0
    with open(path, "w", encoding="utf-8") as fp:
        batch: list[str] = []
        while written < target:
            for _ in range(2000):
                if rng.random() < 1 / 2000:
                    line = rng.choice(ERRORS).format(n=rng.randrange(1_000_000), s=rng.randrange(1, 10))
                    planted += 1
                else:
                    line = rng.choice(BENIGN).format(n=rng.randrange(1000), s=rng.randrange(60))
                batch.append(line)
            chunk = "\n".join(batch) + "\n"
            batch.clear()
            fp.write(chunk)
            written += len(chunk.encode("utf-8"))
    return planted


def timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run_cmd(cmd: list[str]) -> str:
    env = {**os.environ, "LC_ALL": "C"}  # GNU grep is bimodal in UTF-8 locales; C is its fast mode
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="reuse/keep the generated log at this path")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="hiccup-bench-"))
    log = args.keep or tmp / "mixed.log"
    planted = -1 if args.keep and log.exists() else generate(log, args.mb)
    size_mb = log.stat().st_size / 1e6
    fast = Classifier()
    stdlib = Classifier(fast.catalog, engine="stdlib")
    triggers = fast.prefilter.literals
    # The prefilter's literals as one ERE alternation: what grep must find to do the same first pass.
    ere = "|".join(re.sub(r"([.\[\]{}()*+?^$|\\])", r"\\\1", t.decode()) for t in triggers)
    tools: dict[str, object] = {
        f"hiccup ({fast.prefilter.engine})": lambda: sum(1 for _ in fast.scan_file(log)),
        # what one core does: grep and rg below are single-threaded here too (rg -c on one file)
        f"hiccup ({fast.prefilter.engine}, 1 process)": lambda: sum(1 for _ in fast.scan_file(log, workers=1)),
        "hiccup (stdlib fallback)": lambda: sum(1 for _ in stdlib.scan_file(log)),
        "grep -E -c": lambda: run_cmd(["grep", "-E", "-c", ere, str(log)]),
    }
    if shutil.which("rg"):
        tools["rg -c"] = lambda: run_cmd(["rg", "-c", ere, str(log)])
    log.read_bytes()  # warm the page cache for everyone
    times: dict[str, list[float]] = {k: [] for k in tools}
    results: dict[str, object] = {}
    for _ in range(args.runs):  # interleaved so drift hits every tool alike
        for name, fn in tools.items():
            dt, out = timed(fn)
            times[name].append(dt)
            results[name] = out
    grep_t = statistics.median(times["grep -E -c"])
    print(f"log: {size_mb:.0f} MB, {planted if planted >= 0 else '?'} planted errors, LC_ALL=C for grep/rg, "
          f"median of {args.runs} interleaved runs")
    print(f"{'tool':28} {'MB/s':>8} {'x grep -E':>10}  matches")
    for name in tools:
        t = statistics.median(times[name])
        print(f"{name:28} {size_mb / t:8.0f} {grep_t / t:10.2f}  {results[name]}")
    hits = results[f"hiccup ({fast.prefilter.engine})"]
    ok = planted < 0 or hits == planted
    print(f"correctness: hiccup found {hits} of {planted} planted errors -> {'OK' if ok else 'MISMATCH'}")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
