"""az:// checkpoints through adlfs against Azurite (a real Azure Blob API server on 127.0.0.1).

The download path for file systems other than S3: ranged reads, the blob's ETag
as the resume validator, the same verified cache and one-line errors.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from azurite_server import ACCOUNT_KEY, azurite  # noqa: F401  (the fixture)

import ckptzoo_widgets as cz
from ckptzoo_widgets.errors import HTTPStatusError, IntegrityError


@pytest.fixture
def az_env(azurite, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string())
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.setenv("CKPTZOO_BACKOFF", "0.01")
    return tmp_path / "cache"


def test_az_download_is_verified(azurite, az_env):  # noqa: F811
    data = os.urandom((9 << 20) + 7)  # more than two of the reader's buffers
    url = azurite.put("zoo", "mlp/epoch-3/model.safetensors", data)
    path = cz.fetch(url, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    assert path.read_bytes() == data and path.name == "model.safetensors"
    with pytest.raises(IntegrityError):
        cz.fetch(url, sha256=hashlib.sha256(b"other").hexdigest())
    assert not list((az_env / "tmp").glob("*.part*"))


def test_az_resume_reads_only_the_rest(azurite, az_env):  # noqa: F811
    """A partial file whose first bytes differ from the blob: only a download that
    continued from its end (and did not read those bytes again) ends with them."""
    from azure.storage.blob import BlobServiceClient

    data = os.urandom(6 << 20)
    url = azurite.put("zoo", "resume/model.bin", data)
    blob = BlobServiceClient.from_connection_string(azurite.connection_string()).get_blob_client(
        "zoo", "resume/model.bin"
    )
    marked = b"\0" * 16 + data[16:]  # what a resume from 2 MiB gives
    sha = hashlib.sha256(marked).hexdigest()
    (az_env / "tmp").mkdir(parents=True)
    (az_env / "tmp" / f"{sha}.part").write_bytes(marked[: 2 << 20])
    meta = {"url": url, "etag": blob.get_blob_properties().etag, "last_modified": None, "encoded": False}
    (az_env / "tmp" / f"{sha}.part.json").write_text(json.dumps(meta))
    assert cz.fetch(url, sha256=sha).read_bytes() == marked
    assert not list((az_env / "tmp").glob("*.part*"))


def test_az_missing_blob_and_wrong_key_are_one_line(azurite, az_env, monkeypatch):  # noqa: F811
    azurite.put("zoo", "present.bin", b"x")
    with pytest.raises(HTTPStatusError) as info:
        cz.fetch("az://zoo/absent.safetensors", sha256="a" * 64)
    assert info.value.status == 404 and str(info.value) == "az://zoo/absent.safetensors does not exist"
    wrong = ACCOUNT_KEY.replace("Eby8", "AAAA")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string(key=wrong))
    with pytest.raises(HTTPStatusError) as info:
        cz.fetch("az://zoo/present.bin", sha256="b" * 64, storage_options={"skip_instance_cache": True})
    message = str(info.value)
    assert info.value.status == 403 and "\n" not in message
    assert message.startswith("access denied to az://zoo/present.bin")
    assert wrong not in message and ACCOUNT_KEY not in message and "AAAA" not in message
