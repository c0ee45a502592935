"""The part every fake server of the test suite shares: an HTTP server on 127.0.0.1 in a thread.

Subclasses (the package index, the container registry, the GitHub API) give the request
handler; this class starts it on a port the OS picks and stops it quickly, because tests
start dozens of servers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

__all__ = ["LoopbackHTTPServer", "RecordedRequest"]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    """Path with query string."""
    headers: dict[str, str]
    """Header names lower-cased."""


class LoopbackHTTPServer:
    """Start with :meth:`start` or as a context manager; :meth:`stop` refuses later connections."""

    thread_name = "loopback-http"

    def __init__(self) -> None:
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._port = self._httpd.server_address[1]
        # A short poll keeps stop() (and so every test teardown) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT`` of the running server."""
        assert self._httpd is not None, "server not started"
        return f"127.0.0.1:{self._port}"
