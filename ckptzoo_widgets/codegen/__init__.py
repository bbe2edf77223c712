"""Load code: one small pure function per library, (model, checkpoint) -> Python source.

Rules: values from an index reach the code only as
Python literals (`repr` of validated strings and numbers), never spliced as
text; every call argument is a constant (or a call of the same kind); each
snippet pins the exact checkpoint (`revision=`, the timm `arch.tag`, the file
and its sha256). A snippet never runs by itself: the user runs the cell.

Its modules: ``table`` (the one table of generators, ``libraries_for``, ``generate``),
``snippets`` (literals, calls, fetches, variable names, gate notes, shared by every generator),
one module per group of libraries (``hub``: cz.load and transformers; ``pytorch``: state dicts,
timm, torchvision, torch.hub; ``others``: kagglehub, tensorflow_hub, ONNX Runtime, Keras,
MLflow), and ``marimo`` (the same code as a marimo cell).
"""

from __future__ import annotations

from .hub import AUTO_CLASSES, ckptzoo_code, transformers_code
from .marimo import marimo_cell
from .others import kagglehub_code, keras_code, mlflow_code, onnxruntime_code, tensorflow_hub_code
from .pytorch import (
    safetensors_numpy_code,
    safetensors_torch_code,
    timm_code,
    timm_name,
    torch_hub_code,
    torch_state_dict_code,
    torchvision_code,
)
from .snippets import (
    BUILTIN,
    GATE_NOTES,
    HASH_NAMED,
    RESOURCES_IMPORT,
    Code,
    _files,
    executes,
    hash_prefix,
    names_alike,
    package_resource,
    variable_name,
)
from .table import GENERATORS, LIBRARY_ALIASES, Applies, Generator, generate, libraries_for

__all__ = [
    "AUTO_CLASSES",
    "BUILTIN",
    "GATE_NOTES",
    "GENERATORS",
    "HASH_NAMED",
    "LIBRARY_ALIASES",
    "RESOURCES_IMPORT",
    "Applies",
    "Code",
    "Generator",
    "_files",
    "ckptzoo_code",
    "executes",
    "generate",
    "hash_prefix",
    "kagglehub_code",
    "keras_code",
    "libraries_for",
    "marimo_cell",
    "mlflow_code",
    "names_alike",
    "onnxruntime_code",
    "package_resource",
    "safetensors_numpy_code",
    "safetensors_torch_code",
    "tensorflow_hub_code",
    "timm_code",
    "timm_name",
    "torch_hub_code",
    "torch_state_dict_code",
    "torchvision_code",
    "transformers_code",
    "variable_name",
]
