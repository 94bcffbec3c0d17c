"""A stranger's HTTP server on 127.0.0.1 that records the credentials it is sent (for leak tests)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Attacker:
    """An OpenAI-compatible server of someone else's on 127.0.0.1 that keeps every header it is sent."""

    def __init__(self) -> None:
        self.authorizations: list[str | None] = []
        self.requests = 0
        attacker = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                attacker.requests += 1
                attacker.authorizations.append(self.headers.get("Authorization"))
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(500)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Attacker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
