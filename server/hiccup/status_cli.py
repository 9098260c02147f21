"""`hiccup status`: ask the Claude status page once and say what it reports.

Exit codes make it scriptable ("wait until the API is healthy again"): 0 operational, 1 degraded / incident /
maintenance, 2 unknown (the page could not be read). `hiccup/cli.py` wires `add_arguments` and `main` in as
the `status` subcommand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import TextIO

from hiccup.status import (
    DEFAULT_COMPONENTS,
    DEFAULT_STATUS_PAGE_URL,
    DEFAULT_TOTAL_TIMEOUT,
    StatusClient,
    StatusConfigError,
    StatusSummary,
    format_age,
)

EXIT_OPERATIONAL = 0
EXIT_DEGRADED = 1
EXIT_UNKNOWN = 2


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError(f"timeout must be between 0 and 300 seconds, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `hiccup status`."""
    parser.add_argument(
        "--url",
        default=DEFAULT_STATUS_PAGE_URL,
        help=f"status page base URL (Statuspage v2, https only; default {DEFAULT_STATUS_PAGE_URL})",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=DEFAULT_TOTAL_TIMEOUT,
        metavar="S",
        help=f"give up after S seconds in total (default {DEFAULT_TOTAL_TIMEOUT:g})",
    )
    parser.add_argument(
        "--component",
        action="append",
        dest="components",
        metavar="NAME",
        help="component name prefix to report (repeatable; default: " + ", ".join(DEFAULT_COMPONENTS) + ")",
    )


def exit_code(summary: StatusSummary) -> int:
    """0 only for a clean bill of health: indicator "none", nothing open, no maintenance running."""
    if not summary.ok:
        return EXIT_UNKNOWN
    if summary.indicator == "none" and not summary.incidents and not summary.maintenances:
        return EXIT_OPERATIONAL
    return EXIT_DEGRADED


def text_lines(summary: StatusSummary, now: datetime) -> list[str]:
    """A few plain lines for a terminal: headline, relevant components, matching incident, source."""
    lines = [summary.short_text(now)]
    lines += [f"  {c.name}: {c.label}" for c in summary.relevant_components()]
    incident = summary.matching_incident()
    if incident is not None:
        since = (
            f", started {format_age((now - incident.started_at).total_seconds())} ago" if incident.started_at else ""
        )
        lines.append(f"  Incident: {incident.name} ({incident.status}, impact {incident.impact}{since})")
        if incident.last_update:
            lines.append(f"    Latest update: {incident.last_update}")
        if incident.shortlink:
            lines.append(f"    {incident.shortlink}")
    lines += [f"  Maintenance in progress: {m.name}" for m in summary.maintenances]
    lines.append(f"Source: {summary.page_url} (checked {summary.fetched_at.strftime('%Y-%m-%d %H:%M:%S')} UTC)")
    return lines


def main(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run `hiccup status` with parsed `args`; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        # Connect/read timeouts stay at their defaults: --timeout bounds the whole check, and being the smaller
        # one it is the one that fires and is reported ("timed out after 3 s").
        client = StatusClient(
            args.url, components=tuple(args.components or DEFAULT_COMPONENTS), total_timeout=args.timeout
        )
    except StatusConfigError as exc:
        print(f"hiccup status: {exc}", file=err)
        return EXIT_UNKNOWN
    summary = asyncio.run(client.fetch())
    now = datetime.now(UTC)
    if args.format == "json":
        print(json.dumps(summary.to_json(now), ensure_ascii=False), file=out)
    else:
        print("\n".join(text_lines(summary, now)), file=out)
    return exit_code(summary)
