"""`cz.load`: turn a checkpoint of a format the project owns into a usable object.

The built-in zoo's safetensors files carry a `ckptzoo` metadata entry naming
their architecture; loading needs numpy only. Other libraries' checkpoints are
loaded by the code `zoo.load_code(ref)` generates, which the user runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError, safe_open

from .catalog import Zoo, open_zoo
from .errors import ZooError
from .humanize import human_bytes
from .numpy_nets import DigitsClassifier
from .safetensors_check import NUMPY_DTYPES, read_header
from .text import one_line, terminal_safe

VALIDATION_FILE = Path(__file__).resolve().parent / "zoo" / "digits-validation.safetensors"


def _read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Tensors and metadata of a safetensors file, validated first (`safetensors_check`)."""
    header = read_header(path)  # a clear ZooError for any malformed header, before the library reads it
    for info in header.tensors.values():
        if info.dtype not in NUMPY_DTYPES:
            raise ZooError(
                f"{path}: tensor {one_line(info.name, 80)!r} is {info.dtype}, which numpy cannot hold "
                f"(cz.load reads {', '.join(sorted(NUMPY_DTYPES))})"
            )
    try:
        with safe_open(str(path), framework="np") as handle:
            return {key: handle.get_tensor(key) for key in handle.keys()}, header.metadata
    except (SafetensorError, OSError, ValueError, TypeError, AttributeError) as error:
        raise ZooError(f"{path}: not a readable safetensors file ({one_line(error)})") from None


def _architecture(metadata: dict[str, str], path: Path) -> str:
    """The `arch` named in the file's `ckptzoo` metadata (a small JSON object)."""
    text = metadata.get("ckptzoo", "")
    try:
        if len(text) > 10_000:
            raise ValueError("too long")
        arch = json.loads(text)["arch"]
    except (KeyError, ValueError, TypeError, RecursionError):
        arch = None
    if not isinstance(arch, str):
        raise ZooError(f"{path}: safetensors file has no ckptzoo architecture metadata")
    return arch


class LoadedModel(DigitsClassifier):
    """What `cz.load` returns: the model (`.predict`, `.score`) and what was loaded, in its repr."""

    def __init__(
        self, arch: str, params: dict[str, np.ndarray], *, ref: str, path: Path, sha256: str | None, size: int
    ) -> None:
        super().__init__(arch, params, ref=ref)
        self.path, self.sha256, self.size = path, sha256, size

    @property
    def verified(self) -> str:
        if self.sha256:
            return f"sha256 {self.sha256[:12]}… verified against the zoo index"
        return "not verified (the zoo index gives no sha256 for this file)"

    def __repr__(self) -> str:
        return terminal_safe(
            f"<{self.ref}: {self.arch}, {self.num_params:,} parameters, {self.path.name}, {self.verified}>"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's view (a cell ending in the model): one fact a line."""
        printer.text(
            terminal_safe(
                f"Loaded {self.ref}: {self.arch} digits classifier, {self.num_params:,} parameters\n"
                f"  file    {self.path} ({human_bytes(self.size)})\n"
                f"  check   {self.verified}\n"
                f"  use     .predict(X), .predict_proba(X), .score(X, y)"
            )
        )


def load(
    ref: str,
    zoo: str | Sequence[str] | Zoo | None = None,
    *,
    quiet: bool | None = None,
    storage_options: dict[str, Any] | None = None,
) -> Any:
    """Load `model@checkpoint` from `zoo` (the built-in zoo by default), verified against the index.

    Returns a `LoadedModel` for the project's own checkpoints, the torchvision model
    (`torch.nn.Module`, eval mode) for a torchvision checkpoint (torchvision_load.py).
    `storage_options` open a zoo given by its URL, as in `open_zoo`; a `Zoo` already
    opened with them uses its own."""
    opened = open_zoo(zoo, storage_options=storage_options)
    model, checkpoint = opened.resolve(ref)
    if model.library == "torchvision":
        from .torchvision_load import load_torchvision

        return load_torchvision(opened, model, checkpoint, quiet=quiet)
    if model.library != "ckptzoo":
        raise ZooError(
            f"cz.load reads the project's own formats; {model.id} is a {model.library or 'other'} model: "
            f"run the code of zoo.load_code({ref!r}) instead"
        )
    exact = f"{model.id}@{checkpoint.name}"
    # download() returns one verified path per file of the checkpoint, in the index's order.
    for file, path in zip(checkpoint.files, opened.download(exact, quiet=quiet), strict=True):
        if path.suffix != ".safetensors":
            continue
        tensors, metadata = _read_safetensors(path)
        arch = _architecture(metadata, path)
        try:
            return LoadedModel(arch, tensors, ref=exact, path=path, sha256=file.sha256, size=path.stat().st_size)
        except (ValueError, KeyError, TypeError) as error:
            raise ZooError(f"{path}: cannot build the {one_line(repr(arch), 80)} model ({one_line(error)})") from None
    raise ZooError(f"{exact}: no safetensors file to load")


def digits_validation() -> tuple[np.ndarray, np.ndarray]:
    """The built-in zoo's validation split: X (360, 64) pixel values 0-16 and labels y.

    The same rows of scikit-learn's `load_digits()` the metrics were measured
    on, shipped with the package so a classroom needs nothing else.
    """
    tensors, _ = _read_safetensors(VALIDATION_FILE)
    return tensors["x"].astype(np.float64), tensors["y"].astype(np.int64)
