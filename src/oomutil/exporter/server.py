"""``/metrics`` and a small ``/`` page, bounded whatever the clients do.

- One collection at a time (single flight): a scrape that arrives while one runs waits for
  it and is answered with its result.  A collection whose client went away still finishes
  and serves those waiting; a request whose client is already gone starts none.
- At most ``max_requests`` requests are served at once, each in a thread; one more is
  answered 503 from the accepting thread, at once, so threads stay at ``max_requests``
  plus the main thread and the kernel-log follower's.
- A client that goes away is counted (oomutil_http_clients_gone_total), never a traceback.

A scrape costs about as much as ``ps`` over every process (docs/metrics.md): node_exporter
bounds its requests the same way (--web.max-requests), so a slow scrape never piles up.
"""

from __future__ import annotations

import select
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional, Tuple

    from prometheus_client import CollectorRegistry

    from .collector import ScrapeState

PAGE = b"""<!doctype html>
<html><head><title>oomutil exporter</title></head>
<body><h1>oomutil exporter</h1>
<p>What the Linux OOM killer would do, and what it did: <a href="/metrics">/metrics</a>.</p>
<p>The families are described in oomutil's docs/metrics.md.</p>
</body></html>
"""
# An idle or slow client may hold a request's thread this long, reading or writing.
CLIENT_TIMEOUT = 30.0
# The answer to one request too many is written from the accepting thread: never for long.
REFUSAL_TIMEOUT = 1.0
TEXT = "text/plain; charset=utf-8"


class SingleFlight:
    """``get()`` runs ``produce`` unless a run is under way, in which case it waits for that
    run and returns its result (or raises its error): one collection at a time, shared."""

    def __init__(self, produce: Callable[[], bytes]) -> None:
        self._produce = produce
        self._done = threading.Condition()
        self._running = False
        self._runs = 0  # runs finished
        self._result: Tuple[Optional[bytes], Optional[BaseException]] = (None, None)

    def get(self, abandoned: Callable[[], bool] = lambda: False) -> Optional[bytes]:
        """The result; None when ``abandoned()`` turned true while waiting for another's run
        (its client gave up: the request's thread is free at once, the run goes on)."""
        with self._done:
            if self._running:
                waiting_for = self._runs + 1
                while self._runs < waiting_for:
                    if not self._done.wait(0.1) and abandoned():
                        return None
                body, error = self._result
                if error is not None:
                    raise error
                return body
            self._running = True
        body, error = None, None
        try:
            body = self._produce()
            return body
        except BaseException as err:
            error = err
            raise
        finally:
            with self._done:
                self._result = (body, error)
                self._running = False
                self._runs += 1
                self._done.notify_all()


def gone(sock: socket.socket) -> bool:
    """The client has closed its end (it gave up waiting): an orderly end of its stream is
    readable now, with nothing before it."""
    try:
        poller = select.poll()  # not select(): it fails on an fd above 1023
        poller.register(sock, select.POLLIN)
        if not poller.poll(0):
            return False
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except OSError:
        return True


def make_server(registry: CollectorRegistry, host: str, port: int, *, max_requests: int = 10,
                state: Optional[ScrapeState] = None) -> ThreadingHTTPServer:
    scrapes = SingleFlight(lambda: generate_latest(registry))

    class Handler(BaseHTTPRequestHandler):
        timeout = CLIENT_TIMEOUT

        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                timeout = self.headers.get("X-Prometheus-Scrape-Timeout-Seconds")
                if state is not None and timeout is not None:
                    try:
                        state.timeout_seconds = float(timeout)
                    except ValueError:
                        pass
                if gone(self.connection):  # nobody waits for it: no work started
                    body = None
                else:
                    try:
                        body = scrapes.get(lambda: gone(self.connection))
                    except Exception as err:  # noqa: BLE001 -- a bug: one line to the client, none lost here
                        self._send(500, TEXT, f"the collection failed: {type(err).__name__}: {err}\n".encode())
                        return
                if body is None:  # the client gave up before its answer
                    _count_gone()
                    self.close_connection = True
                    return
                self._send(200, CONTENT_TYPE_LATEST, body)
            elif path == "/":
                self._send(200, "text/html; charset=utf-8", PAGE)
            else:
                self._send(404, TEXT, b"not found: try /metrics\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 -- quiet: no line per scrape
            pass

    class Refusal(Handler):
        def do_GET(self) -> None:  # noqa: N802
            self._send(503, TEXT, f"busy: {max_requests} requests are being served (--max-requests)\n".encode())

    def _count_gone() -> None:
        if state is not None:
            state.clients_gone += 1

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET  # [::1]:9788
        daemon_threads = True
        request_queue_size = 64

        def __init__(self, *args) -> None:
            self.active = 0
            self.lock = threading.Lock()
            super().__init__(*args)

        def process_request(self, request, client_address) -> None:
            with self.lock:
                full = self.active >= max_requests
                if not full:
                    self.active += 1
            if not full:
                try:
                    super().process_request(request, client_address)  # a thread of its own
                except BaseException:
                    with self.lock:
                        self.active -= 1
                    raise
                return
            if state is not None:
                state.refused += 1
            request.settimeout(REFUSAL_TIMEOUT)
            try:
                Refusal(request, client_address, self)
            except OSError:
                _count_gone()
            finally:
                self.shutdown_request(request)

        def process_request_thread(self, request, client_address) -> None:
            try:
                super().process_request_thread(request, client_address)
            finally:
                with self.lock:
                    self.active -= 1

        def handle_error(self, request, client_address) -> None:
            """A client that went away mid-answer is counted; anything else is one line."""
            error = sys.exc_info()[1]
            if isinstance(error, (ConnectionError, socket.timeout)):
                _count_gone()
                return
            print(f"oomutil serve: a request from {client_address[0]} failed: {type(error).__name__}: {error}",
                  file=sys.stderr)

    return Server((host, port), Handler)
