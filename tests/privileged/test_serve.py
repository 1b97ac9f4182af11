"""`syscount serve` with real BPF, scraped by a real Prometheus server on loopback.

The workload's calls are known exactly, so the exporter's own /metrics must match
them exactly, and so must what Prometheus stored from its scrapes (asked through its
HTTP API). Every wait is bounded; nothing depends on how fast anything runs.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .helpers import BPF_USER, ROOT, SYSCOUNT, WORKLOAD, held_workload, release

TIMEOUT = 60.0
URL = re.compile(r"metrics at (http://\S+/metrics);")
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

# Parent only (-p): its calls after the byte on stdin releases it. The read that held
# it began before tracing, so it is not counted; exit_group never returns but is counted.
PLAN = {"getppid": 1000, "openclose": 10, "fail_close": 77, "fail_open": 55, "sleeps": 20, "sleep_ms": 10}
EXPECTED_CALLS = {"getppid": 1000, "openat": 65, "close": 87, "nanosleep": 20, "exit_group": 1}
# nanosleep(10 ms) never returns sooner: nothing at or below 2^23 ns (8.4 ms).
BELOW_10_MS = "0.008388608"


class Exporter:
    """`syscount serve --listen 127.0.0.1:0 ...` as a process, ready once it has announced."""

    def __init__(self, *args: str, prefix: tuple[str, ...] = ()) -> None:
        self.prefix = prefix  # e.g. setpriv, to start it the way a service manager would
        self.args = ["serve", "--listen", "127.0.0.1:0", *args]
        self.url = ""
        self.announce = ""

    def __enter__(self) -> Exporter:
        self.process = subprocess.Popen(
            [*self.prefix, *SYSCOUNT, *self.args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.announce = _read_line(self.process, TIMEOUT)
        found = URL.search(self.announce)
        if found is None:
            self.process.kill()
            raise AssertionError(f"syscount serve did not start: {self.announce}{self.process.communicate()[1]}")
        self.url = found.group(1)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=TIMEOUT)

    @property
    def port(self) -> int:
        return int(urllib.parse.urlsplit(self.url).port or 0)

    def samples(self) -> Samples:
        return parse(get(self.url))

    def stop(self) -> tuple[int, str]:
        """SIGTERM; the exit status and everything it wrote to stderr after starting."""
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=TIMEOUT)
        return self.process.returncode, err


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            raise AssertionError(f"nothing from {process.args!r} within {timeout} s")
    return process.stderr.readline()


def get(url: str, timeout: float = TIMEOUT) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read()
        return body.decode()


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def by_syscall(samples: Samples, name: str) -> dict[str, float]:
    return {dict(labels)["syscall"]: value for (sample, labels), value in samples.items() if sample == name}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Prometheus:
    """A Prometheus server of our own: loopback, temporary config and data, scraping every second."""

    def __init__(self, target_port: int, directory: Path) -> None:
        self.directory = directory
        self.config = directory / "prometheus.yml"
        self.config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: syscount\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{target_port}']\n"
        )
        self.log = directory / "prometheus.log"
        self.base = ""

    def __enter__(self) -> Prometheus:
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.fail("prometheus is not installed: `./bootstrap test` installs the Debian package `prometheus`")
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        with open(self.log, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={self.config}",
                    f"--storage.tsdb.path={self.directory / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                get(f"{self.base}/-/ready", timeout=5)
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        pytest.fail(f"prometheus not ready within {TIMEOUT} s: {self.log.read_text()[-2000:]}")

    def query(self, promql: str) -> dict[tuple[tuple[str, str], ...], float]:
        """An instant query: labels (without __name__, job, instance) → value."""
        url = f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        answer = json.loads(get(url))
        assert answer["status"] == "success", answer
        results = {}
        for series in answer["data"]["result"]:
            labels = {k: v for k, v in series["metric"].items() if k not in ("__name__", "job", "instance")}
            results[tuple(sorted(labels.items()))] = float(series["value"][1])
        return results

    def check(self, promql: str) -> None:
        """Prometheus accepts the query (parses and evaluates it)."""
        url = f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        try:
            answer = json.loads(get(url))
        except urllib.error.HTTPError as error:
            answer = json.loads(error.read().decode())
        assert answer["status"] == "success", (promql, answer)

    def wait_for(self, promql: str, expected: dict[tuple[tuple[str, str], ...], float]) -> None:
        """Query until Prometheus holds exactly ``expected`` (new scrapes arrive every second)."""
        deadline = time.monotonic() + TIMEOUT
        got = self.query(promql)
        while got != expected and time.monotonic() < deadline:
            time.sleep(0.5)
            got = self.query(promql)
        assert got == expected, promql


def dashboard_queries() -> list[str]:
    """Every query of docs/grafana-dashboard.json, its Grafana variables filled in."""
    board = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    variables = {"$__rate_interval": "1m", "$job": "syscount", "$instance": ".*", "$syscall": ".*"}
    queries = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in variables.items():
                expr = expr.replace(name, value)
            queries.append(expr)
    assert len(queries) > 15
    return queries


def syscalls(counts: dict[str, float]) -> dict[tuple[tuple[str, str], ...], float]:
    return {(("syscall", name),): value for name, value in counts.items()}


@contextmanager
def finished_workload(exporter_args: tuple[str, ...]) -> Iterator[Exporter]:
    """The workload (PLAN), counted by an exporter with ``-p``, released and finished."""
    with held_workload(**PLAN) as target, Exporter("-p", str(target.pid), *exporter_args) as exporter:
        release(target)
        assert target.wait(timeout=TIMEOUT) == 0
        yield exporter


def test_prometheus_stores_exactly_what_a_filtered_workload_made(tmp_path: Path) -> None:
    with finished_workload(()) as exporter:
        own = exporter.samples()
        assert by_syscall(own, "syscount_syscalls_total") == EXPECTED_CALLS
        assert own[("syscount_untracked_forks_total", ())] == 0
        with Prometheus(exporter.port, tmp_path) as prometheus:
            prometheus.wait_for("syscount_syscalls_total", syscalls(dict(EXPECTED_CALLS)))
            prometheus.wait_for('up{job="syscount"}', {(): 1.0})
            assert prometheus.query("syscount_build_info")  # the exporter's own metrics are stored too
        assert exporter.stop()[0] == 0


def test_prometheus_stores_errors_and_durations_exactly(tmp_path: Path) -> None:
    with finished_workload(("-L",)) as exporter:
        own = exporter.samples()
        assert by_syscall(own, "syscount_syscalls_total") == EXPECTED_CALLS
        errors = {
            (dict(labels)["syscall"], dict(labels)["errno"]): value
            for (name, labels), value in own.items()
            if name == "syscount_syscall_errors_total"
        }
        assert errors == {("close", "EBADF"): 77, ("openat", "ENOENT"): 55}
        counts = by_syscall(own, "syscount_syscall_duration_seconds_count")
        # Every call that returned was timed; exit_group never returns.
        assert counts == {name: n for name, n in EXPECTED_CALLS.items() if name != "exit_group"}
        assert by_syscall(own, "syscount_syscall_duration_seconds_sum")["nanosleep"] >= 20 * 0.010
        sleep_buckets = {
            dict(labels)["le"]: value
            for (name, labels), value in own.items()
            if name == "syscount_syscall_duration_seconds_bucket" and dict(labels)["syscall"] == "nanosleep"
        }
        assert len(sleep_buckets) == 32 and sleep_buckets["+Inf"] == 20 and sleep_buckets[BELOW_10_MS] == 0
        assert own[("syscount_calls_in_flight", ())] >= 0
        with Prometheus(exporter.port, tmp_path) as prometheus:
            prometheus.wait_for("syscount_syscalls_total", syscalls(dict(EXPECTED_CALLS)))
            prometheus.wait_for(
                "syscount_syscall_errors_total",
                {(("errno", "EBADF"), ("syscall", "close")): 77, (("errno", "ENOENT"), ("syscall", "openat")): 55},
            )
            prometheus.wait_for(
                'syscount_syscall_duration_seconds_count{syscall="nanosleep"}', syscalls({"nanosleep": 20})
            )
            prometheus.wait_for(
                f'syscount_syscall_duration_seconds_bucket{{syscall="nanosleep",le=~"{BELOW_10_MS}|\\\\+Inf"}}',
                {(("le", BELOW_10_MS), ("syscall", "nanosleep")): 0, (("le", "+Inf"), ("syscall", "nanosleep")): 20},
            )
            for expr in dashboard_queries():
                prometheus.check(expr)
        assert exporter.stop()[0] == 0


def test_concurrent_scrapes_see_monotonic_counters_and_lose_nothing() -> None:
    """-L hands each span of calls over once: overlapping scrapes must neither lose nor repeat one."""
    calls = 200_000
    with held_workload(getppid=calls) as target, Exporter("-p", str(target.pid), "-L") as exporter:
        done = threading.Event()

        def scrape() -> list[float]:
            seen = []
            while not done.is_set():
                seen.append(by_syscall(exporter.samples(), "syscount_syscalls_total").get("getppid", 0))
            return seen

        with ThreadPoolExecutor(max_workers=6) as pool:
            scrapers = [pool.submit(scrape) for _ in range(6)]
            release(target)
            assert target.wait(timeout=TIMEOUT) == 0
            time.sleep(0.2)  # a few more scrapes after the end
            done.set()
            views = [future.result(timeout=TIMEOUT) for future in scrapers]
        final = exporter.samples()
        assert by_syscall(final, "syscount_syscalls_total")["getppid"] == calls
        assert by_syscall(final, "syscount_syscall_duration_seconds_count")["getppid"] == calls
        for view in views:
            assert view == sorted(view), "a counter went backwards"
            assert view[-1] == calls
        assert exporter.stop()[0] == 0


def test_sigterm_during_scrapes_stops_cleanly_and_frees_the_port() -> None:
    with Exporter() as exporter:
        assert by_syscall(exporter.samples(), "syscount_syscalls_total")  # system-wide: something ran
        outcomes: list[str] = []
        done = threading.Event()

        def scrape() -> None:
            while not done.is_set():
                try:
                    get(exporter.url, timeout=10)
                    outcomes.append("ok")
                except (urllib.error.URLError, ConnectionError) as exc:
                    outcomes.append(type(exc).__name__)
                    return  # refused once the socket is closed

        threads = [threading.Thread(target=scrape) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        code, err = exporter.stop()
        done.set()
        for thread in threads:
            thread.join(timeout=TIMEOUT)
    assert code == 0
    assert err == ""  # nothing after the start-up line: no traceback, no warning
    assert "ok" in outcomes
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", exporter.port))
        again.listen()


def test_a_taken_port_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*SYSCOUNT, "serve", "--listen", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr == (
        f"syscount: error: port {port} on 127.0.0.1 is taken (another exporter running?);"
        " choose another with --listen ADDR:PORT\n"
    )


def test_bpf_stats_report_the_programs_own_runs() -> None:
    with held_workload(getppid=5000) as target, Exporter("-p", str(target.pid), "--bpf-stats") as exporter:
        release(target)
        assert target.wait(timeout=TIMEOUT) == 0
        own = exporter.samples()
        runs = {dict(labels)["program"]: v for (n, labels), v in own.items() if n == "syscount_bpf_program_runs_total"}
        assert set(runs) == {"count_enter", "follow_fork", "forget_exit"}
        # The program runs for every call on the machine (the -p filter is inside it).
        assert runs["count_enter"] >= 5000
        assert own[("syscount_bpf_program_run_seconds_total", (("program", "count_enter"),))] > 0
        assert own[("syscount_bpf_stats_enabled", ())] == 1
        assert exporter.stop()[0] == 0


@contextmanager
def named_workloads(tmp_path: Path, plan: dict[str, int]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Held workloads, each run through a link of its own name (its comm), making ``plan[name]`` getppid."""
    processes = []
    try:
        for name, calls in plan.items():
            link = tmp_path / name
            link.symlink_to(WORKLOAD)
            argv = [str(link), "--getppid", str(calls), "--wait-stdin"]
            processes.append(subprocess.Popen(argv, stdin=subprocess.PIPE))
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.mark.parametrize("mode", [(), ("-L",)], ids=["counts", "latency"])
def test_labels_by_comm_keep_the_busiest_and_fold_the_rest_exactly(tmp_path: Path, mode: tuple[str, ...]) -> None:
    plan = {"wa": 3000, "wb": 2000, "wc": 1000, "wd": 500}
    with named_workloads(tmp_path, plan) as workloads:
        pids = ",".join(str(process.pid) for process in workloads)
        with Exporter("-p", pids, "--labels", "comm", "--max-series", "2", *mode) as exporter:
            for process in workloads:
                release(process)
            for process in workloads:
                assert process.wait(timeout=TIMEOUT) == 0
            own = exporter.samples()
            assert exporter.stop()[0] == 0
    calls = {
        (dict(labels)["comm"], dict(labels)["syscall"]): value
        for (name, labels), value in own.items()
        if name == "syscount_syscalls_total"
    }
    # Each process after its release: its getppid calls and exit_group. The two busiest
    # names keep series; the others add up in "other", so every sum stays exact.
    assert calls == {
        ("wa", "getppid"): 3000,
        ("wa", "exit_group"): 1,
        ("wb", "getppid"): 2000,
        ("wb", "exit_group"): 1,
        ("other", "getppid"): 1500,
        ("other", "exit_group"): 2,
    }
    assert own[("syscount_label_values_kept", (("label", "comm"),))] == 2
    assert own[("syscount_label_values_folded", (("label", "comm"),))] == 2
    assert own[("syscount_series_folded", (("label", "comm"),))] == 4
    assert own[("syscount_unattributed_calls_total", ())] == 0


