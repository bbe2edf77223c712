"""What a course pack says about itself: each entry's plan (`Planned`), the pack's zoo index
(one entry per model, its checkpoints merged), and phase 3 of a build, `describe`: the index,
the course file, the manifest written last, then what the previous build held removed.

build.py plans and places; this module only turns the plans into the pack's documents.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import pathlib
from typing import Any

from ..errors import ZooError
from ..text import one_line
from . import layout
from .course import Course
from .hub import HubSnapshot


@dataclasses.dataclass
class Planned:
    """What one course entry puts in the pack."""

    key: str
    kind: str  # zoo | hub | url
    label: str  # how status shows it
    provides: list[str]  # what a notebook may name it by (refs, URLs, file names, sha256s)
    files: dict[str, tuple[str, int, pathlib.Path | None]] = dataclasses.field(default_factory=dict)
    # ^ pack path -> (sha256, size, source in the teacher's cache; None: already in the pack)
    links: dict[str, str] = dataclasses.field(default_factory=dict)  # pack path -> target pack path
    texts: dict[str, bytes] = dataclasses.field(default_factory=dict)  # small files: Hub refs, URL records
    urls: dict[str, str] = dataclasses.field(default_factory=dict)  # URL -> sha256 (rebuilds need no request)
    model: dict[str, Any] | None = None  # the entry of the pack's index (its checkpoints merged by id)

    @property
    def size(self) -> int:
        return sum(size for _, size, _ in self.files.values())


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_entry(model: Any, checkpoint: Any, files: list[dict[str, Any]]) -> dict[str, Any]:
    """The pack index's entry of one zoo checkpoint: its model with only that checkpoint, the history as curves."""
    data = model.model_dump(mode="json", exclude_none=True)
    if not data.get("curves"):  # the pack keeps a few checkpoints: their history stays on the card as curves
        curves: dict[str, list[list[float]]] = {}
        for each in model.checkpoints:
            if each.step is not None:
                for name, value in each.metrics.items():
                    curves.setdefault(name, []).append([each.step, value])
        data["curves"] = {name: points for name, points in curves.items() if len(points) > 1}
    kept = checkpoint.model_dump(mode="json", exclude_none=True)
    kept["files"] = files
    data["checkpoints"] = [kept]
    data.pop("default_checkpoint", None)
    return data


def hub_entry(snap: HubSnapshot, files: list[dict[str, Any]], card: dict[str, Any] | None) -> dict[str, Any]:
    """The pack index's entry of one Hub revision: the zoo's card for that repo when there is one."""
    item = snap.item
    name = item.revision.replace("/", "-")
    checkpoint: dict[str, Any] = {"name": name, "revision": item.revision}
    if card is not None:
        for known in card.get("checkpoints", []):
            if known.get("revision") == item.revision or known.get("name") == name:
                checkpoint = {k: v for k, v in known.items() if k != "files"}
                checkpoint["revision"] = item.revision
                break
        data = dict(card)
    else:
        data = {"id": item.repo, "repo": item.repo, "description": f"# {item.repo}\n\nHugging Face Hub repository."}
    data.setdefault("repo", item.repo)
    if snap.library and "library" not in data:
        data["library"] = snap.library
    if snap.task and "task" not in data:
        data["task"] = snap.task
    if files:
        checkpoint["files"] = files
    checkpoint["notes"] = one_line(f"packed at commit {snap.commit}", 200)
    data["checkpoints"] = [checkpoint]
    data.pop("default_checkpoint", None)
    return data


def merge_models(plans: list[Planned]) -> list[dict[str, Any]]:
    """One index entry per model id; several checkpoints of one model become one entry."""
    models: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    for planned in plans:
        model = planned.model
        if model is None:
            continue
        key = model["id"]
        if key not in models:
            models[key], origin[key] = model, planned.key
            continue
        names = {c["name"] for c in models[key]["checkpoints"]}
        for checkpoint in model["checkpoints"]:
            if checkpoint["name"] in names:
                raise ZooError(
                    f"two course entries give model {key!r} a checkpoint {checkpoint['name']!r} "
                    f"({origin[key]} and {planned.key}); give one of them another id"
                )
            models[key]["checkpoints"].append(checkpoint)
    for model in models.values():  # checkpoints in training order, as the zoo shows them
        model["checkpoints"].sort(key=lambda c: (c.get("step") is None, c.get("step") or 0))
    return list(models.values())


def describe(pack: pathlib.Path, course: Course, plans: list[Planned]) -> list[str]:
    """Phase 3: the pack's zoo index, the course file, then the manifest (written last); then
    what the previous build held and this one does not is removed (returned)."""
    from ..schema import parse_index

    models = merge_models(plans)
    document = {
        "ckptzoo_index": 1,
        "name": course.title,
        "description": f"Course pack built by `ckptzoo pack build` from {course.path.name}.",
        "models": models,
    }
    index, problems = parse_index(document, str(pack / layout.INDEX))
    if problems:
        raise ZooError(f"the pack's index would not read back: {problems[0]}")
    document["models"] = [m.model_dump(mode="json", exclude_none=True) for m in index.models]
    layout.place_bytes(pack, layout.INDEX, (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode())
    layout.place_bytes(pack, layout.COURSE, course.path.read_bytes())
    files: dict[str, dict[str, Any]] = {}
    links: dict[str, str] = {}
    for planned in plans:
        for rel, (sha, size, _) in planned.files.items():
            files[rel] = {"sha256": sha, "size": size}
        for rel, data in planned.texts.items():
            files[rel] = {"sha256": _sha(data), "size": len(data)}
        links.update(planned.links)
    for rel in (layout.INDEX, layout.COURSE):
        data = (pack / rel).read_bytes()
        files[rel] = {"sha256": _sha(data), "size": len(data)}
    manifest = {
        "ckptzoo_pack": layout.FORMAT,
        "title": course.title,
        "course_sha256": course.sha256,
        "built": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "entries": [
            {
                "key": p.key,
                "kind": p.kind,
                "label": p.label,
                "size": p.size,
                "provides": sorted(set(p.provides)),
                "files": sorted(p.files),
                "urls": p.urls,
            }
            for p in plans
        ],
        "files": files,
        "links": links,
    }
    layout.place_bytes(pack, layout.MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    # only now, with the new manifest in place: what the previous build held and this one does not
    listed = set(files) | set(links) | {layout.MANIFEST}
    on_disk, disk_links = layout.walk(pack)
    removed = sorted(rel for rel in on_disk + disk_links if rel not in listed)
    for rel in removed:
        layout.remove(pack, rel)
    return removed
