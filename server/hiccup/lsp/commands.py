"""`workspace/executeCommand` handlers (docs/protocol.md). Arguments are attrs classes: pygls converts them and
answers malformed ones with InvalidParams before a handler runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcMethodNotFound

from hiccup import advice
from hiccup.incidents import Incident
from hiccup.lsp import render
from hiccup.lsp.protocol import RESTART_CLAUDE_CODE
from hiccup.lsp.run_sessions import offer_restart
from hiccup.lsp.server import HiccupServer

ACTION_RESTART = "Restart Claude Code"
ACTION_STATUS = "Open status page"
ACTION_DISMISS = "Dismiss"


@attrs.define
class IncidentArg:
    incident_id: str


@attrs.define
class RemindArg:
    incident_id: str
    minutes: float | None = None


@attrs.define
class CategoryArg:
    category: str


def _incident(ls: HiccupServer, incident_id: str) -> Incident:
    incident = ls.incidents.get(incident_id)
    if incident is None:
        raise JsonRpcInvalidParams(f"unknown incident {incident_id!r} (its document may have been closed)")
    return incident


async def open_url(ls: HiccupServer, url: str) -> dict[str, Any]:
    """window/showDocument (external) where supported; otherwise the URL in a message the user can click."""
    window = ls.client_capabilities.window
    if window and window.show_document and window.show_document.support:
        result = await ls.window_show_document_async(types.ShowDocumentParams(uri=url, external=True))
        return {"url": url, "shown": bool(result and result.success)}
    ls.notify_user(f"Open {url}")
    return {"url": url, "shown": False}


async def open_status_page(ls: HiccupServer) -> dict[str, Any]:
    """hiccup.openStatusPage: the configured status page."""
    return await open_url(ls, ls.settings.status_page.url)


async def check_status_now(ls: HiccupServer) -> dict[str, Any]:
    """hiccup.checkStatusNow: fetch the status page now, say what it reports, return the summary."""
    if ls.status_monitor is None:  # the monitor starts on `initialized`
        ls.notify_user("Hiccup: status checks start once the editor has finished initializing the server.")
        return {"enabled": False}
    return await ls.status_monitor.check_now()


def remind_restart(ls: HiccupServer, arg: RemindArg) -> dict[str, Any]:
    """hiccup.remindRestart: a server-side timer; cancelled by itself when the incident recovers."""
    incident = _incident(ls, arg.incident_id)
    minutes = arg.minutes if arg.minutes is not None else ls.settings.reminder_minutes
    if not 0 < minutes <= 24 * 60:
        raise JsonRpcInvalidParams("minutes must be between 0 and 1440")
    due = ls.clock.now() + timedelta(minutes=minutes)
    ls.reminders.arm(incident.id, due)
    ls.tick()
    ls.log("info", f"reminder for {incident.id} at {due.isoformat()}")
    return {"incidentId": incident.id, "due": due.isoformat()}


async def restart_claude_code(ls: HiccupServer, arg: IncidentArg) -> dict[str, Any]:
    """hiccup.restartClaudeCode: the client restarts the session if it can, else the manual steps."""
    return await request_restart(ls, _incident(ls, arg.incident_id))


async def request_restart(ls: HiccupServer, incident: Incident) -> dict[str, Any]:
    if ls.client_features.restart_claude_code:
        elapsed = advice.duration(incident.elapsed(ls.clock.now()))
        reason = f"{incident.category.id} {incident.state.value} for {elapsed}"
        try:
            result = await ls.protocol.send_request_async(
                RESTART_CLAUDE_CODE, {"incidentId": incident.id, "reason": reason})
        except JsonRpcMethodNotFound:
            result = None
        except JsonRpcException as exc:
            ls.log("warning", f"{RESTART_CLAUDE_CODE} failed: {exc}")
            result = None
        outcome = getattr(result, "outcome", None)
        if outcome == "restarted":
            ls.incidents.record_restart(incident.id, ls.clock.now())
            ls.tick(republish=True)
        if outcome == "not_found" and (ran := await offer_restart(ls, incident)) is not None:
            return ran  # no Claude Code terminal in the editor, but one runs under `hiccup run`
        if outcome in ("not_found", "failed"):  # no Claude Code terminal it could drive: the user can
            ls.notify_user(advice.manual_restart_text(incident))
        if outcome is not None:
            return {"outcome": outcome, "detail": getattr(result, "detail", None)}
    if (ran := await offer_restart(ls, incident)) is not None:
        return ran
    ls.notify_user(advice.manual_restart_text(incident))
    return {"outcome": "manual", "detail": advice.RESTART_STEPS}


async def open_community_reports(ls: HiccupServer) -> dict[str, Any]:
    """hiccup.openCommunityReports: are others seeing it too?"""
    return await open_url(ls, ls.catalog.community_url)


async def open_docs(ls: HiccupServer, arg: CategoryArg) -> dict[str, Any]:
    """hiccup.openDocs: the category's documentation page."""
    if arg.category not in ls.catalog.categories:
        raise JsonRpcInvalidParams(f"unknown category {arg.category!r}")
    return await open_url(ls, ls.catalog.get(arg.category).docs_url or ls.catalog.docs_url)


