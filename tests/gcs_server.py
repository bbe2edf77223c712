"""A Google Cloud Storage API emulator on 127.0.0.1 for the gs:// tests.

The ``gcs_server`` fixture (session) runs PyPI's ``gcp-storage-emulator`` (pure
Python, in the test extra) in its own process, in memory, on a free port, and
stops it by its pid. gcsfs finds it through ``STORAGE_EMULATOR_HOST`` (the
``gcs_env`` fixture sets it for one test, with no Google credentials to be found:
gcsfs's bucket-type probe, a gRPC call, then gives up at once, where with
``token="anon"`` it waits 33 s on an emulator for each missing bucket). The
emulator checks no credentials:
wrong-credential cases are tested against S3 and Azurite. Under ``CI=true`` a
missing emulator or gcsfs fails the tests instead of skipping them.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest


@dataclasses.dataclass
class GcsServer:
    process: subprocess.Popen[bytes]
    endpoint: str

    def filesystem(self) -> object:
        from gcsfs.core import GCSFileSystem  # the JSON API client (not the gRPC-probing subclass)

        return GCSFileSystem(endpoint_url=self.endpoint, token="anon", skip_instance_cache=True)

    def put(self, bucket: str, name: str, data: bytes) -> str:
        """Store an object (the bucket made when missing); its gs:// URL."""
        fs = self.filesystem()
        if not fs.exists(bucket):  # type: ignore[attr-defined]
            fs.mkdir(bucket)  # type: ignore[attr-defined]
        fs.pipe_file(f"{bucket}/{name}", data)  # type: ignore[attr-defined]
        return f"gs://{bucket}/{name}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GcsServer]:
    if os.environ.get("CI", "").lower() == "true":
        import gcp_storage_emulator  # noqa: F401  (the test extra installs both)
        import gcsfs  # noqa: F401
    pytest.importorskip("gcsfs")
    pytest.importorskip("gcp_storage_emulator")
    port = _free_port()
    args = ["start", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gcp_storage_emulator", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gcp-storage-emulator did not start") from None
                time.sleep(0.1)
        yield GcsServer(proc, f"http://127.0.0.1:{port}")
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
