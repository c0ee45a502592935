"""A loopback HTTP server that answers from a script: statuses, headers, and bodies sent at
once or a byte at a time (how a trickling proxy or index looks to a client). Used by the tests
of the HTTP layer and of every client that goes through it."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

from tests.support.loopback import LoopbackHTTPServer

__all__ = ["ScriptedServer"]


class ScriptedServer(LoopbackHTTPServer):
    """Answers each GET with the next scripted step; the last step repeats.

    A step is ``(status, headers, body, seconds_between_bytes)``: a positive pause sends the
    body one byte at a time, which is how a trickling proxy looks to a client.
    """

    thread_name = "scripted-http"

    def __init__(self, *steps: tuple[int, dict[str, str], bytes, float]) -> None:
        super().__init__()
        self.steps = list(steps)
        self.hits = 0
        self._lock = threading.Lock()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with server._lock:
                    step = server.steps[min(server.hits, len(server.steps) - 1)]
                    server.hits += 1
                status, headers, body, pause = step
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    if pause <= 0:
                        self.wfile.write(body)
                        return
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(pause)
                except OSError:
                    pass  # the client gave up: that is the point of the test

        return Handler

    @property
    def url(self) -> str:
        return f"http://{self.address}/page"
