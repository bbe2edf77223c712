"""Every dtype the statistics read, against numpy; the others are one-line refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ckptzoo_widgets as cz
from ckptzoo_widgets.weights import WeightsError

from .zoos import bf16, safetensors_bytes, write_zoo


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))


def test_each_dtype_equals_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(1000).astype(np.float32)
    ints = rng.integers(-100, 100, 1000)
    tensors = {
        "f64": ("F64", (1000,), x.astype("<f8").tobytes()),
        "f32": ("F32", (10, 100), x.tobytes()),
        "f16": ("F16", (1000,), x.astype("<f2").tobytes()),
        "bf16": ("BF16", (1000,), bf16(x)),
        "i64": ("I64", (1000,), ints.astype("<i8").tobytes()),
        "i32": ("I32", (1000,), ints.astype("<i4").tobytes()),
        "i16": ("I16", (1000,), ints.astype("<i2").tobytes()),
        "i8": ("I8", (1000,), ints.astype("i1").tobytes()),
        "u8": ("U8", (1000,), (ints + 100).astype("u1").tobytes()),
        "bool": ("BOOL", (1000,), (ints > 0).tobytes()),
        "fp8": ("F8_E4M3", (1000,), bytes(1000)),
    }
    later = dict(tensors, f32=("F32", (10, 100), (x * 2).tobytes()))
    index = write_zoo(tmp_path / "zoo", "dtypes", {"a": safetensors_bytes(tensors), "b": safetensors_bytes(later)})
    frame = cz.tensor_stats("dtypes@a", str(index)).set_index("tensor")
    bf16_values = (np.frombuffer(bf16(x), "<u2").astype(np.uint32) << 16).view(np.float32)
    expected = {
        "f64": x.astype(np.float64),
        "f32": x.astype(np.float64),
        "f16": x.astype(np.float16).astype(np.float64),
        "bf16": bf16_values.astype(np.float64),
        "i64": ints.astype(np.float64),
        "i32": ints.astype(np.float64),
        "i16": ints.astype(np.float64),
        "i8": ints.astype(np.float64),
        "u8": (ints + 100).astype(np.float64),
        "bool": (ints > 0).astype(np.float64),
    }
    assert set(frame.index) == set(expected)  # fp8 is not read: skipped, said in attrs
    assert frame.attrs["skipped_tensors"] == ["fp8"]
    for name, values in expected.items():
        assert frame.loc[name, "norm"] == pytest.approx(np.linalg.norm(values), rel=1e-12), name
        assert frame.loc[name, "mean"] == pytest.approx(values.mean(), rel=1e-9, abs=1e-12), name
        assert frame.loc[name, "std"] == pytest.approx(values.std(), rel=1e-9), name
    change = cz.compare_weights("dtypes@a", "dtypes@b", str(index)).set_index("tensor")
    assert change.loc["f32", "relative"] == pytest.approx(1.0) and change.loc["f32", "cosine"] == pytest.approx(1.0)
    assert change.loc["bf16", "identical"] and change.loc["bf16", "relative"] == 0
    with pytest.raises(WeightsError) as refused:
        cz.tensor_stats("dtypes@a", str(index), tensors=["fp8"])
    assert str(refused.value) == (
        "tensor 'fp8' is F8_E4M3; weight statistics read F64, F32, F16, BF16, integer and bool tensors"
    )
