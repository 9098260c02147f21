"""A rule pack from settings with catastrophic regexes cannot hang the server: RE2 runs them in linear time, a
pack pattern sees at most 16 KiB of a line, and what RE2 cannot compile is reported by name and skipped."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from lsp_support import ERR_500, TIMEOUT, hover_text, open_doc, wait_diagnostics, wait_message
from lsprotocol import types
from server_proc import running

from hiccup.catalog import load_catalog
from hiccup.classifier import MAX_LINE_CHARS, PACK_SEARCH_CHARS, Classifier

# Backtracking engines take exponential or polynomial time on these; RE2 has no backtracking.
# The last one is linear but costly (its submatch pass is programme size x span): it runs first, on every line.
CATASTROPHIC = [r"(a+)+$", r"(a|a)*b", r"(.*)*x", r"(x+x+)+y", r"^(a|aa)+$", r"(\w+\s?)*$", r"(.*a){60}"]
REJECTED = [r"(a)\1", r"(?=aaaa)a", r"((a{100}){100}){100}"]


def pack(tmp_path: Path) -> Path:
    patterns = [{"regex": rx, "triggers": ["aaaa"], "priority": 100 + i}
                for i, rx in enumerate(CATASTROPHIC + REJECTED)]
    path = tmp_path / "hostile-pack.json"
    path.write_text(json.dumps({"version": 1, "categories": [{
        "id": "hostile", "title": "Hostile", "summary": "Hostile pattern", "meaning": "A test.",
        "transient": True, "timings": {"clears_within_min": 3}, "docs_url": "https://example.com/hostile",
        "patterns": patterns}]}))
    return path


async def test_catastrophic_patterns_from_settings(tmp_path: Path) -> None:
    uri = (tmp_path / "victim.log").as_uri()
    lines = ["a" * 100_000 + "!"] * 10 + ["a" * 1_000_000 + "!"] * 2
    async with running(tmp_path / "cache", root_uri=tmp_path.as_uri()) as client:
        await open_doc(client, uri, "\n".join(lines) + "\n" + ERR_500 + "\n")
        await wait_diagnostics(client, uri, lambda d: len(d) == 1)

        t0 = time.monotonic()
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"hiccup": {"rulePacks": [str(pack(tmp_path))]}}))
        # every line is classified again with the hostile patterns, and each of them matches
        diags = await wait_diagnostics(client, uri, lambda d: len(d) == 13, timeout=30)
        reclassified_s = time.monotonic() - t0
        for rx in REJECTED:
            await wait_message(client, lambda m, rx=rx: "rule pack not loaded" in m and "RE2" in m
                               and f"/patterns/{CATASTROPHIC.__len__() + REJECTED.index(rx)}/regex" in m)

        # the server answers at once while matching the hostile patterns on new lines
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(13, 0), types.Position(13, 0)), text="a" * 500_000 + "!\n")]))
        t0 = time.monotonic()
        (err,) = [d for d in diags if d.code == "internal_server_error"]
        markdown = await asyncio.wait_for(hover_text(client, uri, err), TIMEOUT)
        hover_s = time.monotonic() - t0
    print(f"hostile rule pack: 12 MB re-classified in {reclassified_s:.2f} s, hover {hover_s * 1000:.0f} ms")
    assert "500" in markdown
    assert reclassified_s < 10, f"re-classifying 12 MB of hostile lines took {reclassified_s:.1f} s"
    assert hover_s < 2, f"hover took {hover_s:.2f} s behind a 500 KB hostile line"


def test_a_pack_pattern_sees_the_first_16_kib_of_a_line(tmp_path: Path) -> None:
    catalog, errors = load_catalog([pack(tmp_path)])
    assert len(errors) == len(REJECTED)
    classifier = Classifier(catalog)
    assert classifier.classify_line("aaaa" + "a" * 100 + "!", 0, "log").category == "hostile"  # type: ignore[union-attr]
    t0 = time.perf_counter()
    for _ in range(10):
        classifier.classify_line("a" * MAX_LINE_CHARS + "!", 0, "log")
    assert time.perf_counter() - t0 < 5
    # built-in patterns still see the whole (capped) line
    far = classifier.classify_line(" " * (PACK_SEARCH_CHARS * 2) + ERR_500, 0, "log")
    assert far is not None and far.category == "internal_server_error"
