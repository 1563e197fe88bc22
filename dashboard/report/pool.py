"""The web server's PDF printing: one shared Chromium per process, a bounded number of prints
at once, a short bounded queue with a timeout, and a refusal (with a retry delay) beyond it, so
PDF requests can never take every server thread from the other users."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .pdf import Banner, EngineMissing, Printer, engine_problem, find_chromium

log = logging.getLogger("dashboard")


class Busy(RuntimeError):
    """Too many prints running and waiting: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"printer busy, retry after {retry_after} s")
        self.retry_after = retry_after


class PrintPool:
    """Thread-safe front of one Printer. Each print holds a request thread while it waits or
    runs (Chromium also needs threads to load the page it prints), so `concurrency + queue`
    must stay below the server's threads."""

    def __init__(
        self,
        concurrency: int = 1,
        queue: int = 2,
        queue_timeout_s: float = 30.0,
        env: dict[str, str] | None = None,
        make_printer: Callable[[], Printer] | None = None,
    ):
        self.concurrency = max(1, concurrency)
        self.capacity = self.concurrency + max(0, queue)
        self.queue_timeout_s = queue_timeout_s
        self._env = env
        self._make_printer = make_printer
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._admitted = 0
        self._lock = threading.Lock()
        self._printer: Printer | None = None
        self._start_lock = threading.Lock()

    def _retry_after(self) -> int:
        return max(5, int(self.queue_timeout_s))

    def print_url(
        self,
        url: str,
        banner: Banner,
        lang: str = "es",
        cookies: list[dict] | None = None,
        timeout_ms: int = 60_000,
    ) -> bytes:
        """Print, waiting at most `queue_timeout_s` for a free slot; Busy when the queue is full
        or the wait ran out; EngineMissing when this machine cannot print."""
        with self._lock:
            if self._admitted >= self.capacity:
                raise Busy(self._retry_after())
            self._admitted += 1
        try:
            if not self._slots.acquire(timeout=self.queue_timeout_s):
                raise Busy(self._retry_after())
            try:
                return self._browser().print_url(
                    url, banner, lang=lang, cookies=cookies, timeout_ms=timeout_ms
                )
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._admitted -= 1

    def _browser(self) -> Printer:
        """The shared browser, started on first use and again if it died."""
        with self._start_lock:
            if self._printer is not None and self._printer.alive:
                return self._printer
            if self._printer is not None:
                log.warning("PDF browser gone; starting a new one")
                self._printer.close()
                self._printer = None
            if self._make_printer is not None:
                printer = self._make_printer()
            else:
                problem = engine_problem(self._env)
                if problem:
                    raise EngineMissing(problem)
                chromium = find_chromium(self._env)
                assert chromium is not None  # engine_problem said so
                printer = Printer(chromium)
            self._printer = printer.__enter__()
            return self._printer

    def close(self) -> None:
        with self._start_lock:
            if self._printer is not None:
                self._printer.close()
                self._printer = None
