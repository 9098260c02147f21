"""Where Claude Code and `hiccup run` leave the text Hiccup follows.

Claude Code keeps one transcript per session in `<config>/projects/<project dir>/<session id>.jsonl`
(sub-agents under `<session id>/subagents/`), debug logs in `<config>/debug/<session id>.txt` (plus a
`latest` symlink to one of them), and `<config>` is `$CLAUDE_CONFIG_DIR` or `~/.claude`. None of these need
to exist yet: the follower watches the nearest existing ancestor and picks them up when Claude Code creates
them.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from hiccup import session_log

# Claude Code keeps the first 200 characters of the sanitised path and appends a hash when it is longer.
_MAX_DIR_NAME = 200


def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Claude Code's configuration directory: `$CLAUDE_CONFIG_DIR`, else `~/.claude`."""
    configured = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".claude"


def _js_string_hash(text: str) -> int:
    """Claude Code's `(h << 5) - h + charCodeAt(i) | 0` over UTF-16 code units, as a signed int32."""
    units = text.encode("utf-16-le")
    h = 0
    for i in range(0, len(units), 2):
        h = (h * 31 + int.from_bytes(units[i : i + 2], "little")) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
        if number == 0:
            return out


def project_dir_name(folder: str | os.PathLike[str]) -> str:
    """The directory name Claude Code gives a workspace folder under `<config>/projects/`.

    Claude Code does `path.replace(/[^a-zA-Z0-9]/g, "-")` on the absolute path: "/home/ann/my_app.v2"
    becomes "-home-ann-my-app-v2". JavaScript walks UTF-16 code units, so a character outside the BMP
    (an emoji) becomes two dashes. Names over 200 characters are cut to 200 and get "-" + a base-36 hash
    of the original path.
    """
    path = os.path.abspath(os.fspath(folder))
    name = "".join(c if (c.isascii() and c.isalnum()) else ("--" if ord(c) > 0xFFFF else "-") for c in path)
    if len(name) <= _MAX_DIR_NAME:
        return name
    return f"{name[:_MAX_DIR_NAME]}-{_base36(abs(_js_string_hash(path)))}"


def projects_dir(env: Mapping[str, str] = os.environ) -> Path:
    return config_dir(env) / "projects"


def transcripts_dir(folder: str | os.PathLike[str], env: Mapping[str, str] = os.environ) -> Path:
    """Where Claude Code writes the session transcripts of sessions started in `folder`."""
    return projects_dir(env) / project_dir_name(folder)


def debug_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Claude Code's debug logs (`claude --debug`, or always in recent versions)."""
    return config_dir(env) / "debug"


def sessions_dir() -> Path:
    """Where `hiccup run` records the terminal sessions it wraps (`session_log` owns the layout)."""
    return session_log.sessions_dir()


def default_watch_targets(
    folders: Iterable[str | os.PathLike[str]],
    *,
    transcripts: bool = True,
    debug_logs: bool = True,
    sessions: bool = True,
    env: Mapping[str, str] = os.environ,
) -> list[str]:
    """Globs and directories for `Follower` covering the workspace folders' Claude Code output.

    Transcripts are a recursive `*.jsonl` glob (sub-agent transcripts live one level down); debug logs
    are `*.txt` directly in the debug directory, which leaves out the `latest` symlink that would
    duplicate one of them. Session logs are `*.log`, leaving out `hiccup run`'s rotated `.log.1`, JSON
    sidecars and control sockets. Literal parts are glob-escaped: a folder may contain "[" or "*".
    """
    targets: list[str] = []
    if transcripts:
        for folder in folders:
            target = os.path.join(glob.escape(str(transcripts_dir(folder, env))), "**", "*.jsonl")
            if target not in targets:
                targets.append(target)
    if debug_logs:
        targets.append(os.path.join(glob.escape(str(debug_dir(env))), "*.txt"))
    if sessions:
        targets.append(os.path.join(glob.escape(str(sessions_dir())), "*.log"))
    return targets
