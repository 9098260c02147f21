"""What a user sees of a followed file: append → publishDiagnostics latency, and the server's memory.

    .venv/bin/python bench/latency.py [--appends 500] [--log-mb 1024] [--transcripts 1000] [--gap-ms 500]

A real server (`python -m hiccup serve`) over stdio, driven by a minimal JSON-RPC client. Before it starts:

- a Claude Code debug-log-like file of `--log-mb` (an API error every ~2,000 lines), followed through the
  `hiccup.watch` setting;
- `--transcripts` session transcripts of about `--transcript-kb` each in `$CLAUDE_CONFIG_DIR/projects/<folder>/`,
  modified just now so every one is read back (lookback), with a few errors each, hours old.

Then, while it follows all of them: `--bulk-mb` of log appended in one go (a burst), and `--appends` single error
lines appended to the big log by a writer holding it open, each timed from the write to the first
`textDocument/publishDiagnostics` whose list has a diagnostic on that line. `--gap-ms` is the mean pause between a
publish and the next append (uniform from 0 to twice that): a retrying Claude Code writes an error every second
or more. The server publishes a URI at once while its bucket of three publishes lasts, refilled four times a second
(`hiccup/lsp/publisher.py`); `--gap-ms 50` is the flood case, where appends wait to be coalesced.
Peak memory is the server's VmHWM from /proc (Linux).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hiccup.claude_paths import project_dir_name

SERVER = [sys.executable, "-m", "hiccup", "serve"]
ERROR = ('{ts} [ERROR] API Error: 500 {{"type":"error","error":{{"type":"api_error","message":'
         '"Internal server error"}},"request_id":"req_011CBench{n:08d}"}}')
NOISE = ("{ts} [DEBUG] Stream event: content_block_delta index={n} ⎿ tool_use Read(src/module_{m}.py) "
         "tokens in=1234 out=567 cache_read=89012 latency_ms=345")
USER = '{{"type":"user","sessionId":"{sid}","timestamp":"{ts}","message":{{"role":"user","content":"{text}"}}}}'
REPLY = ('{{"type":"assistant","sessionId":"{sid}","timestamp":"{ts}","message":{{"model":"claude-opus-4",'
         '"content":[{{"type":"text","text":"{text}"}}]}}}}')
FAILED = ('{{"type":"assistant","sessionId":"{sid}","isApiErrorMessage":true,"timestamp":"{ts}","message":'
          '{{"model":"<synthetic>","content":[{{"type":"text","text":"API Error: 529 {{\\"type\\":\\"error\\",'
          '\\"error\\":{{\\"type\\":\\"overloaded_error\\",\\"message\\":\\"Overloaded\\"}}}}"}}]}}}}')


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def make_log(path: Path, megabytes: float) -> int:
    """The big log, written as a repeated 1 MB block; returns its line count."""
    now = datetime.now(UTC) - timedelta(days=2)
    lines, size, n = [], 0, 0
    while size < min(megabytes, 1) * 1024 * 1024:
        ts = iso(now + timedelta(seconds=n))
        line = ERROR.format(ts=ts, n=n) if n % 2000 == 1999 else NOISE.format(ts=ts, n=n, m=n % 97)
        lines.append(line)
        size += len(line.encode()) + 1
        n += 1
    block = ("\n".join(lines) + "\n").encode()
    blocks = max(1, round(megabytes * 1024 * 1024 / len(block)))
    with open(path, "wb") as f:
        for _ in range(blocks):
            f.write(block)
    return blocks * len(lines)


def make_transcripts(directory: Path, count: int, kilobytes: float) -> int:
    """Session transcripts with a user/assistant exchange per ~2 KB and a failed request in some; returns the
    number of failures written."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    failures = 0
    filler = "x" * 900
    for i in range(count):
        sid = f"{i:08x}-0000-4000-8000-000000000000"
        start = datetime.now(UTC) - timedelta(hours=rng.uniform(3, 20))
        out, size, k = [], 0, 0
        while size < kilobytes * 1024:
            ts = iso(start + timedelta(seconds=20 * k))
            if k % 97 == 50:
                out.append(FAILED.format(sid=sid, ts=ts))
                failures += 1
            out.append(USER.format(sid=sid, ts=ts, text=f"step {k} {filler}"))
            out.append(REPLY.format(sid=sid, ts=ts, text=f"done {k} {filler}"))
            size += sum(len(x) + 1 for x in out[-2:])
            k += 1
        (directory / f"{sid}.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")
    return failures


