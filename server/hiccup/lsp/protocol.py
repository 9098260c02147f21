"""Hiccup's JSON-RPC layer: typed custom messages (docs/protocol.md) and two deliberate departures from pygls.

1. Documents Hiccup classifies are kept in `hiccup.documents` (a line list with incremental re-classification),
   not in pygls' workspace: pygls re-joins and re-splits the whole text on each change, which a 50 MB growing
   log cannot afford. Other documents still go to the workspace as usual.
2. A request whose params cannot be decoded gets an `InvalidParams` error response. pygls only logs such a
   message, and the client would wait for an answer forever.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol, lsp_method

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


class HiccupProtocol(LanguageServerProtocol):
    _server: HiccupServer

    def get_message_type(self, method: str) -> type | None:
        return CUSTOM_MESSAGES.get(method) or super().get_message_type(method)

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                error = JsonRpcInvalidParams(f"Invalid params for {data['method']}: {exc.__cause__ or exc}")
                self._send_response(data["id"], error=error.to_response_error())
            raise

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
