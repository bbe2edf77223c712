"""Malformed safetensors files: every reader raises one clear ZooError, within memory and time limits.

The files are written here (no files from elsewhere). `cz.load` of each runs in
a child under 512 MB; `safetensors_check.read_header` is the validator every
reader goes through, so its properties are tested with hypothesis mutations.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ckptzoo_widgets.errors import ZooError
from ckptzoo_widgets.safetensors_check import SafetensorsFormatError, read_header

from .bounded import run_bounded

LOGREG = {"weight": ((64, 10), "F32"), "bias": ((10,), "F32")}
ARCH = {"ckptzoo": json.dumps({"arch": "logreg"})}


def layout(tensors: dict[str, tuple[tuple[int, ...], str]], metadata: dict | None = ARCH) -> tuple[dict, bytes]:
    """A valid header for `tensors` (name -> (shape, dtype)) and zero-filled data."""
    sizes = {"F32": 4, "F64": 8, "I64": 8, "U8": 1, "BF16": 2, "F16": 2}
    header: dict = {"__metadata__": metadata} if metadata is not None else {}
    offset = 0
    for name, (shape, dtype) in tensors.items():
        nbytes = int(np.prod(shape)) * sizes[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    return header, b"\0" * offset


def file_bytes(header: dict | bytes, data: bytes, *, length: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def _valid() -> tuple[dict, bytes]:
    return layout(LOGREG)


def _with(change) -> bytes:
    header, data = _valid()
    change(header)
    return file_bytes(header, data)


def _cases() -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, a fragment of the expected message)."""
    header, data = _valid()
    deep = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    return {
        "length-2-64-minus-1": (file_bytes(b"{}", b"", length=2**64 - 1), "declares a header of 18446744073709551615"),
        "length-longer-than-file": (file_bytes(b"{}", b"", length=1000), "longer than the file"),
        "shorter-than-8-bytes": (b"\x02\0\0", "shorter than the 8-byte"),
        "empty": (b"", "shorter than the 8-byte"),
        "not-json": (file_bytes(b"{not json at all}", b""), "not UTF-8 JSON"),
        "not-utf8": (file_bytes(b'{"\xff\xfe": 1}', b""), "not UTF-8 JSON"),
        "json-list": (file_bytes(b"[1, 2]", b""), "not a JSON object"),
        "nested-100k-deep": (file_bytes(deep, b""), "not UTF-8 JSON"),
        "metadata-json-nested-100k": (
            file_bytes(layout(LOGREG, {"ckptzoo": "[" * 100_000 + "]" * 100_000})[0], data),
            "no ckptzoo architecture",
        ),
        "metadata-not-strings": (
            _with(lambda h: h.update(__metadata__={"ckptzoo": {"arch": "logreg"}})), "__metadata__"
        ),
        "metadata-a-list": (_with(lambda h: h.update(__metadata__=[])), "__metadata__"),
        "arch-unknown": (file_bytes(layout(LOGREG, {"ckptzoo": '{"arch": "gpt-7"}'})[0], data), "unknown architecture"),
        "arch-not-a-string": (file_bytes(layout(LOGREG, {"ckptzoo": '{"arch": [1]}'})[0], data), "no ckptzoo"),
        "overlapping-offsets": (_with(lambda h: h["bias"].update(data_offsets=[2520, 2560])), "overlaps"),
        "offsets-out-of-range": (file_bytes(header, data[:2560]), "lie beyond"),
        "gap-between-tensors": (_with(lambda h: h["bias"].update(data_offsets=[2564, 2604])), "gap"),
        "1gb-tensor-in-1kb-file": (
            file_bytes({"big": {"dtype": "F32", "shape": [1 << 28], "data_offsets": [0, 1 << 30]}}, b"\0" * 1000),
            "lie beyond",
        ),
        "unknown-dtype": (_with(lambda h: h["bias"].update(dtype="Q99")), "unknown dtype"),
        # valid safetensors dtypes numpy has no type for (the library raised AttributeError / TypeError)
        "f8-e4m3-dtype": (_with(lambda h: h["bias"].update(dtype="F8_E4M3", shape=[40])), "numpy cannot hold"),
        "f8-e5m2-dtype": (_with(lambda h: h["bias"].update(dtype="F8_E5M2", shape=[40])), "numpy cannot hold"),
        "bf16-dtype": (_with(lambda h: h["bias"].update(dtype="BF16", shape=[20])), "numpy cannot hold"),
        "dtype-not-a-string": (_with(lambda h: h["bias"].update(dtype=["F32"])), "unknown dtype"),
        "shape-offset-mismatch": (_with(lambda h: h["bias"].update(shape=[11])), "needs 44 bytes"),
        "negative-shape": (_with(lambda h: h["bias"].update(shape=[-10])), "non-negative"),
        "bool-in-shape": (_with(lambda h: h["bias"].update(shape=[True])), "non-negative"),
        "shape-10-30": (_with(lambda h: h["bias"].update(shape=[10**30])), "needs"),
        "offsets-as-strings": (_with(lambda h: h["bias"].update(data_offsets=["0", "40"])), "data_offsets"),
        "offsets-reversed": (_with(lambda h: h["bias"].update(data_offsets=[2600, 2560])), "out of order"),
        "tensor-not-an-object": (_with(lambda h: h.update(bias=[1, 2])), "not an object"),
        "duplicate-tensor-names": (
            file_bytes(json.dumps(header).encode()[:-1] + b', "bias": ' + json.dumps(header["bias"]).encode() + b"}",
                       data),
            "duplicate key",
        ),
        "missing-tensor": (file_bytes(*layout({"weight": ((64, 10), "F32")})), "needs a tensor 'bias'"),
        "wrong-shape-for-arch": (
            file_bytes(*layout({"weight": ((3, 3), "F32"), "bias": ((10,), "F32")})),
            "the logreg model needs (64, 10)",
        ),
        "truncated-data": (file_bytes(header, data[:-1]), "lie beyond"),
        "data-after-the-tensors": (file_bytes(header, data + b"\0"), "do not fill"),
    }  # fmt: skip


