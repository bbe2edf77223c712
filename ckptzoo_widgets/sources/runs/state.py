"""What a walk of a runs folder collects, and the small pure helpers on it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...schema import FileEntry
from ..modelcard import Card

CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d{1,15})$")
# Weight files of a Hugging Face save (`save_pretrained`), possibly sharded.
HF_WEIGHTS = re.compile(
    r"^(model|pytorch_model|adapter_model|tf_model|diffusion_pytorch_model)"
    r"(-\d{5}-of-\d{5})?\.(safetensors|bin|h5|onnx)$"
)
LIGHTNING_SUFFIX = ".ckpt"


@dataclass
class Ckpt:
    name: str
    step: int | None = None
    epoch: float | None = None
    files: list[FileEntry] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    revision: str | None = None
    notes: str | None = None
    paths: list[Path] = field(default_factory=list)


@dataclass
class Run:
    folder: Path
    kinds: set[str] = field(default_factory=set)
    checkpoints: dict[str, Ckpt] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    best: str | None = None
    global_step: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    adapter_base: str | None = None
    lightning_rows: list[dict[str, float]] = field(default_factory=list)
    card: Card | None = None


@dataclass
class Eval:
    path: Path
    metrics: dict[str, float]
    repo: str | None
    revision: str | None
    step: int | None
    task: str | None


def order(checkpoint: Ckpt) -> tuple:
    return (
        checkpoint.step is None,
        checkpoint.step or 0,
        checkpoint.epoch is None,
        checkpoint.epoch or 0,
        checkpoint.name == "last",
        checkpoint.name,
    )
