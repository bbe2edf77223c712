"""Small index documents for tests, written to real files."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path


def good_index(tmp: Path) -> dict:
    """A two-model index with one real file, written into `tmp`."""
    weights = tmp / "files" / "tiny.safetensors"
    weights.parent.mkdir(parents=True, exist_ok=True)
    weights.write_bytes(b"not really safetensors, only bytes to hash")
    return {
        "ckptzoo_index": 1,
        "name": "test zoo",
        "models": [
            {
                "id": "team/alpha",
                "name": "Alpha",
                "task": "image-classification",
                "library": "safetensors",
                "license": "mit",
                "tags": ["small", "vision"],
                "num_params": 1000,
                "description": "# Alpha\nA tiny **vision** model.",
                "headline_metric": "acc",
                "checkpoints": [
                    {"name": "step-0", "step": 0, "metrics": {"acc": 0.1}},
                    {
                        "name": "step-100",
                        "step": 100,
                        "metrics": {"acc": 0.8, "loss": 0.5},
                        "files": [
                            {
                                "path": "files/tiny.safetensors",
                                "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
                                "size": weights.stat().st_size,
                            }
                        ],
                    },
                ],
            },
            {
                "id": "beta",
                "task": "text-generation",
                "library": "transformers",
                "license": "apache-2.0",
                "repo": "EleutherAI/pythia-70m",
                "checkpoints": [{"name": "step1000", "revision": "step1000", "metrics": {"loss": 3.2}}],
            },
        ],
    }


def write_index(tmp: Path, document: dict | str, name: str = "index.json") -> Path:
    path = tmp / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def with_change(document: dict, change) -> dict:
    """A deep copy of `document` with `change(copy)` applied."""
    changed = copy.deepcopy(document)
    change(changed)
    return changed
