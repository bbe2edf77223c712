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

import csv
import io
import math
import re
import struct
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import safety
from ..decode import ParseError, load_json
from ..errors import ZooError
from ..schema import MAX_COUNT as MAX_PARAMS
from ..schema import WEIGHT_SUFFIXES, FileEntry, ModelEntry, Problem, Problems, validate_models
from . import tensorboard
from ._folder import Budget, BudgetExhausted, Folder, FolderReadError
from ._parse import epoch_of, step_of
from ._parse import number as _number
from ._parse import whole as _int_or_none
from .base import LoadedSource
from .modelcard import Card, metric_name, read_card

LIGHTNING_SUFFIX = ".ckpt"
# Plain weight files: every weight suffix the index knows, but Lightning's (read with its metrics).
PLAIN_SUFFIXES = tuple(suffix for suffix in WEIGHT_SUFFIXES if suffix != LIGHTNING_SUFFIX)
# Files with a weight suffix that are not weights (Trainer and Lightning state).
NOT_WEIGHTS = re.compile(
    r"^(optimizer|scheduler|scaler|training_args|rng_state(_\d+)?|trainer_state|"
    r"optimizer_\d+|random_states(_\d+)?|lr_scheduler)\.(pt|pth|bin|safetensors)$"
)
# Weight files of a Hugging Face save (`save_pretrained`), possibly sharded.
HF_WEIGHTS = re.compile(
    r"^(model|pytorch_model|adapter_model|tf_model|diffusion_pytorch_model)"
    r"(-\d{5}-of-\d{5})?\.(safetensors|bin|h5|onnx)$"
)
HF_STEMS = {"model", "pytorch_model", "adapter_model", "tf_model", "diffusion_pytorch_model"}
SHARD = re.compile(r"^(?P<stem>.+?)-\d{5}-of-\d{5}$")
CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d{1,15})$")
KEY_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_/]*)=(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)")
NOT_EVAL_JSON = {
    "config.json",
    "trainer_state.json",
    "adapter_config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "preprocessor_config.json",
    "index.json",
    "vocab.json",
    "added_tokens.json",
}
SKIP_DIRS = {"__pycache__", "node_modules", "wandb", "mlruns", ".ipynb_checkpoints"}
MAX_JSON = 64 << 20
MAX_CSV = 64 << 20
MAX_CARD = 1 << 20  # a model card (the index keeps at most 200,000 characters of it)
MAX_HEADER = 100 << 20  # a safetensors header
HEADLINE_PREFERENCE = (
    "eval_accuracy",
    "eval_f1",
    "eval_loss",
    "val_acc",
    "val_accuracy",
    "val_loss",
    "lambada_openai.acc",
    "piqa.acc",
    "arc_easy.acc",
    "loss",
)
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
EVAL_TASK = {
    "hf-causal": "text-generation",
    "hf-causal-experimental": "text-generation",
    "hf": "text-generation",
    "gpt2": "text-generation",
    "vllm": "text-generation",
    "hf-seq2seq": "text2text-generation",
}


# --- small parsers ------------------------------------------------------------


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


# --- what the walk collects ---------------------------------------------------


@dataclass
class _Ckpt:
    name: str
    step: int | None = None
    epoch: float | None = None
    files: list[FileEntry] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    revision: str | None = None
    notes: str | None = None
    paths: list[Path] = field(default_factory=list)


@dataclass
class _Run:
    folder: Path
    kinds: set[str] = field(default_factory=set)
    checkpoints: dict[str, _Ckpt] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    best: str | None = None
    global_step: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    adapter_base: str | None = None
    lightning_rows: list[dict[str, float]] = field(default_factory=list)
    card: Card | None = None


@dataclass
class _Eval:
    path: Path
    metrics: dict[str, float]
    repo: str | None
    revision: str | None
    step: int | None
    task: str | None


