"""Hiccup under load: a real server over stdio, a real LSP client, and three loads at once.

    .venv/bin/python bench/load.py                 # the issue's figures: 60 s, 100,000 error lines/min,
                                                   # 1,000 growing transcripts, a 50 MB open document
    .venv/bin/python bench/load.py --ci            # a CI-sized run (15 s, 20,000 lines/min, 200, 10 MB)
    .venv/bin/python bench/load.py --json out.json

While the loads run:
- a writer process appends error lines to a log the server follows through the `hiccup.watch` setting, at
  `--rate` lines per minute, in a 10 ms rhythm;
- another writer process grows `--transcripts` Claude Code transcripts (`<CLAUDE_CONFIG_DIR>/projects/<folder>/
  *.jsonl`, followed by default): user and assistant entries, one in ten an API error;
- the client opens a `--doc-mb` MB log and edits it: an appended line every 100 ms, a line rewritten in the
  middle every second;
- the client asks for hover and code actions on diagnostics of the open document and of the followed log
  every 25 ms, timing each answer.

Measured: hover and codeAction latency (p50, p99, max), publishDiagnostics per URI (the most in any one-second
window, and per second on average for the busiest URI), the server's RSS (sampled, and its peak VmHWM), and once
the writers stop, how long the server takes to show their last lines (nothing lost: the followed log's last line
and every transcript that got an error must have a diagnostic).

HICCUP_LOAD_PROFILE="-m cProfile -o server.prof" runs the server under a profiler.

The client reads publishDiagnostics without building lsprotocol objects (a followed log publishes up to 2,000
diagnostics at a time): the time measured is the server's, not the client's parser.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from hiccup.claude_paths import project_dir_name
from lsp_open import make_log  # bench/ is on sys.path when this file runs

SERVER = [sys.executable, *os.environ.get("HICCUP_LOAD_PROFILE", "").split(), "-m", "hiccup", "serve"]
ERROR = ('{ts} [ERROR] API Error: 529 {{"type":"error","error":{{"type":"overloaded_error","message":'
         '"Overloaded"}},"request_id":"req_011CLoad{n:09d}"}}')

APPENDER = """
import os, sys, time
path, per_minute, seconds, error = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
start = time.monotonic()
n = 0
while (now := time.monotonic()) - start < seconds:
    due = int((now - start) * per_minute / 60)
    if due > n:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        os.write(fd, "".join(error.format(ts=ts, n=i) + "\\n" for i in range(n, due)).encode())
        n = due
    time.sleep(0.01)
print(n)
"""

TRANSCRIPTS = """
import json, os, random, sys, time
directory, count, seconds, per_second = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rng = random.Random(7)
paths = [os.path.join(directory, f"session-{i:04d}.jsonl") for i in range(count)]
def entry(i, n):
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    if n % 10 == 9:
        text = ('API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},'
                f'"request_id":"req_011CT{i:04d}{n:06d}"}}')
        return {"type": "assistant", "isApiErrorMessage": True, "timestamp": ts, "sessionId": f"s{i}",
                "message": {"role": "assistant", "model": "<synthetic>", "content": [{"type": "text", "text": text}]}}
    if n % 2:
        return {"type": "assistant", "timestamp": ts, "sessionId": f"s{i}", "message": {"role": "assistant",
                "model": "claude-opus-4", "content": [{"type": "text", "text": f"Working on step {n}."}]}}
    return {"type": "user", "timestamp": ts, "sessionId": f"s{i}", "message": {"role": "user",
            "content": f"next step {n}"}}
written, errored = 0, set()
start = time.monotonic()
while (now := time.monotonic()) - start < seconds:
    due = int((now - start) * per_second)
    while written < due:
        i = rng.randrange(count)
        with open(paths[i], "a") as fp:
            fp.write(json.dumps(entry(i, written)) + "\\n")
        if written % 10 == 9:
            errored.add(i)
        written += 1
    time.sleep(0.01)
