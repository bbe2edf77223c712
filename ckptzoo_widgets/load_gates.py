"""Loaders that execute: what a load path would run from a model's files, and the gate in front of it.

Some loaders run code that comes with the weights: MLflow's `pyfunc` and the
flavours that unpickle (`python_model.pkl`, sklearn's `model.pkl`, pytorch's
whole-model `model.pth`) and MLflow models that carry Python files
(`code_paths`, models from code) or a loader module of their own; a Keras
archive with lambda layers; a `torch.hub` repo's `hubconf.py`. Every load path
codegen writes is either generated with the library's own safety switch
(`weights_only=True`, `safe_mode=True`, `trust_repo="check"`) or scanned first:

- `scan_model_folder(folder)` walks a model's folder under the folder rule
  (`sources/_folder.Folder`: links stay inside, regular files only), scans every
  pickle in it with the project's scanner (`pickle_scan.scan_pickle_file`, within
  its budgets) and notes Python files and a loader module outside
  MLflow: one `ModelScan`, `safe` only when nothing in the folder would import code;
- `scanned_mlflow_model(uri)` (public as `cz.scanned_mlflow_model`) is what MLflow
  load code calls before `mlflow.<flavour>.load_model`: it downloads the model,
  scans it, and raises `UnsafeModelError` naming what would be imported unless
  the user passed `trust=True`;
- the MLflow reader scans a model kept on this machine when the zoo opens and
  writes the verdict into the card and the checkpoint's notes; codegen's
  `GATE_NOTES` are the comments the code box shows above such code.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ZooError
from .pickle_scan import PickleVerdict, scan_pickle_file
from .text import one_line

# Files read as pickles by some loader: by name, or by their first bytes (PROTO, or a zip as torch writes).
PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".sav", ".cloudpickle")
_PICKLE_HEADS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK\x03\x04")
_LOADER = re.compile(rb"^\s*loader_module:\s*([A-Za-z0-9_.]+)\s*$", re.M)
MAX_FILES = 10_000  # files of one model folder looked at
MAX_SHOWN = 5


class UnsafeModelError(ZooError):
    """A model whose loading would import code beyond tensors; not loaded unless trusted."""


@dataclass
class ModelScan:
    """What loading a model's folder would run: each pickle's verdict, Python files, a foreign loader."""

    pickles: list[tuple[str, PickleVerdict]] = field(default_factory=list)  # (path in the folder, verdict)
    code: list[str] = field(default_factory=list)  # Python files the loader may import
    loader: str | None = None  # an MLmodel loader_module outside mlflow.*
    incomplete: str | None = None  # why not every file was looked at

    @property
    def safe(self) -> bool:
        return (
            not self.code and self.loader is None and self.incomplete is None and all(v.safe for _, v in self.pickles)
        )

    def describe(self) -> str:
        """One plain line: what loading would import or run, or that nothing would."""
        parts = [f"{name}: {verdict.describe()}" for name, verdict in self.pickles if not verdict.safe]
        if self.code:
            more = f" and {len(self.code) - MAX_SHOWN} more" if len(self.code) > MAX_SHOWN else ""
            parts.append(f"Python files the loader imports: {', '.join(self.code[:MAX_SHOWN])}{more}")
        if self.loader:
            parts.append(f"its MLmodel names the loader module {self.loader}")
        if self.incomplete:
            parts.append(f"not fully scanned ({self.incomplete})")
        if not parts:
            count = len(self.pickles)
            return f"scanned: {count} pickle(s), each a plain state dict; no Python files"
        return one_line("; ".join(parts), 600)


def _is_pickle(name: str, head: bytes) -> bool:
    return name.lower().endswith(PICKLE_SUFFIXES) or head.startswith(_PICKLE_HEADS)


def scan_model_folder(folder: str | Path) -> ModelScan:
    """Scan every pickle in a model's folder (and note its Python files); never raises for content."""
    from .sources._folder import BudgetExhausted, Folder, FolderReadError

    root = Folder(folder)
    scan = ModelScan()
    if not root.is_dir():
        scan.incomplete = "not a folder"
        return scan
    seen = 0
    try:
        for dirpath, dirnames, filenames in root.walk():
            dirnames.sort()
            for name in sorted(filenames):
                seen += 1
                if seen > MAX_FILES:
                    scan.incomplete = f"more than {MAX_FILES:,} files"
                    return scan
                path = dirpath / name
                shown = path.relative_to(root.given).as_posix()
                try:
                    head = root.head(path, 4096)
                except FolderReadError as error:
                    if name.lower().endswith((*PICKLE_SUFFIXES, ".py")):
                        scan.incomplete = f"{one_line(shown, 100)}: {error}"
                    continue
                if name.endswith(".py"):
                    scan.code.append(one_line(shown, 200))
                elif name == "MLmodel":
                    match = _LOADER.search(root.read(path, 1 << 20))
                    module = match.group(1).decode() if match else ""
                    if module and not module.startswith("mlflow."):
                        scan.loader = module[:200]
                elif _is_pickle(name, head):
                    # Scanned in place, not hashed first: a model's weights may be gigabytes.
                    scan.pickles.append((one_line(shown, 200), scan_pickle_file(os.path.realpath(path))))
    except (BudgetExhausted, FolderReadError, OSError) as error:
        scan.incomplete = one_line(str(error), 200)
    return scan


def scanned_mlflow_model(uri: str, *, trust: bool = False, dst_path: str | None = None) -> str:
    """Download the MLflow model at `uri`, scan every pickle in it, and return its local folder.

    Raises `UnsafeModelError` (naming what would be imported or run) when a pickle would import
    anything beyond tensors, the model carries Python files or its own loader module, or the scan
    could not tell; `trust=True` returns the folder anyway, for a model whose code you trust.
    Load the folder with the flavour's own `mlflow.<flavour>.load_model(path)`.
    """
    try:
        import mlflow
    except ImportError:
        raise ZooError("the 'mlflow' package is needed (pip install 'ckptzoo-widgets[mlflow]')") from None
    local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=dst_path)
    scan = scan_model_folder(local)
    if not scan.safe and not trust:
        raise UnsafeModelError(
            f"{one_line(uri, 200)}: loading it would run code from its files ({scan.describe()}); "
            "not loaded. Pass trust=True only if you trust whoever wrote this model"
        )
    return str(local)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def card_line(scan: ModelScan | None) -> str:
    """The scan as one markdown-safe line for a model card (None: kept elsewhere, not scanned yet)."""
    if scan is None:
        return "not scanned yet (kept on a server): the load code scans it before MLflow loads it"
    verdict = "nothing in it would import code" if scan.safe else "UNSAFE"
    return _MARKDOWN.sub(r"\\\1", f"{verdict}: {scan.describe()}")
