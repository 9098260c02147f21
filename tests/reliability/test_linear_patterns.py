"""No input makes a built-in pattern super-linear.

Catalog patterns run in RE2 (linear by construction); the few Python `re` patterns used for metadata, cleaning
and redaction are checked here on adversarial inputs: quadrupling the input must not much more than quadruple the
time (a quadratic pattern would take 16x).
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
