"""The web server's PDF printing: one shared Chromium per process, run from a print process of
its own at the lowest CPU priority that also serves the pages it prints (a render server), a
bounded number of prints at once on the whole host (file locks shared by every worker), a short
bounded queue with a timeout, and a refusal (with a retry delay) beyond it, so PDF requests can
never take every server thread, the GIL or the CPU from the other users."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..config import Settings
from .pdf import Banner, EngineMissing, Printer, engine_problem, find_chromium

log = logging.getLogger("dashboard")


class Busy(RuntimeError):
    """Too many prints running and waiting: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"printer busy, retry after {retry_after} s")
        self.retry_after = retry_after


class Starved(RuntimeError):
    """The low-priority print process got no CPU in time (the host is saturated): say busy."""


class NoOrigin(RuntimeError):
    """Nowhere to load the page from: no render server and no internal address."""


class PrintPool:
    """Thread-safe front of one Printer. Each print holds a request thread while it waits or
    runs, so `concurrency + queue` must stay below the server's threads. With `render` settings
    (and a print process) the pages are served by the print process itself: the web threads
    then only wait for the PDF bytes."""

    def __init__(
        self,
        concurrency: int = 1,
        queue: int = 2,
        queue_timeout_s: float = 30.0,
        env: dict[str, str] | None = None,
        make_printer: Callable[[], Any] | None = None,
        host_slots: HostSlots | None = None,
        priority: str = "off",
        render: Settings | None = None,
    ):
        self.concurrency = max(1, concurrency)
        self.host_slots = host_slots
        self.priority = priority
        self.render = render
        self.capacity = self.concurrency + max(0, queue)
        self.queue_timeout_s = queue_timeout_s
        self._env = env
        self._make_printer = make_printer
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._admitted = 0
        self._lock = threading.Lock()
        self._printer: Any = None
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
        return self._admitted_print(
            lambda printer: printer.print_url(
                url, banner, lang=lang, cookies=cookies, timeout_ms=timeout_ms
            )
        )

    def print_page(
        self,
        path: str,
        banner: Banner,
        cookies_for: Callable[[str], list[dict]],
        fallback_origin: str | None = None,
        lang: str = "es",
        timeout_ms: int = 60_000,
    ) -> bytes:
        """Print one page of the app (`path` with its query): from the printer's own render
        server when it has one, else from `fallback_origin` (NoOrigin when neither);
        `cookies_for(origin)` gives the print token for that origin."""

        def job(printer) -> bytes:
            origin = getattr(printer, "origin", None) or fallback_origin
            if origin is None:
                raise NoOrigin("no render server and no internal address to print from")
            return printer.print_url(
                origin + path, banner, lang=lang, cookies=cookies_for(origin), timeout_ms=timeout_ms
            )

        return self._admitted_print(job)

    def _admitted_print(self, job: Callable[[Any], bytes]) -> bytes:
        with self._lock:
            if self._admitted >= self.capacity:
                raise Busy(self._retry_after())
            self._admitted += 1
        try:
            deadline = time.monotonic() + self.queue_timeout_s
            if not self._slots.acquire(timeout=self.queue_timeout_s):
                raise Busy(self._retry_after())
            try:
                with self._host_slot(deadline):
                    try:
                        return job(self._browser())
                    except Starved as exc:
                        log.warning("PDF print starved of CPU: %s", exc)
                        raise Busy(self._retry_after()) from exc
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._admitted -= 1

    @contextlib.contextmanager
    def _host_slot(self, deadline: float) -> Iterator[None]:
        if self.host_slots is None:
            yield
            return
        held = self.host_slots.acquire(max(0.0, deadline - time.monotonic()))
        if held is None:
            raise Busy(self._retry_after())
        try:
            yield
        finally:
            held.close()

    def _browser(self) -> Any:
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
                printer = (
                    Printer(chromium)
                    if self.priority == "off"
                    else PrintProcess(chromium, idle=self.priority == "idle", render=self.render)
                )
            self._printer = printer.__enter__()
            return self._printer

    def close(self) -> None:
        with self._start_lock:
            if self._printer is not None:
                self._printer.close()
                self._printer = None


class HostSlots:
    """At most `n` prints at once on this host, whatever the number of worker processes: slot i
    is an exclusive lock on a file of `directory` (the kernel frees it if its holder dies)."""

    def __init__(self, n: int = 1, directory: Path | None = None):
        self.n = max(1, n)
        self.directory = directory or Path(tempfile.gettempdir())
        self.directory.mkdir(parents=True, exist_ok=True)

    def acquire(self, timeout_s: float):
        """An open file holding a slot (close it to free the slot), or None after `timeout_s`."""
        import fcntl

        deadline = time.monotonic() + timeout_s
        while True:
            for i in range(self.n):
                fh = open(self.directory / f"dashboard-pdf-slot-{i}.lock", "a")  # noqa: SIM115
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fh
                except OSError:
                    fh.close()
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


