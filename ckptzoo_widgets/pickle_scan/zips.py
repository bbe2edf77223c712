"""The pickles of a zip archive, found the ways torch (miniz), Python's zipfile and a streaming reader find them."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from .budget import _BudgetSpent, _CannotTell, _Meter
from .legacy import _pickle_sequence
from .streams import _Member
from .walker import _Findings

_LOCAL_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class _ZipEntry:
    name: bytes
    flags: int
    method: int
    compressed: int
    local_offset: int


def _zip_directories(handle: BinaryIO, size: int, meter: _Meter) -> list[list[_ZipEntry]]:
    """The central directory as miniz (torch) reads it and as Python's zipfile reads it.

    They disagree on broken or crafted archives: which end record, where the
    zip64 record is, and whether offsets shift when data precedes the archive.
    """
    tail_len = min(size, 22 + 0xFFFF)
    handle.seek(size - tail_len)
    tail = handle.read(tail_len)
    meter.read(len(tail))
    readings: list[tuple[int, bool]] = []  # (end record position, python's reading?)
    miniz_at = tail.rfind(b"PK\x05\x06", 0, max(0, tail_len - 21))
    if miniz_at >= 0:
        readings.append((size - tail_len + miniz_at, False))
    if tail[-22:-18] == b"PK\x05\x06" and tail[-2:] == b"\0\0":
        python_at = size - 22
    else:
        found = tail.rfind(b"PK\x05\x06")
        python_at = size - tail_len + found if found >= 0 and found + 22 <= tail_len else -1
    if python_at >= 0:
        readings.append((python_at, True))
    directories = []
    for end_at, python in dict.fromkeys(readings):
        try:
            directories.append(_central_directory(handle, size, end_at, python, meter))
        except (_CannotTell, struct.error) as error:
            if isinstance(error, _BudgetSpent):
                raise
            reader = "Python's zipfile" if python else "torch's zip reader"
            raise _CannotTell(f"zip directory as {reader} reads it is damaged ({error})") from None
    return directories


def _central_directory(handle: BinaryIO, size: int, end_at: int, python: bool, meter: _Meter) -> list[_ZipEntry]:
    handle.seek(end_at)
    end = handle.read(22)
    count, cd_size, cd_offset = struct.unpack("<10xHII", end[:20])
    zip64 = False
    if end_at >= 20:
        handle.seek(end_at - 20)
        locator = handle.read(20)
        if locator[:4] == b"PK\x06\x07":
            (record_at,) = struct.unpack("<Q", locator[8:16])
            if python:  # Python assumes the zip64 record sits right before the locator
                record_at = end_at - 20 - 56
            if 0 <= record_at <= size - 56:
                handle.seek(record_at)
                record = handle.read(56)
                if record[:4] == b"PK\x06\x06":
                    count, cd_size, cd_offset = struct.unpack("<32xQQQ", record)
                    zip64 = True
    shift = 0
    if python:
        shift = end_at - cd_size - cd_offset - (56 + 20 if zip64 else 0)
    start = cd_offset + shift
    if cd_size > meter.budget.central_directory:
        raise _BudgetSpent(f"could not scan: zip central directory of {cd_size} bytes")
    if start < 0 or start + cd_size > size:
        raise _CannotTell("central directory outside the file")
    handle.seek(start)
    data = handle.read(cd_size)
    meter.read(len(data))
    entries: list[_ZipEntry] = []
    at = 0
    while at + 46 <= len(data) and data[at : at + 4] == b"PK\x01\x02":
        meter.opcode()
        flags, method = struct.unpack("<HH", data[at + 8 : at + 12])
        compressed, uncompressed = struct.unpack("<II", data[at + 20 : at + 28])
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[at + 28 : at + 34])
        (offset,) = struct.unpack("<I", data[at + 42 : at + 46])
        name = data[at + 46 : at + 46 + name_len]
        extra = data[at + 46 + name_len : at + 46 + name_len + extra_len]
        compressed, offset = _zip64_fields(extra, uncompressed, compressed, offset)
        entries.append(_ZipEntry(name, flags, method, compressed, offset + shift))
        at += 46 + name_len + extra_len + comment_len
    if len(entries) < count or at < len(data):
        raise _CannotTell(f"{len(entries)} of {count} directory entries readable")
    return entries


def _zip64_fields(extra: bytes, uncompressed: int, compressed: int, offset: int) -> tuple[int, int]:
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack("<HH", extra[at : at + 4])
        if kind == 1:
            data = extra[at + 4 : at + 4 + length]
            values = []
            for i in range(0, len(data) - 7, 8):
                values.append(struct.unpack("<Q", data[i : i + 8])[0])
            if uncompressed == 0xFFFFFFFF and values:
                values.pop(0)
            if compressed == 0xFFFFFFFF and values:
                compressed = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        at += 4 + length
    return compressed, offset


def _local_entries(handle: BinaryIO, size: int, directories: list[list[_ZipEntry]], meter: _Meter) -> list[_ZipEntry]:
    """The members as a streaming reader finds them: local header after local header from offset 0.

    Neither torch nor zipfile reads a zip this way, but other tools do, and a
    local entry the central directory leaves out is a place to hide a pickle.
    """
    # torch writes sizes only in the central directory (flag 8, zeros in the local header)
    known = {entry.local_offset: entry.compressed for entries in directories for entry in entries}
    entries: list[_ZipEntry] = []
    at = 0
    while at + 30 <= size:
        meter.opcode()
        handle.seek(at)
        local = handle.read(30)
        if local[:4] != _LOCAL_MAGIC:
            break
        flags, method = struct.unpack("<HH", local[6:10])
        compressed, uncompressed, name_len, extra_len = struct.unpack("<IIHH", local[18:30])
        name = handle.read(name_len)
        extra = handle.read(extra_len)
        compressed, _ = _zip64_fields(extra, uncompressed, compressed, 0)
        if flags & 8 and compressed == 0 and at in known:
            compressed = known[at]
        elif flags & 8 and compressed == 0:
            if name.lower().endswith(b".pkl"):
                raise _CannotTell("a local zip entry without its size (data descriptor): cannot follow the entries")
            break
        entries.append(_ZipEntry(name, flags, method, compressed, at))
        at += 30 + name_len + extra_len + compressed
        handle.seek(at)
        if flags & 8 and handle.read(4) == b"PK\x07\x08":
            # signature, crc and two sizes of 4 bytes (or 8 in zip64): the next header tells which
            handle.seek(at + 16)
            at += 16 if handle.read(2) == b"PK" else 24
    return entries


def _scan_zip(
    handle: BinaryIO, size: int, directories: list[list[_ZipEntry]], meter: _Meter, findings: _Findings
) -> None:
    scanned: set[tuple[int, int, int]] = set()
    pickles = 0
    for entries in directories:
        for entry in entries:
            lower = entry.name.lower()
            if lower.endswith(b"constants.pkl"):
                findings.cannot_tell("a TorchScript archive (constants.pkl): torch.load hands it to torch.jit.load")
            if not lower.endswith(b".pkl"):
                continue
            pickles += 1
            key = (entry.local_offset, entry.method, entry.compressed)
            if key in scanned:
                continue
            scanned.add(key)
            label = f"zip member {entry.name.decode('utf-8', 'replace')[:80]!r}"
            if entry.flags & 1:
                findings.cannot_tell(f"{label} is encrypted")
                continue
            local = b""
            if 0 <= entry.local_offset <= size - 30:
                handle.seek(entry.local_offset)
                local = handle.read(30)
            if len(local) < 30 or local[:4] != _LOCAL_MAGIC:
                findings.cannot_tell(f"{label} has no local header where the directory points")
                continue
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            data_at = entry.local_offset + 30 + name_len + extra_len
            if data_at + entry.compressed > size:
                findings.cannot_tell(f"{label} runs past the end of the file")
                continue
            try:
                member = _Member(handle, data_at, entry.compressed, entry.method, meter, label)
                _pickle_sequence(member, meter, findings, label)
            except _BudgetSpent:
                raise
            except _CannotTell as error:
                findings.cannot_tell(str(error))
    if not pickles:
        findings.cannot_tell("a zip archive without any .pkl member (not a torch checkpoint)")
