"""Every credential shape Claude Code logs can carry is masked; ordinary text is left alone."""

from __future__ import annotations

import pytest

from hiccup.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("export ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrSt-uvwxyz0123", "AbCdEfGhIjKlMnOp"),
        ("token sk-ant-oat01-OAUTHOAUTHOAUTHOAUTH-xyz", "OAUTHOAUTH"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ('{"headers":{"x-api-key":"abc123def456ghi"}}', "abc123def456ghi"),
        ("X-Api-Key: zzzzyyyyxxxx", "zzzzyyyyxxxx"),
        ("CLAUDE_CODE_OAUTH_TOKEN=tok_live_123456789", "tok_live_123456789"),
        ('"access_token": "ya29.a0AfH6SMBx"', "ya29.a0AfH6SMBx"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    ],
)
def test_secrets_are_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert "[REDACTED]" in out


@pytest.mark.parametrize("text", [
    "API Error: 500 {\"type\":\"error\",\"error\":{\"type\":\"api_error\"}}",
    "The keyboard is fine; 12 tokens used",
    "Invalid API key · Please run /login",
])
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == text
