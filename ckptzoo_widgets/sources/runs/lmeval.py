"""lm-evaluation-harness result files: metrics for the checkpoint they evaluated, or Hub revisions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import safety
from .._folder import BudgetExhausted, FolderReadError
from .._parse import number as _number
from .._parse import step_of
from ..modelcard import metric_name
from .state import CHECKPOINT_DIR, Ckpt, Eval, Run

if TYPE_CHECKING:
    from .walk import Scanner

EVAL_TASK = {
    "hf-causal": "text-generation",
    "hf-causal-experimental": "text-generation",
    "hf": "text-generation",
    "gpt2": "text-generation",
    "vllm": "text-generation",
    "hf-seq2seq": "text2text-generation",
}


def eval_metrics(results: dict[str, Any]) -> dict[str, float]:
    """lm-evaluation-harness `results` -> `task.metric` (stderr left out; `acc,none` -> `acc`)."""
    metrics: dict[str, float] = {}
    for task, values in results.items():
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            number = _number(value)
            if number is None or not isinstance(key, str):
                continue
            metric, _, filter_name = key.partition(",")
            if metric.endswith("_stderr") or metric == "alias":
                continue
            parts = (task, metric) if filter_name in ("", "none") else (task, metric, filter_name)
            name = metric_name(*parts)
            if name:
                metrics[name] = number
    return metrics


def model_args(config: Any) -> dict[str, str]:
    """`config.model_args` ("pretrained=X,revision=Y" or a dict) as a dict of strings."""
    raw = config.get("model_args") if isinstance(config, dict) else None
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items() if v is not None}
    if isinstance(raw, str):
        pairs = (part.partition("=") for part in raw.split(","))
        return {k.strip(): v.strip() for k, sep, v in pairs if sep}
    return {}


def maybe_eval(scan: Scanner, path: Path) -> None:
    try:
        head = scan.folder.head(path, 1 << 16)
    except BudgetExhausted:
        raise
    except FolderReadError as error:
        scan.report(path, f"{error}; skipped")
        return
    if b'"results"' not in head:
        return
    data = scan.read_json(path)
    if not (
        isinstance(data, dict)
        and isinstance(data.get("results"), dict)
        and ("config" in data or "versions" in data or "configs" in data)
    ):
        return
    args = model_args(data.get("config"))
    pretrained = args.get("pretrained") or args.get("model") or args.get("path")
    revision = args.get("revision")
    repo = None
    if pretrained and not pretrained.startswith((".", "/", "~")) and "\\" not in pretrained:
        try:
            repo = safety.check_model_id(pretrained)
        except ValueError:
            repo = None
    if revision is not None:
        try:
            safety.check_revision(revision)
        except ValueError as error:
            scan.report(path, f"{error}; skipped")
            return
    step = None
    for text in (revision or "", pretrained or "", path.stem):
        step = step_of(text)
        if step is not None:
            break
    metrics = eval_metrics(data["results"])
    if not metrics:
        scan.report(path, "evaluation results hold no numeric metrics; skipped")
        return
    kind = data.get("config", {}).get("model") if isinstance(data.get("config"), dict) else None
    scan.evals.append(Eval(path, metrics, repo, revision, step, EVAL_TASK.get(str(kind))))


def attach_evals(scan: Scanner) -> dict[str, Run]:
    """Evaluations to the checkpoints they evaluated; Hub-only ones grouped by repo."""
    hub: dict[str, Run] = {}
    for ev in scan.evals:
        run = owner(scan, ev.path)
        if run is not None:
            target = match(run, ev)
            if target is None:
                scan.report(ev.path, f"no checkpoint with step {ev.step} in {scan.rel(run.folder)}; skipped")
            else:
                target.metrics.update(ev.metrics)
            continue
        if ev.repo is None:
            scan.report(ev.path, "evaluation names no Hub repo and lies beside no weights; skipped")
            continue
        revision = ev.revision or "main"
        try:
            name = safety.check_checkpoint_name(revision)
        except ValueError as error:
            scan.report(ev.path, f"revision {revision!r} cannot name a checkpoint ({error}); skipped")
            continue
        group = hub.setdefault(ev.repo, Run(ev.path.parent, kinds={"evals"}))
        group.config.setdefault("_task", ev.task)
        checkpoint = group.checkpoints.setdefault(name, Ckpt(name, step=ev.step, revision=revision))
        checkpoint.metrics.update(ev.metrics)
        checkpoint.paths.append(ev.path.parent)
    return hub


def owner(scan: Scanner, path: Path) -> Run | None:
    """The nearest run with weights at or above an evaluation file's folder."""
    folder = path.parent
    while True:
        if CHECKPOINT_DIR.match(folder.name) and folder.parent in scan.runs:
            folder = folder.parent
        run = scan.runs.get(folder)
        if run is not None and run.checkpoints:
            return run
        if folder == scan.root or folder.parent == folder:
            return None
        folder = folder.parent


def match(run: Run, ev: Eval) -> Ckpt | None:
    for checkpoint in run.checkpoints.values():
        if ev.path.parent in checkpoint.paths and CHECKPOINT_DIR.match(ev.path.parent.name):
            return checkpoint
    if ev.step is not None:
        found = [c for c in run.checkpoints.values() if c.step == ev.step]
        if found:
            return found[0]
    if len(run.checkpoints) == 1:
        return next(iter(run.checkpoints.values()))
    return None
