"""``hf://`` files through huggingface_hub's HfFileSystem against the fake Hub on 127.0.0.1.

The fake Hub (tests/fixtures/fake_hub.py, on the one test HTTP server) answers what
HfFileSystem asks to stat and read a file: the repository's info, its tree, and
``/{repo}/resolve/{rev}/{path}`` with ``Range``. ``HF_ENDPOINT`` points at it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
pytest.importorskip("huggingface_hub")

from fixtures.fake_hub import FakeHub  # noqa: E402

import ckptzoo_widgets as cz  # noqa: E402
from ckptzoo_widgets.errors import HTTPStatusError, IntegrityError  # noqa: E402

MiB = 1 << 20


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.setenv("CKPTZOO_BACKOFF", "0.01")
    monkeypatch.delenv("CKPTZOO_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    with FakeHub([]) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def blobs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "blobs").rglob("*") if p.is_file()) if (root / "blobs").exists() else []


def resolves(hub: FakeHub, path: str) -> list[tuple[str, str | None, int]]:
    """(method, Range, status) of each request for one file's resolve URL."""
    return [(e["method"], e["range"], e["status"]) for e in hub.server.requests() if e["path"].endswith(path)]


def served(hub: FakeHub, path: str) -> int:
    """Body bytes sent for one file: the sizes of the ranges answered 206."""
    total = 0
    for method, asked, status in resolves(hub, path):
        if method == "GET" and status == 206 and asked:
            start, end = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", asked).groups())
            total += end - start + 1
    return total


def test_a_file_on_the_hub_is_downloaded_verified_and_served_once(hub, tmp_path):
    data = os.urandom(10 * MiB + 123)
    sha = hashlib.sha256(data).hexdigest()
    url = hub.add_file("org/repo", "weights/model.safetensors", data)
    path = cz.fetch(url, sha256=sha, size=len(data))
    assert path.read_bytes() == data and path.name == "model.safetensors"
    assert [p.name for p in blobs(tmp_path / "cache")] == [sha]
    assert served(hub, "/org/repo/resolve/main/weights/model.safetensors") == len(data)

    hub.server.httpd.log.clear()
    assert cz.fetch(url, sha256=sha) == path  # from the cache: the Hub is not asked
    assert hub.seen == []


def test_a_wrong_sha256_leaves_nothing_in_the_cache(hub, tmp_path):
    url = hub.add_file("org/repo", "model.safetensors", b"weights" * 1000)
    with pytest.raises(IntegrityError):
        cz.fetch(url, sha256="0" * 64)
    assert blobs(tmp_path / "cache") == []


def test_a_body_broken_half_way_resumes_with_a_ranged_read(hub, tmp_path):
    data = os.urandom(10 * MiB)
    url = hub.add_file("org/repo", "model.safetensors", data)
    hub.fail_from = (1, 500)  # the second range (from byte 4 MiB) fails once
    path = cz.fetch(url, sha256=hashlib.sha256(data).hexdigest())
    assert path.read_bytes() == data
    gets = [(asked, status) for method, asked, status in resolves(hub, "/resolve/main/model.safetensors")]
    assert (f"bytes={4 * MiB}-{8 * MiB - 1}", 500) in gets
    starts = [int(re.match(r"bytes=(\d+)-", asked).group(1)) for asked, status in gets if status == 206]
    assert starts == [0, 4 * MiB, 8 * MiB]  # after the failure: on from the partial file's end
    assert served(hub, "/resolve/main/model.safetensors") == len(data)


def test_a_partial_file_left_by_a_killed_download_is_continued(hub, tmp_path):
    data = os.urandom(6 * MiB)
    sha = hashlib.sha256(data).hexdigest()
    url = hub.add_file("org/repo", "model.safetensors", data)
    from huggingface_hub import HfFileSystem

    blob_id = HfFileSystem(endpoint=hub.url).info("org/repo/model.safetensors")["blob_id"]
    tmp = tmp_path / "cache" / "tmp"
    tmp.mkdir(parents=True)
    offset = 2 * MiB + 7
    (tmp / f"{sha}.part").write_bytes(data[:offset])
    meta = {"url": url, "etag": blob_id, "last_modified": None, "encoded": False}
    (tmp / f"{sha}.part.json").write_text(json.dumps(meta))
    hub.server.httpd.log.clear()
    assert cz.fetch(url, sha256=sha).read_bytes() == data
    gets = [asked for method, asked, status in resolves(hub, "/resolve/main/model.safetensors") if method == "GET"]
    assert gets[0].startswith(f"bytes={offset}-")
    assert served(hub, "/resolve/main/model.safetensors") == len(data) - offset


def test_a_missing_file_repository_or_revision_is_a_one_line_error(hub, tmp_path):
    hub.add_file("org/repo", "model.safetensors", b"x" * 100)
    for url in (
        "hf://org/repo/missing.safetensors",
        "hf://org/absent/model.safetensors",
        "hf://org/repo@v9/model.safetensors",
    ):
        with pytest.raises(HTTPStatusError) as info:
            cz.fetch(url, sha256="a" * 64)
        message = str(info.value)
        assert info.value.status == 404 and "\n" not in message, message
        assert message.startswith(f"{url} does not exist"), message
    assert blobs(tmp_path / "cache") == []


def test_a_plain_404_from_the_hub_is_final_not_retried(hub, tmp_path):
    url = hub.add_file("org/repo", "gone.safetensors", b"x" * 100)
    hub.fail_resolve = [404, 404, 404]  # no X-Error-Code: huggingface_hub's generic HTTP error
    with pytest.raises(HTTPStatusError) as info:
        cz.fetch(url, sha256="a" * 64)
    assert info.value.status == 404 and str(info.value) == f"{url} does not exist"
    gets = [r for r in resolves(hub, "/resolve/main/gone.safetensors") if r[0] == "GET"]
    assert len(gets) == 1
