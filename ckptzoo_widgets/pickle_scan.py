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

import _compat_pickle
import bz2
import io
import lzma
import pickle
import pickletools
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

# Globals an ordinary PyTorch state dict needs. An entry is allowed only when
# calling it cannot run code or load another pickle: `torch.storage._load_from_bytes`
# (which calls torch.load without weights_only) is deliberately absent.
_STORAGE_KINDS = "Float Double Half BFloat16 Long Int Short Char Byte Bool ComplexFloat ComplexDouble".split()
_DTYPES = "float32 float64 float16 bfloat16 int64 int32 int16 int8 uint8 bool complex64 complex128".split()
SAFE_PICKLE_GLOBALS = frozenset(
    {
        "collections.OrderedDict",
        "_codecs.encode",  # how protocol 2 (torch's default) pickles bytes
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch.device",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2",
        "torch.Size",
        *(f"torch.{kind}Storage" for kind in _STORAGE_KINDS),
        *(f"torch.{dtype}" for dtype in _DTYPES),
    }
)

Status = Literal["safe", "unsafe", "unknown"]


@dataclass(frozen=True)
class PickleVerdict:
    """The outcome of a scan: `status`, the imports outside the allowlist, and why not sure."""

    status: Status
    imports: tuple[str, ...] = ()  # imports outside SAFE_PICKLE_GLOBALS (status "unsafe")
    reason: str = ""  # why the scan could not tell ("unknown"; may accompany "unsafe")
    seen: tuple[str, ...] = ()  # every import the pickles name

    @property
    def safe(self) -> bool:
        return self.status == "safe"

    def describe(self) -> str:
        """One line for a warning, the CLI or the widget (names are plain ASCII-safe repr)."""
        if self.status == "safe":
            return "pickle scan: only rebuilds tensors and containers"
        if self.status == "unsafe":
            more = f" and {len(self.imports) - 5} more" if len(self.imports) > 5 else ""
            return f"pickle imports {', '.join(self.imports[:5])}{more} when loaded"
        return f"could not scan the pickle: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "imports": list(self.imports), "reason": self.reason, "seen": list(self.seen)}

    @classmethod
    def from_json(cls, data: Any) -> PickleVerdict | None:
        try:
            status = data["status"]
            if status not in ("safe", "unsafe", "unknown"):
                return None
            return cls(
                status,
                tuple(str(i) for i in data.get("imports", ())),
                str(data.get("reason", "")),
                tuple(str(i) for i in data.get("seen", ())),
            )
        except (TypeError, KeyError, AttributeError):
            return None


@dataclass(frozen=True)
class ScanBudget:
    """Limits of one scan; spending any of them gives an ``unknown`` verdict."""

    member_bytes: int = 128 << 20  # decompressed bytes of one zip member
    total_bytes: int = 512 << 20  # bytes read or decompressed in all (seeking over raw data is free)
    opcodes: int = 2_000_000
    seconds: float = 30.0
    entries: int = 1_000_000  # stack + memo entries of one pickle
    tracked: int = 16 << 20  # bytes of small values followed to resolve names (then: not followed)
    central_directory: int = 16 << 20  # bytes of a zip's central directory


class _CannotTell(Exception):
    """The scan cannot say what this input would do (damaged, unsupported)."""


class _BudgetSpent(_CannotTell):
    pass


_CHUNK = 64 << 10
_LINE_LIMIT = 64 << 10  # a newline-terminated argument (GLOBAL, INT, ...) longer than this: cannot tell
_SMALL_ARG = 4096  # longer string/bytes arguments are skipped, not read into memory
_LOCAL_MAGIC = b"PK\x03\x04"
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch's legacy (non-zip) format starts with this int
_ELEMENT_SIZE = {
    f"{kind}Storage": size for kind, size in zip(_STORAGE_KINDS, (4, 8, 2, 2, 8, 4, 2, 1, 1, 1, 8, 16), strict=True)
}
_ELEMENT_SIZE.update(
    {"QUInt8Storage": 1, "QInt8Storage": 1, "QInt32Storage": 4, "QUInt4x2Storage": 1, "QUInt2x4Storage": 1}
)


