"""The classifier on single lines of every real format: category, exact span, metadata — and what it must skip."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from hiccup.classifier import Classifier, default_classifier, parse_reset

C = default_classifier()


def span(line: str, fmt: str = "terminal") -> tuple[str, str]:
    f = C.classify_line(line, 0, fmt)
    assert f is not None, line
    return f.category, line[f.start:f.end]


@pytest.mark.parametrize(
    ("line", "category", "covered"),
    [
        ('  ⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},'
         '"request_id":"req_011CTestAbcdef"}', "internal_server_error",
         'API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},'
         '"request_id":"req_011CTestAbcdef"}'),
        ('⎿  API Error (529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}) · '
         "Retrying in 5 seconds… (attempt 2/10)", "overloaded",
         'API Error (529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}) · '
         "Retrying in 5 seconds… (attempt 2/10)"),
        ('API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed '
         'the rate limit"}}', "rate_limit", None),
        ("Claude AI usage limit reached|1750089600", "usage_limit", "Claude AI usage limit reached|1750089600"),
        ("5-hour limit reached ∙ resets 3pm (Europe/London)", "usage_limit", None),
        ("Invalid API key · Please run /login", "authentication", "Invalid API key · Please run /login"),
        ('API Error: 403 {"type":"error","error":{"type":"permission_error","message":"Request not allowed"}}',
         "permission", None),
        ("  ⎿  Credit balance is too low", "billing", None),
        ("  ⎿  API Error (Connection error.) · Retrying in 2 seconds… (attempt 3/10)", "connection",
         "API Error (Connection error.) · Retrying in 2 seconds… (attempt 3/10)"),
        ("Error: getaddrinfo ENOTFOUND api.anthropic.com", "connection", None),
        ("  ⎿  API Error (Request timed out.) · Retrying in 1 seconds… (attempt 1/10)", "timeout",
         "API Error (Request timed out.) · Retrying in 1 seconds… (attempt 1/10)"),
        ('API Error: 413 {"type":"error","error":{"type":"request_too_large","message":"Request exceeds the '
         'maximum size"}}', "request_too_large", None),
        ('API Error: 400 {"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: '
         '210000 tokens > 200000 maximum"}}', "context_limit", None),
        ('API Error: 400 {"type":"error","error":{"type":"invalid_request_error","message":"messages.1: tool_use '
         'ids must be unique"}}', "invalid_request", None),
        ('API Error: 404 {"type":"error","error":{"type":"not_found_error","message":"model: claude-nope"}}',
         "not_found", None),
        ("anthropic.InternalServerError: Error code: 500 - {'type': 'error', 'error': {'type': 'api_error', "
         "'message': 'Internal server error'}}", "internal_server_error", None),
    ],
)
def test_each_category_from_its_real_shape(line: str, category: str, covered: str | None) -> None:
    got, text = span(line)
    assert got == category
    if covered is not None:
        assert text == covered


@pytest.mark.parametrize(
    "line",
    [
        'GET /api/users 500 12ms',
        '127.0.0.1 - - [02/Nov/2025:10:00:00 +0000] "POST /login HTTP/1.1" 429 18',
        "FAILED tests/test_api.py::test_rate_limit - AssertionError",
        "tests/test_errors.py::test_internal_server_error PASSED",
        'if err.type == "overloaded_error":',
        "raise RateLimitError('429 rate limit')",
        "werkzeug.exceptions.InternalServerError: 500 Internal Server Error",
        "Error: connect ECONNREFUSED 127.0.0.1:5432",
        "If you see a 529 overloaded error, wait a few minutes.",
        "fix: handle 429 rate limit in the client",
        "Connection pool limit reached for db-primary",
        "⏺ Read(src/app.py)",
        "",
    ],
)
def test_tempting_lines_are_not_flagged(line: str) -> None:
    assert C.classify_line(line, 0, "terminal") is None


def test_metadata_is_read_from_the_line() -> None:
    f = C.classify_line(
        '2025-11-02T10:00:05.123Z [ERROR] API Error (529 {"type":"error","error":{"type":"overloaded_error",'
        '"message":"Overloaded"},"request_id":"req_011CMeta12345"}) · Retrying in 5 seconds… (attempt 3/10)', 7, "log")
    assert f is not None
    assert (f.line, f.category, f.http_status, f.error_type) == (7, "overloaded", 529, "overloaded_error")
    assert f.request_id == "req_011CMeta12345"
    assert f.attempt == (3, 10)
    assert f.timestamp == datetime(2025, 11, 2, 10, 0, 5, 123000, tzinfo=UTC)


def test_columns_point_into_the_raw_line_past_ansi_sequences() -> None:
    raw = "\x1b[2K\x1b[1G\x1b[31m  ⎿  API Error (Request timed out.)\x1b[39m · Retrying (attempt 1/10)"
    f = C.classify_line(raw, 0, "terminal")
    assert f is not None
    assert raw[f.start:f.end] == "API Error (Request timed out.)"


def test_carriage_return_redraws_keep_only_what_is_visible() -> None:
    raw = "✻ Thinking… 10%\r✻ Thinking… 90%\r  ⎿  API Error: Connection error."
    f = C.classify_line(raw, 0, "terminal")
    assert f is not None and f.category == "connection"
    assert raw[f.start:f.end] == "API Error: Connection error."


def test_secrets_never_reach_the_excerpt() -> None:
    f = C.classify_line("API Error: 401 {\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
                        "\"message\":\"invalid x-api-key sk-ant-api03-SECRETSECRETSECRET-abc\"}}", 0, "log")
    assert f is not None and f.category == "authentication"
    assert "SECRETSECRET" not in f.excerpt and "[REDACTED]" in f.excerpt


def transcript_entry(text: str, **extra: object) -> str:
    entry = {"parentUuid": "a", "isSidechain": False, "type": "assistant", "uuid": "b",
             "timestamp": "2025-11-02T10:00:00.000Z", "sessionId": "s",
             "message": {"id": "m", "model": "<synthetic>", "role": "assistant", "type": "message",
                         "content": [{"type": "text", "text": text}]},
             "isApiErrorMessage": True, **extra}
    return json.dumps(entry, separators=(",", ":"))


def test_transcript_api_error_points_into_the_raw_json_line() -> None:
    raw = transcript_entry('API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server '
                           'error"},"request_id":"req_011CJsonl1234"}')
    f = C.classify_line(raw, 3, "jsonl")
    assert f is not None
    assert (f.category, f.http_status, f.request_id, f.fmt) == ("internal_server_error", 500, "req_011CJsonl1234",
                                                               "jsonl")
    assert raw[f.start:f.end].startswith('API Error: 500 {\\"type\\":\\"error\\"')
    assert f.timestamp == datetime(2025, 11, 2, 10, tzinfo=UTC)


def test_transcript_lines_that_merely_quote_an_error_are_not_flagged() -> None:
    tool_result = json.dumps({"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": "app.log:3: API Error: 500 {\"type\":\"error\"}"}]}})
    assert C.classify_line(tool_result, 0, "jsonl") is None
    not_marked = transcript_entry("API Error: 500 …").replace('"isApiErrorMessage":true', '"isApiErrorMessage":false')
    assert C.classify_line(not_marked, 0, "jsonl") is None


def test_truncated_transcript_line_is_skipped_not_fatal() -> None:
    raw = transcript_entry("API Error: 529 {}")
    assert C.classify_line(raw[: len(raw) // 2], 0, "jsonl") is None


def test_a_real_reply_is_a_recovery_and_a_synthetic_one_is_not() -> None:
    reply = json.dumps({"type": "assistant", "timestamp": "2025-11-02T10:05:00Z",
                        "message": {"model": "claude-sonnet-4-5", "role": "assistant", "content": []}})
    assert C.is_recovery(reply, "jsonl") == datetime(2025, 11, 2, 10, 5, tzinfo=UTC)
    assert C.is_recovery(transcript_entry("API Error: 500"), "jsonl") is None


def test_usage_limit_reset_time_is_the_next_such_time() -> None:
    ref = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 14:00 in London
    at, text = parse_reset("5-hour limit reached ∙ resets 3pm (Europe/London)", ref)
    assert text == "3pm (Europe/London)"
    assert at == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    at, _ = parse_reset("resets 1pm (Europe/London)", ref)
    assert at == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    at, _ = parse_reset("Weekly limit reached ∙ resets Dec 1, 10am (UTC)", ref)
    assert at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_usage_limit_epoch_form() -> None:
    f = C.classify_line("Claude AI usage limit reached|1750089600", 0, "terminal")
    assert f is not None and f.reset_at == datetime.fromtimestamp(1750089600, UTC)


def test_format_detection() -> None:
    assert C.detect_format(b'{"type":"user","sessionId":"x"}\n', "abc.txt") == "jsonl"
    assert C.detect_format(b"anything", "s.jsonl") == "jsonl"
    assert C.detect_format(b"\x1b[31mred\x1b[0m\n", "t.log") == "terminal"
    assert C.detect_format(b"2025-11-02 INFO fine\n", "app.log") == "log"


def test_stdlib_and_hyperscan_prefilters_agree() -> None:
    text = "\n".join(["noise"] * 50 + ["  ⎿  API Error: Connection error."] + ["more noise"] * 50
                     + ["Invalid API key · Please run /login"])
    fast = Classifier()
    slow = Classifier(fast.catalog, engine="stdlib")
    assert fast.scan_text(text) == slow.scan_text(text)
    assert [f.line for f in fast.scan_text(text)] == [50, 101]