print(json.dumps({"lines": written, "errored": sorted(errored)}))
"""


class LoadClient(LanguageClient):
    """Keeps the raw publishDiagnostics (time, URI, list) and the log messages."""

    def __init__(self) -> None:
        super().__init__("hiccup-load", "0")
        self.publishes: list[tuple[float, str, int]] = []
        self.latest: dict[str, list[dict[str, Any]]] = {}
        self.logs: list[str] = []
        self.changed = asyncio.Event()
        protocol = self.protocol
        structure = protocol.structure_message

        def record(data: dict[str, Any]) -> Any:
            if data.get("method") == types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS:
                params = data["params"]
                self.publishes.append((time.monotonic(), params["uri"], len(params["diagnostics"])))
                self.latest[params["uri"]] = params["diagnostics"]
                self.changed.set()
                data = {**data, "method": "$/hiccupLoadIgnored", "params": None}
            elif data.get("method") == types.WINDOW_LOG_MESSAGE:
                self.logs.append(data["params"]["message"])
            return structure(data)

        protocol.structure_message = record  # type: ignore[method-assign]
        for method in (types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE, "hiccup/status",
                       "$/hiccupLoadIgnored"):
            self.feature(method)(lambda *_: None)

    async def until(self, predicate: Any, timeout: float) -> float:
        """Seconds until `predicate()` holds (checked at each publish)."""
        t0 = time.monotonic()
        while not predicate():
            self.changed.clear()
            remaining = timeout - (time.monotonic() - t0)
            if remaining <= 0:
                raise TimeoutError
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 1.0))
        return time.monotonic() - t0


def status(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def growth(at: list[float], values: list[float]) -> float:
    """Least-squares slope (per second) over the second half of the samples."""
    half = len(at) // 2
    xs, ys = at[half:], values[half:]
    if len(xs) < 2:
        return float("nan")
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def spawn(script: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
                            stdout=subprocess.PIPE, text=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="hiccup-load-"))
    folder, claude = base / "work", base / "claude"
    transcripts = claude / "projects" / project_dir_name(folder)
    transcripts.mkdir(parents=True)
    folder.mkdir(exist_ok=True)
    for i in range(args.transcripts):  # sessions that already exist when the server starts
        (transcripts / f"session-{i:04d}.jsonl").write_text(
            json.dumps({"type": "user", "timestamp": "2026-11-25T09:00:00Z", "message": {"content": "hi"}}) + "\n")
    app_log = folder / "logs" / "app.log"
    app_log.parent.mkdir()
    app_log.write_text("")
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(claude), "XDG_CACHE_HOME": str(base / "cache")}

    client = LoadClient()
    await client.start_io(*SERVER, env=env)
    pid = client._server.pid  # type: ignore[union-attr]
    settings = {"watch": [str(app_log)], "statusPage": {"enabled": False}}
    t0 = time.monotonic()
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), process_id=os.getpid(), root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(folder.as_uri(), "work")],
        initialization_options={"settings": settings}))
    client.initialized(types.InitializedParams())
    await client.until(lambda: any(m.startswith("following ") for m in client.logs), 120)
    following = next(m for m in client.logs if m.startswith("following "))
    print(f"server up, {following} after {time.monotonic() - t0:.1f} s")

    text, doc_errors = make_log(args.doc_mb)
    doc_lines = text.count("\n")
    doc_uri = (folder / "big.log").as_uri()
    t0 = time.monotonic()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=doc_uri, language_id="log", version=1, text=text)))
    await client.until(lambda: len(client.latest.get(doc_uri, ())) == doc_errors, 600)
    open_s = time.monotonic() - t0
    del text
    print(f"opened a {args.doc_mb:g} MB document ({doc_lines:,} lines, {doc_errors} errors) in {open_s:.1f} s")
    publishes_before = len(client.publishes)

    appender = spawn(APPENDER, app_log, args.rate, args.duration, ERROR)
    grower = spawn(TRANSCRIPTS, transcripts, args.transcripts, args.duration,
                   args.transcript_rate if args.transcripts else 0)
    load_start = time.monotonic()
    latencies: dict[str, list[float]] = defaultdict(list)
    failures: list[str] = []
    rss: list[float] = []
    rss_at: list[float] = []
    version, appended, rewritten = 1, 0, 0
    app_uri = app_log.as_uri()
    rng = random.Random(1)

    async def edit() -> None:
        nonlocal version, appended, rewritten
        tick = 0
        while time.monotonic() - load_start < args.duration:
            version += 1
            line = doc_lines + appended
            new = (ERROR.format(ts="2026-11-25T23:59:59.000Z", n=10**8 + appended) if appended % 5 == 0
                   else f"2026-11-25T23:59:59.000Z [DEBUG] appended line {appended}")
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=doc_uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(line, 0), types.Position(line, 0)), text=new + "\n")]))
            appended += 1
            tick += 1
            if tick % 10 == 0:  # rewrite a noise line in the middle (never the first: its position is probed)
                middle = doc_lines // 2 + rng.randrange(100) * 7
                version += 1
                client.text_document_did_change(types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=doc_uri, version=version),
                    content_changes=[types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(middle, 0), types.Position(middle, 5)),
                        text="2026-")]))
                rewritten += 1
            await asyncio.sleep(0.1)

    async def probe() -> None:
        kind = 0
        while time.monotonic() - load_start < args.duration:
            uri = doc_uri if kind % 4 < 2 or not client.latest.get(app_uri) else app_uri
            diags = client.latest.get(uri) or []
            if diags:
                diag = diags[0] if uri == doc_uri else diags[-1]
                rng_ = types.Range(types.Position(**diag["range"]["start"]), types.Position(**diag["range"]["end"]))
                t = time.monotonic()
                try:
                    if kind % 2 == 0:
                        await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
                            types.TextDocumentIdentifier(uri), rng_.start)), 30)
                        latencies["hover"].append(time.monotonic() - t)
                    else:
                        await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
                            types.TextDocumentIdentifier(uri), rng_, types.CodeActionContext(diagnostics=[]))), 30)
                        latencies["codeAction"].append(time.monotonic() - t)
                except Exception as exc:  # counted and shown: the run goes on
                    failures.append(f"{type(exc).__name__}: {exc}"[:200])
            kind += 1
            await asyncio.sleep(0.025)

    async def sample() -> None:
        while time.monotonic() - load_start < args.duration:
            rss.append(status(pid, "VmRSS"))
            rss_at.append(time.monotonic() - load_start)
            await asyncio.sleep(0.5)

    await asyncio.gather(edit(), probe(), sample())
    lines_appended = int(appender.communicate()[0])
    grown = json.loads(grower.communicate()[0])
    load_s = time.monotonic() - load_start

    # nothing lost: the followed log's last line, and each transcript that got an error, show a diagnostic
    last_line = lines_appended - 1
    errored = {(transcripts / f"session-{i:04d}.jsonl").as_uri() for i in grown["errored"]}
    catch_up = await client.until(
        lambda: any(d["range"]["start"]["line"] == last_line for d in client.latest.get(app_uri, ()))
        and all(client.latest.get(u) for u in errored), 300)
    rss.append(status(pid, "VmRSS"))
    peak = status(pid, "VmHWM")

    during = [(t, u) for t, u, _ in client.publishes[publishes_before:] if t - load_start <= load_s]
    per_uri: dict[str, list[float]] = defaultdict(list)
    for t, u in during:
        per_uri[u].append(t)
    def max_in_a_second(times: list[float]) -> int:
        best, lo = 0, 0
        for hi in range(len(times)):
            while times[hi] - times[lo] >= 1.0:
                lo += 1
            best = max(best, hi - lo + 1)
        return best
    busiest = max(per_uri, key=lambda u: len(per_uri[u])) if per_uri else ""
    result = {
        "duration_s": round(load_s, 1),
        "followed_log_lines_appended": lines_appended,
        "followed_log_lines_per_minute": round(lines_appended / load_s * 60),
        "transcripts": args.transcripts,
        "transcript_lines_appended": grown["lines"],
        "transcripts_with_errors": len(errored),
        "document_mb": args.doc_mb,
        "document_open_s": round(open_s, 1),
        "document_lines_appended": appended,
        "document_lines_rewritten": rewritten,
        "hover": {"count": len(latencies["hover"]),
                  **{k: round(percentile(latencies["hover"], p) * 1000, 1)
                     for k, p in (("p50_ms", 50), ("p99_ms", 99), ("max_ms", 100))}},
        "codeAction": {"count": len(latencies["codeAction"]),
                       **{k: round(percentile(latencies["codeAction"], p) * 1000, 1)
                          for k, p in (("p50_ms", 50), ("p99_ms", 99), ("max_ms", 100))}},
        "request_failures": len(failures),
        "publishes": len(during),
        "uris_published": len(per_uri),
        "max_publishes_in_one_second_for_one_uri": max((max_in_a_second(t) for t in per_uri.values()), default=0),
        "max_publishes_in_one_second_by_uri": sorted(((max_in_a_second(t), u.rsplit("/", 1)[-1])
                                                       for u, t in per_uri.items()), reverse=True)[:3],
        "busiest_uri": busiest.rsplit("/", 1)[-1],
        "busiest_uri_publishes_per_second": round(len(per_uri.get(busiest, ())) / load_s, 2),
        "catch_up_after_load_s": round(catch_up, 2),
        "server_rss_mb": {"start_of_load": round(rss[0], 0), "median": round(statistics.median(rss), 0),
                          "end": round(rss[-1], 0), "peak_vmhwm": round(peak, 0)},
        # over the second half of the load (the first holds the document's open): flat when memory is bounded
        "rss_growth_mb_per_min": round(growth(rss_at, rss[:len(rss_at)]) * 60, 1),
    }
    if failures:
        result["first_failures"] = failures[:3]
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--rate", type=float, default=100_000, help="error lines per minute into the followed log")
    parser.add_argument("--transcripts", type=int, default=1000)
    parser.add_argument("--transcript-rate", type=float, default=100.0, help="transcript lines per second, in all")
    parser.add_argument("--doc-mb", type=float, default=50.0)
    parser.add_argument("--ci", action="store_true", help="15 s, 20,000 lines/min, 200 transcripts, 10 MB")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.ci:
        args.duration, args.rate, args.transcripts, args.doc_mb = 15.0, 20_000, 200, 10.0
    result = asyncio.run(run(args))
    for key, value in result.items():
        print(f"{key:45s} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
