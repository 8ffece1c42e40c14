"""A real HTTP server on a free loopback port, serving the saved site in tests/data/site, that records when
each request arrived; tests can replace a file's answer or make a path redirect."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from helpers import DATA

SITE_DIR = DATA / "site"


@dataclass
class Site:
    """The running site: its origin, the requests it got, and answers that replace its files."""

    origin: str = ""
    requests: list[tuple[float, str]] = field(default_factory=list)  # (time.monotonic() on arrival, path)
    replaced: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)  # path → status, type, body
    redirects: dict[str, str] = field(default_factory=dict)  # path → where a 301 sends it

    def url(self, path: str) -> str:
        return self.origin + path

    def paths(self) -> list[str]:
        return [path for _, path in self.requests]

    def page_requests(self) -> list[tuple[float, str]]:
        """The requests for pages (robots.txt and sitemaps left out)."""
        return [(t, p) for t, p in self.requests if p != "/robots.txt" and not p.endswith(".xml")]


def _handler(site: Site) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(SITE_DIR), **kwargs)

        def do_GET(self) -> None:
            site.requests.append((time.monotonic(), self.path))
            path = self.path.split("?")[0]
            if path in site.redirects:
                self.send_response(301)
                self.send_header("Location", site.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path in site.replaced:
                status, kind, body = site.replaced[path]
            elif path.endswith(".xml") and (SITE_DIR / path.lstrip("/")).is_file():
                status, kind = 200, "application/xml"
                body = (
                    (SITE_DIR / path.lstrip("/")).read_text("utf-8").replace("{site}", site.origin).encode()
                )
            else:
                super().do_GET()
                return
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the test reads site.requests instead

    return Handler


@contextmanager
def serving() -> Iterator[Site]:
    """The saved site, served until the block ends."""
    served = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
