"""Diagnostics on files the editor never opened: Claude Code's transcripts and debug logs, `hiccup run` session
logs and the `hiccup.watch` setting's files, followed from `initialized` on.

The glue between `hiccup.follow.Follower` and the server: each followed file is a `FollowedSource` (its hits,
never its text) registered in `server.documents` under the file's URI once it has something to show, so the
publisher, hover and code actions treat it like an open document. When the editor opens such a file, its
`Document` takes over the URI (the incidents keep their ids and count each line once); when the editor closes
it, the followed source takes the document's positions back and the diagnostics stay.
"""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from hiccup.claude_paths import default_watch_targets
from hiccup.documents import Document
from hiccup.followed import FollowedSource
from hiccup.lsp.render import unit_counter

if TYPE_CHECKING:
    from hiccup.follow import Follower
    from hiccup.lsp.server import HiccupServer
    from hiccup.tailer import TailLine

# Errors from while the editor was closed show (as old news when they are): the last day of each file's
# last 1 MB, not every failure of the last month.
LOOKBACK_MAX_AGE_S = 24 * 3600


def fs_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else None


class Watching:
    """One follower for the server's lifetime; its targets move with the settings and workspace folders."""

    def __init__(self, ls: HiccupServer) -> None:
        from hiccup.follow import Follower  # watchfiles: not needed for the `initialize` reply

        self.ls = ls
        self.sources: dict[str, FollowedSource] = {}  # by path, as the follower names files
        self.by_uri: dict[str, FollowedSource] = {}
        self.units = unit_counter(ls.workspace.position_encoding)
        self.targets = self.wanted_targets()
        self.follower: Follower = Follower(self.targets, on_lines=self.on_lines, on_problem=self.on_problem,
                                           on_gone=self.on_gone, lookback_max_age_s=LOOKBACK_MAX_AGE_S)
        self._stop: asyncio.Event | None = None
        self._restart = False

    # --- targets ---------------------------------------------------------------------------------------
    def folders(self) -> list[str]:
        workspace = self.ls.workspace
        folders = [p for f in workspace.folders.values() if (p := fs_path(f.uri))]
        if not folders and workspace.root_uri and (root := fs_path(workspace.root_uri)):
            folders = [root]
        return folders

    def wanted_targets(self) -> list[str]:
        """The folders' transcripts, the debug logs and `hiccup run` sessions as enabled, then `hiccup.watch`
        (`~` expanded; relative entries are relative to the first workspace folder)."""
        settings, folders = self.ls.settings, self.folders()
        targets = default_watch_targets(folders, transcripts=settings.transcripts.enabled,
                                        debug_logs=settings.debug_logs.enabled, sessions=True)
        for spec in settings.watch:
            path = os.path.expanduser(spec)
            if folders and not os.path.isabs(path):
                path = os.path.join(folders[0], path)
            if path not in targets:
                targets.append(path)
        return targets

    def update_targets(self) -> None:
        """Settings or workspace folders changed: follow what they now name (files still named keep their place)."""
        targets = self.wanted_targets()
        if targets != self.targets:
            self.targets = targets
            self.follower.set_paths(targets)

    # --- running ---------------------------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            self._stop = stop = asyncio.Event()
            task = asyncio.ensure_future(self.follower.run(stop))
            ready = asyncio.ensure_future(self.follower.ready.wait())
            try:
                done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
                if ready in done:
                    self._announce()
                else:
                    ready.cancel()
                await asyncio.wait({task})  # unlike `await task`, a cancellation here reaches `finally` at once
            finally:
                stop.set()  # the server is exiting: end the follower by its stop event and by cancelling it
                task.cancel()
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
            if not self._restart:
                return
            self._restart = False

    def _announce(self) -> None:
        # What the lookback built (sources, incidents) lives on, like what `serve` froze: keep it out of the
        # collector's full passes, whose pauses were the tail of the append-to-diagnostic latency.
        gc.collect()
        gc.freeze()
        files, dirs = len(self.follower.watched_files()), len(self.follower.watched_dirs())
        self.ls.log("info", f"following {files} file{'s' * (files != 1)} "
                            f"in {dirs} director{'ies' if dirs != 1 else 'y'}")

    def reload(self) -> None:
        """A new catalog (and a fresh incident store): read every file's lookback again with it."""
        for src in self.sources.values():
            src.classifier = self.ls.classifier
            src.reset()
        self._restart = True
        if self._stop is not None:
            self._stop.set()

    def stop(self) -> None:
        self._restart = False
        if self._stop is not None:
            self._stop.set()

    # --- the follower's callbacks (event loop thread) ---------------------------------------------------
    def on_lines(self, path: Path, lines: list[TailLine]) -> None:
        ls = self.ls
        src = self._source(str(path))
        shown = ls.documents.get(src.uri)
        in_editor = shown is not None and shown is not src  # its document is the truth while open
        delta, moved = src.feed(lines, ls.clock.now(), classify=not in_editor)
        if in_editor:
            ls.watched_uris.add(src.uri)
            return
        if shown is None and len(src):
            ls.documents[src.uri] = src
            ls.watched_uris.add(src.uri)
        if delta or moved:
            ls.ingest(src.uri, delta)

    def on_gone(self, path: Path, why: str) -> None:
        src = self.sources.get(str(path))
        if src is None:
            return
        ls = self.ls
        if why == "deleted":
            # Positions that no longer exist go; the incidents (hover, counts) stay for when it comes back.
            if src.gone() and ls.documents.get(src.uri) is src:
                ls.republish([src.uri])
            return
        del self.sources[src.path], self.by_uri[src.uri]
        ls.watched_uris.discard(src.uri)
        if ls.documents.get(src.uri) is src:
            ls.close_document(src.uri)

    def on_problem(self, path: Path, problem: str) -> None:
        self.ls.log("warning", f"not following {path}: {problem}")

    def _source(self, path: str) -> FollowedSource:
        src = self.sources.get(path)
        if src is None:
            uri = Path(path).as_uri()
            src = FollowedSource(uri, path, self.ls.classifier, units=self.units)
            self.sources[path] = self.by_uri[uri] = src
        return src

    # --- the editor opens and closes followed files -----------------------------------------------------
    def open_followed(self, uri: str, text: str, version: int | None) -> bool:
        """didOpen of a file shown from following: the document takes over, counting each line once."""
        ls = self.ls
        src = ls.documents.get(uri)
        if not isinstance(src, FollowedSource):
            return False
        now = ls.clock.now()
        doc = Document(uri, text, ls.classifier, now)
        doc.version = version
        for line, hit in doc.findings():
            seen = src.hit_at(line)
            if seen is not None and seen.finding is not None and hit.finding is not None and \
                    (seen.finding.category, seen.finding.excerpt) == (hit.finding.category, hit.finding.excerpt):
                hit.observed_at = seen.observed_at  # a line without a timestamp dates from when it was read
        current = [o.key for i in ls.incidents.for_source(uri) for o in i.occurrences if src.is_current(o.key)]
        # Observe the document's lines first, then forget their followed copies: each incident keeps its id
        # (and restarts, reminders) instead of being emptied and started again.
        ls.add_source(doc)
        ls.incidents.forget(current)
        ls.tick()
        return True

    def release(self, uri: str) -> bool:
        """didClose of a followed file: its diagnostics stay, computed from the text the document held."""
        ls = self.ls
        doc = ls.documents.get(uri)
        if not isinstance(doc, Document):
            return False
        src = self.by_uri.get(uri)
        if src is None:
            path = fs_path(uri)
            if path is None or Path(path) not in self.follower.watched_files():
                return False
            src = self._source(path)  # followed, but nothing new since the editor opened it
            src.generation = max(src.generation, 0)
        src.adopt(doc)
        ls.documents[uri] = src
        ls.watched_uris.add(uri)
        ls.republish([uri])
        return True


def start_watching(ls: HiccupServer) -> Watching:
    """On `initialized`: follow the default targets and `hiccup.watch`."""
    watching = Watching(ls)
    ls.watching = watching
    ls.spawn(watching.run())
    return watching