class Client:
    """A minimal JSON-RPC client over the server's stdio, parsing with `json.loads` as an editor's native JSON
    parser would: a pygls client turning 500 diagnostics into attrs objects takes longer than the server.
    Callers wait on a predicate over incoming messages, never on time."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.logs: list[str] = []
        self._ids = iter(range(1, 1 << 30))
        self._pending: dict[int, asyncio.Future[object]] = {}
        self._waiters: list[tuple[str, Callable[[dict], bool], asyncio.Future[float]]] = []
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, env: dict[str, str]) -> Client:
        proc = await asyncio.create_subprocess_exec(*SERVER, env=env, stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE, limit=1 << 24)
        return cls(proc)

    def _send(self, message: dict) -> None:
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: object) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: object) -> object:
        msg_id = next(self._ids)
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return await asyncio.wait_for(future, 600)

    async def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while (header := await out.readline()) not in (b"\r\n", b""):
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":")[1])
            if not header:
                return
            message = json.loads(await out.readexactly(length))
            at = time.perf_counter()
            if "id" in message and "method" in message:  # a request from the server: nothing to configure
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                future = self._pending.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message.get("result"))
            elif message.get("method") == "window/logMessage":
                self.logs.append(message["params"]["message"])
            for waiter in list(self._waiters):
                method, predicate, result = waiter
                if message.get("method") == method and not result.done() and predicate(message["params"]):
                    result.set_result(at)
                    self._waiters.remove(waiter)

    def expect(self, method: str, predicate: Callable[[dict], bool]) -> asyncio.Future[float]:
        """A future resolved with the perf_counter() at which a matching notification had been parsed."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((method, predicate, future))
        return future

    async def stop(self) -> None:
        await self.request("shutdown", None)
        self.notify("exit", None)
        await asyncio.wait_for(self.proc.wait(), 30)
        self._reader.cancel()


PUBLISH = "textDocument/publishDiagnostics"


def on_line(uri: str, line: int) -> Callable[[dict], bool]:
    return lambda p: p["uri"] == uri and any(d["range"]["start"]["line"] == line for d in p["diagnostics"])


def memory(pid: int) -> dict[str, float]:
    fields = {}
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = row.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace, root: Path) -> None:
    folder, claude, log = root / "work", root / "claude", root / "logs" / "claude-debug.log"
    folder.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    log_lines = make_log(log, args.log_mb)
    failures = make_transcripts(claude / "projects" / project_dir_name(folder), args.transcripts,
                                args.transcript_kb)
    os.sync()  # the kernel writing a fresh gigabyte back to disk would stall the appends timed below
    print(f"generated {log.stat().st_size / 2**20:,.0f} MB log ({log_lines:,} lines) and {args.transcripts:,} "
          f"transcripts of ~{args.transcript_kb:g} KB ({failures:,} failed requests) in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)

    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(claude), "XDG_CACHE_HOME": str(root / "cache")}
    client = await Client.start(env)
    pid = client.proc.pid
    t0 = time.perf_counter()
    following = client.expect("window/logMessage", lambda p: p["message"].startswith("following "))
    await client.request("initialize", {
        "processId": os.getpid(), "rootUri": folder.as_uri(), "capabilities": {},
        "workspaceFolders": [{"uri": folder.as_uri(), "name": folder.name}],
        "initializationOptions": {"settings": {"watch": [str(log)]}}})
    client.notify("initialized", {})
    ready = await asyncio.wait_for(following, 600)
    message = next(m for m in client.logs if m.startswith("following "))
    print(f"initialize → {message} (lookback read): {ready - t0:.2f} s; server RSS {memory(pid)['VmRSS']:.0f} MB",
          flush=True)

    uri = log.as_uri()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    try:
        now = iso(datetime.now(UTC))
        if args.bulk_mb > 0:
            noise = "".join(NOISE.format(ts=now, n=i, m=i % 97) + "\n" for i in range(2000)).encode()
            repeats = max(1, round(args.bulk_mb * 2**20 / len(noise)))
            line = log_lines + repeats * 2000
            arrived = client.expect(PUBLISH, on_line(uri, line))
            t0 = time.perf_counter()
            os.write(fd, noise * repeats + (ERROR.format(ts=now, n=10**7) + "\n").encode())
            at = await asyncio.wait_for(arrived, 600)
            log_lines = line + 1
            print(f"burst: {repeats * len(noise) / 2**20:.0f} MB appended at once → its error published after "
                  f"{(at - t0) * 1000:.0f} ms", flush=True)
            os.sync()

        latencies = []
        for i in range(args.appends):
            arrived = client.expect(PUBLISH, on_line(uri, log_lines))
            t0 = time.perf_counter()
            os.write(fd, (ERROR.format(ts=iso(datetime.now(UTC)), n=10**7 + 1 + i) + "\n").encode())
            latencies.append((await asyncio.wait_for(arrived, 60)) - t0)
            log_lines += 1
            if args.gap_ms:
                await asyncio.sleep(random.uniform(0, 2 * args.gap_ms) / 1000)
    finally:
        os.close(fd)
    ms = [x * 1000 for x in latencies]
    mem = memory(pid)
    print(f"append → publishDiagnostics with that line, {len(ms)} appends (gap 0–{2 * args.gap_ms:g} ms): "
          f"p50 {statistics.median(ms):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms")
    print(f"server memory: peak (VmHWM) {mem['VmHWM']:.0f} MB, now (VmRSS) {mem['VmRSS']:.0f} MB")
    if args.json:
        print(json.dumps({"p50_ms": statistics.median(ms), "p99_ms": percentile(ms, 0.99), "max_ms": max(ms),
                          "vmhwm_mb": mem["VmHWM"], "vmrss_mb": mem["VmRSS"]}))
    await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--log-mb", type=float, default=1024)
    parser.add_argument("--transcripts", type=int, default=1000)
    parser.add_argument("--transcript-kb", type=float, default=128)
    parser.add_argument("--bulk-mb", type=float, default=64, help="appended in one go while followed (0: none)")
    parser.add_argument("--gap-ms", type=float, default=500, help="mean pause between a publish and the next append")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one, removed afterwards)")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="hiccup-latency-"))
    try:
        asyncio.run(run(args, root))
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
