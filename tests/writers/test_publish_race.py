"""`ckptzoo index publish` uploads what it hashed (issue 17, item 8), against moto's S3 on 127.0.0.1.

A file is hashed and uploaded from one open descriptor, and the bytes sent are
hashed again. The race is made deterministic through `publish(after_hash=...)`,
the seam the function exposes between the hash and the upload: there the test
swaps the file for a link to a secret, or rewrites it in place.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

import ckptzoo_widgets as cz
from ckptzoo_widgets.writers.publish import MANIFEST, publish

pytest.importorskip("s3fs")

WEIGHTS = b"the weights the index names, hashed by publish " * 100


def zoo_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A zoo whose one checkpoint file is `zoo/w/model.safetensors`, and a secret beside the zoo."""
    zoo = tmp_path / "zoo"
    (zoo / "w").mkdir(parents=True)
    (zoo / "w" / "model.safetensors").write_bytes(WEIGHTS)
    model = {"id": "team/m", "checkpoints": [{"name": "final", "files": [{"path": "w/model.safetensors"}]}]}
    (zoo / "index.json").write_text(json.dumps({"ckptzoo_index": 1, "models": [model]}))
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"AWS_SECRET_ACCESS_KEY=hunter2 " * 60)
    return zoo, secret


def bucket_objects(s3_server, bucket: str) -> dict[str, bytes]:
    client = s3_server.client()
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def test_a_file_swapped_for_a_link_to_a_secret_after_its_hash_is_not_what_is_uploaded(s3_server, s3_env, tmp_path):
    zoo, secret = zoo_folder(tmp_path)
    weights = zoo / "w" / "model.safetensors"
    swapped: list[Path] = []

    def swap(path: Path) -> None:  # between the hash and the upload: the path now leads to the secret
        os.replace(weights, tmp_path / "moved-away")
        weights.symlink_to(secret)
        swapped.append(path)

    bucket = s3_server.make_bucket()
    problems: list[str] = []
    done = publish(
        cz.open_zoo(str(zoo / "index.json")), f"s3://{bucket}/z", name="z", report=problems.append, after_hash=swap
    )
    assert swapped == [weights] and problems == []
    stored = bucket_objects(s3_server, bucket)
    assert stored["z/w/model.safetensors"] == WEIGHTS  # the bytes hashed, read through the open descriptor
    assert all(b"hunter2" not in body for body in stored.values())
    sha = hashlib.sha256(WEIGHTS).hexdigest()
    assert f"{sha}  w/model.safetensors" in stored[f"z/{MANIFEST}"].decode()
    assert done.uploaded == ["w/model.safetensors"] and done.uploaded_bytes == len(WEIGHTS)
    # the published zoo verifies: its index names the sha256 of what is there
    file = cz.open_zoo(done.index).model("team/m").checkpoint("final").files[0]
    assert file.sha256 == sha and file.size == len(WEIGHTS)


def test_a_file_rewritten_in_place_after_its_hash_is_left_out_and_nothing_is_committed(s3_server, s3_env, tmp_path):
    zoo, secret = zoo_folder(tmp_path)
    weights = zoo / "w" / "model.safetensors"

    def rewrite(path: Path) -> None:  # the same inode, the same size, other bytes
        with open(path, "r+b") as handle:
            handle.write(secret.read_bytes()[: len(WEIGHTS)])

    bucket = s3_server.make_bucket()
    problems: list[str] = []
    done = publish(
        cz.open_zoo(str(zoo / "index.json")), f"s3://{bucket}/z", name="z", report=problems.append, after_hash=rewrite
    )
    assert weights.read_bytes() != WEIGHTS  # the rewrite happened
    assert len(problems) == 1 and "changed between its hash and its upload" in problems[0], problems
    stored = bucket_objects(s3_server, bucket)
    assert "z/w/model.safetensors" not in stored  # the upload was discarded, never committed
    assert all(b"hunter2" not in body for body in stored.values())
    assert done.uploaded == [] and "w/model.safetensors" not in stored.get(f"z/{MANIFEST}", b"").decode()
    assert cz.open_zoo(done.index).model("team/m").checkpoint("final").files == []  # the index does not name it


def test_without_a_change_in_between_publish_uploads_and_then_keeps(s3_server, s3_env, tmp_path):
    zoo, _ = zoo_folder(tmp_path)
    bucket = s3_server.make_bucket()
    calls: list[Path] = []
    first = publish(
        cz.open_zoo(str(zoo / "index.json")), f"s3://{bucket}/z", name="z", report=print, after_hash=calls.append
    )
    second = publish(cz.open_zoo(str(zoo / "index.json")), f"s3://{bucket}/z", name="z", report=print)
    assert first.uploaded == ["w/model.safetensors"] and second.kept == ["w/model.safetensors"]
    assert len(calls) == 1 and bucket_objects(s3_server, bucket)["z/w/model.safetensors"] == WEIGHTS
