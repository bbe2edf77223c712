"""The pickle verdict of a checkpoint file: scanned once, recorded in the cache, shown everywhere.

`file_verdict(path, sha256)` is the one function that produces a verdict for
a file (`pickle_scan.scan_pickle_file`, recorded by content hash so the scan
runs once per content). Everything that tells the user about a pickle goes
through it or through the records it writes:

- `Zoo.download` calls `check_download`, which warns (`UnsafePickleWarning`);
- `ckptzoo show` and the widget's checkpoint rows call `checkpoint_warning`,
  which reads the records: a checkpoint whose pickle was scanned ``unsafe`` or
  ``unknown`` is marked unsafe (one plain-text line; each sink escapes it).

Records live in the cache layout (``ckptzoo_widgets.cache``):
``<cache>/scans/sha256/<sha256>.json``, written atomically, with a scanner
version so that a better scanner scans again.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from . import cache, config
from .pickle_scan import PickleVerdict, scan_pickle_file

SCANNER_VERSION = 3  # bump when the scanner learns something: old records are then scanned again
PICKLE_FORMATS = ("pytorch",)
_RECORD_LIMIT = 1 << 20
_ADVICE = "load it only with torch.load(..., weights_only=True), which refuses to import code"


class UnsafePickleWarning(UserWarning):
    """A downloaded pickle would import code beyond a plain state dict, or could not be scanned."""


def _record_path(sha256: str) -> Path | None:
    sha = sha256.lower().removeprefix("sha256:")
    return cache.scan_record_path(config.cache_root(), sha) if cache.SHA_RE.fullmatch(sha) else None


def recorded_verdict(sha256: str | None) -> PickleVerdict | None:
    """The verdict recorded for this content by this scanner version, if any."""
    path = _record_path(sha256) if sha256 else None
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(_RECORD_LIMIT))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("scanner") != SCANNER_VERSION:
        return None
    return PickleVerdict.from_json(data.get("verdict"))


def _record(sha256: str, verdict: PickleVerdict) -> None:
    path = _record_path(sha256)
    if path is None:
        return
    try:
        cache.write_json_atomic(path, {"scanner": SCANNER_VERSION, "verdict": verdict.to_json()})
    except OSError:
        pass  # a read-only cache: the verdict is still returned, just not remembered


def file_verdict(path: str | Path, sha256: str | None = None) -> PickleVerdict:
    """The verdict for the file at `path`, whose content hash is `sha256` (hashed here when None).

    Pass `sha256` only when the file was verified against it (as `fetch` does).
    """
    path = Path(path)
    try:
        sha = sha256 or cache.hash_file(path)
    except OSError:
        return scan_pickle_file(path)
    verdict = recorded_verdict(sha)
    if verdict is None:
        verdict = scan_pickle_file(path)
        _record(sha, verdict)
    return verdict


def check_download(path: Path, sha256: str | None, ref: str) -> PickleVerdict:
    """Scan (or recall) a downloaded pickle and warn unless it is a plain state dict."""
    from .text import one_line

    verdict = file_verdict(path, sha256)
    if not verdict.safe:
        warnings.warn(
            f"{one_line(ref)}: {one_line(path.name)}: {one_line(verdict.describe(), 400)}; {_ADVICE}",
            UnsafePickleWarning,
            stacklevel=3,
        )
    return verdict


def checkpoint_warning(checkpoint: Any) -> str | None:
    """Why this checkpoint is marked unsafe (a recorded scan said unsafe or unknown), else None.

    Reads records only (no download, no scan): a pickle nobody downloaded yet
    is reported by `checkpoint_scan_state` as "not scanned".
    """
    for file in getattr(checkpoint, "files", None) or ():
        if getattr(file, "format", None) in PICKLE_FORMATS:
            verdict = recorded_verdict(getattr(file, "sha256", None))
            if verdict is not None and not verdict.safe:
                return f"{file.name}: {verdict.describe()}"
    return None


def checkpoint_scan_state(checkpoint: Any) -> str:
    """One word for a table: "" (no pickle), "safe", "UNSAFE" or "not scanned"."""
    states = []
    for file in getattr(checkpoint, "files", None) or ():
        if getattr(file, "format", None) in PICKLE_FORMATS:
            verdict = recorded_verdict(getattr(file, "sha256", None))
            states.append("not scanned" if verdict is None else "safe" if verdict.safe else "UNSAFE")
    if not states:
        return ""
    for state in ("UNSAFE", "not scanned"):
        if state in states:
            return state
    return "safe"


def summary_lines(checkpoints: Any) -> list[str]:
    """Lines for `ckptzoo show`: each checkpoint marked unsafe, then how many pickles are not scanned."""
    lines, unscanned = [], 0
    for checkpoint in checkpoints or ():
        warning = checkpoint_warning(checkpoint)
        if warning:
            lines.append(f"UNSAFE {checkpoint.name}: {warning}")
        elif checkpoint_scan_state(checkpoint) == "not scanned":
            unscanned += 1
    if unscanned:
        lines.append(
            f"{unscanned} checkpoint(s) hold pickles not scanned yet: `ckptzoo download REF` scans them "
            "(load pickles only with torch.load(..., weights_only=True))"
        )
    return lines
