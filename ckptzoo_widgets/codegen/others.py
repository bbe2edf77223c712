"""Load code for the rest: Kaggle Models (kagglehub, tensorflow_hub), ONNX Runtime, Keras and MLflow."""

from __future__ import annotations

import re

from ..schema import Checkpoint, ModelEntry, format_from_name
from .snippets import (
    GATE_NOTES,
    Code,
    _call,
    _fetch_call,
    _files,
    _imports,
    _lit,
    _snippet,
    variable_name,
)

# A kagglehub model handle: owner/model/framework/variation/version (Kaggle Models, sources/kaggle.py).
_KAGGLE_HANDLE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9]+/[A-Za-z0-9][A-Za-z0-9._-]*/[0-9]+"
)
KAGGLE_WEB = "https://www.kaggle.com/models/"


def _kaggle_handle(model: ModelEntry, checkpoint: Checkpoint) -> str | None:
    revision = checkpoint.revision or ""
    return revision if model.library == "kagglehub" and _KAGGLE_HANDLE.fullmatch(revision) else None


def kagglehub_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    path = variable_name(model, checkpoint, "path")
    # kagglehub reads the user's own Kaggle credentials; none are in the code.
    loaded = _call("kagglehub.model_download", _kaggle_handle(model, checkpoint))
    return _snippet("import kagglehub", "", f"{path} = {loaded}", path)


def _tensorflow_instance(model: ModelEntry, checkpoint: Checkpoint) -> bool:
    handle = _kaggle_handle(model, checkpoint)
    return handle is not None and handle.split("/")[2].lower() in ("tensorflow1", "tensorflow2")


def tensorflow_hub_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    name = variable_name(model, checkpoint)
    url = KAGGLE_WEB + str(_kaggle_handle(model, checkpoint))  # what tfhub.dev handles now resolve to
    return _snippet("import tensorflow_hub", "", f"{name} = {_call('tensorflow_hub.KerasLayer', url)}")


def onnxruntime_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    file = _files(checkpoint, "onnx")[0]
    session = _call(
        "onnxruntime.InferenceSession", _fetch_call(model, file), providers=Code("['CPUExecutionProvider']")
    )
    name = variable_name(model, checkpoint, "session")
    imports = _imports(model, [file], "import ckptzoo_widgets as cz", "import onnxruntime")
    return _snippet(*imports, "", f"{name} = {session}")


def keras_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    file = _files(checkpoint, "keras", "h5")[0]
    # safe_mode=True: refuse lambda layers that would deserialise arbitrary code.
    loaded = _call("keras.saving.load_model", _fetch_call(model, file), safe_mode=True)
    name = variable_name(model, checkpoint)
    imports = _imports(model, [file], "import ckptzoo_widgets as cz", "import keras")
    return _snippet(*imports, "", f"{name} = {loaded}")


def mlflow_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    """MLflow's own loading, pinned by `checkpoint.uri` (runs:/<run id>/<path>, models:/m-<id>, models:/<name>/<v>)."""
    tracking_uri = model.source.removeprefix("mlflow:").partition("?")[0]  # made absolute by the reader
    uri = checkpoint.uri
    imports, lines = ["import mlflow"], [f"mlflow.set_tracking_uri({_lit(tracking_uri)})"]
    if tracking_uri.startswith("file:"):  # MLflow 3 reads an mlruns/ folder only when allowed
        imports.insert(0, "import os")
        lines.insert(0, 'os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")')
    if uri is not None and uri.startswith("models:/"):
        # MLflow's loaders unpickle the model's files and import its code: scanned first (load_gates).
        loader = "mlflow.pytorch.load_model" if model.framework == "pytorch" else "mlflow.pyfunc.load_model"
        name = variable_name(model, checkpoint)
        scanned = Code(_call("cz.scanned_mlflow_model", uri))
        imports.insert(imports.index("import mlflow"), "import ckptzoo_widgets as cz")
        lines += [*GATE_NOTES["mlflow"], f"{name} = {_call(loader, scanned)}"]
        return _snippet(*imports, "", *lines)
    path = variable_name(model, checkpoint, "path")
    lines.append(f"{path} = {_call('mlflow.artifacts.download_artifacts', artifact_uri=uri)}")
    state_dict = variable_name(model, checkpoint, "state_dict")
    file_format = format_from_name(uri or "")
    if file_format == "safetensors":
        imports.append(f"from safetensors.{'torch' if model.framework == 'pytorch' else 'numpy'} import load_file")
        lines.append(f"{state_dict} = load_file({path})")
    elif file_format == "pytorch":  # weights_only=True: a pickle may only rebuild tensors
        imports.append("import torch")
        lines.append(f'{state_dict} = torch.load({path}, map_location="cpu", weights_only=True)')
    return _snippet(*imports, "", *lines)
