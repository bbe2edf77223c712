"""ckptzoo_widgets.storage: object URLs, file systems from the environment, missing extras, safe messages."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ckptzoo_widgets import storage
from ckptzoo_widgets.errors import EXIT_INPUT, MissingExtraError, ZooError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize(
    "url, expected",
    [
        ("s3://b/k", True),
        ("S3://b/k", True),
        ("gs://b/k", True),
        ("gcs://b/k", True),
        ("az://c/k", True),
        ("abfs://c/k", True),
        ("hf://org/repo/model.safetensors", True),
        ("memory://x/y", True),
        ("http://h/k", False),
        ("https://h/k", False),
        ("file:///tmp/x", False),
        ("/tmp/x", False),
        ("C:/tmp/x", False),
        ("relative/s3://x", False),
        ("ftp://h/x", False),
    ],
)
def test_is_object_url(url: str, expected: bool) -> None:
    assert storage.is_object_url(url) is expected


def test_filesystem_reads_endpoint_and_keys_from_the_environment(s3_server, s3_env) -> None:
    bucket = s3_server.make_bucket()
    s3_server.put(bucket, "dir/a.bin", b"hello object storage")
    fs, path = storage.filesystem(f"s3://{bucket}/dir/a.bin")
    assert path == f"{bucket}/dir/a.bin"
    assert fs.cat_file(path) == b"hello object storage"
    assert s3_server.counts(bucket, "dir/a.bin")["bytes"] == len(b"hello object storage")


def test_storage_options_name_the_endpoint_without_the_environment(s3_server, monkeypatch) -> None:
    for name in s3_server.env:
        monkeypatch.delenv(name, raising=False)
    bucket = s3_server.make_bucket()
    s3_server.put(bucket, "a.bin", b"abc")
    options = {"endpoint_url": s3_server.endpoint_url, "key": s3_server.key_id, "secret": s3_server.secret}
    fs, path = storage.filesystem(f"s3://{bucket}/a.bin", options)
    assert fs.cat_file(path) == b"abc"


def test_credentials_in_the_url_are_refused_without_quoting_them() -> None:
    with pytest.raises(ZooError) as info:
        storage.filesystem("s3://AKIAEXAMPLEKEY12345:sup3rs3cret@bucket/key")
    assert "sup3rs3cret" not in str(info.value) and "AKIAEXAMPLEKEY12345" not in str(info.value)
    assert "s3://bucket/key" in str(info.value)
    with pytest.raises(ValueError, match="credentials"):
        storage.check_url("gs://user:pw@bucket/key")


def test_missing_extra_is_one_line_naming_it() -> None:
    code = (
        "import sys; sys.modules['s3fs'] = None\n"
        "from ckptzoo_widgets import storage\n"
        "try:\n    storage.filesystem('s3://bucket/key')\n"
        "except Exception as e:\n    print(type(e).__name__); print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    lines = out.stdout.splitlines()
    assert lines == ["MissingExtraError", "reading s3:// needs s3fs: pip install 'ckptzoo-widgets[s3]'"], out


def test_missing_extra_is_a_usage_error() -> None:
    assert issubclass(MissingExtraError, ZooError)  # the CLI turns a ZooError into exit code 2
    assert EXIT_INPUT == 2


def test_redact_takes_out_every_kind_of_credential(monkeypatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    text = (
        "failed https://bucket.s3.amazonaws.com/k?X-Amz-Signature=abc123&X-Amz-Credential=AKIA/2026 "
        "with secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY key AKIAIOSFODNN7EXAMPLE "
        "AccountKey=c2VjcmV0;SharedAccessSignature=sv=2020&sig=zzz http://alice:pw123@host/x "
        "Authorization: Bearer hf_abcdefghijklmnopqrstuvwxyz {'secret': 'opt-secret-value'} hf_abcdefghijklmnopqrstu"
    )
    out = storage.redact(text, {"secret": "opt-secret-value"})
    for secret in (
        "abc123",
        "wJalrXUtnFEMI",
        "AKIAIOSFODNN7EXAMPLE",
        "c2VjcmV0",
        "zzz",
        "pw123",
        "alice",
        "hf_abcdefghijklmnopqrstu",
        "opt-secret-value",
    ):
        assert secret not in out, (secret, out)
    assert "https://bucket.s3.amazonaws.com/k" in out


def test_wrong_credentials_are_a_clear_error_without_the_secret(s3_auth_server, monkeypatch) -> None:
    bucket = s3_auth_server.make_bucket()
    s3_auth_server.put(bucket, "a.bin", b"abc")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_auth_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_auth_server.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-0123456789")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    fs, path = storage.filesystem(f"s3://{bucket}/a.bin", {"skip_instance_cache": True})
    with pytest.raises(Exception) as info:
        fs.cat_file(path)
    message = storage.error_message(info.value)
    assert "\n" not in message
    assert "not-the-secret-0123456789" not in message and s3_auth_server.secret not in message
    assert "credentials" in message


# ------------------------------------------------------------ object URLs in an index


def _index_with_url(tmp_path, url: str) -> dict:
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    from indexes import good_index

    doc = good_index(tmp_path)
    files = doc["models"][0]["checkpoints"][1]["files"]
    files[0].pop("path")
    files[0]["url"] = url
    return doc


@pytest.mark.parametrize(
    "url",
    [
        "s3://team-zoo/alpha/step-100/model.safetensors",
        "gs://team-zoo/alpha/model.safetensors",
        "gcs://team-zoo/alpha/model.safetensors",
        "az://container/alpha/model.safetensors",
        "abfs://container/alpha/model.safetensors",
        "hf://org/repo/model.safetensors",
    ],
)
def test_an_index_may_name_object_storage_files(tmp_path, url: str) -> None:
    from ckptzoo_widgets.schema import parse_index

    index, problems = parse_index(_index_with_url(tmp_path, url), "zoo/index.json")
    assert problems == []
    model = index.models[0]
    file = model.checkpoints[1].files[0]
    assert model.locate(file) == url and file.name == "model.safetensors" and file.format == "safetensors"


@pytest.mark.parametrize(
    "url, words",
    [
        ("s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIK7MDENG@team-zoo/model.safetensors", "credentials"),
        ("s3://user@team-zoo/model.safetensors", "credentials"),
        ("s3://team-zoo/model.safetensors?X-Amz-Signature=abc", "query"),
        ("s3://team-zoo", "bucket"),
        ("s3://team-zoo/a b.safetensors", "whitespace"),
        ("memory://team-zoo/model.safetensors", "http"),  # tests only: never from an index
        ("ftp://host/model.safetensors", "http"),
    ],
)
def test_bad_object_urls_in_an_index_are_reported_and_skipped(tmp_path, url: str, words: str) -> None:
    from ckptzoo_widgets.schema import parse_index

    index, problems = parse_index(_index_with_url(tmp_path, url), "zoo/index.json")
    assert [m.id for m in index.models] == ["beta"]
    assert len(problems) == 1 and words in problems[0].message
    for secret in ("wJalrXUtnFEMIK7MDENG", "AKIAIOSFODNN7EXAMPLE", "abc"):
        assert secret not in problems[0].message


def test_relative_paths_resolve_against_an_object_storage_base(tmp_path) -> None:
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    from indexes import good_index

    from ckptzoo_widgets.schema import parse_index

    index, _ = parse_index(good_index(tmp_path), "zoo/index.json")
    alpha = index.models[0].with_origin("s3://team-zoo/zoo/index.json", "s3://team-zoo/zoo/")
    assert alpha.locate(alpha.checkpoints[1].files[0]) == "s3://team-zoo/zoo/files/tiny.safetensors"


def test_scope_is_the_family_and_bucket_options_are_remembered_for():
    assert storage.scope("s3://Bucket/a/b.bin") == ("s3fs", "bucket")
    assert storage.scope("s3a://bucket/x") == storage.scope("s3://bucket/y")
    assert storage.scope("gs://bucket/x") != storage.scope("s3://bucket/x")
    assert storage.scope("hf://org/repo/model.safetensors") == ("huggingface_hub", "org/repo")
    assert storage.scope("hf://org/repo@main/model.safetensors") == ("huggingface_hub", "org/repo")
    assert storage.scope("hf://datasets/org/data/train.parquet") == ("huggingface_hub", "datasets/org/data")
