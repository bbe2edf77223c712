"""The engine: statistics of several checkpoints and the changes between pairs of them, read once.

`Measure` opens each checkpoint's weight files (headers from records when the
content was seen before), plans the tensors asked for under the byte budget
(plan.py, from the first checkpoint), and computes what the records do not
already hold. Tensors are taken in groups of at most `WEIGHTS_GROUP_BYTES` planned
bytes; within a group the checkpoints are read in order, and a checkpoint's data
is kept only while a later pair still needs it, so memory holds at most three
groups (the first checkpoint, the previous one, this one) whatever the model's size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..decode import WEIGHTS_GROUP_BYTES, WEIGHTS_READ_BYTES
from ..safetensors_check import DTYPE_SIZES, TensorInfo
from . import records
from .files import Cost, OpenFile, WeightFile
from .plan import TensorPlan, plan_tensors, planned_bytes
from .ranges import WeightsError
from .stats import TensorChange, TensorStats, readable, refusal, tensor_change, tensor_stats

Progress = Callable[[int, int], bool | None]  # (groups done, groups) -> False to stop


@dataclass
class Checkpoint:
    """One checkpoint to measure: its name (as shown) and its weight files."""

    name: str
    files: list[WeightFile]
    step: int | None = None


class Opened:
    """A checkpoint's files opened: which file holds each tensor."""

    def __init__(self, checkpoint: Checkpoint, cost: Cost, pool: dict[str, OpenFile]):
        self.checkpoint = checkpoint
        if not checkpoint.files:
            raise WeightsError(f"{checkpoint.name}: no safetensors (or scanned pickle) file to read weights from")
        self.files = []
        for f in checkpoint.files:  # the same content under two names (a branch and main) is opened once
            opened = pool.get(f.sha256 or "") or OpenFile(f, cost)
            if f.sha256:
                pool[f.sha256] = opened
            self.files.append(opened)
        self.where: dict[str, tuple[OpenFile, TensorInfo]] = {}
        for opened in self.files:
            for name, info in opened.header.tensors.items():
                self.where.setdefault(name, (opened, info))
        self.dirty_files: set[int] = set()

    def content(self) -> str | None:
        """One key for the checkpoint's content: the sha256 of its one file (None for several or unknown)."""
        return self.files[0].file.sha256 if len(self.files) == 1 else None

    def stats_entry(self, name: str) -> dict[str, Any] | None:
        opened, _ = self.where[name]
        entry = opened.record.get("stats", {}).get(name)
        return entry if isinstance(entry, dict) else None

    def read(self, plans: list[TensorPlan]) -> dict[str, list[bytes]]:
        out: dict[str, list[bytes]] = {}
        for opened in self.files:
            mine = [p for p in plans if p.name in self.where and self.where[p.name][0] is opened]
            if mine:
                out.update(opened.read(mine))
        return out

    def close(self) -> None:
        for opened in self.files:
            opened.close()


def select(tensors: dict[str, TensorInfo], wanted: str | Sequence[str] | None) -> tuple[list[TensorInfo], list[str]]:
    """The tensors asked for (all, a regular expression searched in names, or exact names) and the names
    skipped for their dtype. A tensor named exactly whose dtype is not read is a one-line refusal."""
    if wanted is None or isinstance(wanted, str):
        pattern = re.compile(wanted) if isinstance(wanted, str) else None
        chosen = [t for t in tensors.values() if pattern is None or pattern.search(t.name)]
        if not chosen:
            raise WeightsError(f"no tensor matches {wanted!r}")
        return [t for t in chosen if readable(t.dtype)], [t.name for t in chosen if not readable(t.dtype)]
    out = []
    for name in wanted:
        if name not in tensors:
            raise WeightsError(f"no tensor {name!r} in the checkpoint")
        if not readable(tensors[name].dtype):
            raise WeightsError(refusal(name, tensors[name].dtype))
        out.append(tensors[name])
    return out, []


def _matches(entry: Any, plan: TensorPlan) -> bool:
    return isinstance(entry, dict) and entry.get("plan") == plan.key


def _groups(infos: list[TensorInfo], plans: dict[str, TensorPlan]) -> list[list[TensorInfo]]:
    groups: list[list[TensorInfo]] = [[]]
    size = 0
    for info in sorted(infos, key=lambda t: t.begin):
        nbytes = planned_bytes(plans[info.name], info)
        if groups[-1] and size + nbytes > WEIGHTS_GROUP_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(info)
        size += nbytes
    return [g for g in groups if g]


