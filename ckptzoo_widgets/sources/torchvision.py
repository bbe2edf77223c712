"""torchvision's pre-trained weights as a zoo, from the installed torchvision (offline).

`cz.open_zoo("torchvision")` reads torchvision's own registry
(`torchvision.models.list_models()`, `get_model_weights(name)`): one model per
architecture (`torchvision/resnet50`), one checkpoint per member of its weights
enum (`IMAGENET1K_V1`, `IMAGENET1K_V2`, pinned by `revision`
`ResNet50_Weights.IMAGENET1K_V2`), the enum's `DEFAULT` as the default
checkpoint. Each weights' `meta` gives the metrics (`acc@1` / `acc@5` on
ImageNet-1K, `box_map` on COCO ...; `<dataset>/<metric>` when weights were
measured on several datasets), parameters, GFLOPS, file size, the number of
categories and the recipe; the task comes from the module the builder lives in
(classification, detection, segmentation, video, optical flow, quantized).

The weights file is the checkpoint's one file (its download URL); torch.hub's
rule holds for it: the hex digits after the last `-` of its name start its
sha256, and `zoo.download` / `cz.load` check them (`fetch(sha256_prefix=...)`).
Nothing is downloaded to open the zoo.
"""

from __future__ import annotations

import math
import re
from functools import partial
from typing import Any

from ..errors import ZooError
from ..schema import Problems, validate_models
from ..text import one_line, truncate
from .base import LoadedSource

SOURCE = "torchvision"
HUB_REPO = "pytorch/vision"
# torchvision.models.<module> -> (task, tags); the classification builders live in torchvision.models itself.
TASKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "": ("image-classification", ("classification",)),
    "detection": ("object-detection", ("detection",)),
    "segmentation": ("image-segmentation", ("segmentation",)),
    "video": ("video-classification", ("video",)),
    "optical_flow": ("optical-flow", ("optical-flow",)),
    "quantization": ("image-classification", ("classification", "quantized")),
}


def import_torchvision() -> Any:
    """torchvision's `models` package, or a one-line ZooError saying why it cannot be imported."""
    try:
        from torchvision import models
    except ImportError as error:
        if getattr(error, "name", None) in ("torchvision", "torch"):
            raise ZooError(
                "the torchvision source needs torchvision: pip install 'ckptzoo-widgets[torchvision]'"
            ) from None
        raise ZooError(f"torchvision is installed but cannot be imported: {one_line(error, 200)}") from None
    except Exception as error:  # noqa: BLE001 - a build that does not match torch fails in many ways
        # (e.g. "operator torchvision::nms does not exist" when its compiled operators were built for another torch)
        raise ZooError(
            f"torchvision is installed but cannot be imported ({type(error).__name__}: {one_line(error, 200)}); "
            "install the torchvision built for your torch"
        ) from None
    return models


def task_of(builder_module: str) -> tuple[str, tuple[str, ...]]:
    """The task and tags of a builder from its module (`torchvision.models.detection.faster_rcnn`)."""
    rest = builder_module.removeprefix("torchvision.models").lstrip(".")
    package = rest.split(".", 1)[0] if "." in rest else ""
    return TASKS.get(package, TASKS[""])


def _metrics(meta: dict[str, Any]) -> tuple[dict[str, float], list[str]]:
    """Each weights' `_metrics` ({dataset: {metric: value}}) -> flat metrics and the datasets."""
    by_dataset = meta.get("_metrics") or {}
    if not isinstance(by_dataset, dict):
        return {}, []
    datasets = [str(d) for d in by_dataset]
    metrics: dict[str, float] = {}
    for dataset, values in by_dataset.items():
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            # (vgg16's IMAGENET1K_FEATURES says nan: not measured)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                key = str(name) if len(by_dataset) == 1 else f"{_slug(dataset)}/{name}"
                metrics[key] = float(value)
    return metrics, datasets


def _slug(text: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_.:@-]+", "-", str(text)).strip("-") or "dataset"


def _docs(text: Any) -> str:
    """torchvision's reStructuredText notes as one plain paragraph."""
    plain = re.sub(r":class:`~?([^`]+)`", r"`\1`", str(text or ""))
    plain = re.sub(r"`([^`<]+?)\s*<([^>]+)>`_+", r"[\1](\2)", plain)
    return " ".join(plain.split())


