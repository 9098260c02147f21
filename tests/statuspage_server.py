"""A real HTTP server on 127.0.0.1 that plays a Statuspage v2 status page for tests.

Why a real server rather than an httpx mock transport: the behaviours that matter (timeouts, a body trickling
in, a 50 MB body cut off mid-stream, redirects, cookies, the headers actually put on the wire) live in the
socket and HTTP layers, and only a real server exercises them.

    with StatusPageServer() as page:
        url = page.serve("/ok", json_body(load_payload("operational.json"), etag='"v1"'))
        ...                                  # point the client at `url`
        assert page.count("/ok") == 1
        assert page.requests("/ok")[0].headers["user-agent"].startswith("hiccup/")

`serve(prefix, behaviour)` answers `<prefix>/api/v2/summary.json` and returns the page's base URL;
`route(path, behaviour)` answers any exact path. Unrouted paths get 404. A behaviour is a callable taking an
`Exchange`; the factories below (`json_body`, `respond`, `redirect`, `delay`, `drip`, `huge`, `sequence`)
cover the usual ones.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

SUMMARY_PATH = "/api/v2/summary.json"
DATA_DIR = Path(__file__).parent / "data" / "status"
MB = 1024 * 1024


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. Header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


class Exchange:
    """What a behaviour gets: the request, and ways to answer it that count the bytes actually sent."""

    def __init__(self, handler: _Handler, request: RecordedRequest, server: StatusPageServer) -> None:
        self._handler = handler
        self.request = request
        self.server = server
        self.bytes_sent = 0

    @property
    def stopping(self) -> threading.Event:
        """Set when the server stops: slow behaviours wait on it instead of sleeping blindly."""
        return self.server._stopping

    def send_head(self, status: int, headers: dict[str, str] | None = None) -> None:
        self._handler.send_response(status)
        for name, value in (headers or {}).items():
            self._handler.send_header(name, value)
        self._handler.send_header("Connection", "close")
        self._handler.end_headers()

    def write(self, data: bytes) -> bool:
        """Write body bytes; False once the client has gone away."""
        try:
            self._handler.wfile.write(data)
            self._handler.wfile.flush()
        except OSError:
            return False
        self.bytes_sent += len(data)
        self.server._count_sent(self.request.path, len(data))
        return True

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_head(status, {"Content-Length": str(len(body)), **(headers or {})})
        if body:
            self.write(body)


Behaviour = Callable[[Exchange], None]


def load_payload(name: str) -> bytes:
    """A recorded summary.json (or other fixture) from tests/data/status/."""
    return (DATA_DIR / name).read_bytes()


def json_body(
    payload: object | bytes,
    *,
    status: int = 200,
    etag: str | None = None,
    last_modified: str | None = None,
    headers: dict[str, str] | None = None,
) -> Behaviour:
    """Serve JSON (bytes are sent as they are). With `etag`/`last_modified`, honour If-None-Match and
    If-Modified-Since with a bodiless 304, as Statuspage's CDN does."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()

    def behaviour(ex: Exchange) -> None:
        validators = {}
        if etag is not None:
            validators["ETag"] = etag
        if last_modified is not None:
            validators["Last-Modified"] = last_modified
        sent = ex.request.headers
        if (etag is not None and sent.get("if-none-match") == etag) or (
            etag is None and last_modified is not None and sent.get("if-modified-since") == last_modified
        ):
            ex.send_head(304, validators)
            return
        ex.send(status, body, {"Content-Type": "application/json; charset=utf-8", **validators, **(headers or {})})

    return behaviour