class _Scanner:
    def __init__(self, root: Path, source: str, budget: Budget | None = None):
        self.root = root
        self.source = source
        self.folder = Folder(root, budget)
        self.problems = Problems()
        self.runs: dict[Path, _Run] = {}
        self.evals: list[_Eval] = []
        self.card_candidates: list[Path] = []

    # -- reporting

    def report(self, path: Path | str, message: str, entry: str = "") -> None:
        self.problems.add(Problem(str(self.root), entry or self.rel(path), "", message))

    def rel(self, path: Path | str) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix() or "."
        except ValueError:
            return str(path)

    def run(self, folder: Path) -> _Run:
        if folder not in self.runs:
            self.runs[folder] = _Run(folder)
        return self.runs[folder]

    def read(self, path: Path, limit: int) -> bytes | None:
        """The bytes of a file found in the folder, or None (reported) when the folder rule refuses it."""
        try:
            return self.folder.read(path, limit)
        except BudgetExhausted:
            raise
        except FolderReadError as error:
            self.report(path, f"{error}; skipped")
        return None

    def read_json(self, path: Path) -> Any:
        data = self.read(path, MAX_JSON)
        if data is None:
            return None
        try:
            return load_json(data, limit=MAX_JSON)
        except ParseError as error:
            self.report(path, f"{error}; skipped")
        return None

    def file_entry(self, path: Path) -> FileEntry | None:
        try:
            size = self.folder.size(path)
        except BudgetExhausted:
            raise
        except FolderReadError as error:
            self.report(path, f"{error}; skipped")
            return None
        try:
            return FileEntry(path=self.rel(path), size=size)
        except ValidationError as error:
            self.report(path, f"unusable file name ({error.errors()[0]['msg']}); skipped")
            return None

    # -- the walk

    def scan(self) -> None:
        def on_error(error: OSError) -> None:
            self.report(error.filename or self.root, f"cannot list ({error.strerror or type(error).__name__})")

        try:
            for folder, dirnames, filenames in self.folder.walk(on_error):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
                self.scan_folder(folder, dirnames, filenames)
        except BudgetExhausted as error:
            self.report(self.root, f"{error}; what was found so far is indexed")

    def scan_folder(self, folder: Path, dirnames: list[str], filenames: list[str]) -> None:
        names = set(filenames)
        match = CHECKPOINT_DIR.match(folder.name)
        if match and folder != self.root:
            self.trainer_checkpoint(folder, int(match.group(1)), names)
        else:
            if "trainer_state.json" in names or any(CHECKPOINT_DIR.match(d) for d in dirnames):
                self.trainer_root(folder, names)
            self.plain_weights(folder, names)
            for name in sorted(n for n in names if n.endswith(LIGHTNING_SUFFIX)):
                self.lightning_file(folder / name)
            if "metrics.csv" in names:
                self.lightning_metrics(folder / "metrics.csv")
        for name in sorted(n for n in names if n.endswith(".json") and n not in NOT_EVAL_JSON):
            if not name.endswith(".index.json") and not name.startswith("tokenizer"):
                self.maybe_eval(folder / name)
        if "README.md" in names:
            self.card_candidates.append(folder / "README.md")

    # -- Hugging Face Trainer

    def trainer_state(self, run: _Run, path: Path) -> None:
        state = self.read_json(path)
        if state is None:
            return
        if not isinstance(state, dict) or not isinstance(state.get("log_history", []), list):
            self.report(path, "not a trainer_state.json (no 'log_history' list); skipped")
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
        # Trainer does not store the metric name in trainer_state; the args do (not read: pickle).

    def trainer_root(self, folder: Path, names: set[str]) -> None:
        run = self.run(folder)
        run.kinds.add("trainer")
        if "trainer_state.json" in names:
            self.trainer_state(run, folder / "trainer_state.json")
        self.configs(run, folder, names)

    def trainer_checkpoint(self, folder: Path, step: int, names: set[str]) -> None:
        run = self.run(folder.parent)
        run.kinds.add("trainer")
        weights = sorted(n for n in names if HF_WEIGHTS.match(n))
        if not weights:
            self.report(folder, "checkpoint folder without weights (half-written?); skipped")
            return
        checkpoint = _Ckpt(folder.name, step=step)
        for name in weights:
            entry = self.file_entry(folder / name)
            if entry:
                checkpoint.files.append(entry)
        if not checkpoint.files:
            return
        run.checkpoints[checkpoint.name] = checkpoint
        checkpoint.paths.append(folder)
        if "trainer_state.json" in names:
            self.trainer_state(run, folder / "trainer_state.json")
        self.configs(run, folder, names)

    def configs(self, run: _Run, folder: Path, names: set[str]) -> None:
        if "config.json" in names and not run.config:
            config = self.read_json(folder / "config.json")
            if isinstance(config, dict):
                run.config = config
        if "adapter_config.json" in names and run.adapter_base is None:
            adapter = self.read_json(folder / "adapter_config.json")
            if isinstance(adapter, dict) and isinstance(adapter.get("base_model_name_or_path"), str):
                run.adapter_base = adapter["base_model_name_or_path"]

    # -- plain weight files (and a Trainer run's final weights)

    def plain_weights(self, folder: Path, names: set[str]) -> None:
        weights = sorted(n for n in names if n.lower().endswith(PLAIN_SUFFIXES) and not NOT_WEIGHTS.match(n))
        if not weights:
            return
        run = self.run(folder)
        run.kinds.add("files")
        self.configs(run, folder, names)
        groups: dict[str, list[str]] = {}
        for name in weights:
            stem = name.rsplit(".", 1)[0]
            shard = SHARD.match(stem)
            stem = shard.group("stem") if shard else stem
            key = "final" if stem in HF_STEMS else stem
            groups.setdefault(key, []).append(name)
        for key, members in groups.items():
            name = self.checkpoint_name(key, folder / members[0])
            if name is None:
                continue
            checkpoint = run.checkpoints.get(name) or _Ckpt(name, step=step_of(key), epoch=epoch_of(key))
            for member in members:
                entry = self.file_entry(folder / member)
                if entry:
                    checkpoint.files.append(entry)
            if checkpoint.files:
                run.checkpoints[name] = checkpoint
                checkpoint.paths.append(folder)
                checkpoint.metrics.update(self.name_metrics(key))

    def checkpoint_name(self, stem: str, path: Path) -> str | None:
        """The file stem when it is a valid name, else `epoch-E-step-S` from what it says; None + report."""
        try:
            return safety.check_checkpoint_name(stem)
        except ValueError as error:
            reason = str(error)
        step, epoch = step_of(stem), epoch_of(stem)
        if step is not None or epoch is not None:
            parts = []
            if epoch is not None:
                parts.append(f"epoch-{epoch:g}")
            if step is not None:
                parts.append(f"step-{step}")
            version = re.search(r"-v(\d+)$", stem)
            if version:
                parts.append(f"v{version.group(1)}")
            return "-".join(parts)
        self.report(path, f"{reason}; skipped")
        return None

    @staticmethod
    def name_metrics(stem: str) -> dict[str, float]:
        """`val_loss=0.12` in a file name -> {"val_loss": 0.12} (epoch and step are not metrics)."""
        metrics = {}
        for key, value in KEY_VALUE.findall(stem):
            if key.lower() not in ("epoch", "step", "global_step") and metric_name(key):
                metrics[metric_name(key)] = float(value)  # type: ignore[index]
        return metrics

    # -- PyTorch Lightning

    def lightning_run_folder(self, folder: Path) -> Path:
        return folder.parent if folder.name == "checkpoints" and folder != self.root else folder

    def lightning_file(self, path: Path) -> None:
        run = self.run(self.lightning_run_folder(path.parent))
        run.kinds.add("lightning")
        stem = path.name[: -len(LIGHTNING_SUFFIX)]
        name = self.checkpoint_name(stem, path)
        entry = self.file_entry(path) if name else None
        if not entry:
            return
        checkpoint = run.checkpoints.get(name) or _Ckpt(name, step=step_of(stem), epoch=epoch_of(stem))
        checkpoint.files.append(entry)
        checkpoint.metrics.update(self.name_metrics(stem))
        checkpoint.paths.append(path.parent)
        run.checkpoints[name] = checkpoint

    def lightning_metrics(self, path: Path) -> None:
        rows: list[dict[str, float]] = []
        data = self.read(path, MAX_CSV)
        if data is None:
            return
        try:
            for raw in csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")):
                row = {k: _number(v) for k, v in raw.items() if k and v not in (None, "")}
                rows.append({k: v for k, v in row.items() if v is not None})
        except (UnicodeDecodeError, csv.Error) as error:
            self.report(path, f"cannot read metrics ({str(error)[:120]}); skipped")
            return
        self.run(path.parent).lightning_rows = rows

    # -- lm-evaluation-harness

    def maybe_eval(self, path: Path) -> None:
        try:
            head = self.folder.head(path, 1 << 16)
        except BudgetExhausted:
            raise
        except FolderReadError as error:
            self.report(path, f"{error}; skipped")
            return
        if b'"results"' not in head:
            return
        data = self.read_json(path)
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
                self.report(path, f"{error}; skipped")
                return
        step = None
        for text in (revision or "", pretrained or "", path.stem):
            step = step_of(text)
            if step is not None:
                break
        metrics = eval_metrics(data["results"])
        if not metrics:
            self.report(path, "evaluation results hold no numeric metrics; skipped")
            return
        kind = data.get("config", {}).get("model") if isinstance(data.get("config"), dict) else None
        self.evals.append(_Eval(path, metrics, repo, revision, step, EVAL_TASK.get(str(kind))))

    # -- assembling

    def attach_evals(self) -> dict[str, _Run]:
        """Evaluations to the checkpoints they evaluated; Hub-only ones grouped by repo."""
        hub: dict[str, _Run] = {}
        for ev in self.evals:
            run = self.owner(ev.path)
            if run is not None:
                target = self.match(run, ev)
                if target is None:
                    self.report(ev.path, f"no checkpoint with step {ev.step} in {self.rel(run.folder)}; skipped")
                else:
                    target.metrics.update(ev.metrics)
                continue
            if ev.repo is None:
                self.report(ev.path, "evaluation names no Hub repo and lies beside no weights; skipped")
                continue
            revision = ev.revision or "main"
            try:
                name = safety.check_checkpoint_name(revision)
            except ValueError as error:
                self.report(ev.path, f"revision {revision!r} cannot name a checkpoint ({error}); skipped")
                continue
            group = hub.setdefault(ev.repo, _Run(ev.path.parent, kinds={"evals"}))
            group.config.setdefault("_task", ev.task)
            checkpoint = group.checkpoints.setdefault(name, _Ckpt(name, step=ev.step, revision=revision))
            checkpoint.metrics.update(ev.metrics)
            checkpoint.paths.append(ev.path.parent)
        return hub

    def owner(self, path: Path) -> _Run | None:
        """The nearest run with weights at or above an evaluation file's folder."""
        folder = path.parent
        while True:
            if CHECKPOINT_DIR.match(folder.name) and folder.parent in self.runs:
                folder = folder.parent
            run = self.runs.get(folder)
            if run is not None and run.checkpoints:
                return run
            if folder == self.root or folder.parent == folder:
                return None
            folder = folder.parent

    @staticmethod
    def match(run: _Run, ev: _Eval) -> _Ckpt | None:
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


