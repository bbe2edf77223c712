"""Zoos for the object-storage tests: a runs folder on disk, and its upload to the test S3 server."""

from __future__ import annotations

import json
import struct
from pathlib import Path


def safetensors_bytes(shape: tuple[int, ...]) -> bytes:
    count = 1
    for n in shape:
        count *= n
    header = json.dumps({"w": {"dtype": "F32", "shape": list(shape), "data_offsets": [0, 4 * count]}}).encode()
    return struct.pack("<Q", len(header)) + header + bytes(4 * count)


def make_runs(root: Path) -> None:
    """Two runs: a Trainer run with checkpoints and a trainer_state.json, and plain weight files with a card."""
    run = root / "bert-sst2"
    for step in (500, 1000):
        (run / f"checkpoint-{step}").mkdir(parents=True)
        (run / f"checkpoint-{step}" / "model.safetensors").write_bytes(safetensors_bytes((1024, 1024)))
    state = {
        "global_step": 1000,
        "best_model_checkpoint": "bert-sst2/checkpoint-500",
        "log_history": [{"step": 500, "eval_accuracy": 0.81}, {"step": 1000, "eval_accuracy": 0.79}],
    }
    (run / "trainer_state.json").write_text(json.dumps(state))
    (run / "config.json").write_text(json.dumps({"architectures": ["BertForSequenceClassification"]}))
    plain = root / "mlp"
    plain.mkdir()
    for name in ("epoch1.safetensors", "epoch2.safetensors"):
        (plain / name).write_bytes(safetensors_bytes((3, 3)))
    (plain / "README.md").write_text("---\nlicense: mit\ntags: [tiny]\n---\n# An MLP\nTwo epochs.\n")


def upload(s3_server, bucket: str, root: Path, prefix: str) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        s3_server.put(bucket, f"{prefix}/{path.relative_to(root).as_posix()}", path.read_bytes())
