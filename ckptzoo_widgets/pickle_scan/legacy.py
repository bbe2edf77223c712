"""A sequence of pickles in one stream, and the raw storages torch's legacy format puts between them."""

from __future__ import annotations

from typing import Any

from .budget import _BudgetSpent, _CannotTell, _Meter
from .streams import _Stream
from .verdict import _STORAGE_KINDS
from .walker import _Findings, _Global, _List, _PickleModel

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch's legacy (non-zip) format starts with this int
_ELEMENT_SIZE = {
    f"{kind}Storage": size for kind, size in zip(_STORAGE_KINDS, (4, 8, 2, 2, 8, 4, 2, 1, 1, 1, 8, 16), strict=True)
}
_ELEMENT_SIZE.update(
    {"QUInt8Storage": 1, "QInt8Storage": 1, "QInt32Storage": 4, "QUInt4x2Storage": 1, "QUInt2x4Storage": 1}
)


def _pickle_sequence(stream: _Stream, meter: _Meter, findings: _Findings, what: str) -> None:
    """Every pickle in `stream`, one after another, and the legacy torch storages between them."""
    if stream.at_end():
        findings.cannot_tell(f"{what} is empty")
        return
    values: list[Any] = []
    pids: list[list[Any]] = []
    legacy = False
    while not stream.at_end():
        start = stream.offset
        model = _PickleModel(meter, findings)
        try:
            values.append(model.run(stream))
        except _BudgetSpent:
            raise
        except _CannotTell as error:
            if not values:
                raise _CannotTell(f"{what} is not a pickle ({error})") from None
            raise _CannotTell(
                f"{what}: bytes from offset {start} are neither a pickle nor tensor data ({error})"
            ) from None
        pids.append(model.persistent_ids)
        if len(values) == 1:
            first = values[0]
            legacy = type(first) is int and first == _LEGACY_MAGIC
        if legacy and len(values) == 5:
            _walk_legacy_storages(stream, values[4], pids[3], what)
            legacy = False


def _walk_legacy_storages(stream: _Stream, keys: Any, persistent_ids: list[Any], what: str) -> None:
    """torch's legacy format: after the keys pickle, per key an int64 count and count x element bytes."""
    if not isinstance(keys, _List) or keys.changed or not all(isinstance(k, str) for k in keys):
        raise _CannotTell(f"{what}: the legacy storage keys cannot be followed")
    types: dict[str, Any] = {}
    for pid in persistent_ids:
        if isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and isinstance(pid[2], str):
            types[pid[2]] = pid[1]
    for key in keys:
        storage = types.get(key)
        size = _ELEMENT_SIZE.get(storage.name) if isinstance(storage, _Global) and storage.module == "torch" else None
        if size is None:
            raise _CannotTell(f"{what}: legacy storage {key[:40]!r} has no type the scan knows")
        count = int.from_bytes(stream.read(8), "little", signed=True)
        if count < 0:
            raise _CannotTell(f"{what}: legacy storage {key[:40]!r} has a negative size")
        stream.skip(count * size)
