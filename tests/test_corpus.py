"""Precision and recall against the labelled corpus of real Claude Code output (tests/data/corpus/README.md)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from hiccup.classifier import default_classifier

CORPUS = Path(__file__).parent / "data" / "corpus"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
C = default_classifier()


def load(name: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (CORPUS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


POSITIVES = load("positives.jsonl")
NEGATIVES = load("negatives.jsonl")


def scores(positives: list[dict], negatives: list[dict]) -> dict[str, float]:  # type: ignore[type-arg]
    tp = sum(1 for p in positives if (f := C.classify_line(p["text"], 0, p["fmt"])) and f.category == p["category"])
    fp = sum(1 for n in negatives if C.classify_line(n["text"], 0, n["fmt"]))
    wrong = sum(1 for p in positives if (f := C.classify_line(p["text"], 0, p["fmt"])) and f.category != p["category"])
    return {"precision": tp / max(1, tp + fp + wrong), "recall": tp / len(positives)}


@pytest.mark.parametrize("case", POSITIVES, ids=lambda c: f"{c['category']}:{c['text'][:40]}")
def test_positive(case: dict) -> None:  # type: ignore[type-arg]
    text = case["text"]
    f = C.classify_line(text, 0, case["fmt"])
    assert f is not None, "missed"
    assert f.category == case["category"]
    at = text.find(case["match"])
    assert at < f.end and at + len(case["match"]) > f.start, "the diagnostic range misses the error text"
    for key in ("http_status", "error_type", "request_id"):
        if case.get(key) is not None:
            assert getattr(f, key) == case[key], key
    if case.get("attempt"):
        assert list(f.attempt or ()) == case["attempt"]
    if case.get("planted_secret"):
        assert case["planted_secret"] not in f.excerpt


@pytest.mark.parametrize("case", NEGATIVES, ids=lambda c: c["text"][:50])
def test_negative(case: dict) -> None:  # type: ignore[type-arg]
    f = C.classify_line(case["text"], 0, case["fmt"])
    assert f is None, f"flagged as {f and f.category}: {case['why']}"


# (set, minimum precision, minimum recall). `corpus` and `heldout` were used for tuning; `heldout2` was written
# afterwards by someone who never saw the patterns and has not been tuned on: it is the honest figure.
SETS = [("corpus", 0.99, 0.97), ("heldout", 0.97, 0.93), ("heldout2", 0.90, 0.75)]


@pytest.mark.parametrize(("name", "min_precision", "min_recall"), SETS)
def test_scores_are_what_the_readme_says(name: str, min_precision: float, min_recall: float) -> None:
    base = CORPUS.parent / name
    positives = [json.loads(x) for x in (base / "positives.jsonl").read_text(encoding="utf-8").splitlines() if x]
    negatives = [json.loads(x) for x in (base / "negatives.jsonl").read_text(encoding="utf-8").splitlines() if x]
    s = scores(positives, negatives)
    counts = Counter(p["category"] for p in positives)
    print(f"{name}: precision {s['precision']:.3f} recall {s['recall']:.3f} on {len(positives)} positives "
          f"({len(counts)} categories) and {len(negatives)} negatives")
    assert s["precision"] >= min_precision and s["recall"] >= min_recall


EXPECTED = json.loads((CORPUS / "transcripts" / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_transcripts(name: str) -> None:
    path = CORPUS / "transcripts" / name
    got = [(f.line + 1, f.category, f.http_status) for f in C.scan_file(path)]
    want = [(e["line"], e["category"], e.get("http_status")) for e in EXPECTED[name]["findings"]]
    assert got == want
    lines = path.read_bytes().decode("utf-8", "replace").split("\n")
    successes = [i + 1 for i, line in enumerate(lines) if C.is_recovery(line, "jsonl")]
    assert successes == EXPECTED[name]["successes"]


def test_broken_transcript_bytes_are_survived() -> None:
    list(C.scan_file(CORPUS / "transcripts" / "broken.jsonl.bin", fmt="jsonl"))


def test_examples_give_exactly_the_documented_findings() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    block = re.search(r"<!-- expected:start -->\s*```\n(.*?)```", readme, re.S)
    assert block
    want = sorted(block.group(1).split())
    got = sorted(f"{p.name}:{f.line + 1}:{f.category}" for p in EXAMPLES.iterdir() if p.name != "README.md"
                 for f in C.scan_file(p))
    assert got == want
