"""The HTTP side without BPF: --listen parsing, a taken port, routes, concurrent scrapes, stop."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from syscount.errors import SyscountError, UsageError
from syscount.model import SyscallTime
from syscount.programs.latency import LatencyProgram, LatencyTake
from syscount.readings import LatencyReader
from syscount.sinks.prometheus.bpfstats import BpfStats
from syscount.sinks.prometheus.collector import SyscountCollector
from syscount.sinks.prometheus.http import Listen, MetricsServer, metrics_app, parse_listen
from syscount.sinks.prometheus.sources import ReadingSource, Source, Totals

TIMEOUT = 10.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9464", Listen("127.0.0.1", 9464)),
        ("[::1]:9464", Listen("::1", 9464)),
        ("localhost:0", Listen("localhost", 0)),
        (":9464", Listen("0.0.0.0", 9464)),
    ],
)
def test_listen_addresses(text: str, expected: Listen) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["9464", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "::1:9464"])
def test_bad_listen_addresses_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--listen"):
        parse_listen(text)


def test_urls_bracket_ipv6() -> None:
    assert Listen("::1", 9464).url == "http://[::1]:9464/metrics"
    assert Listen("127.0.0.1", 9464).url == "http://127.0.0.1:9464/metrics"


def test_a_taken_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SyscountError) as caught, MetricsServer(Listen("127.0.0.1", port)):
            pass
    assert str(caught.value) == (
        f"port {port} on 127.0.0.1 is taken (another exporter running?); choose another with --listen ADDR:PORT"
    )


class FixedSource:
    def totals(self) -> Totals:
        return Totals(counts={"read": 42})


def serve(source: Source, stats: BpfStats, errors: list[str] | None = None) -> MetricsServer:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SyscountCollector(source, stats))
    server = MetricsServer(Listen("127.0.0.1", 0)).__enter__()
    server.start(metrics_app(registry, (errors if errors is not None else []).append))
    return server


def get(url: str, accept: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_routes_formats_and_stop_closes_the_socket() -> None:
    with BpfStats(enable=False) as stats:
        server = serve(FixedSource(), stats)
        try:
            address = server.address
            assert address.port != 0
            status, kind, body = get(address.url)
            assert status == 200 and kind.startswith("text/plain; version=0.0.4")
            assert 'syscount_syscalls_total{syscall="read"} 42.0' in body
            status, kind, body = get(address.url, accept="application/openmetrics-text; version=1.0.0")
            assert status == 200 and kind.startswith("application/openmetrics-text")
            assert body.endswith("# EOF\n")
            assert get(f"http://127.0.0.1:{address.port}/")[0] == 200
            assert get(f"http://127.0.0.1:{address.port}/nope")[0] == 404
        finally:
            server.stop()
    server.stop()  # idempotent
    assert_port_free(address.port)


def assert_port_free(port: int) -> None:
    """Nothing listens on the port any more (connections in TIME_WAIT may remain)."""
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen()


class FailingOnce:
    def __init__(self) -> None:
        self.calls = 0

    def totals(self) -> Totals:
        self.calls += 1
        if self.calls == 1:
            raise OSError(9, "reading map: Bad file descriptor")
        return Totals(counts={"read": 1})


def test_a_failed_scrape_is_a_500_and_one_line_and_the_next_one_works() -> None:
    errors: list[str] = []
    with BpfStats(enable=False) as stats:
        server = serve(FailingOnce(), stats, errors)
        try:
            status, _, body = get(server.address.url)
            assert (status, body) == (500, "scrape failed: [Errno 9] reading map: Bad file descriptor\n")
            assert errors == ["scrape failed: [Errno 9] reading map: Bad file descriptor"]
            status, _, body = get(server.address.url)
            assert status == 200 and 'syscount_syscalls_total{syscall="read"} 1.0' in body
        finally:
            server.stop()


class FakeLatencyKernel:
    """Stands in for LatencyProgram: each take() hands over the calls made since the
    previous one exactly once, as the kernel's double-buffered arrays do."""

    keyed = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = 0
        self.total = 0

    def add(self, calls: int) -> None:
        with self._lock:
            self._pending += calls
            self.total += calls

    def untracked_forks(self) -> int | None:
        return None

    def take(self) -> LatencyTake:
        """Read, settle, then zero what was read: like the real take, not safe to run twice
        at once (two overlapping takes would hand over the same calls twice)."""
        with self._lock:
            calls = self._pending
        time.sleep(0.001)  # the epoch settle
        with self._lock:
            self._pending -= calls
        hist = tuple(calls if k == 8 else 0 for k in range(32))
        stats = {110: SyscallTime(calls, 300 * calls, 300, 300, 0, hist)} if calls else {}
        return LatencyTake(stats=stats, errnos={}, in_flight=0, errno_overflow=0, untimed=0)

    def name(self, slot: int) -> str:
        return "getppid"


def getppid_calls(body: str) -> float:
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "syscount_syscalls_total" and sample.labels == {"syscall": "getppid"}:
                return sample.value
    return 0.0


def test_concurrent_scrapes_add_every_take_exactly_once() -> None:
    kernel = FakeLatencyKernel()
    source = ReadingSource(LatencyReader(cast(LatencyProgram, kernel)), durations=True)
    stop = threading.Event()

    def produce() -> None:
        for _ in range(400):
            kernel.add(7)
            time.sleep(0.0005)
        stop.set()

    def scrape(url: str) -> list[float]:
        seen = []
        while not stop.is_set():
            seen.append(getppid_calls(get(url)[2]))
        return seen

    with BpfStats(enable=False) as stats:
        server = serve(source, stats)
        try:
            with ThreadPoolExecutor(max_workers=9) as pool:
                producer = pool.submit(produce)
                scrapers = [pool.submit(scrape, server.address.url) for _ in range(8)]
                producer.result(timeout=60)
                views = [future.result(timeout=60) for future in scrapers]
            final = getppid_calls(get(server.address.url)[2])
        finally:
            server.stop()
    assert final == kernel.total == 400 * 7
    assert sum(len(view) for view in views) > 8  # the scrapes did overlap the producer
    for view in views:
        assert view == sorted(view), "a counter went backwards"
