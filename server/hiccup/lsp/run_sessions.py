"""Restarting Claude Code in a `hiccup run` session, for editors that cannot restart it themselves.

VS Code's client restarts the Claude Code in one of its terminals (`hiccup/restartClaudeCode`). Neovim, Helix
and Emacs cannot, and VS Code may find no terminal of its own running Claude Code: Claude Code may still be
running under `hiccup run` somewhere, whose control socket restarts it with `--continue`
(`session_log.request_restart`). That happens only after the user said yes to a `window/showMessageRequest`,
and the socket only ever receives its one fixed request line: nothing read from a log reaches a command line.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from hiccup import advice, session_log

if TYPE_CHECKING:
    from hiccup.incidents import Incident
    from hiccup.lsp.server import HiccupServer

PROMPT = "Restart Claude Code in the `hiccup run` session?"
ACTION_RESTART = "Restart"
ACTION_NOT_NOW = "Not now"


def pick_session(source: str) -> Path | None:
    """The session whose own log the incident came from, else the most recently active one; None if none runs."""
    sessions = session_log.running_sessions()
    parsed = urlparse(source)
    if parsed.scheme == "file":
        own = unquote(parsed.path) + ".json"
        for sidecar in sessions:
            if str(sidecar) == own:
                return sidecar
    return sessions[0] if sessions else None


async def offer_restart(ls: HiccupServer, incident: Incident) -> dict[str, Any] | None:
    """Ask, then restart through the session's control socket; None when no `hiccup run` session is running."""
    sidecar = await asyncio.to_thread(pick_session, incident.source)
    if sidecar is None:
        return None
    session = sidecar.name.removesuffix(".json")
    detail = f"hiccup run session {session}"
    try:
        answer = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=f"{PROMPT} {advice.label(incident.category)}, {incident.state.value} for "
                    f"{advice.duration(incident.elapsed(ls.clock.now()))} (session {session}); the conversation "
                    "continues (`claude --continue`).",
            actions=[types.MessageActionItem(ACTION_RESTART), types.MessageActionItem(ACTION_NOT_NOW)]))
    except JsonRpcException as exc:
        ls.log("warning", f"could not ask about restarting the `hiccup run` session: {exc}")
        return None
    if answer is None or answer.title != ACTION_RESTART:
        return {"outcome": "cancelled", "detail": detail}
    reply = await asyncio.to_thread(session_log.request_restart, sidecar)  # blocks while Claude Code stops
    if reply == "restarted":
        ls.incidents.record_restart(incident.id, ls.clock.now())
        ls.tick(republish=True)
        ls.notify_user(f"Hiccup: Claude Code restarted in the `hiccup run` session {session}; "
                       "the conversation continues.")
        return {"outcome": "restarted", "detail": detail}
    if reply == "not_running":
        ls.notify_user(f"Hiccup: the `hiccup run` session {session} has ended. "
                       + advice.manual_restart_text(incident), types.MessageType.Warning)
        return {"outcome": "not_found", "detail": detail}
    ls.notify_user(f"Hiccup: could not restart Claude Code in the `hiccup run` session {session} "
                   f"({reply.removeprefix('error: ')}). " + advice.manual_restart_text(incident),
                   types.MessageType.Warning)
    return {"outcome": "failed", "detail": reply}
