"""What a pickle would import when loaded, found without loading it.

`scan_pickle_file(path)` reads every pickle that any loader could unpickle
from a file and gives one `PickleVerdict`:

- ``safe``: every pickle was read to its end, every import it names is on
  `SAFE_PICKLE_GLOBALS` (what a plain PyTorch state dict needs), and no byte
  of the file is left unexplained;
- ``unsafe``: some pickle names an import outside the allowlist (listed);
- ``unknown``: the scan could not tell (damaged data, a format it does not
  read, a budget spent), with the reason. Treat it as unsafe.

Which pickles a file holds depends on who reads it, so the scan reads them all:

- a file starting with a zip local header is what `torch.load` reads as a zip
  checkpoint: every ``*.pkl`` member (any case, duplicate names included),
  located through the central directory the way torch's reader (miniz) finds
  it and the way Python's `zipfile` finds it, where the two differ;
- any other file is a sequence of pickles (`torch.load`'s legacy format is five
  pickles followed by raw storage bytes; the scan walks those storages by the
  sizes the pickles declare); bytes after the last pickle that are neither
  storage data nor another pickle make the verdict ``unknown``;
- a zip found at the end of a file that does not start with one (Python's
  `zipfile` reads it) is scanned as well.

Nothing is executed or imported: opcodes are decoded one by one and a small
stack model follows the strings that `STACK_GLOBAL` takes its names from. Every
read, decompression and scan has a budget (`ScanBudget`); a spent budget gives
``unknown`` with "could not scan: budget ...".
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import BinaryIO

from .budget import ScanBudget, _BudgetSpent, _CannotTell, _Meter
from .legacy import _pickle_sequence
from .streams import _FileRegion
from .verdict import SAFE_PICKLE_GLOBALS, PickleVerdict, Status
from .walker import UNKNOWN, _Findings
from .zips import _LOCAL_MAGIC, _local_entries, _scan_zip, _zip_directories

__all__ = [
    "SAFE_PICKLE_GLOBALS",
    "SCANNER_ERROR",
    "UNKNOWN",
    "PickleVerdict",
    "ScanBudget",
    "Status",
    "pickle_imports",
    "scan_pickle_bytes",
    "scan_pickle_file",
    "unsafe_pickle_imports",
]


def _is_tar(head: bytes) -> bool:
    """The header check `tarfile.open` makes (torch tries it first), without reading members."""
    if len(head) < 512:
        return False
    try:
        stored = int(head[148:156].replace(b"\0", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    unsigned = sum(head[:148]) + 8 * 32 + sum(head[156:512])
    signed = sum(struct.unpack("148b", head[:148])) + 8 * 32 + sum(struct.unpack("356b", head[156:512]))
    return stored in (unsigned, signed)


def scan_pickle_file(path: str | Path, budget: ScanBudget | None = None) -> PickleVerdict:
    """Scan every pickle a loader could read from `path`; never raises for bad content."""
    meter = _Meter(budget or ScanBudget())
    findings = _Findings()
    try:
        with open(path, "rb") as handle:
            _scan_handle(handle, meter, findings)
    except OSError as error:
        findings.cannot_tell(f"cannot read the file ({error.strerror or type(error).__name__})")
    except Exception as error:  # noqa: BLE001 - see _scan_failed
        _scan_failed(error, findings)
    return findings.verdict()


def scan_pickle_bytes(data: bytes, budget: ScanBudget | None = None) -> PickleVerdict:
    """`scan_pickle_file` for bytes in memory (the same reading rules)."""
    meter = _Meter(budget or ScanBudget())
    findings = _Findings()
    try:
        _scan_handle(io.BytesIO(data), meter, findings)
    except Exception as error:  # noqa: BLE001 - see _scan_failed
        _scan_failed(error, findings)
    return findings.verdict()


SCANNER_ERROR = "the scan itself failed"


def _scan_failed(error: Exception, findings: _Findings) -> None:
    """A scan that cannot finish says so (unknown), whatever stopped it: never a crash, never `safe`.

    Anything but _CannotTell here is a bug in the scan; the hypothesis properties fail on SCANNER_ERROR.
    """
    if isinstance(error, _CannotTell):
        findings.cannot_tell(str(error))
    else:
        findings.cannot_tell(f"{SCANNER_ERROR} ({type(error).__name__})")


def _scan_handle(handle: BinaryIO, meter: _Meter, findings: _Findings) -> None:
    size = handle.seek(0, io.SEEK_END)
    handle.seek(0)
    head = handle.read(512)
    meter.read(len(head))
    if head[:4] == _LOCAL_MAGIC:
        # torch.load reads a file that starts with a zip local header as a zip checkpoint.
        directories = _zip_directories(handle, size, meter)
        if not directories:
            raise _CannotTell("starts like a zip archive but has no zip directory")
        _scan_zip(handle, size, [*directories, _local_entries(handle, size, directories, meter)], meter, findings)
        return
    if _is_tar(head):
        findings.cannot_tell("torch's oldest (tar) format, which weights_only=True refuses; not scanned")
    else:
        try:
            _pickle_sequence(_FileRegion(handle, 0, size, meter), meter, findings, "the file")
        except _BudgetSpent:
            raise
        except _CannotTell as error:
            findings.cannot_tell(str(error))
    # Python's zipfile finds an archive at the end of any file: scan what it would read too.
    try:
        directories = _zip_directories(handle, size, meter)
    except _BudgetSpent:
        raise
    except _CannotTell as error:
        findings.cannot_tell(str(error))
        return
    if directories:
        _scan_zip(handle, size, directories, meter, findings)


def pickle_imports(path: str | Path) -> list[str]:
    """Every global the file's pickles name (sorted); see `scan_pickle_file` for the verdict."""
    return list(scan_pickle_file(path).seen)


def unsafe_pickle_imports(path: str | Path) -> list[str]:
    """Imports outside the allowlist. Empty does not mean safe: check `scan_pickle_file(path).status`."""
    return list(scan_pickle_file(path).imports)
