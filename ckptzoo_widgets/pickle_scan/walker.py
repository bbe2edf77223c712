"""The opcode walker: one pickle's stack and memo, modelled opcode by opcode without loading anything."""

from __future__ import annotations

import _compat_pickle
import io
import pickle
import pickletools
import struct
from dataclasses import dataclass, field
from typing import Any

from .budget import _BudgetSpent, _CannotTell, _Meter
from .streams import _Stream
from .verdict import SAFE_PICKLE_GLOBALS, PickleVerdict

_SMALL_ARG = 4096  # longer string/bytes arguments are skipped, not read into memory


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
        """One opcode's effect on the simulated stack and memo.

        Kept whole: it is one dispatch, one short case per opcode family, and reads best as the
        table it is (splitting it would scatter the opcodes over helpers that each touch the stack)."""
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
