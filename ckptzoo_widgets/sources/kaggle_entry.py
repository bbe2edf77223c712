"""Kaggle's answers -> entries: the names its clients use (framework enums, kagglehub handles,
checkpoint names), licences and tasks in the Hub's spelling, and one model answer -> an entry."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from .. import safety
from ..schema import Problem, Problems
from ..text import truncate

MAX_INSTANCES = 50
# Kaggle's licence names -> the Hub's ids (the catalog filters on one spelling); others kept as they are.
LICENCES = {
    "apache 2.0": "apache-2.0",
    "mit": "mit",
    "cc by 4.0": "cc-by-4.0",
    "cc by-sa 4.0": "cc-by-sa-4.0",
    "cc by-nc 4.0": "cc-by-nc-4.0",
    "cc by-nc-sa 4.0": "cc-by-nc-sa-4.0",
    "cc0: public domain": "cc0-1.0",
    "bsd-3-clause": "bsd-3-clause",
    "gemma": "gemma",
    "llama 2": "llama2",
}
# Tag names Kaggle gives models -> the Hub's task names, where they are the same thing.
TASKS = {
    "image classification": "image-classification",
    "object detection": "object-detection",
    "image segmentation": "image-segmentation",
    "text generation": "text-generation",
    "text classification": "text-classification",
    "text embedding": "feature-extraction",
    "image feature vector": "image-feature-extraction",
    "speech recognition": "automatic-speech-recognition",
    "audio classification": "audio-classification",
    "question answering": "question-answering",
    "translation": "translation",
    "summarization": "summarization",
}
_SLUG = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_HANDLE = re.compile(rf"^({_SLUG})/({_SLUG})/([A-Za-z0-9]+)/({_SLUG})/([0-9]{{1,9}})$")


# --- names the clients use -------------------------------------------------------------------


def framework_name(value: Any) -> str:
    """The wire enum `MODEL_FRAMEWORK_TENSOR_FLOW_2` -> the handle's `tensorFlow2` (kagglehub's spelling)."""
    text = str(value or "").removeprefix("MODEL_FRAMEWORK_")
    words = [w for w in text.lower().split("_") if w]
    return (words[0] + "".join(w.capitalize() for w in words[1:])) if words else ""


def framework_enum(name: str) -> str:
    """`tensorflow2` / `tensorFlow2` / `pytorch` -> the wire enum name (compared without case or '_')."""
    return "MODEL_FRAMEWORK_" + re.sub(r"(?<=[a-z])(?=[A-Z0-9])", "_", name).upper()


def same_framework(a: str, b: str) -> bool:
    return a.replace("_", "").lower() == b.replace("_", "").lower()


def handle_of(revision: str | None) -> tuple[str, str, str, str, int] | None:
    """A kagglehub handle `owner/model/framework/variation/version` -> its parts, else None."""
    found = _HANDLE.match(revision or "")
    if not found:
        return None
    owner, model, framework, variation, version = found.groups()
    return owner, model, framework, variation, int(version)


def checkpoint_name(framework: str, variation: str, version: int) -> str:
    return f"{framework}.{variation}.v{version}"


# --- answers -> entries -----------------------------------------------------------------------


def _text(value: Any, limit: int) -> str:
    return truncate(value, limit) if isinstance(value, str) else ""


def _licence(name: Any) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    return LICENCES.get(name.strip().lower(), truncate(name.strip(), 60))


def _tags(item: dict[str, Any]) -> list[str]:
    out = []
    for tag in item.get("tags") or []:
        name = tag.get("name") or tag.get("ref") if isinstance(tag, dict) else None
        if isinstance(name, str) and name.strip():
            out.append(truncate(name.strip(), 60))
    return list(dict.fromkeys(out))[:30]


def instances_of(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in (item.get("instances") or [])[:MAX_INSTANCES] if isinstance(i, dict)]


def _slug_pair(item: dict[str, Any]) -> tuple[str, str]:
    found = item.get("ref")
    ref = found if isinstance(found, str) else ""
    owner, _, slug = ref.partition("/")
    owner = owner or _text(item.get("author"), 100)
    slug = slug or _text(item.get("slug"), 100)
    return owner, slug


def _default_checkpoint(checkpoints: list[dict[str, Any]]) -> str:
    """The first instance's latest version (each checkpoint's `_version` taken off on the way)."""
    first = checkpoints[0]["revision"].rsplit("/", 1)[0]
    numbers = [int(c.pop("_version")) for c in checkpoints]
    return max(
        (n, c["name"]) for n, c in zip(numbers, checkpoints, strict=True) if c["revision"].startswith(first + "/")
    )[1]


@dataclasses.dataclass
class _Instances:
    """What a model's instances (framework + variation) give its entry, gathered one instance at a time."""

    checkpoints: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    frameworks: list[str] = dataclasses.field(default_factory=list)
    licences: list[str] = dataclasses.field(default_factory=list)
    rows: list[str] = dataclasses.field(default_factory=list)  # the card's table of variations
    usage: list[str] = dataclasses.field(default_factory=list)  # the card's overview and usage per instance

    def add(
        self, model_id: str, instance: dict[str, Any], framework: str, variation: str, known: list[int] | None
    ) -> None:
        """One instance: a checkpoint per version in `known` (else its latest), its row and usage."""
        latest = instance.get("versionNumber")
        numbers = known or ([latest] if isinstance(latest, int) else [])
        licence = _licence(instance.get("licenseName"))
        self.frameworks.append(framework)
        if licence:
            self.licences.append(licence)
        for number in sorted(v for v in numbers if isinstance(v, int) and 0 < v < 10**9):
            self.checkpoints.append(
                {
                    "name": checkpoint_name(framework, variation, number),
                    "_version": number,
                    "revision": f"{model_id}/{framework}/{variation}/{number}",
                    "notes": f"Kaggle model {model_id}, {framework} variation {variation}, version {number}"
                    + (f"; licence {licence}" if licence else ""),
                }
            )
        self.rows.append(
            f"| {framework} | {variation} | {latest if isinstance(latest, int) else ''} | {licence or ''} |"
        )
        overview, how = _text(instance.get("overview"), 20_000), _text(instance.get("usage"), 20_000)
        if overview or how:
            self.usage.append(f"### {framework} / {variation}\n\n{overview}\n\n{how}".strip())