CAP_PERFMON, CAP_BPF = 38, 39
FOR_READING = 1 << CAP_PERFMON | 1 << CAP_BPF


def task_credentials(pid: int) -> list[dict[str, int]]:
    """Per thread (capabilities are per thread): the capability sets and NoNewPrivs."""
    keys = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")
    tasks = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir()):
        fields = dict(line.split(":\t", 1) for line in (task / "status").read_text().splitlines() if ":\t" in line)
        tasks.append({key: int(fields[key].strip(), 16 if key.startswith("Cap") else 10) for key in keys})
    return tasks


def test_the_exporter_drops_its_capabilities_after_attaching_and_stays_exact() -> None:
    with finished_workload(("-L", "--labels", "comm")) as exporter:
        assert "; capabilities: none;" in exporter.announce
        tasks = task_credentials(exporter.process.pid)
        assert len(tasks) >= 2  # the main thread and the HTTP server's: both without
        for task in tasks:
            assert task["CapEff"] & ~FOR_READING == 0, task  # the bar: at most BPF + PERFMON
            # On this kernel (6.18) reading needs none: nothing is held, nothing can come back.
            assert task["CapEff"] == task["CapPrm"] == task["CapBnd"] == task["CapAmb"] == task["CapInh"] == 0
            assert task["NoNewPrivs"] == 1
        own = exporter.samples()
        calls: dict[str, float] = {}
        for (name, labels), value in own.items():
            if name == "syscount_syscalls_total":
                calls[dict(labels)["syscall"]] = calls.get(dict(labels)["syscall"], 0) + value
        assert calls == EXPECTED_CALLS
        errors = {
            (dict(labels)["syscall"], dict(labels)["errno"]): value
            for (name, labels), value in own.items()
            if name == "syscount_syscall_errors_total"
        }
        assert errors == {("close", "EBADF"): 77, ("openat", "ENOENT"): 55}
        assert exporter.stop()[0] == 0  # detaching needs no capability either


