"""The one table of load-code generators: which applies to a checkpoint, in which order, and
``generate``, the entry point."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ZooError
from ..schema import Checkpoint, ModelEntry
from .hub import ckptzoo_code, transformers_code
from .others import (
    _kaggle_handle,
    _tensorflow_instance,
    kagglehub_code,
    keras_code,
    mlflow_code,
    onnxruntime_code,
    tensorflow_hub_code,
)
from .pytorch import (
    safetensors_numpy_code,
    safetensors_torch_code,
    timm_code,
    torch_hub_code,
    torch_state_dict_code,
    torchvision_code,
)
from .snippets import _QUALIFIED, _files, executes

Applies = Callable[[ModelEntry, Checkpoint], bool]
Generator = Callable[[ModelEntry, Checkpoint], str]


def _has(*formats: str) -> Applies:
    return lambda model, checkpoint: bool(_files(checkpoint, *formats))


def _library(*names: str) -> Applies:
    return lambda model, checkpoint: (model.library or "") in names


def _ckptzoo_applies(model: ModelEntry, checkpoint: Checkpoint) -> bool:
    if model.library == "torchvision":  # cz.load: the verified download, built by torchvision (torchvision_load.py)
        return _torchvision_applies(model, checkpoint) and len(_files(checkpoint, "pytorch")) == 1
    return model.library == "ckptzoo" and bool(_files(checkpoint, "safetensors"))


def _torchvision_applies(model: ModelEntry, checkpoint: Checkpoint) -> bool:
    return model.library == "torchvision" and bool(model.architecture and checkpoint.revision)


# library -> (applies?, generator). Order is the fallback preference.
GENERATORS: dict[str, tuple[Applies, Generator]] = {
    "ckptzoo": (_ckptzoo_applies, ckptzoo_code),
    "transformers": (lambda m, c: m.library == "transformers" and m.repo is not None, transformers_code),
    "timm": (_library("timm"), timm_code),
    "torchvision": (_torchvision_applies, torchvision_code),
    "torch.hub": (
        lambda m, c: bool(m.repo and m.architecture) and (m.library == "torch.hub" or _torchvision_applies(m, c)),
        torch_hub_code,
    ),
    "kagglehub": (lambda m, c: _kaggle_handle(m, c) is not None, kagglehub_code),
    "tensorflow_hub": (_tensorflow_instance, tensorflow_hub_code),
    "safetensors-numpy": (_has("safetensors"), safetensors_numpy_code),
    "safetensors-torch": (_has("safetensors"), safetensors_torch_code),
    "torch": (_has("pytorch"), torch_state_dict_code),
    "onnxruntime": (_has("onnx"), onnxruntime_code),
    "keras": (_has("keras", "h5"), keras_code),
    "mlflow": (lambda m, c: c.uri is not None and m.source.startswith("mlflow:"), mlflow_code),
}
# What a model's `library` field asks for, when it names a generator differently.
LIBRARY_ALIASES = {"safetensors": "safetensors-torch", "pytorch": "torch", "onnx": "onnxruntime", "tf-keras": "keras"}


def libraries_for(model: ModelEntry, checkpoint: Checkpoint) -> list[str]:
    """Generators that apply, the model's own library first, safetensors before pickles.

    When the first one would run code from the model's files (`executes`) and another applies
    that does not, that one comes first: the default is the safe one where there is one.
    """
    applicable = [name for name, (applies, _) in GENERATORS.items() if applies(model, checkpoint)]
    preferred = LIBRARY_ALIASES.get(model.library or "", model.library or "")
    if preferred in applicable:
        applicable.remove(preferred)
        applicable.insert(0, preferred)
    if applicable and executes(model, checkpoint, applicable[0]):
        safe = [name for name in applicable if not executes(model, checkpoint, name)]
        applicable = safe + [name for name in applicable if name not in safe]
    return applicable


def generate(model: ModelEntry, checkpoint: Checkpoint, library: str | None = None, *, qualified: bool = False) -> str:
    """The load code for one checkpoint, with `library` or the best one that applies.

    `qualified`: another model of the zoo has the same short name (`names_alike`),
    so variables are named after the whole id (`org1_mlp_epoch_1`, `org2_mlp_epoch_1`).
    """
    applicable = libraries_for(model, checkpoint)
    if library is None:
        if not applicable:
            raise ZooError(
                f"no load code for {model.id}@{checkpoint.name}: it has no files in a known format "
                "and no library that loads it by name"
            )
        library = applicable[0]
    if library not in GENERATORS:
        raise ZooError(f"unknown library {library!r}; known: {', '.join(GENERATORS)}")
    if library not in applicable:
        raise ZooError(
            f"{library} code does not apply to {model.id}@{checkpoint.name}; "
            f"applicable: {', '.join(applicable) or 'none'}"
        )
    token = _QUALIFIED.set(qualified)
    try:
        return GENERATORS[library][1](model, checkpoint)
    finally:
        _QUALIFIED.reset(token)
