"""A hand-built corpus of pickles and torch checkpoint files, written without torch.

Each builder returns the bytes of one file. Opcodes are assembled by hand where
`pickle.dumps` cannot express the trick (INST, OBJ, names through the memo,
torch's persistent ids), so the corpus needs neither torch nor files from
elsewhere.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
PROTO2 = b"\x80\x02"
STOP, MARK, TUPLE, REDUCE, NONE, EMPTY_DICT, SETITEM = b".", b"(", b"t", b"R", b"N", b"}", b"s"
EMPTY_TUPLE, TUPLE1, NEWFALSE, BINPERSID = b")", b"\x85", b"\x89", b"Q"


def text(value: str) -> bytes:
    """BINUNICODE."""
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def glob(module: str, name: str) -> bytes:
    """GLOBAL."""
    return b"c" + f"{module}\n{name}\n".encode()


def small_int(value: int) -> bytes:
    return b"K" + bytes([value])


class _Reduce:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def evil_dumps(protocol: int, func=os.system, arg: object = "echo pwned") -> bytes:
    """What pickle.dumps writes for an object whose __reduce__ calls `func(arg)`:
    GLOBAL for protocols 0-3, STACK_GLOBAL with names through the memo for 4-5."""
    return pickle.dumps({"weight": [1.0], "x": _Reduce(func, arg)}, protocol=protocol)


def benign_dumps(protocol: int) -> bytes:
    return pickle.dumps(collections.OrderedDict(weight=[1.0, 2.0], bias=b"\x00\x01"), protocol=protocol)


# Hand-written tricks, each a complete pickle that would call os.system("echo") or eval.
EVIL_INST = b"(S'echo pwned'\nios\nsystem\n."  # protocol 0 INST
EVIL_OBJ = PROTO2 + MARK + glob("os", "system") + text("echo pwned") + b"o" + STOP  # OBJ
EVIL_STACK_GLOBAL_MEMO = (
    b"\x80\x04" + text("os") + b"\x94" + text("system") + b"\x94" + b"h\x00h\x01\x93"
    + text("echo") + TUPLE1 + REDUCE + STOP
)  # fmt: skip
# The names reach STACK_GLOBAL after a POP and a DUP: a scan that only remembers the last strings pushed misses it.
EVIL_STACK_GLOBAL_SHUFFLE = (
    b"\x80\x04" + text("builtins") + text("collections") + b"0" + text("eval") + b"2" + b"0" + b"\x93"
    + text("1+1") + TUPLE1 + REDUCE + STOP
)  # fmt: skip
EVIL_EXT = PROTO2 + b"\x82\x01" + text("x") + TUPLE1 + REDUCE + STOP  # copyreg extension code 1
EVIL_EVAL = PROTO2 + glob("builtins", "eval") + text("__import__('os').system('echo')") + TUPLE1 + REDUCE + STOP
EVIL_IMPORTLIB = PROTO2 + glob("importlib", "import_module") + text("os") + TUPLE1 + REDUCE + STOP


def nested_load_from_bytes(inner: bytes) -> bytes:
    """torch.storage._load_from_bytes(b) runs torch.load(b) without weights_only: a pickle inside a pickle."""
    length = struct.pack("<I", len(inner))
    return PROTO2 + glob("torch.storage", "_load_from_bytes") + b"B" + length + inner + TUPLE1 + REDUCE + STOP


def tensor_pickle(key: str = "0", numel: int = 2, *, name: str = "w", legacy: bool = False) -> bytes:
    """A state dict {name: FloatTensor(numel)} as torch pickles it, its storage as persistent id `key`
    (the legacy format's id has a sixth element, the view metadata)."""
    return (
        PROTO2 + glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE
        + text(name) + glob("torch._utils", "_rebuild_tensor_v2")
        + MARK + MARK + text("storage") + glob("torch", "FloatStorage") + text(key) + text("cpu")
        + small_int(numel) + (NONE if legacy else b"") + TUPLE + BINPERSID
        + small_int(0) + small_int(numel) + TUPLE1 + small_int(1) + TUPLE1 + NEWFALSE
        + glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + TUPLE + REDUCE + SETITEM + STOP
    )  # fmt: skip


def legacy_file(*, magic: bytes | None = None, sys_info: bytes | None = None, main: bytes | None = None,
                keys: bytes | None = None, tail: bytes = b"") -> bytes:  # fmt: skip
    """torch's legacy (non-zip) format: magic, protocol, sys_info, the data, storage keys, then raw storages."""
    numel = 2
    return (
        (magic or pickle.dumps(LEGACY_MAGIC, protocol=2))
        + pickle.dumps(1001, protocol=2)
        + (sys_info or pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2))
        + (main or tensor_pickle("0", numel, legacy=True))
        + (keys or pickle.dumps(["0"], protocol=2))
        + struct.pack("<q", numel)
        + struct.pack("<2f", 1.0, 2.0)
        + tail
    )


