"""The HTTP server the model and Telegram stand-ins share: a thread per connection, each tracked.

Keep-alive clients (the SDKs, the CLIs, httpx under PTB) hold a connection open between requests,
and a long poll holds one for its whole timeout; `close_connections` shuts them all down so a
stop returns at once instead of waiting for each client to give up.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TrackingServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its open client connections."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._loop: threading.Thread | None = None
        super().__init__(address, handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def serve_in_background(self, name: str) -> None:
        """Serve from a daemon thread.

        The short poll interval keeps `stop` fast (shutdown waits for a look).
        """
        self._loop = threading.Thread(
            target=self.serve_forever, args=(0.01,), name=name, daemon=True
        )
        self._loop.start()

    def stop(self) -> None:
        """Stop serving, shut all client connections down, close the socket, join the threads."""
        self.shutdown()
        self.close_connections()
        self.server_close()
        if self._loop is not None:
            self._loop.join()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut all client connections down, so keep-alive threads stop waiting for a request."""
        with self._open_lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # the client already went away
