"""Training-run folders: `cz.open_zoo("runs/")` indexes checkpoints where they lie.

No extra metadata is needed. One walk of the folder finds:

- Hugging Face Trainer output: `checkpoint-N/` folders with weights
  (`model.safetensors`, `pytorch_model.bin`, `adapter_model.safetensors`, or
  shards) and `trainer_state.json`, whose `log_history` gives each checkpoint's
  metrics (`eval_*`, `loss`, `learning_rate`, `epoch`) and whose
  `best_model_checkpoint` is marked; weights at the run's top level are the
  `final` checkpoint; `config.json` names the architecture.
- PyTorch Lightning: `*.ckpt` named `epoch=E-step=S...`, with the metrics of
  `lightning_logs/version_*/metrics.csv`.
- lm-evaluation-harness result files, attached as metrics to the checkpoint
  they evaluated; when no weights lie beside them and they name a Hub repo and
  `revision=` (as Pythia's do), they make a model whose checkpoints are those
  revisions.
- Plain weight files (`*.safetensors`, `*.pt`, `*.pth`, `*.bin`, `*.onnx`,
  `*.keras`, `*.h5`), one model per folder, with an optional model card
  `README.md` (Hub YAML front matter).

One model per run folder (its path below the root is the id); steps and epochs
come from names; checkpoints are ordered by step. Anything unreadable or
half-written is reported with its path and skipped; the rest is indexed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._folder import ObjectFolder
from .._parse import step_of
from ..base import LoadedSource
from .assemble import RunsReader, safetensors_params
from .lmeval import eval_metrics, model_args
from .state import Ckpt, Run
from .walk import Scanner


def read_runs(source: str) -> LoadedSource:
    """`cz.open_zoo("runs/")`: every run below the folder, one model per run."""
    path = Path(source.removeprefix("runs:")).expanduser()
    reader = RunsReader(path, source)
    models, problems = reader.read()
    base = str(path.resolve())
    label = path.resolve().name or "runs"
    return LoadedSource(source, label, [m.with_origin(source, base) for m in models], problems, label)


def read_object_runs(url: str, storage_options: dict[str, Any] | None = None) -> LoadedSource:
    """`cz.open_zoo("s3://bucket/runs/")`: the runs read where they lie (ranged reads, the same caps)."""
    folder = ObjectFolder(url, storage_options=storage_options)
    models, problems = RunsReader(folder.root, url, folder=folder).read()
    return LoadedSource(url, folder.name, [m.with_origin(url, folder.url) for m in models], problems, folder.name)


def is_runs_folder(source: str) -> bool:
    """A folder without an index.json (those are static zoos), or an explicit `runs:` prefix."""
    if source.startswith("runs:"):
        return True
    path = Path(source).expanduser()
    return path.is_dir() and not (path / "index.json").is_file() and not (path / "index.parquet").is_file()


__all__ = [
    "Ckpt",
    "Run",
    "RunsReader",
    "Scanner",
    "eval_metrics",
    "is_runs_folder",
    "model_args",
    "read_object_runs",
    "read_runs",
    "safetensors_params",
    "step_of",
]