class _Meter:
    """Counts bytes, opcodes and time against one ScanBudget."""

    def __init__(self, budget: ScanBudget) -> None:
        self.budget = budget
        self.bytes = 0
        self.opcodes = 0
        self.tracked = 0
        self.deadline = time.monotonic() + budget.seconds

    def read(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.budget.total_bytes:
            raise _BudgetSpent(f"could not scan: budget of {self.budget.total_bytes} bytes read spent")

    def opcode(self) -> None:
        self.opcodes += 1
        if self.opcodes > self.budget.opcodes:
            raise _BudgetSpent(f"could not scan: budget of {self.budget.opcodes} opcodes spent")
        if self.opcodes % 4096 == 0:
            self.clock()

    def clock(self) -> None:
        if time.monotonic() > self.deadline:
            raise _BudgetSpent(f"could not scan: budget of {self.budget.seconds:g} s spent")

    def track(self, cost: int) -> bool:
        """Whether a value of `cost` bytes may still be followed."""
        if self.tracked + cost > self.budget.tracked:
            return False
        self.tracked += cost
        return True


# ------------------------------------------------------------------ byte streams


class _Stream:
    """Buffered bytes of one pickle source, read without holding more than a chunk."""

    def __init__(self) -> None:
        self._buf = b""
        self._at = 0
        self.offset = 0  # position in the stream of the next byte

    def _more(self) -> bytes:
        raise NotImplementedError

    def _skip_raw(self, n: int) -> None:
        while n > 0:
            chunk = self._more()
            if not chunk:
                raise _CannotTell("truncated data")
            if len(chunk) > n:
                self._buf, self._at = chunk[n:], 0
                return
            n -= len(chunk)

    def _have(self, n: int) -> bool:
        while len(self._buf) - self._at < n:
            chunk = self._more()
            if not chunk:
                return False
            self._buf = self._buf[self._at :] + chunk
            self._at = 0
        return True

    def at_end(self) -> bool:
        return not self._have(1)

    def remaining(self) -> int | None:
        """Bytes left, when known without reading them."""
        return None

    def read(self, n: int) -> bytes:
        if not self._have(n):
            raise _CannotTell(f"truncated data at offset {self.offset}")
        data = self._buf[self._at : self._at + n]
        self._at += n
        self.offset += n
        return data

    def readline(self) -> bytes:
        while True:
            end = self._buf.find(b"\n", self._at)
            if end >= 0:
                return self.read(end + 1 - self._at)
            if len(self._buf) - self._at > _LINE_LIMIT:
                raise _CannotTell(f"a line longer than {_LINE_LIMIT} bytes at offset {self.offset}")
            if not self._have(len(self._buf) - self._at + 1):
                raise _CannotTell(f"truncated line at offset {self.offset}")

    def skip(self, n: int) -> None:
        buffered = len(self._buf) - self._at
        if n <= buffered:
            self._at += n
        else:
            self._buf, self._at = b"", 0
            self._skip_raw(n - buffered)
        self.offset += n


class _FileRegion(_Stream):
    """Bytes `start`..`end` of an open file; skipping seeks, so raw data costs nothing."""

    def __init__(self, handle: BinaryIO, start: int, end: int, meter: _Meter) -> None:
        super().__init__()
        self._handle, self._pos, self._end, self._meter = handle, start, end, meter

    def _more(self) -> bytes:
        n = min(_CHUNK, self._end - self._pos)
        if n <= 0:
            return b""
        self._meter.clock()
        self._handle.seek(self._pos)
        data = self._handle.read(n)
        self._pos += len(data)
        self._meter.read(len(data))
        return data

    def remaining(self) -> int | None:
        return self._end - self._pos + len(self._buf) - self._at

    def _skip_raw(self, n: int) -> None:
        if self._pos + n > self._end:
            raise _CannotTell(f"truncated data: {n} bytes to skip, {self._end - self._pos} left")
        self._pos += n


class _Member(_Stream):
    """A compressed zip member, decompressed a chunk at a time under the member and total budgets."""

    def __init__(self, handle: BinaryIO, start: int, size: int, method: int, meter: _Meter, name: str) -> None:
        super().__init__()
        self._raw = _FileRegion(handle, start, start + size, meter)
        self._meter, self._name, self._out = meter, name, 0
        self._decompress: Callable[[bytes], bytes] | None
        if method == 0:
            self._decompress = None
        elif method == 8:
            inflater = zlib.decompressobj(-15)
            self._decompress = lambda data: inflater.decompress(inflater.unconsumed_tail + data, _CHUNK)
            self._pending = lambda: bool(inflater.unconsumed_tail)
        elif method in (12, 14):
            # bzip2 / lzma: Python's zipfile reads them (torch's reader does not).
            unpacker: Any = bz2.BZ2Decompressor() if method == 12 else _ZipLzma()
            self._decompress = lambda data: unpacker.decompress(data, _CHUNK)
            self._pending = lambda: not unpacker.needs_input and not unpacker.eof
        else:
            raise _CannotTell(f"{name} uses compression method {method}, which the scan does not read")

    def _more(self) -> bytes:
        if self._decompress is None:
            data = self._raw._more()
        else:
            data = b""
            for _ in range(1 << 20):  # each round either consumes input or gives output
                pending = self._pending()
                compressed = b"" if pending else self._raw._more()
                if not pending and not compressed:
                    break
                try:
                    data = self._decompress(compressed)
                except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as error:
                    raise _CannotTell(f"{self._name} does not decompress ({error})") from None
                if data:
                    break
                self._meter.clock()
        self._out += len(data)
        if self._out > self._meter.budget.member_bytes:
            raise _BudgetSpent(
                f"could not scan: {self._name} decompresses to more than {self._meter.budget.member_bytes} bytes"
            )
        if self._decompress is not None:
            self._meter.read(len(data))
        return data


class _ZipLzma:
    """Zip's LZMA members carry a 4-byte version and a 2-byte properties length first."""

    def __init__(self) -> None:
        self._head = b""
        self._inner: Any = None
        self.needs_input = True
        self.eof = False

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._inner is None:
            self._head += data
            if len(self._head) < 4:
                return b""
            (size,) = struct.unpack("<H", self._head[2:4])
            if len(self._head) < 4 + size:
                return b""
            props = lzma._decode_filter_properties(lzma.FILTER_LZMA1, self._head[4 : 4 + size])  # type: ignore[attr-defined]
            self._inner = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[props])
            data, self._head = self._head[4 + size :], b""
        out = self._inner.decompress(data, max_length)
        self.needs_input, self.eof = self._inner.needs_input, self._inner.eof
        return out


