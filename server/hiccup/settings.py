"""The `hiccup` settings section: a typed model, validated against `schemas/settings.schema.json`.

Clients send settings in three ways (initializationOptions, `workspace/didChangeConfiguration`,
`workspace/configuration`), some partial, some with typos. One bad value must not throw away the good ones, and
must not silently reset to a default either: a rejected setting keeps its previous value and is reported once,
by name, so the user can fix it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import cattrs
import jsonschema
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

SECTION = "hiccup"

DEFAULT_COMPONENTS = ("Claude API", "Claude Code", "claude.ai")


@attrs.frozen
class StatusPageSettings:
    enabled: bool = True
    url: str = "https://status.claude.com"
    poll_seconds: float = 60
    components: tuple[str, ...] = DEFAULT_COMPONENTS


@attrs.frozen
class Toggle:
    enabled: bool = True


@attrs.frozen
class Settings:
    """Parsed once per change; every field mirrors a schema property (camelCase on the wire)."""

    status_page: StatusPageSettings = StatusPageSettings()
    restart_after_minutes: float = 5
    escalate_after_minutes: float = 10
    reminder_minutes: float = 5
    stale_after_minutes: float = 120
    ignored_categories: frozenset[str] = frozenset()
    rule_packs: tuple[str, ...] = ()
    watch: tuple[str, ...] = ()
    transcripts: Toggle = Toggle()
    debug_logs: Toggle = Toggle()
    log_level: str = "info"
    trusted_workspace: bool = True


@attrs.frozen
class SettingsProblem:
    """One rejected setting: `setting` is the dotted name users type ("hiccup.restartAfterMinutes")."""

    setting: str
    reason: str

    def message(self) -> str:
        return f"Hiccup: invalid setting `{self.setting}`: {self.reason}. The previous value stays in force."


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    # JSON has no sets: ignoredCategories travels as a sorted list
    conv.register_unstructure_hook_func(
        lambda t: t is frozenset or getattr(t, "__origin__", None) is frozenset, sorted
    )
    # leaves first: a generated hook captures the hooks of its field types when it is made
    for cls in (StatusPageSettings, Toggle, Settings):
        renames = {a.name: override(rename=_camel(a.name)) for a in attrs.fields(cls)}
        conv.register_structure_hook(cls, make_dict_structure_fn(cls, conv, **renames))
        conv.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, conv, **renames))
    return conv


CONVERTER = _make_converter()


@cache
def settings_schema() -> dict[str, Any]:
    """The settings schema: the packaged copy if present, else the repository's `schemas/` file."""
    packaged = resources.files("hiccup").joinpath("data/settings.schema.json")
    if packaged.is_file():
        return json.loads(packaged.read_text(encoding="utf-8"))
    repo_copy = Path(__file__).resolve().parents[2] / "schemas" / "settings.schema.json"
    return json.loads(repo_copy.read_text(encoding="utf-8"))


def to_wire(settings: Settings) -> dict[str, Any]:
    """The camelCase JSON form (what a client would send)."""
    return CONVERTER.unstructure(settings)


def _setting_path(error: jsonschema.ValidationError) -> tuple[str, ...]:
    """The named part of an error's location: `ignoredCategories[2]` is reported as `ignoredCategories`."""
    names: list[str] = []
    for part in error.absolute_path:
        if not isinstance(part, str):
            break
        names.append(part)
    return tuple(names)


def _pop_path(data: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = data
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _get_path(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value


def _reason(error: jsonschema.ValidationError) -> str:
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "pattern" and _setting_path(error)[-1:] == ("url",):
        return f"{error.instance!r} is not an https:// URL"
    return error.message


def parse_settings(
    raw: Any, previous: Settings | None = None
) -> tuple[Settings, list[SettingsProblem]]:
    """Build settings from a client's `hiccup` section.

    Missing keys take their defaults (the user removed them); invalid keys keep the `previous` value and come back
    as problems. `None` means "the client sent nothing": previous settings stay as they are.
    """
    previous = previous or Settings()
    if raw is None:
        return previous, []
    if not isinstance(raw, Mapping):
        return previous, [SettingsProblem(SECTION, f"expected an object, got {type(raw).__name__}")]

    candidate = copy.deepcopy(dict(raw))
    validator = jsonschema.Draft202012Validator(settings_schema())
    problems: dict[tuple[str, ...], SettingsProblem] = {}
    for error in sorted(validator.iter_errors(candidate), key=lambda e: list(map(str, e.absolute_path))):
        path = _setting_path(error)
        if not path:
            return previous, [SettingsProblem(SECTION, _reason(error))]
        problems.setdefault(path, SettingsProblem(".".join((SECTION, *path)), _reason(error)))

    old = to_wire(previous)
    for path in problems:
        _pop_path(candidate, path)
        kept = _get_path(old, path)
        if kept is not None:
            _set_path(candidate, path, kept)
    known = {_camel(a.name) for a in attrs.fields(Settings)}
    settings = CONVERTER.structure({k: v for k, v in candidate.items() if k in known}, Settings)
    return settings, list(problems.values())
