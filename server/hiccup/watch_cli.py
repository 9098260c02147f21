"""`hiccup watch`: follow logs and transcripts and print each Claude Code failure the moment it is written.

The output is `hiccup scan`'s, one finding per line, flushed at once, so `hiccup watch | grep` and an
editor's "problem matcher" both work live. Ctrl-C and SIGTERM end it with status 0: stopping a
watcher is how it is meant to end, not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from hiccup.claude_paths import default_watch_targets
from hiccup.follow import Follower
from hiccup.tailer import TailLine

# With no PATH the targets are every Claude Code transcript of this folder and every debug log; a day
# of lookback shows what went wrong while nobody watched, not every failure of the last month.
DEFAULT_LOOKBACK_MAX_AGE_S = 24 * 3600
_FORMAT_SNIFF_BYTES = 65536


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="file, directory or glob to follow (default: this folder's Claude Code transcripts, "
        "Claude Code's debug logs and `hiccup run` session logs); need not exist yet",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--no-lookback",
        action="store_true",
        help="report only what is written from now on (default: also the last 1 MB of each file)",
    )
    parser.add_argument(
        "--poll",
        action="store_true",
        help="poll instead of using file-system events (network file systems, some containers)",
    )
    parser.add_argument(
        "--rule-pack",
        action="append",
        default=[],
        metavar="FILE",
        help="extra rule pack (JSON, schemas/catalog.schema.json); repeatable",
    )


class _Printer:
    """Classifies followed lines and prints findings; one instance per `hiccup watch` run."""

    def __init__(self, args: argparse.Namespace, out: TextIO, stop: Callable[[], None]) -> None:
        from hiccup.catalog import load_catalog
        from hiccup.classifier import Classifier, default_classifier
        from hiccup.report import format_json, format_text

        self.bad_pack = False
        if args.rule_pack:
            catalog, errors = load_catalog(args.rule_pack)
            for error in errors:
                print(f"hiccup: rule pack rejected: {error.message}", file=sys.stderr)
            self.bad_pack = bool(errors)
            self.catalog = catalog
            self.classifier = Classifier(catalog)
        else:
            self.classifier = default_classifier()
            self.catalog = self.classifier.catalog
        self.format_line = format_json if args.format == "json" else format_text
        self.out = out
        self.stop = stop
        self.found = 0
        self.cwd = Path.cwd()
        self._formats: dict[tuple[Path, int], str] = {}

    def on_lines(self, path: Path, lines: list[TailLine]) -> None:
        label = self._label(path)
        try:
            for line in lines:
                finding = self.classifier.classify_line(line.text, line.line_no, self._format(path, line))
                if finding is not None:
                    self.found += 1
                    self.out.write(self.format_line(label, finding, self.catalog) + "\n")
                    self.out.flush()
        except BrokenPipeError:
            # `hiccup watch | head -3`: the reader is gone; stop quietly.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.out.fileno())
            self.stop()

    def _format(self, path: Path, line: TailLine) -> str:
        """Detect jsonl/terminal/log once per file generation, from the file's first bytes."""
        key = (path, line.generation)
        fmt = self._formats.get(key)
        if fmt is None:
            try:
                with open(path, "rb") as fp:
                    head = fp.read(_FORMAT_SNIFF_BYTES)
            except OSError:
                head = line.text.encode()
            fmt = self._formats[key] = self.classifier.detect_format(head, path.name)
        return fmt

    def _label(self, path: Path) -> str:
        """Paths under the current directory print relative, like `hiccup scan .` does."""
        try:
            return str(path.relative_to(self.cwd))
        except ValueError:
            return str(path)


def _describe(follower: Follower) -> str:
    files = len(follower.watched_files())
    dirs = len(follower.watched_dirs())
    noun = "file" if files == 1 else "files"
    where = "directory" if dirs == 1 else "directories"
    return f"hiccup watch: following {files} {noun} in {dirs} {where}; Ctrl-C to stop"


async def _watch(args: argparse.Namespace, targets: Sequence[str], out: TextIO, err: TextIO) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    printer = _Printer(args, out, stop.set)
    follower = Follower(
        targets,
        on_lines=printer.on_lines,
        lookback=not args.no_lookback,
        lookback_max_age_s=None if args.paths else DEFAULT_LOOKBACK_MAX_AGE_S,
        poll_fallback=args.poll,
    )
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            # Windows event loops have no add_signal_handler: a plain handler that wakes the loop.
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    try:
        task = asyncio.create_task(follower.run(stop))
        ready = asyncio.create_task(follower.ready.wait())
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            print(_describe(follower), file=err, flush=True)
        else:
            ready.cancel()
        await task
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    return 2 if printer.bad_pack else 0


def _targets(args: argparse.Namespace, err: TextIO) -> list[str]:
    if args.paths:
        for raw in args.paths:
            if not os.path.lexists(os.path.expanduser(raw)) and not any(c in raw for c in "*?["):
                print(f"hiccup watch: {raw} does not exist yet; waiting for it", file=err)
        return list(args.paths)
    return default_watch_targets([Path.cwd()])


def main(args: argparse.Namespace) -> int:
    """Entry point from `hiccup watch`: follow until interrupted; 0 on Ctrl-C/SIGTERM."""
    err = sys.stderr
    # One readable line per skipped file ("hiccup: /x/core.log: skipped: binary file (…)"), from the
    # tailer's and follower's loggers, unless the embedding program configured logging itself.
    logger = logging.getLogger("hiccup")
    handler: logging.Handler | None = None
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(err)
        handler.setFormatter(logging.Formatter("hiccup: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)
    try:
        return asyncio.run(_watch(args, _targets(args, err), sys.stdout, err))
    except KeyboardInterrupt:
        # Ctrl-C before the loop's own handler was installed.
        return 0
    finally:
        if handler is not None:
            logger.removeHandler(handler)
