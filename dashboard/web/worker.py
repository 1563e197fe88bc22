"""A gunicorn worker (gthread) that answers GET /healthz from its event loop, ahead of requests
queued for busy threads, so a load balancer's check stays fast while every thread is working.

gunicorn's gthread worker hands each readable connection to a thread pool whose queue is first
come, first served: with the threads busy (a burst of users, PDFs waiting for their print) a
health check waited behind every queued callback. Here the event loop peeks at the request
first; a plain-HTTP `GET /healthz` (or HEAD) whose header block has arrived whole is answered
at once (the same text and headers as dashboard.web.health.HealthFirst) and the connection
closed. Anything else, or any surprise from gunicorn's internals, takes the normal path.
Used by gunicorn.conf.py (`worker_class`)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import socket

from gunicorn.workers import gthread

from .health import PLAIN_HEADERS

HEALTH_REQUESTS = (b"GET /healthz ", b"HEAD /healthz ")
# Larger header blocks are not a load balancer's health check: the threads read those.
PEEK_BYTES = 4096


def health_response(head: bool) -> bytes:
    body = b"ok\n"
    headers = [*PLAIN_HEADERS, ("Content-Length", str(len(body))), ("Connection", "close")]
    lines = ["HTTP/1.1 200 OK", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (b"" if head else body)


def health_request(data: bytes) -> tuple[int, bool] | None:
    """(length of the request's header block, whether it is HEAD) when `data` starts with a
    whole bodiless health check request; None otherwise."""
    if not data.startswith(HEALTH_REQUESTS):
        return None
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    headers = data[:end].lower()
    if b"\r\ncontent-length:" in headers or b"\r\ntransfer-encoding:" in headers:
        return None  # a body follows: not a health check; the threads answer it
    return end + 4, data.startswith(b"HEAD ")


class HealthFirstWorker(gthread.ThreadWorker):
    def enqueue_req(self, conn):
        outcome = None
        with contextlib.suppress(Exception):
            outcome = self._answer_health(conn)
        if outcome == "answered":
            self.nr_conns -= 1
            with contextlib.suppress(Exception):
                conn.close()
            return
        if outcome == "wait":
            # Accepted before its request arrived: gunicorn's own pending-connection path
            # waits for it on the poller (no thread held), then comes back here.
            waiting: concurrent.futures.Future = concurrent.futures.Future()
            waiting.set_result(gthread._DEFER)
            self.finish_request(conn, waiting)
            return
        super().enqueue_req(conn)

    def _answer_health(self, conn) -> str | None:
        if self.cfg.is_ssl or getattr(conn, "is_http2", False):
            return None  # encrypted or framed bytes: nothing to recognise here
        parser = getattr(conn, "parser", None)
        if parser is not None and parser.unreader.buf.getvalue():
            return None  # bytes already read ahead by the parser belong to it
        try:
            data = conn.sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            new = not conn.initialized and not getattr(conn, "data_ready", True)
            return "wait" if new and hasattr(gthread, "_DEFER") else None
        found = health_request(data)
        if found is None:
            return None
        length, head = found
        conn.sock.recv(length)  # the health check's own bytes, now consumed
        # From here the connection is this loop's to close, whatever happens; a reader that
        # does not read cannot hold the loop longer than this.
        with contextlib.suppress(OSError):
            conn.sock.settimeout(1.0)
            conn.sock.sendall(health_response(head))
        return "answered"
