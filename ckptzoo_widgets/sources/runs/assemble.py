"""Assembly: the runs a walk found -> model entries (checkpoints ordered, metrics merged, cards, counts)."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ... import safety
from ...decode import ParseError, load_json
from ...errors import ZooError
from ...metrics import headline_metric as headline  # one rule for every source (metrics.py)
from ...schema import MAX_COUNT as MAX_PARAMS
from ...schema import ModelEntry, Problem, validate_models
from .. import tensorboard
from .._folder import Budget, Folder, FolderReadError
from ..base import checkpoint_data
from ..modelcard import Card, read_card
from . import lightning, lmeval, trainer
from .state import Ckpt, Run, order
from .walk import Scanner

MAX_CARD = 1 << 20  # a model card (the index keeps at most 200,000 characters of it)
MAX_HEADER = 100 << 20  # a safetensors header


def safetensors_params(folder: Folder, path: Path) -> int:
    """Number of parameters from a safetensors header (reads the header only).

    ValueError (FolderReadError, ParseError) says why a header cannot be used,
    so the caller reports that one file and the run still opens.
    """
    handle, size = folder.open(path)
    with handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise ValueError("safetensors file shorter than its 8-byte header length")
        length = struct.unpack("<Q", prefix)[0]
        if length > min(MAX_HEADER, size - 8):
            raise ValueError(f"safetensors header length {length} is larger than the file or {MAX_HEADER} bytes")
        try:
            header = load_json(folder.read_exactly(handle, length), limit=MAX_HEADER)
        except ParseError as error:
            raise ValueError(f"safetensors header: {error}") from None
    if not isinstance(header, dict):
        raise ValueError("safetensors header is not a JSON object")
    total = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        shape = info.get("shape") if isinstance(info, dict) else None
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise ValueError(f"safetensors header: tensor {str(name)[:60]!r} has no valid shape")
        total += math.prod(shape)
        if total >= MAX_PARAMS:
            raise ValueError("safetensors header declares more parameters than any model has")
    return total


def _by_id(item: tuple[str, Path, Any]) -> str:
    return item[0].lower()


class RunsReader:
    """Index a folder of training runs into model entries (used by the source and `index build`)."""

    def __init__(
        self, root: str | Path, source: str | None = None, budget: Budget | None = None, folder: Folder | None = None
    ):
        # `folder` reads the runs where they lie (an ObjectFolder on object storage); else the local folder `root`.
        self.folder = folder or Folder(Path(root).expanduser(), budget)
        self.root = self.folder.given
        self.source = source or str(root)
        self.budget = budget

    def model_id(self, run: Run) -> str:
        parts = list(run.folder.relative_to(self.root).parts) if run.folder != self.root else []
        if parts and parts[0] == "lightning_logs":
            parts[0] = self.folder.name
        parts = [p for p in parts if p not in ("lightning_logs",)] or [self.folder.name]
        return parts[0] if len(parts) == 1 else f"{parts[0]}/{'.'.join(parts[1:])}"

    def read(self) -> tuple[list[ModelEntry], list[Problem]]:
        if not self.folder.is_dir():
            raise ZooError(f"{self.source}: not a folder")
        scanner = Scanner(self.root, self.source, self.budget, self.folder)
        scanner.scan()
        hub_runs = lmeval.attach_evals(scanner)
        cards: dict[Path, Path] = {path.parent: path for path in scanner.card_candidates}
        raw: list[tuple[str, Path, Callable[[], dict[str, Any]]]] = []
        for run in scanner.runs.values():
            if not run.checkpoints:
                continue
            try:
                model_id = safety.check_model_id(self.model_id(run))
            except ValueError as error:
                scanner.report(run.folder, f"folder name breaks the id rules ({error}); skipped")
                continue
            raw.append((model_id, run.folder, partial(self.entry, run, model_id, cards, scanner)))
        for repo, run in sorted(hub_runs.items()):
            raw.append((repo, run.folder, partial(self.hub_entry, repo, run, cards, scanner)))
        # Entries are built inside the one validate-and-skip loop: odd input in one run is that run's problem.
        candidates = ((str(folder), model_id, build) for model_id, folder, build in sorted(raw, key=_by_id))
        models = validate_models(candidates, scanner.problems)
        return models, scanner.problems.as_list()

    @staticmethod
    def _params(path: Path, scanner: Scanner) -> int | None:
        """Parameters in one safetensors file, or None with the reason reported (the run still opens)."""
        try:
            return safetensors_params(scanner.folder, path)
        except (FolderReadError, ValueError) as error:  # ParseError is a ValueError
            scanner.report(path, f"{error}; parameter count left out")
            return None

    def _card(self, folder: Path, cards: dict[Path, Path], scanner: Scanner) -> Card | None:
        path = cards.get(folder)
        if path is None:
            return None
        try:
            card = read_card(scanner.folder.read(path, MAX_CARD).decode("utf-8", errors="replace"))
        except FolderReadError as error:
            scanner.report(path, f"{error}; skipped")
            return None
        for message in card.problems:
            scanner.report(path, message)
        return card

    def entry(self, run: Run, model_id: str, cards: dict[Path, Path], scanner: Scanner) -> dict[str, Any]:
        """The index entry of one training run: its checkpoints with their metrics, metadata, the card."""
        checkpoints = _with_history(run)
        data: dict[str, Any] = {}
        # metrics + curves from the run's TensorBoard event files, read through the folder (local or object storage)
        tensorboard.attach_scalars(scanner.folder, run.folder, scanner.event_files, checkpoints, data, scanner.report)
        default = None
        if run.best and run.best in run.checkpoints:
            default = run.best
            run.checkpoints[run.best].notes = "best checkpoint (trainer_state.json best_model_checkpoint)"
        architectures = run.config.get("architectures")
        architecture = (
            architectures[0]
            if isinstance(architectures, list) and architectures and isinstance(architectures[0], str)
            else None
        )
        data |= {
            "id": model_id,
            "framework": "pytorch" if run.kinds & {"trainer", "lightning"} else None,
            "library": "transformers" if architecture else None,
            "architecture": architecture,
            "task": trainer.task_of(architecture),
            "tags": sorted(
                run.kinds
                | ({str(run.config["model_type"])} if isinstance(run.config.get("model_type"), str) else set())
            ),
        }
        if run.adapter_base:
            data.update(library="peft", base_model=run.adapter_base[:200])
        chosen = run.checkpoints[default] if default else checkpoints[-1]
        tensors = [self.root / f.path for f in chosen.files if f.format == "safetensors" and f.path]
        if tensors:
            counts = [self._params(path, scanner) for path in tensors]
            data["num_params"] = None if None in counts else sum(c for c in counts if c is not None)
        card = self._card(run.folder, cards, scanner)
        description = (
            f"Training run `{scanner.rel(run.folder)}` ({', '.join(sorted(run.kinds))}): "
            f"{len(checkpoints)} checkpoint(s), indexed from the folder.\n"
        )
        metrics_all = chosen.metrics
        if card is not None:
            data.update({k: v for k, v in card.fields.items() if v})
            description = card.body or description
            if card.metrics:
                data["metrics"] = {**metrics_all, **card.metrics}
        data["description"] = description
        data["headline_metric"] = headline(data.get("metrics") or metrics_all)
        data["default_checkpoint"] = default
        data["checkpoints"] = [checkpoint_data(c) for c in checkpoints]
        return {k: v for k, v in data.items() if v is not None}

    def hub_entry(self, repo: str, run: Run, cards: dict[Path, Path], scanner: Scanner) -> dict[str, Any]:
        checkpoints = sorted(run.checkpoints.values(), key=order)
        last = checkpoints[-1]
        folders = sorted({scanner.rel(p) for c in checkpoints for p in c.paths})
        data: dict[str, Any] = {
            "id": repo,
            "repo": repo,
            "library": "transformers",
            "framework": "pytorch",
            "task": run.config.get("_task"),
            "tags": ["lm-evaluation-harness"],
            "description": (
                f"Training stages of the Hub repo `{repo}`, from {len(checkpoints)} lm-evaluation-harness "
                f"result file(s) in {', '.join(f'`{f}`' for f in folders)}. Each checkpoint pins the "
                "revision that was evaluated; the weights stay on the Hub.\n"
            ),
            "headline_metric": headline(last.metrics),
            "checkpoints": [checkpoint_data(c) for c in checkpoints],
        }
        card = self._card(run.folder, cards, scanner)
        if card is not None:
            data.update({k: v for k, v in card.fields.items() if v and k != "library"})
            if card.body:
                data["description"] = card.body
        return {k: v for k, v in data.items() if v is not None}


def _with_history(run: Run) -> list[Ckpt]:
    """The run's checkpoints in training order, each with the metrics and epoch its logs give at its step
    (a Trainer run's top-level weights placed at the last step)."""
    final = run.checkpoints.get("final")
    if "trainer" in run.kinds and final is not None and final.step is None:
        # A Trainer run's top-level weights: saved at the end of training.
        steps = [c.step for c in run.checkpoints.values() if c.step is not None]
        final.step = run.global_step if run.global_step is not None else max(steps, default=None)
    checkpoints = sorted(run.checkpoints.values(), key=order)
    for checkpoint in checkpoints:
        history, epoch = trainer.history_metrics(run.history, checkpoint.step)
        if run.lightning_rows:
            history.update(lightning.checkpoint_metrics(run.lightning_rows, checkpoint))
        checkpoint.metrics = {**history, **checkpoint.metrics}
        if checkpoint.epoch is None and epoch is not None:
            checkpoint.epoch = epoch
    return checkpoints
