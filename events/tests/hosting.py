"""Two tiny HTTP servers for browser tests of the tracker, each on its own thread and port.

`HostSite` plays a site that embeds the tracker (served from another origin than the collector,
as in real life). `ForwardingProxy` sits in front of the collector like a production reverse
proxy and adds `X-Forwarded-For`, so the collector sees a public visitor address instead of
127.0.0.1 (which no GeoIP database can place).
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

# Headers that describe one connection, not the message: never forwarded (RFC 9110 §7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


class _Server:
    """A ThreadingHTTPServer on a free port of 127.0.0.1, served from a daemon thread."""

    handler: type[BaseHTTPRequestHandler]

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self.handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8"}


class _PageHandler(_QuietHandler):
    def do_GET(self) -> None:
        owner: HostSite = self.server.owner  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        file = owner.file_for(path)
        if file is not None:
            body = file.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPES.get(file.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        page = owner.pages.get(path)
        body = (page if page is not None else "<!doctype html><title>Not here</title><h1>Not here</h1>").encode()
        self.send_response(200 if page is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HostSite(_Server):
    """Serves fixed HTML pages by path; reachable as http://localhost:PORT and http://127.0.0.1:PORT.

    The two names are two different origins (and host names) for the browser, which lets one
    server play both a listed and an unlisted origin, and give pages an exit link.
    """

    handler = _PageHandler

    def __init__(self, pages: Mapping[str, str] | None = None, files: Mapping[str, Path] | None = None) -> None:
        super().__init__()
        self.pages: dict[str, str] = dict(pages or {})
        # URL prefix → folder served as files (e.g. an npm package's scripts).
        self.files: dict[str, Path] = dict(files or {})

    def file_for(self, path: str) -> Path | None:
        """The file a path names under one of `files`' folders; `x` also finds `x.js`, as bundlers
        resolve the extensionless imports of packages written for them."""
        for prefix, folder in self.files.items():
            if not path.startswith(prefix):
                continue
            root = folder.resolve()
            target = (root / path[len(prefix) :]).resolve()
            if not target.is_relative_to(root):
                return None
            for candidate in (target, target.with_name(target.name + ".js")):
                if candidate.is_file():
                    return candidate
        return None

    def url(self, path: str = "/", *, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{path}"

    def origin(self, *, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}"


class _ForwardingHandler(_QuietHandler):
    def _forward(self) -> None:
        owner: ForwardingProxy = self.server.owner  # type: ignore[attr-defined]
        owner.requests.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = owner.client_ip
        upstream = http.client.HTTPConnection(str(owner.upstream.hostname), owner.upstream.port, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)
        finally:
            upstream.close()

    do_GET = do_POST = do_OPTIONS = do_HEAD = _forward


class ForwardingProxy(_Server):
    """A reverse proxy to `upstream` that tells it the visitor's address is `client_ip`."""

    handler = _ForwardingHandler

    def __init__(self, *, upstream: str, client_ip: str) -> None:
        super().__init__()
        self.upstream = urlsplit(upstream)
        self.client_ip = client_ip
        self.requests: list[str] = []  # "METHOD /path" of every request forwarded, in order

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
