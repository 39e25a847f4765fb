"""``/metrics`` and a small ``/`` page on a threading HTTP server (a thread per request:
scrapes may overlap, which the follower's lock and the stateless collector allow)."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

PAGE = b"""<!doctype html>
<html><head><title>oomutil exporter</title></head>
<body><h1>oomutil exporter</h1>
<p>What the Linux OOM killer would do, and what it did: <a href="/metrics">/metrics</a>.</p>
<p>The families are described in oomutil's docs/metrics.md.</p>
</body></html>
"""


def make_server(registry: CollectorRegistry, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
            elif path == "/":
                self._send(200, "text/html; charset=utf-8", PAGE)
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 -- quiet: no line per scrape
            pass

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET  # [::1]:9788

    server = Server((host, port), Handler)
    server.daemon_threads = True
    return server