def respond(
    status: int, body: bytes = b"", content_type: str = "text/plain; charset=utf-8", **headers: str
) -> Behaviour:
    """A fixed answer: `respond(500, b"oops")`, `respond(200, html, "text/html")`."""

    def behaviour(ex: Exchange) -> None:
        ex.send(
            status,
            body,
            {"Content-Type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}},
        )

    return behaviour


def redirect(location: str, status: int = 302) -> Behaviour:
    return respond(status, b"", Location=location)


def delay(seconds: float, then: Behaviour) -> Behaviour:
    """Say nothing for `seconds` (the status line included), then behave as `then`."""

    def behaviour(ex: Exchange) -> None:
        if not ex.stopping.wait(seconds):
            then(ex)

    return behaviour


def drip(interval: float = 0.05, chunk: bytes = b" ", declared: int = 1 * MB) -> Behaviour:
    """Headers at once, then `chunk` every `interval` seconds until the client leaves or the server stops:
    each read is quick, so only a total deadline ends it."""

    def behaviour(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Type": "application/json", "Content-Length": str(declared)})
        while not ex.stopping.wait(interval):
            if not ex.write(chunk):
                return

    return behaviour


def huge(size: int = 50 * MB, chunk_size: int = 64 * 1024, declare_length: bool = False) -> Behaviour:
    """A `size`-byte JSON-ish body in chunks, stopping when the client hangs up. Without `declare_length` the
    body is close-delimited, so the client cannot refuse it from the headers and must count while reading."""

    def behaviour(ex: Exchange) -> None:
        headers = {"Content-Type": "application/json"}
        if declare_length:
            headers["Content-Length"] = str(size)
        ex.send_head(200, headers)
        piece = b" " * chunk_size
        remaining = size
        while remaining > 0 and not ex.stopping.is_set():
            if not ex.write(piece[: min(chunk_size, remaining)]):
                return
            remaining -= chunk_size

    return behaviour


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The n-th request gets the n-th behaviour; the last one repeats."""
    lock = threading.Lock()
    calls = [0]

    def behaviour(ex: Exchange) -> None:
        with lock:
            index = min(calls[0], len(behaviours) - 1)
            calls[0] += 1
        behaviours[index](ex)

    return behaviour


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that stops reading cannot pin a thread forever

    def do_GET(self) -> None:
        self.server.owner._handle(self)

    def do_HEAD(self) -> None:
        self.server.owner._handle(self)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest shows failures, not access logs."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: StatusPageServer


class StatusPageServer:
    """A threaded HTTP server on 127.0.0.1 (random port) with per-path behaviours and a request log."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._routes: dict[str, Behaviour] = {}
        self._log: list[RecordedRequest] = []
        self._sent: dict[str, int] = {}
        self._answered: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> StatusPageServer:
        httpd = _Server((self._host, 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StatusPageServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def url(self, path: str = "") -> str:
        return self.base_url + path

    def route(self, path: str, behaviour: Behaviour) -> str:
        """Answer GETs of exactly `path` (query ignored) with `behaviour`; returns the full URL."""
        with self._lock:
            self._routes[path] = behaviour
        return self.url(path)

    def serve(self, prefix: str, behaviour: Behaviour) -> str:
        """Answer `<prefix>/api/v2/summary.json`; returns the status page base URL to configure."""
        self.route(prefix.rstrip("/") + SUMMARY_PATH, behaviour)
        return self.url(prefix.rstrip("/"))

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        """Requests so far, oldest first; `path` may be a summary prefix ("/ok") or a full path."""
        with self._lock:
            return [r for r in self._log if path is None or r.path in (path, path.rstrip("/") + SUMMARY_PATH)]

    def count(self, path: str | None = None) -> int:
        return len(self.requests(path))

    def bytes_sent(self, path: str | None = None) -> int:
        """Body bytes written so far, counted as they go out (to `path`, or in all)."""
        with self._lock:
            if path is None:
                return sum(self._sent.values())
            return self._sent.get(path, 0) + self._sent.get(path.rstrip("/") + SUMMARY_PATH, 0)

    def answered(self, path: str | None = None) -> int:
        """How many requests (to `path`) the server has finished answering, hang-ups included."""
        with self._lock:
            return sum(1 for p in self._answered if path is None or p in (path, path.rstrip("/") + SUMMARY_PATH))

    async def wait_for(self, n: int, path: str | None = None, *, answered: bool = False, timeout: float = 5.0) -> None:
        """Wait, without blocking the event loop, until `n` requests (to `path`) arrived, or with `answered`
        until the server has finished answering them; TimeoutError otherwise."""

        def progress() -> int:
            return self.answered(path) if answered else self.count(path)

        async def reached() -> None:
            while progress() < n:
                await asyncio.sleep(0.01)

        try:
            await asyncio.wait_for(reached(), timeout)
        except TimeoutError:
            raise TimeoutError(f"expected {n} requests to {path or 'any path'}, got {progress()}") from None

    def _handle(self, handler: _Handler) -> None:
        path = urlsplit(handler.path).path
        request = RecordedRequest(
            method=handler.command,
            path=path,
            headers={name.lower(): value for name, value in handler.headers.items()},
            at=time.monotonic(),
        )
        with self._lock:
            self._log.append(request)
            behaviour = self._routes.get(path)
        exchange = Exchange(handler, request, self)
        try:
            if behaviour is None:
                exchange.send(404, b"Not Found", {"Content-Type": "text/plain"})
            else:
                behaviour(exchange)
        finally:
            with self._lock:
                self._answered.append(path)

    def _count_sent(self, path: str, n: int) -> None:
        with self._lock:
            self._sent[path] = self._sent.get(path, 0) + n
