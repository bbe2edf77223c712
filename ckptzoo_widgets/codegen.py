"""Load code: one small pure function per library, (model, checkpoint) -> Python source.

Rules (design.md, "Load code"): values from an index reach the code only as
Python literals (`repr` of validated strings and numbers), never spliced as
text; every call argument is a constant (or a call of the same kind); each
snippet pins the exact checkpoint (`revision=`, the timm `arch.tag`, the file
and its sha256). A snippet never runs by itself: the user runs the cell.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import ZooError
from .schema import Checkpoint, FileEntry, ModelEntry

BUILTIN = "builtin"

# pipeline_tag -> transformers Auto class. Our own table: a class name is code,
# so it never comes from the index.
AUTO_CLASSES = {
    "text-generation": "AutoModelForCausalLM",
    "fill-mask": "AutoModelForMaskedLM",
    "text-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "summarization": "AutoModelForSeq2SeqLM",
    "translation": "AutoModelForSeq2SeqLM",
    "text2text-generation": "AutoModelForSeq2SeqLM",
    "image-classification": "AutoModelForImageClassification",
    "object-detection": "AutoModelForObjectDetection",
    "automatic-speech-recognition": "AutoModelForSpeechSeq2Seq",
    "audio-classification": "AutoModelForAudioClassification",
}


def _lit(value: object) -> str:
    """A validated value as a Python literal (double-quoted when that needs no escapes)."""
    if isinstance(value, str) and value.isascii() and value.isprintable() and not set(value) & {'"', "\\"}:
        return f'"{value}"'
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise TypeError(f"not a literal: {type(value).__name__}")


def _call(function: str, *args: object, **kwargs: object) -> str:
    """`function(args..., key=value...)` with every value a literal or a `Code` fragment."""
    parts = [a if isinstance(a, Code) else _lit(a) for a in args]
    parts += [f"{k}={v if isinstance(v, Code) else _lit(v)}" for k, v in kwargs.items() if v is not None]
    return f"{function}({', '.join(parts)})"


class Code(str):
    """A fragment we generated ourselves (a nested call), inserted as is."""


def _fetch_call(model: ModelEntry, file: FileEntry) -> Code:
    """`cz.fetch("<url or path>", sha256=..., size=...)`: download/verify, return the local path."""
    return Code(_call("cz.fetch", model.locate(file), sha256=file.sha256, size=file.size))


def _files(checkpoint: Checkpoint, *formats: str) -> list[FileEntry]:
    return [f for f in checkpoint.files if f.format in formats]


def _ref(model: ModelEntry, checkpoint: Checkpoint) -> str:
    return f"{model.local_id}@{checkpoint.name}"


def _snippet(*lines: str) -> str:
    return "\n".join(lines).strip() + "\n"


# --- one generator per library ----------------------------------------------


def ckptzoo_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    zoo = None if model.source in ("", BUILTIN) else model.source
    return _snippet(
        "import ckptzoo_widgets as cz",
        "",
        f"model = {_call('cz.load', _ref(model, checkpoint), zoo=zoo)}",
    )


def _state_dict_lines(
    model: ModelEntry, checkpoint: Checkpoint, file_format: str, loader: str, **kwargs: object
) -> list[str]:
    files = _files(checkpoint, file_format)
    if len(files) == 1:
        return [f"state_dict = {_call(loader, _fetch_call(model, files[0]), **kwargs)}"]
    lines = ["state_dict = {}"]  # sharded checkpoint: one call per shard
    lines += [f"state_dict.update({_call(loader, _fetch_call(model, f), **kwargs)})" for f in files]
    return lines


def safetensors_numpy_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    return _snippet(
        "import ckptzoo_widgets as cz",
        "from safetensors.numpy import load_file",
        "",
        *_state_dict_lines(model, checkpoint, "safetensors", "load_file"),
    )


def safetensors_torch_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    return _snippet(
        "import ckptzoo_widgets as cz",
        "from safetensors.torch import load_file",
        "",
        *_state_dict_lines(model, checkpoint, "safetensors", "load_file", device="cpu"),
    )


def torch_state_dict_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    # weights_only=True: a pickle may only rebuild tensors, never import code.
    return _snippet(
        "import ckptzoo_widgets as cz",
        "import torch",
        "",
        *_state_dict_lines(model, checkpoint, "pytorch", "torch.load", map_location="cpu", weights_only=True),
    )


def transformers_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    auto_class = AUTO_CLASSES.get(model.task or "", "AutoModel")
    return _snippet(
        f"from transformers import {auto_class}",
        "",
        f"model = {_call(f'{auto_class}.from_pretrained', model.repo, revision=checkpoint.revision or 'main')}",
    )


def timm_name(model: ModelEntry) -> str:
    """timm's pretrained name `arch.tag` (the last part of the id: `timm/resnet50.a1_in1k`)."""
    return model.local_id.rpartition("/")[2]