# Lower CPU priority for the print process and the Chromium it starts (children inherit it).
PRINT_NICE = 10
# The niceness of the render server's PostgreSQL sessions (their server processes).
PRINT_DB_NICE = 19


class PrintProcess:
    """A Printer in a child process of its own: Playwright and Chromium never hold a web thread's
    GIL, and the process (with Chromium under it) runs at a lower CPU priority (`idle`: only on
    a core nothing else wants). With `render` settings the process also serves the app itself
    (RenderServer, on loopback at `origin`), so the printed page's HTML, layout and callbacks
    run at that priority too instead of on the web workers' threads. Same face as Printer; one
    print at a time through it (PrintPool and HostSlots bound the rest)."""

    def __init__(
        self,
        chromium: Path,
        nice: int = PRINT_NICE,
        idle: bool = True,
        start_timeout_s: float = 60.0,
        render: Settings | None = None,
    ):
        self.chromium = chromium
        self.nice = nice
        self.idle = idle
        self.start_timeout_s = start_timeout_s
        self.render = render
        # The render server's address once started (None: print the URLs given as they are).
        self.origin: str | None = None
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Any = None

    def __enter__(self) -> PrintProcess:
        ctx = multiprocessing.get_context("spawn")  # no copy of the worker's threads and sockets
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_print_worker,
            args=(child, str(self.chromium), self.nice, self.idle, self.render),
            name="dashboard-pdf",
            daemon=True,
        )
        self._proc.start()
        child.close()
        if not self._conn.poll(self.start_timeout_s):
            self.close()
            raise Starved("PDF print process did not start in time")
        try:
            status, detail = self._conn.recv()
        except EOFError:
            status, detail = "error", "the process ended"
        if status != "ready":
            self.close()
            raise RuntimeError(f"PDF print process failed to start: {detail}")
        self.origin = detail
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def print_url(
        self,
        url: str,
        banner: Banner,
        *,
        lang: str = "es",
        timeout_ms: int = 60_000,
        cookies: list[dict] | None = None,
    ) -> bytes:
        with self._lock:
            self._conn.send((url, banner, lang, timeout_ms, cookies or []))
            # Waiting on the pipe releases the GIL: the web threads run meanwhile.
            if not self._conn.poll(timeout_ms / 1000 * 3 + 10):
                self.close()  # a stuck print: the next one gets a fresh process
                raise Starved("PDF print timed out")
            try:
                status, payload = self._conn.recv()
            except EOFError:
                status, payload = "error", "PDF print process ended"
        if status == "ok":
            return payload
        if status == "timeout" and self.idle:
            raise Starved(payload)
        raise RuntimeError(payload)

    def close(self) -> None:
        proc, conn = self._proc, self._conn
        if proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            conn.send(None)
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        with contextlib.suppress(OSError):
            conn.close()


def _print_worker(conn, chromium: str, nice: int, idle: bool, render: Settings | None) -> None:
    """The print process: lower its priority, serve the app (with `render` settings), start one
    browser, print what it is sent."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(nice)
    if idle:
        # Under SCHED_IDLE the process (and every Chromium process and thread it starts, which
        # inherit the policy) runs only on a core nothing else wants; Chromium's own thread
        # priority changes are niceness, which this policy ignores.
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    server = None
    try:
        if render is not None:
            from .render import RenderServer

            # The worker already migrated or checked the schema: this only serves it. The
            # printed page's queries run at the print process's low priority too, in the
            # database's own processes when PostgreSQL runs on this host.
            render = dataclasses.replace(render, db_backend_nice=PRINT_DB_NICE)
            server = RenderServer(render, migrate=False)
            server.__enter__()
        printer = Printer(Path(chromium)).__enter__()
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        if server is not None:
            server.close()
        return
    conn.send(("ready", server.origin if server is not None else None))
    try:
        while True:
            try:
                job = conn.recv()
            except EOFError:
                return  # the worker is gone
            if job is None:
                return
            url, banner, lang, timeout_ms, cookies = job
            try:
                pdf = printer.print_url(
                    url, banner, lang=lang, timeout_ms=timeout_ms, cookies=cookies
                )
                conn.send(("ok", pdf))
            except Exception as exc:  # reported to the web worker, which logs it
                # A page that did not load in time, at idle priority, means no CPU to spare.
                kind = "timeout" if "Timeout" in type(exc).__name__ else "error"
                conn.send((kind, f"{type(exc).__name__}: {exc}"))
    finally:
        printer.close()
        if server is not None:
            server.close()