@dataclass
class Result:
    """What a measure found: stats[(checkpoint index, tensor)], changes[(a, b, tensor)], and its cost."""

    tensors: list[TensorInfo]
    plans: dict[str, TensorPlan]
    stats: dict[tuple[int, str], TensorStats]
    changes: dict[tuple[int, int, str], TensorChange]
    skipped: list[str]
    cost: Cost
    complete: bool = True


def measure(
    checkpoints: list[Checkpoint],
    pairs: list[tuple[int, int]],
    *,
    tensors: str | Sequence[str] | None = None,
    budget: int | None = None,
    progress: Progress | None = None,
) -> Result:
    """Per-tensor statistics of every checkpoint and the change of each pair (a, b) of indices."""
    budget = WEIGHTS_READ_BYTES if budget is None else budget
    cost = Cost()
    opened: list[Opened] = []
    try:
        pool: dict[str, OpenFile] = {}
        for c in checkpoints:
            opened.append(Opened(c, cost, pool))
        first = opened[0]
        infos, skipped = select({n: info for n, (_, info) in first.where.items()}, tensors)
        plans = plan_tensors(infos, budget)
        result = Result(infos, plans, {}, {}, skipped, cost)
        pair_records = {(a, b): records.pair_record(opened[a].content(), opened[b].content()) for a, b in pairs}
        dirty_pairs: set[tuple[int, int]] = set()
        groups = _groups(infos, plans)
        for done, group in enumerate(groups):
            if progress is not None and progress(done, len(groups)) is False:
                result.complete = False
                break
            _measure_group(opened, pairs, group, plans, result, pair_records, dirty_pairs)
        for o in opened:
            for index in o.dirty_files:
                records.save_file_record(o.files[index].file.sha256, o.files[index].record)
        for key in dirty_pairs:
            a, b = key
            records.save_pair_record(opened[a].content(), opened[b].content(), pair_records[key])
        if progress is not None and result.complete:
            progress(len(groups), len(groups))
        return result
    finally:
        for o in opened:
            o.close()  # (a file shared by two checkpoints is closed twice: harmless)


def _same_shape(a: TensorInfo | None, b: TensorInfo | None) -> bool:
    return a is not None and b is not None and a.shape == b.shape


Pairs = list[tuple[int, int]]
PairRecords = dict[tuple[int, int], dict[str, Any]]


def _measure_group(
    opened: list[Opened],
    pairs: Pairs,
    group: list[TensorInfo],
    plans: dict[str, TensorPlan],
    result: Result,
    pair_records: PairRecords,
    dirty_pairs: set[tuple[int, int]],
) -> None:
    """One group of tensors: what the records hold is taken from them, the rest read once and computed."""
    names = [t.name for t in group]
    alias = _aliases(opened)
    need = _recorded_stats(opened, names, alias, plans, result)
    missing_pairs = _recorded_changes(opened, pairs, names, alias, plans, result, pair_records, need)
    _compute(opened, alias, need, missing_pairs, plans, result, pair_records, dirty_pairs)
    for index, source in alias.items():
        for name in names:
            if source != index and (source, name) in result.stats:
                result.stats[(index, name)] = result.stats[(source, name)]


def _aliases(opened: list[Opened]) -> dict[int, int]:
    """A checkpoint with the same content as an earlier one is measured once, under the earlier index."""
    first_seen: dict[str, int] = {}
    alias: dict[int, int] = {}
    for index, o in enumerate(opened):
        key = o.content()
        if key is not None:
            alias[index] = first_seen.setdefault(key, index)
    return alias


def _recorded_stats(
    opened: list[Opened], names: list[str], alias: dict[int, int], plans: dict[str, TensorPlan], result: Result
) -> dict[int, set[str]]:
    """The statistics the records hold (into `result`); the tensors each checkpoint must read for the rest."""
    need: dict[int, set[str]] = {}
    for index, o in enumerate(opened):
        if alias.get(index, index) != index:
            continue
        for name in names:
            if name not in o.where or not readable(o.where[name][1].dtype):
                continue
            entry = o.stats_entry(name)
            if _matches(entry, plans[name]):
                assert entry is not None
                result.stats[(index, name)] = TensorStats(
                    entry["norm"], entry["mean"], entry["std"], entry["elements"], entry["numel"]
                )
            else:
                need.setdefault(index, set()).add(name)
    return need


