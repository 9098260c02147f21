"""Secret redaction for everything Hiccup shows, reports, logs or persists.

Logs and transcripts routinely carry credentials (`ANTHROPIC_API_KEY=sk-ant-api03-…` echoed by a shell,
`Authorization: Bearer …` in a debug dump); none of it may leave through a diagnostic, hover or report.
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"

# Each rule runs only when its cheap literal is in the lower-cased text: most lines hold no secret at all,
# and four regex passes over every line of a busy terminal would be the slowest part of a session log.
_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # sk-ant-api03-AbC…, sk-ant-oat01-… (OAuth access), sk-ant-ort01-… (refresh), sk-ant-admin01-…
    ("sk-ant-", re.compile(r"sk-ant-[A-Za-z0-9]{2,12}-[A-Za-z0-9_\-]{6,}|sk-ant-[A-Za-z0-9_\-]{12,}"),
     "sk-ant-" + MASK),
    # Authorization: Bearer eyJhbGciOi…   /  "authorization":"Bearer …"
    ("bearer", re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}"), r"\1" + MASK),
    # x-api-key: …  /  "x-api-key":"…"  /  X-Api-Key=…
    ("api-key", re.compile(r"(?i)(x-api-key[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]{4,}"), r"\1" + MASK),
    # ANTHROPIC_API_KEY=…, ANTHROPIC_AUTH_TOKEN=…, CLAUDE_CODE_OAUTH_TOKEN=…, "access_token": "…"
    ("", re.compile(r"(?i)\b((?:anthropic_api_key|anthropic_auth_token|claude_code_oauth_token|api[_-]?key|"
                r"access[_-]?token|refresh[_-]?token|client[_-]?secret|password)[\"']?\s*[:=]\s*[\"']?)"
                r"(?!\[REDACTED\])[^\s\"',;}]{6,}"), r"\1" + MASK),
    # Authorization: Basic dXNlcjpwYXNz
    ("authorization", re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?(?:basic|token)\s+)"
                                 r"[A-Za-z0-9._~+/=\-]{6,}"), r"\1" + MASK),
)


def redact(text: str) -> str:
    """Mask every credential-shaped token; cheap when there is nothing to mask."""
    low = text.lower()
    for literal, rx, repl in _RULES:
        if literal and literal not in low:
            continue
        if not literal and not any(w in low for w in _ASSIGNMENT_WORDS):
            continue
        text = rx.sub(repl, text)
    return text


_ASSIGNMENT_WORDS = ("key", "token", "secret", "password")
