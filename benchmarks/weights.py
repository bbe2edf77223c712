"""Weight statistics of 20 training stages of a 1 GiB checkpoint, read in place vs downloaded.

The local test server (tests/httpserver.py, 127.0.0.1) serves 20 stages of one
model as safetensors files of 1 GiB each: 16 float32 matrices of 4096 x 4096 and
their biases. The bytes are generated for each request from the stage and the
byte offset (a deterministic function), so nothing is written to disk; every
stage differs from the one before by a step that shrinks as training goes on.
The server counts the bytes it sends.

Measured:

* `cz.weight_changes` of all 20 stages (every tensor, the default byte budget:
  the large matrices sampled) and of two matrices read whole (a budget that holds
  them): bytes served, requests, wall time, beside the physical floor (each
  file's header plus the tensor bytes the plan reads);
* downloading a stage with `cz.fetch` (hashed, verified, cached), once, and the
  same for 20 stages by proportion (`--download-all` downloads all 20).

Not a test: nothing is asserted; figures are printed beside the goals. Usage::

    python benchmarks/weights.py [--stages 20] [--layers 16] [--download-all]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Iterator

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from httpserver import FileServer, Reply, Request  # noqa: E402

DIM = 4096
MiB, GiB = 1 << 20, 1 << 30


class Stages:
    """The served files: a header, then each tensor's float32 values made from (stage, tensor, element)."""

    def __init__(self, layers: int, stages: int):
        self.stages = stages
        self.tensors: list[tuple[str, int, tuple[int, ...]]] = []  # name, element count, shape
        for layer in range(layers):
            self.tensors.append((f"layers.{layer}.weight", DIM * DIM, (DIM, DIM)))
            self.tensors.append((f"layers.{layer}.bias", DIM, (DIM,)))
        header, offset = {}, 0
        self.starts = []
        for name, count, shape in self.tensors:
            header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + 4 * count]}
            self.starts.append(offset)
            offset += 4 * count
        text = json.dumps(header).encode()
        self.head = struct.pack("<Q", len(text)) + text
        self.size = len(self.head) + offset
        self.sent = 0
        self.requests = 0
        self.lock = threading.Lock()

    def values(self, stage: int, tensor: int, first: int, count: int) -> bytes:
        i = np.arange(first, first + count, dtype=np.uint64)
        t = np.uint64(tensor * 1_000_003 + 17)
        base = (((i + t) * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)).astype(np.float32) / np.float32(2**32)
        step = (((i + t) * np.uint64(40503) + np.uint64(12345)) & np.uint64(0xFFFF)).astype(np.float32) / 65536
        drift = np.float32(1.0 - 0.8**stage)  # the distance from the start grows, more slowly each stage
        return ((base - 0.5) + drift * (step - 0.5) * np.float32(0.5)).astype("<f4").tobytes()

    def read(self, stage: int, start: int, end: int) -> bytes:
        out = []
        if start < len(self.head):
            out.append(self.head[start : min(end, len(self.head))])
        data_start, data_end = max(start, len(self.head)) - len(self.head), end - len(self.head)
        for index, (_, count, _) in enumerate(self.tensors):
            t0, t1 = self.starts[index], self.starts[index] + 4 * count
            lo, hi = max(t0, data_start), min(t1, data_end)
            if lo >= hi:
                continue
            first, last = (lo - t0) // 4, (hi - t0 + 3) // 4
            raw = self.values(stage, index, first, last - first)
            out.append(raw[(lo - t0) - 4 * first : (hi - t0) - 4 * first])
        return b"".join(out)

    def stream(self, stage: int) -> Iterator[bytes]:
        for start in range(0, self.size, 8 * MiB):
            piece = self.read(stage, start, min(self.size, start + 8 * MiB))
            with self.lock:
                self.sent += len(piece)
            yield piece

    def answer(self, request: Request) -> Reply:
        match = re.fullmatch(r"/w/stage-(\d+)\.safetensors", request.path)
        if match is None:
            return Reply(404, b"")
        stage = int(match.group(1))
        tag = f'"stage-{stage}"'
        with self.lock:
            self.requests += 1
        ranged = re.fullmatch(r"bytes=(\d+)-(\d+)", request.headers.get("Range") or "")
        if_range = request.headers.get("If-Range")
        if ranged is None or (if_range is not None and if_range != tag):
            return Reply(200, self.stream(stage), {"ETag": tag})
        start, end = int(ranged.group(1)), min(self.size, int(ranged.group(2)) + 1)
        body = self.read(stage, start, end)
        with self.lock:
            self.sent += len(body)
        headers = {"ETag": tag, "Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end - 1}/{self.size}"}
        headers["Content-Type"] = "application/octet-stream"
        return Reply(206, body, headers)

    def reset(self) -> None:
        with self.lock:
            self.sent = self.requests = 0


