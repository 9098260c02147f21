"""`hiccup watch` as a real process: findings appear as lines are written; SIGINT/SIGTERM exit 0."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hiccup import watch_cli
from hiccup.claude_paths import transcripts_dir

TIMEOUT = 15.0
CORPUS = Path(__file__).parent / "data" / "corpus" / "transcripts"
# Claude Code's terminal output for a 500 (anthropics/claude-code#22780).
TERMINAL_500 = (
    '  ⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},'
    '"request_id":"req_011CTest3rNqAoDbB9YBWEMj"}\n'
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class Watch:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stderr_lines: list[str] = []

    async def stdout_line(self) -> str:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), TIMEOUT)
        assert line, "hiccup watch closed its output"
        return line.decode().rstrip("\n")

    async def stderr_until(self, needle: str) -> str:
        assert self.proc.stderr is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stderr.readline(), TIMEOUT)
            assert raw, f"stderr closed before {needle!r}: {self.stderr_lines}"
            line = raw.decode().rstrip("\n")
            self.stderr_lines.append(line)
            if needle in line:
                return line

    async def stop(self, sig: signal.Signals = signal.SIGINT) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = await asyncio.wait_for(self.proc.communicate(), TIMEOUT)
        assert self.proc.returncode is not None
        return self.proc.returncode, out.decode(), "\n".join(self.stderr_lines) + err.decode()


def isolated_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude-config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONUNBUFFERED": "1",
    }


@contextlib.asynccontextmanager
async def start_watch(tmp_path: Path, *args: str, cwd: Path | None = None) -> AsyncIterator[Watch]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hiccup",
        "watch",
        *args,
        cwd=cwd or tmp_path,
        env=isolated_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    watch = Watch(proc)
    try:
        await watch.stderr_until("Ctrl-C to stop")
        yield watch
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


async def test_json_findings_appear_live_and_sigint_exits_0(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "claude.log"
    log.write_text("starting\n")
    async with start_watch(tmp_path, "--format", "json", str(logs)) as watch:
        append(log, "thinking…\n" + TERMINAL_500)
        finding = json.loads(await watch.stdout_line())
        assert finding["path"] == "logs/claude.log"
        assert (finding["line"], finding["column"]) == (3, 6)
        assert finding["category"] == "internal_server_error"
        assert finding["request_id"] == "req_011CTest3rNqAoDbB9YBWEMj"
        code, out, err = await watch.stop(signal.SIGINT)
        assert code == 0
        assert out == ""
        assert "Traceback" not in err


async def test_default_targets_follow_transcripts_created_later_and_sigterm_exits_0(tmp_path: Path) -> None:
    workspace = tmp_path / "my_app.v2"
    workspace.mkdir()
    async with start_watch(tmp_path, cwd=workspace) as watch:
        env = isolated_env(tmp_path)
        session_dir = transcripts_dir(workspace, env)
        session_dir.mkdir(parents=True)  # Claude Code's first session in this folder
        transcript = session_dir / "90322d5b-f426-48e2-9342-3a1d0163c2e7.jsonl"
        for entry in (CORPUS / "t2-system-retries-overloaded.jsonl").read_text().splitlines(keepends=True)[:3]:
            append(transcript, entry)
        line = await watch.stdout_line()
        assert line.startswith(f"{transcript}:3:")
        assert line.endswith("[overloaded]")
        code, _, err = await watch.stop(signal.SIGTERM)
        assert code == 0
        assert "Traceback" not in err


async def test_lookback_and_no_lookback(tmp_path: Path) -> None:
    log = tmp_path / "old.log"
    log.write_text("a\n" + TERMINAL_500)
    async with start_watch(tmp_path, str(log)) as watch:
        assert (await watch.stdout_line()).startswith("old.log:2:6: warning: ")
        code, _, _ = await watch.stop()
        assert code == 0
    async with start_watch(tmp_path, "--no-lookback", str(log)) as watch:
        append(log, "later\n" + TERMINAL_500)
        assert (await watch.stdout_line()).startswith("old.log:4:6: warning: ")
        code, out, _ = await watch.stop()
        assert code == 0 and out == ""


async def test_skipped_files_are_reported_once_on_stderr(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "core.log").write_bytes(b"\x7fELF\x02\x01" + bytes(range(256)) * 64)
    (logs / "ok.log").write_text("")
    async with start_watch(tmp_path, str(logs / "*.log")) as watch:
        append(logs / "ok.log", TERMINAL_500)
        assert (await watch.stdout_line()).startswith("logs/ok.log:1:6:")
        code, _, err = await watch.stop()
        assert code == 0
        assert err.count("core.log: skipped: binary file") == 1, err


def test_arguments() -> None:
    parser = argparse.ArgumentParser()
    watch_cli.add_arguments(parser)
    args = parser.parse_args(["--format", "json", "--no-lookback", "a.log", "logs/*.jsonl"])
    assert (args.format, args.no_lookback, args.paths, args.poll) == ("json", True, ["a.log", "logs/*.jsonl"], False)
    assert parser.parse_args([]).paths == []