# ------------------------------------------------------------------ the opcode model


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()
_MARK: Any = object()


@dataclass(frozen=True)
class _Global:
    module: str
    name: str


class _List(list):
    """A list the model follows; `changed` once an opcode it does not follow touched it."""

    changed = False


_OPS = {op.code.encode("latin-1"): op for op in pickletools.opcodes}
_LENGTH_PREFIX = {
    pickletools.TAKEN_FROM_ARGUMENT1: ("<B", 1),
    pickletools.TAKEN_FROM_ARGUMENT4: ("<i", 4),
    pickletools.TAKEN_FROM_ARGUMENT4U: ("<I", 4),
    pickletools.TAKEN_FROM_ARGUMENT8U: ("<Q", 8),
}
# Opcodes that push the value of their argument.
_CONSTANTS = set(
    "INT BININT BININT1 BININT2 LONG LONG1 LONG4 STRING BINSTRING SHORT_BINSTRING BINBYTES SHORT_BINBYTES "
    "BINBYTES8 BYTEARRAY8 UNICODE SHORT_BINUNICODE BINUNICODE BINUNICODE8 FLOAT BINFLOAT".split()
)


@dataclass
class _Findings:
    imports: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)

    def cannot_tell(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def verdict(self) -> PickleVerdict:
        unsafe = tuple(sorted(name for name in self.imports if name not in SAFE_PICKLE_GLOBALS))
        reason = "; ".join(self.reasons[:3])
        seen = tuple(sorted(self.imports))
        if unsafe:
            return PickleVerdict("unsafe", unsafe, reason, seen)
        if self.reasons:
            return PickleVerdict("unknown", (), reason, seen)
        return PickleVerdict("safe", (), "", seen)


def _read_argument(op: pickletools.OpcodeInfo, stream: _Stream) -> Any:
    spec = op.arg
    if spec is None:
        return None
    n = spec.n
    try:
        if n >= 0:
            return spec.reader(io.BytesIO(stream.read(n)))
        if n == pickletools.UP_TO_NEWLINE:
            if op.name in ("GLOBAL", "INST"):
                # As the unpickler reads them: two lines, each UTF-8 without its newline.
                return stream.readline()[:-1].decode("utf-8"), stream.readline()[:-1].decode("utf-8")
            return spec.reader(io.BytesIO(stream.readline()))
        fmt, size = _LENGTH_PREFIX[n]
        (length,) = struct.unpack(fmt, stream.read(size))
    except (ValueError, UnicodeDecodeError, struct.error) as error:
        raise _CannotTell(f"malformed {op.name} argument at offset {stream.offset} ({error})") from None
    if length < 0:
        raise _CannotTell(f"negative length in {op.name} at offset {stream.offset}")
    if length > _SMALL_ARG:
        stream.skip(length)
        return UNKNOWN
    raw = stream.read(length)
    if "UNICODE" in op.name:
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise _CannotTell(f"{op.name} at offset {stream.offset} is not UTF-8") from None
    if "STRING" in op.name:  # Python 2 str: decoded with the loader's encoding (torch: utf-8)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return UNKNOWN
    if op.name in ("LONG1", "LONG4"):
        return pickle.decode_long(raw)
    return raw


class _PickleModel:
    """One pickle's stack and memo, enough to name what it imports and to read simple values."""

    def __init__(self, meter: _Meter, findings: _Findings) -> None:
        self.meter, self.findings = meter, findings
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}
        self.persistent_ids: list[Any] = []
        self.protocol = 0

    def pop(self) -> Any:
        if not self.stack:
            raise _CannotTell("stack underflow")
        value = self.stack.pop()
        if value is _MARK:
            raise _CannotTell("a mark where a value was expected")
        return value

    def pop_mark(self) -> list[Any]:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i] is _MARK:
                items = self.stack[i + 1 :]
                del self.stack[i:]
                return items
        raise _CannotTell("no mark on the stack")

    def push(self, value: Any) -> None:
        if isinstance(value, (str, bytes)):
            if len(value) > 256 or not self.meter.track(len(value) + 64):
                value = UNKNOWN
        elif isinstance(value, (list, tuple)) and not self.meter.track(64 + 8 * len(value)):
            value = UNKNOWN
        self.stack.append(value)
        if len(self.stack) + len(self.memo) > self.meter.budget.entries:
            raise _BudgetSpent(f"could not scan: more than {self.meter.budget.entries} stack and memo entries")

    def top(self) -> Any:
        if not self.stack or self.stack[-1] is _MARK:
            raise _CannotTell("nothing on the stack to use")
        return self.stack[-1]

    def record_import(self, module: Any, name: Any) -> Any:
        if isinstance(module, str) and isinstance(name, str):
            if self.protocol < 3:  # the unpickler maps Python 2 names (fix_imports), so report what it imports
                module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
                module = _compat_pickle.IMPORT_MAPPING.get(module, module)
            self.findings.imports.add(f"{module}.{name}")
            return _Global(module, name)
        self.findings.imports.add("<a STACK_GLOBAL whose name the scan cannot follow>")
        return UNKNOWN

    def run(self, stream: _Stream) -> Any:
        """Decode opcodes up to STOP; returns the value left (UNKNOWN when not followed)."""
        while True:
            code = stream.read(1)
            op = _OPS.get(code)
            if op is None:
                raise _CannotTell(f"not a pickle opcode {code!r} at offset {stream.offset - 1}")
            self.meter.opcode()
            arg = _read_argument(op, stream)
            name = op.name
            if name == "STOP":
                return self.pop()
            if name == "FRAME":
                # The unpickler reads a whole frame at once: a frame longer than the data fails the load.
                left = stream.remaining()
                if arg > self.meter.budget.member_bytes or (left is not None and arg > left):
                    raise _CannotTell(f"a frame of {arg} bytes at offset {stream.offset}, more than the data holds")
            self.step(name, op, arg)

    def step(self, name: str, op: pickletools.OpcodeInfo, arg: Any) -> None:  # noqa: C901 (one case per opcode)
        if name in _CONSTANTS:
            self.push(arg)
        elif name in ("PROTO", "FRAME", "READONLY_BUFFER"):
            if name == "PROTO":
                if arg > pickle.HIGHEST_PROTOCOL:
                    raise _CannotTell(f"pickle protocol {arg} is newer than this Python reads")
                self.protocol = arg
        elif name == "NONE":
            self.push(None)
        elif name in ("NEWTRUE", "NEWFALSE"):
            self.push(name == "NEWTRUE")
        elif name == "MARK":
            self.stack.append(_MARK)
        elif name == "EMPTY_LIST":
            self.push(_List())
        elif name == "LIST":
            self.push(_List(self.pop_mark()))
        elif name == "EMPTY_TUPLE":
            self.push(())
        elif name == "TUPLE":
            self.push(tuple(self.pop_mark()))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            count = int(name[-1])
            items = [self.pop() for _ in range(count)][::-1]
            self.push(tuple(items))
        elif name in ("APPEND", "APPENDS"):
            items = [self.pop()] if name == "APPEND" else self.pop_mark()
            target = self.top()
            if isinstance(target, _List):
                if self.meter.track(8 * len(items)):
                    target.extend(items)
                else:
                    target.changed = True
        elif name == "GLOBAL":
            self.push(self.record_import(*arg))
        elif name == "INST":
            module, attr = arg
            self.record_import(module, attr)
            self.pop_mark()
            self.push(UNKNOWN)
        elif name == "STACK_GLOBAL":
            attr = self.pop()
            module = self.pop()
            self.push(self.record_import(module, attr))
        elif name in ("EXT1", "EXT2", "EXT4"):
            # copyreg's extension registry maps the code to an import the scan cannot see.
            self.findings.imports.add(f"<copyreg extension {arg}>")
            self.push(UNKNOWN)
        elif name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
            self.memo[len(self.memo) if name == "MEMOIZE" else int(arg)] = self.top()
            if len(self.stack) + len(self.memo) > self.meter.budget.entries:
                raise _BudgetSpent(f"could not scan: more than {self.meter.budget.entries} stack and memo entries")
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            if int(arg) not in self.memo:
                raise _CannotTell(f"memo entry {arg} read before it was written")
            self.stack.append(self.memo[int(arg)])
        elif name == "DUP":
            self.stack.append(self.top())
        elif name == "POP":
            if not self.stack:
                raise _CannotTell("stack underflow")
            self.stack.pop()  # pops a mark too, as the unpickler does
        elif name == "POP_MARK":
            self.pop_mark()
        elif name == "PERSID":
            self.persistent_ids.append(arg)
            self.push(UNKNOWN)
        elif name == "BINPERSID":
            self.persistent_ids.append(self.pop())
            self.push(UNKNOWN)
        else:
            self.generic(op)

    def generic(self, op: pickletools.OpcodeInfo) -> None:
        """Any other opcode: its stack effect from pickletools' table; results are not followed."""
        before = op.stack_before
        popped: list[Any] = []
        if pickletools.markobject in before:
            popped += self.pop_mark()
            count = before.index(pickletools.markobject)
        else:
            count = len(before)
        popped += [self.pop() for _ in range(count)]
        for value in popped:
            if isinstance(value, _List):
                value.changed = True  # SETITEM on a list, BUILD, ...: its contents are no longer known
        for _ in op.stack_after:
            self.push(UNKNOWN)


# ------------------------------------------------------------------ files


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
