"""The render server: the dashboard served on 127.0.0.1 and a free port, in threads of the process
that prints, for its Chromium alone to load the pages it prints."""

from __future__ import annotations

import logging
import threading

from ..config import Settings


class RenderServer:
    """`create_app(settings)` behind werkzeug's threaded server on loopback. Started in the print
    process (at its idle CPU priority, which every thread it starts inherits), it answers the
    printed page's HTML, Dash layout and callbacks there, so none of that work lands on the
    interactive web workers; the command line prints through one too."""

    def __init__(self, settings: Settings, migrate: bool | None = None):
        from werkzeug.serving import make_server

        from ..app import create_app

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log per print
        self.app = create_app(settings, migrate=migrate).server
        self.server = make_server("127.0.0.1", 0, print_only(self.app), threaded=True)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread: threading.Thread | None = None

    def print_cookies(self, scope, restricted: bool = False) -> list[dict]:
        """The print token Chromium needs to load this server's pages (`restricted`: under
        disclosure control, as the public sees them)."""
        from ..web.auth import print_cookies

        return print_cookies(self.app, self.origin, scope, restricted)

    def __enter__(self) -> str:
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="pdf-render", daemon=True
        )
        self.thread.start()
        return self.origin

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(10)
            self.thread = None
        self.server.server_close()


def print_only(app):
    """Only the printing Chromium (which carries a print token) is served: anything else on this
    machine reaching the loopback port gets 403, not a second sign-in form (with a lock-out
    count of its own) or a second door to the API. The token itself is checked by the app."""
    from ..web.auth import PRINT_COOKIE

    def gate(environ, start_response):
        if PRINT_COOKIE + "=" not in environ.get("HTTP_COOKIE", ""):
            body = b"forbidden\n"
            start_response(
                "403 Forbidden",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return gate
