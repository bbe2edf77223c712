"""Azurite (Microsoft's Azure Storage emulator, from npm) on 127.0.0.1 for the az:// tests.

The ``azurite`` fixture (session) starts ``azurite-blob`` on a free port in its own
process, with a fresh folder, and stops it by its pid. It looks for the program in
``CKPTZOO_AZURITE`` (the path of ``azurite-blob``), then on ``PATH``; without it the
tests skip (scripts/test-all.sh runs ``npm ci`` in tests/azurite and sets
``CKPTZOO_AZURITE``; under ``CI=true`` a missing Azurite fails the tests).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

# Azurite's documented development account (public: it is the emulator's fixed key).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclasses.dataclass
class Azurite:
    process: subprocess.Popen[str]
    endpoint: str

    def connection_string(self, key: str = ACCOUNT_KEY) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
            f"BlobEndpoint={self.endpoint}/{ACCOUNT};"
        )

    def put(self, container: str, name: str, data: bytes) -> str:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient.from_connection_string(self.connection_string())
        try:
            service.create_container(container)
        except ResourceExistsError:
            pass
        service.get_blob_client(container, name).upload_blob(data, overwrite=True)
        return f"az://{container}/{name}"


def _program() -> str | None:
    named = os.environ.get("CKPTZOO_AZURITE")
    if named:
        return os.path.expanduser(named)
    return shutil.which("azurite-blob")


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    program = _program()
    if os.environ.get("CI", "").lower() == "true":
        # scripts/test-all.sh installs both: their absence in CI is a failure, not a skip.
        import adlfs  # noqa: F401

        assert program and os.path.exists(program), "azurite-blob is missing under CI=true (scripts/test-all.sh)"
    pytest.importorskip("adlfs")
    if program is None or not os.path.exists(program):
        pytest.skip("azurite-blob not found (npm ci in tests/azurite; CKPTZOO_AZURITE=path/to/azurite-blob)")
    folder = tempfile.mkdtemp(prefix="ckptzoo-azurite-")
    proc = subprocess.Popen(
        [program, "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", folder, "--skipApiVersionCheck"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        endpoint = None
        deadline = time.monotonic() + 60
        while endpoint is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            found = re.search(r"listens on (http://127\.0\.0\.1:\d+)", line)
            endpoint = found.group(1) if found else None
        if endpoint is None:
            raise RuntimeError("azurite-blob did not start")
        yield Azurite(proc, endpoint)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
