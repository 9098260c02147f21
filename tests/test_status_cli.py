"""`hiccup status`: output and exit codes against the local status page, in process and as a subprocess."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hiccup.status_cli import add_arguments, main
from statuspage_server import StatusPageServer, delay, json_body, load_payload, respond

pytest_plugins = ["conftest_status"]
pytestmark = pytest.mark.timeout(20)

SERVER_DIR = Path(__file__).resolve().parent.parent / "server"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hiccup status")
    add_arguments(parser)
    return parser.parse_args(list(argv))


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(parse(*argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_defaults() -> None:
    args = parse()
    assert (args.url, args.format, args.timeout, args.components) == (
        "https://status.claude.com",
        "text",
        15.0,
        None,
    )


def test_operational_exits_0(status_page: StatusPageServer) -> None:
    url = status_page.serve("/ok", json_body(load_payload("operational.json")))

    code, out, err = run("--url", url)

    lines = out.splitlines()
    assert code == 0 and err == ""
    assert lines[:4] == [
        "Claude status: all operational",
        "  claude.ai: operational",
        "  Claude API (api.anthropic.com): operational",
        "  Claude Code: operational",
    ]
    assert lines[4].startswith(f"Source: {url} (checked ") and lines[4].endswith(" UTC)")
    assert len(lines) == 5


def test_incident_exits_1_and_names_it(status_page: StatusPageServer) -> None:
    url = status_page.serve("/minor", json_body(load_payload("minor_incident.json")))

    code, out, _ = run("--url", url, "--component", "Claude API")

    lines = out.splitlines()
    assert code == 1
    assert lines[0] == "Claude status: minor — Elevated errors on Claude Opus 4 (investigating)"
    assert lines[1] == "  Claude API (api.anthropic.com): degraded performance"
    assert lines[2].startswith("  Incident: Elevated errors on Claude Opus 4 (investigating, impact minor, started ")
    assert lines[3] == (
        "    Latest update: We are continuing to investigate elevated error rates on requests to Claude Opus 4."
    )
    assert lines[4] == "    https://stspg.io/q4xy0v2kd1hw"


def test_maintenance_exits_1(status_page: StatusPageServer) -> None:
    url = status_page.serve("/maint", json_body(load_payload("maintenance.json")))
    code, out, _ = run("--url", url)
    assert code == 1
    assert "  Maintenance in progress: claude.ai database maintenance" in out.splitlines()


def test_json_is_one_object(status_page: StatusPageServer) -> None:
    url = status_page.serve("/major", json_body(load_payload("major_outage.json")))

    code, out, _ = run("--url", url, "--format", "json")

    data = json.loads(out)
    assert code == 1
    assert (data["state"], data["reason"], data["matchingIncidentId"]) == ("major", None, "h5c9xk2r7w4d")
    assert [c["status"] for c in data["components"]] == ["partial_outage", "major_outage", "major_outage"]
    assert data["incidents"][0]["shortlink"] == "https://stspg.io/n8r2c5w1t7zq"
    assert data["incidents"][0]["startedAt"] == "2026-11-25T09:40:00Z"
    assert data["lastGood"] is None and data["url"] == url


def test_unknown_exits_2(status_page: StatusPageServer) -> None:
    url = status_page.serve("/down", respond(502))

    code, out, _ = run("--url", url, "--format", "json")

    assert code == 2
    assert json.loads(out)["text"] == "Claude status unknown (HTTP 502)"


def test_timeout_option_bounds_the_whole_check(status_page: StatusPageServer) -> None:
    url = status_page.serve("/slow", delay(5, json_body(load_payload("operational.json"))))

    code, out, _ = run("--url", url, "--timeout", "0.4")

    assert code == 2
    assert out.splitlines()[0] == "Claude status unknown (timed out after 0.4 s)"


def test_refused_url_is_a_clear_error() -> None:
    code, out, err = run("--url", "http://status.example.com")
    assert (code, out) == (2, "")
    assert err == (
        "hiccup status: status page URL must use https (plain http only for 127.0.0.1, ::1 or localhost): "
        "'http://status.example.com'\n"
    )


@pytest.mark.parametrize("value", ["0", "-1", "soon", "301"])
def test_bad_timeout_is_refused_by_argparse(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse("--timeout", value)
    assert exit_info.value.code == 2
    assert "--timeout" in capsys.readouterr().err


def test_hiccup_status_as_a_separate_process(status_page: StatusPageServer) -> None:
    url = status_page.serve("/minor", json_body(load_payload("minor_incident.json")))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SERVER_DIR), os.environ.get("PYTHONPATH", "")])}

    done = subprocess.run(
        [sys.executable, "-m", "hiccup", "status", "--url", url, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=15,
        env=env,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["text"] == (
        "Claude status: minor — Elevated errors on Claude Opus 4 (investigating)"
    )
    assert status_page.count("/minor") == 1
