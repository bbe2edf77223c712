"""Hugging Face Trainer output: `checkpoint-N/` folders, `trainer_state.json`, the task from `config.json`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._parse import number as _number
from .._parse import whole as _int_or_none
from ..modelcard import metric_name
from .state import HF_WEIGHTS, Ckpt, Run

if TYPE_CHECKING:
    from .walk import Scanner

# Architecture class suffix -> pipeline_tag.
TASK_BY_SUFFIX = (
    ("ForCausalLM", "text-generation"),
    ("LMHeadModel", "text-generation"),
    ("ForMaskedLM", "fill-mask"),
    ("ForSequenceClassification", "text-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForImageClassification", "image-classification"),
    ("ForObjectDetection", "object-detection"),
    ("ForConditionalGeneration", "text2text-generation"),
    ("ForSpeechSeq2Seq", "automatic-speech-recognition"),
    ("ForAudioClassification", "audio-classification"),
)


def trainer_state(scan: Scanner, run: Run, path: Path) -> None:
    state = scan.read_json(path)
    if state is None:
        return
    if not isinstance(state, dict) or not isinstance(state.get("log_history", []), list):
        scan.report(path, "not a trainer_state.json (no 'log_history' list); skipped")
        return
    history = [entry for entry in state.get("log_history", []) if isinstance(entry, dict)]
    step = _int_or_none(_number(state.get("global_step")))
    if step is not None and path.parent == run.folder:
        run.global_step = step
    if len(history) >= len(run.history):
        run.history = history
    best = state.get("best_model_checkpoint")
    if isinstance(best, str) and best:
        run.best = best.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def trainer_root(scan: Scanner, folder: Path, names: set[str]) -> None:
    run = scan.run(folder)
    run.kinds.add("trainer")
    if "trainer_state.json" in names:
        trainer_state(scan, run, folder / "trainer_state.json")
    scan.configs(run, folder, names)


def trainer_checkpoint(scan: Scanner, folder: Path, step: int, names: set[str]) -> None:
    run = scan.run(folder.parent)
    run.kinds.add("trainer")
    weights = sorted(n for n in names if HF_WEIGHTS.match(n))
    if not weights:
        scan.report(folder, "checkpoint folder without weights (half-written?); skipped")
        return
    checkpoint = Ckpt(folder.name, step=step)
    for name in weights:
        entry = scan.file_entry(folder / name)
        if entry:
            checkpoint.files.append(entry)
    if not checkpoint.files:
        return
    run.checkpoints[checkpoint.name] = checkpoint
    checkpoint.paths.append(folder)
    if "trainer_state.json" in names:
        trainer_state(scan, run, folder / "trainer_state.json")
    scan.configs(run, folder, names)


def history_metrics(history: list[dict[str, Any]], step: int | None) -> tuple[dict[str, float], float | None]:
    """The latest `eval_*`, `loss`, `learning_rate` logged at or before `step`, and the epoch."""
    metrics: dict[str, float] = {}
    epoch = None
    if step is None:
        return metrics, epoch
    for entry in history:
        at = _number(entry.get("step"))
        if at is None or at > step:
            continue
        for key, value in entry.items():
            number = _number(value)
            if number is None or not isinstance(key, str):
                continue
            if key.startswith("eval_") or key in ("loss", "learning_rate"):
                name = metric_name(key)
                if name:
                    metrics[name] = number
            elif key == "epoch":
                epoch = number if number >= 0 else epoch
    return metrics, epoch


def task_of(architecture: str | None) -> str | None:
    for suffix, task in TASK_BY_SUFFIX:
        if architecture and architecture.endswith(suffix):
            return task
    return None
