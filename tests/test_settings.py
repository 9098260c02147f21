"""Settings: typed, validated against the schema, and a bad value never wipes a good one."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from hiccup.settings import Settings, parse_settings, settings_schema, to_wire

REPO_SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "settings.schema.json"


def test_defaults_are_the_schema_defaults() -> None:
    wire = to_wire(Settings())
    props = settings_schema()["properties"]
    for key, value in wire.items():
        if "default" in props[key]:
            assert value == props[key]["default"], key
        else:  # nested objects
            assert value == {k: p["default"] for k, p in props[key]["properties"].items()}, key
    jsonschema.validate(wire, settings_schema())


def test_packaged_schema_matches_the_contract() -> None:
    assert settings_schema() == json.loads(REPO_SCHEMA.read_text(encoding="utf-8"))


def test_camel_case_on_the_wire() -> None:
    settings, problems = parse_settings({
        "statusPage": {"url": "http://127.0.0.1:8080", "pollSeconds": 30, "components": ["Claude API"]},
        "restartAfterMinutes": 3, "escalateAfterMinutes": 7, "reminderMinutes": 2, "staleAfterMinutes": 60,
        "ignoredCategories": ["overloaded", "rate_limit"], "rulePacks": ["~/p.json"], "watch": ["~/logs"],
        "transcripts": {"enabled": False}, "debugLogs": {"enabled": False}, "logLevel": "debug",
        "trustedWorkspace": False, "someFutureKey": 1,
    })
    assert problems == []
    assert settings.status_page.url == "http://127.0.0.1:8080" and settings.status_page.poll_seconds == 30
    assert settings.restart_after_minutes == 3 and settings.escalate_after_minutes == 7
    assert settings.ignored_categories == {"overloaded", "rate_limit"}
    assert settings.transcripts.enabled is False and settings.debug_logs.enabled is False
    assert settings.log_level == "debug" and settings.trusted_workspace is False
    assert to_wire(settings)["ignoredCategories"] == ["overloaded", "rate_limit"]


@pytest.mark.parametrize(("raw", "setting", "reason"), [
    ({"restartAfterMinutes": "soon"}, "hiccup.restartAfterMinutes", "not of type 'number'"),
    ({"restartAfterMinutes": 0}, "hiccup.restartAfterMinutes", "less than the minimum of 1"),
    ({"statusPage": {"url": "ftp://x"}}, "hiccup.statusPage.url", "not an https:// URL"),
    ({"statusPage": {"colour": "red"}}, "hiccup.statusPage", "'colour' was unexpected"),
    ({"ignoredCategories": ["overloaded", "typo"]}, "hiccup.ignoredCategories", "'typo' is not one of"),
    ({"logLevel": "loud"}, "hiccup.logLevel", "'loud' is not one of error, warning, info, debug"),
])
def test_bad_values_are_named_and_keep_the_previous_value(raw: dict[str, object], setting: str,
                                                          reason: str) -> None:
    previous, _ = parse_settings({"restartAfterMinutes": 2, "ignoredCategories": ["rate_limit"],
                                  "statusPage": {"url": "https://status.example.com"}, "logLevel": "warning"})
    settings, problems = parse_settings({**raw, "reminderMinutes": 9}, previous)
    assert [p.setting for p in problems] == [setting]
    assert reason in problems[0].reason and setting in problems[0].message()
    assert settings.reminder_minutes == 9  # the good value next to it applies
    key = setting.split(".")[1]
    assert to_wire(settings)[key] == to_wire(previous)[key]


def test_missing_keys_reset_to_defaults_and_none_keeps_everything() -> None:
    previous, _ = parse_settings({"restartAfterMinutes": 2})
    assert parse_settings(None, previous) == (previous, [])
    assert parse_settings({}, previous)[0] == Settings()


def test_not_an_object() -> None:
    previous = Settings(restart_after_minutes=3)
    settings, problems = parse_settings(["x"], previous)
    assert settings is previous and problems[0].setting == "hiccup"