def _instances(
    item: dict[str, Any],
    model_id: str,
    versions: dict[tuple[str, str], list[int]] | None,
    origin: str,
    problems: Problems,
) -> _Instances:
    """The model's framework instances whose framework and variation make a checkpoint name (others reported)."""
    found = _Instances()
    for instance in instances_of(item):
        framework = framework_name(instance.get("framework"))
        variation = instance.get("slug")
        if not framework or not isinstance(variation, str):
            problems.add(Problem(origin, model_id, "instances", "an instance without framework or slug; left out"))
            continue
        try:
            safety.check_checkpoint_name(checkpoint_name(framework, variation, 1))
        except ValueError as error:
            problems.add(Problem(origin, model_id, "instances", f"{error}; instance left out"))
            continue
        found.add(model_id, instance, framework, variation, (versions or {}).get((framework, variation)))
    return found


def model_data(
    item: dict[str, Any], versions: dict[tuple[str, str], list[int]] | None, origin: str, problems: Problems
) -> dict[str, Any] | None:
    """A Kaggle model (`ApiModel`) -> an entry; `versions`: every version of each (framework, variation),
    else the latest version of each instance only (a page of a listing)."""
    owner, slug = _slug_pair(item)
    model_id = f"{owner}/{slug}"
    safety.check_model_id(model_id)  # a ValueError: this model's problem
    found = _instances(item, model_id, versions, origin, problems)
    checkpoints, frameworks, licences = found.checkpoints, found.frameworks, found.licences
    if not checkpoints:
        problems.add(Problem(origin, model_id, "instances", "no framework instance with a version; model left out"))
        return None
    title = _text(item.get("title"), 200) or slug
    subtitle = _text(item.get("subtitle"), 500)
    description = "\n\n".join(
        part
        for part in (
            f"# {title}",
            subtitle,
            _text(item.get("description"), 100_000),
            "## Variations\n\n| framework | variation | latest version | licence |\n| --- | --- | --- | --- |\n"
            + "\n".join(found.rows),
            *found.usage,
            f"Kaggle Models: `{model_id}`.",
        )
        if part
    )
    tags = _tags(item)
    task = next((TASKS[t.lower()] for t in tags if t.lower() in TASKS), None)
    votes = item.get("voteCount")
    metrics = {"votes": float(votes)} if isinstance(votes, int) and not isinstance(votes, bool) else {}
    default = _default_checkpoint(checkpoints)
    return {
        "id": model_id,
        "name": title,
        "task": task,
        "library": "kagglehub",
        "framework": frameworks[0].lower(),
        "license": licences[0] if licences else None,
        "tags": [*dict.fromkeys(f.lower() for f in frameworks), *tags][:40],
        "description": description,
        "metrics": metrics,
        "headline_metric": "votes" if metrics else None,
        "created": _text(item.get("publishTime"), 40) or None,
        "updated": _text(item.get("updateTime"), 40) or None,
        "default_checkpoint": default,
        "repo": model_id,
        "checkpoints": checkpoints,
    }
