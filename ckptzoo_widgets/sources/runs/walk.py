"""One walk of a runs folder: what lies where, read through the folder rule (`sources/_folder.py`).

The walk finds files and hands each kind to its parser (`trainer`, `lightning`,
`lmeval`); plain weight files and configs are read here.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath
from typing import Any

from pydantic import ValidationError

from ... import safety
from ...decode import ParseError, load_json
from ...schema import WEIGHT_SUFFIXES, FileEntry, Problem, Problems
from .. import tensorboard
from .._folder import Budget, BudgetExhausted, Folder, FolderReadError
from .._parse import epoch_of, step_of
from ..modelcard import metric_name
from . import lightning, lmeval, trainer
from .state import CHECKPOINT_DIR, LIGHTNING_SUFFIX, Ckpt, Eval, Run

# Plain weight files: every weight suffix the index knows, but Lightning's (read with its metrics).
PLAIN_SUFFIXES = tuple(suffix for suffix in WEIGHT_SUFFIXES if suffix != LIGHTNING_SUFFIX)
# Files with a weight suffix that are not weights (Trainer and Lightning state).
NOT_WEIGHTS = re.compile(
    r"^(optimizer|scheduler|scaler|training_args|rng_state(_\d+)?|trainer_state|"
    r"optimizer_\d+|random_states(_\d+)?|lr_scheduler)\.(pt|pth|bin|safetensors)$"
)
HF_STEMS = {"model", "pytorch_model", "adapter_model", "tf_model", "diffusion_pytorch_model"}
SHARD = re.compile(r"^(?P<stem>.+?)-\d{5}-of-\d{5}$")
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


class Scanner:
    """The walk's state: runs found, evaluations, card candidates, problems; reads go through `folder`."""

    def __init__(self, root: Path, source: str, budget: Budget | None = None, folder: Folder | None = None):
        self.root = root
        self.source = source
        self.folder = folder or Folder(root, budget)
        self.problems = Problems()
        self.runs: dict[Path, Run] = {}
        self.evals: list[Eval] = []
        self.card_candidates: list[Path] = []
        self.event_files: list[Path] = []  # TensorBoard's, read per run by `tensorboard.attach_scalars`

    def report(self, path: PurePath | str, message: str, entry: str = "") -> None:
        self.problems.add(Problem(str(self.root), entry or self.rel(path), "", message))

    def rel(self, path: PurePath | str) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix() or "."
        except ValueError:
            return str(path)

    def run(self, folder: Path) -> Run:
        if folder not in self.runs:
            self.runs[folder] = Run(folder)
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
            return FileEntry.model_validate({"path": self.rel(path), "size": size})
        except ValidationError as error:
            self.report(path, f"unusable file name ({error.errors()[0]['msg']}); skipped")
            return None

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
            trainer.trainer_checkpoint(self, folder, int(match.group(1)), names)
        else:
            if "trainer_state.json" in names or any(CHECKPOINT_DIR.match(d) for d in dirnames):
                trainer.trainer_root(self, folder, names)
            self.plain_weights(folder, names)
            for name in sorted(n for n in names if n.endswith(LIGHTNING_SUFFIX)):
                lightning.lightning_file(self, folder / name)
            if "metrics.csv" in names:
                lightning.lightning_metrics(self, folder / "metrics.csv")
        for name in sorted(n for n in names if n.endswith(".json") and n not in NOT_EVAL_JSON):
            if not name.endswith(".index.json") and not name.startswith("tokenizer"):
                lmeval.maybe_eval(self, folder / name)
        if "README.md" in names:
            self.card_candidates.append(folder / "README.md")
        self.event_files += [folder / name for name in sorted(names) if tensorboard.is_event_file(name)]

    def configs(self, run: Run, folder: Path, names: set[str]) -> None:
        if "config.json" in names and not run.config:
            config = self.read_json(folder / "config.json")
            if isinstance(config, dict):
                run.config = config
        if "adapter_config.json" in names and run.adapter_base is None:
            adapter = self.read_json(folder / "adapter_config.json")
            if isinstance(adapter, dict) and isinstance(adapter.get("base_model_name_or_path"), str):
                run.adapter_base = adapter["base_model_name_or_path"]

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
            checkpoint_name = self.checkpoint_name(key, folder / members[0])
            if checkpoint_name is None:
                continue
            name = checkpoint_name
            checkpoint = run.checkpoints.get(name) or Ckpt(name, step=step_of(key), epoch=epoch_of(key))
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
            name = metric_name(key) if key.lower() not in ("epoch", "step", "global_step") else None
            if name:
                metrics[name] = float(value)
        return metrics
