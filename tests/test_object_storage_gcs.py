"""gs:// checkpoints through gcsfs against gcp-storage-emulator (a GCS JSON API server on 127.0.0.1).

Like the Azure tests: ranged reads, the object's generation / ETag as the resume
validator, the same verified cache and one-line errors.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from gcs_server import gcs_server  # noqa: F401  (the fixture)

import ckptzoo_widgets as cz
from ckptzoo_widgets.errors import HTTPStatusError, IntegrityError


@pytest.fixture
def gcs_env(gcs_server, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.endpoint)  # gcsfs's endpoint variable
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))  # no application-default login
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # google-auth: no metadata-server probe off 127.0.0.1
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.setenv("CKPTZOO_BACKOFF", "0.01")
    return tmp_path / "cache"


def test_gs_download_is_verified(gcs_server, gcs_env):  # noqa: F811
    data = os.urandom((9 << 20) + 7)  # more than two of the reader's buffers
    url = gcs_server.put("zoo", "mlp/epoch-3/model.safetensors", data)
    path = cz.fetch(url, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    assert path.read_bytes() == data and path.name == "model.safetensors"
    with pytest.raises(IntegrityError):
        cz.fetch(url, sha256=hashlib.sha256(b"other").hexdigest())
    assert not list((gcs_env / "tmp").glob("*.part*"))


def test_gs_resume_reads_only_the_rest(gcs_server, gcs_env):  # noqa: F811
    """A partial file whose first bytes differ from the object: only a download that
    continued from its end (and did not read those bytes again) ends with them."""
    data = os.urandom(6 << 20)
    url = gcs_server.put("zoo", "resume/model.bin", data)
    info = gcs_server.filesystem().info("zoo/resume/model.bin")
    validator = next(str(info[k]) for k in ("ETag", "etag", "generation") if info.get(k))
    marked = b"\0" * 16 + data[16:]  # what a resume from 2 MiB gives
    sha = hashlib.sha256(marked).hexdigest()
    (gcs_env / "tmp").mkdir(parents=True)
    (gcs_env / "tmp" / f"{sha}.part").write_bytes(marked[: 2 << 20])
    meta = {"url": url, "etag": validator, "last_modified": None, "encoded": False}
    (gcs_env / "tmp" / f"{sha}.part.json").write_text(json.dumps(meta))
    assert cz.fetch(url, sha256=sha).read_bytes() == marked
    assert not list((gcs_env / "tmp").glob("*.part*"))


def test_gs_a_changed_object_is_downloaded_whole(gcs_server, gcs_env):  # noqa: F811
    data = os.urandom(3 << 20)
    url = gcs_server.put("zoo", "changed/model.bin", data)
    sha = hashlib.sha256(data).hexdigest()
    (gcs_env / "tmp").mkdir(parents=True)
    (gcs_env / "tmp" / f"{sha}.part").write_bytes(b"\0" * (1 << 20))  # another version's first MiB
    meta = {"url": url, "etag": "an-older-version", "last_modified": None, "encoded": False}
    (gcs_env / "tmp" / f"{sha}.part.json").write_text(json.dumps(meta))
    assert cz.fetch(url, sha256=sha).read_bytes() == data


def test_gs_missing_object_and_bucket_are_one_line(gcs_server, gcs_env):  # noqa: F811
    gcs_server.put("zoo", "present.bin", b"x")
    for url in ("gs://zoo/absent.safetensors", "gs://no-such-bucket/model.safetensors"):
        with pytest.raises(HTTPStatusError) as info:
            cz.fetch(url, sha256="a" * 64)
        assert info.value.status == 404 and str(info.value) == f"{url} does not exist"
