"""Hypothesis: mutated pickles and zips never crash the scan, and it never calls `safe` what a loader imports.

The ground truth is the real unpickler (CPython's C `pickle.Unpickler`) with a
`find_class` that records each import and hands back a harmless stub, reading
pickle after pickle the way loaders do: a legacy torch stream's five pickles,
any other stream until it ends or fails, and every `.pkl` member Python's
zipfile opens. The properties run in a child process under a memory and a time
limit (`test_properties_in_a_bounded_child`).
"""

from __future__ import annotations

import _compat_pickle
import io
import os
import pickle
import warnings
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ckptzoo_widgets.pickle_scan import SAFE_PICKLE_GLOBALS, SCANNER_ERROR, scan_pickle_bytes

from . import pickles as P
from .bounded import run_bounded

IN_CHILD = os.environ.get("CKPTZOO_PROPERTY_CHILD") == "1"
in_child = pytest.mark.skipif(not IN_CHILD, reason="runs in a bounded child (test_properties_in_a_bounded_child)")
COUNTS = {"streams": 0, "zips": 0, "unsafe_truth": 0, "safe": 0, "unsafe": 0, "unknown": 0}


class _Stub:
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Stub()

    def __setstate__(self, state):
        pass

    def __setitem__(self, key, value):  # SETITEM(S) on what a stubbed OrderedDict() returned
        pass

    def append(self, value):
        pass

    def extend(self, values):
        pass


class _Recorder(pickle.Unpickler):
    def __init__(self, file, found: set[tuple[str, str]]):
        super().__init__(file, encoding="utf-8")
        self.found = found

    def find_class(self, module, name):
        # Protocols 0-2 map Python 2 names (fix_imports): record the name as written and as mapped.
        mapped_module, mapped_name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        mapped_module = _compat_pickle.IMPORT_MAPPING.get(mapped_module, mapped_module)
        self.found.add((f"{module}.{name}", f"{mapped_module}.{mapped_name}"))
        return _Stub

    def persistent_load(self, pid):
        return _Stub()


def _loads_in_sequence(stream: io.BufferedIOBase, found: set[tuple[str, str]]) -> None:
    values = []
    while stream.peek(1)[:1] if hasattr(stream, "peek") else True:
        try:
            values.append(_Recorder(stream, found).load())
        except Exception:
            return
        if len(values) == 5 and values[0] == P.LEGACY_MAGIC:
            return  # torch reads the storages that follow as raw bytes, never as pickles


def imports_a_loader_performs(data: bytes) -> set[tuple[str, str]]:
    """(name as written, name after fix_imports) of every import the unpickler asked for."""
    found: set[tuple[str, str]] = set()
    _loads_in_sequence(io.BufferedReader(io.BytesIO(data)), found)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    if info.filename.lower().endswith(".pkl"):
                        try:
                            with archive.open(info) as member:
                                _loads_in_sequence(io.BufferedReader(member), found)
                        except Exception:
                            pass
    except Exception:
        pass
    return found


def not_allowed(truth: set[tuple[str, str]]) -> set[str]:
    return {raw for raw, mapped in truth if raw not in SAFE_PICKLE_GLOBALS and mapped not in SAFE_PICKLE_GLOBALS}


def _check(data: bytes) -> None:
    verdict = scan_pickle_bytes(data)
    assert verdict.status in ("safe", "unsafe", "unknown")
    assert SCANNER_ERROR not in verdict.reason, verdict  # the safety net caught a bug in the scan
    COUNTS[verdict.status] += 1
    if not_allowed(imports_a_loader_performs(data)):
        COUNTS["unsafe_truth"] += 1
        assert verdict.status != "safe", (imports_a_loader_performs(data), verdict)


SEEDS = [
    *(P.benign_dumps(p) for p in range(6)),
    *(P.evil_dumps(p) for p in range(6)),
    P.EVIL_INST,
    P.EVIL_OBJ,
    P.EVIL_STACK_GLOBAL_MEMO,
    P.EVIL_STACK_GLOBAL_SHUFFLE,
    P.EVIL_EVAL,
    P.EVIL_IMPORTLIB,
    P.tensor_pickle(),
    P.legacy_file(),
    P.nested_load_from_bytes(P.benign_dumps(2)),
    P.torch_zip(P.tensor_pickle()),
]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "splice", "append", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from([b"c", b"\x93", b"\x94", b"h\x00", b"0", b"2", b"(", b"."]))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 6))]
        elif kind == "splice":
            other = draw(st.sampled_from(SEEDS))
            start = draw(st.integers(0, len(other)))
            data[at:at] = other[start : start + draw(st.integers(1, 64))]
        elif kind == "append":
            data += draw(st.sampled_from(SEEDS))
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


@st.composite
def zips(draw) -> bytes:
    names = st.sampled_from(["archive/data.pkl", "archive/DATA.PKL", "x/data.pkl", "archive/constants.pkl", "a/b"])
    members = draw(st.lists(st.tuples(names, st.one_of(st.sampled_from(SEEDS), mutated())), min_size=1, max_size=4))
    archive = P.zip_file(members, method=draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])))
    prefix = draw(st.sampled_from([b"", P.benign_dumps(2), P.legacy_file(), P.EVIL_EVAL]))
    return prefix + archive


@in_child
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_streams_never_crash_and_are_never_called_safe_when_a_loader_imports(data):
    COUNTS["streams"] += 1
    _check(data)


@in_child
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=zips())
def test_zips_with_any_members_are_never_called_safe_when_a_loader_imports(data):
    COUNTS["zips"] += 1
    _check(data)


@in_child
def test_examples_ran():
    assert COUNTS["streams"] >= 1500 and COUNTS["zips"] >= 500
    print(f"@@ pickle properties: {COUNTS}")


def test_ground_truth_sees_what_the_corpus_hides():
    """The oracle itself must be able to fail the property: it sees the hidden imports."""
    assert not_allowed(imports_a_loader_performs(P.legacy_file(sys_info=P.EVIL_EVAL))) == {"builtins.eval"}
    assert not_allowed(imports_a_loader_performs(P.benign_dumps(2) + P.EVIL_EVAL)) == {"builtins.eval"}
    assert not_allowed(imports_a_loader_performs(P.EVIL_INST)) == {"os.system"}
    assert not_allowed(imports_a_loader_performs(P.legacy_file(tail=P.EVIL_EVAL))) == set()  # torch stops at 5
    assert not_allowed(imports_a_loader_performs(P.legacy_file())) == set()


def test_properties_in_a_bounded_child():
    result = run_bounded(
        """
        import pytest
        tests = [f"{FILE}::{name}" for name in NAMES]
        raise SystemExit(pytest.main(["-q", "-s", "-p", "no:cacheprovider", *tests]))
        """,
        memory_mb=1024,
        seconds=900,
        env={"CKPTZOO_PROPERTY_CHILD": "1"},
        FILE=__file__,
        NAMES=[
            "test_mutated_streams_never_crash_and_are_never_called_safe_when_a_loader_imports",
            "test_zips_with_any_members_are_never_called_safe_when_a_loader_imports",
            "test_examples_ran",
        ],
    )
    assert result.error_type == "SystemExit" and result.message == "0", result.stdout[-4000:]
    print("\n".join(line.partition("@@")[2].strip() for line in result.stdout.splitlines() if "@@" in line))
