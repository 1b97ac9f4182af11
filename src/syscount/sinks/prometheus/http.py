"""The HTTP side: ``--listen ADDR:PORT``, a threaded server for ``/metrics``, clean stop.

The socket is bound before any BPF work, so a taken port fails fast with a clear
message. Serving starts only once the collectors are attached. ``stop()`` stops
accepting, closes the listening socket and waits for scrapes still running (each
bounded by a socket timeout), so the collectors can be closed safely afterwards.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import TCPServer, ThreadingMixIn
from typing import TYPE_CHECKING, NamedTuple
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from ...closing import Closing

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

from ...errors import PermissionDenied, SyscountError, UsageError

DEFAULT_LISTEN = "127.0.0.1:9464"
METRICS_PATH = "/metrics"
REQUEST_TIMEOUT_S = 10.0  # a stalled client cannot hold up a stop for longer
MAX_PORT = 65535


class Listen(NamedTuple):
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self}{METRICS_PATH}"


def parse_listen(text: str) -> Listen:
    """``127.0.0.1:9464``, ``[::1]:9464``, ``localhost:9464``, ``:9464`` (every interface);
    port 0 picks a free port (shown in the start-up line)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > MAX_PORT:
        raise UsageError(f"--listen {text!r}: expected ADDR:PORT, e.g. {DEFAULT_LISTEN} or [::1]:9464")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise UsageError(f"--listen {text!r}: write an IPv6 address in brackets, e.g. [::1]:9464")
    return Listen(host or "0.0.0.0", int(port))


class _QuietHandler(WSGIRequestHandler):
    """One scrape per request; no access log (Prometheus scrapes forever)."""

    timeout = REQUEST_TIMEOUT_S

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingMixIn, WSGIServer):
    """A thread per request; not daemon threads, so server_close() waits for them."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family  # read by TCPServer.__init__ to create the socket
        super().__init__(address, _QuietHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would look the host's FQDN up (a DNS query for
        # 0.0.0.0 on a machine without DNS): the address is all the WSGI environ needs.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


def metrics_app(registry: CollectorRegistry, on_error: Callable[[str], None]) -> WSGIApplication:
    """``/metrics`` (text or OpenMetrics, by the Accept header), a short page at ``/``.

    A scrape that fails (the kernel read raised) answers 500 and is reported to
    ``on_error`` as one line; the server keeps serving."""
    # Imported here: the serve parser (--listen's default) must import without prometheus_client,
    # for the man page built where it is not installed.
    from prometheus_client import make_wsgi_app

    metrics = make_wsgi_app(registry)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == METRICS_PATH:
            try:
                # prometheus_client renders everything before it starts the response.
                return list(metrics(environ, start_response))
            except Exception as exc:  # any failure is this scrape's alone
                message = f"scrape failed: {exc}"
                on_error(message)
                start_response("500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")])
                return [f"{message}\n".encode()]
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [f'<html><body><h1>syscount</h1><a href="{METRICS_PATH}">metrics</a></body></html>\n'.encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [f"not found; metrics are at {METRICS_PATH}\n".encode()]

    return app


class MetricsServer(Closing):
    """Context manager: bind on enter; ``start(app)`` serves; ``stop()`` (or exit) ends it."""

    def __init__(self, listen: Listen) -> None:
        self.listen = listen
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> MetricsServer:
        self._server = _bind(self.listen)
        return self

    @property
    def address(self) -> Listen:
        """Where it listens (the real port when port 0 was asked for)."""
        assert self._server is not None
        return Listen(self.listen.host, int(self._server.server_address[1]))

    def start(self, app: WSGIApplication) -> None:
        assert self._server is not None
        self._server.set_app(app)
        self._thread = threading.Thread(target=self._server.serve_forever, name="syscount-http", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop accepting, close the socket, let running scrapes finish. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._thread is not None:
            server.shutdown()
            self._thread.join()
            self._thread = None
        server.server_close()


def _bind(listen: Listen) -> _Server:
    try:
        infos = socket.getaddrinfo(listen.host, listen.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--listen {listen}: cannot resolve {listen.host!r}: {exc.strerror}") from exc
    family, _, _, _, address = infos[0]
    try:
        return _Server((str(address[0]), listen.port), family)
    except OSError as exc:
        raise _bind_error(listen, exc) from exc


def _bind_error(listen: Listen, exc: OSError) -> Exception:
    if exc.errno == errno.EADDRINUSE:
        return SyscountError(
            f"port {listen.port} on {listen.host} is taken (another exporter running?);"
            " choose another with --listen ADDR:PORT"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return SyscountError(f"cannot listen on {listen}: {listen.host} is not an address of this machine")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return PermissionDenied(f"listening on {listen} (ports below 1024 need CAP_NET_BIND_SERVICE)")
    return SyscountError(f"cannot listen on {listen}: {exc.strerror}")
