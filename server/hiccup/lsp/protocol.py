"""Hiccup's JSON-RPC layer: typed custom messages (docs/protocol.md) and two deliberate departures from pygls.

1. Documents Hiccup classifies are kept in `hiccup.documents` (a line list with incremental re-classification),
   not in pygls' workspace: pygls re-joins and re-splits the whole text on each change, which a 50 MB growing
   log cannot afford. Other documents still go to the workspace as usual.
2. A message whose params cannot be decoded is skipped with one log line, and a request gets an `InvalidParams`
   error response. pygls logs such a message with two tracebacks, and the client would wait for an answer forever.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, LanguageServerProtocol, lsp_method

if TYPE_CHECKING:
    from hiccup.lsp.server import HiccupServer

TERMINAL_DATA = "hiccup/terminalData"
TERMINAL_CLOSED = "hiccup/terminalClosed"
TERMINAL_TRANSCRIPT = "hiccup/terminalTranscript"
STATUS = "hiccup/status"
RESTART_CLAUDE_CODE = "hiccup/restartClaudeCode"
TEST_ADVANCE_CLOCK = "hiccup/_test/advanceClock"


@attrs.define
class TerminalDataParams:
    terminal_id: str
    data: str
    name: str = "terminal"
    command_line: str | None = None


@attrs.define
class TerminalClosedParams:
    terminal_id: str


@attrs.define
class TerminalTranscriptParams:
    uri: str


@attrs.define
class AdvanceClockParams:
    seconds: float


@attrs.define
class _Notification:
    method: str
    jsonrpc: str


@attrs.define
class TerminalDataNotification(_Notification):
    params: TerminalDataParams


@attrs.define
class TerminalClosedNotification(_Notification):
    params: TerminalClosedParams


@attrs.define
class TerminalTranscriptRequest:
    id: int | str
    method: str
    jsonrpc: str
    params: TerminalTranscriptParams


@attrs.define
class AdvanceClockRequest:
    id: int | str
    method: str
    jsonrpc: str
    params: AdvanceClockParams


CUSTOM_MESSAGES: dict[str, type] = {
    TERMINAL_DATA: TerminalDataNotification,
    TERMINAL_CLOSED: TerminalClosedNotification,
    TERMINAL_TRANSCRIPT: TerminalTranscriptRequest,
    TEST_ADVANCE_CLOCK: AdvanceClockRequest,
}


SKIPPED = object()  # what a malformed message decodes to: handle_message drops it


def _first_line(exc: BaseException) -> str:
    """cattrs' "While structuring HoverRequest (1 sub-exception)" says little; the first leaf error says what."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}" if exc.args else "missing field"
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200] or type(exc).__name__


class HiccupProtocol(LanguageServerProtocol):
    _server: HiccupServer

    def get_message_type(self, method: str) -> type | None:
        return CUSTOM_MESSAGES.get(method) or super().get_message_type(method)

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Requests and notifications whose params do not decode are skipped with one log line (and requests
        answered with InvalidParams); pygls would log two tracebacks per message and leave requests unanswered."""
        method = data.get("method")
        if "jsonrpc" not in data or not isinstance(method, str) or "error" in data:
            return super().structure_message(data)  # responses and nested objects: pygls' way
        request = "id" in data
        try:
            return self._converter.structure(
                data, self.get_message_type(method) or (JsonRPCRequestMessage if request else JsonRPCNotification))
        except Exception as exc:
            reason = _first_line(exc)
            if request:
                error = JsonRpcInvalidParams(f"Invalid params for {method}: {reason}")
                self._send_response(data["id"], error=error.to_response_error())
            self._server.log("warning", f"malformed {method} {'request' if request else 'notification'} "
                                        f"skipped: {reason}")
            return SKIPPED

    def handle_message(self, message: Any) -> None:
        if message is SKIPPED:
            return
        if not hasattr(message, "jsonrpc"):  # `[1, 2]`, `null`: valid JSON, not a message
            self._server.log("warning", f"not a JSON-RPC message, skipped: {type(message).__name__}")
            return
        super().handle_message(message)

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        """A handler's InvalidParams ("unknown incident 'inc-9'") is the client's mistake: answer it and log one
        line, instead of pygls' traceback at error level."""
        exc = None if future.cancelled() else future.exception()
        if isinstance(exc, JsonRpcInvalidParams | JsonRpcMethodNotFound):
            self._request_futures.pop(msg_id, None)
            self._send_response(msg_id, error=exc.to_response_error())
            self._server.report_server_error(exc, type(exc))
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def _owns(self, uri: str) -> bool:
        return uri in self._server.documents

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Generator[Any, Any, None]:
        doc = params.text_document
        if not self._server.wants_document(doc.uri, doc.language_id):
            yield from super().lsp_text_document__did_open(params)
            return
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        if not self._owns(params.text_document.uri):
            yield from super().lsp_text_document__did_change(params)
            return
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Generator[Any, Any, None]:
        if not self._owns(params.text_document.uri):
            yield from super().lsp_text_document__did_close(params)
            return
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None
