"""Real editors against the real server: headless Neovim 0.7 (built-in client) and Emacs 28 + eglot.

`make test-editors` installs them first (tests/editors/install.sh); without them these tests skip and say why.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.editor

HERE = Path(__file__).resolve().parent
SERVER_CMD = f"{sys.executable} -m hiccup serve"
LOG = (
    "2026-11-25T10:00:00Z [DEBUG] session started\n"
    '✻ 😀 ⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},'
    '"request_id":"req_011CTestAbCdEf123"}\n'
    "all good again\n"
    "Invalid API key · Please run /login\n"
)


def run_editor(argv: list[str], cwd: Path, env_name: str) -> dict[str, Any]:
    (cwd / "claude.log").write_text(LOG, encoding="utf-8")
    env = {**os.environ, env_name: SERVER_CMD, "HOME": str(cwd)}  # no user config of the machine leaks in
    proc = subprocess.run([*argv, "claude.log"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no result (exit {proc.returncode})\nstdout: {proc.stdout}\nstderr: {proc.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0 and result.get("ok"), json.dumps(result, indent=1)[:4000]
    return result


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim not installed (run tests/editors/install.sh)")
def test_neovim(tmp_path: Path) -> None:
    result = run_editor(["nvim", "--headless", "-i", "NONE", "-u", str(HERE / "nvim" / "hiccup_test.lua")],
                        tmp_path, "HICCUP_LSP_CMD")
    first, auth = result["diagnostics"]
    assert (first["source"], first["code"], first["lnum"]) == ("hiccup", "internal_server_error", 1)
    assert first["col"] == len("✻ 😀 ⎿  ".encode())  # Neovim counts bytes; the server sent UTF-16
    assert first["message"] == "Claude API 500: temporary server error — usually clears in 1–3 min"
    assert auth["code"] == "authentication" and auth["severity"] == 1
    assert "Open Claude status page" in result["code_actions"]
    assert "Remind me to restart Claude Code in 2 min if it still fails" in result["code_actions"]  # settings
    assert "req_011CTestAbCdEf123" in result["report"]


@pytest.mark.skipif(shutil.which("emacs") is None or not glob.glob("/usr/share/emacs/site-lisp/elpa/eglot-*"),
                    reason="Emacs with eglot not installed (run tests/editors/install.sh)")
def test_emacs_eglot(tmp_path: Path) -> None:
    result = run_editor(["emacs", "--batch", "-Q", "-l", str(HERE / "emacs" / "hiccup-eglot-test.el")],
                        tmp_path, "HICCUP_LSP_CMD")
    first, auth = result["diagnostics"]
    assert first["type"] == "eglot-warning" and first["text_at"] == "API Error: 500"  # exact UTF-16 range
    assert "usually clears in 1–3 min" in first["text"]
    assert auth["type"] == "eglot-error"
    assert "**Next step:**" in result["hover"]
    assert "Copy error report" in result["code_actions"]
    assert "Remind me to restart Claude Code in 3 min if it still fails" in result["code_actions"]  # settings
