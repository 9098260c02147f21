"""The `hiccup` command as a user runs it: real subprocesses, real files, exit codes and output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ERROR_500 = ('  ⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},'
             '"request_id":"req_011CCliTest01"}')


def hiccup(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hiccup", *args], input=stdin, capture_output=True, text=True,
                          timeout=60, check=False)


def test_scan_text_uses_the_compiler_convention(tmp_path: Path) -> None:
    log = tmp_path / "claude.log"
    log.write_text("starting\n" + ERROR_500 + "\n")
    r = hiccup("scan", str(log))
    assert r.returncode == 1, r.stderr
    assert r.stdout == (f"{log}:2:6: warning: Claude API 500: temporary server error — usually clears in 1–3 min "
                        "[internal_server_error]\n")


def test_scan_json_has_the_documented_keys(tmp_path: Path) -> None:
    log = tmp_path / "claude.log"
    log.write_text(ERROR_500 + "\n")
    r = hiccup("scan", "--format", "json", str(log))
    obj = json.loads(r.stdout)
    for key in ("path", "line", "column", "end_line", "end_column", "category", "severity", "message",
                "http_status", "error_type", "request_id", "timestamp"):
        assert key in obj
    assert (obj["line"], obj["column"], obj["http_status"], obj["request_id"], obj["timestamp"]) == \
        (1, 6, 500, "req_011CCliTest01", None)
    assert obj["end_column"] == len(ERROR_500) + 1


def test_scan_exit_codes_and_clear_errors(tmp_path: Path) -> None:
    clean = tmp_path / "clean.log"
    clean.write_text("all good\n")
    assert hiccup("scan", str(clean)).returncode == 0
    r = hiccup("scan", str(tmp_path / "missing.log"), str(clean))
    assert r.returncode == 2
    assert "missing.log: no such file or directory" in r.stderr and "Traceback" not in r.stderr
    r = hiccup("scan")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_scan_directories_recursively_skips_binary_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.log").write_text(ERROR_500 + "\n")
    (tmp_path / "b.bin.log").write_bytes(b"\x00\x01" + ERROR_500.encode())
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "c.log").write_text(ERROR_500 + "\n")
    r = hiccup("scan", str(tmp_path))
    assert r.returncode == 1
    assert r.stdout.count("\n") == 1 and "sub/a.log:1:6" in r.stdout


def test_scan_stdin() -> None:
    r = hiccup("scan", "-", stdin="x\nInvalid API key · Please run /login\n")
    assert r.returncode == 1
    assert r.stdout.startswith("<stdin>:2:1: error: Claude API 401: authentication failed — run /login")


def test_explain_prints_the_full_advice() -> None:
    r = hiccup("explain", ERROR_500)
    assert r.returncode == 0
    for text in ("Internal server error [internal_server_error]", "request id req_011CCliTest01",
                 "What NOT to do:", "Don't reinstall", "restart Claude Code only after 5 min",
                 "escalate after 10 min", "https://status.claude.com"):
        assert text in r.stdout
    assert hiccup("explain", "-", stdin="all fine\n").returncode == 1
    assert "Usage limit reached" in hiccup("explain", "usage_limit").stdout


def test_version_and_help() -> None:
    assert hiccup("--version").stdout.startswith("hiccup ")
    r = hiccup("--help")
    for cmd in ("scan", "explain", "serve", "watch", "run", "status"):
        assert cmd in r.stdout


def test_bad_rule_pack_is_reported_and_scan_still_works(tmp_path: Path) -> None:
    pack = tmp_path / "pack.json"
    pack.write_text("{nope")
    log = tmp_path / "a.log"
    log.write_text(ERROR_500 + "\n")
    r = hiccup("scan", "--rule-pack", str(pack), str(log))
    assert f"rule pack rejected: {pack}: /: invalid JSON" in r.stderr
    assert "internal_server_error" in r.stdout
    assert r.returncode == 2


def test_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text((ERROR_500 + "\n") * 5000)
    p = subprocess.Popen([sys.executable, "-m", "hiccup", "scan", str(log)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.readline()
    p.stdout.close()  # like `hiccup scan big.log | head -1`
    assert p.wait(timeout=60) == 0
    assert p.stderr.read() == b""
