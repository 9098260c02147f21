"""No input makes a built-in pattern super-linear.

Rule-pack patterns run in RE2 (linear by construction). The built-in catalog patterns and the patterns used for
metadata, cleaning and redaction run in Python's `re` and are checked here on adversarial inputs: quadrupling the
input must not much more than quadruple the time (a quadratic pattern would take 16x).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from hiccup.classifier import default_classifier, parse_reset
from hiccup.redact import redact
from hiccup.textclean import clean_line

C = default_classifier()
NOW = __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").UTC)

ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "api error repeated": lambda n: "API Error: 5" * n,
    "unclosed json": lambda n: "API Error: 500 {" + '"type":"error",' * n,
    "envelope prefix repeated": lambda n: '500 {"type":"error","error":{' * n,
    "resets repeated": lambda n: "limit reached resets 1" * n,
    "escape soup": lambda n: "\x1b[" + "0;" * n,
    "osc unterminated": lambda n: "\x1b]0;" + "x" * (3 * n),
    "cr storm": lambda n: "API Error\r" * n,
    "bearer repeated": lambda n: "Bearer Bearer " * n,
    "key-like": lambda n: "sk-ant-" + "a-" * n,
    "api key assignments": lambda n: "api_key=api_key=" * n,
    "attempt fragments": lambda n: "API Error attempt 1/" * n,
}


def best_time(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_time_grows_linearly(name: str) -> None:
    make = ADVERSARIAL[name]

    def work(n: int) -> Callable[[], object]:
        text = make(n)
        return lambda: (C.classify_line(text, 0, "terminal"), redact(text), clean_line(text),
                        parse_reset(text, NOW))

    small, large = best_time(work(5_000)), best_time(work(20_000))
    assert large < max(small, 1e-3) * 10, f"{name}: {small:.4f}s -> {large:.4f}s for 4x input"


FRAGMENTS = ('API Error: 5', ' {"type":"error","error":{"type":"', 'overloaded', ' · Retrying in ', '(attempt 1/',
             'limit reached ∙ resets ', 'Error code: 4', ' status 500 ', ' request_id: req_', '\x1b[31m', ' ')


def _catalog_regexes() -> list[object]:
    cat = C.catalog
    rows = [(f"envelope {i}", p.regex, p.triggers) for i, p in enumerate(cat.envelopes)]
    rows += [(f"{p.category} pattern {i}", p.regex, p.triggers) for i, p in enumerate(cat.patterns)]
    rows += [(f"{cid} message {i}", rx, ()) for i, (_, cid, rx) in enumerate(cat.message_patterns)]
    return [pytest.param(*row, id=row[0]) for row in rows]


@pytest.mark.parametrize(("name", "regex", "triggers"), _catalog_regexes())
def test_each_builtin_regex_is_linear_on_its_own_near_misses(name: str, regex: object,
                                                            triggers: tuple[str, ...]) -> None:
    """Built-ins run in Python's backtracking `re`: each is fed its own triggers and the catalog's common
    fragments, repeated, with no line end (the worst case for a pattern that scans forward to a delimiter)."""
    unit = "".join(triggers) + "".join(FRAGMENTS)

    def work(n: int) -> Callable[[], object]:
        text = unit * n
        return lambda: regex.search(text)  # type: ignore[attr-defined]

    small, large = best_time(work(500)), best_time(work(2_000))
    assert large < max(small, 1e-3) * 10, f"{name}: {small:.4f}s -> {large:.4f}s for 4x input"
