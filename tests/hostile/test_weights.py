"""Hostile safetensors files read in place: one-line errors, a few bytes read, bounded memory.

Every header goes through `safetensors_check.read_header_from` (the one validator); the ranged
reader adds what a network brings: a server that ignores ranges, a file replaced meanwhile."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from weights.zoos import f32, file_entry, index, safetensors_bytes

import ckptzoo_widgets as cz
from ckptzoo_widgets.decode import WEIGHTS_HEADER_PREFIX, WEIGHTS_TENSOR_BYTES
from ckptzoo_widgets.weights.ranges import open_ranges

from .bounded import run_bounded

MiB = 1 << 20


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))


def good() -> bytes:
    rng = np.random.default_rng(0)
    return safetensors_bytes({"a": f32(rng.standard_normal((512, 512))), "b": f32(rng.standard_normal(1000))})


def lying_offsets() -> bytes:
    data = good()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header["b"]["data_offsets"] = [0, 4000]  # overlaps a
    text = json.dumps(header).encode().ljust(length)
    return struct.pack("<Q", len(text)) + text + data[8 + length :]


def huge_header() -> bytes:
    return struct.pack("<Q", 10 << 30) + b"{" + bytes(4 * MiB)


def truncated() -> bytes:
    return good()[:-5000]


CASES = {
    "lying offsets": (lying_offsets, "overlaps the tensor before it"),
    "huge header": (huge_header, "declares a header of 10737418240 bytes (at most"),
    "truncated": (truncated, "lie beyond the"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_files_over_http_are_one_line_after_a_few_bytes(case: str, http_server, tmp_path: Path) -> None:
    make, expected = CASES[case]
    data = make()
    url = http_server.add("/bad.safetensors", data)
    (tmp_path / "index.json").write_text(json.dumps(index("bad", [("a", file_entry(data, url=url))])))
    with pytest.raises(cz.ZooError) as refused:
        cz.tensor_stats("bad@a", str(tmp_path / "index.json"))
    message = str(refused.value)
    assert expected in message and "\n" not in message and len(message) < 400
    assert "not a readable safetensors file" in message
    sent = sum(e["sent"] for e in http_server.bodies("/bad.safetensors"))
    assert sent <= WEIGHTS_HEADER_PREFIX  # the header's first read, nothing after the refusal


def test_an_index_size_that_disagrees_with_the_server_is_refused(http_server, tmp_path: Path) -> None:
    data = good()
    url = http_server.add("/w.safetensors", data)
    entry = file_entry(data, url=url) | {"size": len(data) + 1}
    (tmp_path / "index.json").write_text(json.dumps(index("sized", [("a", entry)])))
    with pytest.raises(cz.ZooError, match="the index says"):
        cz.tensor_stats("sized@a", str(tmp_path / "index.json"))


def test_a_server_that_sends_another_range_is_refused(http_server) -> None:
    url = http_server.add("/w.safetensors", good(), wrong_range=True)
    with pytest.raises(cz.ZooError, match="another range"):
        open_ranges(url).header()


@pytest.mark.slow
def test_a_large_tensor_is_read_within_the_budget_in_bounded_memory(tmp_path: Path) -> None:
    """A 768 MiB F16 tensor (a sparse file): 3 GiB as float64. Its statistics are taken from the
    default budget's sample; with an unlimited budget, from at most WEIGHTS_TENSOR_BYTES of it. The
    address-space limit (2 GB: the imported libraries reserve about 1.4 GB of it) leaves no room to
    hold the tensor whole, and the peak RSS stays far below its size."""
    count = 384 * MiB
    header = json.dumps({"big": {"dtype": "F16", "shape": [count], "data_offsets": [0, 2 * count]}}).encode()
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(header)) + header)
        handle.seek(8 + len(header) + 2 * count - 2)
        handle.write(np.float16(1.0).tobytes())
    entry = {"path": path.name, "size": os.path.getsize(path)}
    (tmp_path / "index.json").write_text(json.dumps(index("big", [("a", entry), ("b", entry)])))
    result = run_bounded(
        """
        import ckptzoo_widgets as cz
        frame = cz.tensor_stats("big@a", INDEX)
        print(frame.loc[0, "sampled"], frame.attrs["cost"]["tensor_bytes"])
        whole = cz.tensor_stats("big@a", INDEX, budget=1 << 40)
        print(whole.loc[0, "sampled"], whole.attrs["cost"]["tensor_bytes"], whole.loc[0, "std"] > 0)
        """,
        INDEX=str(tmp_path / "index.json"),
        env={"CKPTZOO_CACHE": str(tmp_path / "cache")},
        seconds=240,
        memory_mb=2048,
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    sampled_line, whole_line = result.stdout.split("\n")[:2]
    assert sampled_line.split()[0] == "True" and int(sampled_line.split()[1]) <= 64 * MiB
    flag, read, nonzero = whole_line.split()
    assert flag == "True" and int(read) <= WEIGHTS_TENSOR_BYTES and nonzero == "True"  # the last block ends at n
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 600
