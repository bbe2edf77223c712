"""Safetensors files and small zoos written by the tests (no files from elsewhere)."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
SIZES |= {"F8_E4M3": 1, "C64": 8}


def bf16(values: np.ndarray) -> bytes:
    """float32 -> bfloat16 bytes (the upper half of each float, truncated)."""
    return (values.astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()


def safetensors_bytes(tensors: dict[str, tuple[str, tuple[int, ...], bytes]], metadata: dict | None = None) -> bytes:
    """A valid safetensors file: name -> (dtype, shape, raw little-endian bytes)."""
    header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    offset, data = 0, []
    for name, (dtype, shape, raw) in tensors.items():
        assert len(raw) == int(np.prod(shape)) * SIZES[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data.append(raw)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(data)


def f32(values: np.ndarray) -> tuple[str, tuple[int, ...], bytes]:
    return ("F32", values.shape, values.astype("<f4").tobytes())


def stages(count: int, shapes: dict[str, tuple[int, ...]], seed: int = 0) -> list[dict[str, np.ndarray]]:
    """`count` training stages of float32 tensors: a start, then steps that shrink."""
    rng = np.random.default_rng(seed)
    start = {n: rng.standard_normal(s).astype(np.float32) for n, s in shapes.items()}
    out, current = [start], start
    for k in range(1, count):
        current = {n: (v + rng.standard_normal(v.shape).astype(np.float32) / (k + 1)) for n, v in current.items()}
        out.append(current)
    return out


def index(model: str, files: list[tuple[str, dict[str, Any]]], **extra: Any) -> dict[str, Any]:
    """A zoo index of one model: checkpoints (name, file entry) in order."""
    return {
        "ckptzoo_index": 1,
        "name": "weights test zoo",
        "models": [
            {
                "id": model,
                "name": model,
                "library": "ckptzoo",
                "checkpoints": [
                    {"name": name, "step": i * 100, "files": [entry]} for i, (name, entry) in enumerate(files)
                ],
                **extra,
            }
        ],
    }


def file_entry(data: bytes, *, path: str | None = None, url: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    entry["path" if path is not None else "url"] = path if path is not None else url
    return entry


def write_zoo(folder: Path, model: str, checkpoints: dict[str, bytes]) -> Path:
    """A local zoo: one safetensors file per checkpoint; the index's path."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, data in checkpoints.items():
        (folder / f"{name}.safetensors").write_bytes(data)
        files.append((name, file_entry(data, path=f"{name}.safetensors")))
    path = folder / "index.json"
    path.write_text(json.dumps(index(model, files)))
    return path
