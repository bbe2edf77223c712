"""The timm catalog: every pretrained tag of the installed timm, with ImageNet results when at hand.

`cz.open_zoo("timm")` lists `timm.list_pretrained()` from the installed timm
(offline: no download), one model per `arch.tag` with its pretrained config
(Hub repo, licence, input size, crop, interpolation, mean / std, classes,
paper), merged with timm's public ImageNet results CSV when it is at hand:
cached from an earlier online open (revalidated with ETag / Last-Modified
when online), or given as `"timm:<path or URL>"`
(`model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation`).
Offline with nothing cached the zoo still opens, without metrics, and says so
in one problem. Without timm (or with a timm that cannot be imported) the
results CSV alone is listed, as before timm was read.

Some models were evaluated at several image sizes: every result is kept
(`top1@224`, `top5@224`, `top1@288` ...) and the best top-1 is the headline
(`top1`, `top5`, `img_size`, `crop_pct` of that run). `param_count` is in
millions and may carry a thousands separator inside quotes (`"1,014.45"`).
A result row for a name the installed timm does not know is listed too.
"""

from __future__ import annotations

import csv
import io
import re
from functools import partial
from pathlib import Path
from typing import Any

from .. import safety
from ..errors import ZooError
from ..schema import ModelEntry, Problem, Problems, validate_models
from ..text import one_line, truncate
from ._http import cached_get
from ._parse import number as _number
from .base import LoadedSource

DEFAULT_URL = "https://raw.githubusercontent.com/huggingface/pytorch-image-models/main/results/results-imagenet.csv"
REQUIRED = ("model", "top1")


def _size_key(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else f"{value:g}" if value else "na"


def parse_rows(text: str, origin: str) -> tuple[dict[str, list[dict[str, Any]]], Problems]:
    """timm results CSV text -> the usable rows of each `arch.tag`, and problems for the rest."""
    problems = Problems()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ZooError(f"{origin}: not a timm results CSV (missing column(s) {', '.join(missing)})")
    rows: dict[str, list[dict[str, Any]]] = {}
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
        name = row.get("model") or ""
        where = f"line {line} ({name[:100]!r})"
        try:
            safety.check_model_id(f"timm/{name}")
        except ValueError as error:
            problems.add(Problem(origin, where, "model", f"{error}; row skipped"))
            continue
        top1 = _number(row.get("top1"))
        if top1 is None:
            message = f"not a number ({truncate(row.get('top1'), 60)!r}); row skipped"
            problems.add(Problem(origin, where, "top1", message))
            continue
        row["_top1"], row["_top5"] = top1, _number(row.get("top5"))
        row["_size"], row["_params"] = _number(row.get("img_size")), _number(row.get("param_count"))
        row["_crop"] = _number(row.get("crop_pct"))
        rows.setdefault(name, []).append(row)
    return rows, problems


def parse_results(text: str, origin: str) -> tuple[list[ModelEntry], list[Problem]]:
    """timm results CSV text alone -> one entry per `arch.tag`, problems for rows that cannot be used."""
    rows, problems = parse_rows(text, origin)
    candidates = ((origin, name, partial(_entry, name, results, None)) for name, results in rows.items())
    models = validate_models(candidates, problems)
    return models, problems.as_list()


def _results(name: str, results: list[dict[str, Any]]) -> tuple[dict[str, float], list[str], float | None]:
    """The metrics of a name's result rows, their table as markdown lines, and the parameter count (millions)."""
    best = max(results, key=lambda r: r["_top1"])
    metrics: dict[str, float] = {"top1": best["_top1"]}
    if best["_top5"] is not None:
        metrics["top5"] = best["_top5"]
    if best["_size"] is not None:
        metrics["img_size"] = best["_size"]
    if best["_crop"] is not None:
        metrics["crop_pct"] = best["_crop"]
    lines = ["| image size | top-1 | top-5 | crop | interpolation |", "| --- | --- | --- | --- | --- |"]
    for row in sorted(results, key=lambda r: r["_size"] or 0):
        key = _size_key(row["_size"])
        metrics.setdefault(f"top1@{key}", row["_top1"])
        if row["_top5"] is not None:
            metrics.setdefault(f"top5@{key}", row["_top5"])
        lines.append(
            f"| {key} | {row['_top1']:g} | {'' if row['_top5'] is None else format(row['_top5'], 'g')} "
            f"| {row.get('crop_pct') or ''} | {(row.get('interpolation') or '')[:20]} |"
        )
    params = next((r["_params"] for r in results if r["_params"] is not None), None)
    return metrics, lines, params


# Pretrained-tag words -> the dataset they name (timm's naming: `in1k`, `ft_in22k_in1k`, `laion2b` ...).
TAG_DATASETS = {
    "in1k": "imagenet-1k",
    "in12k": "imagenet-12k",
    "in21k": "imagenet-21k",
    "in22k": "imagenet-22k",
    "laion2b": "laion-2b",
    "laion400m": "laion-400m",
    "inat21": "inat-2021",
}


def _tag_datasets(tag: str) -> list[str]:
    return list(dict.fromkeys(TAG_DATASETS[w] for w in re.split(r"[_.]", tag) if w in TAG_DATASETS))


def _size(value: Any) -> int | None:
    """An input size `(3, 224, 224)` -> 224 (its height)."""
    if isinstance(value, (tuple, list)) and len(value) == 3 and all(isinstance(v, int) for v in value):
        return int(value[1])
    return None


def _config_lines(name: str, cfg: dict[str, Any]) -> list[str]:
    """The pretrained config as the card's table."""
    rows = []

    def add(label: str, value: Any) -> None:
        if value not in (None, "", (), []):
            rows.append(f"| {label} | {truncate(str(value), 200).replace('|', '/')} |")

    add("Hub repository", f"`{cfg['hf_hub_id']}`" if cfg.get("hf_hub_id") else None)
    add("licence", cfg.get("license"))
    add("input size", "x".join(str(v) for v in cfg.get("input_size") or ()))
    add("test input size", "x".join(str(v) for v in cfg.get("test_input_size") or ()))
    add("crop", cfg.get("crop_pct"))
    add("interpolation", cfg.get("interpolation"))
    add("mean", cfg.get("mean"))
    add("std", cfg.get("std"))
    add("classes", cfg.get("num_classes"))
    add("paper", cfg.get("paper_name"))
    papers = cfg.get("paper_ids")
    if papers:
        ids = papers if isinstance(papers, (list, tuple)) else [papers]
        add("paper ids", ", ".join(str(p) for p in ids))
    add("origin", cfg.get("origin_url"))
    add("notes", "; ".join(cfg["notes"]) if isinstance(cfg.get("notes"), (list, tuple)) else cfg.get("notes"))
    if not rows:
        return []
    return [f"Pretrained config of `{name}` in the installed timm:", "", "| | |", "| --- | --- |", *rows, ""]


def _entry(name: str, results: list[dict[str, Any]] | None, cfg: dict[str, Any] | None) -> dict[str, Any]:
    """One `arch.tag`: its result rows (None: no results at hand), its pretrained config (None: not installed)."""
    arch, _, tag = name.partition(".")
    metrics: dict[str, float] = {}
    table: list[str] = []
    params = None
    if results:
        metrics, table, params = _results(name, results)
    cfg = cfg or {}
    size = _size(cfg.get("input_size"))
    if size is not None:
        metrics.setdefault("img_size", float(size))
    if isinstance(cfg.get("crop_pct"), (int, float)):
        metrics.setdefault("crop_pct", float(cfg["crop_pct"]))
    if isinstance(cfg.get("num_classes"), int) and not isinstance(cfg.get("num_classes"), bool):
        metrics["num_classes"] = float(cfg["num_classes"])
    interpolations = {(r.get("interpolation") or "")[:40] for r in results or []} | {
        str(cfg.get("interpolation") or "")
    }
    tags = [t for t in (tag, *sorted(interpolations)) if t]
    description = (
        f"# {name}\n\ntimm pretrained weights `{name}`: architecture `{arch}`"
        + (f", pretrained tag `{tag}`" if tag else "")
        + ".\n\n"
    )
    if table:
        description += (
            "ImageNet-1k validation results"
            + (f" at {len(results or [])} image sizes" if len(results or []) > 1 else "")
            + ":\n\n"
            + "\n".join(table)
            + "\n\n"
        )
    description += "\n".join(_config_lines(name, cfg))
    if cfg == {} and results:
        description += "\nNot a pretrained tag of the installed timm (or timm is not installed).\n"
    hub = cfg.get("hf_hub_id") if cfg else f"timm/{name}"
    try:
        repo = safety.check_model_id(hub) if isinstance(hub, str) and hub.strip("/") else None
    except ValueError:
        repo = None
    num_classes = cfg.get("num_classes")
    licence = cfg.get("license")
    return {
        "id": f"timm/{name}",
        "name": name,
        "task": "image-feature-extraction" if num_classes == 0 else "image-classification",
        "library": "timm",
        "framework": "pytorch",
        "architecture": arch,
        "license": truncate(licence, 200) if isinstance(licence, str) and licence else None,
        "datasets": ["imagenet-1k"] if results and not cfg else _tag_datasets(tag),
        "tags": tags,
        "num_params": round(params * 1e6) if params is not None else None,
        "description": description,
        "metrics": metrics,
        "headline_metric": "top1" if "top1" in metrics else None,
        "repo": repo,
        "checkpoints": [{"name": tag or "pretrained", "metrics": metrics}],
    }


def installed_configs() -> tuple[dict[str, dict[str, Any]] | None, str]:
    """Every pretrained tag of the installed timm -> its pretrained config (plain values); or None and why not."""
    try:
        import timm
        from timm.models import get_pretrained_cfg
    except ImportError as error:
        if getattr(error, "name", None) in ("timm", "torch", "torchvision"):
            return None, "timm is not installed (pip install 'ckptzoo-widgets[timm]')"
        return None, f"timm cannot be imported ({one_line(error, 200)})"
    except Exception as error:  # noqa: BLE001 - e.g. a torchvision whose compiled operators do not match torch
        return None, f"timm cannot be imported ({type(error).__name__}: {one_line(error, 200)})"
    configs: dict[str, dict[str, Any]] = {}
    for name in timm.list_pretrained():
        cfg = get_pretrained_cfg(name)
        configs[name] = dict(cfg.to_dict() if hasattr(cfg, "to_dict") else vars(cfg)) if cfg is not None else {}
    return configs, ""


def _read_csv(location: str) -> tuple[str, str]:
    """The results CSV's text at a URL (cached) or a path, and the base its models resolve against."""
    if safety.is_url(location):
        body, _how = cached_get(location)
        base = location.rsplit("/", 1)[0] + "/"
    else:
        path = Path(location).expanduser()
        try:
            body = path.read_bytes()
        except OSError as error:
            raise ZooError(f"{path}: cannot read the timm results ({error.strerror or error})") from None
        base, location = str(path.resolve().parent), str(path)
    try:
        return body.decode("utf-8"), base
    except UnicodeDecodeError:
        raise ZooError(f"{location}: not a UTF-8 CSV file") from None


def read_timm(source: str) -> LoadedSource:
    """`"timm"` (the installed timm, with timm's public results when at hand) or `"timm:<results CSV>"`."""
    given = source.partition(":")[2].strip()
    location = given or DEFAULT_URL
    configs, why_not = installed_configs()
    problems = Problems()
    rows: dict[str, list[dict[str, Any]]] = {}
    base = ""
    try:
        text, base = _read_csv(location)
    except ZooError as error:
        if given or configs is None:  # a CSV the user named, or nothing else to list
            raise ZooError(f"{error}" + (f"; and {why_not}" if configs is None and not given else "")) from None
        why = one_line(str(error).removeprefix(f"{location}: "), 200)
        message = (
            f"ImageNet results not at hand ({why}): the models open without metrics; "
            "open 'timm' online once, or give 'timm:<results CSV>'"
        )
        problems.add(Problem(location, "results", "", message))
    else:
        rows, csv_problems = parse_rows(text, location)
        problems.extend(csv_problems.as_list())
    if configs is None:
        problems.add(Problem("timm", "installed timm", "", f"{why_not}: listing the results CSV only"))
        configs = {}
    names = list(configs) + [name for name in rows if name not in configs]
    candidates = (("timm", name, partial(_entry, name, rows.get(name), configs.get(name))) for name in names)
    models = validate_models(candidates, problems)
    return LoadedSource(source, "timm", [m.with_origin(source, base) for m in models], problems.as_list(), "timm")
