"""A real S3 API server on 127.0.0.1 for object-storage tests: moto's server in its own process.

As a script (``python tests/s3_server.py``) it serves moto's S3 (and IAM) app on a
free port, wrapped in a small WSGI layer that counts, per ``bucket/key``, the
requests and the body bytes the server really sent (``GET /_ckptzoo/counts``;
``POST /_ckptzoo/counts`` resets them), and misbehaves on request for one object
(``POST /_ckptzoo/behave``: answer the next GET/HEADs with 500 InternalError,
send its body at a given rate, or answer every GET with the whole object,
ignoring ``Range``, followed by ``flood`` more bytes than HEAD says it holds,
announced in ``Content-Length`` or not). It prints one JSON line (port, key id,
secret) when ready.

With ``--auth`` credentials are checked for real: the server enforces IAM
authentication once it has created one user with an access key (its first three
requests), so a wrong key is refused as S3 refuses it. (Moto 5.2 computes the
signature of a query holding ``/`` differently from botocore, so listings with a
prefix fail under ``--auth``: the shared server runs without it.)

As a pytest plugin (``tests/conftest.py`` loads it) it provides:

- ``s3_server`` (session): the running server, stopped by its pid at the end;
  ``.endpoint_url``, ``.env`` (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION), ``.make_bucket()``, ``.counts(bucket, key)``,
  ``.reset_counts()``, ``.put(bucket, key, data)``;
- ``s3_auth_server`` (session): the same with credentials checked (``--auth``);
- ``s3_env`` (function): those variables set in ``os.environ`` for one test.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

COUNTS_PATH = "/_ckptzoo/counts"  # no bucket can be called "_ckptzoo" (underscore)
BEHAVE_PATH = "/_ckptzoo/behave"
_INTERNAL_ERROR = (
    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError</Code>"
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)
REGION = "us-east-1"


# ------------------------------------------------------------------ the server process


class CountingApp:
    """WSGI middleware: per ``bucket/key``, GET/HEAD requests, ranges asked, body bytes sent."""

    def __init__(self, app: Any):
        self.app = app
        self.lock = threading.Lock()
        self.counts: dict[str, dict[str, Any]] = {}
        self.behave: dict[str, dict[str, Any]] = {}  # key -> {"fail": [statuses], "rate": bytes/s}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == COUNTS_PATH:
            return self._counts(environ, start_response)
        if path == BEHAVE_PATH:
            return self._set_behaviour(environ, start_response)
        method = environ.get("REQUEST_METHOD", "")
        key = urllib.parse.unquote(path.lstrip("/"))
        if method not in ("GET", "HEAD") or "/" not in key or not key.split("/", 1)[1]:
            return self.app(environ, start_response)
        with self.lock:
            entry = self.counts.setdefault(key, {"requests": 0, "bytes": 0, "ranges": [], "methods": []})
            entry["requests"] += 1
            entry["methods"].append(method)
            if environ.get("HTTP_RANGE"):
                entry["ranges"].append(environ["HTTP_RANGE"])
            behaviour = self.behave.get(key, {})
            fail = behaviour.get("fail") or []
            status = fail.pop(0) if fail and method in behaviour.get("methods", ("GET", "HEAD")) else None
        if status is not None:
            entry["failed"] = entry.get("failed", 0) + 1
            body = _INTERNAL_ERROR if method == "GET" else b""
            start_response(f"{status} Internal Server Error", [("Content-Type", "application/xml")])
            return [body]
        flood = int(behaviour.get("flood") or 0)
        if flood and method == "GET":
            return self._count_body(self._flooded(environ, start_response, behaviour), entry, behaviour.get("rate"))
        return self._count_body(self.app(environ, start_response), entry, behaviour.get("rate"))

    def _flooded(self, environ: dict[str, Any], start_response: Any, behaviour: dict[str, Any]) -> Iterator[bytes]:
        """The whole object whatever Range asked, then `flood` bytes more (a length announced or not)."""
        environ = {k: v for k, v in environ.items() if k != "HTTP_RANGE"}
        flood, announce = int(behaviour["flood"]), bool(behaviour.get("announce"))

        def start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
            kept = [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-range")]
            if announce:
                kept.append(("Content-Length", str(length + flood)))
            return start_response(status, kept, *rest)

        body = self.app(environ, start)
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        piece = b"\0" * (1 << 20)
        for sent in range(0, flood, len(piece)):
            yield piece[: flood - sent]

    def _count_body(self, body: Any, entry: dict[str, Any], rate: float | None) -> Iterator[bytes]:
        """The body in pieces, each counted as it is handed to the server to write, and
        taken back when that write fails (the client hung up): a count never lags behind
        what a client received, nor includes a piece it never got."""
        step = 1 << 16 if rate else 1 << 20
        try:
            for chunk in body:
                for i in range(0, len(chunk), step):
                    piece = chunk[i : i + step]
                    if rate:
                        time.sleep(len(piece) / rate)
                    with self.lock:
                        entry["bytes"] += len(piece)
                    try:
                        yield piece
                    except GeneratorExit:  # the server closes the body after a failed write
                        with self.lock:
                            entry["bytes"] -= len(piece)
                        raise
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def _set_behaviour(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        spec = json.loads(environ["wsgi.input"].read(length) or b"{}")
        with self.lock:
            self.behave[spec["key"]] = {
                "fail": list(spec.get("fail") or []),
                "methods": list(spec.get("methods") or ("GET", "HEAD")),
                "rate": spec.get("rate"),
                "flood": spec.get("flood"),
                "announce": spec.get("announce"),
            }
        start_response("204 No Content", [])
        return []

    def _counts(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            if environ.get("REQUEST_METHOD") == "POST":
                self.counts.clear()
            data = json.dumps(self.counts).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def _create_user(endpoint: str) -> tuple[str, str]:
    """An IAM user allowed everything, and its access key (three unauthenticated requests)."""
    import boto3

    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="setup", aws_secret_access_key="setup"
    )
    iam.create_user(UserName="ckptzoo")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="ckptzoo", PolicyName="all", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="ckptzoo")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def serve(auth: bool) -> None:
    if auth:
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"  # read by moto at import: then every request is checked
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, CountingApp(DomainDispatcherApplication(create_backend_app)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    key_id, secret = _create_user(endpoint) if auth else ("ckptzoo-test-key", "ckptzoo-test-secret")
    print(json.dumps({"port": server.server_port, "key_id": key_id, "secret": secret}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
    thread.join()


# ------------------------------------------------------------------- the test side


@dataclasses.dataclass
class S3Server:
    process: subprocess.Popen[str]
    endpoint_url: str
    key_id: str
    secret: str
    _names: Iterator[int] = dataclasses.field(default_factory=itertools.count)

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
        )

    def make_bucket(self, name: str | None = None) -> str:
        """A fresh, empty bucket (a new name each call)."""
        bucket = name or f"zoo-{os.getpid()}-{next(self._names)}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def put(self, bucket: str, key: str, data: bytes) -> str:
        """Store an object; its s3:// URL."""
        self.client().put_object(Bucket=bucket, Key=key, Body=data)
        return f"s3://{bucket}/{key}"

    def counts(self, bucket: str, key: str) -> dict[str, Any]:
        """What the server served for one object: {"requests", "bytes", "ranges"}."""
        with urllib.request.urlopen(self.endpoint_url + COUNTS_PATH, timeout=30) as resp:
            all_counts = json.load(resp)
        return all_counts.get(f"{bucket}/{key}", {"requests": 0, "bytes": 0, "ranges": []})

    def behave(
        self,
        bucket: str,
        key: str,
        *,
        fail: Sequence[int] = (),
        methods: Sequence[str] = ("GET", "HEAD"),
        rate: float | None = None,
        flood: int = 0,
        announce: bool = False,
    ) -> None:
        """From now on, for one object: answer the next len(fail) requests of ``methods``
        with these statuses (500: S3's InternalError), and send its body at ``rate`` bytes/s;
        with ``flood``, every GET ignores Range and sends the whole object and ``flood`` bytes
        more (``announce``: counted in Content-Length, else the length is left out)."""
        spec = {
            "key": f"{bucket}/{key}",
            "fail": list(fail),
            "methods": list(methods),
            "rate": rate,
            "flood": flood,
            "announce": announce,
        }
        req = urllib.request.Request(self.endpoint_url + BEHAVE_PATH, data=json.dumps(spec).encode(), method="POST")
        urllib.request.urlopen(req, timeout=30).close()

    def reset_counts(self) -> None:
        req = urllib.request.Request(self.endpoint_url + COUNTS_PATH, data=b"", method="POST")
        urllib.request.urlopen(req, timeout=30).close()


def start(auth: bool = False) -> S3Server:
    """Start the server process; its first stdout line says where it listens."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), *(["--auth"] if auth else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        raise RuntimeError(f"the moto S3 server did not start (exit code {proc.returncode})")
    info = json.loads(line)
    return S3Server(proc, f"http://127.0.0.1:{info['port']}", info["key_id"], info["secret"])


def stop(server: S3Server) -> None:
    os.kill(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()


try:
    import pytest
except ImportError:  # the server process does not need pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def s3_server() -> Iterator[S3Server]:
        pytest.importorskip("moto.server")
        server = start()
        try:
            yield server
        finally:
            stop(server)

    @pytest.fixture(scope="session")
    def s3_auth_server() -> Iterator[S3Server]:
        """A second server that checks credentials (for wrong-credential tests; no prefix listings)."""
        pytest.importorskip("moto.server")
        server = start(auth=True)
        try:
            yield server
        finally:
            stop(server)

    @pytest.fixture
    def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in s3_server.env.items():
            monkeypatch.setenv(name, value)
        return s3_server.env


if __name__ == "__main__":
    serve(auth="--auth" in sys.argv[1:])
