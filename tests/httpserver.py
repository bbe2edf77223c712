"""The one HTTP/1.1 test server: real sockets on 127.0.0.1, misbehaving on request.

    with FileServer() as srv:        # or the `http_server` fixture (tests/conftest.py)
        url = srv.add("/a.bin", data, drop_after=1000)   # first GET breaks after 1000 bytes
        srv.add_dir("/zoo/", folder)                     # a static host: ETag, Last-Modified, 304
        srv.route("/api/", handler)                      # a fake API: handler(Request) -> Reply
        ...
        srv.requests("/a.bin")    # what the server saw and answered (every path, any method)

A path is looked up as an exact resource first, then under the longest prefix
given to `add_dir` or `route`; anything else is a 404 (so a bare server records
what reached it). GET, HEAD and POST are answered alike.

Each resource can: honour or ignore ``Range`` (``bytes=a-``, ``bytes=a-b``) / ``If-Range``;
answer ``If-None-Match`` / ``If-Modified-Since`` with 304 (``conditional=True``); answer a list of error statuses
before serving (``fail=[500]``, ``fail=[(429, {"Retry-After": "1"})]``); redirect;
require Basic auth; drop the connection mid-body; flip a byte; drip bytes slowly;
throttle to a rate; omit ``Content-Length``; lie about ``Content-Length``; send gzip.
"""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclasses.dataclass
class Resource:
    data: bytes
    etag: str | None = None  # default: a strong ETag derived from the content
    last_modified: str | None = None
    ranges: bool = True  # honour Range / If-Range
    fail: list[Any] = dataclasses.field(default_factory=list)  # statuses (or (status, headers))
    drop_after: int | None = None  # close the connection after this many body bytes...
    drop_times: int = 1  # ...for this many GETs
    flip_at: int | None = None  # flip the byte at this offset (every time)
    drip: float | None = None  # seconds between single bytes
    rate: float | None = None  # bytes per second
    content_length: bool = True
    claim_length: int | None = None  # a Content-Length to announce instead of the real one
    status_only: int | None = None  # always answer this status with no body
    wrong_range: bool = False  # answer every GET with a 206 that starts at byte 1
    gzip: bool = False  # send the body gzip-compressed (Content-Encoding: gzip), whatever was asked
    redirect: str | None = None  # answer 302 with this Location
    auth: tuple[str, str] | None = None  # (user, password) required through HTTP Basic auth, else 401
    content_encoding: str | None = None  # data is already encoded: send it as-is with this Content-Encoding
    conditional: bool = False  # 304 when If-None-Match names the ETag (else If-Modified-Since the date)

    def __post_init__(self) -> None:
        if self.etag is None:
            self.etag = strong_etag(self.data)

    def set_data(self, data: bytes, etag: str | None = None) -> None:
        self.data = data
        self.etag = etag or strong_etag(data)


def strong_etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:16] + '"'


@dataclasses.dataclass(frozen=True)
class Request:
    """What a route handler sees."""

    method: str
    path: str  # without the query
    query: dict[str, str]  # the last value of each parameter
    headers: Any  # email.message.Message: case-insensitive .get
    body: bytes
    target: str  # path and query as sent


