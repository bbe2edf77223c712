"""Where a checkpoint's weights are, and their safetensors headers, without downloading them.

`checkpoint_files` lists the weight files of a checkpoint from the index (a
local path, an http(s) URL, object storage) or, for a Hub branch the index
lists without files, from the Hub's answer for that revision (the LFS sha256
and size of each file, recorded per commit, so asked once). `OpenFile` gives a
file's validated header (from its record when the content was seen before)
and reads the byte ranges of its tensors, coalescing neighbours.

A file already in the download cache (its sha256 is known) is read from there.
A pickled checkpoint (`.bin`, `.pt`) is downloaded through `fetch`, scanned
(`pickle_verdicts.file_verdict`) and read only when the scan says it is a plain
state dict, with `torch.load(weights_only=True)`; never unpickled otherwise.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .. import cache, config, credentials
from ..safetensors_check import DTYPE_SIZES, SafetensorsHeader, TensorInfo
from ..text import one_line
from . import records
from .plan import TensorPlan
from .ranges import LocalRanges, Ranges, WeightsError, open_ranges

MERGE_GAP = 64 << 10  # neighbouring ranges closer than this are read in one request
_COMMIT = re.compile(r"commit ([0-9a-f]{40})")
PICKLE_FORMATS = ("pytorch",)


@dataclass(frozen=True)
class WeightFile:
    location: str  # local path or URL
    sha256: str | None
    size: int | None
    format: str  # "safetensors" or "pytorch"
    storage_options: dict[str, Any] | None = None


@dataclass
class Cost:
    """What reading cost: bytes received (headers and tensors), requests sent, records reused."""

    header_bytes: int = 0
    tensor_bytes: int = 0
    requests: int = 0
    files_from_records: int = 0
    tensors_read: int = 0

    @property
    def bytes_read(self) -> int:
        return self.header_bytes + self.tensor_bytes

    def as_dict(self) -> dict[str, int]:
        return {
            "bytes_read": self.bytes_read,
            "header_bytes": self.header_bytes,
            "tensor_bytes": self.tensor_bytes,
            "requests": self.requests,
            "files_from_records": self.files_from_records,
            "tensors_read": self.tensors_read,
        }


def _weight_files(files: list[Any], locate: Any) -> list[WeightFile]:
    chosen = [f for f in files if getattr(f, "format", None) == "safetensors"]
    if not chosen:
        chosen = [f for f in files if getattr(f, "format", None) in PICKLE_FORMATS]
    out = []
    for f in chosen:
        location = locate(f)
        out.append(
            WeightFile(location, f.sha256, f.size, f.format or "safetensors", credentials.storage_options_for(location))
        )
    return out


def hub_commit(checkpoint: Any) -> str | None:
    match = _COMMIT.search(getattr(checkpoint, "notes", None) or "")
    return match.group(1) if match else None


def _hub_files(model: Any, checkpoint: Any, network: bool) -> list[WeightFile] | None:
    """A Hub branch's weight files (from the commit's record, else one API answer); None when unknown."""
    repo, revision = getattr(model, "repo", None), getattr(checkpoint, "revision", None)
    if not (repo and revision and str(getattr(model, "source", "")).startswith("hf")):
        return None
    base = (model.base or "").rstrip("/")
    commit = hub_commit(checkpoint)
    known = records.commit_files(commit) if commit else None
    if known is None:
        if not network:
            return None
        from ..sources.hub_client import HubClient

        client = HubClient(base or None)
        path = f"/api/models/{quote(repo, safe='/')}/revision/{quote(revision, safe='')}"
        info = client.get(client.url(path, [("blobs", "true")]), what=f"{repo}@{revision}").data
        sha = info.get("sha") if isinstance(info, dict) else None
        commit = sha if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{40}", sha) else commit
        known = {}
        siblings = info.get("siblings") if isinstance(info, dict) else None
        for sibling in siblings if isinstance(siblings, list) else []:
            name = sibling.get("rfilename") if isinstance(sibling, dict) else None
            lfs = sibling.get("lfs") if isinstance(sibling, dict) else None
            if not isinstance(name, str) or "/" in name or not name.endswith((".safetensors", ".bin", ".pt", ".pth")):
                continue
            sha256 = lfs.get("sha256") if isinstance(lfs, dict) else None
            size = lfs.get("size") if isinstance(lfs, dict) else sibling.get("size")
            known[name] = {
                "sha256": sha256 if isinstance(sha256, str) and cache.SHA_RE.fullmatch(sha256) else None,
                "size": size if isinstance(size, int) and size >= 0 else None,
            }
        if commit:
            records.save_commit_files(commit, repo, known)
    pin = commit or revision
    files = []
    names = sorted(n for n in known if n.endswith(".safetensors")) or sorted(known)
    for name in names:
        entry = known[name] if isinstance(known[name], dict) else {}
        url = f"{base}/{repo}/resolve/{quote(pin, safe='')}/{quote(name)}"
        fmt = "safetensors" if name.endswith(".safetensors") else "pytorch"
        files.append(WeightFile(url, entry.get("sha256"), entry.get("size"), fmt))
    return files


def checkpoint_files(model: Any, checkpoint: Any, *, network: bool = True) -> list[WeightFile]:
    """The weight files of one checkpoint (safetensors first; pickles only when there are none)."""
    if checkpoint.files:
        return _weight_files(list(checkpoint.files), model.locate)
    return _hub_files(model, checkpoint, network) or []


class OpenFile:
    """One weight file: its header (recorded per content) and ranged reads of its tensors."""

    def __init__(self, file: WeightFile, cost: Cost):
        self.file, self.cost = file, cost
        self.shown = one_line(credentials.presentable(file.location))
        self._ranges: Ranges | None = None
        self.record = records.file_record(file.sha256)
        self.header = self._header()

    def _open(self) -> Ranges:
        if self._ranges is None:
            if self.file.format in PICKLE_FORMATS:
                self._ranges = _pickled(self.file)
            else:
                blob = (
                    cache.cached_blob(config.cache_root(), self.file.location, self.file.sha256, self.file.size)
                    if self.file.sha256
                    else None
                )
                self._ranges = LocalRanges(blob) if blob else open_ranges(self.file.location, self.file.storage_options)
        return self._ranges

    def _header(self) -> SafetensorsHeader:
        saved = self.record.get("header")
        if isinstance(saved, dict) and isinstance(self.record.get("data_start"), int):
            try:
                tensors = {
                    name: TensorInfo(name, v[0], tuple(v[1]), v[2], v[3]) for name, v in saved["tensors"].items()
                }
                self.cost.files_from_records += 1
                return SafetensorsHeader(tensors, {}, self.record["data_start"])
            except (KeyError, TypeError, IndexError, ValueError):
                pass
        ranges = self._open()
        before = ranges.received, ranges.requests
        header = ranges.header(self.file.size if self.file.format not in PICKLE_FORMATS else None)
        self.cost.header_bytes += ranges.received - before[0]
        self.cost.requests += ranges.requests - before[1]
        self.record["header"] = {
            "tensors": {n: [t.dtype, list(t.shape), t.begin, t.end] for n, t in header.tensors.items()}
        }
        self.record["data_start"] = header.data_start
        return header

    def read(self, plans: list[TensorPlan]) -> dict[str, list[bytes]]:
        """The planned blocks of each tensor, as bytes: neighbouring ranges read in one request."""
        wanted: list[tuple[int, int, str, int]] = []  # (file start, file end, tensor, block index)
        for plan in plans:
            info = self.header.tensors[plan.name]
            itemsize = DTYPE_SIZES[info.dtype]
            base = self.header.data_start + info.begin
            for index, (first, count) in enumerate(plan.blocks):
                wanted.append((base + first * itemsize, base + (first + count) * itemsize, plan.name, index))
        wanted.sort()
        out: dict[str, list[bytes]] = {p.name: [b""] * len(p.blocks) for p in plans}
        ranges = self._open()
        i = 0
        while i < len(wanted):
            start, end = wanted[i][0], wanted[i][1]
            j = i + 1
            while j < len(wanted) and wanted[j][0] - end <= MERGE_GAP:
                end = max(end, wanted[j][1])
                j += 1
            before = ranges.received, ranges.requests
            data = ranges.read(start, end)
            self.cost.tensor_bytes += ranges.received - before[0]
            self.cost.requests += ranges.requests - before[1]
            for s, e, name, index in wanted[i:j]:
                out[name][index] = data[s - start : e - start]
            i = j
        self.cost.tensors_read += len(plans)
        return out

    def close(self) -> None:
        if self._ranges is not None:
            self._ranges.close()


class MemoryRanges(LocalRanges):
    """A safetensors file built in memory (from a scanned, safe pickle)."""

    def __init__(self, data: bytes, shown: str):
        Ranges.__init__(self, shown)
        self.handle = io.BytesIO(data)
        self.size = len(data)


def _pickled(file: WeightFile) -> Ranges:
    """A pickled checkpoint through the safe path: fetched (verified), scanned, loaded with weights_only."""
    from .. import pickle_verdicts
    from ..fetch import fetch

    path = fetch(file.location, sha256=file.sha256, size=file.size, quiet=True, storage_options=file.storage_options)
    shown = one_line(credentials.presentable(file.location))
    verdict = pickle_verdicts.file_verdict(path, file.sha256)
    if not verdict.safe:
        raise WeightsError(f"{shown}: not read: {one_line(verdict.describe(), 300)}")
    try:
        import torch
        from safetensors.torch import save
    except ImportError:
        raise WeightsError(f"{shown}: reading a pickled checkpoint needs torch (pip install torch)") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise WeightsError(f"{shown}: torch.load(weights_only=True) refused it ({one_line(error, 200)})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{shown}: not a state dict (a {type(state).__name__})")
    tensors = {k: v.contiguous() for k, v in state.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    return MemoryRanges(save(tensors), shown)