def _checkpoint(weights: Any, default_name: str | None) -> dict[str, Any]:
    meta = dict(weights.meta)
    metrics, _ = _metrics(meta)
    extra = {
        "gflops": meta.get("_ops"),
        "file_size_mb": meta.get("_file_size"),
        "num_categories": len(meta["categories"]) if isinstance(meta.get("categories"), list) else None,
    }
    metrics.update({k: float(v) for k, v in extra.items() if isinstance(v, (int, float)) and math.isfinite(v)})
    enum_name = type(weights).__name__
    notes = []
    if weights.name == default_name:
        notes.append(f"the default weights ({enum_name}.DEFAULT)")
    if meta.get("recipe"):
        notes.append(f"recipe: {meta['recipe']}")
    if meta.get("license"):
        notes.append(f"licence: {meta['license']}")
    return {
        "name": weights.name,
        "revision": f"{enum_name}.{weights.name}",
        "metrics": metrics,
        "files": [{"url": weights.url, "format": "pytorch"}],
        "notes": truncate("; ".join(notes), 2000) or None,
    }


def _row(weights: Any, default_name: str | None) -> str:
    meta = weights.meta
    metrics, datasets = _metrics(meta)
    shown = ", ".join(f"{k} {v:g}" for k, v in metrics.items())
    recipe = f"[recipe]({meta['recipe']})" if meta.get("recipe") else ""
    params = meta.get("num_params")
    cells = [
        f"`{weights.name}`" + (" (default)" if weights.name == default_name else ""),
        ", ".join(datasets),
        shown,
        f"{params / 1e6:.1f} M" if isinstance(params, (int, float)) else "",
        f"{meta['_ops']:g}" if isinstance(meta.get("_ops"), (int, float)) else "",
        f"{meta['_file_size']:g} MB" if isinstance(meta.get("_file_size"), (int, float)) else "",
        recipe,
    ]
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


def _entry(models: Any, name: str) -> dict[str, Any] | None:
    builder = models.get_model_builder(name)
    enum = models.get_model_weights(name)
    members = list(enum)
    if not members:
        return None
    default = getattr(enum, "DEFAULT", None)
    default_name = default.name if default is not None else None
    task, tags = task_of(builder.__module__)
    head = default if default is not None else members[-1]
    metrics, datasets = _metrics(head.meta)
    summary = (builder.__doc__ or "").strip().split("\n\n", 1)[0]
    lines = [
        f"# {name}",
        "",
        _docs(summary),
        "",
        f"torchvision `{builder.__module__}.{builder.__name__}`, task {task}; "
        f"weights `{enum.__name__}` ({len(members)}).",
        "",
        "| weights | dataset | metrics | parameters | GFLOPS | file | recipe |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *(_row(w, default_name) for w in members),
        "",
    ]
    for weights in members:
        notes = _docs(weights.meta.get("_docs"))
        if notes:
            lines += [f"**{weights.name}**: {notes}", ""]
    all_datasets = list(dict.fromkeys(d for w in members for d in _metrics(w.meta)[1]))
    params = head.meta.get("num_params")
    return {
        "id": f"{SOURCE}/{name}",
        "name": name,
        "task": task,
        "library": "torchvision",
        "framework": "pytorch",
        "architecture": name,
        "datasets": all_datasets or datasets,
        "tags": ["torchvision", *tags],
        "num_params": int(params) if isinstance(params, int) else None,
        "description": "\n".join(lines),
        "headline_metric": next(iter(metrics), None),
        "default_checkpoint": default_name,
        "repo": HUB_REPO,
        "checkpoints": [_checkpoint(w, default_name) for w in members],
    }


def read_torchvision(source: str) -> LoadedSource:
    """`"torchvision"`: every pre-trained weights of the installed torchvision."""
    if source.strip() != SOURCE:
        raise ZooError(f"{source!r}: the torchvision source takes no options (use 'torchvision')")
    models = import_torchvision()
    problems = Problems()
    candidates = ((SOURCE, name, partial(_entry, models, name)) for name in models.list_models())
    entries = validate_models(candidates, problems)
    import torchvision

    title = f"torchvision {getattr(torchvision, '__version__', '')}".strip()
    return LoadedSource(source, SOURCE, [m.with_origin(source, "") for m in entries], problems.as_list(), title)
