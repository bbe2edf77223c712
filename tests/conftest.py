"""What every test module shares: where the shared data is, and a cache of the run's own."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpserver import FileServer

# Real public data beside the checkout (../shared/data); CKPTZOO_SHARED_DATA points
# elsewhere (a git worktree, a copy).
SHARED_DATA = Path(os.environ.get("CKPTZOO_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def shared_data_absent(path: Path) -> bool:
    """For `skipif`: True when `path` is missing and the run may skip it.

    People who clone the project alone have no ../shared/data and skip these tests;
    under CI=true the data is always there, so these tests run and fail on the missing
    file (only they fail: the rest of the run goes on).
    """
    if path.exists():
        return False
    return os.environ.get("CI", "").lower() != "true"


def pytest_configure(config: pytest.Config) -> None:
    # No test reads or writes the user's own cache: the run gets an empty one unless the
    # environment names one; tests that need a fresh cache set their own on top.
    if "CKPTZOO_CACHE" not in os.environ:
        os.environ["CKPTZOO_CACHE"] = tempfile.mkdtemp(prefix="ckptzoo-test-cache-")


@pytest.fixture
def http_server() -> Iterator[FileServer]:
    """The one test HTTP server on 127.0.0.1 (tests/httpserver.py), started; stopped after the test.

    Files (`add`), folders like a static host (`add_dir`), fake APIs (`route`),
    failures on request; `requests()` is what reached it.
    """
    with FileServer() as server:
        yield server


# The moto S3 server fixtures (`s3_server`, `s3_auth_server`, `s3_env`): tests/s3_server.py.
from s3_server import s3_auth_server, s3_env, s3_server  # noqa: E402, F401
