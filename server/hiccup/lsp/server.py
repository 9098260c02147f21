"""The Hiccup language server: state on `HiccupServer`, handlers in `features.py` and `commands.py`.

Run with `hiccup serve` (stdio) or `hiccup serve --tcp 127.0.0.1:2087` to attach a client by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound
from pygls.lsp.server import LanguageServer

from hiccup import __version__, lifeline
from hiccup.catalog import Catalog, builtin_catalog, load_catalog
from hiccup.classifier import Classifier, default_classifier
from hiccup.clock import TEST_CLOCK_ENV, Clock, ManualClock, clock_from_env
from hiccup.documents import Delta, Document, TerminalTranscript, is_candidate
from hiccup.followed import FollowedSource
from hiccup.incidents import (
    UNKNOWN_STATUS,
    Incident,
    IncidentStore,
    Reminders,
    State,
    StatusFacts,
    Thresholds,
)
from hiccup.lsp import render
from hiccup.lsp.protocol import STATUS, HiccupProtocol
from hiccup.lsp.publisher import Publisher
from hiccup.settings import Settings, parse_settings
from hiccup.terminal_store import TerminalStore, terminals_dir

if TYPE_CHECKING:
    from hiccup.lsp.watching import Watching

log = logging.getLogger("hiccup.lsp")

TICK_SECONDS = 15.0
_LOG_LEVELS = {"error": 1, "warning": 2, "info": 3, "debug": 4}


class StatusMonitor(Protocol):
    """The status page glue, set on `initialized` (`hiccup.lsp.status_wiring.StatusWiring`)."""

    def configure(self) -> None:
        """`settings.status_page` may have changed: rebuild the monitor or switch its requests on or off."""
        ...

    def tick(self) -> None:
        """The incidents were re-evaluated: poll only while a server-side one is open."""
        ...

    async def check_now(self) -> dict[str, Any]:
        """`hiccup.checkStatusNow`: check now, tell the user, return the summary."""
        ...


class ClientFeatures:
    """The optional protocol extensions a client declared in `initializationOptions.hiccup`."""

    def __init__(self, options: Any = None) -> None:
        hiccup = options.get("hiccup") if isinstance(options, dict) else None
        hiccup = hiccup if isinstance(hiccup, dict) else {}
        self.restart_claude_code = hiccup.get("restartClaudeCode") is True
        self.terminal_bridge = hiccup.get("terminalBridge") is True
        self.status_bar = hiccup.get("statusBar") is True


class HiccupServer(LanguageServer):
    """Holds all state: documents, terminal transcripts, incidents, reminders, settings, status facts."""

    def __init__(self, clock: Clock | None = None, catalog: Catalog | None = None,
                 classifier: Classifier | None = None) -> None:
        super().__init__("hiccup", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=HiccupProtocol)
        self.clock: Clock = clock or clock_from_env()
        self.catalog = catalog or builtin_catalog()
        self.classifier = classifier or (default_classifier() if catalog is None else Classifier(catalog))
        self.settings = Settings()
        self.session_ignored: set[str] = set()  # "Ignore this category" until the client persists it
        self.documents: dict[str, Document | FollowedSource] = {}  # what we publish for, by URI
        self.terminals: dict[str, TerminalTranscript] = {}
        self.watched_uris: set[str] = set()  # files a watcher follows: closing their editor keeps diagnostics
        self.watching: Watching | None = None  # the follower's glue, started on `initialized`
        self.incidents = IncidentStore(self.catalog.get)
        self.reminders = Reminders()
        self.status: StatusFacts = UNKNOWN_STATUS
        self.status_monitor: StatusMonitor | None = None
        self.client_features = ClientFeatures()
        self.editor: str | None = None  # "Visual Studio Code 1.95", for error reports
        self.startup_packs: list[str] = []  # `hiccup serve --rule-pack FILE`
        self.terminal_store: TerminalStore | None = None  # set on `initialized` (restore_terminals)
        self._published: dict[str, list[types.Diagnostic]] = {}
        self._publisher = Publisher(self.publish)  # at once, coalescing only floods (see publisher.py)
        self._wake: asyncio.Event | None = None
        self._tick_at: datetime | None = None  # when the timer plans to wake (None: unknown, wake it on news)
        self._background: set[asyncio.Task[Any]] = set()

    # --- derived settings -------------------------------------------------------------------------------
    @property
    def thresholds(self) -> Thresholds:
        return Thresholds.from_settings(self.settings)

    @property
    def ignored(self) -> frozenset[str]:
        return self.settings.ignored_categories | self.session_ignored

    # --- logging: window/logMessage, never stdout, never a pop-up storm ---------------------------------
    def log(self, level: str, message: str) -> None:
        log.log(logging.getLevelName(level.upper()), message)
        if _LOG_LEVELS[level] <= _LOG_LEVELS.get(self.settings.log_level, 3):
            try:
                self.window_log_message(types.LogMessageParams(types.MessageType(_LOG_LEVELS[level]), message))
            except Exception:  # no transport yet (before initialize) or the client left
                log.debug("could not send log message", exc_info=True)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors in handlers are logged (window/logMessage), not shown as a pop-up per failure.

        A request the client got wrong (bad params, unknown method) already has its error response: debug only.
        """
        level = "debug" if isinstance(error, JsonRpcInvalidParams | JsonRpcMethodNotFound) else "error"
        self.log(level, f"{getattr(source, '__name__', source)}: {error!r}")

    def notify_user(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    # --- settings ---------------------------------------------------------------------------------------
    def apply_settings(self, raw: Any) -> None:
        """Parse once per change; bad values are named in one message each and keep their previous value."""
        settings, problems = parse_settings(raw, self.settings)
        for problem in problems:
            self.notify_user(problem.message(), types.MessageType.Warning)
            self.log("warning", problem.message())
        if settings != self.settings:
            packs_changed = self.rule_packs(settings) != self.rule_packs(self.settings)
            self.settings = settings
            self.log("info", "settings updated")
            if packs_changed:
                self.reload_catalog()
            if self.status_monitor is not None:
                self.status_monitor.configure()
            if self.watching is not None:
                self.watching.update_targets()
            self.tick(republish=True)

    def rule_packs(self, settings: Settings) -> list[str]:
        """`--rule-pack` files, then the workspace's packs unless the workspace is untrusted (they hold regexes
        and advice text that would be shown as if it were Hiccup's)."""
        packs = list(self.startup_packs)
        if settings.trusted_workspace:
            root = self._workspace_root()
            packs += [str(Path(root, p)) if root and not Path(p).expanduser().is_absolute() else p
                      for p in settings.rule_packs]
        return packs

    def _workspace_root(self) -> str | None:
        try:
            return self.workspace.root_path
        except RuntimeError:  # before `initialize` there is no workspace yet
            return None

    def reload_catalog(self) -> None:
        """New categories or patterns: classify every document again with a fresh incident store."""
        catalog, errors = load_catalog(self.rule_packs(self.settings))
        for error in errors:
            self.log("warning", f"rule pack not loaded: {error.message}")
            self.notify_user(f"Hiccup: rule pack not loaded: {error.message}", types.MessageType.Warning)
        self.catalog, self.classifier = catalog, Classifier(catalog)
        self.incidents, self.reminders = IncidentStore(catalog.get), Reminders()
        now = self.clock.now()
        for uri, doc in self.documents.items():
            if isinstance(doc, FollowedSource):
                continue  # no text kept: `watching.reload()` reads the files again
            doc.classifier = self.classifier
            self.ingest(uri, doc.replace_all(doc.text(), now))
        if self.watching is not None:
            self.watching.reload()

    # --- documents --------------------------------------------------------------------------------------
    def wants_document(self, uri: str, language_id: str | None) -> bool:
        return is_candidate(uri, language_id) or uri in self.watched_uris

    def add_source(self, doc: Document, delta: Delta | None = None) -> None:
        """Start publishing for a document that did not come from the editor (a watcher's file, a terminal)."""
        self.documents[doc.uri] = doc
        self.ingest(doc.uri, delta if delta is not None else Delta(added=doc.entries()))

    def ingest(self, uri: str, delta: Delta) -> None:
        """Feed one document change to the incident store, then re-evaluate and publish."""
        self.incidents.forget(h.key for h in delta.removed)
        for _, hit in delta.added:
            if hit.recovery is not None:
                self.incidents.recover(uri, hit.recovery)
            elif hit.finding is not None and not hit.redraw:
                self.incidents.observe(uri, hit.key, hit.finding, hit.observed_at)
        if delta:
            self.tick(source=uri)
        self._publisher.schedule(uri)  # even without new findings, lines may have moved

    def open_document(self, uri: str, text: str, version: int | None) -> None:
        if self.is_terminal_uri(uri):
            return  # the editor shows our own transcript: ours is authoritative
        if self.watching is not None and self.watching.open_followed(uri, text, version):
            return
        if uri in self.documents:
            self.incidents.drop_source(uri)
        doc = Document(uri, text, self.classifier, self.clock.now())
        doc.version = version
        self.add_source(doc)

    def close_document(self, uri: str) -> None:
        if self.watching is not None and self.watching.release(uri):
            return
        if uri in self.watched_uris or self.is_terminal_uri(uri):
            return
        self.documents.pop(uri, None)
        self.incidents.drop_source(uri)
        self._publisher.forget(uri)
        self._published.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def is_terminal_uri(self, uri: str) -> bool:
        return any(t.uri == uri for t in self.terminals.values())

    def terminal(self, terminal_id: str, name: str) -> TerminalTranscript:
        term = self.terminals.get(terminal_id)
        if term is None:
            term = TerminalTranscript(terminal_id, name, self.classifier, self.clock.now())
            if (store := self.terminal_store) is not None:
                term.sink = lambda text, at: store.append(terminal_id, name, text, at)
            self.terminals[terminal_id] = term
            self.documents[term.uri] = term.doc
        return term

    def restore_terminals(self) -> None:
        """Transcripts saved before a restart come back, with their incidents timed as first seen."""
        self.terminal_store = TerminalStore(terminals_dir(), self._workspace_root() or "")
        for saved in self.terminal_store.load():
            if saved.terminal_id in self.terminals:
                continue
            term = self.terminal(saved.terminal_id, saved.name)
            delta = Delta()
            for at, text in saved.segments:
                part = term.replay(text, at)
                delta.removed += part.removed
                delta.added += part.added
            self.ingest(term.uri, delta)
        if self.terminal_store.skipped_files:
            self.log("warning", f"{self.terminal_store.skipped_files} saved terminal transcript(s) skipped")

    def watch_parent(self, pid: int) -> None:
        """Exit when the editor's process is gone (`hiccup.lifeline`), even if our stdin stays open."""
        if lifeline.watch_parent(pid) is None:
            self.log("info", f"editor process {pid} is not visible from here: not watching it")

    # --- time -------------------------------------------------------------------------------------------
    def tick(self, republish: bool = False, source: str | None = None) -> None:
        """Re-evaluate every incident at `clock.now()`; publish what changed; fire due reminders.

        With `source`, new findings arrived there: only its incidents can have changed other than by time, which
        the timer handles. A followed log taking errors many times a second, next to a thousand transcripts,
        would otherwise re-evaluate and republish every open incident on every line read.
        """
        now = self.clock.now()
        changed = self.incidents.evaluate(now, self.status, self.thresholds, source)
        for incident in changed:
            if not incident.is_open and self.reminders.cancel(incident.id):
                self.log("info", f"reminder for {incident.id} cancelled: {incident.state.value}")
        sources = {i.source for i in changed}
        if source is None:
            # messages carry live minutes ("failing for 6 min", "resets in 42 min"): refresh open incidents too
            sources |= {i.source for i in self.incidents if i.is_open}
        for uri in (self.documents if republish else sources):
            if uri in self.documents:
                self._publisher.schedule(uri)
        for incident_id in self.reminders.pop_due(now):
            incident = self.incidents.get(incident_id)
            if incident is not None and incident.is_open:
                self.spawn(self.fire_reminder(incident))
        if self.status_monitor is not None:
            self.status_monitor.tick()
        if self._wake is not None and (source is None or self._sooner_than_timer(source, now)):
            self._wake.set()

    def _sooner_than_timer(self, source: str, now: datetime) -> bool:
        """Must the timer wake earlier than it planned, for this source's incidents?"""
        if self._tick_at is None:
            return True
        moment = self.incidents.next_change(now, self.thresholds, source)
        return moment is not None and moment < self._tick_at

    def seconds_to_next_tick(self) -> float:
        now = self.clock.now()
        moments = [m for m in (self.incidents.next_change(now, self.thresholds), self.reminders.next_due()) if m]
        if not moments or isinstance(self.clock, ManualClock):  # test time moves only by request
            self._tick_at = None if isinstance(self.clock, ManualClock) else now + timedelta(seconds=TICK_SECONDS)
            return TICK_SECONDS
        seconds = max(0.05, min(TICK_SECONDS, (min(moments) - now) / timedelta(seconds=1)))
        self._tick_at = now + timedelta(seconds=seconds)
        return seconds

    async def run_timer(self) -> None:
        """Real time passes without input: wake every 15 s, or exactly at the next threshold crossing."""
        self._wake = asyncio.Event()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.seconds_to_next_tick())
            except TimeoutError:
                self.tick()
            self._wake.clear()

    def spawn(self, coro: Any) -> None:
        """Run a coroutine in the background, keeping a reference and logging its failure."""
        task = asyncio.ensure_future(coro)
        self._background.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._background.discard(t)
            if not t.cancelled() and t.exception() is not None:
                self.report_server_error(t.exception(), type(t.exception()))  # type: ignore[arg-type]

        task.add_done_callback(done)

    async def fire_reminder(self, incident: Incident) -> None:
        from hiccup.lsp.commands import run_reminder

        await run_reminder(self, incident)

    # --- code actions -----------------------------------------------------------------------------------
    def code_actions(self, doc: Document, rng: types.Range,
                     context: types.CodeActionContext) -> list[types.CodeAction]:
        """Actions for the failures on the requested lines, each offered once however many lines repeat it."""
        ours = [d for d in context.diagnostics if d.source == render.SOURCE]
        actions: dict[tuple[str, str], types.CodeAction] = {}
        for line in range(rng.start.line, rng.end.line + 1):
            hit = doc.hit_at(line)
            incident = self.incidents.of_key(hit.key) if hit and hit.finding and not hit.redraw else None
            if incident is None or incident.category.id in self.ignored:
                continue
            specs = render.action_specs(
                incident, reminder_minutes=self.settings.reminder_minutes,
                restart_due=incident.state in (State.PERSISTING, State.ESCALATE),
                reminder_armed=self.reminders.is_armed(incident.id))
            related = [d for d in ours if d.range.start.line == line]
            for spec in specs:
                if context.only and not any(spec.kind == k or spec.kind.startswith(f"{k}.") for k in context.only):
                    continue
                actions.setdefault((spec.title, spec.command), render.code_action(spec, related))
        return list(actions.values())

    # --- publishing -------------------------------------------------------------------------------------
    def render_context(self) -> render.RenderContext:
        return render.RenderContext(self.clock.now(), self.status, self.thresholds, self.ignored,
                                    self.workspace.position_codec,
                                    render.DiagnosticSupport.of(self.client_capabilities))

    def publish(self, uri: str) -> None:
        doc = self.documents.get(uri)
        if doc is None:
            return
        diagnostics = render.diagnostics(doc, self.incidents, self.render_context())
        if self._published.get(uri) == diagnostics:
            return
        self._published[uri] = diagnostics
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=diagnostics))

    def republish(self, uris: Iterable[str] | None = None) -> None:
        for uri in self.documents if uris is None else uris:
            self._publisher.schedule(uri)

    # --- status page ------------------------------------------------------------------------------------
    def set_status(self, facts: StatusFacts) -> None:
        """The status monitor's entry point: new facts re-evaluate incidents (escalate vs. keep waiting)."""
        if facts != self.status:
            self.status = facts
            self.tick(republish=True)

    def send_status(self, payload: dict[str, Any]) -> None:
        """`hiccup/status` for clients with a status item (docs/protocol.md)."""
        self.protocol.notify(STATUS, payload)


