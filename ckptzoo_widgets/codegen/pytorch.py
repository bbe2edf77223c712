"""Load code for the torch family: state dicts from safetensors or torch pickles (numpy or torch),
timm's and torchvision's pretrained names, and torch.hub."""

from __future__ import annotations

from ..schema import Checkpoint, ModelEntry
from .snippets import (
    GATE_NOTES,
    _call,
    _fetch_call,
    _files,
    _imports,
    _snippet,
    variable_name,
)


def _state_dict_code(
    model: ModelEntry, checkpoint: Checkpoint, file_format: str, imports: list[str], loader: str, **kwargs: object
) -> str:
    files = _files(checkpoint, file_format)
    name = variable_name(model, checkpoint, "state_dict")
    if len(files) == 1:
        body = [f"{name} = {_call(loader, _fetch_call(model, files[0]), **kwargs)}"]
    else:  # sharded checkpoint: one call per shard
        body = [f"{name} = {{}}"]
        body += [f"{name}.update({_call(loader, _fetch_call(model, f), **kwargs)})" for f in files]
    return _snippet(*_imports(model, files, "import ckptzoo_widgets as cz", *imports), "", *body)


def safetensors_numpy_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    return _state_dict_code(model, checkpoint, "safetensors", ["from safetensors.numpy import load_file"], "load_file")


def safetensors_torch_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    return _state_dict_code(
        model, checkpoint, "safetensors", ["from safetensors.torch import load_file"], "load_file", device="cpu"
    )


def torch_state_dict_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    # weights_only=True: a pickle may only rebuild tensors, never import code.
    return _state_dict_code(
        model, checkpoint, "pytorch", ["import torch"], "torch.load", map_location="cpu", weights_only=True
    )


def timm_name(model: ModelEntry) -> str:
    """timm's pretrained name `arch.tag` (the last part of the id: `timm/resnet50.a1_in1k`)."""
    return model.local_id.rpartition("/")[2]


def timm_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    name = variable_name(model, checkpoint)
    loaded = _call("timm.create_model", timm_name(model), pretrained=True)
    return _snippet("import timm", "", f"{name} = {loaded}", f"{name}.eval()")


def torchvision_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    name = variable_name(model, checkpoint)
    loaded = _call("torchvision.models.get_model", model.architecture, weights=checkpoint.revision)
    return _snippet("import torchvision", "", f"{name} = {loaded}", f"{name}.eval()")


def torch_hub_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    name = variable_name(model, checkpoint)
    if model.library == "torchvision":  # torchvision's hubconf: the weights by name, as get_model takes them
        loaded = _call(
            "torch.hub.load", model.repo, model.architecture, weights=checkpoint.revision, trust_repo="check"
        )
        return _snippet("import torch", "", *GATE_NOTES["torch.hub"], f"{name} = {loaded}", f"{name}.eval()")
    repo = f"{model.repo}:{checkpoint.revision}" if checkpoint.revision else model.repo
    # trust_repo="check": torch.hub asks before running code from a repo it has not seen.
    loaded = _call("torch.hub.load", repo, model.architecture, pretrained=True, trust_repo="check")
    return _snippet("import torch", "", *GATE_NOTES["torch.hub"], f"{name} = {loaded}")