def _history_metrics(history: list[dict[str, Any]], step: int | None) -> tuple[dict[str, float], float | None]:
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


def _lightning_metrics(rows: list[dict[str, float]], checkpoint: _Ckpt) -> dict[str, float]:
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


def _order(checkpoint: _Ckpt) -> tuple:
    return (
        checkpoint.step is None,
        checkpoint.step or 0,
        checkpoint.epoch is None,
        checkpoint.epoch or 0,
        checkpoint.name == "last",
        checkpoint.name,
    )


def _headline(metrics: dict[str, float]) -> str | None:
    for name in HEADLINE_PREFERENCE:
        if name in metrics:
            return name
    return next((n for n in metrics if n not in ("learning_rate", "epoch")), None)


def _task_of(architecture: str | None) -> str | None:
    for suffix, task in TASK_BY_SUFFIX:
        if architecture and architecture.endswith(suffix):
            return task
    return None


def _by_id(item: tuple[str, Path, Any]) -> str:
    return item[0].lower()


class RunsReader:
    """Index a folder of training runs into model entries (used by the source and `index build`)."""

    def __init__(self, root: str | Path, source: str | None = None, budget: Budget | None = None):
        self.root = Path(root).expanduser()
        self.source = source or str(root)
        self.budget = budget

    def model_id(self, run: _Run) -> str:
        parts = list(run.folder.relative_to(self.root).parts) if run.folder != self.root else []
        if parts and parts[0] == "lightning_logs":
            parts[0] = self.root.resolve().name
        parts = [p for p in parts if p not in ("lightning_logs",)] or [self.root.resolve().name]
        return parts[0] if len(parts) == 1 else f"{parts[0]}/{'.'.join(parts[1:])}"

    def read(self) -> tuple[list[ModelEntry], list[Problem]]:
        if not self.root.is_dir():
            raise ZooError(f"{self.root}: not a folder")
        scanner = _Scanner(self.root, self.source, self.budget)
        scanner.scan()
        hub_runs = scanner.attach_evals()
        cards: dict[Path, Path] = {path.parent: path for path in scanner.card_candidates}
        raw: list[tuple[str, Path, dict[str, Any]]] = []
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
    def _params(path: Path, scanner: _Scanner) -> int | None:
        """Parameters in one safetensors file, or None with the reason reported (the run still opens)."""
        try:
            return safetensors_params(scanner.folder, path)
        except (FolderReadError, ValueError) as error:  # ParseError is a ValueError
            scanner.report(path, f"{error}; parameter count left out")
            return None

    def _card(self, folder: Path, cards: dict[Path, Path], scanner: _Scanner) -> Card | None:
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

    def entry(self, run: _Run, model_id: str, cards: dict[Path, Path], scanner: _Scanner) -> dict[str, Any]:
        final = run.checkpoints.get("final")
        if "trainer" in run.kinds and final is not None and final.step is None:
            # A Trainer run's top-level weights: saved at the end of training.
            steps = [c.step for c in run.checkpoints.values() if c.step is not None]
            final.step = run.global_step if run.global_step is not None else max(steps, default=None)
        checkpoints = sorted(run.checkpoints.values(), key=_order)
        for checkpoint in checkpoints:
            history, epoch = _history_metrics(run.history, checkpoint.step)
            if run.lightning_rows:
                history.update(_lightning_metrics(run.lightning_rows, checkpoint))
            checkpoint.metrics = {**history, **checkpoint.metrics}
            if checkpoint.epoch is None and epoch is not None:
                checkpoint.epoch = epoch
        data: dict[str, Any] = {}
        tensorboard.attach_scalars(run.folder, checkpoints, data, scanner.report)  # event files: metrics + curves
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
            "task": _task_of(architecture),
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
            data["num_params"] = sum(counts) if None not in counts else None  # type: ignore[arg-type]
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
        data["headline_metric"] = _headline(data.get("metrics") or metrics_all)
        data["default_checkpoint"] = default
        data["checkpoints"] = [self.checkpoint_data(c) for c in checkpoints]
        return {k: v for k, v in data.items() if v is not None}

    def hub_entry(self, repo: str, run: _Run, cards: dict[Path, Path], scanner: _Scanner) -> dict[str, Any]:
        checkpoints = sorted(run.checkpoints.values(), key=_order)
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
            "headline_metric": _headline(last.metrics),
            "checkpoints": [self.checkpoint_data(c) for c in checkpoints],
        }
        card = self._card(run.folder, cards, scanner)
        if card is not None:
            data.update({k: v for k, v in card.fields.items() if v and k != "library"})
            if card.body:
                data["description"] = card.body
        return {k: v for k, v in data.items() if v is not None}

    @staticmethod
    def checkpoint_data(checkpoint: _Ckpt) -> dict[str, Any]:
        data = {
            "name": checkpoint.name,
            "step": checkpoint.step,
            "epoch": checkpoint.epoch,
            "metrics": checkpoint.metrics,
            "files": [f.model_dump(exclude_none=True) for f in checkpoint.files],
            "revision": checkpoint.revision,
            "notes": checkpoint.notes,
        }
        return {k: v for k, v in data.items() if v is not None}


def read_runs(source: str) -> LoadedSource:
    """`cz.open_zoo("runs/")`: every run below the folder, one model per run."""
    path = Path(source.removeprefix("runs:")).expanduser()
    reader = RunsReader(path, source)
    models, problems = reader.read()
    base = str(path.resolve())
    label = path.resolve().name or "runs"
    return LoadedSource(source, label, [m.with_origin(source, base) for m in models], problems, label)


def is_runs_folder(source: str) -> bool:
    """A folder without an index.json (those are static zoos), or an explicit `runs:` prefix."""
    if source.startswith("runs:"):
        return True
    path = Path(source).expanduser()
    return path.is_dir() and not (path / "index.json").is_file() and not (path / "index.parquet").is_file()