@dataclasses.dataclass
class Reply:
    """What a route handler answers: a JSON-able value or bytes as the body, or an iterator of
    bytes streamed without Content-Length until it ends or the client hangs up (`endless`)."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    reason: str | None = None  # a reason phrase instead of the standard one


RouteHandler = Callable[[Request], Reply]


@dataclasses.dataclass(frozen=True)
class _Folder:
    """A folder served like a static host (see `FileServer.add_dir`)."""

    root: Path
    etag: bool

    def resource(self, rel: str) -> Resource | None:
        root = self.root.resolve()
        path = (root / rel).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        data = path.read_bytes()
        return Resource(
            data,
            etag=strong_etag(data) if self.etag else "",
            last_modified=http_date(int(path.stat().st_mtime)),
            conditional=True,
        )


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_POST(self) -> None:
        self._serve(head=False)

    def _record(self, **kw: Any) -> dict[str, Any]:
        entry = {
            "method": self.command,
            "path": self.path,
            "range": self.headers.get("Range"),
            "if_range": self.headers.get("If-Range"),
            "authorization": self.headers.get("Authorization"),
            "time": time.monotonic(),
            "sent": 0,
            **kw,
        }
        with self.server.lock:
            self.server.log.append(entry)
        return entry

    def _lookup(self) -> Resource | RouteHandler | None:
        path = self.path.split("?", 1)[0]
        if path in self.server.resources:
            return self.server.resources[path]
        for prefix in sorted(self.server.mounts, key=len, reverse=True):
            if path.startswith(prefix):
                mount = self.server.mounts[prefix]
                return mount.resource(path[len(prefix) :]) if isinstance(mount, _Folder) else mount
        return None

    def _serve(self, head: bool) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        res = self._lookup()
        if res is None:
            self._record(status=404)
            self._empty(404)
            return
        if not isinstance(res, Resource):
            self._answer(res, body, head)
            return
        if res.redirect is not None:
            self._record(status=302)
            self._empty(302, {"Location": res.redirect})
            return
        if res.auth is not None:
            import base64

            expected = "Basic " + base64.b64encode(":".join(res.auth).encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._record(status=401)
                self._empty(401, {"WWW-Authenticate": 'Basic realm="zoo"'})
                return
        with self.server.lock:
            failing = res.fail.pop(0) if res.fail else None
            dropping = res.drop_after is not None and res.drop_times > 0
            if dropping and not head:
                res.drop_times -= 1
        if res.status_only is not None:
            self._record(status=res.status_only)
            self._empty(res.status_only)
            return
        if failing is not None:
            status, headers = failing if isinstance(failing, tuple) else (failing, {})
            self._record(status=status)
            self._empty(status, headers)
            return

        if res.conditional and self._not_modified(res):
            self._record(status=304)
            validators = {"ETag": res.etag, "Last-Modified": res.last_modified}
            self._empty(304, {k: v for k, v in validators.items() if v}, body=b"")
            return

        data = res.data
        if res.flip_at is not None:
            b = bytearray(data)
            b[res.flip_at] ^= 0xFF
            data = bytes(b)
        start, stop, status = 0, len(data), 200
        rng = self.headers.get("Range")
        if rng and res.ranges:
            if_range = self.headers.get("If-Range")
            valid = if_range is None or if_range in (res.etag, res.last_modified)
            first_text, _, last_text = rng.removeprefix("bytes=").partition("-")
            if valid and rng.startswith("bytes=") and first_text.isdigit() and (not last_text or last_text.isdigit()):
                first = int(first_text)
                if first >= len(data):
                    self._record(status=416)
                    self._empty(416, {"Content-Range": f"bytes */{len(data)}"})
                    return
                start, status = first, 206
                if last_text:  # bytes=first-last: that range only (an open range runs to the end)
                    stop = min(len(data), int(last_text) + 1)
        if res.wrong_range:
            start, status = 1, 206
        if res.gzip:
            import gzip

            data, start, status = gzip.compress(data), 0, 200
        body = memoryview(data)[start:stop] if status == 206 else memoryview(data)[start:]
        entry = self._record(status=status)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        if res.etag:
            self.send_header("ETag", res.etag)
        if res.last_modified:
            self.send_header("Last-Modified", res.last_modified)
        if res.ranges:
            self.send_header("Accept-Ranges", "bytes")
        if res.gzip or res.content_encoding:
            self.send_header("Content-Encoding", res.content_encoding or "gzip")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{start + len(body) - 1}/{len(data)}")
        if res.claim_length is not None:
            self.send_header("Content-Length", str(res.claim_length))
        elif res.content_length:
            self.send_header("Content-Length", str(len(body)))
        if not res.content_length or res.claim_length is not None or dropping:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if head:
            return
        limit = len(body)
        if dropping:
            limit = max(0, min(limit, res.drop_after - start))  # type: ignore[operator]
        try:
            self._send_body(body[:limit], res, entry)
        except (TimeoutError, BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
            return
        if dropping:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _send_body(self, body: memoryview, res: Resource, entry: dict[str, Any]) -> None:
        if res.drip is not None:
            for i in range(len(body)):
                if self.server.stopping.is_set():
                    return
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                entry["sent"] += 1
                time.sleep(res.drip)
            return
        step = 1 << 16
        if res.rate is not None:
            step = max(1, min(step, int(res.rate / 20)))
        t0 = time.monotonic()
        for i in range(0, len(body), step):
            if self.server.stopping.is_set():
                return
            piece = body[i : i + step]
            self.wfile.write(piece)
            entry["sent"] += len(piece)
            if res.rate is not None:
                self.wfile.flush()
                ahead = entry["sent"] / res.rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)

    def _not_modified(self, res: Resource) -> bool:
        tag = self.headers.get("If-None-Match")
        if res.etag and tag:
            return tag == res.etag
        return res.last_modified is not None and self.headers.get("If-Modified-Since") == res.last_modified

    def _answer(self, handler: RouteHandler, body: bytes, head: bool) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        reply = handler(Request(self.command, parts.path, query, self.headers, body, self.path))
        if isinstance(reply.body, Iterator):
            self._stream(reply)
            return
        data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        headers = {"Content-Type": "application/json" if not isinstance(reply.body, bytes) else "text/plain"}
        headers.update(reply.headers)
        self._record(status=reply.status)
        self._empty(reply.status, headers, body=data, reason=reply.reason)

    def _stream(self, reply: Reply) -> None:
        """A body from an iterator of bytes, without Content-Length, until it ends or the client leaves."""
        entry = self._record(status=reply.status)
        self.send_response(reply.status, reply.reason)
        for k, v in {"Content-Type": "application/octet-stream", **reply.headers}.items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command == "HEAD":
            return
        try:
            for piece in reply.body:
                if self.server.stopping.is_set():
                    return
                self.wfile.write(piece)
                entry["sent"] += len(piece)
        except (TimeoutError, BrokenPipeError, ConnectionResetError, OSError):
            return

    def _empty(
        self, status: int, headers: dict[str, str] | None = None, body: bytes | None = None, reason: str | None = None
    ) -> None:
        """An answer without the resource machinery: `body` (default: a line naming the status)."""
        if body is None:
            body = f"status {status}\n".encode()
        self.send_response(status, reason or self.server.reasons.get(status))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    resources: dict[str, Resource]
    mounts: dict[str, _Folder | RouteHandler]  # path prefix -> a folder or a route handler
    log: list[dict[str, Any]]
    lock: threading.Lock
    stopping: threading.Event
    reasons: dict[int, str]  # reason phrases to send instead of the standard ones


class FileServer:
    """Start with ``with FileServer() as srv`` (or ``start()``/``stop()``)."""

    def __init__(self) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.resources = {}
        self.httpd.mounts = {}
        self.httpd.log = []
        self.httpd.lock = threading.Lock()
        self.httpd.stopping = threading.Event()
        self.httpd.reasons = {}
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"  # no trailing slash
        self._thread: threading.Thread | None = None

    def start(self) -> FileServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (again: nothing); a test may stop it early to see what works without it."""
        if self.httpd.stopping.is_set():
            return
        self.httpd.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, data: bytes, **kw: Any) -> str:
        self.httpd.resources[path] = Resource(data, **kw)
        return self.url(path)

    def add_dir(self, prefix: str, root: Path, etag: bool = True) -> str:
        """Serve the files under `root` at `prefix` like a static host.

        ETag (unless `etag=False`) and Last-Modified, 304 on a match, read on
        every request (a file changed on disk is served changed); no path out of `root`.
        """
        self.httpd.mounts[prefix] = _Folder(Path(root), etag)
        return self.url(prefix)

    def route(self, prefix: str, handler: RouteHandler) -> str:
        """Answer every request under `prefix` (any method) with `handler(Request) -> Reply`."""
        self.httpd.mounts[prefix] = handler
        return self.url(prefix)

    def resource(self, path: str) -> Resource:
        return self.httpd.resources[path]

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.httpd.lock:
            return [dict(e) for e in self.httpd.log if path is None or e["path"] == path]

    def bodies(self, path: str) -> list[dict[str, Any]]:
        """GETs answered with a body (200 or 206)."""
        return [e for e in self.requests(path) if e["method"] == "GET" and e["status"] in (200, 206)]


def http_date(t: float | None = None) -> str:
    return email.utils.formatdate(t, usegmt=True)