CASES = _cases()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("safetensors")
    models = []
    for name, (data, _) in CASES.items():
        (folder / f"{name}.safetensors").write_bytes(data)
        files = [{"path": f"{name}.safetensors", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}]
        models.append({"id": name, "library": "ckptzoo", "checkpoints": [{"name": "final", "files": files}]})
    (folder / "index.json").write_text(json.dumps({"ckptzoo_index": 1, "models": models}))
    result = run_bounded(
        """
        import json
        import ckptzoo_widgets as cz
        zoo = cz.open_zoo(INDEX)
        out = {}
        for ref in REFS:
            try:
                cz.load(ref, zoo, quiet=True)
                out[ref] = {"type": None, "mro": [], "message": ""}
            except BaseException as error:
                out[ref] = {"type": type(error).__name__, "mro": [c.__name__ for c in type(error).__mro__],
                            "message": str(error)}
        print(json.dumps(out))
        """,
        memory_mb=512,
        seconds=120,
        env={"CKPTZOO_CACHE": str(folder / "cache")},
        INDEX=str(folder / "index.json"),
        REFS=sorted(CASES),
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cz_load_raises_one_clear_zoo_error(outcomes, name):
    outcome = outcomes[name]
    assert "ZooError" in outcome["mro"], outcome
    assert CASES[name][1] in outcome["message"], outcome
    assert len(outcome["message"]) < 600 and "\n" not in outcome["message"]


def test_valid_file_loads(tmp_path):
    header, data = layout(LOGREG)
    path = tmp_path / "ok.safetensors"
    path.write_bytes(file_bytes(header, data))
    parsed = read_header(path)
    assert parsed.num_params == 650 and parsed.metadata == ARCH
    assert parsed.tensors["bias"].shape == (10,) and parsed.data_start == 8 + len(json.dumps(header))


def test_a_reader_with_its_own_open_uses_the_same_validator(tmp_path):
    """The runs-folder reader opens files its own bounded way and hands the handle over."""
    from ckptzoo_widgets.safetensors_check import read_header_from

    good, bad = tmp_path / "good.safetensors", tmp_path / "bad.safetensors"
    good.write_bytes(file_bytes(*layout(LOGREG)))
    bad.write_bytes(CASES["1gb-tensor-in-1kb-file"][0])
    with open(good, "rb") as handle:
        assert read_header_from(handle, good.stat().st_size, "runs/good").num_params == 650
    with open(bad, "rb") as handle, pytest.raises(SafetensorsFormatError, match="runs/bad: .*lie beyond"):
        read_header_from(handle, bad.stat().st_size, "runs/bad")
    with pytest.raises(SafetensorsFormatError, match="cannot read it"):
        read_header(tmp_path / "missing.safetensors")


def test_builtin_zoo_files_pass_the_validator():
    from pathlib import Path

    import ckptzoo_widgets

    files = sorted((Path(ckptzoo_widgets.__file__).parent / "zoo").rglob("*.safetensors"))
    assert len(files) > 3
    for path in files:
        assert read_header(path).tensors


def test_header_read_is_capped_by_bytes_read_not_declared(tmp_path):
    """A header within the cap but longer than what the file gives is refused without reading past it."""
    path = tmp_path / "x.safetensors"
    path.write_bytes(file_bytes(b"{}", b"", length=64))
    with pytest.raises(SafetensorsFormatError, match="longer than the file"):
        read_header(path)
    path.write_bytes(file_bytes(b"{" + b" " * 100 + b"}", b""))
    with pytest.raises(SafetensorsFormatError, match="at most 50 read"):
        read_header(path, max_header_bytes=50)


# --- hypothesis: mutations of valid files --------------------------------------------------------

SEED_HEADER, SEED_DATA = layout({"a": ((2, 3), "F32"), "b": ((4,), "I64"), "c": ((0,), "U8")}, {"k": "v"})
SEED = file_bytes(SEED_HEADER, SEED_DATA)
EXAMPLES = {"bytes": 0, "accepted": 0}


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(SEED)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "length"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "length" and len(data) >= 8:
            data[:8] = struct.pack("<Q", draw(st.integers(0, 2**64 - 1)))
    return bytes(data)


@st.composite
def header_edits(draw) -> bytes:
    """Well-formed JSON with changed values: the validator's rules, not the JSON parser, must catch them."""
    header = json.loads(json.dumps(SEED_HEADER))
    name = draw(st.sampled_from(["a", "b", "c"]))
    field = draw(st.sampled_from(["dtype", "shape", "data_offsets"]))
    values = st.one_of(
        st.integers(-(2**70), 2**70),
        st.lists(st.integers(-5, 2**40), max_size=4),
        st.sampled_from(["F32", "I64", "U8", "F64", "BF16", "X", ""]),
        st.none(),
        st.booleans(),
    )
    header[name][field] = draw(values)
    return file_bytes(header, SEED_DATA)


def _check(tmp_path, data: bytes) -> None:
    from safetensors import safe_open

    path = tmp_path / "m.safetensors"
    path.write_bytes(data)
    EXAMPLES["bytes"] += 1
    try:
        parsed = read_header(path)
    except SafetensorsFormatError as error:
        assert isinstance(error, ZooError) and "\n" not in str(error)
        return
    # Accepted: the safetensors library must read every tensor exactly as the validator declared it.
    EXAMPLES["accepted"] += 1
    with safe_open(str(path), framework="np") as handle:
        assert set(handle.keys()) == set(parsed.tensors)
        for name, info in parsed.tensors.items():
            assert tuple(handle.get_slice(name).get_shape()) == info.shape


IN_CHILD = os.environ.get("CKPTZOO_PROPERTY_CHILD") == "1"
in_child = pytest.mark.skipif(not IN_CHILD, reason="runs in a bounded child (test_properties_in_a_bounded_child)")


@in_child
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(mutated(), header_edits()))
def test_validator_never_crashes_and_what_it_accepts_the_library_reads(tmp_path, data):
    _check(tmp_path, data)


@in_child
def test_hypothesis_examples_ran():
    assert EXAMPLES["bytes"] >= 400
    print(f"@@ safetensors mutations: {EXAMPLES['bytes']} examples, {EXAMPLES['accepted']} accepted by the validator")


def test_properties_in_a_bounded_child():
    """The hypothesis properties above, run in a child process under a memory and a time limit."""
    result = run_bounded(
        """
        import pytest
        tests = [f"{FILE}::{name}" for name in NAMES]
        raise SystemExit(pytest.main(["-q", "-s", "-p", "no:cacheprovider", *tests]))
        """,
        memory_mb=1024,
        seconds=600,
        env={"CKPTZOO_PROPERTY_CHILD": "1"},
        FILE=__file__,
        NAMES=["test_validator_never_crashes_and_what_it_accepts_the_library_reads", "test_hypothesis_examples_ran"],
    )
    assert result.error_type == "SystemExit" and result.message == "0", result.stdout[-3000:]
    print("\n".join(line.partition("@@")[2].strip() for line in result.stdout.splitlines() if "@@" in line))
