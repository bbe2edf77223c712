"""Identical checkpoints: the same file (sha256) or every tensor unchanged, in Python, the CLI and
the widget's detail payload."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ckptzoo_widgets as cz
from ckptzoo_widgets.widget.payload import detail_payload

from .zoos import f32, safetensors_bytes, write_zoo


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))


def test_same_files_and_same_tensors(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    w0, w1 = rng.standard_normal((8, 8)), rng.standard_normal((8, 8))
    a = safetensors_bytes({"w": f32(w0)})
    b = safetensors_bytes({"w": f32(w1)})
    b_relabelled = safetensors_bytes({"w": f32(w1)}, metadata={"saved_by": "another run"})
    index = write_zoo(tmp_path / "zoo", "m", {"s0": a, "s1": b, "s2": b_relabelled, "s3": a})
    zoo = cz.open_zoo(str(index))
    found = zoo.duplicates("m")
    assert [(d.checkpoint, d.same_as, d.reason) for d in found] == [("s0", "s3", "same files")]
    cz.weight_changes("m", zoo)  # whole reads: s2's tensors equal s1's, recorded
    found = zoo.duplicates("m")
    assert [(d.checkpoint, d.same_as, d.reason) for d in found] == [
        ("s0", "s3", "same files"),
        ("s2", "s1", "same tensors"),
    ]
    assert found[1].describe() == "s2 is identical to s1 (same tensors)"
    detail = detail_payload(zoo.model("m"))
    assert [d["text"] for d in detail["duplicates"]] == [d.describe() for d in found]
    assert [c["identical_to"] for c in detail["checkpoints"]] == ["s3", None, "s1", None]

    shown = subprocess.run(
        [sys.executable, "-m", "ckptzoo_widgets.cli", "show", "m", "--zoo", str(index), "--no-card"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Identical: s0 is identical to s3 (same file, sha256 " in shown
    assert "Identical: s2 is identical to s1 (same tensors)" in shown
    as_json = subprocess.run(
        [sys.executable, "-m", "ckptzoo_widgets.cli", "show", "m", "--zoo", str(index), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [d["checkpoint"] for d in json.loads(as_json)["duplicates"]] == ["s0", "s2"]


def test_a_sampled_comparison_proves_nothing(tmp_path: Path) -> None:
    w = np.random.default_rng(2).standard_normal((64, 64))
    index = write_zoo(
        tmp_path / "zoo",
        "m",
        {"s0": safetensors_bytes({"w": f32(w)}), "s1": safetensors_bytes({"w": f32(w)}, metadata={"x": "y"})},
    )
    zoo = cz.open_zoo(str(index))
    changes = cz.weight_changes("m", zoo, budget=4096)
    assert changes["sampled"].all() and (changes["value"] == 0).all()
    assert zoo.duplicates("m") == []