def timm_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    return _snippet(
        "import timm",
        "",
        f"model = {_call('timm.create_model', timm_name(model), pretrained=True)}",
        "model.eval()",
    )


def torchvision_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    return _snippet(
        "import torchvision",
        "",
        f"model = {_call('torchvision.models.get_model', model.architecture, weights=checkpoint.revision)}",
        "model.eval()",
    )


def torch_hub_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    repo = f"{model.repo}:{checkpoint.revision}" if checkpoint.revision else model.repo
    # trust_repo="check": torch.hub asks before running code from a repo it has not seen.
    return _snippet(
        "import torch",
        "",
        f"model = {_call('torch.hub.load', repo, model.architecture, pretrained=True, trust_repo='check')}",
    )


def onnxruntime_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    file = _files(checkpoint, "onnx")[0]
    session = _call(
        "onnxruntime.InferenceSession", _fetch_call(model, file), providers=Code("['CPUExecutionProvider']")
    )
    return _snippet("import ckptzoo_widgets as cz", "import onnxruntime", "", f"session = {session}")


def keras_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    file = _files(checkpoint, "keras", "h5")[0]
    # safe_mode=True: refuse lambda layers that would deserialise arbitrary code.
    loaded = _call("keras.saving.load_model", _fetch_call(model, file), safe_mode=True)
    return _snippet("import ckptzoo_widgets as cz", "import keras", "", f"model = {loaded}")


Applies = Callable[[ModelEntry, Checkpoint], bool]
Generator = Callable[[ModelEntry, Checkpoint], str]


def _has(*formats: str) -> Applies:
    return lambda model, checkpoint: bool(_files(checkpoint, *formats))


def _library(*names: str) -> Applies:
    return lambda model, checkpoint: (model.library or "") in names


def _ckptzoo_applies(model: ModelEntry, checkpoint: Checkpoint) -> bool:
    return model.library == "ckptzoo" and bool(_files(checkpoint, "safetensors"))


# library -> (applies?, generator). Order is the fallback preference.
GENERATORS: dict[str, tuple[Applies, Generator]] = {
    "ckptzoo": (_ckptzoo_applies, ckptzoo_code),
    "transformers": (lambda m, c: m.library == "transformers" and m.repo is not None, transformers_code),
    "timm": (_library("timm"), timm_code),
    "torchvision": (lambda m, c: m.library == "torchvision" and bool(m.architecture and c.revision), torchvision_code),
    "torch.hub": (lambda m, c: m.library == "torch.hub" and bool(m.repo and m.architecture), torch_hub_code),
    "safetensors-numpy": (_has("safetensors"), safetensors_numpy_code),
    "safetensors-torch": (_has("safetensors"), safetensors_torch_code),
    "torch": (_has("pytorch"), torch_state_dict_code),
    "onnxruntime": (_has("onnx"), onnxruntime_code),
    "keras": (_has("keras", "h5"), keras_code),
}
# What a model's `library` field asks for, when it names a generator differently.
LIBRARY_ALIASES = {"safetensors": "safetensors-torch", "pytorch": "torch", "onnx": "onnxruntime", "tf-keras": "keras"}


def libraries_for(model: ModelEntry, checkpoint: Checkpoint) -> list[str]:
    """Generators that apply, the model's own library first, safetensors before pickles."""
    applicable = [name for name, (applies, _) in GENERATORS.items() if applies(model, checkpoint)]
    preferred = LIBRARY_ALIASES.get(model.library or "", model.library or "")
    if preferred in applicable:
        applicable.remove(preferred)
        applicable.insert(0, preferred)
    return applicable


def generate(model: ModelEntry, checkpoint: Checkpoint, library: str | None = None) -> str:
    """The load code for one checkpoint, with `library` or the best one that applies."""
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
    return GENERATORS[library][1](model, checkpoint)