SERVICE_MANAGERS = {
    # docs/syscount.service: root, its bounding set cut down (no CAP_SETPCAP to cut it further).
    "root-with-a-bounding-set": ("setpriv", "--bounding-set", "-all,+bpf,+perfmon,+sys_admin,+sys_resource"),
    # A dedicated user given CAP_BPF + CAP_PERFMON as ambient capabilities.
    "user-with-ambient-caps": tuple(BPF_USER),
}


@pytest.mark.parametrize("manager", list(SERVICE_MANAGERS))
def test_started_with_fewer_privileges_it_still_drops_them_all(manager: str) -> None:
    prefix = SERVICE_MANAGERS[manager]
    with held_workload(**PLAN) as target, Exporter("-p", str(target.pid), "-L", prefix=prefix) as exporter:
        release(target)
        assert target.wait(timeout=TIMEOUT) == 0
        assert "; capabilities: none;" in exporter.announce
        for task in task_credentials(exporter.process.pid):
            assert task["CapEff"] == task["CapPrm"] == task["CapAmb"] == 0 and task["NoNewPrivs"] == 1
        assert by_syscall(exporter.samples(), "syscount_syscalls_total") == EXPECTED_CALLS
        assert exporter.stop()[0] == 0


def test_keep_capabilities_keeps_them() -> None:
    mine = task_credentials(os.getpid())[0]["CapEff"]
    with finished_workload(("--keep-capabilities",)) as exporter:
        assert "; all capabilities kept;" in exporter.announce
        assert {task["CapEff"] for task in task_credentials(exporter.process.pid)} == {mine}
        assert by_syscall(exporter.samples(), "syscount_syscalls_total") == EXPECTED_CALLS
        assert exporter.stop()[0] == 0


