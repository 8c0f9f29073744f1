"""The one loopback HTTP server under every fake partner: the sandboxes and the transport
tests. It serves on 127.0.0.1 in a daemon thread, tracks its connections so that stopping it
also cuts idle keep-alive ones (a stopped partner must not answer on them), and logs a handler
error in one line instead of printing a traceback."""

import logging
import socket
import sys
import threading
from http.server import ThreadingHTTPServer

_logger = logging.getLogger(__name__)

HOST = "127.0.0.1"


def free_port():
    """A loopback port nobody listens on right now (for "connection refused" cases)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class LoopbackServer(ThreadingHTTPServer):
    """``LoopbackServer(handler_class, port=0).start()``; ``url`` is its address."""

    daemon_threads = True

    def __init__(self, handler_class, port=0):
        self._connections = set()
        self._connections_lock = threading.Lock()
        self._thread = None
        super().__init__((HOST, port), handler_class)

    @property
    def port(self):
        return self.server_address[1]

    @property
    def url(self):
        return f"http://{HOST}:{self.port}"

    def start(self, name=None):
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=name or f"loopback-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()
        self.close_connections()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # Clients that time out and hang up are part of the tests: one line, no traceback.
        _logger.warning("loopback partner: error serving %s: %r", client_address, sys.exc_info()[1])

    def close_connections(self):
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class LoopbackSandbox:
    """What every fake partner gives its tests: ``with Sandbox() as sandbox: ...``, its port
    once bound and its base URL. A subclass binds ``self._server`` (a LoopbackServer) and
    ``self._port`` in ``start()`` and defines ``stop()``."""

    _server = None
    _port = 0

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def port(self):
        return self._port

    @property
    def base_url(self):
        if not self._port:
            raise RuntimeError("start() the sandbox first: its port is chosen when it binds")
        return f"http://{HOST}:{self._port}"

    @property
    def running(self):
        return self._server is not None
