"""`cz.load`: turn a checkpoint of a format the project owns into a usable object.

The built-in zoo's safetensors files carry a `ckptzoo` metadata entry naming
their architecture; loading needs numpy only. Other libraries' checkpoints are
loaded by the code `zoo.load_code(ref)` generates, which the user runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open

from .catalog import Zoo, open_zoo
from .errors import ZooError
from .numpy_nets import DigitsClassifier

VALIDATION_FILE = Path(__file__).resolve().parent / "zoo" / "digits-validation.safetensors"


def _read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    try:
        with safe_open(str(path), framework="np") as handle:
            return {key: handle.get_tensor(key) for key in handle.keys()}, handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise ZooError(f"{path}: not a readable safetensors file ({error})") from None


def load(ref: str, zoo: str | Sequence[str] | Zoo | None = None, *, quiet: bool | None = None) -> DigitsClassifier:
    """Load `model@checkpoint` from `zoo` (the built-in zoo by default), verified against the index."""
    opened = open_zoo(zoo)
    model, checkpoint = opened.resolve(ref)
    if model.library != "ckptzoo":
        raise ZooError(
            f"cz.load reads the project's own formats; {model.id} is a {model.library or 'other'} model: "
            f"run the code of zoo.load_code({ref!r}) instead"
        )
    for path in opened.download(f"{model.id}@{checkpoint.name}", quiet=quiet):
        if path.suffix != ".safetensors":
            continue
        tensors, metadata = _read_safetensors(path)
        try:
            arch = json.loads(metadata["ckptzoo"])["arch"]
        except (KeyError, ValueError, TypeError):
            raise ZooError(f"{path}: safetensors file has no ckptzoo architecture metadata") from None
        try:
            return DigitsClassifier(arch, tensors, ref=f"{model.id}@{checkpoint.name}")
        except (ValueError, KeyError) as error:
            raise ZooError(f"{path}: cannot build the {arch!r} model ({error})") from None
    raise ZooError(f"{model.id}@{checkpoint.name}: no safetensors file to load")


def digits_validation() -> tuple[np.ndarray, np.ndarray]:
    """The built-in zoo's validation split: X (360, 64) pixel values 0-16 and labels y.

    The same rows of scikit-learn's `load_digits()` the metrics were measured
    on, shipped with the package so a classroom needs nothing else.
    """
    tensors, _ = _read_safetensors(VALIDATION_FILE)
    return tensors["x"].astype(np.float64), tensors["y"].astype(np.int64)