DROP = """
import subprocess, sys, threading
from syscount.kernel import privileges
if sys.argv[1] == "thread":
    threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()
kept = privileges.drop(privileges.FOR_READING)
print(kept.effective, kept.permitted, kept.inheritable)
# A root exec cannot win anything back: bounding set, securebits and no_new_privs.
print(subprocess.run(["grep", "^Cap", "/proc/self/status"], capture_output=True, text=True).stdout)
"""


def test_drop_is_for_good_and_refuses_once_a_thread_runs() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", DROP, "alone"], capture_output=True, text=True, env=env, check=True)
    first, *exec_status = done.stdout.splitlines()
    assert first == f"{FOR_READING} {FOR_READING} 0"
    caps = dict(line.split(":\t") for line in exec_status if line)
    assert {key: int(value, 16) for key, value in caps.items()} == {
        "CapInh": 0,
        "CapPrm": 0,
        "CapEff": 0,
        "CapBnd": FOR_READING,
        "CapAmb": 0,
    }
    threaded = subprocess.run(
        [sys.executable, "-c", DROP, "thread"], capture_output=True, text=True, env=env, check=False
    )
    assert threaded.returncode == 1
    assert "capabilities must be dropped before any thread starts (2 running)" in threaded.stderr


def test_hostile_thread_names_are_exact_label_values(tmp_path: Path) -> None:
    """prometheus_client escapes label values (backslash, quote, newline); bytes that are
    not UTF-8 go out as the text \\xNN. Parsed back, each name is what the process chose."""
    plan = {"ev\x1b]0;x\x07\r\nZ": 300, 'q"uo\\te': 200, os.fsdecode(b"bad\xff\xfe"): 100}
    with named_workloads(tmp_path, plan) as workloads:
        pids = ",".join(str(process.pid) for process in workloads)
        with Exporter("-p", pids, "--labels", "comm") as exporter:
            for process in workloads:
                release(process)
            for process in workloads:
                assert process.wait(timeout=TIMEOUT) == 0
            body = get(exporter.url)
            assert exporter.stop()[0] == 0
    calls = {
        dict(labels)["comm"]: value
        for (name, labels), value in parse(body).items()
        if name == "syscount_syscalls_total" and dict(labels)["syscall"] == "getppid"
    }
    assert calls == {"ev\x1b]0;x\x07\r\nZ": 300, 'q"uo\\te': 200, "bad\\xff\\xfe": 100}
    assert "\r\n" not in body and 'comm="ev\x1b]0;x\x07\r\\nZ"' in body