def build_server(clock: Clock | None = None, *, test_hooks: bool | None = None) -> HiccupServer:
    """A server with all handlers registered (they import this module, hence the late import)."""
    from hiccup.lsp import commands, features

    server = HiccupServer(clock)
    features.register(server)
    commands.register(server)
    if test_hooks if test_hooks is not None else os.environ.get(TEST_CLOCK_ENV) == "1":
        features.register_test_hooks(server)
    return server


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (debugging)")
    parser.add_argument("--rule-pack", action="append", default=[], metavar="FILE",
                        help="extra rule pack (JSON, schemas/catalog.schema.json); repeatable")


def serve(args: argparse.Namespace) -> int:
    """Entry point of `hiccup serve`: stdio by default; logs go to stderr, stdout carries only the protocol."""
    # stderr carries warnings only: editors show a server's stderr as errors; the rest goes to window/logMessage
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(asctime)s hiccup %(levelname)s %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)  # pygls logs every message at INFO
    server = build_server()
    server.startup_packs = list(getattr(args, "rule_pack", None) or [])
    if server.startup_packs:
        server.reload_catalog()
    # What is loaded by now (lsprotocol's ~600 classes, cattrs' generated code, the catalog) lives as long as the
    # process: keep it out of the collector's full passes, which otherwise stalled a publish for ~85 ms.
    gc.freeze()
    tcp = getattr(args, "tcp", None)
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io(lifeline.ExitAfterEof(sys.stdin.buffer))  # type: ignore[arg-type]
    return 0


main = serve


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="hiccup serve")
    add_arguments(_parser)
    raise SystemExit(serve(_parser.parse_args()))
