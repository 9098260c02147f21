"""The error catalog: categories, advice and patterns, loaded from data and validated by a JSON Schema.

Advice and patterns live in `data/catalog.json` (not in code) so that a user rule pack can extend them with
the same schema, and so reviewers can read the advice as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import re2

ACTIONS = ("status_page", "check_status", "remind_restart", "restart", "community", "relogin", "docs",
           "copy_report", "ignore")

# A new category in a rule pack must say at least this much to be shown to a user.
_REQUIRED_FOR_NEW = ("title", "summary", "meaning", "transient", "timings", "docs_url")


@dataclass(frozen=True)
class Timings:
    clears_within_min: float
    restart_after_min: float | None = None
    escalate_after_min: float | None = None


@dataclass(frozen=True)
class Pattern:
    """A compiled rule. A user pack's regex runs in RE2, linear-time whoever wrote it; the built-in ones run in
    Python's `re` (about 10x less overhead per call on `str`), which is safe because we wrote them and
    tests/reliability/test_linear_patterns.py holds each of them to linear time on adversarial input."""

    category: str
    regex: Any  # re.Pattern (built-in) or re2 compiled pattern (rule pack)
    triggers: tuple[str, ...]
    priority: int
    source: str


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    summary: str
    meaning: str
    transient: bool
    quick_steps: tuple[str, ...] = ()
    do_not: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    not_caused_by: tuple[str, ...] = ()
    escalate_when: tuple[str, ...] = ()
    timings: Timings = Timings(3)
    actions: tuple[str, ...] = ()
    docs_url: str = ""
    http_statuses: tuple[int, ...] = ()
    error_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackError:
    """Why a rule pack (or one of its rules) was not loaded; `message` is what users see."""

    path: str
    pointer: str
    reason: str

    @property
    def message(self) -> str:
        return f"{self.path}: {self.pointer or '/'}: {self.reason}"


@dataclass
class Catalog:
    categories: dict[str, Category]
    patterns: list[Pattern]
    envelopes: list[Pattern]
    message_patterns: list[tuple[int, str, Any]]  # (priority, category, regex), highest priority first
    status_page_url: str = "https://status.claude.com"
    community_url: str = "https://www.reddit.com/r/ClaudeAI/"
    docs_url: str = "https://docs.claude.com/en/api/errors"
    sources: list[str] = field(default_factory=list)

    def get(self, category_id: str) -> Category:
        return self.categories[category_id]

    def triggers(self) -> list[str]:
        """Every literal a candidate line must contain; the prefilter searches for these."""
        seen: dict[str, None] = {}
        for p in (*self.envelopes, *self.patterns):
            for t in p.triggers:
                seen[t] = None
        return list(seen)


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("hiccup").joinpath("data/catalog.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _pointer(path: Iterable[Any]) -> str:
    return "".join(f"/{p}" for p in path)


def _compile(regex: str, where: str, pointer: str, errors: list[PackError], builtin: bool = False) -> Any | None:
    if builtin:  # RE2 syntax still (tests/test_catalog.py checks): re.ASCII gives \d, \w and \b RE2's meaning
        return re.compile(regex, re.ASCII)
    options = re2.Options()
    options.max_mem = 8 << 20  # bound the automaton a hostile pattern can build
    try:
        return re2.compile(regex, options)
    except Exception as exc:  # re2.error and friends: the regex is not RE2 syntax
        errors.append(PackError(where, pointer, f"regex rejected ({exc}); patterns use RE2 syntax "
                                                "(no backreferences or lookaround)"))
        return None


def validate_document(doc: Any, where: str) -> list[PackError]:
    validator = jsonschema.Draft202012Validator(_schema())
    return [PackError(where, _pointer(e.absolute_path), e.message)
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


def _merge(cat: Catalog, doc: dict[str, Any], where: str, errors: list[PackError], builtin: bool) -> None:
    links = doc.get("links", {})
    if builtin:
        cat.status_page_url = links.get("status_page", cat.status_page_url)
        cat.community_url = links.get("community", cat.community_url)
        cat.docs_url = links.get("docs", cat.docs_url)
    for i, env in enumerate(doc.get("envelopes", [])):
        rx = _compile(env["regex"], where, f"/envelopes/{i}/regex", errors, builtin)
        if rx is not None:
            cat.envelopes.append(Pattern("", rx, tuple(env["triggers"]), env.get("priority", 100), where))
    for i, c in enumerate(doc["categories"]):
        cid = c["id"]
        if cid not in cat.categories:
            missing = [k for k in _REQUIRED_FOR_NEW if k not in c]
            if missing:
                errors.append(PackError(where, f"/categories/{i}",
                                        f"new category '{cid}' needs {', '.join(missing)}"))
                continue
            t = c["timings"]
            cat.categories[cid] = Category(
                id=cid, title=c["title"], summary=c["summary"], meaning=c["meaning"], transient=c["transient"],
                quick_steps=tuple(c.get("quick_steps", ())), do_not=tuple(c.get("do_not", ())),
                causes=tuple(c.get("causes", ())), not_caused_by=tuple(c.get("not_caused_by", ())),
                escalate_when=tuple(c.get("escalate_when", ())),
                timings=Timings(t["clears_within_min"], t.get("restart_after_min"), t.get("escalate_after_min")),
                actions=tuple(c.get("actions", ("docs", "copy_report", "ignore"))),
                docs_url=c["docs_url"], http_statuses=tuple(c.get("http_statuses", ())),
                error_types=tuple(c.get("error_types", ())),
            )
        for j, p in enumerate(c.get("patterns", [])):
            rx = _compile(p["regex"], where, f"/categories/{i}/patterns/{j}/regex", errors, builtin)
            if rx is not None:
                cat.patterns.append(Pattern(cid, rx, tuple(p["triggers"]), p.get("priority", 100), where))
        for j, p in enumerate(c.get("message_patterns", [])):
            rx = _compile(p["regex"], where, f"/categories/{i}/message_patterns/{j}/regex", errors,
                          builtin)
            if rx is not None:
                cat.message_patterns.append((p.get("priority", 100), cid, rx))
    cat.sources.append(where)


def _read_pack(path: Path) -> tuple[Any, list[PackError]]:
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [PackError(where, "", f"cannot read: {exc.strerror or exc}")]
    if len(data) > 4 << 20:
        return None, [PackError(where, "", "larger than 4 MB")]
    try:
        return json.loads(data.decode("utf-8")), []
    except UnicodeDecodeError as exc:
        return None, [PackError(where, "", f"not UTF-8 ({exc.reason} at byte {exc.start})")]
    except json.JSONDecodeError as exc:
        return None, [PackError(where, "", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
    except RecursionError:
        return None, [PackError(where, "", "invalid JSON: nested too deeply")]


def load_catalog(packs: Sequence[str | Path] = ()) -> tuple[Catalog, list[PackError]]:
    """Built-ins first, then each pack; a broken pack is reported and skipped, never fatal."""
    cat = Catalog(categories={}, patterns=[], envelopes=[], message_patterns=[])
    errors: list[PackError] = []
    builtin = json.loads(resources.files("hiccup").joinpath("data/catalog.json").read_text(encoding="utf-8"))
    builtin_errors = validate_document(builtin, "built-in catalog")
    if builtin_errors:  # a packaging bug, not a user mistake: fail loudly
        raise RuntimeError("; ".join(e.message for e in builtin_errors))
    _merge(cat, builtin, "built-in", errors, builtin=True)
    for pack in packs:
        path = Path(pack).expanduser()
        doc, read_errors = _read_pack(path)
        if read_errors:
            errors += read_errors
            continue
        schema_errors = validate_document(doc, str(path))
        if schema_errors:
            errors += schema_errors
            continue
        _merge(cat, doc, str(path), errors, builtin=False)
    cat.patterns.sort(key=lambda p: -p.priority)
    cat.envelopes.sort(key=lambda p: -p.priority)
    cat.message_patterns.sort(key=lambda m: -m[0])
    return cat, errors


@cache
def builtin_catalog() -> Catalog:
    return load_catalog()[0]
