"""The server is killed in the middle of an incident; the next one rebuilds it from disk, timings included."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from lsp_support import ERR_500, advance, hover_text, wait_diagnostics
from pytest_lsp import LanguageClient
from server_proc import running, start

URI = "hiccup-terminal:/7/claude"
KEY = "sk-ant-api03-FAKEfakeFAKEfakeFAKEfakeFAKEfake0123456789-abcdefAA"


def feed(client: LanguageClient, data: str, terminal_id: str = "7") -> None:
    client.protocol.notify("hiccup/terminalData", {"terminalId": terminal_id, "name": "claude", "data": data})


async def test_killed_server_comes_back_with_transcripts_and_incidents(tmp_path: Path) -> None:
    cache, workspace = tmp_path / "cache", tmp_path / "project"
    workspace.mkdir()
    root = {"root_uri": workspace.as_uri()}
    first = await start(cache, **root)
    feed(first, f"$ export ANTHROPIC_API_KEY={KEY}\r\n\x1b[31m  ⎿  {ERR_500}\x1b[0m\r\n")
    await wait_diagnostics(first, URI, lambda d: len(d) == 1)
    await advance(first, 150)
    feed(first, f"  ⎿  {ERR_500}\r\n  ⎿  API Err")  # the last line is still being written
    before = await wait_diagnostics(first, URI, lambda d: len(d) == 2)
    assert before[1].message == "Claude API 500 — 2nd time in 2 min"
    first._server.kill()  # type: ignore[union-attr]  # no shutdown, no exit: a crash
    await first._server.wait()  # type: ignore[union-attr]
    await first.stop()

    # the editor starts a new server two minutes later (10:04:30); the terminal has printed nothing since
    async with running(cache, start_at="2026-11-25T10:04:30Z", **root) as second:
        after = await wait_diagnostics(second, URI, lambda d: len(d) == 2)
        assert [d.message for d in after] == [d.message for d in before]
        assert after[0].data["state"] == "active"
        await advance(second, 30)  # 10:05: five minutes since the first failure, seen before the restart
        after = await wait_diagnostics(second, URI, lambda d: d[0].data["state"] == "persisting")
        assert "failing for 5 min" in after[0].message
        assert "Restart Claude Code now" in await hover_text(second, URI, after[0])

        result = await second.protocol.send_request_async("hiccup/terminalTranscript", {"uri": URI})
        assert KEY not in result.text and "ANTHROPIC_API_KEY=[REDACTED]" in result.text
        assert result.text.count("API Error: 500") == 2 and "API Err\n" not in result.text

        feed(second, f"  ⎿  {ERR_500}\r\n")  # the same terminal goes on printing into the same transcript
        await wait_diagnostics(second, URI, lambda d: len(d) == 3)

    directory = cache / "hiccup" / "terminals"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = list(directory.iterdir())
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert all(KEY.encode() not in p.read_bytes() for p in files)


async def test_transcripts_of_another_workspace_stay_out(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with running(cache, root_uri=(tmp_path / "a").as_uri()) as a:
        feed(a, f"  ⎿  {ERR_500}\r\n")
        await wait_diagnostics(a, URI, lambda d: len(d) == 1)
    async with running(cache, root_uri=(tmp_path / "b").as_uri()) as b:
        with pytest.raises(Exception, match="unknown terminal transcript"):
            await b.protocol.send_request_async("hiccup/terminalTranscript", {"uri": URI})
    assert os.listdir(cache / "hiccup" / "terminals")


async def test_followed_log_is_read_again_after_a_crash(tmp_path: Path) -> None:
    """Files are their own record: a new server reads a followed log's recent lines again (its lookback)."""
    log = tmp_path / "logs" / "claude.log"
    log.parent.mkdir()
    log.write_text("".join(f"2026-11-25T09:5{i}:00Z [ERROR] {ERR_500}\n" for i in range(3)))
    options = {"settings": {"watch": [str(log)]}}
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    first = await start(tmp_path / "cache", options=options, env=env)
    before = await wait_diagnostics(first, log.as_uri(), lambda d: len(d) == 3)
    first._server.kill()  # type: ignore[union-attr]
    await first._server.wait()  # type: ignore[union-attr]
    await first.stop()
    with log.open("a") as fp:  # the log went on while no server was running
        fp.write(f"2026-11-25T09:53:30Z [ERROR] {ERR_500}\n")
    async with running(tmp_path / "cache", options=options, env=env) as second:
        after = await wait_diagnostics(second, log.as_uri(), lambda d: len(d) == 4)
    assert [d.range for d in after[:3]] == [d.range for d in before]
    assert after[0].data["incidentId"] == after[3].data["incidentId"]  # one incident, four occurrences
