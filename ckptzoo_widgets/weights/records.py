"""Weight statistics remembered per file content (the cache layout is `cache.layout`'s: `weights/`).

- `weights/sha256/<sha>.json`: the file's header (name -> dtype, shape, offsets) and
  each tensor's statistics with the plan they were measured on;
- `weights/pairs/<a>/<b>.json`: each tensor's change from content a to content b;
- `weights/commits/<sha1>.json`: a Hub commit's weight files (name -> sha256, size).

A record is keyed by the sha256 the zoo gives (the index, the Hub's LFS oid): the
statistics of a grid are computed once, by any kernel on the machine. A record
that is missing, damaged or of another version is computed again; a read-only
cache computes without remembering.
"""

from __future__ import annotations

import json
from typing import Any

from .. import cache, config

VERSION = 1
_LIMIT = 64 << 20  # a record larger than this is not ours: computed again


def _read(path: Any) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(_LIMIT))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def _write(path: Any, data: dict[str, Any]) -> None:
    try:
        cache.write_json_atomic(path, {**data, "version": VERSION})
    except OSError:
        pass  # a read-only cache: computed for this call, not remembered


def _valid(sha: str | None) -> bool:
    return isinstance(sha, str) and cache.SHA_RE.fullmatch(sha) is not None


def file_record(sha: str | None) -> dict[str, Any]:
    if not _valid(sha):
        return {}
    return _read(cache.weights_record_path(config.cache_root(), sha)) or {}  # type: ignore[arg-type]


def save_file_record(sha: str | None, record: dict[str, Any]) -> None:
    if _valid(sha):
        _write(cache.weights_record_path(config.cache_root(), sha), record)  # type: ignore[arg-type]


def pair_record(a: str | None, b: str | None) -> dict[str, Any]:
    if not (_valid(a) and _valid(b)):
        return {}
    return _read(cache.weights_record_path(config.cache_root(), a, b)) or {}  # type: ignore[arg-type]


def save_pair_record(a: str | None, b: str | None, record: dict[str, Any]) -> None:
    if _valid(a) and _valid(b):
        _write(cache.weights_record_path(config.cache_root(), a, b), record)  # type: ignore[arg-type]


def commit_files(commit: str) -> dict[str, Any] | None:
    """The weight files recorded for a Hub commit: {name: {"sha256", "size"}}, or None."""
    if len(commit) != 40 or not all(c in "0123456789abcdef" for c in commit):
        return None
    record = _read(cache.commit_files_path(config.cache_root(), commit))
    files = record.get("files") if record else None
    return files if isinstance(files, dict) else None


def save_commit_files(commit: str, repo: str, files: dict[str, Any]) -> None:
    if len(commit) == 40 and all(c in "0123456789abcdef" for c in commit):
        _write(cache.commit_files_path(config.cache_root(), commit), {"repo": repo, "files": files})
