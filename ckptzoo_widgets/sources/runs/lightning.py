"""PyTorch Lightning: `*.ckpt` named `epoch=E-step=S...`, and the metrics of `metrics.csv`."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

from .._parse import epoch_of, step_of
from .._parse import number as _number
from ..modelcard import metric_name
from .state import LIGHTNING_SUFFIX, Ckpt

if TYPE_CHECKING:
    from .walk import Scanner

MAX_CSV = 64 << 20


def lightning_run_folder(scan: Scanner, folder: Path) -> Path:
    return folder.parent if folder.name == "checkpoints" and folder != scan.root else folder


def lightning_file(scan: Scanner, path: Path) -> None:
    run = scan.run(lightning_run_folder(scan, path.parent))
    run.kinds.add("lightning")
    stem = path.name[: -len(LIGHTNING_SUFFIX)]
    name = scan.checkpoint_name(stem, path)
    entry = scan.file_entry(path) if name else None
    if name is None or entry is None:
        return
    checkpoint = run.checkpoints.get(name) or Ckpt(name, step=step_of(stem), epoch=epoch_of(stem))
    checkpoint.files.append(entry)
    checkpoint.metrics.update(scan.name_metrics(stem))
    checkpoint.paths.append(path.parent)
    run.checkpoints[name] = checkpoint


def lightning_metrics(scan: Scanner, path: Path) -> None:
    rows: list[dict[str, float]] = []
    data = scan.read(path, MAX_CSV)
    if data is None:
        return
    try:
        for raw in csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")):
            row = {k: _number(v) for k, v in raw.items() if k and v not in (None, "")}
            rows.append({k: v for k, v in row.items() if v is not None})
    except (UnicodeDecodeError, csv.Error) as error:
        scan.report(path, f"cannot read metrics ({str(error)[:120]}); skipped")
        return
    scan.run(path.parent).lightning_rows = rows


def checkpoint_metrics(rows: list[dict[str, float]], checkpoint: Ckpt) -> dict[str, float]:
    """The last value of each metric logged in the checkpoint's epoch (or up to its step)."""
    if checkpoint.epoch is not None and any(row.get("epoch") == checkpoint.epoch for row in rows):
        chosen = [row for row in rows if row.get("epoch") == checkpoint.epoch]
    elif checkpoint.step is not None:
        chosen = [row for row in rows if row.get("step", math.inf) <= checkpoint.step]
    else:
        chosen = rows
    metrics: dict[str, float] = {}
    for row in chosen:
        for key, value in row.items():
            name = metric_name(key) if key not in ("epoch", "step") else None
            if name:
                metrics[name] = value
    return metrics