def _recorded_changes(
    opened: list[Opened],
    pairs: Pairs,
    names: list[str],
    alias: dict[int, int],
    plans: dict[str, TensorPlan],
    result: Result,
    pair_records: PairRecords,
    need: dict[int, set[str]],
) -> dict[tuple[int, int], set[str]]:
    """The changes the pair records hold, or that identical content makes (into `result`); the tensors
    each pair still needs, which both ends then read (added to `need`)."""
    missing_pairs: dict[tuple[int, int], set[str]] = {}
    for a, b in pairs:
        saved = pair_records[(a, b)].get("changes", {})
        for name in names:
            ta, tb = opened[a].where.get(name), opened[b].where.get(name)
            if ta is None or tb is None or not _same_shape(ta[1], tb[1]) or not readable(tb[1].dtype):
                continue
            if opened[a].content() is not None and opened[a].content() == opened[b].content():
                result.changes[(a, b, name)] = _unchanged(result.stats.get((a, name)), tb[1].numel)
                continue  # the same bytes (same sha256): nothing to read
            entry = saved.get(name) if isinstance(saved, dict) else None
            if _matches(entry, plans[name]):
                assert entry is not None
                result.changes[(a, b, name)] = TensorChange(
                    _f(entry["relative"]),
                    _f(entry["cosine"]),
                    _f(entry["distance"]),
                    bool(entry["identical"]),
                    entry["elements"],
                    entry["numel"],
                )
            else:
                missing_pairs.setdefault((a, b), set()).add(name)
                need.setdefault(alias.get(a, a), set()).add(name)
                need.setdefault(alias.get(b, b), set()).add(name)
    return missing_pairs


def _compute(
    opened: list[Opened],
    alias: dict[int, int],
    need: dict[int, set[str]],
    missing_pairs: dict[tuple[int, int], set[str]],
    plans: dict[str, TensorPlan],
    result: Result,
    pair_records: PairRecords,
    dirty_pairs: set[tuple[int, int]],
) -> None:
    """Read what is needed, checkpoint by checkpoint in order, and compute; a checkpoint's data is
    dropped once no later pair needs it. New statistics and changes go to the records too."""
    last_use: dict[int, int] = {}
    for a, b in missing_pairs:
        for end in (alias.get(a, a), alias.get(b, b)):
            last_use[end] = max(last_use.get(end, -1), b)
    held: dict[int, dict[str, list[bytes]]] = {}
    for index in sorted(set(need) | {b for _, b in missing_pairs}):
        o = opened[index]
        if index in need:
            held[index] = o.read([plans[n] for n in sorted(need[index])])
        data = held.get(alias.get(index, index), {})
        for name in sorted(need.get(index, ())):
            file, info = o.where[name]
            if (index, name) not in result.stats:
                stats = tensor_stats(data[name], info.dtype, DTYPE_SIZES[info.dtype], info.numel)
                result.stats[(index, name)] = stats
                file.record.setdefault("stats", {})[name] = {"plan": plans[name].key, **asdict(stats)}
                o.dirty_files.add(o.files.index(file))
        for (a, b), which in missing_pairs.items():
            if b != index:
                continue
            for name in sorted(which):
                ia, ib = opened[a].where[name][1], o.where[name][1]
                change = tensor_change(
                    held[alias.get(a, a)][name],
                    ia.dtype,
                    held[alias.get(b, b)][name],
                    ib.dtype,
                    (DTYPE_SIZES[ia.dtype], DTYPE_SIZES[ib.dtype]),
                    ib.numel,
                )
                result.changes[(a, b, name)] = change
                pair_records[(a, b)].setdefault("changes", {})[name] = {"plan": plans[name].key, **asdict(change)}
                dirty_pairs.add((a, b))
        for kept in list(held):
            if last_use.get(kept, -1) <= index:
                del held[kept]


def _unchanged(stats: TensorStats | None, numel: int) -> TensorChange:
    cosine = 1.0 if stats is None or stats.norm > 0 else math.nan
    return TensorChange(0.0, cosine, 0.0, True, numel, numel)


def _f(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan
