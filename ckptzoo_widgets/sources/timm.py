"""The timm catalog: one model per pretrained name in timm's results CSV.

`cz.open_zoo("timm")` reads timm's public ImageNet results (cached with ETag /
Last-Modified, so it opens offline after the first time);
`"timm:<path or URL>"` reads another results file of the same shape
(`model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation`).

Some models were evaluated at several image sizes: every result is kept
(`top1@224`, `top5@224`, `top1@288` ...) and the best top-1 is the headline
(`top1`, `top5`, `img_size`, `crop_pct` of that run). `param_count` is in
millions and may carry a thousands separator inside quotes (`"1,014.45"`).
"""

from __future__ import annotations

import csv
import io
from functools import partial
from pathlib import Path
from typing import Any

from .. import safety
from ..errors import ZooError
from ..schema import ModelEntry, Problem, Problems, validate_models
from ..text import truncate
from ._http import cached_get
from ._parse import number as _number
from .base import LoadedSource

DEFAULT_URL = "https://raw.githubusercontent.com/huggingface/pytorch-image-models/main/results/results-imagenet.csv"
REQUIRED = ("model", "top1")


def _size_key(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else f"{value:g}" if value else "na"


def parse_results(text: str, origin: str) -> tuple[list[ModelEntry], list[Problem]]:
    """timm results CSV text -> one entry per `arch.tag`, problems for rows that cannot be used."""
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
    candidates = ((origin, name, partial(_entry, name, results)) for name, results in rows.items())
    models = validate_models(candidates, problems)
    return models, problems.as_list()


def _entry(name: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    arch, _, tag = name.partition(".")
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
    tags = [t for t in (tag, *sorted({(r.get("interpolation") or "")[:40] for r in results})) if t]
    description = (
        f"# {name}\n\ntimm pretrained weights `{name}`: architecture `{arch}`"
        + (f", pretrained tag `{tag}`" if tag else "")
        + ". ImageNet-1k validation results"
        + (f" at {len(results)} image sizes" if len(results) > 1 else "")
        + ":\n\n"
        + "\n".join(lines)
        + "\n\nWeights on the Hugging Face Hub: `timm/"
        + name
        + "`.\n"
    )
    return {
        "id": f"timm/{name}",
        "name": name,
        "task": "image-classification",
        "library": "timm",
        "framework": "pytorch",
        "architecture": arch,
        "datasets": ["imagenet-1k"],
        "tags": tags,
        "num_params": round(params * 1e6) if params is not None else None,
        "description": description,
        "metrics": metrics,
        "headline_metric": "top1",
        "repo": f"timm/{name}",
        "checkpoints": [{"name": tag or "pretrained", "metrics": metrics}],
    }


def read_timm(source: str) -> LoadedSource:
    """`"timm"` (timm's public results, cached) or `"timm:<path or URL of a results CSV>"`."""
    location = source.partition(":")[2].strip() or DEFAULT_URL
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
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ZooError(f"{location}: not a UTF-8 CSV file") from None
    models, problems = parse_results(text, location)
    return LoadedSource(source, "timm", [m.with_origin(source, base) for m in models], problems, "timm")