def relogin(ls: HiccupServer, arg: IncidentArg) -> dict[str, Any]:
    """hiccup.relogin: explain `/login` (the server cannot type into Claude Code)."""
    _incident(ls, arg.incident_id)
    ls.notify_user(advice.RELOGIN_STEPS)
    return {"text": advice.RELOGIN_STEPS}


def copy_error_report(ls: HiccupServer, arg: IncidentArg) -> dict[str, Any]:
    """hiccup.copyErrorReport: redacted report text, returned (for the clipboard) and shown."""
    incident = _incident(ls, arg.incident_id)
    extra = {"server": f"hiccup-lsp {ls.version}"}
    if ls.editor:
        extra["editor"] = ls.editor
    text = advice.error_report(incident, ls.clock.now(), extra=extra)
    ls.notify_user(text)
    return {"text": text}


def ignore_category(ls: HiccupServer, arg: CategoryArg) -> dict[str, Any]:
    """hiccup.ignoreCategory: hide a category in this workspace (the client may persist it in settings)."""
    if arg.category not in ls.catalog.categories:
        raise JsonRpcInvalidParams(f"unknown category {arg.category!r}")
    ls.session_ignored.add(arg.category)
    ls.republish()
    ls.notify_user(f"Hiccup: ignoring '{ls.catalog.get(arg.category).title}' in this workspace "
                   "(setting hiccup.ignoredCategories keeps it across sessions).")
    return {"ignoredCategories": sorted(ls.ignored)}


async def run_reminder(ls: HiccupServer, incident: Incident) -> None:
    """The reminder fired and the incident is still open: ask, then act on the answer."""
    answer = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
        type=types.MessageType.Warning,
        message=advice.reminder_prompt(incident, ls.clock.now()),
        actions=[types.MessageActionItem(ACTION_RESTART), types.MessageActionItem(ACTION_STATUS),
                 types.MessageActionItem(ACTION_DISMISS)],
    ))
    title = answer.title if answer is not None else None
    if title == ACTION_RESTART:
        await request_restart(ls, incident)
    elif title == ACTION_STATUS:
        await open_status_page(ls)


def register(server: HiccupServer) -> None:
    for name, handler in (
        (render.CMD_OPEN_STATUS_PAGE, open_status_page),
        (render.CMD_CHECK_STATUS_NOW, check_status_now),
        (render.CMD_REMIND_RESTART, remind_restart),
        (render.CMD_RESTART_CLAUDE_CODE, restart_claude_code),
        (render.CMD_OPEN_COMMUNITY, open_community_reports),
        (render.CMD_OPEN_DOCS, open_docs),
        (render.CMD_RELOGIN, relogin),
        (render.CMD_COPY_ERROR_REPORT, copy_error_report),
        (render.CMD_IGNORE_CATEGORY, ignore_category),
    ):
        server.command(name)(handler)
