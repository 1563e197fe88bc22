"""The web server's PDF queue: bounded concurrency, a bounded wait, Busy (503) beyond it, one
browser shared and restarted when it dies. A stand-in printer keeps these millisecond tests."""

from __future__ import annotations

import threading
import time

import pytest

from dashboard.report.pdf import Banner, origin_of
from dashboard.report.pool import Busy, PrintPool

BANNER = Banner("t", "p", [], "", "", "")


class FakePrinter:
    def __init__(self, gate: threading.Event | None = None):
        self.gate = gate
        self.alive = True
        self.running = 0
        self.peak = 0
        self.calls: list[tuple[str, list]] = []
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def close(self):
        self.alive = False

    def print_url(self, url, banner, *, lang="es", cookies=None, timeout_ms=0):
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.calls.append((url, cookies))
        if self.gate is not None:
            self.gate.wait(5)
        with self._lock:
            self.running -= 1
        return b"%PDF-fake"


def _spawn(pool, results, n):
    threads = []
    for i in range(n):

        def run(i=i):
            try:
                results.append(pool.print_url(f"http://127.0.0.1:1/{i}", BANNER))
            except Busy as exc:
                results.append(exc)

        th = threading.Thread(target=run)
        th.start()
        threads.append(th)
        time.sleep(0.05)
    return threads


def test_print_pool_bounds_concurrency_and_refuses_beyond_the_queue():
    gate = threading.Event()
    printer = FakePrinter(gate)
    pool = PrintPool(concurrency=2, queue=1, queue_timeout_s=5, make_printer=lambda: printer)
    results: list = []
    threads = _spawn(pool, results, 5)
    time.sleep(0.2)
    refused = [r for r in results if isinstance(r, Busy)]
    assert len(refused) == 2  # 2 printing + 1 waiting admitted; the other 2 refused at once
    assert all(r.retry_after >= 5 for r in refused)
    gate.set()
    for th in threads:
        th.join(5)
    assert results.count(b"%PDF-fake") == 3
    assert printer.peak == 2


def test_print_pool_wait_times_out_with_busy():
    gate = threading.Event()
    pool = PrintPool(
        concurrency=1, queue=3, queue_timeout_s=0.3, make_printer=lambda: FakePrinter(gate)
    )
    results: list = []
    threads = _spawn(pool, results, 2)
    started = time.monotonic()
    threads[1].join(3)
    assert isinstance(results[0], Busy)
    assert time.monotonic() - started < 1
    gate.set()
    threads[0].join(3)
    assert results[1] == b"%PDF-fake"


def test_print_pool_shares_one_browser_and_replaces_a_dead_one():
    made: list[FakePrinter] = []

    def make():
        made.append(FakePrinter())
        return made[-1]

    pool = PrintPool(make_printer=make)
    pool.print_url("http://127.0.0.1:1/a", BANNER)
    pool.print_url("http://127.0.0.1:1/b", BANNER, cookies=[{"name": "session"}])
    assert len(made) == 1
    assert made[0].calls[1][1] == [{"name": "session"}]
    made[0].alive = False
    pool.print_url("http://127.0.0.1:1/c", BANNER)
    assert len(made) == 2


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://127.0.0.1/x", "http://127.0.0.1:80/y", True),
        ("http://127.0.0.1:8050/", "http://localhost:8050/", False),
        ("http://127.0.0.1:8050/", "https://127.0.0.1:8050/", False),
        ("http://127.0.0.1:8050/", "http://127.0.0.1:8051/", False),
        ("http://127.0.0.1:8050/", "http://127.0.0.1:8050@evil.example/", False),
    ],
)
def test_print_origin_comparison(a, b, same):
    assert (origin_of(a) == origin_of(b)) is same


def test_host_slots_bound_prints_across_processes(tmp_path):
    """Two workers' pools (each its own PrintPool) share the host's slots: one print at a time."""
    from dashboard.report.pool import HostSlots

    gate = threading.Event()
    printers = [FakePrinter(gate), FakePrinter(gate)]
    pools = [
        PrintPool(
            concurrency=1,
            queue=0,
            queue_timeout_s=5,
            make_printer=lambda p=p: p,
            host_slots=HostSlots(1, tmp_path),
        )
        for p in printers
    ]
    results: list = []
    threads = [_spawn(pool, results, 1)[0] for pool in pools]
    time.sleep(0.3)
    assert sum(p.running for p in printers) == 1  # the second worker waits for the slot
    gate.set()
    for th in threads:
        th.join(5)
    assert results == [b"%PDF-fake", b"%PDF-fake"]


def test_host_slot_wait_times_out_with_busy(tmp_path):
    from dashboard.report.pool import HostSlots

    held = HostSlots(1, tmp_path).acquire(0)
    assert held is not None
    pool = PrintPool(
        queue_timeout_s=0.2, make_printer=FakePrinter, host_slots=HostSlots(1, tmp_path)
    )
    started = time.monotonic()
    with pytest.raises(Busy):
        pool.print_url("http://127.0.0.1:1/x", BANNER)
    assert time.monotonic() - started < 1
    held.close()  # freed: the next print goes through
    assert pool.print_url("http://127.0.0.1:1/x", BANNER) == b"%PDF-fake"
    assert HostSlots(2, tmp_path).acquire(0) is not None  # a second slot when configured


def test_print_process_reports_a_browser_that_cannot_start(tmp_path):
    from dashboard.report.pool import PrintProcess

    with pytest.raises(RuntimeError, match="failed to start"):
        PrintProcess(tmp_path / "no-such-chromium", start_timeout_s=30).__enter__()


def test_a_starved_print_is_busy_not_an_error():
    """The idle-priority print process got no CPU in time: 503 + Retry-After, as for a queue."""
    from dashboard.report.pool import Starved

    class Slow(FakePrinter):
        def print_url(self, *a, **kw):
            raise Starved("PDF print timed out")

    pool = PrintPool(queue_timeout_s=7, make_printer=Slow)
    with pytest.raises(Busy) as exc:
        pool.print_url("http://127.0.0.1:1/x", BANNER)
    assert exc.value.retry_after == 7


def test_print_page_loads_from_the_printers_render_server_when_it_has_one():
    """A print process with a render server prints from its own origin, with the token made for
    that origin; a printer without one falls back to the internal address, and with neither
    the print is refused (the route answers 503)."""
    from dashboard.report.pool import NoOrigin

    class Rendering(FakePrinter):
        origin = "http://127.0.0.1:4321"

    def token_for(origin):
        return [{"name": "dashboard_print", "url": origin}]

    rendering = Rendering()
    pool = PrintPool(make_printer=lambda: rendering)
    pool.print_page("/mapa?region=PY-1", BANNER, token_for, fallback_origin="http://10.0.0.5:80")
    [(url, cookies)] = rendering.calls
    assert url == "http://127.0.0.1:4321/mapa?region=PY-1"
    assert cookies == token_for("http://127.0.0.1:4321")

    plain = FakePrinter()
    pool = PrintPool(make_printer=lambda: plain)
    pool.print_page("/mapa", BANNER, token_for, fallback_origin="http://10.0.0.5:80")
    assert plain.calls == [("http://10.0.0.5:80/mapa", token_for("http://10.0.0.5:80"))]
    with pytest.raises(NoOrigin):
        pool.print_page("/mapa", BANNER, token_for, fallback_origin=None)