def zip_file(members: list[tuple[str, bytes]], *, method: int = zipfile.ZIP_STORED) -> bytes:
    """A zip in torch's layout (`archive/data.pkl`, ...); duplicate names are written twice."""
    buffer = io.BytesIO()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, which is the point
        with zipfile.ZipFile(buffer, "w", compression=method) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return buffer.getvalue()


def torch_zip(data_pkl: bytes, *extra: tuple[str, bytes]) -> bytes:
    return zip_file(
        [
            ("archive/data.pkl", data_pkl),
            ("archive/byteorder", b"little"),
            ("archive/data/0", b"\0" * 8),
            ("archive/version", b"3\n"),
            *extra,
        ]
    )


def set_compression_method(archive: bytes, method: int) -> bytes:
    """Rewrite every local and central header's compression method (to one no reader knows)."""
    out = bytearray(archive)
    for signature, at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := out.find(signature, start)) >= 0:
            out[start + at : start + at + 2] = struct.pack("<H", method)
            start += 4
    return bytes(out)


def tar_header(name: str = "pickle") -> bytes:
    """The first 512-byte block of a tar archive (torch's oldest format starts with one)."""
    block = bytearray(512)
    block[: len(name)] = name.encode()
    block[100:108] = b"0000644\0"
    block[124:136] = b"00000000000\0"
    block[156:157] = b"0"
    block[257:263] = b"ustar\0"
    block[148:156] = b" " * 8
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    return bytes(block) + b"\0" * 1024


def zip_streamed(path, name: str, chunks, *, method: int = zipfile.ZIP_DEFLATED) -> None:
    """Write a one-member zip whose member is the concatenation of `chunks`, without holding it in memory."""
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        info = zipfile.ZipInfo(name)
        info.compress_type = method
        with archive.open(info, "w", force_zip64=True) as member:
            for chunk in chunks:
                member.write(chunk)


def repeat(unit: bytes, total: int):
    """`unit` repeated to about `total` bytes, in 1 MiB chunks."""
    chunk = unit * max(1, (1 << 20) // len(unit))
    for _ in range(max(1, total // len(chunk))):
        yield chunk


def overlapping_entries(archive: bytes, copies: int) -> bytes:
    """Repeat the central directory entry so that `copies` entries name the same local data,
    each with a slightly different compressed size (so that no reader can tell they are one)."""
    end_at = archive.rfind(b"PK\x05\x06")
    central_at = archive.rfind(b"PK\x01\x02", 0, end_at)
    entry = archive[central_at:end_at]
    (compressed,) = struct.unpack("<I", entry[20:24])
    entries = b"".join(entry[:20] + struct.pack("<I", compressed - i) + entry[24:] for i in range(copies))
    end = bytearray(archive[end_at:])
    end[8:10] = end[10:12] = struct.pack("<H", copies)
    end[12:16] = struct.pack("<I", len(entries))
    end[16:20] = struct.pack("<I", central_at)
    return archive[:central_at] + entries + bytes(end)


def drop_first_central_entry(archive: bytes) -> bytes:
    """Leave the first member's local header and data in place but remove it from the central directory:
    torch and zipfile no longer see it, a reader walking local headers still does."""
    end_at = archive.rfind(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack("<HII", archive[end_at + 10 : end_at + 20])
    first = archive[cd_offset : cd_offset + 46]
    name_len, extra_len, comment_len = struct.unpack("<HHH", first[28:34])
    entry_len = 46 + name_len + extra_len + comment_len
    end = bytearray(archive[end_at:])
    end[8:10] = end[10:12] = struct.pack("<H", count - 1)
    end[12:16] = struct.pack("<I", cd_size - entry_len)
    end[16:20] = struct.pack("<I", cd_offset)
    return archive[:cd_offset] + archive[cd_offset + entry_len : end_at] + bytes(end)
