"""Claude Code's directory layout, and the follower picking those directories up once they exist."""

from __future__ import annotations

import asyncio
import glob
from pathlib import Path

import platformdirs
import pytest

from hiccup import claude_paths
from hiccup.claude_paths import (
    config_dir,
    debug_dir,
    default_watch_targets,
    project_dir_name,
    sessions_dir,
    transcripts_dir,
)
from hiccup.follow import Follower
from hiccup.tailer import TailLine


def test_config_dir(tmp_path: Path) -> None:
    assert config_dir({"CLAUDE_CONFIG_DIR": str(tmp_path)}) == tmp_path
    assert config_dir({"CLAUDE_CONFIG_DIR": "~/alt"}) == Path.home() / "alt"
    assert config_dir({}) == Path.home() / ".claude"
    assert config_dir({"CLAUDE_CONFIG_DIR": ""}) == Path.home() / ".claude"


def test_project_dir_name_matches_claude_code() -> None:
    assert project_dir_name(Path("/home/ann/my_app.v2")) == "-home-ann-my-app-v2"
    assert project_dir_name("/Users/foo/.local") == "-Users-foo--local"
    assert project_dir_name("/home/ann/Open Source/checkmate") == "-home-ann-Open-Source-checkmate"
    # JavaScript replaces UTF-16 code units: "é" is one, an emoji two.
    assert project_dir_name("/home/ann/café") == "-home-ann-caf-"
    assert project_dir_name("/home/ann/🚀") == "-home-ann---"


def test_long_project_dir_name_is_cut_with_claude_codes_hash() -> None:
    folder = "/very/deep/" + "segment-name/" * 20 + "project"
    name = project_dir_name(folder)
    assert len(folder) > 200
    prefix = folder.replace("/", "-").replace("_", "-")[:200]
    assert name.startswith(prefix + "-")
    suffix = name[201:]
    # Same arithmetic as `(h << 5) - h + code | 0` in JavaScript, then Math.abs(h).toString(36).
    h = 0
    for ch in folder:
        h = (h * 31 + ord(ch)) & 0xFFFFFFFF
    signed = h - (1 << 32) if h >= 1 << 31 else h
    assert int(suffix, 36) == abs(signed)
    assert claude_paths._js_string_hash("a") == 97
    assert claude_paths._base36(0) == "0" and claude_paths._base36(35) == "z"


def test_relative_folder_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert project_dir_name(".") == project_dir_name(tmp_path)


def test_dirs(tmp_path: Path) -> None:
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path)}
    assert transcripts_dir(Path("/w/app"), env) == tmp_path / "projects" / "-w-app"
    assert debug_dir(env) == tmp_path / "debug"
    assert sessions_dir() == Path(platformdirs.user_cache_dir("hiccup")) / "sessions"


def test_default_watch_targets(tmp_path: Path) -> None:
    weird = tmp_path / "conf[1]"
    env = {"CLAUDE_CONFIG_DIR": str(weird)}
    targets = default_watch_targets([Path("/w/app"), Path("/w/app"), Path("/w/lib")], env=env)
    assert targets == [
        glob.escape(str(weird)) + "/projects/-w-app/**/*.jsonl",
        glob.escape(str(weird)) + "/projects/-w-lib/**/*.jsonl",
        glob.escape(str(weird)) + "/debug/*.txt",
        glob.escape(str(sessions_dir())) + "/*.log",
    ]
    assert default_watch_targets([], transcripts=False, debug_logs=False, sessions=False, env=env) == []


async def test_follower_picks_up_claude_code_dirs_created_later(tmp_path: Path) -> None:
    """Before the first session nothing exists; Claude Code then creates projects/<dir>/<id>.jsonl."""
    config = tmp_path / "conf[1]"  # glob-magic characters in a real directory name
    env = {"CLAUDE_CONFIG_DIR": str(config)}
    workspace = tmp_path / "my_app.v2"
    targets = default_watch_targets([workspace], sessions=False, env=env)
    got: list[TailLine] = []
    arrived = asyncio.Event()

    def on_lines(path: Path, lines: list[TailLine]) -> None:
        got.extend(lines)
        arrived.set()

    follower = Follower(targets, on_lines=on_lines)
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    try:
        await asyncio.wait_for(follower.ready.wait(), 10)
        session_dir = transcripts_dir(workspace, env)
        session_dir.mkdir(parents=True)
        transcript = session_dir / "0b8c-session.jsonl"
        transcript.write_text('{"type":"system","subtype":"api_error","level":"error"}\n')
        (config / "debug").mkdir()
        (config / "debug" / "0b8c.txt").write_text("[ERROR] API error (attempt 1/10): 529\n")
        (config / "debug" / "latest").symlink_to(config / "debug" / "0b8c.txt")  # not read twice

        async def both() -> None:
            while len(got) < 2:
                arrived.clear()
                await arrived.wait()

        await asyncio.wait_for(both(), 10)
        await asyncio.sleep(0.1)
        assert sorted((x.path.name, x.text[:14]) for x in got) == [
            ("0b8c-session.jsonl", '{"type":"syste'),
            ("0b8c.txt", "[ERROR] API er"),
        ]
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
