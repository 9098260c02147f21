"""The `hiccup` command: scan, explain, serve, watch, run and status.

Subcommands with heavy imports (the language server, httpx, watchfiles) are imported only when chosen,
so `hiccup scan` and the server's start-up stay quick.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from hiccup import __version__

# Subcommands implemented in their own modules: each has add_arguments(parser) and main(args) -> int.
_DELEGATED = {
    "serve": ("hiccup.lsp.server", "start the language server (stdio; --tcp HOST:PORT for debugging)"),
    "watch": ("hiccup.watch_cli", "follow logs and transcripts and print findings as they appear"),
    "run": ("hiccup.pty_run", "run Claude Code in a pseudo-terminal, recording its output for Hiccup"),
    "status": ("hiccup.status_cli", "print the Claude status page summary"),
}
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}
_BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".pdf", ".zip", ".gz", ".tar", ".so", ".o", ".a", ".pyc",
                    ".whl", ".vsix", ".woff", ".woff2", ".ico", ".bin", ".exe", ".dll", ".class", ".jar"}


class UsageError(Exception):
    """A user mistake: printed as one line, exit status 2, no traceback."""


def _chosen_subcommand(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hiccup",
        description="Recognise Claude Code backend failures (500, 529, 429, usage limits, auth, connection…) "
                    "and say what to do about them.",
    )
    parser.add_argument("--version", action="version", version=f"hiccup {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = sub.add_parser("scan", help="scan files, directories or stdin for Claude Code failures",
                          description="Scan files, directories (recursively, text files only) or stdin (-). "
                                      "Exit status: 0 nothing found, 1 something found, 2 usage or I/O error.")
    scan.add_argument("paths", nargs="+", metavar="PATH", help="file, directory, or - for stdin")
    scan.add_argument("--format", choices=("text", "json"), default="text")
    scan.add_argument("--rule-pack", action="append", default=[], metavar="FILE",
                      help="extra rule pack (JSON, schemas/catalog.schema.json); repeatable")

    explain = sub.add_parser("explain", help="classify a pasted error and print the full advice",
                             description="Classify TEXT (or stdin with -) and print the advice for its "
                                         "category. Exit status 0 when recognised, 1 when not.")
    explain.add_argument("text", nargs="*", metavar="TEXT", help="the error text, a category id, or -")
    explain.add_argument("--rule-pack", action="append", default=[], metavar="FILE")

    chosen = _chosen_subcommand(argv)
    for name, (module, help_text) in _DELEGATED.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            try:
                importlib.import_module(module).add_arguments(p)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
                p.set_defaults(_missing=module)
    return parser


def _load(packs: Sequence[str], err: TextIO):  # type: ignore[no-untyped-def]
    from hiccup.catalog import load_catalog
    from hiccup.classifier import Classifier

    catalog, errors = load_catalog(packs)
    for e in errors:
        print(f"hiccup: rule pack rejected: {e.message}", file=err)
    return catalog, Classifier(catalog), bool(errors)


def _iter_files(root: Path, err: TextIO) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: print(f"hiccup: {e}", file=err)):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if p.suffix.lower() not in _BINARY_SUFFIXES:
                yield p


def _is_text(path: Path) -> bool:
    with open(path, "rb") as fp:
        head = fp.read(8192)
    return b"\x00" not in head


def cmd_scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hiccup.report import format_json, format_text

    catalog, classifier, bad_pack = _load(args.rule_pack, err)
    fmt_line = format_json if args.format == "json" else format_text
    found = 0
    failed = bad_pack

    def emit(label: str, findings: Iterator) -> None:  # type: ignore[type-arg]
        nonlocal found
        for f in findings:
            found += 1
            out.write(fmt_line(label, f, catalog) + "\n")

    for raw in args.paths:
        if raw == "-":
            emit("<stdin>", classifier.scan_stream(sys.stdin.buffer, name="<stdin>"))
            continue
        path = Path(raw)
        try:
            if path.is_dir():
                for file in _iter_files(path, err):
                    try:
                        if _is_text(file):
                            emit(str(file), classifier.scan_file(file))
                    except BrokenPipeError:
                        raise
                    except OSError as exc:
                        print(f"hiccup: {file}: {exc.strerror or exc}", file=err)
                        failed = True
            elif path.exists():
                emit(str(path), classifier.scan_file(path))
            else:
                print(f"hiccup: {raw}: no such file or directory", file=err)
                failed = True
        except BrokenPipeError:
            raise
        except OSError as exc:
            print(f"hiccup: {raw}: {exc.strerror or exc}", file=err)
            failed = True
    out.flush()
    if failed:
        return 2
    return 1 if found else 0


def cmd_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hiccup.report import explain_text

    catalog, classifier, _ = _load(args.rule_pack, err)
    if args.text in ([], ["-"]):
        if args.text == [] and sys.stdin.isatty():
            raise UsageError("explain needs TEXT, a category id, or - to read stdin")
        text = sys.stdin.read()
    else:
        text = " ".join(args.text)
    if text.strip() in catalog.categories:
        out.write(explain_text(catalog.get(text.strip()), None, catalog) + "\n")
        return 0
    findings = classifier.scan_text(text)
    if not findings:
        out.write("No Claude Code backend failure recognised in that text.\n"
                  f"Known categories: {', '.join(catalog.categories)}\n")
        return 1
    seen: set[str] = set()
    blocks = []
    for f in findings:
        if f.category not in seen:
            seen.add(f.category)
            blocks.append(explain_text(catalog.get(f.category), f, catalog))
    out.write("\n\n".join(blocks) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            parser.print_help()
            return 2
        if getattr(args, "_missing", None):
            print(f"hiccup {args.command}: not available in this build ({args._missing} is missing)",
                  file=sys.stderr)
            return 2
        if args.command == "scan":
            return cmd_scan(args, sys.stdout, sys.stderr)
        if args.command == "explain":
            return cmd_explain(args, sys.stdout, sys.stderr)
        module = importlib.import_module(_DELEGATED[args.command][0])
        return int(module.main(args))
    except UsageError as exc:
        print(f"hiccup: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `hiccup scan big.log | head`: the reader left; that is not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
