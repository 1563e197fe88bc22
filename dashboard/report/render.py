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
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
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
