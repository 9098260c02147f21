"""The catalog is data validated by its schema; rule packs extend it, and a bad pack never breaks the built-ins."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import jsonschema
import re2

from hiccup.catalog import load_catalog
from hiccup.classifier import Classifier

ROOT = Path(__file__).resolve().parents[1]
IDS = ["internal_server_error", "overloaded", "rate_limit", "usage_limit", "authentication", "permission",
       "billing", "connection", "timeout", "request_too_large", "context_limit", "invalid_request", "not_found"]


def test_schemas_are_valid_2020_12_and_packaged_copies_are_the_same_files() -> None:
    for name in ("catalog.schema.json", "settings.schema.json"):
        schema = json.loads((ROOT / "schemas" / name).read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        assert (ROOT / "server/hiccup/data" / name).read_text() == (ROOT / "schemas" / name).read_text()


def builtin_regexes() -> list[str]:
    doc = json.loads((ROOT / "server/hiccup/data/catalog.json").read_text())
    found = [e["regex"] for e in doc["envelopes"]]
    for c in doc["categories"]:
        found += [p["regex"] for key in ("patterns", "message_patterns") for p in c.get(key, [])]
    return found


def test_builtin_patterns_are_re2_syntax_with_the_same_matches_in_re() -> None:
    """Built-ins run in `re` for speed but stay RE2 syntax (a rule pack can copy any of them), and both engines
    agree on every labelled line: the corpus results do not depend on which engine ran."""
    regexes = builtin_regexes()
    assert len(regexes) > 50
    lines = [json.loads(row)["text"] for name in ("corpus", "heldout", "heldout2")
             for kind in ("positives", "negatives")
             for row in (ROOT / "tests/data" / name / f"{kind}.jsonl").read_text().splitlines() if row.strip()]
    assert len(lines) > 600
    for regex in regexes:
        ours, theirs = re.compile(regex, re.ASCII), re2.compile(regex)
        for line in lines:
            a, b = ours.search(line), theirs.search(line)
            assert (a and a.span()) == (b and b.span()), (regex, line)


def test_builtin_catalog_has_every_public_category_fully_described() -> None:
    catalog, errors = load_catalog()
    assert errors == []
    assert list(catalog.categories) == IDS
    for c in catalog.categories.values():
        assert c.title and c.summary and c.meaning and c.docs_url.startswith("https://")
        assert c.quick_steps and c.do_not and c.causes and c.escalate_when, c.id
        assert "copy_report" in c.actions and "ignore" in c.actions


def test_server_error_advice_follows_the_guide() -> None:
    c = load_catalog()[0].get("internal_server_error")
    assert c.transient
    assert (c.timings.clears_within_min, c.timings.restart_after_min, c.timings.escalate_after_min) == (3, 5, 10)
    dont = " ".join(c.do_not).lower()
    for word in ("reinstall", "api keys", "clear", "system settings", "computer"):
        assert word in dont
    assert {"status_page", "remind_restart", "restart", "community"} <= set(c.actions)
    steps = " ".join(c.quick_steps)
    assert "1–3 minutes" in steps and "5 minutes" in steps


def test_auth_advice_says_it_needs_action_unlike_server_errors() -> None:
    c = load_catalog()[0].get("authentication")
    assert not c.transient and "relogin" in c.actions
    assert "/login" in " ".join(c.quick_steps)


def write(tmp_path: Path, doc: object, name: str = "pack.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return p


def test_valid_rule_pack_adds_a_category_and_a_pattern(tmp_path: Path) -> None:
    pack = write(tmp_path, {"version": 1, "name": "corp proxy", "categories": [
        {"id": "corp_proxy", "title": "Corporate proxy refused", "summary": "Proxy refused the request",
         "meaning": "The corporate proxy blocked the call.", "transient": False,
         "timings": {"clears_within_min": 10}, "docs_url": "https://intranet.example/proxy",
         "patterns": [{"regex": r"ZSCALER-BLOCK-(?P<status>\d+)", "triggers": ["ZSCALER-BLOCK"]}]},
        {"id": "overloaded", "patterns": [{"regex": "capacity exhausted, try later", "triggers": ["capacity exh"]}]},
    ]})
    catalog, errors = load_catalog([pack])
    assert errors == []
    c = Classifier(catalog)
    assert c.classify_line("proxy said ZSCALER-BLOCK-7", 0, "log").category == "corp_proxy"
    assert c.classify_line("upstream: capacity exhausted, try later", 0, "log").category == "overloaded"
    assert c.classify_line("⎿  API Error: Connection error.", 0, "log").category == "connection"


def test_invalid_packs_are_rejected_with_file_pointer_and_reason(tmp_path: Path) -> None:
    bad_schema = write(tmp_path, {"version": 1, "categories": [{"id": "x", "patterns": [{"regex": "a"}]}]}, "a.json")
    bad_json = write(tmp_path, '{"version": 1, "categories": [', "b.json")
    bad_regex = write(tmp_path, {"version": 1, "categories": [
        {"id": "overloaded", "patterns": [{"regex": r"(a)\1", "triggers": ["aaa"]}]}]}, "c.json")
    new_incomplete = write(tmp_path, {"version": 1, "categories": [{"id": "brand_new"}]}, "d.json")
    missing = tmp_path / "nope.json"
    catalog, errors = load_catalog([bad_schema, bad_json, bad_regex, new_incomplete, missing])
    messages = [e.message for e in errors]
    assert any(m.startswith(f"{bad_schema}: /categories/0/patterns/0: 'triggers' is a required property")
               for m in messages), messages
    assert any(m.startswith(f"{bad_json}: /: invalid JSON") and "line 1" in m for m in messages), messages
    assert any(m.startswith(f"{bad_regex}: /categories/0/patterns/0/regex: regex rejected") for m in messages)
    assert any(m.startswith(f"{new_incomplete}: /categories/0: new category 'brand_new' needs") for m in messages)
    assert any(m.startswith(f"{missing}: /: cannot read") for m in messages)
    # the built-ins keep working
    assert len(catalog.categories) == 13
    assert Classifier(catalog).classify_line("API Error: Connection error.", 0, "log").category == "connection"


def test_catastrophic_user_regex_runs_in_linear_time(tmp_path: Path) -> None:
    pack = write(tmp_path, {"version": 1, "categories": [
        {"id": "overloaded", "patterns": [{"regex": r"(a+)+$", "triggers": ["aaa"]}]}]})
    catalog, errors = load_catalog([pack])
    assert errors == []
    c = Classifier(catalog)
    line = "a" * 200_000 + "!"
    t0 = time.perf_counter()
    assert c.classify_line(line, 0, "log") is None
    # Python's re would take longer than the age of the universe here; RE2 is linear.
    assert time.perf_counter() - t0 < 5