def human(n: float) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f} B"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stages", type=int, default=20)
    parser.add_argument("--layers", type=int, default=16)
    parser.add_argument("--download-all", action="store_true", help="download every stage, not one")
    args = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="ckptzoo-weights-bench-"))
    os.environ["CKPTZOO_CACHE"] = str(work / "cache")
    os.environ["CKPTZOO_QUIET"] = "1"
    import ckptzoo_widgets as cz
    from ckptzoo_widgets.decode import WEIGHTS_READ_BYTES

    files = Stages(args.layers, args.stages)
    with FileServer() as server:
        server.route("/w/", files.answer)
        index = {
            "ckptzoo_index": 1,
            "name": "benchmark",
            "models": [
                {
                    "id": "big",
                    "name": "big",
                    "library": "ckptzoo",
                    "checkpoints": [
                        {
                            "name": f"stage-{k}",
                            "step": 1000 * k,
                            "files": [{"url": server.url(f"/w/stage-{k}.safetensors"), "size": files.size}],
                        }
                        for k in range(args.stages)
                    ],
                }
            ],
        }
        (work / "index.json").write_text(json.dumps(index))
        zoo = cz.open_zoo(str(work / "index.json"))
        print(
            f"{args.stages} stages of {human(files.size)} ({len(files.tensors)} tensors), served from 127.0.0.1; "
            f"budget {human(WEIGHTS_READ_BYTES)} per file"
        )
        header = len(files.head)
        rows = []
        pair = ["layers.0.weight", f"layers.{args.layers - 1}.weight"]
        for label, kwargs in (
            ("every tensor, default budget", {}),
            ("2 matrices whole", {"tensors": pair, "budget": 256 * MiB}),
        ):
            files.reset()
            t0 = time.perf_counter()
            frame = cz.weight_changes("big", zoo, **kwargs)
            seconds = time.perf_counter() - t0
            cost = frame.attrs["cost"]
            physical = args.stages * header + cost["tensor_bytes"]
            rows.append((label, files.sent, files.requests, seconds, physical, frame))
        files.reset()
        t0 = time.perf_counter()
        downloads = args.stages if args.download_all else 1
        for k in range(downloads):
            path = cz.fetch(server.url(f"/w/stage-{k}.safetensors"), size=files.size, quiet=True)
            path.unlink()
        one = (time.perf_counter() - t0) / downloads
        download_bytes, download_seconds = args.stages * files.size, one * args.stages

    how = "measured" if args.download_all else f"1 stage measured ({one:.1f} s), x{args.stages}"
    print(f"\ndownloading all {args.stages} stages: {human(download_bytes)}, {download_seconds:.0f} s ({how})")
    for label, sent, requests, seconds, physical, frame in rows:
        print(f"\nstatistics of {args.stages} stages, {label}:")
        print(f"  bytes served     {human(sent):>12}   floor {human(physical)} (headers + tensor bytes planned)")
        print(f"  requests         {requests:>12}")
        print(f"  time             {seconds:>10.1f} s")
        print(f"  sampled tensors  {len(frame.attrs['sampled_tensors']):>12} of {frame['tensor'].nunique()}")
        print(
            f"  goals: served <= 1.2 x floor: {sent / physical:.3f} x; "
            f"<= 1/10 of the download's bytes: 1/{download_bytes / sent:.0f}; "
            f"<= 1/10 of its time: 1/{download_seconds / seconds:.1f}"
        )
    first = rows[0][5]
    late = first[first.tensor == "layers.0.weight"].set_index("checkpoint")["value"]
    last = args.stages - 1
    print(f"\nlayers.0.weight relative change, stage-1: {late.iloc[0]:.4f}, stage-{last}: {late.iloc[-1]:.4f}")


if __name__ == "__main__":
    main()
