"""Grid integrity: checkpoints of one model that are the same weights under another name.

Two ways a checkpoint is found to repeat another, neither downloading a file:

- **same files**: its weight files have the same sha256 as another checkpoint's
  (the index's sha256; for a Hub branch, the LFS oid of each file at that branch's
  commit, one API answer per branch, recorded per commit so asked once);
- **same tensors**: its files differ (metadata, order) but every tensor's bytes
  equal the previous checkpoint's, read whole by `weight_changes` (recorded in the
  pair's record; a sampled comparison proves nothing and is not used).

In a group of identical checkpoints the one kept is the model's default checkpoint
when it is in the group, else the last; the others are reported as
"<checkpoint> is identical to <kept>".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..text import one_line
from . import records
from .files import WeightFile, checkpoint_files

MAX_HUB_ANSWERS = 500  # branches asked about per call; more are left unchecked (said so)


@dataclass(frozen=True)
class Duplicate:
    checkpoint: str
    same_as: str
    reason: str  # "same files" or "same tensors"
    sha256: str | None = None

    def describe(self) -> str:
        why = f"same file, sha256 {self.sha256[:12]}…" if self.reason == "same files" and self.sha256 else self.reason
        return one_line(f"{self.checkpoint} is identical to {self.same_as} ({why})", 300)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint,
            "same_as": self.same_as,
            "reason": self.reason,
            "text": self.describe(),
        }


def _key(files: list[WeightFile]) -> tuple[str, ...] | None:
    shas = [f.sha256 for f in files]
    if not shas or any(s is None for s in shas):
        return None
    return tuple(sorted(s for s in shas if s is not None))


def _same_tensors(a: list[WeightFile], b: list[WeightFile]) -> bool:
    """Every tensor of a single-file checkpoint equal to the other's, by a whole (unsampled) comparison."""
    if len(a) != 1 or len(b) != 1 or not a[0].sha256 or not b[0].sha256:
        return False
    header = records.file_record(b[0].sha256).get("header")
    changes = records.pair_record(a[0].sha256, b[0].sha256).get("changes")
    if not isinstance(header, dict) or not isinstance(changes, dict) or not isinstance(header.get("tensors"), dict):
        return False
    names = set(header["tensors"])
    if not names or set(changes) != names:
        return False
    return all(
        isinstance(c, dict) and c.get("identical") is True and c.get("elements") == c.get("numel")
        for c in changes.values()
    )


def duplicates(model: Any, *, network: bool = True) -> list[Duplicate]:
    """The checkpoints of `model` (a ModelEntry) that repeat another one (see the module notes).

    `network=False` uses only what is known without a request (the index, recorded Hub commits and
    comparisons), as the widget does when a model is opened."""
    located: list[tuple[str, list[WeightFile]]] = []
    asked = 0
    for checkpoint in model.checkpoints:
        allowed = network and asked < MAX_HUB_ANSWERS
        if not checkpoint.files and allowed:
            asked += 1
        try:
            files = checkpoint_files(model, checkpoint, network=allowed)
        except Exception:  # noqa: BLE001 - a branch the Hub does not answer for is left unchecked
            files = []
        located.append((checkpoint.name, files))
    default = model.default_checkpoint
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, files in located:
        key = _key(files)
        if key is not None:
            groups.setdefault(key, []).append(name)
    found: dict[str, Duplicate] = {}
    for key, names in groups.items():
        if len(names) < 2:
            continue
        kept = default if default in names else names[-1]
        for name in names:
            if name != kept:
                found[name] = Duplicate(name, kept, "same files", key[0] if len(key) == 1 else None)
    for (prev_name, prev_files), (name, files) in zip(located, located[1:], strict=False):
        if name in found or prev_name in found and found[prev_name].same_as == name:
            continue
        if _key(files) is not None and _key(files) == _key(prev_files):
            continue
        if _same_tensors(prev_files, files):
            found[name] = Duplicate(name, prev_name, "same tensors")
    order = {c.name: i for i, c in enumerate(model.checkpoints)}
    return sorted(found.values(), key=lambda d: order.get(d.checkpoint, 0))


def known_duplicates(model: Any) -> list[Duplicate]:
    """`duplicates` from what is known without a request."""
    return duplicates(model, network=False)
