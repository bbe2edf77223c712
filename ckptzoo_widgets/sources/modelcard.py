"""Model cards as the Hugging Face Hub writes them: YAML front matter + markdown.

`read_card(text)` splits the front matter from the body and turns the
metadata users know from the Hub (`license`, `datasets`, `tags`,
`base_model`, `library_name`, `pipeline_tag`, `model-index`) into fields of a
`ModelEntry` and a flat metrics dict. Every source with a card uses it: a
README.md beside weights, a Hub repo's `cardData`.

Nothing here raises on bad metadata: a broken front matter or model-index is
returned as a list of messages and the rest of the card still counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .. import safety
from ._parse import number as _number

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_METRIC_CHAR = re.compile(r"[^A-Za-z0-9_.:/@-]+")
MAX_TAGS = 64


@dataclass
class Card:
    """What a model card says, as ModelEntry fields."""

    fields: dict[str, Any] = field(default_factory=dict)  # license, datasets, tags, base_model, library, task
    metrics: dict[str, float] = field(default_factory=dict)  # from model-index
    headline_metric: str | None = None
    body: str = ""
    problems: list[str] = field(default_factory=list)


def split_front_matter(text: str) -> tuple[dict[str, Any], str, list[str]]:
    """(metadata, markdown body, problems). Windows line breaks are normalised."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text, []
    body = text[match.end() :]
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return {}, body, [f"front matter is not valid YAML ({first_line})"]
    if meta is None:
        return {}, body, []
    if not isinstance(meta, dict):
        return {}, body, [f"front matter is a {type(meta).__name__}, not a mapping"]
    return meta, body, []


def _strings(value: Any, limit: int = MAX_TAGS) -> list[str]:
    """A string or a list of strings (anything else dropped), short ones only."""
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    out: list[str] = []
    for item in items:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            item = str(item)
        if isinstance(item, str) and item.strip() and len(item) <= 200 and item not in out:
            out.append(item.strip())
    return out[:limit]


def metric_name(*parts: Any) -> str | None:
    """A metric name from parts (dataset, metric ...), characters outside the rule replaced by '_'."""
    words = [_METRIC_CHAR.sub("_", str(p)).strip("_") for p in parts if p not in (None, "")]
    name = ".".join(w for w in words if w)[:128]
    try:
        return safety.check_metric_name(name) if name else None
    except ValueError:
        return None


def model_index_metrics(model_index: Any) -> tuple[dict[str, float], list[str]]:
    """Flat `dataset.metric -> value` from a Hub `model-index` (results without a dataset are skipped)."""
    metrics: dict[str, float] = {}
    problems: list[str] = []
    if model_index is None:
        return metrics, problems
    if not isinstance(model_index, list):
        return metrics, ["model-index is not a list; ignored"]
    for position, entry in enumerate(model_index):
        results = entry.get("results") if isinstance(entry, dict) else None
        if not isinstance(results, list):
            problems.append(f"model-index[{position}] has no 'results' list; ignored")
            continue
        for number, result in enumerate(results):
            where = f"model-index[{position}].results[{number}]"
            if not isinstance(result, dict):
                problems.append(f"{where} is not a mapping; ignored")
                continue
            dataset = result.get("dataset")
            if not isinstance(dataset, dict) or not (dataset.get("type") or dataset.get("name")):
                problems.append(f"{where} has no dataset; ignored")
                continue
            dataset_key = dataset.get("type") or dataset.get("name")
            for metric in result.get("metrics") or []:
                if not isinstance(metric, dict):
                    continue
                value = _number(metric.get("value"))
                kind = metric.get("type") or metric.get("name")
                if value is None or not kind:
                    problems.append(f"{where}: metric {str(kind)[:40]!r} has no numeric value; ignored")
                    continue
                name = metric_name(dataset_key, kind)
                if name in metrics:
                    name = metric_name(dataset_key, dataset.get("config"), dataset.get("split"), kind)
                if name is None or name in metrics:
                    problems.append(f"{where}: metric {str(kind)[:40]!r} repeats or has an unusable name; ignored")
                    continue
                metrics[name] = value
    return metrics, problems


def card_from_metadata(meta: dict[str, Any], model_index: Any = None) -> Card:
    """ModelEntry fields from Hub metadata (front matter or a Hub answer's `cardData`)."""
    card = Card()
    if not isinstance(meta, dict):
        card.problems.append("card metadata is not a mapping; ignored")
        return card
    licenses = _strings(meta.get("license"))
    if licenses:
        card.fields["license"] = licenses[0]
    elif isinstance(meta.get("license_name"), str):
        card.fields["license"] = meta["license_name"][:200]
    datasets = _strings(meta.get("datasets"))
    if datasets:
        card.fields["datasets"] = datasets
    tags = _strings(meta.get("tags"))
    if tags:
        card.fields["tags"] = tags
    base = _strings(meta.get("base_model"))
    if base:
        card.fields["base_model"] = base[0]
    for key, target in (("library_name", "library"), ("pipeline_tag", "task")):
        value = meta.get(key)
        if isinstance(value, str) and 0 < len(value) <= 200:
            card.fields[target] = value
    raw_index = meta.get("model-index") if model_index is None else model_index
    card.metrics, problems = model_index_metrics(raw_index)
    card.problems += problems
    card.headline_metric = next(iter(card.metrics), None)
    return card


def read_card(text: str) -> Card:
    """A README.md with optional YAML front matter -> fields, metrics, markdown body."""
    meta, body, problems = split_front_matter(text)
    card = card_from_metadata(meta)
    card.body = body.strip() + "\n" if body.strip() else ""
    card.problems = problems + card.problems
    return card
