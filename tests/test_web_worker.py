"""The gunicorn worker of gunicorn.conf.py answers /healthz at once while every thread is busy,
and passes everything else to the threads untouched; a real gunicorn over a tiny slow app."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dashboard.web.worker import health_request

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
SLOW_S = 4.0
SLOW_APP = f"""
import time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep({SLOW_S})
    body = ("app:" + environ["REQUEST_METHOD"] + " " + environ["PATH_INFO"]).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def test_health_request_recognises_only_a_whole_bodiless_health_check():
    check = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    assert health_request(check + b"GET /next") == (len(check), False)  # its own bytes only
    assert health_request(b"HEAD /healthz HTTP/1.0\r\n\r\n") == (
        len(b"HEAD /healthz HTTP/1.0") + 4,
        True,
    )
    assert health_request(b"GET /healthz HTTP/1.1\r\nHost: x\r\n") is None  # not all here yet
    assert health_request(b"GET /healthz?x=1 HTTP/1.1\r\n\r\n") is None
    assert health_request(b"GET /healthzz HTTP/1.1\r\n\r\n") is None
    assert health_request(b"POST /healthz HTTP/1.1\r\nContent-Length: 2\r\n\r\nab") is None
    assert health_request(b"GET /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def one_thread_server(tmp_path):
    """gunicorn -c gunicorn.conf.py, one worker with one thread, over the slow app."""
    (tmp_path / "slowapp.py").write_text(SLOW_APP)
    port = free_port()
    proc = subprocess.Popen(
        [
            str(GUNICORN),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "-w",
            "1",
            "--threads",
            "1",
            "--pythonpath",
            str(tmp_path),
            "-b",
            f"127.0.0.1:{port}",
            "slowapp:app",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if get(port, "/ready")[0] == 200:
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(proc.stderr.read().decode() if proc.stderr else "no gunicorn")
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(20)


def get(port: int, path: str, method: str = "GET", conn=None) -> tuple[int, bytes, dict]:
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path)
    r = c.getresponse()
    return r.status, r.read(), dict(r.getheaders())


def test_healthz_is_answered_while_the_only_thread_is_busy(one_thread_server):
    port = one_thread_server
    slow: list = []
    busy = [threading.Thread(target=lambda: slow.append(get(port, "/slow"))) for _ in range(2)]
    for th in busy:
        th.start()
        time.sleep(0.2)  # the first holds the thread, the second waits in its queue
    timings = []
    for _ in range(5):  # a new connection each time, as a load balancer checks
        t0 = time.perf_counter()
        status, body, headers = get(port, "/healthz")
        timings.append(time.perf_counter() - t0)
        assert (status, body) == (200, b"ok\n")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "private, no-store"
    status, body, _ = get(port, "/healthz", method="HEAD")
    assert (status, body) == (200, b"")
    # Queued behind the two slow requests it would have taken SLOW_S or more.
    assert max(timings) < SLOW_S / 4, timings
    for th in busy:
        th.join(3 * SLOW_S)
    # The app's own requests went to the threads and were answered by the app.
    assert [s[:2] for s in slow] == [(200, b"app:GET /slow")] * 2


def test_everything_else_reaches_the_app_on_a_kept_alive_connection(one_thread_server):
    port = one_thread_server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    assert get(port, "/healthzz", conn=conn)[:2] == (200, b"app:GET /healthzz")
    assert get(port, "/healthz?full=1", conn=conn)[:2] == (200, b"app:GET /healthz")
    # A check on a kept-alive connection is answered too, and closes it.
    status, body, headers = get(port, "/healthz", conn=conn)
    assert (status, body, headers["Connection"]) == (200, b"ok\n", "close")
